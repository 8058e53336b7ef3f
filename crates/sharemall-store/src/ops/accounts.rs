//! Accounts and sessions.

use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::{Error, ErrorCode, ShopId, SupplierId, Timestamp, UserId};

use crate::model::{SessionKind, SessionUser};
use crate::params;
use crate::sql::Sql;

pub struct NewUser {
    pub login: LoginId,
    pub password_hash: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

/// Creates a user; `account_exists` when the login is taken.
pub fn create_user(sql: &mut dyn Sql, now: Timestamp, new: NewUser) -> Result<UserId, Error> {
    let id = UserId::new();
    let inserted = sql.execute(
        "INSERT INTO users (id, login, password_hash, display_name, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING",
        params![id, new.login.as_str(), new.password_hash, new.display_name, now],
    )?;
    if inserted == 0 {
        return Err(Error::new(ErrorCode::AccountExists, "an account with this phone number or e-mail already exists"));
    }
    for role in new.roles {
        grant_role(sql, id, role)?;
    }
    Ok(id)
}

pub fn grant_role(sql: &mut dyn Sql, user: UserId, role: Role) -> Result<(), Error> {
    sql.execute("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING", params![user, role.as_str()])?;
    Ok(())
}

/// The stored password hash for a login, if the account exists.
pub fn credentials(sql: &mut dyn Sql, login: &LoginId) -> Result<Option<(UserId, String)>, Error> {
    sql.query_opt("SELECT id, password_hash FROM users WHERE login = $1", params![login.as_str()])?
        .map(|row| Ok((row.id(0)?, row.text(1)?)))
        .transpose()
}

pub fn create_session(
    sql: &mut dyn Sql,
    token_hash: &str,
    user: UserId,
    kind: SessionKind,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), Error> {
    sql.execute(
        "INSERT INTO sessions (token_hash, user_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        params![token_hash, user, kind.as_str(), now, expires_at],
    )?;
    Ok(())
}

pub fn revoke_session(sql: &mut dyn Sql, token_hash: &str, now: Timestamp) -> Result<(), Error> {
    sql.execute("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL", params![token_hash, now])?;
    Ok(())
}

/// Resolves a session token (by its hash) to the signed-in user, with roles and owned shop and
/// supplier. `session_expired` for a revoked or expired session; `unauthenticated` for unknown.
pub fn session_user(sql: &mut dyn Sql, token_hash: &str, kind: SessionKind, now: Timestamp) -> Result<SessionUser, Error> {
    session(sql, token_hash, kind, now).map(|(user, _)| user)
}

/// As [`session_user`], with the session's own expiry (for callers that cache the answer).
pub fn session(sql: &mut dyn Sql, token_hash: &str, kind: SessionKind, now: Timestamp) -> Result<(SessionUser, Timestamp), Error> {
    let row = sql
        .query_opt(
            "SELECT s.user_id, s.expires_at, s.revoked_at, u.display_name, u.login FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.kind = $2",
            params![token_hash, kind.as_str()],
        )?
        .ok_or_else(|| Error::new(ErrorCode::Unauthenticated, "sign in first"))?;
    let expires_at = row.time(1)?;
    if row.opt_i64(2)?.is_some() || expires_at <= now {
        return Err(Error::new(ErrorCode::SessionExpired, "your session has ended; sign in again"));
    }
    let user_id: UserId = row.id(0)?;
    Ok((user_by_id(sql, user_id, row.text(3)?, row.text(4)?)?, expires_at))
}

fn user_by_id(sql: &mut dyn Sql, user_id: UserId, display_name: String, login: String) -> Result<SessionUser, Error> {
    let roles = sql
        .query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role", params![user_id])?
        .iter()
        .map(|r| Role::parse(&r.text(0)?))
        .collect::<Result<Vec<_>, _>>()?;
    let shop_id: Option<ShopId> =
        sql.query_opt("SELECT id FROM shops WHERE owner_id = $1", params![user_id])?.map(|r| r.id(0)).transpose()?;
    let supplier_id: Option<SupplierId> =
        sql.query_opt("SELECT id FROM suppliers WHERE owner_id = $1", params![user_id])?.map(|r| r.id(0)).transpose()?;
    Ok(SessionUser { user_id, display_name, login, roles, shop_id, supplier_id })
}

/// Loads a user as a session would see them (for the CLI and tests).
pub fn load_user(sql: &mut dyn Sql, user_id: UserId) -> Result<SessionUser, Error> {
    let row =
        sql.query_opt("SELECT display_name, login FROM users WHERE id = $1", params![user_id])?.ok_or_else(|| Error::not_found("user"))?;
    user_by_id(sql, user_id, row.text(0)?, row.text(1)?)
}
