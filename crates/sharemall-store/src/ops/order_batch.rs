//! The decision half of the set-based order paths, shared by both backends.
//!
//! A backend loads what a batch of `place_order` commands needs (saved idempotency responses,
//! order numbers already taken, which shops and customers exist, every SKU with its sale data
//! and available stock); [`decide_all`] then decides the commands in arrival order exactly as
//! [`super::orders::place_order`] would decide them one after
//! the other (same checks in the same order, same pricing, same error codes), and collects the
//! rows to write in [`Rows`]. The backend writes those rows set-based: PostgreSQL in
//! [`super::orders_pg`], SQLite in [`super::orders_sqlite`].

use sharemall_domain::pricing::{self, LineInput};
use sharemall_domain::{Error, ErrorCode, JobId, Money, OrderId, ProductId, ShopId, SkuId, SupplierId, Timestamp, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::OrderPlaced;
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::orders::{ActivityPricing, PlaceOrder, normalise_lines, reused_key};
use crate::ops::shares::{Attribution, last_touch_cutoff};
use crate::sql::Backend;

/// One `place_order` command: what [`crate::Store::place_order`] takes.
#[derive(Debug, Clone)]
pub struct OrderCommand {
    pub now: Timestamp,
    pub cmd: PlaceOrder,
    pub key: Option<IdempotencyKey>,
}

/// What a batch must look up before deciding: its idempotency keys (user, key), order numbers,
/// shops and customers (the last two sorted and deduplicated).
#[derive(Default)]
pub(crate) struct Lookups {
    pub(crate) key_users: Vec<String>,
    pub(crate) key_keys: Vec<String>,
    pub(crate) order_nos: Vec<String>,
    pub(crate) shops: Vec<String>,
    pub(crate) users: Vec<String>,
}

impl Lookups {
    pub(crate) fn of(batch: &[OrderCommand]) -> Lookups {
        let mut lookups = Lookups::default();
        for request in batch {
            if let Some(key) = &request.key {
                lookups.key_users.push(key.user.to_string());
                lookups.key_keys.push(key.key.clone());
            }
            lookups.order_nos.push(request.cmd.order_no.clone());
            lookups.shops.push(request.cmd.shop.to_string());
            lookups.users.push(request.cmd.customer.to_string());
        }
        lookups.shops.sort_unstable();
        lookups.shops.dedup();
        lookups.users.sort_unstable();
        lookups.users.dedup();
        lookups
    }
}

/// Each command's (customer, shop, oldest last-touch visit), in order: what a batch's
/// attribution query reads ([`Attribution::decide`] then decides).
pub(crate) fn attribution_keys(batch: &[OrderCommand]) -> (Vec<String>, Vec<String>, Vec<i64>) {
    let customers = batch.iter().map(|r| r.cmd.customer.to_string()).collect();
    let shops = batch.iter().map(|r| r.cmd.shop.to_string()).collect();
    let cutoffs = batch.iter().map(|r| last_touch_cutoff(r.now).millis()).collect();
    (customers, shops, cutoffs)
}

/// Decides one command's attribution from a row of a batch's attribution query: bound shop,
/// last-touch code, its sharer, the earning shop's owner (each possibly absent).
pub(crate) fn attribution_of(
    request: &OrderCommand,
    bound: Option<String>,
    code: Option<String>,
    sharer: Option<String>,
    owner: Option<String>,
) -> Result<Attribution, Error> {
    let bound_shop: Option<ShopId> = parse_id(bound)?;
    let sharer: Option<UserId> = parse_id(sharer)?;
    let owner: Option<UserId> = parse_id(owner)?;
    let last_touch = code.zip(sharer);
    Ok(Attribution::decide(request.cmd.customer, bound_shop, last_touch, owner))
}

fn parse_id<T: std::str::FromStr>(text: Option<String>) -> Result<Option<T>, Error> {
    text.map(|t| t.parse().map_err(|_| Error::internal(format!("bad id {t} in an attribution")))).transpose()
}

/// A command's normalised lines, or why they are refused.
pub(crate) type Lines = Result<Vec<(SkuId, i64)>, Error>;

/// Saved responses by (user, key).
pub(crate) type SavedKeys = HashMap<(UserId, String), Saved>;

/// Each command's normalised lines, and every SKU (sorted, deduplicated) that a command not
/// answered from a saved response may take stock from.
pub(crate) fn wanted_skus(batch: &[OrderCommand], saved: &SavedKeys) -> (Vec<Lines>, Vec<String>) {
    let lines: Vec<Lines> = batch.iter().map(|r| normalise_lines(&r.cmd.lines)).collect();
    let mut wanted: Vec<String> = Vec::new();
    for (request, lines) in batch.iter().zip(&lines) {
        let replayed = request.key.as_ref().is_some_and(|k| saved.contains_key(&(k.user, k.key.clone())));
        if let (Ok(lines), false) = (lines, replayed) {
            wanted.extend(lines.iter().map(|(sku, _)| sku.to_string()));
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    (lines, wanted)
}

/// A SKU as the batch sees it, locked.
pub(crate) struct SkuRow {
    pub(crate) product: ProductId,
    pub(crate) supplier: SupplierId,
    pub(crate) title: String,
    pub(crate) attributes: String,
    pub(crate) unit_price: Money,
    /// Product and supplier both approved.
    pub(crate) approved: bool,
    /// The batch's shops that picked this SKU's product.
    pub(crate) shops: HashSet<String>,
    pub(crate) available: i64,
}

/// A response saved under an idempotency key: its request hash and the response.
pub(crate) struct Saved {
    pub(crate) request_hash: String,
    pub(crate) response: Result<OrderPlaced, String>,
}

/// What a batch's first lookup found (both backends run one query returning rows of
/// `(kind, value, idem_key, request_hash, response)`), filed row by row.
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) saved: SavedKeys,
    pub(crate) taken_order_nos: HashSet<String>,
    pub(crate) known_shops: HashSet<String>,
    pub(crate) known_users: HashSet<String>,
}

impl Found {
    /// Files one lookup row. Kinds: `k` an order placed with one of the batch's idempotency keys
    /// (its customer in `value`, and `id|order_no|payable_fen|pay_deadline_at` in `response`),
    /// `o` an order number already taken, `s` an existing shop, anything else an existing user.
    pub(crate) fn file(&mut self, kind: &str, value: String, idem_key: String, request_hash: String, response: &str) -> Result<(), Error> {
        match kind {
            "k" => {
                let user: UserId = value.parse().map_err(|_| Error::internal(format!("bad customer id {value} on an order")))?;
                self.saved.insert((user, idem_key), Saved { request_hash, response: saved_order(response) });
            }
            "o" => {
                self.taken_order_nos.insert(value);
            }
            "s" => {
                self.known_shops.insert(value);
            }
            _ => {
                self.known_users.insert(value);
            }
        }
        Ok(())
    }
}

/// The first answer to an order placed with a key, rebuilt from `id|order_no|payable|deadline`.
fn saved_order(fields: &str) -> Result<OrderPlaced, String> {
    let mut parts = fields.split('|');
    let mut next = || parts.next().ok_or_else(|| format!("saved order unreadable: {fields}"));
    let id: OrderId = next()?.parse().map_err(|_| format!("saved order id unreadable: {fields}"))?;
    let order_no = next()?.to_string();
    let payable: i64 = next()?.parse().map_err(|_| format!("saved amount unreadable: {fields}"))?;
    let deadline: i64 = next()?.parse().map_err(|_| format!("saved deadline unreadable: {fields}"))?;
    Ok(OrderPlaced::created(id, &order_no, payable, Timestamp(deadline)))
}

/// Rows of the batch's accepted orders, column by column (for `UNNEST`).
#[derive(Default)]
pub(crate) struct Rows {
    pub(crate) order_id: Vec<String>,
    pub(crate) order_no: Vec<String>,
    pub(crate) shop: Vec<String>,
    pub(crate) customer: Vec<String>,
    pub(crate) base: Vec<i64>,
    pub(crate) activity: Vec<i64>,
    pub(crate) member: Vec<i64>,
    pub(crate) coupon: Vec<i64>,
    pub(crate) goods: Vec<i64>,
    pub(crate) shipping: Vec<i64>,
    pub(crate) payable: Vec<i64>,
    pub(crate) recipient: Vec<String>,
    pub(crate) phone: Vec<String>,
    pub(crate) address: Vec<String>,
    pub(crate) note: Vec<String>,
    pub(crate) created_at: Vec<i64>,
    pub(crate) deadline: Vec<i64>,
    pub(crate) idem_key: Vec<Option<String>>,
    pub(crate) request_hash: Vec<Option<String>>,
    pub(crate) bound_shop: Vec<Option<String>>,
    pub(crate) share_code: Vec<Option<String>>,
    pub(crate) self_referral: Vec<bool>,
    /// `orders.activity`: the activity that priced the order, if any.
    pub(crate) activity_kind: Vec<Option<String>>,

    pub(crate) item_order: Vec<String>,
    pub(crate) item_line: Vec<i64>,
    pub(crate) item_sku: Vec<String>,
    pub(crate) item_product: Vec<String>,
    pub(crate) item_supplier: Vec<String>,
    pub(crate) item_title: Vec<String>,
    pub(crate) item_attributes: Vec<String>,
    pub(crate) item_unit: Vec<i64>,
    pub(crate) item_quantity: Vec<i64>,
    pub(crate) item_goods: Vec<i64>,

    pub(crate) job_id: Vec<String>,

    pub(crate) cart_user: Vec<String>,
    pub(crate) cart_shop: Vec<String>,

    /// Stock to reserve per SKU, in id order.
    pub(crate) reserve: BTreeMap<SkuId, i64>,
}

/// What the batch knows while deciding.
pub(crate) struct Context<'a> {
    pub(crate) skus: &'a mut HashMap<SkuId, SkuRow>,
    pub(crate) known_shops: &'a HashSet<String>,
    pub(crate) known_users: &'a HashSet<String>,
    pub(crate) taken_order_nos: &'a mut HashSet<String>,
    /// Names the backend in the errors that stand for a failed constraint.
    pub(crate) backend: Backend,
}

