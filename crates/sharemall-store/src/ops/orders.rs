//! Orders: placing (stock reserved at creation), cancelling, the cart, and reading orders.

use sharemall_domain::order::{self, OrderStatus};
use sharemall_domain::pricing::{self, ActivityPrice, Adjustments, LineInput, PriceBreakdown, ShippingRule};
use sharemall_domain::{Error, ErrorCode, Money, OrderId, ProductId, ShopId, SkuId, SupplierId, Timestamp, UserId};

use crate::model::{Order, OrderItem, OrderPlaced, Shipment};
use crate::ops::bargains;
use crate::ops::groups;
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::jobs;
use crate::ops::shares;
use crate::params;
use crate::sql::{Row, Sql};

pub const JOB_CANCEL_UNPAID: &str = "cancel_unpaid_order";

/// A validated request to place an order. Prices are not part of it: they are read here.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub customer: UserId,
    pub shop: ShopId,
    /// (SKU, quantity); duplicates are merged.
    pub lines: Vec<(SkuId, i64)>,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub order_no: String,
    pub pay_window_ms: i64,
    pub shipping: ShippingRule,
    /// Empty the customer's cart for this shop once the order is placed.
    pub from_cart: bool,
    /// The activity (a group seat) that prices the order's one SKU, if any.
    pub activity: Option<ActivityPricing>,
}

/// An activity's price for one SKU of an order: the pricing pipeline's activity stage, and
/// what `orders.activity` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityPricing {
    pub activity: Activity,
    pub sku: SkuId,
    pub unit_price: Money,
}

impl ActivityPricing {
    pub fn adjustments(activity: Option<ActivityPricing>, shipping: ShippingRule) -> Adjustments {
        Adjustments { activity: activity.map(|a| ActivityPrice { sku_id: a.sku, unit_price: a.unit_price }), shipping, ..Adjustments::NONE }
    }
}

/// One SKU as the order sees it at placing time.
pub(crate) struct SkuForSale {
    pub sku: SkuId,
    pub product: ProductId,
    pub supplier: SupplierId,
    pub title: String,
    pub attributes: String,
    pub unit_price: Money,
}

