//! After-sales use cases: who may do what to a case, with the caller's input checked before
//! the store sees it. Customers open, cancel and send back their own cases; a supplier handles
//! the cases for its own goods; the operator handles any case.

use sharemall_domain::account::Role;
use sharemall_domain::after_sale::{AfterSaleStatus, Resolution, ReturnReason, check_note};
use sharemall_domain::catalog::check_text;
use sharemall_domain::order::check_tracking_no;
use sharemall_domain::{AfterSaleId, Error, ErrorCode, OrderId, SupplierId};
use sharemall_store::model::Order;
use sharemall_store::model::SessionUser;
use sharemall_store::ops::after_sale_views::{self, AfterSale, QueueFilter, ReturnableLine};
use sharemall_store::ops::after_sales::{self, Decision, Handler, ReturnRequest};
use sharemall_store::ops::idempotency::{self, IdempotencyKey};

use crate::catalog::clamp_page;
use crate::orders::Perspective;
use crate::{App, require};

/// What a customer fills in to ask for a return.
#[derive(Debug, Clone)]
pub struct ReturnForm {
    pub order: OrderId,
    /// no_reason | quality
    pub reason: String,
    pub description: String,
    /// (line number, units)
    pub lines: Vec<(i64, i64)>,
}

/// Opens a case for the customer's own received order. A replayed `Idempotency-Key` returns
/// the case the first request opened.
pub async fn request(app: &App, customer: &SessionUser, form: ReturnForm, key: Option<IdempotencyKey>) -> Result<AfterSale, Error> {
    let reason = ReturnReason::parse(&form.reason)?;
    let description = check_note("description", &form.description, reason == ReturnReason::Quality)?;
    let req = ReturnRequest { order: form.order, reason, description, lines: form.lines };
    let (now, user) = (app.now(), customer.user_id);
    app.store.write(move |sql| idempotency::run(sql, now, key.as_ref(), |sql| after_sales::request(sql, now, user, &req))).await
}

/// What the return form offers for one of the customer's orders: its lines with the units
/// left, and until when each kind of return may be opened (`None` until the goods arrived).
#[derive(Debug, Clone)]
pub struct ReturnOptions {
    pub order: Order,
    pub lines: Vec<ReturnableLine>,
    pub no_reason_until: Option<i64>,
    pub quality_until: Option<i64>,
}

pub async fn return_options(app: &App, customer: &SessionUser, order: OrderId) -> Result<ReturnOptions, Error> {
    let order = crate::orders::order_for(app, customer, order, Perspective::Customer).await?;
    let id = order.id;
    let lines = app.store.read(move |sql| after_sale_views::returnable_lines(sql, id)).await?;
    let until = |reason: ReturnReason| order.received_at.map(|at| at.saturating_add(reason.window_ms()));
    Ok(ReturnOptions { no_reason_until: until(ReturnReason::NoReason), quality_until: until(ReturnReason::Quality), lines, order })
}

