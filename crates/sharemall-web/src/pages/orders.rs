//! My orders, the order page with its actions, and the sandbox provider's pay page.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::orders::{self, Perspective};
use sharemall_app::{groups, payments, sandbox};
use sharemall_domain::{Error, OrderId};
use sharemall_store::model::Order;

use super::{Ctx, Nav, PageResult, fmt_time, form_key, form_token, render, safe_next, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(my_orders))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/pay", post(pay))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/receive", post(receive))
        .route("/sandbox/pay/{txn}", get(sandbox_page))
        .route("/sandbox/pay/{txn}/confirm", post(sandbox_confirm))
}

/// An order as lists show it.
pub struct OrderRow {
    pub id: String,
    pub order_no: String,
    pub shop_name: String,
    pub status: String,
    pub status_label: &'static str,
    pub placed_at: String,
    pub payable: String,
    pub first_product: String,
    pub summary: String,
    pub count: i64,
}

impl OrderRow {
    pub fn of(o: &Order, t: &Strings) -> OrderRow {
        OrderRow {
            id: o.id.to_string(),
            order_no: o.order_no.clone(),
            shop_name: o.shop_name.clone(),
            status: o.status.clone(),
            status_label: t.status(&o.status),
            placed_at: fmt_time(o.created_at),
            payable: yuan(o.payable_fen),
            first_product: o.items.first().map(|i| i.product_id.to_string()).unwrap_or_default(),
            summary: o.items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>().join("、"),
            count: o.items.iter().map(|i| i.quantity).sum(),
        }
    }
}

#[derive(Template)]
#[template(path = "orders.html")]
struct OrdersPage {
    t: &'static Strings,
    nav: Nav,
    orders: Vec<OrderRow>,
}

async fn my_orders(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let list = orders::list_for(&state.app, user, Perspective::Customer, None, Some(1), Some(50)).await?;
    render(&OrdersPage { t: ctx.t, orders: list.iter().map(|o| OrderRow::of(o, ctx.t)).collect(), nav: ctx.nav("orders") })
}

pub struct ItemRow {
    pub product_id: String,
    pub title: String,
    pub attributes: String,
    pub unit: String,
    pub quantity: i64,
    pub goods: String,
}

pub struct ShipmentRow {
    pub carrier: String,
    pub tracking_no: String,
    pub shipped_at: String,
}

#[derive(Template)]
#[template(path = "order.html")]
struct OrderPage {
    t: &'static Strings,
    nav: Nav,
    id: String,
    order_no: String,
    shop_id: String,
    shop_name: String,
    status: String,
    status_label: &'static str,
    placed_at: String,
    pay_deadline: String,
    items: Vec<ItemRow>,
    shipments: Vec<ShipmentRow>,
    base: String,
    discount: String,
    has_discount: bool,
    shipping: String,
    payable: String,
    paid: String,
    refunded: String,
    recipient: String,
    phone: String,
    address: String,
    note: String,
    form_token: String,
    /// A group order's group page (absent until the opener pays).
    group_href: Option<String>,
    /// What became of a failed group's order ("未成团，已退款"), shown under the status.
    group_note: Option<&'static str>,
    /// The order's after-sales cases: (id, status label, refund in yuan).
    returns: Vec<(String, &'static str, String)>,
}

async fn order_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    let o = orders::order_for(&state.app, user, id, Perspective::Customer).await?;
    let discount = o.activity_discount_fen + o.member_discount_fen + o.coupon_discount_fen;
    let group = groups::group_of_order(&state.app, user, id).await?;
    let group_failed = group.as_ref().is_some_and(|g| matches!(g.group_status.as_deref(), Some("failed")));
    let group_note = match o.status.as_str() {
        "refunded" if group_failed => Some(ctx.t.order_group_failed_refunded),
        "refunding" if group_failed => Some(ctx.t.order_group_failed_refunding),
        _ => None,
    };
    let returns = sharemall_app::after_sales::for_order(&state.app, user, id)
        .await?
        .iter()
        .map(|c| (c.id.to_string(), ctx.t.return_status(&c.status), yuan(c.refund_fen)))
        .collect();
    let page = OrderPage {
        returns,
        t: ctx.t,
        nav: ctx.nav("orders"),
        id: o.id.to_string(),
        order_no: o.order_no.clone(),
        shop_id: o.shop_id.to_string(),
        shop_name: o.shop_name.clone(),
        status: o.status.clone(),
        status_label: ctx.t.status(&o.status),
        placed_at: fmt_time(o.created_at),
        pay_deadline: fmt_time(o.pay_deadline_at),
        items: o
            .items
            .iter()
            .map(|i| ItemRow {
                product_id: i.product_id.to_string(),
                title: i.title.clone(),
                attributes: i.attributes.clone(),
                unit: yuan(i.unit_fen),
                quantity: i.quantity,
                goods: yuan(i.goods_fen),
            })
            .collect(),
        shipments: o
            .shipments
            .iter()
            .map(|s| ShipmentRow { carrier: s.carrier.clone(), tracking_no: s.tracking_no.clone(), shipped_at: fmt_time(s.shipped_at) })
            .collect(),
        base: yuan(o.base_fen),
        discount: yuan(discount),
        has_discount: discount > 0,
        shipping: yuan(o.shipping_fen),
        payable: yuan(o.payable_fen),
        paid: yuan(o.paid_fen),
        refunded: yuan(o.refunded_fen),
        recipient: o.recipient.clone(),
        phone: o.phone.clone(),
        address: o.address.clone(),
        note: o.note.clone(),
        form_token: form_token(),
        group_href: group.and_then(|g| g.group_id).map(|id| format!("/groups/{id}")),
        group_note,
    };
    render(&page)
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    form_token: String,
}

