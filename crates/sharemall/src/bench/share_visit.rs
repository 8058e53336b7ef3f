//! `share-visit`: share links opened by a mix of visitors — first-time anonymous (a new visitor
//! cookie and a new binding each), returning anonymous (a cookie from a pool) and signed-in
//! customers — over two shops' share trees. Then every signed-in customer buys through the
//! platform, and each order must carry its binding and last-touch share.
//!
//! Invariants: every accepted visit is recorded (rows = 303 answers), one binding per visitor at
//! most, every attribution-phase order attributed, `sharemall check` clean.

use serde_json::json;
use sharemall_domain::share::{Channel, ShareCode};
use sharemall_domain::{ShopId, UserId};
use sharemall_store::ops::check::check_all;
use sharemall_store::ops::shares::{self, NewShare, ShareTarget};
use std::sync::Arc;

use super::BenchArgs;
use super::harness;
use super::orders::seed_catalogue;
use crate::settings::Settings;

/// Shares per shop: one root and re-shares hanging under it, a few levels deep.
const SHARES_PER_SHOP: usize = 16;
/// Distinct returning anonymous visitors.
const RETURNING_VISITORS: u64 = 5_000;

/// A shop's share tree: share `i > 0` re-shares share `(i - 1) / 3`, each by a different customer.
async fn seed_shares(app: &sharemall_app::App, shop: ShopId, sharers: &[UserId]) -> anyhow::Result<Vec<String>> {
    let now = app.now();
    let mut codes: Vec<ShareCode> = Vec::with_capacity(SHARES_PER_SHOP);
    for i in 0..SHARES_PER_SHOP {
        let code = ShareCode::from_random(rand::random());
        let parent = (i > 0).then(|| codes[(i - 1) / 3].clone());
        let new = NewShare {
            code: code.clone(),
            target: ShareTarget::Shop,
            shop,
            sharer: sharers[i % sharers.len()],
            parent,
            channel: Channel::Chat,
            expires_at: None,
        };
        app.store.write(move |sql| shares::create_share(sql, now, &new)).await?;
        codes.push(code);
    }
    Ok(codes.iter().map(|c| c.as_str().to_string()).collect())
}

/// Request `i`: 60% first-time anonymous, 25% returning anonymous, 15% signed in.
fn visit_request(base: &str, codes: &[String], tokens: &[String], i: u64) -> harness::LoadRequest {
    let code = &codes[(i.wrapping_mul(2_654_435_761) % codes.len() as u64) as usize];
    let url = format!("{base}/s/{code}");
    let agent = ("user-agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) MicroMessenger/8.0.50");
    match i % 20 {
        0..12 => harness::request("GET", &url, &[agent], None),
        12..17 => {
            let cookie = format!("sm_visitor={:032x}", i % RETURNING_VISITORS);
            harness::request("GET", &url, &[agent, ("cookie", &cookie)], None)
        }
        _ => {
            // Consecutive blocks of 20 take consecutive customers, so every customer visits.
            let auth = format!("Bearer {}", tokens[((i / 20) as usize) % tokens.len()]);
            harness::request("GET", &url, &[agent, ("authorization", &auth)], None)
        }
    }
}

