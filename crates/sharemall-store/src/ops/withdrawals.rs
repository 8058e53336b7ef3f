//! Withdrawals (SPEC 3.7): a shop owner asks for available commission, an operator approves or
//! rejects, and the payout job pays it through a payout provider. Every step is a ledger
//! transfer on the owner's accounts: available → hold when asked, hold → paid out when paid,
//! hold → available when rejected or when the payout fails for good.

use serde::{Deserialize, Serialize};
use sharemall_domain::ledger::{Account, AccountKind, TransferKind, check_withdrawal};
use sharemall_domain::{Error, ErrorCode, Money, Timestamp, UserId, WithdrawalId};
use utoipa::ToSchema;

use crate::ops::idempotency::{self, IdempotencyKey};
use crate::ops::jobs;
use crate::ops::ledger::{About, Postings};
use crate::params;
use crate::sql::{Backend, Row, Sql};

/// The job that asks the payout provider to pay an approved withdrawal.
pub const JOB_EXECUTE_PAYOUT: &str = "execute_payout";
/// Longest payee text accepted (a bank card number with a name, or a WeChat account).
pub const MAX_PAYEE_CHARS: usize = 64;
/// Longest reason an operator or a provider gives.
pub const MAX_NOTE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Withdrawal {
    #[schema(value_type = String)]
    pub id: WithdrawalId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub amount_fen: i64,
    /// requested | approved | paid | rejected | failed
    pub status: String,
    pub payout_provider: String,
    pub payee: String,
    /// Why it was rejected, or why the payout failed.
    pub note: String,
    pub provider_payout_id: Option<String>,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, amount_fen, status, payout_provider, payee, note, provider_payout_id, requested_at, decided_at, finished_at";

fn withdrawal_row(row: &Row) -> Result<Withdrawal, Error> {
    Ok(Withdrawal {
        id: row.id(0)?,
        user_id: row.id(1)?,
        amount_fen: row.i64(2)?,
        status: row.text(3)?,
        payout_provider: row.text(4)?,
        payee: row.text(5)?,
        note: row.text(6)?,
        provider_payout_id: row.opt_text(7)?,
        requested_at: row.i64(8)?,
        decided_at: row.opt_i64(9)?,
        finished_at: row.opt_i64(10)?,
    })
}

pub fn load(sql: &mut dyn Sql, id: WithdrawalId) -> Result<Withdrawal, Error> {
    let row = sql
        .query_opt(&format!("SELECT {COLUMNS} FROM withdrawals WHERE id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("withdrawal"))?;
    withdrawal_row(&row)
}

/// A beneficiary's withdrawals, newest first.
pub fn list_mine(sql: &mut dyn Sql, user: UserId, page: i64, per_page: i64) -> Result<Vec<Withdrawal>, Error> {
    let rows = sql.query(
        &format!("SELECT {COLUMNS} FROM withdrawals WHERE user_id = $1 ORDER BY requested_at DESC, id LIMIT $2 OFFSET $3"),
        params![user, per_page, offset(page, per_page)],
    )?;
    rows.iter().map(withdrawal_row).collect()
}

/// The operator's queue: withdrawals in one status, oldest first (first asked, first decided).
pub fn list_by_status(sql: &mut dyn Sql, status: &str, page: i64, per_page: i64) -> Result<Vec<Withdrawal>, Error> {
    let rows = sql.query(
        &format!("SELECT {COLUMNS} FROM withdrawals WHERE status = $1 ORDER BY requested_at, id LIMIT $2 OFFSET $3"),
        params![status, per_page, offset(page, per_page)],
    )?;
    rows.iter().map(withdrawal_row).collect()
}

fn offset(page: i64, per_page: i64) -> i64 {
    page.saturating_sub(1).saturating_mul(per_page)
}

/// What a shop owner asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalRequest {
    pub user: UserId,
    pub amount: Money,
    pub payee: String,
    pub provider: String,
}

/// Sets `amount` aside from the owner's available commission. Refused below ¥1 or above what is
/// available; the balance is read under a row lock, so two requests racing for the same money
/// cannot both take it.
pub fn request(sql: &mut dyn Sql, now: Timestamp, req: WithdrawalRequest, key: Option<&IdempotencyKey>) -> Result<Withdrawal, Error> {
    let payee = req.payee.trim().to_string();
    if payee.is_empty() || payee.chars().count() > MAX_PAYEE_CHARS {
        return Err(Error::new(ErrorCode::InvalidInput, format!("the payee must be 1 to {MAX_PAYEE_CHARS} characters")));
    }
    idempotency::run(sql, now, key, |sql| {
        let available = locked_available(sql, req.user)?;
        check_withdrawal(req.amount, available)?;
        let id = WithdrawalId::new();
        sql.execute(
            "INSERT INTO withdrawals (id, user_id, amount_fen, status, payout_provider, payee, requested_at) \
             VALUES ($1, $2, $3, 'requested', $4, $5, $6)",
            params![id, req.user, req.amount, req.provider.as_str(), payee.as_str(), now],
        )?;
        let mut postings = Postings::default();
        postings.add(
            TransferKind::WithdrawalHeld,
            Account::of(AccountKind::CommissionAvailable, req.user),
            Account::of(AccountKind::WithdrawalHold, req.user),
            req.amount,
            About::withdrawal(id),
        )?;
        postings.write(sql, now)?;
        load(sql, id)
    })
}

/// The owner's available balance, locked until the transaction ends (PostgreSQL; SQLite's
/// writer holds the whole database already).
fn locked_available(sql: &mut dyn Sql, user: UserId) -> Result<Money, Error> {
    let lock = match sql.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let key = Account::of(AccountKind::CommissionAvailable, user).key();
    let row = sql.query_opt(&format!("SELECT balance_fen FROM ledger_accounts WHERE key = $1{lock}"), params![key])?;
    Ok(row.map(|r| r.money(0)).transpose()?.unwrap_or(Money::ZERO))
}

/// An operator's decision on a requested withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// Approves (the payout job is enqueued in the same transaction) or rejects (the money goes
/// back to available) a requested withdrawal. Deciding twice is refused.
pub fn decide(sql: &mut dyn Sql, now: Timestamp, id: WithdrawalId, operator: UserId, decision: Decision) -> Result<Withdrawal, Error> {
    let (status, note) = match &decision {
        Decision::Approve => ("approved", String::new()),
        Decision::Reject { reason } => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_NOTE_CHARS {
                return Err(Error::new(ErrorCode::InvalidInput, format!("a rejection needs a reason of 1 to {MAX_NOTE_CHARS} characters")));
            }
            ("rejected", reason.to_string())
        }
    };
    let finished = (status == "rejected").then_some(now);
    let moved = sql.query_opt(
        "UPDATE withdrawals SET status = $2, note = $3, decided_at = $4, decided_by = $5, finished_at = $6 \
         WHERE id = $1 AND status = 'requested' RETURNING user_id, amount_fen",
        params![id, status, note.as_str(), now, operator, finished],
    )?;
    let Some(moved) = moved else {
        load(sql, id)?;
        return Err(Error::new(ErrorCode::WithdrawalNotPending, "this withdrawal has already been decided"));
    };
    match decision {
        Decision::Approve => {
            jobs::enqueue(sql, now, JOB_EXECUTE_PAYOUT, &id.to_string(), now)?;
        }
        Decision::Reject { .. } => return_to_available(sql, now, id, moved.id(0)?, moved.money(1)?)?,
    }
    load(sql, id)
}

fn return_to_available(sql: &mut dyn Sql, now: Timestamp, id: WithdrawalId, user: UserId, amount: Money) -> Result<(), Error> {
    let mut postings = Postings::default();
    postings.add(
        TransferKind::WithdrawalReturned,
        Account::of(AccountKind::WithdrawalHold, user),
        Account::of(AccountKind::CommissionAvailable, user),
        amount,
        About::withdrawal(id),
    )?;
    postings.write(sql, now).map(|_| ())
}

/// How a payout attempt ended, as the provider said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutOutcome {
    Paid {
        provider_payout_id: String,
    },
    /// Refused for good (a closed account, a wrong name): the money goes back to available.
    Failed {
        reason: String,
    },
}