/// Loads a SKU and checks that `shop` may sell it now.
pub(crate) fn sku_for_sale(sql: &mut dyn Sql, shop: ShopId, sku: SkuId) -> Result<SkuForSale, Error> {
    let row = sql
        .query_opt(
            "SELECT s.product_id, p.supplier_id, p.title, s.attributes, s.retail_fen, p.approval, sup.approval, \
             (SELECT COUNT(*) FROM shop_products sp WHERE sp.shop_id = $2 AND sp.product_id = p.id) \
             FROM skus s JOIN products p ON p.id = s.product_id JOIN suppliers sup ON sup.id = p.supplier_id WHERE s.id = $1",
            params![sku, shop],
        )?
        .ok_or_else(|| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
    if row.text(5)? != "approved" || row.text(6)? != "approved" || row.i64(7)? == 0 {
        return Err(Error::new(ErrorCode::SkuNotOnSale, "this item is not on sale in this shop"));
    }
    Ok(SkuForSale {
        sku,
        product: row.id(0)?,
        supplier: row.id(1)?,
        title: row.text(2)?,
        attributes: row.text(3)?,
        unit_price: row.money(4)?,
    })
}

/// The order placed earlier with `key`, answered as it was then; `idempotency_key_reused` when
/// the key came with a different request.
pub fn placed_with_key(sql: &mut dyn Sql, key: &IdempotencyKey) -> Result<Option<OrderPlaced>, Error> {
    let row = sql.query_opt(
        "SELECT id, order_no, payable_fen, pay_deadline_at, request_hash FROM orders WHERE customer_id = $1 AND idem_key = $2",
        params![key.user, key.key.as_str()],
    )?;
    let Some(row) = row else { return Ok(None) };
    if row.opt_text(4)?.as_deref() != Some(key.request_hash.as_str()) {
        return Err(reused_key());
    }
    Ok(Some(OrderPlaced::created(row.id(0)?, &row.text(1)?, row.i64(2)?, row.time(3)?)))
}

/// The refusal of a key sent again with a different request (the same words as
/// [`super::idempotency::run`]).
pub fn reused_key() -> Error {
    Error::new(ErrorCode::IdempotencyKeyReused, "this Idempotency-Key was used for a different request")
}

fn shop_exists(sql: &mut dyn Sql, shop: ShopId) -> Result<bool, Error> {
    Ok(sql.query_opt("SELECT 1 FROM shops WHERE id = $1", params![shop])?.is_some())
}

/// Merges duplicate SKUs and checks every limit. Sorted by SKU, so that every transaction that
/// locks several SKU rows locks them in the same order (no deadlocks on PostgreSQL).
pub fn normalise_lines(lines: &[(SkuId, i64)]) -> Result<Vec<(SkuId, i64)>, Error> {
    order::check_line_count(lines.len())?;
    let mut merged: Vec<(SkuId, i64)> = Vec::with_capacity(lines.len());
    for (sku, quantity) in lines {
        order::check_quantity(*quantity)?;
        match merged.iter_mut().find(|(s, _)| s == sku) {
            Some((_, q)) => *q = order::check_quantity(*q + quantity)?,
            None => merged.push((*sku, *quantity)),
        }
    }
    merged.sort_by_key(|(sku, _)| *sku);
    Ok(merged)
}

/// Places an order, at most once per `Idempotency-Key`. The order row carries its key and a hash
/// of the request, so the order is its own idempotency record: a replay is answered from the
/// order exactly as the first request was, and placing one writes no second row (measured: a
/// separate key row cost a seventh of the orders per second).
pub fn place_order(sql: &mut dyn Sql, now: Timestamp, cmd: &PlaceOrder, key: Option<&IdempotencyKey>) -> Result<OrderPlaced, Error> {
    if let Some(key) = key {
        if key.user != cmd.customer {
            return Err(Error::internal("an order's Idempotency-Key must belong to its customer"));
        }
        if let Some(placed) = placed_with_key(sql, key)? {
            return Ok(placed);
        }
    }
    let lines = normalise_lines(&cmd.lines)?;
    let mut for_sale = Vec::with_capacity(lines.len());
    for (sku, _) in &lines {
        match sku_for_sale(sql, cmd.shop, *sku) {
            Ok(item) => for_sale.push(item),
            // An unknown shop sells nothing, so it shows up here; asking only on this path keeps
            // a query off every successful order.
            Err(e) => return Err(if shop_exists(sql, cmd.shop)? { e } else { Error::not_found("shop") }),
        }
    }
    let inputs: Vec<LineInput> =
        for_sale.iter().zip(&lines).map(|(s, (_, q))| LineInput { sku_id: s.sku, quantity: *q, unit_price: s.unit_price }).collect();
    let price = pricing::price(&inputs, &ActivityPricing::adjustments(cmd.activity, cmd.shipping))?;
    for (sku, quantity) in &lines {
        reserve_stock(sql, *sku, *quantity)?;
    }
    let id = OrderId::new();
    let deadline = now.plus_ms(cmd.pay_window_ms);
    let new_order = NewOrder {
        id,
        customer: cmd.customer,
        shop: cmd.shop,
        order_no: &cmd.order_no,
        recipient: &cmd.recipient,
        phone: &cmd.phone,
        address: &cmd.address,
        note: &cmd.note,
        deadline,
        key,
        activity: cmd.activity.map(|a| a.activity),
    };
    insert_order(sql, now, &new_order, &price, &for_sale, &inputs)?;
    jobs::enqueue(sql, now, JOB_CANCEL_UNPAID, &id.to_string(), deadline)?;
    if cmd.from_cart {
        sql.execute("DELETE FROM cart_items WHERE user_id = $1 AND shop_id = $2", params![cmd.customer, cmd.shop])?;
    }
    Ok(OrderPlaced::created(id, &cmd.order_no, price.payable_fen, deadline))
}

/// An order's row as written, once it is priced and its stock reserved.
struct NewOrder<'a> {
    id: OrderId,
    customer: UserId,
    shop: ShopId,
    order_no: &'a str,
    recipient: &'a str,
    phone: &'a str,
    address: &'a str,
    note: &'a str,
    deadline: Timestamp,
    key: Option<&'a IdempotencyKey>,
    activity: Option<Activity>,
}

