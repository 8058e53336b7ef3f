//! Order use cases: cart, checkout, cancel, fulfilment, and scoped reads.

use sharemall_domain::account::Role;
use sharemall_domain::order::{OrderStatus, check_tracking_no};
use sharemall_domain::{Error, ErrorCode, Money, OrderId, ShopId, SkuId};
use sharemall_store::model::{CartLine, Order, OrderPlaced, SessionUser};
use sharemall_store::ops::cart;
use sharemall_store::ops::fulfilment::{self, ReceiveBy};
use sharemall_store::ops::idempotency::IdempotencyKey;
use sharemall_store::ops::orders::{self, CancelBy, OrderScope, PlaceOrder};
use sharemall_store::ops::payments::{self, RefundRequested};

use crate::catalog::clamp_page;
use crate::{App, require};

/// What the customer sends at checkout. No price: the server decides it.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub shop: ShopId,
    pub lines: Vec<(SkuId, i64)>,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub from_cart: bool,
}

/// Where and to whom an activity's order (a group seat, a bargain) ships.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
}

/// Checks the delivery fields' lengths, the same for every kind of order.
pub(crate) fn check_delivery(delivery: &Delivery) -> Result<(), Error> {
    check_delivery_fields(&delivery.recipient, &delivery.phone, &delivery.address, &delivery.note)
}

fn check_delivery_fields(recipient: &str, phone: &str, address: &str, note: &str) -> Result<(), Error> {
    let field = |name: &str, value: &str, max: usize| {
        let n = value.trim().chars().count();
        if n == 0 || n > max { Err(Error::invalid(format!("{name} must be 1 to {max} characters"))) } else { Ok(()) }
    };
    field("recipient", recipient, 20)?;
    field("phone", phone, 20)?;
    field("address", address, 120)?;
    if note.chars().count() > 200 {
        return Err(Error::invalid("note must be at most 200 characters"));
    }
    Ok(())
}

/// Places an order; stock is reserved now and released if it is not paid in time.
pub async fn place_order(app: &App, customer: &SessionUser, checkout: Checkout, key: Option<IdempotencyKey>) -> Result<OrderPlaced, Error> {
    check_delivery_fields(&checkout.recipient, &checkout.phone, &checkout.address, &checkout.note)?;
    let lines = orders::normalise_lines(&checkout.lines)?;
    let now = app.now();
    let cmd = PlaceOrder {
        customer: customer.user_id,
        shop: checkout.shop,
        lines,
        recipient: checkout.recipient.trim().to_string(),
        phone: checkout.phone.trim().to_string(),
        address: checkout.address.trim().to_string(),
        note: checkout.note.trim().to_string(),
        order_no: app.order_numbers.next(now),
        pay_window_ms: app.config.pay_window_ms,
        shipping: app.config.shipping,
        from_cart: checkout.from_cart,
        activity: None,
    };
    app.store.place_order(now, cmd, key).await
}

pub async fn set_cart_line(app: &App, customer: &SessionUser, shop: ShopId, sku: SkuId, quantity: i64) -> Result<(), Error> {
    let (now, user) = (app.now(), customer.user_id);
    app.store.write(move |sql| cart::set_cart_line(sql, now, user, shop, sku, quantity)).await
}

pub async fn cart(app: &App, customer: &SessionUser, shop: ShopId) -> Result<Vec<CartLine>, Error> {
    let user = customer.user_id;
    app.store.read(move |sql| cart::cart_lines(sql, user, shop)).await
}

pub async fn cancel(app: &App, customer: &SessionUser, id: OrderId) -> Result<(), Error> {
    let (now, user) = (app.now(), customer.user_id);
    app.store.write(move |sql| orders::cancel_order(sql, now, id, CancelBy::Customer(user))).await.map(|_| ())
}

