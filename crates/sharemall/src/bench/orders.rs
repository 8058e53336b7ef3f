//! `orders-hot` (every order on one SKU) and `orders-spread` (Zipf-distributed over many SKUs):
//! a timed phase with stock that cannot run out, then a sell-out phase with small stock and
//! many more buyers than units, which must sell exactly the stock.

use rand::{Rng, SeedableRng};
use serde_json::json;
use sharemall_app::App;
use sharemall_app::tokens::new_token;
use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::{Money, ShopId, SkuId};
use sharemall_store::ops::accounts::{self, NewUser};
use sharemall_store::ops::catalog::{self, NewProduct};
use sharemall_store::ops::check::check_all;
use sharemall_store::ops::shops;
use std::sync::Arc;

use super::BenchArgs;
use super::harness;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Hot,
    Spread,
}

/// A shop selling `sku_count` SKUs with `stock` units each. Returns the shop and the SKUs.
pub(super) async fn seed_catalogue(app: &App, sku_count: usize, stock: i64) -> anyhow::Result<(ShopId, Vec<SkuId>)> {
    let now = app.now();
    let tag = new_token();
    let (shop, product_ids) = app
        .store
        .write(move |sql| {
            let login = LoginId::parse(&format!("seller-{tag}@sharemall.bench"))?;
            let owner = accounts::create_user(
                sql,
                now,
                NewUser { login, password_hash: "bench".into(), display_name: "压测店主".into(), roles: vec![Role::Customer] },
            )?;
            let supplier = catalog::create_supplier(sql, now, owner, "压测供应商", "bench")?;
            catalog::set_supplier_approval(sql, supplier, Approval::Approved)?;
            let shop = shops::open_shop(sql, now, owner, "压测小店", "", None)?;
            let mut products = Vec::new();
            let mut left = sku_count;
            while left > 0 {
                let n = left.min(sharemall_domain::catalog::MAX_SKUS_PER_PRODUCT);
                left -= n;
                let skus = (0..n)
                    .map(|i| NewSku {
                        attributes: format!("规格:{i}"),
                        supply_price: Money::from_fen(600),
                        retail_price: Money::from_fen(990),
                        commission_bps: 1_000,
                        stock,
                        returnable: true,
                    })
                    .collect();
                let product = NewProduct {
                    title: "压测商品 赣南脐橙".into(),
                    description: String::new(),
                    category: "生鲜水果".into(),
                    image_hue: 30,
                    skus,
                };
                let id = catalog::create_product(sql, now, supplier, product)?;
                catalog::set_product_approval(sql, now, id, Approval::Approved)?;
                shops::pick_product(sql, now, shop, id)?;
                products.push(id);
            }
            Ok((shop, products))
        })
        .await?;
    let skus = app
        .store
        .read(move |sql| {
            let mut skus = Vec::new();
            for product in product_ids {
                skus.extend(catalog::load_product(sql, product, catalog::Viewer::Public)?.skus.into_iter().map(|s| s.id));
            }
            Ok(skus)
        })
        .await?;
    Ok((shop, skus))
}

/// Zipf(s = 1) sampler over `n` ranks by inverse CDF on precomputed weights.
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(n: usize) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=n).map(|k| {
            total += 1.0 / k as f64;
            total
        });
        let cumulative: Vec<f64> = cumulative.collect();
        let sum = cumulative.last().copied().unwrap_or(1.0);
        Zipf { cumulative: cumulative.into_iter().map(|c| c / sum).collect() }
    }

    fn sample(&self, u: f64) -> usize {
        self.cumulative.partition_point(|c| *c < u).min(self.cumulative.len().saturating_sub(1))
    }
}

fn order_request(base: &str, tokens: &Arc<Vec<String>>, shop: ShopId, sku: SkuId, i: u64) -> harness::LoadRequest {
    let token = &tokens[(i as usize) % tokens.len()];
    // Formatted directly: ids are plain UUIDs and the rest is fixed, so no JSON escaping is needed
    // and the load generator spends as little as possible of the shared CPU.
    let body = format!(
        r#"{{"shop_id":"{shop}","items":[{{"sku_id":"{sku}","quantity":1}}],"recipient":"压测","phone":"13900000000","address":"上海市浦东新区世纪大道100号"}}"#
    );
    let (auth, key) = (format!("Bearer {token}"), format!("bench-{i}-{}", rand::random::<u64>()));
    harness::request(
        "POST",
        &format!("{base}/api/v1/orders"),
        &[("authorization", &auth), ("idempotency-key", &key)],
        Some(body.into_bytes()),
    )
}