/// Writes an order and its lines, attributed inside the order's own transaction: the binding
/// and last touch in force when it is placed.
fn insert_order(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: &NewOrder<'_>,
    price: &PriceBreakdown,
    for_sale: &[SkuForSale],
    inputs: &[LineInput],
) -> Result<(), Error> {
    let attribution = shares::attribution_for(sql, now, order.customer, order.shop)?;
    sql.execute(
        "INSERT INTO orders (id, order_no, shop_id, customer_id, status, base_fen, activity_discount_fen, member_discount_fen, coupon_discount_fen, \
         goods_fen, shipping_fen, payable_fen, recipient, phone, address, note, created_at, pay_deadline_at, idem_key, request_hash, \
         bound_shop_id, share_code, self_referral, activity) \
         VALUES ($1, $2, $3, $4, 'created', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
        params![
            order.id,
            order.order_no,
            order.shop,
            order.customer,
            price.base_fen,
            price.activity_discount_fen,
            price.member_discount_fen,
            price.coupon_discount_fen,
            price.goods_fen,
            price.shipping_fen,
            price.payable_fen,
            order.recipient,
            order.phone,
            order.address,
            order.note,
            now,
            order.deadline,
            order.key.map(|k| k.key.as_str()),
            order.key.map(|k| k.request_hash.as_str()),
            attribution.bound_shop,
            attribution.share_code.as_deref(),
            attribution.self_referral,
            order.activity.map(Activity::as_str)
        ],
    )?;
    for (line_no, (item, input)) in for_sale.iter().zip(inputs).enumerate() {
        sql.execute(
            "INSERT INTO order_items (order_id, line_no, sku_id, product_id, supplier_id, title, attributes, unit_fen, quantity, goods_fen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            params![order.id, line_no as i64 + 1, item.sku, item.product, item.supplier, item.title.as_str(), item.attributes.as_str(), input.unit_price, input.quantity, price.line_goods_fen[line_no]],
        )?;
    }
    Ok(())
}

/// The activity that set an order's price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    GroupBuy,
    Bargain,
}

impl Activity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Activity::GroupBuy => "group_buy",
            Activity::Bargain => "bargain",
        }
    }
}

/// A one-line order at an activity's price (a group seat). The activity decides the unit price
/// and the pay deadline; everything else is an ordinary order's.
#[derive(Debug, Clone)]
pub struct ActivityOrder {
    pub customer: UserId,
    pub shop: ShopId,
    pub sku: SkuId,
    pub quantity: i64,
    /// The activity's price per unit; the pricing pipeline never lets it exceed the retail price.
    pub unit_price: Money,
    pub activity: Activity,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub order_no: String,
    pub pay_deadline: Timestamp,
    pub shipping: ShippingRule,
}

impl ActivityOrder {
    /// The same order as a [`PlaceOrder`], which is how it is placed.
    pub fn as_place_order(&self, now: Timestamp) -> PlaceOrder {
        PlaceOrder {
            customer: self.customer,
            shop: self.shop,
            lines: vec![(self.sku, self.quantity)],
            recipient: self.recipient.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            note: self.note.clone(),
            order_no: self.order_no.clone(),
            pay_window_ms: self.pay_deadline.millis() - now.millis(),
            shipping: self.shipping,
            from_cart: false,
            activity: Some(ActivityPricing { activity: self.activity, sku: self.sku, unit_price: self.unit_price }),
        }
    }
}

/// Places an activity's order as an ordinary one priced at the activity's price: the shop must
/// sell the SKU, stock is reserved, the unpaid-order deadline is scheduled. Callers check an
/// Idempotency-Key with [`placed_with_key`] before they take any seat or stock of their own, and
/// pass it here to be stored on the order.
pub fn place_activity_order(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: &ActivityOrder,
    key: Option<&IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    place_order(sql, now, &order.as_place_order(now), key)
}

