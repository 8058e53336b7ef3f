//! The set-based order paths decide and write exactly what the generic path does. The
//! PostgreSQL tests run only when `SHAREMALL_TEST_POSTGRES_URL` is set; SQLite's always run.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sharemall_domain::catalog::Approval;
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::{Error, ErrorCode, SkuId, Timestamp, UserId};
use sharemall_store::model::OrderPlaced;
use sharemall_store::ops::cart;
use sharemall_store::ops::catalog;
use sharemall_store::ops::idempotency::IdempotencyKey;
use sharemall_store::ops::orders::{self, PlaceOrder};
use sharemall_store::ops::orders_pg::{self, OrderCommand};
use sharemall_store::ops::orders_sqlite;
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, VisitCommand};
use sharemall_store::postgres::PgConn;
use sharemall_store::sql::Value;
use sharemall_store::{Store, params};
use std::collections::HashMap;

use crate::harness::*;

/// One catalogue, built identically twice: SKUs 0–2 on sale (stock 40, 25, 8), SKU 3 not picked
/// by the shop, SKU 4 picked but then withdrawn from approval; four customers, two with carts;
/// a share of the shop by customer 0, through which customers 0 and 1 arrived (so their orders
/// are attributed, customer 0's as self-referred).
struct World {
    prefix: &'static str,
    fx: Fixture,
    labels: HashMap<String, String>,
}

impl World {
    async fn build(h: &Harness, prefix: &'static str) -> World {
        let (_, supplier) = h.supplier().await;
        let mut products = Vec::new();
        let mut skus = Vec::new();
        for (price, stock) in [(1_000, 40), (2_500, 25), (999, 8), (1_000, 10), (1_000, 10)] {
            let (product, sku) = h.product(supplier, price, stock).await;
            products.push(product);
            skus.push(sku);
        }
        let shop = h.shop(&[products[0], products[1], products[2], products[4]]).await;
        let mut customers = Vec::new();
        for _ in 0..4 {
            customers.push(h.user(sharemall_domain::account::Role::Customer).await);
        }
        let (c0, c1, s0, s1) = (customers[0], customers[1], skus[0], skus[1]);
        let withdrawn = products[4];
        let share = ShareCode::from_random(rand::random());
        let new_share = NewShare {
            code: share.clone(),
            target: ShareTarget::Shop,
            shop,
            sharer: c0,
            parent: None,
            channel: Channel::Chat,
            expires_at: None,
        };
        h.store
            .write(move |sql| {
                cart::set_cart_line(sql, T0, c0, shop, s0, 2)?;
                cart::set_cart_line(sql, T0, c1, shop, s1, 1)?;
                shares::create_share(sql, T0, &new_share)?;
                catalog::set_product_approval(sql, T0, withdrawn, Approval::Pending)
            })
            .await
            .expect("world");
        for customer in [c0, c1] {
            let visit = VisitCommand {
                now: T0,
                code: share.clone(),
                visitor: format!("u:{customer}"),
                device: "phone".into(),
                policy: BindingPolicy::DEFAULT,
            };
            h.store.record_visit(visit).await.expect("visit");
        }
        let mut labels = HashMap::new();
        labels.insert(supplier.to_string(), "supplier".to_string());
        labels.insert(shop.to_string(), "shop".to_string());
        labels.insert(share.as_str().to_string(), "share".to_string());
        for (i, id) in products.iter().enumerate() {
            labels.insert(id.to_string(), format!("product{i}"));
        }
        for (i, id) in skus.iter().enumerate() {
            labels.insert(id.to_string(), format!("sku{i}"));
        }
        for (i, id) in customers.iter().enumerate() {
            labels.insert(id.to_string(), format!("customer{i}"));
        }
        World { prefix, fx: Fixture { supplier, products, skus, shop, customers }, labels }
    }