/// The customer's cases, newest first.
pub async fn mine(app: &App, customer: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<Vec<AfterSale>, Error> {
    let ((page, per_page), user) = (clamp_page(page, per_page), customer.user_id);
    app.store.read(move |sql| after_sale_views::list_for_customer(sql, user, page, per_page)).await
}

/// One case, for its customer, the supplier whose goods it returns, or the operator; for
/// anyone else it doesn't exist.
pub async fn case_for(app: &App, user: &SessionUser, id: AfterSaleId) -> Result<AfterSale, Error> {
    let case = app.store.read(move |sql| after_sale_views::load(sql, id)).await?;
    let visible = case.customer_id == user.user_id || user.has(Role::Operator) || user.supplier_id == Some(case.supplier_id);
    if visible { Ok(case) } else { Err(Error::not_found("after-sales case")) }
}

/// The cases of one of the customer's orders (shown on the order's page).
pub async fn for_order(app: &App, customer: &SessionUser, order: OrderId) -> Result<Vec<AfterSale>, Error> {
    let user = customer.user_id;
    let cases = app.store.read(move |sql| after_sale_views::list_for_order(sql, order)).await?;
    Ok(cases.into_iter().filter(|c| c.customer_id == user).collect())
}

/// Who the caller handles cases as: the operator, or the supplier they work for.
pub fn handler_of(user: &SessionUser) -> Result<Handler, Error> {
    if user.has(Role::Operator) {
        return Ok(Handler::Operator(user.user_id));
    }
    let supplier = supplier_of(user).map_err(|_| Error::new(ErrorCode::Forbidden, "only the supplier or the operator handles returns"))?;
    Ok(Handler::Supplier { supplier, user: user.user_id })
}

/// The supplier the caller works for.
fn supplier_of(user: &SessionUser) -> Result<SupplierId, Error> {
    match user.supplier_id {
        Some(supplier) if user.has(Role::Supplier) => Ok(supplier),
        _ => Err(Error::new(ErrorCode::Forbidden, "you are not a supplier")),
    }
}

/// A handler's queue, oldest first: the operator's (`role` = operator: every supplier's cases)
/// or a supplier's own. `status` is one state, or `open` (the default) for every case still
/// waiting on someone.
pub async fn queue(
    app: &App,
    user: &SessionUser,
    role: Role,
    status: Option<&str>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Vec<AfterSale>, Error> {
    let supplier = match role {
        Role::Operator => {
            require(user, Role::Operator)?;
            None
        }
        _ => Some(supplier_of(user)?),
    };
    let filter = match status.unwrap_or("open") {
        "open" => QueueFilter::Open,
        other => QueueFilter::One(AfterSaleStatus::parse(other)?),
    };
    let (page, per_page) = clamp_page(page, per_page);
    app.store.read(move |sql| after_sale_views::queue(sql, supplier, filter, page, per_page)).await
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// return_and_refund | refund_only
    Approve {
        resolution: String,
    },
    Reject {
        note: String,
    },
}

pub async fn decide(app: &App, user: &SessionUser, id: AfterSaleId, answer: Answer) -> Result<AfterSale, Error> {
    let handler = handler_of(user)?;
    let decision = match answer {
        Answer::Approve { resolution } => Decision::Approve(Resolution::parse(&resolution)?),
        Answer::Reject { note } => Decision::Reject { note: check_note("reason", &note, true)? },
    };
    let now = app.now();
    app.store.write(move |sql| after_sales::decide(sql, now, handler, id, decision)).await
}

pub async fn cancel(app: &App, customer: &SessionUser, id: AfterSaleId) -> Result<AfterSale, Error> {
    let (now, user) = (app.now(), customer.user_id);
    app.store.write(move |sql| after_sales::cancel(sql, now, user, id)).await
}

/// The customer sends the goods back and enters the carrier and tracking number.
pub async fn ship_back(app: &App, customer: &SessionUser, id: AfterSaleId, carrier: &str, tracking_no: &str) -> Result<AfterSale, Error> {
    let tracking_no = check_tracking_no(tracking_no)?;
    let carrier = check_text("carrier", carrier, 20)?;
    if carrier.is_empty() {
        return Err(Error::invalid("carrier is required"));
    }
    let (now, user) = (app.now(), customer.user_id);
    app.store.write(move |sql| after_sales::ship_back(sql, now, user, id, &carrier, &tracking_no)).await
}

/// The handler confirms the returned goods arrived: they go back into stock, the refund starts.
pub async fn confirm_goods_back(app: &App, user: &SessionUser, id: AfterSaleId) -> Result<AfterSale, Error> {
    let handler = handler_of(user)?;
    let now = app.now();
    app.store.write(move |sql| after_sales::confirm_goods_back(sql, now, handler, id)).await
}

/// The deadline job.
pub async fn on_deadline(app: &App, id: AfterSaleId) -> Result<(), Error> {
    let now = app.now();
    app.store.write(move |sql| after_sales::on_deadline(sql, now, id)).await.map(|_| ())
}
