//! Registration, sign-in and sessions.

use sharemall_domain::account::{LoginId, Role, check_display_name, check_password};
use sharemall_domain::{Error, ErrorCode};
use sharemall_store::model::{SessionKind, SessionUser};
use sharemall_store::ops::accounts::{self, NewUser};

use crate::App;
use crate::tokens::{hash_secret, new_secret};

/// A signed-in session: the secret goes to the client once; we keep only its hash.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub user: SessionUser,
}

/// Hashes off the async threads, at most `hash_concurrency` at a time: a burst of sign-ups
/// queues instead of starving every other request of CPU.
async fn hash_password(app: &App, password: String) -> Result<String, Error> {
    let _permit = app.hashing.acquire().await.map_err(|_| Error::internal("hashing closed"))?;
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await.map_err(|e| Error::internal(e.to_string()))
}

async fn verify_password(app: &App, password: String, hash: String) -> Result<bool, Error> {
    let _permit = app.hashing.acquire().await.map_err(|_| Error::internal("hashing closed"))?;
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok())
        .await
        .map_err(|e| Error::internal(e.to_string()))
}

pub async fn create_user(app: &App, login: &str, password: &str, display_name: &str, roles: Vec<Role>) -> Result<SessionUser, Error> {
    let login = LoginId::parse(login)?;
    check_password(password)?;
    let display_name = check_display_name(display_name)?;
    let password_hash = hash_password(app, password.to_string()).await?;
    let now = app.now();
    let user = app.store.write(move |sql| accounts::create_user(sql, now, NewUser { login, password_hash, display_name, roles })).await?;
    app.store.read(move |sql| accounts::load_user(sql, user)).await
}

/// Registers a customer and signs them in.
pub async fn register(app: &App, login: &str, password: &str, display_name: &str, kind: SessionKind) -> Result<SignedIn, Error> {
    let user = create_user(app, login, password, display_name, vec![Role::Customer]).await?;
    start_session(app, user, kind).await
}

async fn start_session(app: &App, user: SessionUser, kind: SessionKind) -> Result<SignedIn, Error> {
    let token = new_secret();
    let token_hash = hash_secret(&token);
    let now = app.now();
    let ttl = match kind {
        SessionKind::Cookie => app.config.cookie_session_ms,
        SessionKind::Bearer => app.config.bearer_token_ms,
    };
    let user_id = user.user_id;
    app.store.write(move |sql| accounts::create_session(sql, &token_hash, user_id, kind, now, now.plus_ms(ttl))).await?;
    Ok(SignedIn { token, user })
}

/// Signs in with a password. Failures are throttled per account and per client address; a
/// new session id is issued on every sign-in (no fixation).
pub async fn sign_in(app: &App, login: &str, password: &str, client_addr: &str, kind: SessionKind) -> Result<SignedIn, Error> {
    let now = app.now().millis();
    let login = LoginId::parse(login).map_err(|_| bad_credentials())?;
    let account_key = format!("account:{}", login.as_str());
    let addr_key = format!("addr:{client_addr}");
    if !app.throttle.allowed(&account_key, now) || !app.throttle.allowed(&addr_key, now) {
        return Err(Error::new(ErrorCode::TooManyAttempts, "too many failed sign-ins; wait a few minutes and try again"));
    }
    let lookup = login.clone();
    let found = app.store.read(move |sql| accounts::credentials(sql, &lookup)).await?;
    let (user_id, hash) = match found {
        Some(found) => found,
        None => {
            // Verify against a hash nobody can match, so "no such account" takes as long as
            // "wrong password".
            verify_password(app, password.to_string(), app.dummy_hash.clone()).await?;
            (sharemall_domain::UserId::new(), String::new())
        }
    };
    let ok = !hash.is_empty() && verify_password(app, password.to_string(), hash).await?;
    if !ok {
        app.throttle.record_failure(&account_key, now);
        app.throttle.record_failure(&addr_key, now);
        return Err(bad_credentials());
    }
    app.throttle.clear(&account_key);
    let user = app.store.read(move |sql| accounts::load_user(sql, user_id)).await?;
    start_session(app, user, kind).await
}

fn bad_credentials() -> Error {
    Error::new(ErrorCode::BadCredentials, "wrong phone number, e-mail or password")
}

/// The user behind a session token.
pub async fn authenticate(app: &App, token: &str, kind: SessionKind) -> Result<SessionUser, Error> {
    let token_hash = hash_secret(token);
    let now = app.now();
    if let Some(user) = app.sessions.get(&token_hash, now) {
        return Ok(user);
    }
    let key = token_hash.clone();
    let (user, expires_at) = app.store.read(move |sql| accounts::session(sql, &key, kind, now)).await?;
    app.sessions.put(token_hash, user.clone(), expires_at, now);
    Ok(user)
}

pub async fn sign_out(app: &App, token: &str) -> Result<(), Error> {
    let token_hash = hash_secret(token);
    let now = app.now();
    app.sessions.forget(&token_hash);
    let revoked = token_hash.clone();
    app.store.write(move |sql| accounts::revoke_session(sql, &revoked, now)).await?;
    // A request that resolved the session while we revoked it may have cached it again.
    app.sessions.forget(&token_hash);
    Ok(())
}

/// Refreshes a user's view (roles, shop) after a change such as opening a shop.
pub async fn reload(app: &App, user: &SessionUser) -> Result<SessionUser, Error> {
    let id = user.user_id;
    app.store.read(move |sql| accounts::load_user(sql, id)).await
}