    fn command(&self, step: &Step) -> OrderCommand {
        let customer = step.customer.map_or_else(UserId::new, |c| self.fx.customers[c]);
        let lines = step.lines.iter().map(|(sku, q)| (sku.map_or_else(SkuId::new, |s| self.fx.skus[s]), *q)).collect();
        let mut cmd: PlaceOrder = self.fx.order(customer, lines, format!("{}{}", self.prefix, step.order_no));
        if !step.shop_known {
            cmd.shop = sharemall_domain::ShopId::new();
        }
        cmd.from_cart = step.from_cart;
        cmd.note = step.note.clone();
        let key = step.key.as_ref().map(|(key, hash)| IdempotencyKey { user: customer, key: key.clone(), request_hash: hash.clone() });
        OrderCommand { now: step.now, cmd, key }
    }

    fn label(&self, text: &str) -> String {
        if let Some(label) = self.labels.get(text) {
            return label.clone();
        }
        text.strip_prefix(self.prefix).map_or_else(|| text.to_string(), str::to_string)
    }

    /// Every row the order path writes, with ids replaced by labels, sorted.
    async fn snapshot(&self, store: &Store) -> Vec<Vec<String>> {
        let shop = self.fx.shop;
        let customers = self.fx.customers.clone();
        let skus = self.fx.skus.clone();
        let rows = store
            .read(move |sql| {
                let mut out: Vec<(String, Vec<Value>)> = Vec::new();
                let mut add = |table: &str, rows: Vec<sharemall_store::sql::Row>| out.extend(rows.into_iter().map(|r| (table.to_string(), r.0)));
                add(
                    "orders",
                    sql.query(
                        "SELECT order_no, shop_id, customer_id, status, base_fen, activity_discount_fen, member_discount_fen, coupon_discount_fen, \
                         goods_fen, shipping_fen, payable_fen, paid_fen, refunded_fen, recipient, phone, address, note, created_at, pay_deadline_at, \
                         paid_at, shipped_at, received_at, completes_at, closed_at, idem_key, request_hash, bound_shop_id, share_code, self_referral \
                         FROM orders WHERE shop_id = $1",
                        params![shop],
                    )?,
                );
                add(
                    "items",
                    sql.query(
                        "SELECT o.order_no, i.line_no, i.sku_id, i.product_id, i.supplier_id, i.title, i.attributes, i.unit_fen, i.quantity, i.goods_fen \
                         FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.shop_id = $1",
                        params![shop],
                    )?,
                );
                add(
                    "jobs",
                    sql.query(
                        "SELECT j.kind, o.order_no, j.run_at, j.lease_until, j.attempts, j.last_error, j.created_at FROM jobs j JOIN orders o ON o.id = j.subject \
                         WHERE o.shop_id = $1",
                        params![shop],
                    )?,
                );
                for sku in &skus {
                    add(
                        "skus",
                        sql.query("SELECT id, stock_total, stock_available, stock_reserved, stock_sold FROM skus WHERE id = $1", params![*sku])?,
                    );
                }
                for customer in &customers {
                    add("carts", sql.query("SELECT user_id, shop_id, sku_id, quantity FROM cart_items WHERE user_id = $1", params![*customer])?);
                }
                Ok(out)
            })
            .await
            .expect("snapshot");
        let mut labelled: Vec<Vec<String>> = rows
            .into_iter()
            .map(|(table, values)| {
                let mut row = vec![table];
                row.extend(values.iter().map(|v| match v {
                    Value::Null => "NULL".to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Text(t) => self.label(t),
                }));
                row
            })
            .collect();
        labelled.sort();
        labelled
    }

    /// A result with ids replaced by what they name.
    fn outcome(&self, result: &Result<OrderPlaced, Error>) -> Result<String, ErrorCode> {
        match result {
            Ok(p) => Ok(format!("{}/{}/{}/{}", self.label(&p.order_no), p.status, p.payable_fen, p.pay_deadline_at)),
            Err(e) => Err(e.code),
        }
    }
}