pub async fn confirm_receipt(app: &App, customer: &SessionUser, id: OrderId) -> Result<(), Error> {
    let (now, user, buffer) = (app.now(), customer.user_id, app.config.settle_buffer_ms);
    app.store.write(move |sql| fulfilment::confirm_receipt(sql, now, id, ReceiveBy::Customer(user), buffer)).await.map(|_| ())
}

pub async fn ship(app: &App, supplier: &SessionUser, id: OrderId, carrier: &str, tracking_no: &str) -> Result<(), Error> {
    require(supplier, Role::Supplier)?;
    let supplier_id = supplier.supplier_id.ok_or_else(|| Error::new(ErrorCode::Forbidden, "you are not a supplier"))?;
    let tracking_no = check_tracking_no(tracking_no)?;
    let carrier = sharemall_domain::catalog::check_text("carrier", carrier, 20)?;
    if carrier.is_empty() {
        return Err(Error::invalid("carrier is required"));
    }
    let (now, auto) = (app.now(), app.config.auto_receive_ms);
    app.store.write(move |sql| fulfilment::ship(sql, now, supplier_id, id, &carrier, &tracking_no, auto)).await
}

/// An operator refunds all or part of a paid order through its payment provider.
pub async fn refund(
    app: &App,
    operator: &SessionUser,
    id: OrderId,
    amount_fen: i64,
    reason: &str,
    key: Option<IdempotencyKey>,
) -> Result<RefundRequested, Error> {
    require(operator, Role::Operator)?;
    let reason = sharemall_domain::catalog::check_text("reason", reason, 200)?;
    let now = app.now();
    let amount = Money::from_fen(amount_fen);
    app.store
        .write(move |sql| {
            sharemall_store::ops::idempotency::run(sql, now, key.as_ref(), |sql| payments::request_refund(sql, now, id, amount, &reason))
        })
        .await
}

/// Whose view an order is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perspective {
    Customer,
    ShopOwner,
    Supplier,
    Operator,
}

/// Reads one order, scoped to the caller: an order that is not theirs is "not found", never
/// "forbidden", so ids can't be probed. A supplier sees only its own lines.
pub async fn order_for(app: &App, user: &SessionUser, id: OrderId, view: Perspective) -> Result<Order, Error> {
    let mut order = app.store.read(move |sql| orders::load_order(sql, id)).await?;
    let visible = match view {
        Perspective::Customer => order.customer_id == user.user_id,
        Perspective::ShopOwner => user.shop_id == Some(order.shop_id),
        Perspective::Supplier => user.supplier_id.is_some_and(|s| order.items.iter().any(|i| i.supplier_id == s)),
        Perspective::Operator => user.has(Role::Operator),
    };
    if !visible {
        return Err(Error::not_found("order"));
    }
    if view == Perspective::Supplier {
        order.items.retain(|i| Some(i.supplier_id) == user.supplier_id);
    }
    Ok(order)
}

pub async fn list_for(
    app: &App,
    user: &SessionUser,
    view: Perspective,
    status: Option<OrderStatus>,
    page: Option<i64>,
    per_page: Option<i64>,
) -> Result<Vec<Order>, Error> {
    let scope = match view {
        Perspective::Customer => OrderScope::Customer(user.user_id),
        Perspective::ShopOwner => OrderScope::Shop(crate::shops::own_shop(user)?),
        Perspective::Supplier => {
            require(user, Role::Supplier)?;
            OrderScope::Supplier(user.supplier_id.ok_or_else(|| Error::new(ErrorCode::Forbidden, "you are not a supplier"))?)
        }
        Perspective::Operator => {
            require(user, Role::Operator)?;
            OrderScope::Platform
        }
    };
    let (page, per_page) = clamp_page(page, per_page);
    let mut list = app.store.read(move |sql| orders::list_orders(sql, scope, status, page, per_page)).await?;
    if let (Perspective::Supplier, Some(supplier)) = (view, user.supplier_id) {
        for order in &mut list {
            order.items.retain(|i| i.supplier_id == supplier);
        }
    }
    Ok(list)
}
