//! Bargains (砍价): exactly K helps reach the floor with the stored cuts equal to the seed's
//! sequence; every abuse is refused with its code and changes nothing; concurrent helps never
//! take a cut twice or pass K; concurrent buys never pass the campaign's cap; an order that
//! closes unpaid gives the bargain back; `sharemall check` catches corrupted bargains.

use sharemall_domain::bargain::{BargainCampaignRequest, BargainTerms, BuyRule, DEFAULT_HOURS};
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{BargainCampaignId, BargainId, Error, ErrorCode, Money, Timestamp, UserId};
use sharemall_store::model::{HelpDone, OrderPlaced};
use sharemall_store::ops::bargain_campaigns::{self, NewBargainCampaign};
use sharemall_store::ops::bargains::{self, BargainBuy, NewBargain};
use sharemall_store::ops::orders::{self, CancelBy};
use sharemall_store::ops::{bargain_views, check};
use sharemall_store::{Store, params};

use crate::harness::*;

const START: i64 = 10_000;
const FLOOR: i64 = 6_000;

/// A sound request for the fixture's SKU (retail 100.00, supply 60.00), open for a week from T0.
fn request(k: i64, stock_cap: i64, buy_rule: BuyRule) -> BargainCampaignRequest {
    BargainCampaignRequest {
        start: Money::from_fen(START),
        floor: Money::from_fen(FLOOR),
        helpers_needed: k,
        hours: DEFAULT_HOURS,
        starts_at: T0,
        ends_at: T0.plus_ms(7 * 24 * HOUR_MS),
        stock_cap,
        buy_rule,
    }
}

/// A campaign on the fixture's only SKU, run by an operator.
async fn campaign(h: &Harness, f: &Fixture, request: BargainCampaignRequest) -> BargainCampaignId {
    let operator = h.user(sharemall_domain::account::Role::Operator).await;
    let new = NewBargainCampaign { shop: None, sku: f.skus[0], request, created_by: operator };
    h.store.write(move |sql| bargain_campaigns::create_campaign(sql, T0, &new)).await.expect("create campaign")
}

async fn start(h: &Harness, f: &Fixture, campaign: BargainCampaignId, starter: UserId, seed: u64) -> BargainId {
    let new = NewBargain { campaign, shop: f.shop, starter, seed };
    let started = h.store.write(move |sql| bargains::start_bargain(sql, T0, &new)).await.expect("start bargain");
    assert!(started.started, "[{:?}] a new bargain", h.kind);
    started.id
}

async fn help_on(store: &Store, now: Timestamp, id: BargainId, helper: UserId) -> Result<HelpDone, Error> {
    store.write(move |sql| bargains::help(sql, now, id, helper)).await
}

fn purchase(customer: UserId, n: usize) -> BargainBuy {
    BargainBuy {
        customer,
        recipient: "张三".into(),
        phone: "13800000000".into(),
        address: "上海市 浦东新区 1 号".into(),
        note: String::new(),
        order_no: order_no("BG", n),
        pay_window_ms: sharemall_domain::order::DEFAULT_PAY_WINDOW_MS,
        shipping: ShippingRule { flat_fee: Money::from_fen(800), free_at_or_above: Money::from_fen(9_900) },
    }
}

async fn buy_on(store: &Store, now: Timestamp, id: BargainId, customer: UserId, n: usize) -> Result<OrderPlaced, Error> {
    let cmd = purchase(customer, n);
    store.write(move |sql| bargains::buy(sql, now, id, &cmd, None)).await
}

/// Everything about a bargain that an abuse must not change: (helps, current, status, order,
/// help rows, campaign units used).
async fn snapshot(h: &Harness, id: BargainId) -> (i64, i64, String, Option<String>, i64, i64) {
    h.store
        .read(move |sql| {
            let r = sql.query_one(
                "SELECT b.helps, b.current_fen, b.status, b.order_id, (SELECT COUNT(*) FROM bargain_helps WHERE bargain_id = b.id), c.stock_used \
                 FROM bargains b JOIN bargain_campaigns c ON c.id = b.campaign_id WHERE b.id = $1",
                params![id],
            )?;
            Ok((r.i64(0)?, r.i64(1)?, r.text(2)?, r.opt_text(3)?, r.i64(4)?, r.i64(5)?))
        })
        .await
        .expect("snapshot")
}

