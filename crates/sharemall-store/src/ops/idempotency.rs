//! `Idempotency-Key` support for money-moving commands. The key is checked and the response
//! saved inside the same transaction as the command itself, so concurrent duplicates serialise
//! in the writer: the first runs, every later one reads the saved response.
//!
//! Only successes are saved. A failed command changed nothing, so running it again on a replay
//! is safe and may now succeed (stock came back, say).

use serde::Serialize;
use serde::de::DeserializeOwned;
use sharemall_domain::{Error, ErrorCode, Timestamp, UserId};

use crate::params;
use crate::sql::Sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub user: UserId,
    pub key: String,
    /// A hash of the request (method, path, body): the same key with another request is refused.
    pub request_hash: String,
}

pub fn run<T, F>(sql: &mut dyn Sql, now: Timestamp, key: Option<&IdempotencyKey>, command: F) -> Result<T, Error>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&mut dyn Sql) -> Result<T, Error>,
{
    let Some(key) = key else {
        return command(sql);
    };
    let saved = sql.query_opt(
        "SELECT request_hash, response FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2",
        params![key.user, key.key.as_str()],
    )?;
    if let Some(row) = saved {
        if row.text(0)? != key.request_hash {
            return Err(Error::new(ErrorCode::IdempotencyKeyReused, "this Idempotency-Key was used for a different request"));
        }
        return serde_json::from_str(&row.text(1)?).map_err(|e| Error::internal(format!("saved response unreadable: {e}")));
    }
    let response = command(sql)?;
    let text = serde_json::to_string(&response).map_err(|e| Error::internal(e.to_string()))?;
    sql.execute(
        "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![key.user, key.key.as_str(), key.request_hash.as_str(), text, now],
    )?;
    Ok(response)
}
