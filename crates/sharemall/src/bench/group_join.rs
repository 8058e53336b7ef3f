//! `group-join`: joining groups (拼团) over HTTP. A timed phase joins open groups of size 2–10
//! that have seats for every joiner; then a contention phase sends three joiners per free seat
//! to fresh groups, pays every seat taken, and checks that no group took more than its size and
//! that every full group succeeded exactly once.
//!
//! Groups are opened and paid for at the store level before each phase (they are the setting,
//! not what is measured); joins go through the real HTTP stack with bearer tokens and
//! Idempotency-Keys, as an app would send them.

use serde_json::json;
use sharemall_app::App;
use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{CampaignId, GroupId, Money, OrderId, ShopId, SkuId, UserId};
use sharemall_store::ops::check::check_all;
use sharemall_store::ops::group_campaigns::{self, NewCampaign};
use sharemall_store::ops::groups::{self, GroupOrder};
use sharemall_store::ops::payments;
use sharemall_store::params;
use sharemall_store::sql::Sql;
use std::sync::Arc;

use super::BenchArgs;
use super::harness;
use super::orders::seed_catalogue;
use crate::settings::Settings;

/// Group sizes the workload uses.
const SIZES: std::ops::RangeInclusive<i64> = 2..=10;
/// Groups opened per write while seeding (one transaction each).
const SEED_CHUNK: usize = 200;
/// Groups in the contention phase.
const CONTENDED_GROUPS: usize = 90;

/// One campaign per size on the bench SKU, with units and per-customer headroom for any run.
async fn campaigns(app: &App, sku: SkuId, creator: UserId) -> anyhow::Result<Vec<(CampaignId, i64)>> {
    let now = app.now();
    let mut all = Vec::new();
    for size in SIZES {
        let request = CampaignRequest {
            size,
            group_price: Money::from_fen(800),
            hours: 24,
            starts_at: now,
            ends_at: now.plus_ms(30 * 24 * HOUR_MS),
            stock_cap: sharemall_domain::catalog::MAX_STOCK,
            per_customer_limit: sharemall_domain::group_buy::MAX_PER_CUSTOMER,
            new_customers_only: false,
            auto_complete_at: None,
        };
        let new = NewCampaign { shop: None, sku, request, created_by: creator };
        all.push((app.store.write(move |sql| group_campaigns::create_campaign(sql, now, &new)).await?, size));
    }
    Ok(all)
}

fn seat_order(customer: UserId, order_no: String) -> GroupOrder {
    GroupOrder {
        customer,
        quantity: 1,
        recipient: "压测".into(),
        phone: "13900000000".into(),
        address: "上海市浦东新区世纪大道100号".into(),
        note: String::new(),
        order_no,
        pay_window_ms: 15 * 60_000,
        shipping: ShippingRule::FREE,
    }
}

fn pay_at_store(
    sql: &mut dyn Sql,
    now: sharemall_domain::Timestamp,
    order: OrderId,
    customer: UserId,
    trade_no: &str,
) -> Result<(), sharemall_domain::Error> {
    let payment = payments::create_payment(sql, now, order, customer, "sandbox", trade_no)?;
    payments::apply_payment_success(sql, now, trade_no, payment.amount_fen, trade_no).map(|_| ())
}

/// Opens and pays for `count` groups, sizes cycling through [`SIZES`]; returns (group, size).
async fn open_groups(
    app: &App,
    campaigns: &[(CampaignId, i64)],
    shop: ShopId,
    leaders: &[UserId],
    count: usize,
    tag: &str,
) -> anyhow::Result<Vec<(GroupId, i64)>> {
    let mut opened = Vec::with_capacity(count);
    for start in (0..count).step_by(SEED_CHUNK) {
        let end = (start + SEED_CHUNK).min(count);
        let (campaigns, leaders, now, tag) = (campaigns.to_vec(), leaders.to_vec(), app.now(), tag.to_string());
        let chunk = app
            .store
            .write(move |sql| {
                let mut chunk = Vec::with_capacity(end - start);
                for g in start..end {
                    let (campaign, size) = campaigns[g % campaigns.len()];
                    let leader = leaders[g % leaders.len()];
                    let placed = groups::open_group(sql, now, campaign, shop, &seat_order(leader, format!("BO{tag}{g}")), None)?;
                    pay_at_store(sql, now, placed.order_id, leader, &format!("BOP{tag}{g}"))?;
                    let group: GroupId =
                        sql.query_one("SELECT group_id FROM buy_group_members WHERE order_id = $1", params![placed.order_id])?.id(0)?;
                    chunk.push((group, size));
                }
                Ok(chunk)
            })
            .await?;
        opened.extend(chunk);
    }
    Ok(opened)
}