pub(crate) fn decide_all(
    batch: &[OrderCommand],
    lines: Vec<Result<Vec<(SkuId, i64)>, Error>>,
    attributions: Vec<Attribution>,
    saved: &mut HashMap<(UserId, String), Saved>,
    mut context: Context<'_>,
    rows: &mut Rows,
) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    let mut results = Vec::with_capacity(batch.len());
    if attributions.len() != batch.len() {
        return Err(Error::internal("order batch: an attribution per command"));
    }
    for ((request, lines), attribution) in batch.iter().zip(lines).zip(attributions) {
        // As `orders::place_order`: an order placed with the key answers a replay; only successes
        // place orders, so a key whose first use failed in this batch runs again.
        if let Some(key) = &request.key
            && let Some(found) = saved.get(&(key.user, key.key.clone()))
        {
            let result =
                if found.request_hash != key.request_hash { Err(reused_key()) } else { found.response.clone().map_err(Error::internal) };
            results.push(result);
            continue;
        }
        let result = lines.and_then(|lines| decide(request, &lines, attribution, &mut context, rows));
        if let (Ok(placed), Some(key)) = (&result, &request.key) {
            saved.insert((key.user, key.key.clone()), Saved { request_hash: key.request_hash.clone(), response: Ok(placed.clone()) });
        }
        results.push(result);
    }
    Ok(results)
}