/// Moves `quantity` from available to reserved, or fails with `out_of_stock` changing nothing.
/// The condition in the `UPDATE` is what makes overselling impossible under any interleaving.
pub(crate) fn reserve_stock(sql: &mut dyn Sql, sku: SkuId, quantity: i64) -> Result<(), Error> {
    let changed = sql.execute(
        "UPDATE skus SET stock_available = stock_available - $2, stock_reserved = stock_reserved + $2 WHERE id = $1 AND stock_available >= $2",
        params![sku, quantity],
    )?;
    if changed == 0 {
        return Err(Error::new(ErrorCode::OutOfStock, "not enough stock left"));
    }
    Ok(())
}

/// Moves an order's quantities between stock columns: `from` → `to` (e.g. reserved → sold).
pub(crate) fn move_stock(sql: &mut dyn Sql, order: OrderId, from: &str, to: &str) -> Result<(), Error> {
    let items = sql.query("SELECT sku_id, quantity FROM order_items WHERE order_id = $1 ORDER BY sku_id", params![order])?;
    for item in items {
        let sku: SkuId = item.id(0)?;
        let changed = sql.execute(
            &format!("UPDATE skus SET {from} = {from} - $2, {to} = {to} + $2 WHERE id = $1 AND {from} >= $2"),
            params![sku, item.i64(1)?],
        )?;
        if changed == 0 {
            return Err(Error::internal(format!("stock of {sku}: {from} below an order's quantity")));
        }
    }
    Ok(())
}

/// Who cancels an order, which decides what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelBy {
    Customer(UserId),
    /// The pay window closed.
    Deadline,
    /// The order held a seat in a group that has closed (failed, or completed by the platform).
    GroupClosed,
}

/// Cancels an unpaid order and releases its stock. Idempotent for the deadline job: an order
/// already paid or cancelled is left alone.
pub fn cancel_order(sql: &mut dyn Sql, now: Timestamp, id: OrderId, by: CancelBy) -> Result<bool, Error> {
    let row = sql
        .query_opt("SELECT status, customer_id, pay_deadline_at, activity FROM orders WHERE id = $1", params![id])?
        .ok_or_else(|| Error::not_found("order"))?;
    let status = OrderStatus::parse(&row.text(0)?)?;
    let group_order = row.opt_text(3)?.as_deref() == Some(Activity::GroupBuy.as_str());
    match by {
        CancelBy::Customer(user) if row.id::<UserId>(1)? != user => return Err(Error::not_found("order")),
        CancelBy::Customer(_) => {
            status.transition(OrderStatus::Cancelled)?;
        }
        CancelBy::Deadline => {
            if status != OrderStatus::Created || row.time(2)? > now {
                return Ok(false);
            }
        }
        CancelBy::GroupClosed => {
            if status != OrderStatus::Created {
                return Ok(false);
            }
        }
    }
    if group_order {
        groups::lock_group_of(sql, id)?;
    }
    let changed =
        sql.execute("UPDATE orders SET status = 'cancelled', closed_at = $2 WHERE id = $1 AND status = 'created'", params![id, now])?;
    if changed == 0 {
        return Ok(false);
    }
    if group_order {
        groups::on_cancelled(sql, id)?;
    }
    // A bargain's order closing unpaid gives its campaign unit back and lets the starter buy
    // again while the bargain has not expired (a no-op for any other order).
    if row.opt_text(3)?.as_deref() == Some(Activity::Bargain.as_str()) {
        bargains::on_order_cancelled(sql, now, id)?;
    }
    move_stock(sql, id, "stock_reserved", "stock_available")?;
    sql.execute("UPDATE payments SET status = 'closed' WHERE order_id = $1 AND status = 'pending'", params![id])?;
    Ok(true)
}

const ORDER_COLUMNS: &str = "o.id, o.order_no, o.shop_id, s.name, o.customer_id, o.status, o.base_fen, o.activity_discount_fen, o.member_discount_fen, \
    o.coupon_discount_fen, o.goods_fen, o.shipping_fen, o.payable_fen, o.paid_fen, o.refunded_fen, o.recipient, o.phone, o.address, o.note, \
    o.created_at, o.pay_deadline_at, o.paid_at, o.shipped_at, o.received_at, o.completes_at, o.bound_shop_id, o.share_code, o.self_referral";

