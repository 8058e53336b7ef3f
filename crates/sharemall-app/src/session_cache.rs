//! A short-lived cache of resolved sessions. Every API request authenticates; resolving a token
//! in the database costs a reader hop and four queries, which measured as a fifth of an order's
//! CPU. Entries live `TTL_MS` at most and are dropped at once when this process signs the session
//! out or changes the user's roles (opening a shop, becoming a supplier). Another process sharing
//! the same PostgreSQL notices a sign-out within `TTL_MS` (documented in docs/OPERATIONS.md).

use sharemall_domain::{Timestamp, UserId};
use sharemall_store::model::SessionUser;
use std::collections::HashMap;
use std::sync::Mutex;

/// How long a resolved session is trusted without asking the database again.
pub const TTL_MS: i64 = 5_000;
/// Most entries kept; a full cache is cleared rather than grown.
const MAX_ENTRIES: usize = 50_000;

struct Entry {
    user: SessionUser,
    session_expires_at: Timestamp,
    cached_at: Timestamp,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The cached user for a token hash, if fresh and the session itself has not expired.
    pub fn get(&self, token_hash: &str, now: Timestamp) -> Option<SessionUser> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(token_hash)?;
        let fresh = now.millis() - entry.cached_at.millis() < TTL_MS && now.millis() >= entry.cached_at.millis();
        (fresh && entry.session_expires_at > now).then(|| entry.user.clone())
    }

    pub fn put(&self, token_hash: String, user: SessionUser, session_expires_at: Timestamp, now: Timestamp) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(token_hash, Entry { user, session_expires_at, cached_at: now });
    }

    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(token_hash);
        }
    }

    /// Drops every cached session of `user` (their roles or shop changed).
    pub fn forget_user(&self, user: UserId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, e| e.user.user_id != user);
        }
    }
}