fn join_request(base: &str, token: &str, group: GroupId, i: u64) -> harness::LoadRequest {
    let body = r#"{"quantity":1,"recipient":"压测","phone":"13900000000","address":"上海市浦东新区世纪大道100号"}"#;
    let (auth, key) = (format!("Bearer {token}"), format!("join-{i}-{}", rand::random::<u64>()));
    harness::request(
        "POST",
        &format!("{base}/api/v1/groups/{group}/join"),
        &[("authorization", &auth), ("idempotency-key", &key)],
        Some(body.as_bytes().to_vec()),
    )
}

/// The customer for seat `round` of group number `group`: group `g` is opened by customer `g`
/// (mod n) and joined by the next ones in turn, so nobody is in one group twice, and everyone
/// opens and joins about equally often, far from any per-customer limit.
fn joiner_for(group: usize, round: usize, customers: usize) -> usize {
    (group + 1 + round) % customers
}

pub async fn run(settings: &Settings, args: &BenchArgs) -> anyhow::Result<serde_json::Value> {
    let batch_max = args.batch_max.unwrap_or(settings.database.batch_max);
    let server = harness::start(settings, batch_max).await?;
    let app = Arc::clone(&server.app);
    // About one customer per twenty joins, as in a real campaign (a handful of groups each), and
    // far from any per-customer limit.
    let people_needed = 64.max(args.concurrency.min(256)).max((args.requests / 20).min(5_000) as usize);
    let accounts = harness::customer_accounts(&app, people_needed).await?;
    let (tokens, people): (Vec<String>, Vec<UserId>) = accounts.into_iter().unzip();
    let tokens = Arc::new(tokens);
    let harness::Baselines { fsync_ms, healthz: health } = harness::baselines(&server, args.concurrency, args.requests).await?;
    let (shop, skus) = seed_catalogue(&app, 1, sharemall_domain::catalog::MAX_STOCK).await?;
    let campaigns = campaigns(&app, skus[0], people[0]).await?;

    // Timed phase: enough groups that every join finds a seat (average free seats per group: 5).
    let free_per_round: i64 = SIZES.map(|s| s - 1).sum::<i64>();
    let group_count = (args.requests as usize).div_ceil(free_per_round as usize) * SIZES.count();
    let open = Arc::new(open_groups(&app, &campaigns, shop, &people, group_count, "t").await?);
    // Join i takes the i-th seat of a walk over the groups' free seats: first seat of every
    // group, then the second, and so on; each seat has its own customer.
    let seats: Arc<Vec<(GroupId, usize)>> = Arc::new(
        (0..SIZES.count() - 1)
            .flat_map(|round| {
                open.iter()
                    .enumerate()
                    .filter(move |(_, (_, size))| (round as i64) < size - 1)
                    .map(move |(n, (g, _))| (*g, joiner_for(n, round, people_needed)))
            })
            .collect(),
    );
    let (commits_before, commands_before) = app.store.writer_stats();
    let clock = harness::PhaseClock::start(&app.store);
    let (base, tok, walk) = (server.base.clone(), Arc::clone(&tokens), Arc::clone(&seats));
    let timed = harness::drive(&server.client, args.concurrency, args.requests.min(seats.len() as u64), move |i| {
        let (group, customer) = walk[i as usize];
        join_request(&base, &tok[customer], group, i)
    })
    .await;
    let (commits_after, commands_after) = app.store.writer_stats();
    let per_op = clock.per_command(&app.store, commands_after - commands_before);
    let rss_mb = harness::rss_mb();

    // Contention phase: three joiners per free seat on fresh groups, then every seat paid.
    let fresh = Arc::new(open_groups(&app, &campaigns, shop, &people, CONTENDED_GROUPS, "c").await?);
    let free_seats: i64 = fresh.iter().map(|(_, size)| size - 1).sum();
    let attempts: Arc<Vec<(GroupId, usize)>> = Arc::new(
        fresh
            .iter()
            .enumerate()
            .flat_map(|(n, (g, size))| (0..3 * (*size as usize - 1)).map(move |k| (*g, joiner_for(n, k, people_needed))))
            .collect(),
    );
    let (base, tok, tries) = (server.base.clone(), Arc::clone(&tokens), Arc::clone(&attempts));
    let contended = harness::drive(&server.client, args.concurrency, attempts.len() as u64, move |i| {
        let (group, customer) = tries[i as usize];
        join_request(&base, &tok[customer], group, 1_000_000_000 + i)
    })
    .await;
    let now = app.now();
    let fresh_ids: Vec<GroupId> = fresh.iter().map(|(g, _)| *g).collect();
    let (overfilled, checks) = app
        .store
        .write(move |sql| {
            for group in &fresh_ids {
                let held = sql.query(
                    "SELECT order_id, customer_id FROM buy_group_members WHERE group_id = $1 AND status = 'held' ORDER BY order_id",
                    params![*group],
                )?;
                for (n, row) in held.iter().enumerate() {
                    pay_at_store(sql, now, row.id(0)?, row.id(1)?, &format!("BCP{group}{n}"))?;
                }
            }
            let overfilled = sql.query_i64("SELECT COUNT(*) FROM buy_groups WHERE paid + held > size", params![])?;
            Ok((overfilled, check_all(sql)?))
        })
        .await?;
    let fresh_ids: Vec<GroupId> = fresh.iter().map(|(g, _)| *g).collect();
    let (succeeded_once, messages) = app
        .store
        .read(move |sql| {
            let (mut succeeded, mut messages) = (0i64, 0i64);
            for group in &fresh_ids {
                succeeded += sql
                    .query_i64("SELECT COUNT(*) FROM buy_groups WHERE id = $1 AND status = 'succeeded' AND paid = size", params![*group])?;
                messages += sql.query_i64(
                    "SELECT COUNT(*) FROM inbox_messages WHERE kind = 'group_succeeded' AND subject = $1",
                    params![group.to_string()],
                )?;
            }
            Ok((succeeded, messages))
        })
        .await?;
    let members_expected: i64 = fresh.iter().map(|(_, size)| *size).sum();
    let violations: usize = checks.iter().map(|c| c.violations.len()).sum();
    let invariants_ok = violations == 0
        && overfilled == 0
        && contended.ok as i64 == free_seats
        && succeeded_once == CONTENDED_GROUPS as i64
        && messages == members_expected
        && timed.server_errors == 0
        && contended.server_errors == 0
        && timed.transport_errors == 0;
    let commits = commits_after - commits_before;
    let backend = server.backend;
    server.finish().await?;
    let report = json!({
        "workload": "group-join",
        "backend": backend,
        "concurrency": args.concurrency,
        "batch_max": batch_max,
        "groups": group_count,
        "commits": commits,
        "joins_per_commit": harness::per_commit(commands_after - commands_before, commits),
        "us_per_op": per_op,
        "overfilled_groups": overfilled,
        "contention": {
            "groups": CONTENDED_GROUPS,
            "free_seats": free_seats,
            "joiners": attempts.len(),
            "seated": contended.ok,
            "refused": contended.refused,
            "succeeded_exactly_once": succeeded_once,
            "success_messages": messages,
        },
        "healthz": harness::phase_json(&health),
        "fsync_ms": (fsync_ms * 1_000.0).round() / 1_000.0,
        "rss_mb": rss_mb.round(),
        "check_violations": violations,
        "invariants_ok": invariants_ok,
    });
    Ok(harness::with_timed_phase(report, &timed))
}