/// Decides one command against the batch's view of stock, with the checks of
/// [`super::orders::place_order`] in the same order; on success adds its rows and takes its stock.
fn decide(
    request: &OrderCommand,
    lines: &[(SkuId, i64)],
    attribution: Attribution,
    context: &mut Context<'_>,
    rows: &mut Rows,
) -> Result<OrderPlaced, Error> {
    let cmd = &request.cmd;
    if request.key.as_ref().is_some_and(|k| k.user != cmd.customer) {
        return Err(Error::internal("an order's Idempotency-Key must belong to its customer"));
    }
    let shop = cmd.shop.to_string();
    if !context.known_shops.contains(&shop) {
        return Err(Error::not_found("shop"));
    }
    let mut inputs = Vec::with_capacity(lines.len());
    for (sku, quantity) in lines {
        let row = context.skus.get(sku).ok_or_else(|| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
        if !row.approved || !row.shops.contains(&shop) {
            return Err(Error::new(ErrorCode::SkuNotOnSale, "this item is not on sale in this shop"));
        }
        inputs.push(LineInput { sku_id: *sku, quantity: *quantity, unit_price: row.unit_price });
    }
    let price = pricing::price(&inputs, &ActivityPricing::adjustments(cmd.activity, cmd.shipping))?;
    for (sku, quantity) in lines {
        if context.skus.get(sku).is_none_or(|row| row.available < *quantity) {
            return Err(Error::new(ErrorCode::OutOfStock, "not enough stock left"));
        }
    }
    // What the generic path learns from a failed INSERT (a foreign key, a unique order number).
    let customer = cmd.customer.to_string();
    if !context.known_users.contains(&customer) {
        return Err(Error::internal(format!("{}: orders.customer_id {customer} is not a user", context.backend.as_str())));
    }
    if context.taken_order_nos.contains(&cmd.order_no) {
        return Err(Error::internal(format!("{}: order number {} is already taken", context.backend.as_str(), cmd.order_no)));
    }

    let id = OrderId::new();
    let order_id = id.to_string();
    let deadline = request.now.plus_ms(cmd.pay_window_ms);
    for (line_no, ((sku, quantity), input)) in lines.iter().zip(&inputs).enumerate() {
        let row = context.skus.get_mut(sku).ok_or_else(|| Error::internal("SKU vanished from the batch"))?;
        row.available -= quantity;
        *rows.reserve.entry(*sku).or_insert(0) += quantity;
        rows.item_order.push(order_id.clone());
        rows.item_line.push(line_no as i64 + 1);
        rows.item_sku.push(sku.to_string());
        rows.item_product.push(row.product.to_string());
        rows.item_supplier.push(row.supplier.to_string());
        rows.item_title.push(row.title.clone());
        rows.item_attributes.push(row.attributes.clone());
        rows.item_unit.push(input.unit_price.fen());
        rows.item_quantity.push(*quantity);
        rows.item_goods.push(price.line_goods_fen.get(line_no).copied().ok_or_else(|| Error::internal("pricing lost a line"))?);
    }
    context.taken_order_nos.insert(cmd.order_no.clone());
    rows.order_id.push(order_id);
    rows.order_no.push(cmd.order_no.clone());
    rows.shop.push(shop);
    rows.customer.push(customer);
    rows.base.push(price.base_fen);
    rows.activity.push(price.activity_discount_fen);
    rows.member.push(price.member_discount_fen);
    rows.coupon.push(price.coupon_discount_fen);
    rows.goods.push(price.goods_fen);
    rows.shipping.push(price.shipping_fen);
    rows.payable.push(price.payable_fen);
    rows.recipient.push(cmd.recipient.clone());
    rows.phone.push(cmd.phone.clone());
    rows.address.push(cmd.address.clone());
    rows.note.push(cmd.note.clone());
    rows.created_at.push(request.now.millis());
    rows.deadline.push(deadline.millis());
    rows.idem_key.push(request.key.as_ref().map(|k| k.key.clone()));
    rows.request_hash.push(request.key.as_ref().map(|k| k.request_hash.clone()));
    rows.bound_shop.push(attribution.bound_shop.map(|s| s.to_string()));
    rows.share_code.push(attribution.share_code);
    rows.self_referral.push(attribution.self_referral);
    rows.activity_kind.push(cmd.activity.map(|a| a.activity.as_str().to_string()));
    rows.job_id.push(JobId::new().to_string());
    if cmd.from_cart {
        rows.cart_user.push(cmd.customer.to_string());
        rows.cart_shop.push(cmd.shop.to_string());
    }
    Ok(OrderPlaced::created(id, &cmd.order_no, price.payable_fen, deadline))
}
