//! PostgreSQL's set-based hot-order path, on statements that bind typed arrays.
//!
//! On PostgreSQL every statement is a round trip (~0.1 ms here), so the generic writer's
//! statement-per-step, savepoint-per-command path tops out near 1.5k orders/s on a hot SKU. This
//! writer runs several shards, each a thread owning a connection. `place_order` commands are
//! routed by their first (sorted) SKU, so one SKU's orders meet in one shard and are batched. A
//! shard drains up to `batch_max` commands and writes them in ONE transaction with a fixed
//! number of round trips, whatever the batch size:
//!
//! 1. one query resolves the batch's idempotency keys, order numbers already taken, and which
//!    shops and customers exist;
//! 2. one query loads every SKU of the batch — what [`super::orders::sku_for_sale`] reads, plus
//!    the available stock — locking the rows `FOR UPDATE` in id order;
//! 3. in Rust, [`super::order_batch::decide_all`] (shared with SQLite) decides commands in
//!    arrival order exactly as [`super::orders::place_order`]
//!    would decide them one after the other (same checks in the same order, same pricing, same
//!    error codes), so one bad command never fails the batch;
//! 4. one `UPDATE skus … FROM UNNEST(…)` reserves the batch's total per SKU, and
//!    `INSERT … SELECT FROM UNNEST(…)` writes the orders, their lines, their
//!    `cancel_unpaid_order` jobs and the idempotency keys; cart lines of `from_cart` orders go
//!    in one `DELETE … USING UNNEST(…)`;
//! 5. `COMMIT`, and only then is every caller answered.
//!
//! Rows written are the rows `place_order` writes, so `check_all` holds either way. A batch that
//! fails with a transient error (a lock wait longer than the batch's `lock_timeout`, a deadlock, a
//! serialization failure, or a unique violation from a concurrent shard taking the same
//! idempotency key or order number first) is rolled back and decided again from scratch;
//! nothing was acknowledged, so nothing is lost or doubled.

use postgres::types::ToSql;
use sharemall_domain::order::OrderStatus;
use sharemall_domain::{Error, ErrorCode, Money, ProductId, SkuId, SupplierId, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::model::OrderPlaced;
use crate::ops::idempotency::IdempotencyKey;
pub use crate::ops::order_batch::OrderCommand;
use crate::ops::order_batch::{Context, Found, Lookups, Rows, SkuRow, attribution_keys, attribution_of, decide_all, wanted_skus};
use crate::ops::orders::{JOB_CANCEL_UNPAID, PlaceOrder};
use crate::postgres::{PgConn, db_error};
use crate::sql::Backend;
use crate::writer::WriterStats;

/// Writer shards started by [`crate::Store::open`] on PostgreSQL.
pub const DEFAULT_SHARDS: usize = 4;

/// Commands that may wait for one shard before callers are told the store is overloaded.
const QUEUE_CAPACITY: usize = 8_192;

/// Attempts at a batch that fails with a transient error before its callers get the error.
const MAX_ATTEMPTS: u64 = 40;

/// How long a batch waits for any one lock before it rolls back and tries again. A shard takes
/// its SKU rows in one sorted statement, so shards never deadlock with each other; but the
/// generic writer's batches lock SKUs (cancel, pay, refund) in whatever order their commands
/// come. Giving up well before `deadlock_timeout` (1 s by default) makes the shard, which can
/// retry its whole batch, the side that backs off, never the generic writer's batch.
///
/// Custom plans: the batch statements take arrays whose length the planner only knows from the
/// actual parameters. After five executions PostgreSQL may settle on a generic plan chosen while
/// the tables were empty (a scan that is cheapest on no rows); measured on the benchmark, that
/// plan cut the hot-SKU rate from 6.5k to 2.5k orders/s as the tables grew. Planning each batch
/// costs well under a millisecond, shared by the whole batch.
const BEGIN: &str = "BEGIN; SET LOCAL lock_timeout = '200ms'; SET LOCAL plan_cache_mode = force_custom_plan";

/// A command waiting for its shard.
struct Request {
    command: OrderCommand,
    reply: oneshot::Sender<Result<OrderPlaced, Error>>,
}

/// A handle to the order shards: cheap to clone.
#[derive(Clone)]
pub struct PgOrderWriter {
    shards: Arc<[mpsc::Sender<Request>]>,
}

/// The shard an order goes to: the one that owns its first SKU in sorted order (the same SKU
/// that [`normalise_lines`] puts first). Same request, same shard: an idempotent retry always
/// meets its first attempt's saved response in order.
pub fn shard_of(lines: &[(SkuId, i64)], shards: usize) -> usize {
    let shards = shards.max(1) as u64;
    lines.iter().map(|(sku, _)| *sku).min().map_or(0, |sku| {
        // UUID v7: the low 64 bits are random, so they spread SKUs evenly.
        (sku.0.as_u64_pair().1 % shards) as usize
    })
}

impl PgOrderWriter {
    /// Connects `shards` connections to `url` and starts one writer thread on each.
    pub fn start(url: &str, shards: usize, batch_max: usize, stats: Arc<WriterStats>) -> Result<PgOrderWriter, Error> {
        let mut senders = Vec::with_capacity(shards.max(1));
        for index in 0..shards.max(1) {
            let conn = PgConn::connect(url)?;
            let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
            let shard = Shard { conn, url: url.to_string(), batch_max: batch_max.max(1), stats: Arc::clone(&stats) };
            std::thread::Builder::new()
                .name(format!("store-orders-{index}"))
                .spawn(move || shard.run(receiver))
                .map_err(|e| Error::internal(format!("cannot start order writer thread: {e}")))?;
            senders.push(sender);
        }
        Ok(PgOrderWriter { shards: senders.into() })
    }

    /// Places an order in its shard's next batch; returns after that batch commits.
    pub async fn place_order(&self, now: Timestamp, cmd: PlaceOrder, key: Option<IdempotencyKey>) -> Result<OrderPlaced, Error> {
        let shard = self.shards.get(shard_of(&cmd.lines, self.shards.len())).ok_or_else(|| Error::internal("no order writer shard"))?;
        let (reply, answer) = oneshot::channel();
        shard.try_send(Request { command: OrderCommand { now, cmd, key }, reply }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::new(ErrorCode::Overloaded, "the store is busy; try again"),
            mpsc::error::TrySendError::Closed(_) => Error::internal("order writer stopped"),
        })?;
        answer.await.map_err(|_| Error::internal("order writer dropped the command"))?
    }
}

