//! SQLite's set-based order path: a run of consecutive `place_order` commands in one writer
//! batch, placed together.
//!
//! The generic path costs about eleven statements per order (savepoint, idempotency lookup, SKU
//! lookup, stock update, four inserts, release …). The writer ([`crate::writer`]) hands every
//! maximal run of consecutive place-order commands of a batch to [`place_run`], which:
//!
//! 1. resolves the run's idempotency keys, order numbers already taken, and which shops and
//!    customers exist in one query, and loads every SKU of the run (sale data and available
//!    stock) in another — the lists travel as one JSON parameter each (`json_each`), so the
//!    statement text, and its cached plan, is the same for every run;
//! 2. decides the commands in arrival order with [`super::order_batch::decide_all`], the code
//!    PostgreSQL's order writer uses, so both backends decide exactly as
//!    [`super::orders::place_order`] would;
//! 3. writes: one stock `UPDATE` per SKU for the run's total, and multi-row `INSERT`s for the
//!    orders, their lines, their `cancel_unpaid_order` jobs and idempotency keys, in chunks of a
//!    power of two rows (a handful of distinct statements, each prepared once, far below
//!    SQLite's 32766 bound parameters).
//!
//! If anything fails, the writer rolls the run back and places its commands one by one on the
//! generic path: correctness never depends on this path.

use sharemall_domain::{Error, Money, ProductId, SkuId, SupplierId};
use std::collections::HashMap;

use crate::model::OrderPlaced;
use crate::ops::order_batch::{
    Context, Found, Lookups, OrderCommand, Rows, SkuRow, attribution_keys, attribution_of, decide_all, wanted_skus,
};
use crate::ops::orders::{JOB_CANCEL_UNPAID, reserve_stock};
use crate::params;
use crate::sql::{Sql, Value};

const RESOLVE: &str = "SELECT 'k', k.customer_id, k.idem_key, k.request_hash, \
     k.id || '|' || k.order_no || '|' || CAST(k.payable_fen AS TEXT) || '|' || CAST(k.pay_deadline_at AS TEXT) \
     FROM json_each($1) AS j CROSS JOIN orders k ON k.customer_id = j.value ->> 0 AND k.idem_key = j.value ->> 1 \
     UNION ALL SELECT 'o', o.order_no, '', '', '' FROM json_each($2) AS j CROSS JOIN orders o ON o.order_no = j.value \
     UNION ALL SELECT 's', s.id, '', '', '' FROM json_each($3) AS j CROSS JOIN shops s ON s.id = j.value \
     UNION ALL SELECT 'u', u.id, '', '', '' FROM json_each($4) AS j CROSS JOIN users u ON u.id = j.value";

const LOAD_SKUS: &str = "SELECT s.id, s.product_id, p.supplier_id, p.title, s.attributes, s.retail_fen, \
     p.approval = 'approved' AND sup.approval = 'approved', s.stock_available, \
     (SELECT group_concat(sp.shop_id, ',') FROM json_each($2) AS js CROSS JOIN shop_products sp ON sp.shop_id = js.value AND sp.product_id = s.product_id) \
     FROM json_each($1) AS j CROSS JOIN skus s ON s.id = j.value JOIN products p ON p.id = s.product_id JOIN suppliers sup ON sup.id = p.supplier_id";

/// Each command's binding, last-touch share with its sharer (`code sharer`; ties on the
/// millisecond go to the later visit, as [`crate::ops::shares::attribution_for`]) and the earning
/// shop's owner, in command order.
const ATTRIBUTE: &str = "SELECT t.bound, t.touch, (SELECT owner_id FROM shops WHERE id = COALESCE(t.bound, t.shop)) FROM ( \
     SELECT j.key AS k, j.value ->> 1 AS shop, \
     (SELECT b.shop_id FROM customer_bindings b WHERE b.visitor = 'u:' || (j.value ->> 0)) AS bound, \
     (SELECT v.code || ' ' || s.sharer_id FROM share_visits v JOIN shares s ON s.code = v.code \
      WHERE v.visitor = 'u:' || (j.value ->> 0) AND v.visited_at >= (j.value ->> 2) AND s.shop_id = (j.value ->> 1) \
      ORDER BY v.visited_at DESC, v.id DESC LIMIT 1) AS touch \
     FROM json_each($1) AS j) AS t ORDER BY t.k";

