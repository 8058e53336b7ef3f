//! After-sales pages: the customer's return form, "My returns" and a case's page (with the
//! customer's actions, or the supplier's and operator's), and the handlers' returns queue.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::after_sales::{self, Answer, ReturnForm, handler_of};
use sharemall_domain::account::Role;
use sharemall_domain::after_sale::AfterSaleStatus;
use sharemall_domain::order::MAX_LINES_PER_ORDER;
use sharemall_domain::{AfterSaleId, Error, ErrorCode, OrderId};
use sharemall_store::ops::after_sale_views::AfterSale;
use std::collections::HashMap;

use super::{Ctx, Nav, PageResult, fmt_time, form_key, form_token, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/return", get(return_form).post(submit_return))
        .route("/returns", get(my_returns))
        .route("/returns/{id}", get(case_page))
        .route("/returns/{id}/{action}", post(act))
        .route("/console/returns", get(queue_page))
}

/// A case as lists and its page show it.
struct CaseRow {
    id: String,
    order_id: String,
    order_no: String,
    status: String,
    status_label: &'static str,
    reason: &'static str,
    description: String,
    refund: String,
    whole_order: bool,
    summary: String,
    requested: String,
    deadline: Option<String>,
    decision_note: String,
    decided_automatically: bool,
    return_tracking: Option<String>,
    lines: Vec<(String, String, i64, String)>,
}

fn case_row(t: &Strings, c: &AfterSale) -> CaseRow {
    CaseRow {
        id: c.id.to_string(),
        order_id: c.order_id.to_string(),
        order_no: c.order_no.clone(),
        status: c.status.clone(),
        status_label: t.return_status(&c.status),
        reason: t.return_reason(&c.reason),
        description: c.description.clone(),
        refund: yuan(c.refund_fen),
        whole_order: c.whole_order,
        summary: c.lines.iter().map(|l| format!("{} × {}", l.title, l.quantity)).collect::<Vec<_>>().join("、"),
        requested: fmt_time(c.requested_at),
        deadline: c.deadline_at.map(fmt_time),
        decision_note: c.decision_note.clone(),
        decided_automatically: c.decided_automatically,
        return_tracking: match (&c.return_carrier, &c.return_tracking_no) {
            (Some(carrier), Some(no)) => Some(format!("{carrier} {no}")),
            _ => None,
        },
        lines: c.lines.iter().map(|l| (l.title.clone(), l.attributes.clone(), l.quantity, yuan(l.refund_fen))).collect(),
    }
}

struct FormLine {
    line_no: i64,
    title: String,
    attributes: String,
    quantity: i64,
    left: i64,
    returnable: bool,
    goods: String,
}

#[derive(Template)]
#[template(path = "return_form.html")]
struct ReturnFormPage {
    t: &'static Strings,
    nav: Nav,
    order_id: String,
    order_no: String,
    lines: Vec<FormLine>,
    no_reason_open: bool,
    no_reason_until: String,
    quality_open: bool,
    quality_until: String,
    reason: String,
    description: String,
    form_token: String,
    error: Option<String>,
}

async fn return_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    show_form(&state, &ctx, id, "no_reason", "", None).await
}

async fn show_form(state: &AppState, ctx: &Ctx, id: OrderId, reason: &str, description: &str, error: Option<String>) -> PageResult {
    let user = ctx.user()?;
    let options = after_sales::return_options(&state.app, user, id).await?;
    let now = state.app.now().millis();
    let until = |at: Option<i64>| at.map(fmt_time).unwrap_or_default();
    render(&ReturnFormPage {
        t: ctx.t,
        nav: ctx.nav("orders"),
        order_id: id.to_string(),
        order_no: options.order.order_no.clone(),
        lines: options
            .lines
            .iter()
            .map(|l| FormLine {
                line_no: l.line_no,
                title: l.title.clone(),
                attributes: l.attributes.clone(),
                quantity: l.quantity,
                left: l.left,
                returnable: l.returnable,
                goods: yuan(l.goods_fen),
            })
            .collect(),
        no_reason_open: options.no_reason_until.is_some_and(|at| now <= at),
        no_reason_until: until(options.no_reason_until),
        quality_open: options.quality_until.is_some_and(|at| now <= at),
        quality_until: until(options.quality_until),
        reason: reason.to_string(),
        description: description.to_string(),
        form_token: form_token(),
        error,
    })
}

