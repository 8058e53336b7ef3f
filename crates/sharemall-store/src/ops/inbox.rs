//! A user's inbox: what the platform tells them (a group succeeded, a refund is on its way).
//! A message is stored with its kind and placeholders, not its words, so each reader sees it in
//! their own language; (user, kind, subject) is unique, so a job that runs twice says it once.

use sharemall_domain::{Error, Timestamp, UserId};

use crate::model::InboxMessage;
use crate::params;
use crate::sql::Sql;

/// Most messages one page of the inbox shows.
pub const MAX_PER_PAGE: i64 = 50;

/// Leaves a message for `user`; `false` when the same message was left before.
pub fn notify(sql: &mut dyn Sql, now: Timestamp, user: UserId, kind: &str, subject: &str, params_json: &str) -> Result<bool, Error> {
    let inserted = sql.execute(
        "INSERT INTO inbox_messages (user_id, kind, subject, params, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        params![user, kind, subject, params_json, now],
    )?;
    Ok(inserted == 1)
}

/// The user's messages, newest first.
pub fn messages(sql: &mut dyn Sql, user: UserId, page: i64, per_page: i64) -> Result<Vec<InboxMessage>, Error> {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let offset = (page.clamp(1, 10_000) - 1) * per_page;
    let rows = sql.query(
        "SELECT id, kind, subject, params, created_at, read_at FROM inbox_messages WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        params![user, per_page, offset],
    )?;
    rows.iter()
        .map(|r| {
            Ok(InboxMessage {
                id: r.i64(0)?,
                kind: r.text(1)?,
                subject: r.text(2)?,
                params: serde_json::from_str(&r.text(3)?).map_err(|e| Error::internal(format!("inbox params: {e}")))?,
                created_at: r.i64(4)?,
                read_at: r.opt_i64(5)?,
            })
        })
        .collect()
}

pub fn unread_count(sql: &mut dyn Sql, user: UserId) -> Result<i64, Error> {
    sql.query_i64("SELECT COUNT(*) FROM inbox_messages WHERE user_id = $1 AND read_at IS NULL", params![user])
}

/// Marks every message of the user read.
pub fn mark_all_read(sql: &mut dyn Sql, now: Timestamp, user: UserId) -> Result<u64, Error> {
    sql.execute("UPDATE inbox_messages SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL", params![user, now])
}