/// "去支付": starts a sandbox payment and sends the customer to the provider's pay page.
async fn pay(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<TokenForm>) -> PageResult {
    let user = ctx.user()?;
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    let key = form_key(user, &form.form_token, &format!("POST /orders/{id}/pay\nsandbox"))?;
    let started = payments::start_payment(&state.app, user, id, payments::PROVIDER_SANDBOX, Some(key)).await?;
    Ok(see_other(&started.pay_url))
}

async fn cancel(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    orders::cancel(&state.app, user, id).await?;
    Ok(see_other(&format!("/orders/{id}")))
}

async fn receive(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    orders::confirm_receipt(&state.app, user, id).await?;
    Ok(see_other(&format!("/orders/{id}")))
}

// ---------------------------------------------------------------------------------------------
// The sandbox provider's own page. It belongs to the provider, not to the shop: it has its own
// look, needs no sharemall session, and says plainly that no real money moves.

#[derive(Template)]
#[template(path = "sandbox_pay.html")]
struct SandboxPage {
    t: &'static Strings,
    lang_switch: String,
    txn: String,
    merchant: &'static str,
    amount: String,
    description: String,
    out_trade_no: String,
    paid: bool,
    return_url: String,
}

async fn sandbox_page(State(state): State<AppState>, ctx: Ctx, Path(txn): Path<String>) -> PageResult {
    let txn = sandbox::transaction(&state.app, &txn).await?;
    render(&SandboxPage {
        t: ctx.t,
        lang_switch: ctx.nav("").switch_href,
        merchant: sandbox::MERCHANT_ID,
        amount: yuan(txn.amount_fen),
        description: txn.description.clone(),
        out_trade_no: txn.out_trade_no.clone(),
        paid: !is_open(&txn.status),
        return_url: safe_next(Some(&txn.return_url)),
        txn: txn.id,
    })
}

/// "确认支付": the provider takes the (pretend) money, tells the merchant, and sends the payer
/// back to the merchant's return page.
async fn sandbox_confirm(State(state): State<AppState>, Path(txn): Path<String>) -> PageResult {
    let current = sandbox::transaction(&state.app, &txn).await?;
    let txn = if is_open(&current.status) { sandbox::confirm(&state.app, &txn).await? } else { current };
    Ok(see_other(&safe_next(Some(&txn.return_url))))
}

fn is_open(status: &str) -> bool {
    status == "open"
}