backend_test! {
    /// K distinct helpers take the price from start to floor; the stored cuts are exactly
    /// `cuts(seed)` and sum to start − floor; the view shows the helpers masked and no seed.
    async fn exactly_k_helps_reach_the_floor(h: Harness) {
        let k = 5;
        let f = h.fixture(1, START, 100, 1 + k as usize + 1).await;
        let c = campaign(&h, &f, request(k, 10, BuyRule::AtCurrentPrice)).await;
        let seed = 0xDEAD_BEEF_u64 << 30;
        let id = start(&h, &f, c, f.customers[0], seed).await;
        let again = NewBargain { campaign: c, shop: f.shop, starter: f.customers[0], seed: 1 };
        let again = h.store.write(move |sql| bargains::start_bargain(sql, T0, &again)).await.expect("start again");
        assert_eq!((again.id, again.started), (id, false), "[{:?}] one running bargain per customer per campaign", h.kind);

        let terms = BargainTerms::new(Money::from_fen(START), Money::from_fen(FLOOR), Money::from_fen(FLOOR), k).unwrap();
        let cuts = terms.cuts(seed).unwrap();
        let mut price = START;
        for (i, helper) in f.customers[1..=k as usize].iter().enumerate() {
            let done = help_on(&h.store, T0.plus_ms(i as i64), id, *helper).await.expect("help");
            price -= cuts[i].fen();
            assert_eq!((done.seq, done.cut_fen, done.current_fen), (i as i64 + 1, cuts[i].fen(), price), "[{:?}] help {i}", h.kind);
        }
        assert_eq!(price, FLOOR);
        let stored: Vec<i64> = h
            .store
            .read(move |sql| sql.query("SELECT cut_fen FROM bargain_helps WHERE bargain_id = $1 ORDER BY seq", params![id])?.iter().map(|r| r.i64(0)).collect())
            .await
            .unwrap();
        assert_eq!(stored, cuts.iter().map(|c| c.fen()).collect::<Vec<_>>(), "[{:?}] stored cuts are cuts(seed)", h.kind);
        assert_eq!(stored.iter().sum::<i64>(), START - FLOOR);
        let stored_seed = h.store.read(move |sql| sql.query_i64("SELECT seed FROM bargains WHERE id = $1", params![id])).await.unwrap();
        assert_eq!(stored_seed as u64, seed, "[{:?}] the seed round-trips through BIGINT", h.kind);

        let late = help_on(&h.store, T0.plus_ms(10), id, f.customers[k as usize + 1]).await;
        assert_eq!(code(&late), Some(ErrorCode::BargainFinished), "[{:?}] help after K", h.kind);
        let view = h.store.read(move |sql| bargain_views::load_bargain(sql, T0.plus_ms(HOUR_MS), id, None)).await.unwrap();
        assert_eq!((view.current_fen, view.helps, view.helpers_needed, view.status.as_str()), (FLOOR, k, k, "running"));
        assert_eq!((view.seconds_left, view.can_buy, view.mine, view.order_id), ((DEFAULT_HOURS - 1) * 3_600, true, false, None));
        assert!(view.helpers.iter().all(|helper| helper.name == "T**"), "[{:?}] names masked: {:?}", h.kind, view.helpers);
        h.assert_consistent("after K helps").await;
    }
}