/// One command of the script, in terms of a world's indices.
#[derive(Debug, Clone)]
struct Step {
    /// `None`: a customer that does not exist.
    customer: Option<usize>,
    shop_known: bool,
    /// (`None`: a SKU that does not exist, quantity).
    lines: Vec<(Option<usize>, i64)>,
    order_no: String,
    key: Option<(String, String)>,
    from_cart: bool,
    note: String,
    now: Timestamp,
}

fn script(seed: u64, len: usize) -> Vec<Step> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut steps: Vec<Step> = Vec::with_capacity(len);
    for i in 0..len {
        let now = T0.plus_ms(i as i64 * 1_000);
        let roll = rng.random_range(0..100);
        if roll < 12 && !steps.is_empty() {
            // An exact replay of an earlier command (with or without a key).
            let earlier = steps[rng.random_range(0..steps.len())].clone();
            steps.push(Step { now, ..earlier });
            continue;
        }
        if roll < 18 {
            // An earlier key with another request.
            if let Some(earlier) = steps.iter().rev().find(|s| s.key.is_some()).cloned() {
                let (key, _) = earlier.key.clone().unwrap_or_default();
                steps.push(Step {
                    key: Some((key, format!("other-{i}"))),
                    order_no: format!("N{i:04}"),
                    note: format!("other {i}"),
                    now,
                    ..earlier
                });
                continue;
            }
        }
        let customer = if rng.random_range(0..100) < 3 { None } else { Some(rng.random_range(0..4)) };
        let lines = (0..rng.random_range(1..=3))
            .map(|_| {
                let sku = match rng.random_range(0..100) {
                    0..5 => Some(3),
                    5..10 => Some(4),
                    10..13 => None,
                    _ => Some(rng.random_range(0..3)),
                };
                let quantity = match rng.random_range(0..100) {
                    0..2 => 0,
                    2..4 => 1_000,
                    _ => rng.random_range(1..=3),
                };
                (sku, quantity)
            })
            .collect();
        let order_no = if rng.random_range(0..100) < 4 && !steps.is_empty() {
            steps[rng.random_range(0..steps.len())].order_no.clone()
        } else {
            format!("N{i:04}")
        };
        let key = (rng.random_range(0..100) < 50).then(|| (format!("key-{}", rng.random_range(0..30)), format!("hash-{i}")));
        steps.push(Step {
            customer,
            shop_known: rng.random_range(0..100) >= 3,
            lines,
            order_no,
            key,
            from_cart: rng.random_range(0..100) < 10,
            note: format!("step {i}"),
            now,
        });
    }
    steps
}

/// Runs the script through the generic path, one command at a time.
async fn generic_outcomes(h: &Harness, world: &World, steps: &[Step]) -> Vec<Result<String, ErrorCode>> {
    let mut outcomes = Vec::with_capacity(steps.len());
    for step in steps {
        let c = world.command(step);
        let result = h.store.write(move |sql| orders::place_order(sql, c.now, &c.cmd, c.key.as_ref())).await;
        outcomes.push(world.outcome(&result));
    }
    outcomes
}

/// Both paths gave every command the same answer and left the same rows.
async fn assert_same(
    h: &Harness,
    seed: u64,
    steps: &[Step],
    (generic, expected): (&World, &[Result<String, ErrorCode>]),
    (batched, actual): (&World, &[Result<String, ErrorCode>]),
) {
    let accepted = expected.iter().filter(|r| r.is_ok()).count();
    assert!(accepted > 10 && accepted < steps.len() - 10, "seed {seed}: the script should mix successes and refusals ({accepted})");
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        assert_eq!(e, a, "seed {seed} step {i}: {:?}", steps[i]);
    }
    let rows = batched.snapshot(&h.store).await;
    assert_eq!(generic.snapshot(&h.store).await, rows, "seed {seed}");
    let attributed =
        |customer: &str| rows.iter().filter(|r| r[0] == "orders" && r[3] == customer && r.iter().any(|v| v == "share")).count();
    assert!(attributed("customer0") > 0 && attributed("customer1") > 0, "seed {seed}: customers 0 and 1 came through the share");
    assert_eq!(attributed("customer2") + attributed("customer3"), 0, "seed {seed}: customers 2 and 3 did not");
    h.assert_consistent(&format!("{:?} equivalence seed {seed}", h.kind)).await;
}

