//! Money in the consoles: the shop owner's earnings (balances, commission per order line,
//! clawbacks, withdrawals and the request form) and the operator's withdrawal approvals, the
//! commission policy editor and the compliance audit.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::{earnings, policy, withdrawals};
use sharemall_domain::compliance::{AuditReport, policy_to_toml};
use sharemall_domain::{Error, ErrorCode, Money, WithdrawalId};
use sharemall_store::ops::withdrawals::Decision;

use super::{Ctx, Nav, PageResult, fmt_time, form_key, form_token, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/shop/earnings", get(earnings_page))
        .route("/console/shop/withdrawals", post(request_withdrawal))
        .route("/console/withdrawals", get(queue_page))
        .route("/console/withdrawals/{id}/{decision}", post(decide))
        .route("/console/compliance", get(compliance_page).post(save_policy))
}

struct LineRow {
    order_no: String,
    title: String,
    level_two: bool,
    base: String,
    amount: String,
    reversed: Option<String>,
    status: &'static str,
    settles: String,
}

struct WithdrawalRow {
    id: String,
    amount: String,
    payee: String,
    status: &'static str,
    note: String,
    requested: String,
    applicant: String,
}

fn commission_status(t: &Strings, status: &str) -> &'static str {
    match status {
        "settled" => t.commission_settled,
        "voided" => t.commission_voided,
        _ => t.commission_pending,
    }
}

fn withdrawal_status(t: &Strings, status: &str) -> &'static str {
    match status {
        "approved" => t.withdrawal_approved,
        "paid" => t.withdrawal_paid,
        "rejected" => t.withdrawal_rejected,
        "failed" => t.withdrawal_failed,
        _ => t.withdrawal_requested,
    }
}

fn withdrawal_row(t: &Strings, w: &sharemall_store::ops::withdrawals::Withdrawal) -> WithdrawalRow {
    WithdrawalRow {
        id: w.id.to_string(),
        amount: yuan(w.amount_fen),
        payee: w.payee.clone(),
        status: withdrawal_status(t, &w.status),
        note: w.note.clone(),
        requested: fmt_time(w.requested_at),
        applicant: w.user_id.to_string(),
    }
}

#[derive(Template)]
#[template(path = "console_earnings.html")]
struct EarningsPage {
    t: &'static Strings,
    nav: Nav,
    pending: String,
    available: String,
    negative: bool,
    withdrawing: String,
    paid_out: String,
    clawed_back: Option<String>,
    lines: Vec<LineRow>,
    withdrawals: Vec<WithdrawalRow>,
    form_token: String,
    error: Option<String>,
}

async fn earnings_page(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    show_earnings(&state, &ctx, None).await
}

async fn show_earnings(state: &AppState, ctx: &Ctx, error: Option<String>) -> PageResult {
    let user = ctx.user()?;
    let t = ctx.t;
    let e = earnings::my_earnings(&state.app, user, None, Some(50)).await?;
    let history = withdrawals::mine(&state.app, user, None, Some(20)).await?;
    let lines = e
        .lines
        .iter()
        .map(|l| LineRow {
            order_no: l.order_no.clone(),
            title: l.title.clone(),
            level_two: l.level == 2,
            base: yuan(l.base_fen),
            amount: yuan(l.amount_fen),
            reversed: (l.reversed_fen > 0).then(|| yuan(l.reversed_fen)),
            status: commission_status(t, &l.status),
            settles: match (l.settled_at, l.settle_after) {
                (Some(at), _) | (None, Some(at)) => fmt_time(at),
                (None, None) => t.earnings_waiting_receipt.to_string(),
            },
        })
        .collect();
    render(&EarningsPage {
        t,
        nav: ctx.nav("me"),
        pending: yuan(e.balances.pending_fen),
        available: yuan(e.balances.available_fen),
        negative: e.balances.available_fen < 0,
        withdrawing: yuan(e.balances.withdrawing_fen),
        paid_out: yuan(e.balances.paid_out_fen),
        clawed_back: (e.clawed_back_fen > 0).then(|| yuan(e.clawed_back_fen)),
        lines,
        withdrawals: history.iter().map(|w| withdrawal_row(t, w)).collect(),
        form_token: form_token(),
        error,
    })
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    payee: String,
    #[serde(default)]
    form_token: String,
}