backend_test! {
    /// Self-help, a second help, help after expiry, a buy by another customer and a buy below
    /// the floor under floor_only are each refused with their code, and change nothing.
    async fn every_abuse_is_refused_and_changes_nothing(h: Harness) {
        let f = h.fixture(1, START, 100, 4).await;
        let (starter, friend, stranger, late) = (f.customers[0], f.customers[1], f.customers[2], f.customers[3]);
        let c = campaign(&h, &f, request(3, 10, BuyRule::OnlyAtFloor)).await;
        let id = start(&h, &f, c, starter, 7).await;
        help_on(&h.store, T0, id, friend).await.expect("first help");
        let before = snapshot(&h, id).await;

        assert_eq!(code(&help_on(&h.store, T0, id, starter).await), Some(ErrorCode::BargainSelfHelp));
        assert_eq!(code(&help_on(&h.store, T0, id, friend).await), Some(ErrorCode::BargainAlreadyHelped));
        assert_eq!(code(&buy_on(&h.store, T0, id, stranger, 1).await), Some(ErrorCode::Forbidden), "[{:?}] not the starter", h.kind);
        assert_eq!(code(&buy_on(&h.store, T0, id, starter, 2).await), Some(ErrorCode::BargainFloorNotReached));
        let expired = T0.plus_ms(DEFAULT_HOURS * HOUR_MS);
        assert_eq!(code(&help_on(&h.store, expired, id, late).await), Some(ErrorCode::BargainExpired));
        assert_eq!(code(&buy_on(&h.store, expired, id, starter, 3).await), Some(ErrorCode::BargainExpired));
        assert_eq!(code(&help_on(&h.store, T0, BargainId::new(), late).await), Some(ErrorCode::NotFound));
        assert_eq!(snapshot(&h, id).await, before, "[{:?}] refusals change nothing", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 0);
        let view = h.store.read(move |sql| bargain_views::load_bargain(sql, expired, id, Some(starter))).await.unwrap();
        assert_eq!((view.status.as_str(), view.seconds_left, view.can_buy, view.mine), ("expired", 0, false, true));

        // A new bargain may start once the old one has expired; the old one is marked so.
        let next = NewBargain { campaign: c, shop: f.shop, starter, seed: 8 };
        let next = h.store.write(move |sql| bargains::start_bargain(sql, expired, &next)).await.expect("start after expiry");
        assert!(next.started && next.id != id, "[{:?}]", h.kind);
        assert_eq!(snapshot(&h, id).await.2, "expired");
        h.assert_consistent("after refusals").await;
    }
}

backend_test! {
    /// 3K distinct helpers at once, through three stores (three writers, so on PostgreSQL
    /// three concurrent transactions): exactly K helps, the price is the floor. The same helper
    /// five times at once: one help.
    async fn concurrent_helps_never_pass_k_or_repeat(h: Harness) {
        let k = 4_usize;
        let f = h.fixture(1, START, 100, 1 + 3 * k).await;
        let c = campaign(&h, &f, request(k as i64, 10, BuyRule::AtCurrentPrice)).await;
        let stores = [h.store.clone(), open_store(&h.url).await, open_store(&h.url).await];
        for round in 0..h.seeds(3, 2) {
            let id = start(&h, &f, c, f.customers[0], round).await;
            let mut tasks = Vec::new();
            for (i, helper) in f.customers[1..].iter().copied().enumerate() {
                let store = stores[i % stores.len()].clone();
                tasks.push(tokio::spawn(async move { help_on(&store, T0, id, helper).await }));
            }
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.expect("help task"));
            }
            let ok = results.iter().filter(|r| r.is_ok()).count();
            let others: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).filter(|e| e.code != ErrorCode::BargainFinished).collect();
            assert!(others.is_empty(), "[{:?}] unexpected errors {others:?}", h.kind);
            assert_eq!(ok, k, "[{:?}] round {round}: exactly K helps", h.kind);
            let mut seqs: Vec<i64> = results.iter().flatten().map(|d| d.seq).collect();
            seqs.sort_unstable();
            assert_eq!(seqs, (1..=k as i64).collect::<Vec<_>>(), "[{:?}] each cut taken once", h.kind);
            let (helps, current, ..) = snapshot(&h, id).await;
            assert_eq!((helps, current), (k as i64, FLOOR), "[{:?}] round {round}", h.kind);
            // Free the slot for the next round's bargain.
            h.store.write(move |sql| sql.execute("UPDATE bargains SET status = 'expired' WHERE id = $1", params![id])).await.unwrap();
        }

        let id = start(&h, &f, c, f.customers[1], 99).await;
        let helper = f.customers[2];
        let mut tasks = Vec::new();
        for i in 0..5 {
            let store = stores[i % stores.len()].clone();
            tasks.push(tokio::spawn(async move { help_on(&store, T0, id, helper).await }));
        }
        let mut codes = Vec::new();
        for task in tasks {
            codes.push(code(&task.await.expect("help task")));
        }
        assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "[{:?}] one help: {codes:?}", h.kind);
        assert!(codes.iter().flatten().all(|c| *c == ErrorCode::BargainAlreadyHelped), "[{:?}] {codes:?}", h.kind);
        assert_eq!(snapshot(&h, id).await.0, 1);
        h.assert_consistent("after racing helps").await;
    }
}