fn order_row(sql: &mut dyn Sql, row: &Row) -> Result<Order, Error> {
    let id: OrderId = row.id(0)?;
    let items = sql
        .query(
            "SELECT line_no, sku_id, product_id, supplier_id, title, attributes, unit_fen, quantity, goods_fen FROM order_items WHERE order_id = $1 ORDER BY line_no",
            params![id],
        )?
        .iter()
        .map(|r| {
            Ok(OrderItem {
                line_no: r.i64(0)?,
                sku_id: r.id(1)?,
                product_id: r.id(2)?,
                supplier_id: r.id(3)?,
                title: r.text(4)?,
                attributes: r.text(5)?,
                unit_fen: r.i64(6)?,
                quantity: r.i64(7)?,
                goods_fen: r.i64(8)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let shipments = sql
        .query("SELECT supplier_id, carrier, tracking_no, shipped_at FROM shipments WHERE order_id = $1 ORDER BY shipped_at", params![id])?
        .iter()
        .map(|r| Ok(Shipment { supplier_id: r.id(0)?, carrier: r.text(1)?, tracking_no: r.text(2)?, shipped_at: r.i64(3)? }))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Order {
        id,
        order_no: row.text(1)?,
        shop_id: row.id(2)?,
        shop_name: row.text(3)?,
        customer_id: row.id(4)?,
        status: row.text(5)?,
        base_fen: row.i64(6)?,
        activity_discount_fen: row.i64(7)?,
        member_discount_fen: row.i64(8)?,
        coupon_discount_fen: row.i64(9)?,
        goods_fen: row.i64(10)?,
        shipping_fen: row.i64(11)?,
        payable_fen: row.i64(12)?,
        paid_fen: row.i64(13)?,
        refunded_fen: row.i64(14)?,
        recipient: row.text(15)?,
        phone: row.text(16)?,
        address: row.text(17)?,
        note: row.text(18)?,
        created_at: row.i64(19)?,
        pay_deadline_at: row.i64(20)?,
        paid_at: row.opt_i64(21)?,
        shipped_at: row.opt_i64(22)?,
        received_at: row.opt_i64(23)?,
        completes_at: row.opt_i64(24)?,
        bound_shop_id: row.opt_text(25)?.map(|s| s.parse().map_err(|_| Error::internal(format!("bad bound shop id {s}")))).transpose()?,
        share_code: row.opt_text(26)?,
        self_referral: row.bool(27)?,
        items,
        shipments,
    })
}

pub fn load_order(sql: &mut dyn Sql, id: OrderId) -> Result<Order, Error> {
    let row = sql
        .query_opt(&format!("SELECT {ORDER_COLUMNS} FROM orders o JOIN shops s ON s.id = o.shop_id WHERE o.id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("order"))?;
    order_row(sql, &row)
}

/// Whose orders a list shows. Every list is scoped: there is no unscoped order list.
#[derive(Debug, Clone, Copy)]
pub enum OrderScope {
    Customer(UserId),
    Shop(ShopId),
    /// Orders containing this supplier's goods.
    Supplier(SupplierId),
    /// The operator's platform-wide view.
    Platform,
}

pub fn list_orders(
    sql: &mut dyn Sql,
    scope: OrderScope,
    status: Option<OrderStatus>,
    page: i64,
    per_page: i64,
) -> Result<Vec<Order>, Error> {
    let (filter, key) = match scope {
        OrderScope::Customer(user) => ("o.customer_id = $1", user.to_string()),
        OrderScope::Shop(shop) => ("o.shop_id = $1", shop.to_string()),
        OrderScope::Supplier(supplier) => ("o.id IN (SELECT order_id FROM order_items WHERE supplier_id = $1)", supplier.to_string()),
        OrderScope::Platform => ("CAST($1 AS TEXT) = ''", String::new()),
    };
    let rows = sql.query(
        &format!(
            "SELECT {ORDER_COLUMNS} FROM orders o JOIN shops s ON s.id = o.shop_id WHERE {filter} AND (CAST($2 AS TEXT) IS NULL OR o.status = $2) \
             ORDER BY o.created_at DESC, o.id LIMIT $3 OFFSET $4"
        ),
        params![key, status.map(OrderStatus::as_str), per_page, page.saturating_sub(1).saturating_mul(per_page)],
    )?;
    rows.iter().map(|row| order_row(sql, row)).collect()
}