/// The same script, run once through the generic path command by command and once as a single
/// set-based batch, leaves the same rows and gives every command the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_decides_and_writes_like_the_generic_path() {
    if postgres_url().is_none() {
        return;
    }
    for seed in 0..4 {
        let h = Harness::open(Kind::Postgres).await;
        let generic = World::build(&h, "A-").await;
        let batched = World::build(&h, "B-").await;
        let steps = script(seed, 160);

        let expected = generic_outcomes(&h, &generic, &steps).await;

        let commands: Vec<OrderCommand> = steps.iter().map(|s| batched.command(s)).collect();
        let url = h.url.clone();
        let results = blocking(move || {
            let mut conn = PgConn::connect(&url)?;
            orders_pg::place_batch(&mut conn, &commands)
        })
        .await
        .expect("the batch commits");
        let actual: Vec<_> = results.iter().map(|r| batched.outcome(r)).collect();

        let mut codes: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for r in &expected {
            *codes.entry(r.as_ref().map_or_else(|c| c.as_str().to_string(), |_| "ok".to_string())).or_default() += 1;
        }
        eprintln!("seed {seed}: {codes:?}");
        assert_same(&h, seed, &steps, (&generic, &expected), (&batched, &actual)).await;
    }
}

/// SQLite: the same script, run once through the generic path command by command and once as
/// one run of [`orders_sqlite::place_run`] (what the writer does with consecutive place-order
/// commands), leaves the same rows and gives every command the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_run_decides_and_writes_like_the_generic_path() {
    for seed in 0..8 {
        let h = Harness::open(Kind::Sqlite).await;
        let generic = World::build(&h, "A-").await;
        let batched = World::build(&h, "B-").await;
        let steps = script(seed, 160);

        let expected = generic_outcomes(&h, &generic, &steps).await;

        let commands: Vec<OrderCommand> = steps.iter().map(|s| batched.command(s)).collect();
        let results = h.store.write(move |sql| orders_sqlite::place_run(sql, &commands)).await.expect("the run is placed set-based");
        let actual: Vec<_> = results.iter().map(|r| batched.outcome(r)).collect();

        assert_same(&h, seed, &steps, (&generic, &expected), (&batched, &actual)).await;
    }
}

/// Batches racing across shards on overlapping SKUs (orders of several SKUs lock rows routed
/// to other shards) and the generic writer cancelling orders at the same time: no deadlock
/// fails a batch, nothing oversells.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shards_and_the_generic_writer_share_skus() {
    if postgres_url().is_none() {
        return;
    }
    let h = Harness::open(Kind::Postgres).await;
    let fx = h.fixture(6, 500, 300, 8).await;
    let mut rng = StdRng::seed_from_u64(99);
    let mut handles = Vec::new();
    for i in 0..1_200 {
        let mut lines: Vec<(SkuId, i64)> = (0..rng.random_range(1..=4)).map(|_| (fx.skus[rng.random_range(0..6)], 1)).collect();
        lines.dedup_by_key(|(s, _)| *s);
        let cmd = fx.order(fx.customers[i % 8], lines, order_no("X", i));
        let store = h.store.clone();
        let cancel = i % 5 == 0;
        handles.push(tokio::spawn(async move {
            let placed = store.place_order(T0, cmd, None).await;
            if let (Ok(placed), true) = (&placed, cancel) {
                let id = placed.order_id;
                let deadline = Timestamp(placed.pay_deadline_at);
                store.write(move |sql| orders::cancel_order(sql, deadline, id, orders::CancelBy::Deadline)).await.expect("cancel");
            }
            placed
        }));
    }
    for handle in handles {
        if let Err(e) = handle.await.expect("task") {
            assert_eq!(e.code, ErrorCode::OutOfStock, "{e}");
        }
    }
    let (commits, commands) = h.store.writer_stats();
    eprintln!("shared SKUs: {commands} commands in {commits} commits");
    h.assert_consistent("shards and generic writer").await;
}