pub async fn run(settings: &Settings, args: &BenchArgs, shape: Shape) -> anyhow::Result<serde_json::Value> {
    let batch_max = args.batch_max.unwrap_or(settings.database.batch_max);
    let server = harness::start(settings, batch_max).await?;
    let app = Arc::clone(&server.app);
    let tokens = Arc::new(harness::customers(&app, args.concurrency.min(256)).await?);
    let harness::Baselines { fsync_ms, healthz: health } = harness::baselines(&server, args.concurrency, args.requests).await?;

    // Timed phase: stock that cannot run out.
    let sku_count = if shape == Shape::Hot { 1 } else { args.skus.max(1) };
    let per_sku_stock = i64::try_from(args.requests).unwrap_or(i64::MAX).saturating_add(10).min(sharemall_domain::catalog::MAX_STOCK);
    let (shop, skus) = seed_catalogue(&app, sku_count, per_sku_stock).await?;
    let skus = Arc::new(skus);
    let zipf = Arc::new(Zipf::new(skus.len()));
    let (commits_before, commands_before) = app.store.writer_stats();
    let clock = harness::PhaseClock::start(&app.store);
    let (base, tok, sk) = (server.base.clone(), Arc::clone(&tokens), Arc::clone(&skus));
    let timed = harness::drive(&server.client, args.concurrency, args.requests, move |i| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(i);
        let sku = sk[zipf.sample(rng.random::<f64>())];
        order_request(&base, &tok, shop, sku, i)
    })
    .await;
    let (commits_after, commands_after) = app.store.writer_stats();
    let per_op = clock.per_command(&app.store, commands_after - commands_before);
    let rss_mb = harness::rss_mb();

    // Sell-out phase: 100 units, ten times as many buyers.
    let (sellout_shop, sellout_skus) = seed_catalogue(&app, 1, 100).await?;
    let sellout_sku = sellout_skus[0];
    let (base, tok) = (server.base.clone(), Arc::clone(&tokens));
    let sellout =
        harness::drive(&server.client, args.concurrency, 1_000, move |i| order_request(&base, &tok, sellout_shop, sellout_sku, i)).await;

    let (checks, stock) = app
        .store
        .read(move |sql| {
            let checks = check_all(sql)?;
            let row = sql.query_one(
                "SELECT stock_available, stock_reserved, stock_sold, stock_total FROM skus WHERE id = $1",
                sharemall_store::params![sellout_sku],
            )?;
            Ok((checks, (row.i64(0)?, row.i64(1)?, row.i64(2)?, row.i64(3)?)))
        })
        .await?;
    let violations: usize = checks.iter().map(|c| c.violations.len()).sum();
    let oversold = (sellout.ok as i64 - 100).max(0) + i64::from(stock.0 < 0);
    let timed_reserved: i64 = {
        let sk = Arc::clone(&skus);
        app.store
            .read(move |sql| {
                let mut total = 0;
                for sku in sk.iter() {
                    total += sql.query_i64("SELECT stock_reserved FROM skus WHERE id = $1", sharemall_store::params![*sku])?;
                }
                Ok(total)
            })
            .await?
    };
    let invariants_ok = violations == 0
        && oversold == 0
        && sellout.ok == 100
        && stock == (0, 100, 0, 100)
        && timed_reserved == timed.ok as i64
        && timed.server_errors == 0
        && sellout.server_errors == 0
        && timed.transport_errors == 0;
    let commits = commits_after - commits_before;
    let startup_ms = if server.backend == "sqlite" { harness::startup_ms(&server.db_url).await.ok() } else { None };
    let backend = server.backend;
    server.finish().await?;
    let report = json!({
        "workload": if shape == Shape::Hot { "orders-hot" } else { "orders-spread" },
        "backend": backend,
        "concurrency": args.concurrency,
        "batch_max": batch_max,
        "skus": sku_count,
        "commits": commits,
        "orders_per_commit": harness::per_commit(commands_after - commands_before, commits),
        "us_per_op": per_op,
        "oversold": oversold,
        "sellout": harness::phase_json(&sellout),
        "sellout_stock": {"available": stock.0, "reserved": stock.1, "sold": stock.2, "total": stock.3},
        "healthz": harness::phase_json(&health),
        "fsync_ms": (fsync_ms * 1_000.0).round() / 1_000.0,
        "rss_mb": rss_mb.round(),
        "startup_ms": startup_ms.map(|ms| ms.round()),
        "check_violations": violations,
        "invariants_ok": invariants_ok,
    });
    Ok(harness::with_timed_phase(report, &timed))
}