/// Records a payout's outcome on an approved withdrawal. Idempotent: a second report of the
/// same outcome (a retried job, a duplicate callback) changes nothing and returns `false`.
pub fn finish_payout(sql: &mut dyn Sql, now: Timestamp, id: WithdrawalId, outcome: PayoutOutcome) -> Result<bool, Error> {
    let (status, note, payout_id) = match &outcome {
        PayoutOutcome::Paid { provider_payout_id } => ("paid", String::new(), Some(provider_payout_id.as_str())),
        PayoutOutcome::Failed { reason } => ("failed", reason.chars().take(MAX_NOTE_CHARS).collect(), None),
    };
    let moved = sql.query_opt(
        "UPDATE withdrawals SET status = $2, note = $3, provider_payout_id = $4, finished_at = $5 \
         WHERE id = $1 AND status = 'approved' RETURNING user_id, amount_fen",
        params![id, status, note.as_str(), payout_id, now],
    )?;
    let Some(moved) = moved else { return Ok(false) };
    let (user, amount): (UserId, Money) = (moved.id(0)?, moved.money(1)?);
    match outcome {
        PayoutOutcome::Paid { .. } => {
            let mut postings = Postings::default();
            postings.add(
                TransferKind::WithdrawalPaid,
                Account::of(AccountKind::WithdrawalHold, user),
                Account::of(AccountKind::PaidOut, user),
                amount,
                About::withdrawal(id),
            )?;
            postings.write(sql, now)?;
        }
        PayoutOutcome::Failed { .. } => return_to_available(sql, now, id, user, amount)?,
    }
    Ok(true)
}