/// Throughput of one hot SKU through `Store::place_order` (PostgreSQL when the variable is set,
/// else SQLite). Run by hand:
/// `cargo test -p sharemall-store --release --test store -- --ignored --nocapture hot_sku_throughput`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark, not a test"]
async fn hot_sku_throughput() {
    hot_sku(false, 50_000).await;
}

/// The same through the generic writer (`Store::write` + `ops::orders::place_order`), for
/// comparison.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark, not a test"]
async fn hot_sku_throughput_generic_writer() {
    hot_sku(true, 10_000).await;
}

async fn hot_sku(generic: bool, total: usize) {
    let kind = if postgres_url().is_some() { Kind::Postgres } else { Kind::Sqlite };
    let h = Harness::open(kind).await;
    let fx = h.fixture(1, 100, 10_000_000, 64).await;
    let concurrency = 512usize;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (store, next) = (h.store.clone(), std::sync::Arc::clone(&next));
        let (customer, sku, template) = (fx.customers[w % 64], fx.skus[0], fx.order(fx.customers[0], vec![], String::new()));
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return;
                }
                let cmd = PlaceOrder { customer, lines: vec![(sku, 1)], order_no: format!("B{i:08}"), ..template.clone() };
                if generic {
                    store.write(move |sql| orders::place_order(sql, T0, &cmd, None)).await.expect("order");
                } else {
                    store.place_order(T0, cmd, None).await.expect("order");
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed();
    let (commits, commands) = h.store.writer_stats();
    eprintln!(
        "[{kind:?}{}] {total} orders on one SKU in {elapsed:.2?}: {:.0} orders/s, {:.1} orders per commit",
        if generic { ", generic writer" } else { "" },
        total as f64 / elapsed.as_secs_f64(),
        commands as f64 / commits.max(1) as f64
    );
    h.assert_consistent("throughput").await;
}

/// An order goes to the shard of its first SKU in sorted order, however its lines are written,
/// so a retried request always meets its first attempt in the same shard.
#[test]
fn routing_follows_the_first_sorted_sku() {
    let mut rng = StdRng::seed_from_u64(7);
    let skus: Vec<SkuId> = (0..20).map(|_| SkuId::new()).collect();
    for _ in 0..500 {
        let lines: Vec<(SkuId, i64)> =
            (0..rng.random_range(1..=5)).map(|_| (skus[rng.random_range(0..skus.len())], rng.random_range(1..=3))).collect();
        let normalised = orders::normalise_lines(&lines).expect("valid lines");
        let shard = orders_pg::shard_of(&lines, 4);
        assert!(shard < 4);
        assert_eq!(shard, orders_pg::shard_of(&normalised, 4));
        assert_eq!(shard, orders_pg::shard_of(&normalised[..1], 4));
    }
    // Spread is a property of many SKUs: with 200 the chance that a shard gets none is 4 · (3/4)^200.
    // The orders above are no measure of it: each goes by its lowest SKU id, so a few SKUs decide.
    let used: std::collections::HashSet<usize> = (0..200).map(|_| orders_pg::shard_of(&[(SkuId::new(), 1)], 4)).collect();
    assert_eq!(used.len(), 4, "SKUs should spread over every shard");
    assert_eq!(orders_pg::shard_of(&[], 4), 0);
}
