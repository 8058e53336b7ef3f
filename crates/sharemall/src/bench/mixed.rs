//! `mixed`: the money paths end to end. A timed phase of order journeys over HTTP (place the
//! order, start a sandbox payment, pay on the provider's page, whose signed callback comes back
//! over loopback and splits the payment in the ledger; an operator refund for one journey in
//! five, half of them partial), then fulfilment (every paid order shipped and received, one in
//! ten returned through after-sales), the job rounds pay the refunds, and the clock moves past
//! the return window for the settlement sweep to make the commission available. Ends with
//! every invariant checked.
//! Reports journeys/s, requests/s, ledger postings/s over HTTP, and commissions settled/s by the
//! settlement sweep alone.

use serde_json::json;
use sharemall_app::after_sales::{self, Answer, ReturnForm};
use sharemall_app::clock::{Clock, FakeClock, SystemClock};
use sharemall_app::{earnings, jobs, orders};
use sharemall_domain::account::Role;
use sharemall_domain::time::{DAY_MS, MINUTE_MS};
use sharemall_domain::{OrderId, SupplierId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::check::check_all;
use sharemall_store::params;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::BenchArgs;
use super::harness;
use super::orders::seed_catalogue;
use crate::settings::Settings;

/// One journey: four requests, plus a refund for every fifth.
#[derive(Debug, Default)]
struct Journeys {
    completed: u64,
    requests: u64,
    refunds: u64,
    failed: u64,
    latencies_us: Vec<u64>,
    orders: Vec<OrderId>,
}

async fn ledger_transfers(app: &sharemall_app::App) -> anyhow::Result<i64> {
    Ok(app.store.read(|sql| sql.query_i64("SELECT COUNT(*) FROM ledger_transfers", params![])).await?)
}

/// Runs journey `i` for a customer; returns the order, the requests sent and whether a
/// refund was asked for. Any answer other than the expected one fails the journey.
async fn journey(
    http: &reqwest::Client,
    base: &str,
    customer: &str,
    operator: &str,
    shop: &str,
    sku: &str,
    i: u64,
) -> anyhow::Result<(OrderId, u64, bool)> {
    let order: serde_json::Value = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(customer)
        .header("idempotency-key", format!("mixed-order-{i}"))
        .json(&json!({"shop_id": shop, "items": [{"sku_id": sku, "quantity": 1 + (i % 3) as i64}],
                      "recipient": "压测", "phone": "13900000000", "address": "上海市浦东新区世纪大道100号"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = order["order_id"].as_str().ok_or_else(|| anyhow::anyhow!("no order id in {order}"))?.to_string();
    let started: serde_json::Value = http
        .post(format!("{base}/api/v1/orders/{id}/payments"))
        .bearer_auth(customer)
        .header("idempotency-key", format!("mixed-pay-{i}"))
        .json(&json!({"provider": "sandbox"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let pay_url = started["pay_url"].as_str().ok_or_else(|| anyhow::anyhow!("no pay_url in {started}"))?;
    // The provider's page: confirming takes the money and calls our notify URL back.
    let confirmed = http.post(format!("{base}{pay_url}/confirm")).send().await?;
    if !confirmed.status().is_redirection() {
        anyhow::bail!("the sandbox confirm answered {}", confirmed.status());
    }
    let paid: serde_json::Value =
        http.get(format!("{base}/api/v1/orders/{id}")).bearer_auth(customer).send().await?.error_for_status()?.json().await?;
    if paid["status"] != "to_ship" {
        anyhow::bail!("order {id} is {} after its payment", paid["status"]);
    }
    let mut requests = 4;
    let refund = i.is_multiple_of(5);
    if refund {
        let payable = paid["payable_fen"].as_i64().unwrap_or(0);
        let amount = if i.is_multiple_of(10) { payable } else { (payable / 3).max(1) };
        http.post(format!("{base}/api/v1/operator/orders/{id}/refunds"))
            .bearer_auth(operator)
            .header("idempotency-key", format!("mixed-refund-{i}"))
            .json(&json!({"amount_fen": amount, "reason": "压测退款"}))
            .send()
            .await?
            .error_for_status()?;
        requests += 1;
    }
    Ok((id.parse().map_err(|_| anyhow::anyhow!("bad order id {id}"))?, requests, refund))
}

pub async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let batch_max = args.batch_max.unwrap_or(settings.database.batch_max);
    let clock = FakeClock::at(SystemClock.now());
    let server = harness::start_with_clock(settings, batch_max, Arc::new(clock.clone())).await?;
    let app = Arc::clone(&server.app);
    let journeys_total = (args.requests / 4).clamp(1, 250_000);
    let concurrency = args.concurrency.clamp(1, 256);
    let customers = Arc::new(harness::customers(&app, concurrency).await?);
    let operator = harness::accounts_with_role(&app, 1, Role::Operator).await?.remove(0);
    let stock = i64::try_from(journeys_total * 3 + 10).unwrap_or(i64::MAX).min(sharemall_domain::catalog::MAX_STOCK);
    let (shop, skus) = seed_catalogue(&app, 4, stock).await?;
    let (shop, skus) = (shop.to_string(), Arc::new(skus.iter().map(ToString::to_string).collect::<Vec<_>>()));
    let http = sharemall_wechatpay::http_client_builder()?
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()?;

    // Timed phase: journeys over HTTP.
    let transfers_before = ledger_transfers(&app).await?;
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (http, base, next, customers, skus, shop, operator) = (
            http.clone(),
            server.base.clone(),
            Arc::clone(&next),
            Arc::clone(&customers),
            Arc::clone(&skus),
            shop.clone(),
            operator.0.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut seen = Journeys::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= journeys_total {
                    return seen;
                }
                let sent = Instant::now();
                let sku = &skus[(i as usize) % skus.len()];
                match tokio::time::timeout(Duration::from_secs(60), journey(&http, &base, &customers[w], &operator, &shop, sku, i)).await {
                    Ok(Ok((order, requests, refund))) => {
                        seen.completed += 1;
                        seen.requests += requests;
                        seen.refunds += u64::from(refund);
                        seen.orders.push(order);
                    }
                    Ok(Err(e)) => {
                        seen.failed += 1;
                        tracing::warn!(error = %e, "journey failed");
                    }
                    Err(_) => seen.failed += 1,
                }
                seen.latencies_us.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
        }));
    }
    let mut seen = Journeys::default();
    for worker in workers {
        let r = worker.await?;
        seen.completed += r.completed;
        seen.requests += r.requests;
        seen.refunds += r.refunds;
        seen.failed += r.failed;
        seen.latencies_us.extend(r.latencies_us);
        seen.orders.extend(r.orders);
    }
    let timed = started.elapsed().as_secs_f64().max(1e-9);
    let timed_postings = ledger_transfers(&app).await? - transfers_before;
    seen.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let n = seen.latencies_us.len();
        if n == 0 { 0.0 } else { seen.latencies_us[((n as f64 - 1.0) * p).round() as usize] as f64 / 1_000.0 }
    };

    // Fulfilment: every order still to ship is shipped and received; one in ten is returned
    // (refund only, approved by the operator), after the timed phase's refunds are paid.
    let fulfil_started = Instant::now();
    drain_jobs(&app).await?;
    let supplier = supplier_session(&app).await?;
    let operator_session = SessionUser {
        user_id: operator.1,
        display_name: "压测运营".into(),
        login: "operator@sharemall.bench".into(),
        roles: vec![Role::Operator],
        shop_id: None,
        supplier_id: None,
    };
    let (mut received, mut returns) = (0u64, 0u64);
    for (n, order) in seen.orders.iter().enumerate() {
        let customer = order_customer(&app, *order).await?;
        if orders::ship(&app, &supplier, *order, "顺丰速运", "SF1234567890").await.is_err() {
            continue; // refunded in full before shipping
        }
        orders::confirm_receipt(&app, &customer, *order).await?;
        received += 1;
        if n % 10 == 3 {
            let form = ReturnForm { order: *order, reason: "quality".into(), description: "压测售后".into(), lines: vec![(1, 1)] };
            if let Ok(case) = after_sales::request(&app, &customer, form, None).await {
                after_sales::decide(&app, &operator_session, case.id, Answer::Approve { resolution: "refund_only".into() }).await?;
                returns += 1;
            }
        }
    }
    let fulfil_s = fulfil_started.elapsed().as_secs_f64();

    // The refunds asked for so far are paid by the job rounds (nothing else is due yet), so no
    // commission is held back by a refund in flight when the window closes.
    drain_jobs(&app).await?;

    // Settlement: past the window (7 days + the default buffer), the sweep settles the
    // commission in bounded batches, timed alone; then the rest of the jobs (completing orders)
    // run untimed.
    let settle_before = ledger_transfers(&app).await?;
    clock.advance_ms(8 * DAY_MS + MINUTE_MS);
    let settle_started = Instant::now();
    let mut sweeps = 0;
    while earnings::settle_due(&app).await? > 0 && sweeps < 10_000 {
        sweeps += 1;
    }
    let settle_s = settle_started.elapsed().as_secs_f64().max(1e-9);
    let settle_postings = ledger_transfers(&app).await? - settle_before;
    drain_jobs(&app).await?;
    let (settled, pending_left, refunds_paid) = app
        .store
        .read(|sql| {
            Ok((
                sql.query_i64("SELECT COUNT(*) FROM commissions WHERE status = 'settled'", params![])?,
                sql.query_i64("SELECT COUNT(*) FROM commissions WHERE status = 'pending'", params![])?,
                sql.query_i64("SELECT COUNT(*) FROM refunds WHERE status = 'succeeded'", params![])?,
            ))
        })
        .await?;
    let checks = app.store.read(check_all).await?;
    let violations: usize = checks.iter().map(|c| c.violations.len()).sum();
    let invariants_ok = violations == 0 && seen.failed == 0 && pending_left == 0 && seen.completed == journeys_total;
    let backend = server.backend;
    server.finish().await?;
    Ok(json!({
        "workload": "mixed",
        "backend": backend,
        "concurrency": concurrency,
        "batch_max": batch_max,
        "journeys": seen.completed,
        "failed_journeys": seen.failed,
        "requests": seen.requests,
        "throughput_per_s": (seen.completed as f64 / timed).round(),
        "requests_per_s": (seen.requests as f64 / timed).round(),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "elapsed_s": (timed * 100.0).round() / 100.0,
        "ledger_postings": timed_postings,
        "ledger_postings_per_s": (timed_postings as f64 / timed).round(),
        "operator_refunds": seen.refunds,
        "received": received,
        "returns_refunded": returns,
        "fulfilment_s": (fulfil_s * 100.0).round() / 100.0,
        "refunds_paid": refunds_paid,
        "commissions_settled": settled,
        "settlement_sweeps": sweeps,
        "settlement_s": (settle_s * 1_000.0).round() / 1_000.0,
        "settled_per_s": (settle_postings as f64 / settle_s).round(),
        "check_violations": violations,
        "invariants_ok": invariants_ok,
    }))
}

/// Runs job rounds until one runs nothing (bounded).
async fn drain_jobs(app: &sharemall_app::App) -> anyhow::Result<()> {
    for _ in 0..10_000 {
        if jobs::run_due(app).await? == 0 {
            break;
        }
    }
    Ok(())
}

/// The bench catalogue's supplier, as its owner signs in.
async fn supplier_session(app: &sharemall_app::App) -> anyhow::Result<SessionUser> {
    let (supplier, owner): (SupplierId, sharemall_domain::UserId) = app
        .store
        .read(|sql| {
            let row = sql.query_one("SELECT id, owner_id FROM suppliers ORDER BY created_at LIMIT 1", params![])?;
            Ok((row.id(0)?, row.id(1)?))
        })
        .await?;
    Ok(SessionUser {
        user_id: owner,
        display_name: "压测供应商".into(),
        login: "supplier@sharemall.bench".into(),
        roles: vec![Role::Supplier],
        shop_id: None,
        supplier_id: Some(supplier),
    })
}

async fn order_customer(app: &sharemall_app::App, order: OrderId) -> anyhow::Result<SessionUser> {
    let user: sharemall_domain::UserId =
        app.store.read(move |sql| sql.query_one("SELECT customer_id FROM orders WHERE id = $1", params![order])?.id(0)).await?;
    Ok(SessionUser {
        user_id: user,
        display_name: "压测用户".into(),
        login: "customer@sharemall.bench".into(),
        roles: vec![Role::Customer],
        shop_id: None,
        supplier_id: None,
    })
}