pub async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let batch_max = args.batch_max.unwrap_or(settings.database.batch_max);
    let server = harness::start(settings, batch_max).await?;
    let app = Arc::clone(&server.app);
    let accounts = harness::customer_accounts(&app, args.concurrency.clamp(16, 256)).await?;
    let (tokens, users): (Vec<String>, Vec<UserId>) = accounts.into_iter().unzip();
    let baselines = harness::baselines(&server, args.concurrency, args.requests).await?;

    // Two shops, each selling one SKU, each with its own share tree.
    let mut codes = Vec::new();
    let mut shop_skus = Vec::new();
    for _ in 0..2 {
        let (shop, skus) = seed_catalogue(&app, 1, 1_000_000).await?;
        codes.extend(seed_shares(&app, shop, &users).await?);
        shop_skus.push((shop, skus[0]));
    }

    // Timed phase: visits.
    let (commits_before, commands_before) = app.store.writer_stats();
    let clock = harness::PhaseClock::start(&app.store);
    let (base, shared_codes, shared_tokens) = (server.base.clone(), Arc::new(codes), Arc::new(tokens.clone()));
    let timed =
        harness::drive(&server.client, args.concurrency, args.requests, move |i| visit_request(&base, &shared_codes, &shared_tokens, i))
            .await;
    let (commits_after, commands_after) = app.store.writer_stats();
    let per_op = clock.per_command(&app.store, commands_after - commands_before);
    let rss_mb = harness::rss_mb();

    // Attribution phase: every signed-in customer buys through the platform (no shop named).
    let body =
        r#"{"items":[{"sku_id":"SKU","quantity":1}],"recipient":"压测","phone":"13900000000","address":"上海市浦东新区世纪大道100号"}"#;
    let mut bodies = Vec::with_capacity(users.len());
    for user in &users {
        let visitor = format!("u:{user}");
        let bound = app.store.read(move |sql| shares::binding_of(sql, &visitor)).await?;
        let sku = shop_skus.iter().find(|(shop, _)| Some(*shop) == bound).map(|(_, sku)| *sku);
        bodies.push(sku.map(|sku| body.replace("SKU", &sku.to_string())));
    }
    let unbound = bodies.iter().filter(|b| b.is_none()).count();
    let (base, bodies, order_tokens) = (server.base.clone(), Arc::new(bodies), Arc::new(tokens));
    let buyers = order_tokens.len() as u64;
    let orders = harness::drive(&server.client, args.concurrency.min(order_tokens.len()), buyers, move |i| {
        let i = i as usize;
        let auth = format!("Bearer {}", order_tokens[i]);
        let key = format!("share-visit-{i}");
        let body = bodies[i].clone().unwrap_or_default().into_bytes();
        harness::request("POST", &format!("{base}/api/v1/orders"), &[("authorization", &auth), ("idempotency-key", &key)], Some(body))
    })
    .await;

    let (checks, visits, visitors_bound, double_bound, attributed) = app
        .store
        .read(move |sql| {
            let checks = check_all(sql)?;
            let visits = sql.query_i64("SELECT COUNT(*) FROM share_visits", sharemall_store::params![])?;
            let bound = sql.query_i64("SELECT COUNT(*) FROM customer_bindings", sharemall_store::params![])?;
            let double = sql.query_i64(
                "SELECT COUNT(*) FROM (SELECT visitor FROM customer_bindings GROUP BY visitor HAVING COUNT(*) > 1) d",
                sharemall_store::params![],
            )?;
            let attributed = sql.query_i64(
                "SELECT COUNT(*) FROM orders WHERE share_code IS NOT NULL AND bound_shop_id = shop_id",
                sharemall_store::params![],
            )?;
            Ok((checks, visits, bound, double, attributed))
        })
        .await?;
    let violations: usize = checks.iter().map(|c| c.violations.len()).sum();
    let invariants_ok = violations == 0
        && visits == timed.ok as i64
        && double_bound == 0
        && timed.server_errors == 0
        && timed.transport_errors == 0
        && unbound == 0
        && orders.ok == buyers
        && attributed == buyers as i64;
    let commits = commits_after - commits_before;
    let backend = server.backend;
    server.finish().await?;
    let report = json!({
        "workload": "share-visit",
        "backend": backend,
        "concurrency": args.concurrency,
        "batch_max": batch_max,
        "commits": commits,
        "visits_per_commit": harness::per_commit(commands_after - commands_before, commits),
        "us_per_op": per_op,
        "visits_recorded": visits,
        "visitors_bound": visitors_bound,
        "attribution": {"buyers": buyers, "unbound": unbound, "orders": harness::phase_json(&orders), "attributed": attributed},
        "healthz": harness::phase_json(&baselines.healthz),
        "fsync_ms": (baselines.fsync_ms * 1_000.0).round() / 1_000.0,
        "rss_mb": rss_mb.round(),
        "check_violations": violations,
        "invariants_ok": invariants_ok,
    });
    Ok(harness::with_timed_phase(report, &timed))
}
