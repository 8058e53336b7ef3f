//! The sandbox payout provider's side: a bank that pays a payee, kept in its own table so that
//! development and demos exercise the same payout path a real bank transfer or WeChat
//! "transfer to balance" would. Asking twice with one payout number pays once.
//!
//! Payees act out what real banks do, so that failures can be tried on purpose:
//! - `closed:…` — the account is closed: refused for good;
//! - `busy:…` — the bank is unavailable for the first [`BUSY_ATTEMPTS`] requests, then pays;
//! - anything else is paid at once.

use sharemall_domain::{Error, ErrorCode, Timestamp};
use uuid::Uuid;

use crate::params;
use crate::sql::Sql;

/// How many requests a `busy:` payee's bank turns away before it pays.
pub const BUSY_ATTEMPTS: i64 = 2;

/// What the bank answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxPayout {
    /// Paid; the bank's payout id.
    Paid(String),
    /// Refused for good, with the bank's reason.
    Refused(String),
    /// Not now: ask again later with the same payout number.
    TryLater,
}

pub fn payout(sql: &mut dyn Sql, now: Timestamp, out_payout_no: &str, payee: &str, amount_fen: i64) -> Result<SandboxPayout, Error> {
    if amount_fen <= 0 {
        return Err(Error::new(ErrorCode::InvalidInput, "a payout must be positive"));
    }
    let id = format!("sbp_{}", Uuid::new_v4().simple());
    let row = sql.query_one(
        "INSERT INTO sandbox_payouts (id, out_payout_no, payee, amount_fen, status, attempts, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 1, $5) \
         ON CONFLICT (out_payout_no) DO UPDATE SET attempts = sandbox_payouts.attempts + 1 \
         RETURNING id, payee, amount_fen, status, attempts",
        params![id.as_str(), out_payout_no, payee, amount_fen, now],
    )?;
    let (id, booked_payee, booked_amount, status, attempts) = (row.text(0)?, row.text(1)?, row.i64(2)?, row.text(3)?, row.i64(4)?);
    if booked_payee != payee || booked_amount != amount_fen {
        return Err(Error::new(ErrorCode::PaymentAmountMismatch, "payout number reused with another payee or amount"));
    }
    let refused = "the payee's account is closed";
    let outcome = match status.as_str() {
        "paid" => return Ok(SandboxPayout::Paid(id)),
        "refused" => return Ok(SandboxPayout::Refused(refused.into())),
        _ if payee.starts_with("closed:") => SandboxPayout::Refused(refused.into()),
        _ if payee.starts_with("busy:") && attempts <= BUSY_ATTEMPTS => return Ok(SandboxPayout::TryLater),
        _ => SandboxPayout::Paid(id.clone()),
    };
    let final_status = if matches!(outcome, SandboxPayout::Paid(_)) { "paid" } else { "refused" };
    sql.execute("UPDATE sandbox_payouts SET status = $2, finished_at = $3 WHERE id = $1", params![id.as_str(), final_status, now])?;
    Ok(outcome)
}