backend_test! {
    /// Eight starters buy at once through three stores from a campaign capped at 3 units:
    /// exactly 3 orders, 5 `campaign_sold_out`, and units used never pass the cap.
    async fn concurrent_buys_never_pass_the_campaign_cap(h: Harness) {
        let f = h.fixture(1, START, 100, 9).await;
        let c = campaign(&h, &f, request(2, 3, BuyRule::AtCurrentPrice)).await;
        let stores = [h.store.clone(), open_store(&h.url).await, open_store(&h.url).await];
        let mut ids = Vec::new();
        for (i, starter) in f.customers[..8].iter().enumerate() {
            let id = start(&h, &f, c, *starter, i as u64).await;
            help_on(&h.store, T0, id, f.customers[8]).await.expect("one help each");
            ids.push((id, *starter));
        }
        let mut tasks = Vec::new();
        for (i, (id, starter)) in ids.iter().copied().enumerate() {
            let store = stores[i % stores.len()].clone();
            tasks.push(tokio::spawn(async move { buy_on(&store, T0, id, starter, i).await }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("buy task"));
        }
        let ok: Vec<_> = results.iter().flatten().collect();
        let sold_out = results.iter().filter(|r| code(r) == Some(ErrorCode::CampaignSoldOut)).count();
        assert_eq!((ok.len(), sold_out), (3, 5), "[{:?}] {results:?}", h.kind);
        let used = h.count("SELECT stock_used FROM bargain_campaigns").await;
        assert_eq!(used, 3, "[{:?}] units used = the cap", h.kind);
        assert_eq!(h.stock(f.skus[0]).await, (97, 3, 0), "[{:?}] one SKU unit reserved per order", h.kind);
        h.assert_consistent("after racing buys").await;
    }
}

backend_test! {
    /// A bought bargain's order is priced at the bargain's price; cancelled unpaid, the
    /// campaign's unit comes back and the starter may buy again while the bargain runs.
    async fn an_unpaid_cancelled_order_gives_the_bargain_back(h: Harness) {
        let f = h.fixture(1, START, 100, 3).await;
        let c = campaign(&h, &f, request(2, 1, BuyRule::AtCurrentPrice)).await;
        let id = start(&h, &f, c, f.customers[0], 5).await;
        let done = help_on(&h.store, T0, id, f.customers[1]).await.expect("help");
        let placed = buy_on(&h.store, T0, id, f.customers[0], 1).await.expect("buy");
        let order = placed.order_id;
        let loaded = h.store.read(move |sql| orders::load_order(sql, order)).await.unwrap();
        assert_eq!((loaded.base_fen, loaded.activity_discount_fen, loaded.goods_fen), (START, START - done.current_fen, done.current_fen));
        let activity = h.store.read(move |sql| sql.query_one("SELECT activity FROM orders WHERE id = $1", params![order])?.text(0)).await.unwrap();
        assert_eq!(activity, "bargain");
        assert_eq!(snapshot(&h, id).await.2, "bought");
        assert_eq!(code(&help_on(&h.store, T0, id, f.customers[2]).await), Some(ErrorCode::BargainFinished), "no help once bought");
        assert_eq!(code(&buy_on(&h.store, T0, id, f.customers[0], 2).await), Some(ErrorCode::BargainFinished), "one buy");
        let again = NewBargain { campaign: c, shop: f.shop, starter: f.customers[0], seed: 6 };
        let again = h.store.write(move |sql| bargains::start_bargain(sql, T0, &again)).await.unwrap();
        assert_eq!((again.id, again.started), (id, false), "[{:?}] the bought, unpaid bargain is still the open one", h.kind);

        let after_window = T0.plus_ms(sharemall_domain::order::DEFAULT_PAY_WINDOW_MS);
        let cancelled = h.store.write(move |sql| orders::cancel_order(sql, after_window, order, CancelBy::Deadline)).await.unwrap();
        assert!(cancelled);
        let (helps, current, status, order_id, _, used) = snapshot(&h, id).await;
        assert_eq!((helps, current, status.as_str(), order_id, used), (1, done.current_fen, "running", None, 0), "[{:?}]", h.kind);
        h.assert_consistent("after the cancel").await;
        let second = buy_on(&h.store, after_window, id, f.customers[0], 3).await.expect("buy again");
        assert_eq!(second.payable_fen, placed.payable_fen);
        assert_eq!(snapshot(&h, id).await.5, 1);
        h.assert_consistent("after buying again").await;
    }
}

backend_test! {
    /// Campaign rules are checked at creation; a refused campaign stores nothing.
    async fn campaigns_are_checked_and_end_once(h: Harness) {
        let f = h.fixture(1, START, 100, 0).await;
        let operator = h.user(sharemall_domain::account::Role::Operator).await;
        let create = |request: BargainCampaignRequest| {
            let new = NewBargainCampaign { shop: Some(f.shop), sku: f.skus[0], request, created_by: operator };
            let store = h.store.clone();
            async move { store.write(move |sql| bargain_campaigns::create_campaign(sql, T0, &new)).await }
        };
        let sound = request(5, 10, BuyRule::OnlyAtFloor);
        assert_eq!(code(&create(BargainCampaignRequest { start: Money::from_fen(START + 1), ..sound }).await), Some(ErrorCode::InvalidPrice));
        assert_eq!(code(&create(BargainCampaignRequest { floor: Money::from_fen(FLOOR - 1), ..sound }).await), Some(ErrorCode::InvalidPrice));
        assert_eq!(code(&create(BargainCampaignRequest { stock_cap: 0, ..sound }).await), Some(ErrorCode::InvalidInput));
        assert_eq!(h.count("SELECT COUNT(*) FROM bargain_campaigns").await, 0);
        let id = create(sound).await.expect("sound campaign");
        let first = h.store.write(move |sql| bargain_campaigns::end_campaign(sql, T0.plus_ms(5), id)).await.unwrap();
        let again = h.store.write(move |sql| bargain_campaigns::end_campaign(sql, T0.plus_ms(9), id)).await.unwrap();
        assert_eq!((first.ended_at, first.buy_rule.as_str(), first.shop_id), (Some(T0.millis() + 5), "floor_only", Some(f.shop)));
        assert_eq!(again, first, "[{:?}] ending again changes nothing", h.kind);
        let new = NewBargain { campaign: id, shop: f.shop, starter: operator, seed: 1 };
        let refused = h.store.write(move |sql| bargains::start_bargain(sql, T0.plus_ms(10), &new)).await;
        assert_eq!(code(&refused), Some(ErrorCode::CampaignNotActive), "[{:?}] no new bargain once ended", h.kind);
    }
}

backend_test! {
    /// Each bargain check fails when its invariant is broken by hand.
    async fn check_catches_corrupted_bargains(h: Harness) {
        let f = h.fixture(1, START, 100, 3).await;
        let c = campaign(&h, &f, request(3, 10, BuyRule::AtCurrentPrice)).await;
        let id = start(&h, &f, c, f.customers[0], 11).await;
        help_on(&h.store, T0, id, f.customers[1]).await.unwrap();
        help_on(&h.store, T0, id, f.customers[2]).await.unwrap();
        h.assert_consistent("before corruption").await;
        let failing = |statement: &'static str| {
            let store = h.store.clone();
            async move {
                store.write(move |sql| sql.execute(statement, params![])).await.expect("corrupt");
                let results = store.read(check::check_all).await.expect("check");
                results.into_iter().filter(|r| !r.violations.is_empty()).map(|r| r.name).collect::<Vec<_>>()
            }
        };
        let broken = failing("DELETE FROM bargain_helps WHERE seq = 2").await;
        assert!(broken.iter().any(|n| n.contains("help count")), "[{:?}] {broken:?}", h.kind);
        assert!(broken.iter().any(|n| n.contains("cuts sum")), "[{:?}] {broken:?}", h.kind);
        let broken = failing("UPDATE bargain_campaigns SET floor_fen = 9000").await;
        assert!(broken.iter().any(|n| n.contains("below its campaign's floor")), "[{:?}] {broken:?}", h.kind);
        let broken = failing("UPDATE bargain_campaigns SET stock_used = 1").await;
        assert!(broken.iter().any(|n| n.contains("units used")), "[{:?}] {broken:?}", h.kind);
    }
}