/// Requests a withdrawal; a refusal (too little, more than available) is shown on the page.
async fn request_withdrawal(State(state): State<AppState>, ctx: Ctx, Form(form): Form<WithdrawForm>) -> PageResult {
    let user = ctx.user()?;
    let amount = Money::parse_yuan(&form.amount_yuan)?;
    let key = form_key(user, &form.form_token, &format!("POST /console/shop/withdrawals\n{}\n{}", amount.fen(), form.payee.trim()))?;
    match withdrawals::request(&state.app, user, amount.fen(), &form.payee, Some(key)).await {
        Ok(_) => Ok(see_other("/console/shop/earnings")),
        Err(e) if matches!(e.code, ErrorCode::InsufficientAvailable | ErrorCode::WithdrawalBelowMinimum | ErrorCode::InvalidInput) => {
            show_earnings(&state, &ctx, Some(e.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console_withdrawals.html")]
struct QueuePage {
    t: &'static Strings,
    nav: Nav,
    waiting: Vec<WithdrawalRow>,
}

async fn queue_page(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let waiting = withdrawals::queue(&state.app, user, Some("requested"), None, Some(100)).await?;
    render(&QueuePage { t: ctx.t, nav: ctx.nav("me"), waiting: waiting.iter().map(|w| withdrawal_row(ctx.t, w)).collect() })
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    reason: String,
}

async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    let user = ctx.user()?;
    let id: WithdrawalId = id.parse().map_err(|_| Error::not_found("withdrawal"))?;
    let decision = match decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject { reason: form.reason },
        _ => return Err(Error::not_found("page").into()),
    };
    withdrawals::decide(&state.app, user, id, decision).await?;
    Ok(see_other("/console/withdrawals"))
}

#[derive(Template)]
#[template(path = "console_compliance.html")]
struct CompliancePage {
    t: &'static Strings,
    nav: Nav,
    policy_file: String,
    report: AuditReport,
    saved: bool,
    error: Option<String>,
}

async fn compliance_page(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    show_compliance(&state, &ctx, None, false, None).await
}

async fn show_compliance(state: &AppState, ctx: &Ctx, text: Option<String>, saved: bool, error: Option<String>) -> PageResult {
    let user = ctx.user()?;
    let report = policy::audit_for(&state.app, user).await?;
    let policy_file = match text {
        Some(text) => text,
        None => policy_to_toml(&policy::current(&state.app).await?),
    };
    render(&CompliancePage { t: ctx.t, nav: ctx.nav("me"), policy_file, report, saved, error })
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    policy: String,
}

/// Longest policy text the editor accepts.
const MAX_POLICY_CHARS: usize = 8_000;

/// Saves the edited policy file; a refusal is shown with the rule it breaks, and the text the
/// operator typed stays in the editor.
async fn save_policy(State(state): State<AppState>, ctx: Ctx, Form(form): Form<PolicyForm>) -> PageResult {
    let user = ctx.user()?;
    if form.policy.chars().count() > MAX_POLICY_CHARS {
        return Err(Error::invalid(format!("a policy is at most {MAX_POLICY_CHARS} characters")).into());
    }
    match policy::set_from_toml(&state.app, Some(user), &form.policy).await {
        Ok(_) => show_compliance(&state, &ctx, None, true, None).await,
        Err(e) if matches!(e.code, ErrorCode::PolicyForbidden | ErrorCode::PolicyInvalid) => {
            show_compliance(&state, &ctx, Some(form.policy), false, Some(e.message)).await
        }
        Err(e) => Err(e.into()),
    }
}