/// The return form: `reason`, `description`, and `qty_<line>` for each line (0 = keep).
async fn submit_return(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let user = ctx.user()?;
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let mut lines = Vec::new();
    for (name, value) in form.iter().filter(|(name, _)| name.starts_with("qty_")).take(MAX_LINES_PER_ORDER + 1) {
        let line_no: i64 = name["qty_".len()..].parse().map_err(|_| Error::invalid("unknown item"))?;
        let units: i64 = value.trim().parse().map_err(|_| Error::new(ErrorCode::InvalidQuantity, "the number of units is not a number"))?;
        if units > 0 {
            lines.push((line_no, units));
        }
    }
    lines.sort_unstable();
    let (reason, description) = (field("reason").to_string(), field("description").to_string());
    let what = format!("POST /orders/{id}/return\n{reason}\n{description}\n{lines:?}");
    let key = form_key(user, field("form_token"), &what)?;
    let form = ReturnForm { order: id, reason: reason.clone(), description: description.clone(), lines };
    match after_sales::request(&state.app, user, form, Some(key)).await {
        Ok(case) => Ok(see_other(&format!("/returns/{}", case.id))),
        Err(e) if e.code != ErrorCode::Internal && e.code != ErrorCode::NotFound && e.code != ErrorCode::Unauthenticated => {
            show_form(&state, &ctx, id, &reason, &description, Some(e.message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "returns.html")]
struct ReturnsPage {
    t: &'static Strings,
    nav: Nav,
    cases: Vec<CaseRow>,
}

async fn my_returns(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let cases = after_sales::mine(&state.app, user, None, Some(50)).await?;
    render(&ReturnsPage { t: ctx.t, nav: ctx.nav("me"), cases: cases.iter().map(|c| case_row(ctx.t, c)).collect() })
}

#[derive(Template)]
#[template(path = "return_case.html")]
struct CasePage {
    t: &'static Strings,
    nav: Nav,
    case: CaseRow,
    /// The viewer opened the case (customer actions), or handles it (supplier/operator actions).
    is_customer: bool,
    is_handler: bool,
}

async fn case_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let id: AfterSaleId = id.parse().map_err(|_| Error::not_found("after-sales case"))?;
    let case = after_sales::case_for(&state.app, user, id).await?;
    let is_customer = case.customer_id == user.user_id;
    let is_handler = handler_of(user).is_ok_and(|_| user.has(Role::Operator) || user.supplier_id == Some(case.supplier_id));
    render(&CasePage { t: ctx.t, nav: ctx.nav("me"), case: case_row(ctx.t, &case), is_customer, is_handler })
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
}

/// One step on a case; every step is guarded by the case's state, so a double click is
/// refused rather than applied twice.
async fn act(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    let user = ctx.user()?;
    let id: AfterSaleId = id.parse().map_err(|_| Error::not_found("after-sales case"))?;
    let app = &state.app;
    match action.as_str() {
        "cancel" => after_sales::cancel(app, user, id).await?,
        "ship-back" => after_sales::ship_back(app, user, id, &form.carrier, &form.tracking_no).await?,
        "approve" => after_sales::decide(app, user, id, Answer::Approve { resolution: "return_and_refund".into() }).await?,
        "refund-only" => after_sales::decide(app, user, id, Answer::Approve { resolution: "refund_only".into() }).await?,
        "reject" => after_sales::decide(app, user, id, Answer::Reject { note: form.reason }).await?,
        "goods-received" => after_sales::confirm_goods_back(app, user, id).await?,
        _ => return Err(Error::not_found("page").into()),
    };
    Ok(see_other(&format!("/returns/{id}")))
}

#[derive(Deserialize)]
struct QueueQuery {
    status: Option<String>,
}

struct Tab {
    key: &'static str,
    label: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "console_returns.html")]
struct QueuePage {
    t: &'static Strings,
    nav: Nav,
    tabs: Vec<Tab>,
    cases: Vec<CaseRow>,
}

/// The handler's queue: the operator sees every supplier's cases, a supplier its own.
async fn queue_page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<QueueQuery>) -> PageResult {
    let user = ctx.user()?;
    let role = if user.has(Role::Operator) { Role::Operator } else { Role::Supplier };
    let status = q.status.unwrap_or_else(|| "open".into());
    let cases = after_sales::queue(&state.app, user, role, Some(&status), None, Some(100)).await?;
    let t = ctx.t;
    let mut tabs = vec![Tab { key: "open", label: t.return_filter_open, active: status == "open" }];
    for s in [AfterSaleStatus::Refunded, AfterSaleStatus::Rejected, AfterSaleStatus::RefundFailed, AfterSaleStatus::Closed] {
        tabs.push(Tab { key: s.as_str(), label: t.return_status(s.as_str()), active: status == s.as_str() });
    }
    render(&QueuePage { t, nav: ctx.nav("me"), tabs, cases: cases.iter().map(|c| case_row(t, c)).collect() })
}