const INSERT_ORDERS: &str = "INSERT INTO orders (id, order_no, shop_id, customer_id, status, base_fen, activity_discount_fen, \
     member_discount_fen, coupon_discount_fen, goods_fen, shipping_fen, payable_fen, recipient, phone, address, note, created_at, pay_deadline_at, \
     idem_key, request_hash, bound_shop_id, share_code, self_referral, activity) VALUES ";
const ORDER_TUPLE: &str = "(?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const ORDER_WIDTH: usize = 23;

const INSERT_ITEMS: &str = "INSERT INTO order_items (order_id, line_no, sku_id, product_id, supplier_id, title, attributes, unit_fen, quantity, goods_fen) VALUES ";
const ITEM_TUPLE: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const ITEM_WIDTH: usize = 10;

const INSERT_JOBS: &str = "INSERT INTO jobs (id, kind, subject, run_at, attempts, created_at) VALUES ";
const JOB_TUPLE: &str = "(?, ?, ?, ?, 0, ?)";
const JOB_WIDTH: usize = 5;

/// Most rows in one `INSERT`: 64 orders take 1472 parameters, far below SQLite's 32766.
const MAX_CHUNK: usize = 64;

/// Places a run of orders inside the caller's transaction (and savepoint, if any), deciding
/// each command as [`super::orders::place_order`] would in arrival order. `Ok` holds each
/// command's result; `Err` means the run must be rolled back (part of it may have been
/// written) and placed another way.
pub fn place_run(sql: &mut dyn Sql, run: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    // 1. Keys, order numbers, shops and customers; then the SKUs.
    let lookups = Lookups::of(run);
    let pairs: Vec<[&String; 2]> = lookups.key_users.iter().zip(&lookups.key_keys).map(|(u, k)| [u, k]).collect();
    let rows = sql.query(RESOLVE, params![json(&pairs)?, json(&lookups.order_nos)?, json(&lookups.shops)?, json(&lookups.users)?])?;
    let mut found = Found::default();
    for row in &rows {
        found.file(&row.text(0)?, row.text(1)?, row.text(2)?, row.text(3)?, &row.text(4)?)?;
    }
    let Found { mut saved, mut taken_order_nos, known_shops, known_users } = found;
    let (lines, wanted) = wanted_skus(run, &saved);
    let mut skus: HashMap<SkuId, SkuRow> = HashMap::with_capacity(wanted.len());
    if !wanted.is_empty() {
        for row in sql.query(LOAD_SKUS, params![json(&wanted)?, json(&lookups.shops)?])? {
            let shops = row.opt_text(8)?.map(|list| list.split(',').map(str::to_string).collect()).unwrap_or_default();
            skus.insert(
                row.id::<SkuId>(0)?,
                SkuRow {
                    product: row.id::<ProductId>(1)?,
                    supplier: row.id::<SupplierId>(2)?,
                    title: row.text(3)?,
                    attributes: row.text(4)?,
                    unit_price: Money::from_fen(row.i64(5)?),
                    approved: row.bool(6)?,
                    available: row.i64(7)?,
                    shops,
                },
            );
        }
    }

    // 2. Decide every command in arrival order.
    let context = Context {
        skus: &mut skus,
        known_shops: &known_shops,
        known_users: &known_users,
        taken_order_nos: &mut taken_order_nos,
        backend: sql.backend(),
    };
    let (customers, order_shops, cutoffs) = attribution_keys(run);
    let keys: Vec<(&String, &String, i64)> = customers.iter().zip(&order_shops).zip(cutoffs).map(|((c, s), t)| (c, s, t)).collect();
    let mut attributions = Vec::with_capacity(run.len());
    for (request, row) in run.iter().zip(sql.query(ATTRIBUTE, params![json(&keys)?])?) {
        let (code, sharer) = match row.opt_text(1)? {
            Some(touch) => touch.split_once(' ').map(|(c, s)| (Some(c.to_string()), Some(s.to_string()))).unwrap_or_default(),
            None => (None, None),
        };
        attributions.push(attribution_of(request, row.opt_text(0)?, code, sharer, row.opt_text(2)?)?);
    }
    let mut rows = Rows::default();
    let results = decide_all(run, lines, attributions, &mut saved, context, &mut rows)?;

    // 3. The set-based write.
    write(sql, rows)?;
    Ok(results)
}

pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))
}

