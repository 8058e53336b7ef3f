//! Withdrawals: a shop owner asks for available commission, an operator decides, and the
//! payout job pays it through the withdrawal's payout provider.
//!
//! Payout providers sit behind [`pay`]: each takes a payout number (the withdrawal id, so a
//! retried request pays once), a payee and an amount, and answers paid, refused or try later.
//! The sandbox bank is built in; a bank transfer or WeChat "transfer to balance" provider is
//! one more arm with the same three answers.

use sharemall_domain::account::Role;
use sharemall_domain::{Error, ErrorCode, Money, WithdrawalId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::idempotency::IdempotencyKey;
use sharemall_store::ops::sandbox_payouts::{self, SandboxPayout};
use sharemall_store::ops::withdrawals::{self, Decision, PayoutOutcome, Withdrawal, WithdrawalRequest};

use crate::catalog::clamp_page;
use crate::{App, require};

pub const PAYOUT_SANDBOX: &str = "sandbox";
/// After this many attempts a payout the provider keeps turning away fails, and the money goes
/// back to the owner's available balance instead of waiting forever.
pub const MAX_PAYOUT_ATTEMPTS: i64 = 8;

pub async fn request(
    app: &App,
    user: &SessionUser,
    amount_fen: i64,
    payee: &str,
    key: Option<IdempotencyKey>,
) -> Result<Withdrawal, Error> {
    let req = WithdrawalRequest {
        user: user.user_id,
        amount: Money::from_fen(amount_fen),
        payee: payee.to_string(),
        provider: PAYOUT_SANDBOX.into(),
    };
    let now = app.now();
    app.store.write(move |sql| withdrawals::request(sql, now, req, key.as_ref())).await
}

pub async fn mine(app: &App, user: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<Vec<Withdrawal>, Error> {
    let (page, per_page) = clamp_page(page, per_page);
    let user = user.user_id;
    app.store.read(move |sql| withdrawals::list_mine(sql, user, page, per_page)).await
}

/// The operator's queue of withdrawals in `status` (default: waiting for a decision).
pub async fn queue(
    app: &App,
    operator: &SessionUser,
    status: Option<&str>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Vec<Withdrawal>, Error> {
    require(operator, Role::Operator)?;
    let status = status.unwrap_or("requested");
    if !["requested", "approved", "paid", "rejected", "failed"].contains(&status) {
        return Err(Error::invalid(format!("unknown withdrawal status '{status}'")));
    }
    let ((page, per_page), status) = (clamp_page(page, per_page), status.to_string());
    app.store.read(move |sql| withdrawals::list_by_status(sql, &status, page, per_page)).await
}

pub async fn decide(app: &App, operator: &SessionUser, id: WithdrawalId, decision: Decision) -> Result<Withdrawal, Error> {
    require(operator, Role::Operator)?;
    let (now, by) = (app.now(), operator.user_id);
    app.store.write(move |sql| withdrawals::decide(sql, now, id, by, decision)).await
}

/// What a payout provider answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutReply {
    Paid { provider_payout_id: String },
    Refused { reason: String },
    TryLater,
}

/// Asks the withdrawal's payout provider to pay it.
pub async fn pay(app: &App, withdrawal: &Withdrawal) -> Result<PayoutReply, Error> {
    match withdrawal.payout_provider.as_str() {
        PAYOUT_SANDBOX => {
            let (now, out_no, payee, amount) = (app.now(), withdrawal.id.to_string(), withdrawal.payee.clone(), withdrawal.amount_fen);
            let answer = app.store.write(move |sql| sandbox_payouts::payout(sql, now, &out_no, &payee, amount)).await?;
            Ok(match answer {
                SandboxPayout::Paid(id) => PayoutReply::Paid { provider_payout_id: id },
                SandboxPayout::Refused(reason) => PayoutReply::Refused { reason },
                SandboxPayout::TryLater => PayoutReply::TryLater,
            })
        }
        other => Err(Error::internal(format!("no payout provider '{other}' configured"))),
    }
}

/// The payout job: pays an approved withdrawal and records the outcome. A provider that says
/// "try later" fails the job, which the runner retries with backoff, up to
/// [`MAX_PAYOUT_ATTEMPTS`]; then the withdrawal fails and its money returns to available.
/// `attempts` counts this run (the job runner's count, 1 on the first run).
pub async fn execute_payout(app: &App, id: WithdrawalId, attempts: i64) -> Result<(), Error> {
    let withdrawal = app.store.read(move |sql| withdrawals::load(sql, id)).await?;
    if withdrawal.status != "approved" {
        return Ok(());
    }
    let outcome = match pay(app, &withdrawal).await? {
        PayoutReply::Paid { provider_payout_id } => PayoutOutcome::Paid { provider_payout_id },
        PayoutReply::Refused { reason } => PayoutOutcome::Failed { reason },
        PayoutReply::TryLater if attempts >= MAX_PAYOUT_ATTEMPTS => {
            PayoutOutcome::Failed { reason: format!("the payout provider was unavailable {MAX_PAYOUT_ATTEMPTS} times") }
        }
        PayoutReply::TryLater => return Err(Error::new(ErrorCode::PayoutFailed, "the payout provider is unavailable; will retry")),
    };
    let now = app.now();
    app.store.write(move |sql| withdrawals::finish_payout(sql, now, id, outcome)).await.map(|_| ())
}