struct Shard {
    conn: PgConn,
    url: String,
    batch_max: usize,
    stats: Arc<WriterStats>,
}

/// Why a batch failed, and whether running it again may succeed.
struct Failure {
    error: Error,
    retryable: bool,
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        // Only errors that PostgreSQL reports for a statement it rolled back are retried; a lost
        // connection (no SQLSTATE) during COMMIT leaves the outcome unknown, so it is not.
        let retryable = e.code().is_some_and(|c| matches!(c.code(), "40001" | "40P01" | "55P03" | "23505"));
        Failure { error: db_error(e), retryable }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure { error, retryable: false }
    }
}

impl Shard {
    fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.batch_max);
        while let Some(first) = receiver.blocking_recv() {
            batch.push(first);
            while batch.len() < self.batch_max {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.process(&mut batch);
        }
    }

    /// Writes one batch and answers every caller.
    fn process(&mut self, batch: &mut Vec<Request>) {
        if self.conn.client.is_closed() {
            match PgConn::connect(&self.url) {
                Ok(conn) => self.conn = conn,
                Err(e) => tracing::error!(error = %e, "order writer cannot reconnect"),
            }
        }
        let (commands, replies): (Vec<OrderCommand>, Vec<_>) = batch.drain(..).map(|r| (r.command, r.reply)).unzip();
        match place_batch(&mut self.conn, &commands) {
            Ok(results) => {
                self.stats.commits.fetch_add(1, Ordering::Relaxed);
                self.stats.commands.fetch_add(commands.len() as u64, Ordering::Relaxed);
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::error!(error = %error, "order batch failed; every command in it is refused");
                self.stats.failed_commits.fetch_add(1, Ordering::Relaxed);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

const RESOLVE: &str = "SELECT 'k', customer_id, idem_key, request_hash, \
     id || '|' || order_no || '|' || CAST(payable_fen AS TEXT) || '|' || CAST(pay_deadline_at AS TEXT) FROM orders \
     WHERE (customer_id, idem_key) IN (SELECT * FROM UNNEST($1::text[], $2::text[])) \
     UNION ALL SELECT 'o', order_no, '', '', '' FROM orders WHERE order_no = ANY($3::text[]) \
     UNION ALL SELECT 's', id, '', '', '' FROM shops WHERE id = ANY($4::text[]) \
     UNION ALL SELECT 'u', id, '', '', '' FROM users WHERE id = ANY($5::text[])";

const LOAD_SKUS: &str = "SELECT s.id, s.product_id, p.supplier_id, p.title, s.attributes, s.retail_fen, \
     p.approval = 'approved' AND sup.approval = 'approved', s.stock_available, \
     ARRAY(SELECT sp.shop_id FROM shop_products sp WHERE sp.product_id = s.product_id AND sp.shop_id = ANY($2::text[])) \
     FROM skus s JOIN products p ON p.id = s.product_id JOIN suppliers sup ON sup.id = p.supplier_id \
     WHERE s.id = ANY($1::text[]) ORDER BY s.id COLLATE \"C\" FOR UPDATE OF s";

const RESERVE: &str = "UPDATE skus SET stock_available = skus.stock_available - d.qty, stock_reserved = skus.stock_reserved + d.qty \
     FROM (SELECT UNNEST($1::text[]) AS id, UNNEST($2::int8[]) AS qty) d WHERE skus.id = d.id AND skus.stock_available >= d.qty";

/// Each command's binding, last-touch share and sharer (ties on the millisecond go to the later
/// visit, as [`crate::ops::shares::attribution_for`]) and the earning shop's owner, in command order.
const ATTRIBUTE: &str = "SELECT b.shop_id, lt.code, lt.sharer_id, (SELECT owner_id FROM shops WHERE id = COALESCE(b.shop_id, t.shop)) \
     FROM UNNEST($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS t(customer, shop, cutoff, ord) \
     LEFT JOIN customer_bindings b ON b.visitor = 'u:' || t.customer \
     LEFT JOIN LATERAL (SELECT v.code, s.sharer_id FROM share_visits v JOIN shares s ON s.code = v.code \
       WHERE v.visitor = 'u:' || t.customer AND v.visited_at >= t.cutoff AND s.shop_id = t.shop \
       ORDER BY v.visited_at DESC, v.id DESC LIMIT 1) lt ON true \
     ORDER BY t.ord";

const INSERT_ORDERS: &str = "INSERT INTO orders (id, order_no, shop_id, customer_id, status, base_fen, activity_discount_fen, \
     member_discount_fen, coupon_discount_fen, goods_fen, shipping_fen, payable_fen, recipient, phone, address, note, created_at, pay_deadline_at, \
     idem_key, request_hash, bound_shop_id, share_code, self_referral, activity) \
     SELECT id, order_no, shop_id, customer_id, $18::text, base, activity, member, coupon, goods, shipping, payable, recipient, phone, address, note, created_at, deadline, \
     idem_key, request_hash, bound_shop_id, share_code, self_referral, activity_kind \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], \
     $11::int8[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int8[], $17::int8[], $19::text[], $20::text[], $21::text[], $22::text[], $23::bool[], $24::text[]) \
     AS t(id, order_no, shop_id, customer_id, base, activity, member, coupon, goods, shipping, payable, recipient, phone, address, note, created_at, deadline, \
     idem_key, request_hash, bound_shop_id, share_code, self_referral, activity_kind)";

const INSERT_ITEMS: &str = "INSERT INTO order_items (order_id, line_no, sku_id, product_id, supplier_id, title, attributes, unit_fen, quantity, goods_fen) \
     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[])";

const INSERT_JOBS: &str = "INSERT INTO jobs (id, kind, subject, run_at, attempts, created_at) \
     SELECT id, $1::text, subject, run_at, 0, created_at FROM UNNEST($2::text[], $3::text[], $4::int8[], $5::int8[]) AS t(id, subject, run_at, created_at)";

const CLEAR_CARTS: &str = "DELETE FROM cart_items c USING UNNEST($1::text[], $2::text[]) AS d(user_id, shop_id) WHERE c.user_id = d.user_id AND c.shop_id = d.shop_id";

/// Places a batch of orders in one transaction, deciding each command as
/// [`super::orders::place_order`] would in arrival order.
/// Transient failures are rolled back and the batch decided again. `Ok` holds each command's
/// result once the transaction has committed; `Err` means nothing was written.
pub fn place_batch(conn: &mut PgConn, commands: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_batch(conn, commands) {
            Ok(results) => return Ok(results),
            Err(failure) => {
                let _ = conn.client.batch_execute("ROLLBACK");
                if !failure.retryable || attempt >= MAX_ATTEMPTS {
                    return Err(failure.error);
                }
                tracing::warn!(error = %failure.error, attempt, "order batch hit a transient error; deciding it again");
                std::thread::sleep(std::time::Duration::from_millis((2 * attempt).min(50)));
            }
        }
    }
}

fn uuid(text: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(text).map_err(|e| Error::internal(format!("bad uuid {text}: {e}")))
}

/// Runs the batch in one transaction; returns each command's result, in order, once committed.
fn write_batch(conn: &mut PgConn, batch: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Failure> {
    conn.client.batch_execute(BEGIN)?;
    let results = decide_and_write(conn, batch)?;
    // 5. Durable, then answered.
    conn.client.batch_execute("COMMIT")?;
    Ok(results)
}

/// Steps 1–4 inside the caller's transaction, for a run of group joins on the generic writer
/// ([`super::joins_batch`]): its orders are written in the transaction that takes their seats.
/// `Err` means the caller must roll the run back.
pub(crate) fn place_in_transaction(conn: &mut PgConn, batch: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    decide_and_write(conn, batch).map_err(|failure| failure.error)
}

fn decide_and_write(conn: &mut PgConn, batch: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Failure> {
    // 1. Keys, order numbers, shops and customers.
    let Lookups { key_users, key_keys, order_nos, shops, users } = Lookups::of(batch);
    let stmt = conn.statement(RESOLVE)?;
    let rows = conn.client.query(&stmt, &[&key_users, &key_keys, &order_nos, &shops, &users])?;
    let mut found = Found::default();
    for row in &rows {
        let kind: String = row.try_get(0)?;
        let response: String = row.try_get(4)?;
        found.file(&kind, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, &response)?;
    }
    let Found { mut saved, mut taken_order_nos, known_shops, known_users } = found;

    let (lines, wanted) = wanted_skus(batch, &saved);
    let mut skus: HashMap<SkuId, SkuRow> = HashMap::with_capacity(wanted.len());
    if !wanted.is_empty() {
        let stmt = conn.statement(LOAD_SKUS)?;
        for row in conn.client.query(&stmt, &[&wanted, &shops])? {
            let id: String = row.try_get(0)?;
            let product: String = row.try_get(1)?;
            let supplier: String = row.try_get(2)?;
            let shops: Vec<String> = row.try_get(8)?;
            skus.insert(
                SkuId::from(uuid(&id)?),
                SkuRow {
                    product: ProductId::from(uuid(&product)?),
                    supplier: SupplierId::from(uuid(&supplier)?),
                    title: row.try_get(3)?,
                    attributes: row.try_get(4)?,
                    unit_price: Money::from_fen(row.try_get(5)?),
                    approved: row.try_get(6)?,
                    available: row.try_get(7)?,
                    shops: shops.into_iter().collect(),
                },
            );
        }
    }

    // 3. Decide every command in arrival order.
    let context = Context {
        skus: &mut skus,
        known_shops: &known_shops,
        known_users: &known_users,
        taken_order_nos: &mut taken_order_nos,
        backend: Backend::Postgres,
    };
    let (customers, order_shops, cutoffs) = attribution_keys(batch);
    let stmt = conn.statement(ATTRIBUTE)?;
    let mut attributions = Vec::with_capacity(batch.len());
    for (request, row) in batch.iter().zip(conn.client.query(&stmt, &[&customers, &order_shops, &cutoffs])?) {
        attributions.push(attribution_of(request, row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?)?);
    }
    let mut rows = Rows::default();
    let results = decide_all(batch, lines, attributions, &mut saved, context, &mut rows)?;

    // 4. The set-based write.
    if !rows.reserve.is_empty() {
        let (ids, quantities): (Vec<String>, Vec<i64>) = rows.reserve.iter().map(|(sku, q)| (sku.to_string(), *q)).unzip();
        let stmt = conn.statement(RESERVE)?;
        let changed = conn.client.execute(&stmt, &[&ids, &quantities])?;
        if changed != ids.len() as u64 {
            return Err(Error::internal(format!("reserved stock on {changed} of {} locked SKUs", ids.len())).into());
        }
    }
    if !rows.order_id.is_empty() {
        let status = OrderStatus::Created.as_str();
        let stmt = conn.statement(INSERT_ORDERS)?;
        let params: [&(dyn ToSql + Sync); 24] = [
            &rows.order_id,
            &rows.order_no,
            &rows.shop,
            &rows.customer,
            &rows.base,
            &rows.activity,
            &rows.member,
            &rows.coupon,
            &rows.goods,
            &rows.shipping,
            &rows.payable,
            &rows.recipient,
            &rows.phone,
            &rows.address,
            &rows.note,
            &rows.created_at,
            &rows.deadline,
            &status,
            &rows.idem_key,
            &rows.request_hash,
            &rows.bound_shop,
            &rows.share_code,
            &rows.self_referral,
            &rows.activity_kind,
        ];
        conn.client.execute(&stmt, &params)?;
        let stmt = conn.statement(INSERT_ITEMS)?;
        let params: [&(dyn ToSql + Sync); 10] = [
            &rows.item_order,
            &rows.item_line,
            &rows.item_sku,
            &rows.item_product,
            &rows.item_supplier,
            &rows.item_title,
            &rows.item_attributes,
            &rows.item_unit,
            &rows.item_quantity,
            &rows.item_goods,
        ];
        conn.client.execute(&stmt, &params)?;
        let stmt = conn.statement(INSERT_JOBS)?;
        conn.client.execute(&stmt, &[&JOB_CANCEL_UNPAID, &rows.job_id, &rows.order_id, &rows.deadline, &rows.created_at])?;
    }
    if !rows.cart_user.is_empty() {
        let stmt = conn.statement(CLEAR_CARTS)?;
        conn.client.execute(&stmt, &[&rows.cart_user, &rows.cart_shop])?;
    }
    Ok(results)
}