fn write(sql: &mut dyn Sql, rows: Rows) -> Result<(), Error> {
    for (sku, quantity) in &rows.reserve {
        reserve_stock(sql, *sku, *quantity)?;
    }
    let orders = rows.order_id.len();
    let mut values = Vec::with_capacity(orders * ORDER_WIDTH);
    for i in 0..orders {
        values.extend([
            text(&rows.order_id, i)?,
            text(&rows.order_no, i)?,
            text(&rows.shop, i)?,
            text(&rows.customer, i)?,
            int(&rows.base, i)?,
            int(&rows.activity, i)?,
            int(&rows.member, i)?,
            int(&rows.coupon, i)?,
            int(&rows.goods, i)?,
            int(&rows.shipping, i)?,
            int(&rows.payable, i)?,
            text(&rows.recipient, i)?,
            text(&rows.phone, i)?,
            text(&rows.address, i)?,
            text(&rows.note, i)?,
            int(&rows.created_at, i)?,
            int(&rows.deadline, i)?,
            opt_text(&rows.idem_key, i)?,
            opt_text(&rows.request_hash, i)?,
            opt_text(&rows.bound_shop, i)?,
            opt_text(&rows.share_code, i)?,
            rows.self_referral.get(i).map(|v| Value::Bool(*v)).ok_or_else(short_column)?,
            opt_text(&rows.activity_kind, i)?,
        ]);
    }
    insert_rows(sql, INSERT_ORDERS, ORDER_TUPLE, ORDER_WIDTH, &values)?;

    values.clear();
    for i in 0..rows.item_order.len() {
        values.extend([
            text(&rows.item_order, i)?,
            int(&rows.item_line, i)?,
            text(&rows.item_sku, i)?,
            text(&rows.item_product, i)?,
            text(&rows.item_supplier, i)?,
            text(&rows.item_title, i)?,
            text(&rows.item_attributes, i)?,
            int(&rows.item_unit, i)?,
            int(&rows.item_quantity, i)?,
            int(&rows.item_goods, i)?,
        ]);
    }
    insert_rows(sql, INSERT_ITEMS, ITEM_TUPLE, ITEM_WIDTH, &values)?;

    values.clear();
    for i in 0..orders {
        values.extend([
            text(&rows.job_id, i)?,
            Value::from(JOB_CANCEL_UNPAID),
            text(&rows.order_id, i)?,
            int(&rows.deadline, i)?,
            int(&rows.created_at, i)?,
        ]);
    }
    insert_rows(sql, INSERT_JOBS, JOB_TUPLE, JOB_WIDTH, &values)?;

    for (user, shop) in rows.cart_user.iter().zip(&rows.cart_shop) {
        sql.execute("DELETE FROM cart_items WHERE user_id = $1 AND shop_id = $2", params![user.as_str(), shop.as_str()])?;
    }
    Ok(())
}

fn short_column() -> Error {
    Error::internal("order batch: a column is short")
}

fn text(column: &[String], i: usize) -> Result<Value, Error> {
    column.get(i).map(|v| Value::Text(v.clone())).ok_or_else(short_column)
}

fn opt_text(column: &[Option<String>], i: usize) -> Result<Value, Error> {
    column.get(i).map(|v| Value::from(v.clone())).ok_or_else(short_column)
}

fn int(column: &[i64], i: usize) -> Result<Value, Error> {
    column.get(i).map(|v| Value::Int(*v)).ok_or_else(short_column)
}

/// Inserts `values` (rows of `width`, flattened) with as few distinct statements as possible:
/// chunks of a power of two rows, at most [`MAX_CHUNK`].
pub(crate) fn insert_rows(sql: &mut dyn Sql, head: &str, tuple: &str, width: usize, values: &[Value]) -> Result<(), Error> {
    let mut rest = values;
    while !rest.is_empty() {
        let rows = rest.len() / width;
        if rows == 0 {
            return Err(Error::internal("multi-row insert: a partial row"));
        }
        let chunk = 1usize << rows.min(MAX_CHUNK).ilog2();
        let (now, later) = rest.split_at(chunk * width);
        let mut text = String::with_capacity(head.len() + chunk * (tuple.len() + 2));
        text.push_str(head);
        for i in 0..chunk {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(tuple);
        }
        let changed = sql.execute_positional(&text, now)?;
        if changed != chunk as u64 {
            return Err(Error::internal(format!("multi-row insert: inserted {changed} of {chunk} rows")));
        }
        rest = later;
    }
    Ok(())
}
