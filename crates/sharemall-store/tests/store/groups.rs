//! Groups (拼团): a group opens at its opener's payment, fills with held seats that become paid,
//! succeeds exactly once at the N-th payment, and at expiry fails with every paid member
//! refunded exactly once (or completes at the platform's threshold). Every refusal has its code
//! and changes nothing; `check_all` stays clean after every step.

use sharemall_domain::account::Role;
use sharemall_domain::group_buy::{CampaignRequest, DEFAULT_HOURS};
use sharemall_domain::order::DEFAULT_PAY_WINDOW_MS;
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, Money, OrderId, RefundId, Timestamp, UserId};
use sharemall_store::model::{GroupDetail, OrderPlaced};
use sharemall_store::ops::group_campaigns::{self, NewCampaign};
use sharemall_store::ops::groups::{self, GroupOrder, SweepReport};
use sharemall_store::ops::orders::{self, CancelBy};
use sharemall_store::ops::payments::{self, PaymentApplied};
use sharemall_store::ops::{group_views, inbox};
use sharemall_store::params;

use crate::harness::*;

pub const GROUP_MS: i64 = DEFAULT_HOURS * HOUR_MS;

/// A campaign on the fixture's first SKU (retail 100.00, supply 60.00) at 80.00 a unit.
pub fn campaign_request(size: i64) -> CampaignRequest {
    CampaignRequest {
        size,
        group_price: Money::from_fen(8_000),
        hours: DEFAULT_HOURS,
        starts_at: T0,
        ends_at: T0.plus_ms(30 * 24 * HOUR_MS),
        stock_cap: 100_000,
        per_customer_limit: 3,
        new_customers_only: false,
        auto_complete_at: None,
    }
}

pub async fn campaign(h: &Harness, fx: &Fixture, request: CampaignRequest) -> CampaignId {
    let operator = h.user(Role::Operator).await;
    let new = NewCampaign { shop: None, sku: fx.skus[0], request, created_by: operator };
    h.store.write(move |sql| group_campaigns::create_campaign(sql, T0, &new)).await.expect("create campaign")
}

pub fn group_order(customer: UserId, quantity: i64) -> GroupOrder {
    GroupOrder {
        customer,
        quantity,
        recipient: "李四".into(),
        phone: "13900000000".into(),
        address: "杭州市 西湖区 2 号".into(),
        note: String::new(),
        order_no: order_no("G", 0),
        pay_window_ms: DEFAULT_PAY_WINDOW_MS,
        shipping: ShippingRule::FREE,
    }
}

pub async fn open(h: &Harness, now: Timestamp, fx: &Fixture, campaign: CampaignId, customer: UserId) -> Result<OrderPlaced, Error> {
    let (order, shop) = (group_order(customer, 1), fx.shop);
    h.store.write(move |sql| groups::open_group(sql, now, campaign, shop, &order, None)).await
}

pub async fn join(h: &Harness, now: Timestamp, group: GroupId, customer: UserId) -> Result<OrderPlaced, Error> {
    let order = group_order(customer, 1);
    h.store.write(move |sql| groups::join_group(sql, now, group, &order, None)).await
}

/// Pays an order in full at `now`, as a verified provider callback would.
pub async fn pay(h: &Harness, now: Timestamp, placed: &OrderPlaced, customer: UserId) -> Result<PaymentApplied, Error> {
    let (id, trade_no) = (placed.order_id, format!("T{}", placed.order_no));
    h.store
        .write(move |sql| {
            let payment = payments::create_payment(sql, now, id, customer, "sandbox", &trade_no)?;
            payments::apply_payment_success(sql, now, &trade_no, payment.amount_fen, "provider-txn")
        })
        .await
}

/// The group an opener's paid order opened.
pub async fn group_of(h: &Harness, order: OrderId) -> GroupId {
    h.id_of(format!("SELECT group_id FROM buy_group_members WHERE order_id = '{order}'")).await
}

/// Opens a group with `leader` and pays for it; returns the group.
pub async fn opened(h: &Harness, now: Timestamp, fx: &Fixture, campaign: CampaignId, leader: UserId) -> GroupId {
    let placed = open(h, now, fx, campaign, leader).await.expect("open");
    assert_eq!(pay(h, now, &placed, leader).await.expect("pay opener"), PaymentApplied::Paid);
    group_of(h, placed.order_id).await
}

pub async fn detail(h: &Harness, now: Timestamp, group: GroupId) -> GroupDetail {
    h.store.read(move |sql| group_views::load_group(sql, now, group)).await.expect("load group")
}

pub async fn order_status(h: &Harness, order: OrderId) -> String {
    h.store.read(move |sql| sql.query_one("SELECT status FROM orders WHERE id = $1", params![order])?.text(0)).await.expect("status")
}

pub async fn sweep(h: &Harness, now: Timestamp) -> SweepReport {
    h.store.write(move |sql| groups::sweep_expired(sql, now, 100)).await.expect("sweep")
}

async fn refunds_of(h: &Harness, order: OrderId) -> Vec<RefundId> {
    h.store
        .read(move |sql| sql.query("SELECT id FROM refunds WHERE order_id = $1", params![order])?.iter().map(|r| r.id(0)).collect())
        .await
        .expect("refunds")
}

backend_test! {
    /// 3 seats: the opener pays and the group opens; two joiners hold the last seats, so a
    /// fourth is refused; the last payment succeeds the group once and releases every order to
    /// shipping; every member is told once.
    async fn a_group_fills_and_succeeds_exactly_once(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 4).await;
        let c = campaign(&h, &fx, campaign_request(3)).await;
        let [a, b, c2, d] = [fx.customers[0], fx.customers[1], fx.customers[2], fx.customers[3]];
        let leader_order = open(&h, T0, &fx, c, a).await.expect("open");
        assert_eq!(leader_order.payable_fen, 8_000, "the group price, not the retail price");
        assert_eq!(h.count("SELECT COUNT(*) FROM buy_groups").await, 0, "nothing to join before the opener pays");
        assert_eq!(pay(&h, T0, &leader_order, a).await.expect("pay"), PaymentApplied::Paid);
        assert_eq!(order_status(&h, leader_order.order_id).await, "awaiting_group");
        let group = group_of(&h, leader_order.order_id).await;
        let opened = detail(&h, T0, group).await;
        assert_eq!((opened.status.as_str(), opened.paid, opened.held, opened.seats_left), ("open", 1, 0, 2));
        assert_eq!(opened.expires_at, T0.plus_ms(GROUP_MS).millis());

        let now = T0.plus_ms(HOUR_MS);
        let joined_b = join(&h, now, group, b).await.expect("b joins");
        let joined_c = join(&h, now, group, c2).await.expect("c joins");
        assert_eq!(code(&join(&h, now, group, d).await), Some(ErrorCode::GroupFull), "paid + held = size");
        assert_eq!(detail(&h, now, group).await.held, 2);
        h.assert_consistent("two seats held").await;

        assert_eq!(pay(&h, now, &joined_b, b).await.expect("pay b"), PaymentApplied::Paid);
        assert_eq!(detail(&h, now, group).await.status, "open");
        assert_eq!(order_status(&h, joined_b.order_id).await, "awaiting_group", "never ships before the group succeeds");
        assert_eq!(pay(&h, now, &joined_c, c2).await.expect("pay c"), PaymentApplied::Paid);
        let done = detail(&h, now, group).await;
        assert_eq!((done.status.as_str(), done.paid, done.held, done.members.len()), ("succeeded", 3, 0, 3));
        assert!(done.members[0].leader && done.members.iter().all(|m| m.name == "T**"), "masked names: {:?}", done.members);
        for order in [leader_order.order_id, joined_b.order_id, joined_c.order_id] {
            assert_eq!(order_status(&h, order).await, "to_ship");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM inbox_messages WHERE kind = 'group_succeeded'").await, 3);
        // The same success delivered again changes nothing.
        let trade_no = format!("T{}", joined_c.order_no);
        let again = h.store.write(move |sql| payments::apply_payment_success(sql, now, &trade_no, 8_000, "provider-txn")).await;
        assert_eq!(again.expect("replay"), PaymentApplied::AlreadyApplied);
        assert_eq!(code(&join(&h, now, group, d).await), Some(ErrorCode::GroupFull), "a complete group takes nobody");
        assert_eq!(h.stock(fx.skus[0]).await, (97, 0, 3));
        h.assert_consistent("succeeded").await;
    }
}

backend_test! {
    /// Each refusal names its rule and leaves every row as it was.
    async fn joins_that_break_a_rule_are_refused_and_change_nothing(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 4).await;
        let [a, b, veteran, newcomer] = [fx.customers[0], fx.customers[1], fx.customers[2], fx.customers[3]];
        let request = CampaignRequest { per_customer_limit: 1, new_customers_only: true, ..campaign_request(5) };
        let c = campaign(&h, &fx, request).await;
        let group = opened(&h, T0, &fx, c, a).await;
        // The veteran has paid for an ordinary order before.
        let ordinary = h.place(T0, fx.order(veteran, vec![(fx.skus[0], 1)], order_no("V", 0))).await;
        pay(&h, T0, &ordinary, veteran).await.expect("veteran pays");
        h.assert_consistent("setup").await;
        let before = (detail(&h, T0, group).await.held, h.stock(fx.skus[0]).await, h.count("SELECT COUNT(*) FROM orders").await);

        assert_eq!(code(&join(&h, T0, group, a).await), Some(ErrorCode::AlreadyInGroup), "the opener joining their own group");
        assert_eq!(code(&join(&h, T0, group, veteran).await), Some(ErrorCode::NewCustomersOnly));
        assert_eq!(code(&join(&h, T0, GroupId::new(), b).await), Some(ErrorCode::NotFound));
        assert_eq!(code(&open(&h, T0, &fx, c, a).await), Some(ErrorCode::CampaignLimitReached), "one unit per customer");
        let expired = T0.plus_ms(GROUP_MS);
        assert_eq!(code(&join(&h, expired, group, b).await), Some(ErrorCode::GroupExpired), "at expires_at the group is closed");
        let after = (detail(&h, T0, group).await.held, h.stock(fx.skus[0]).await, h.count("SELECT COUNT(*) FROM orders").await);
        assert_eq!(before, after);

        join(&h, T0, group, b).await.expect("b joins");
        assert_eq!(code(&join(&h, T0, group, b).await), Some(ErrorCode::AlreadyInGroup), "joining twice");
        assert_eq!(code(&open(&h, T0.plus_ms(-1), &fx, c, newcomer).await), Some(ErrorCode::CampaignNotActive), "before the window");
        let operator = h.user(Role::Operator).await;
        let small = CampaignRequest { stock_cap: 2, ..campaign_request(2) };
        let new = NewCampaign { shop: None, sku: fx.skus[0], request: small, created_by: operator };
        let tight = h.store.write(move |sql| group_campaigns::create_campaign(sql, T0, &new)).await.expect("campaign");
        open(&h, T0, &fx, tight, newcomer).await.expect("first unit");
        open(&h, T0, &fx, tight, b).await.expect("second unit");
        assert_eq!(code(&open(&h, T0, &fx, tight, veteran).await), Some(ErrorCode::CampaignSoldOut));
        h.store.write(move |sql| group_campaigns::end_campaign(sql, T0, c)).await.expect("end");
        assert_eq!(code(&open(&h, T0, &fx, c, newcomer).await), Some(ErrorCode::CampaignNotActive), "ended early");
        h.assert_consistent("after refusals").await;
    }
}

backend_test! {
    /// A joiner who cancels gives the seat and the campaign's unit back; the next joiner takes it.
    async fn a_cancelled_join_releases_its_seat(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 3).await;
        let c = campaign(&h, &fx, CampaignRequest { stock_cap: 2, ..campaign_request(2) }).await;
        let group = opened(&h, T0, &fx, c, fx.customers[0]).await;
        let held = join(&h, T0, group, fx.customers[1]).await.expect("join");
        assert_eq!(code(&join(&h, T0, group, fx.customers[2]).await), Some(ErrorCode::GroupFull));
        let (id, who) = (held.order_id, fx.customers[1]);
        assert!(h.store.write(move |sql| orders::cancel_order(sql, T0, id, CancelBy::Customer(who))).await.expect("cancel"));
        let after = detail(&h, T0, group).await;
        assert_eq!((after.held, after.seats_left), (0, 1));
        assert_eq!(h.count("SELECT stock_used FROM group_campaigns").await, 1);
        h.assert_consistent("after cancel").await;
        let taken = join(&h, T0, group, fx.customers[2]).await.expect("the seat is free again");
        pay(&h, T0, &taken, fx.customers[2]).await.expect("pay");
        assert_eq!(detail(&h, T0, group).await.status, "succeeded");
        h.assert_consistent("succeeded").await;
    }
}

backend_test! {
    /// At its deadline an unfilled group reads as expired at once; the sweep fails it, refunds
    /// each paid member exactly once, cancels the unpaid hold, returns the units, tells every
    /// member; a second sweep finds nothing. The refunds complete through `finish_refund`.
    async fn an_expired_group_refunds_its_paid_members_once(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 3).await;
        let [a, b, c2] = [fx.customers[0], fx.customers[1], fx.customers[2]];
        let c = campaign(&h, &fx, campaign_request(4)).await;
        let group = opened(&h, T0, &fx, c, a).await;
        let paid = join(&h, T0, group, b).await.expect("b joins");
        pay(&h, T0, &paid, b).await.expect("b pays");
        let hold = join(&h, T0.plus_ms(GROUP_MS - 60_000), group, c2).await.expect("c holds");
        assert_eq!(hold.pay_deadline_at, T0.plus_ms(GROUP_MS).millis(), "a seat never outlives its group");

        let deadline = T0.plus_ms(GROUP_MS);
        assert_eq!(detail(&h, deadline.plus_ms(-1), group).await.status, "open");
        assert_eq!(detail(&h, deadline, group).await.status, "expired", "expired before any sweep");
        assert_eq!(sweep(&h, deadline.plus_ms(-1)).await, SweepReport::default(), "not due a millisecond early");
        let report = sweep(&h, deadline).await;
        assert_eq!(report, SweepReport { failed: 1, platform_completed: 0, refunds: 2, holds_cancelled: 1 });
        assert_eq!(sweep(&h, deadline).await, SweepReport::default(), "a second sweep does nothing");
        assert_eq!(detail(&h, deadline, group).await.status, "failed");
        assert_eq!(order_status(&h, hold.order_id).await, "cancelled");
        let leader_order: OrderId = h.id_of(format!("SELECT order_id FROM buy_group_members WHERE group_id = '{group}' AND leader")).await;
        for order in [leader_order, paid.order_id] {
            assert_eq!(order_status(&h, order).await, "refunding");
            assert_eq!(refunds_of(&h, order).await.len(), 1, "exactly one refund per paid member");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM inbox_messages WHERE kind = 'group_failed'").await, 2);
        assert_eq!(h.count("SELECT stock_used FROM group_campaigns").await, 0);
        h.assert_consistent("swept").await;
        for order in [leader_order, paid.order_id] {
            let refund = refunds_of(&h, order).await[0];
            h.store.write(move |sql| payments::finish_refund(sql, deadline, refund, "provider-refund")).await.expect("finish");
            assert_eq!(order_status(&h, order).await, "refunded");
        }
        assert_eq!(h.stock(fx.skus[0]).await, (100, 0, 0), "every unit back in the pool");
        h.assert_consistent("refunded").await;
    }
}

backend_test! {
    /// With auto-complete at 2 of 3, an expiring group with 2 paid members ships as a
    /// platform-completed group, showing only its real members; the unpaid hold is cancelled.
    async fn a_group_at_the_threshold_completes_without_invented_members(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 3).await;
        let c = campaign(&h, &fx, CampaignRequest { auto_complete_at: Some(2), ..campaign_request(3) }).await;
        let group = opened(&h, T0, &fx, c, fx.customers[0]).await;
        let second = join(&h, T0, group, fx.customers[1]).await.expect("join");
        pay(&h, T0, &second, fx.customers[1]).await.expect("pay");
        let hold = join(&h, T0, group, fx.customers[2]).await.expect("hold");
        let deadline = T0.plus_ms(GROUP_MS);
        let report = sweep(&h, deadline).await;
        assert_eq!((report.platform_completed, report.failed, report.refunds, report.holds_cancelled), (1, 0, 0, 1));
        let done = detail(&h, deadline, group).await;
        assert_eq!((done.status.as_str(), done.paid, done.members.len()), ("platform_completed", 2, 2));
        assert_eq!(order_status(&h, second.order_id).await, "to_ship");
        assert_eq!(order_status(&h, hold.order_id).await, "cancelled");
        assert_eq!(h.count("SELECT COUNT(*) FROM refunds").await, 0);
        h.assert_consistent("platform completed").await;
    }
}

backend_test! {
    /// A joiner's money that arrives at the deadline, before the sweep, does not count: the
    /// seat is released and the payment refunded once; the sweep then fails the group and
    /// refunds the opener only.
    async fn a_payment_after_the_deadline_is_refunded_not_seated(h: Harness) {
        let fx = h.fixture(1, 10_000, 100, 2).await;
        let c = campaign(&h, &fx, campaign_request(2)).await;
        let group = opened(&h, T0, &fx, c, fx.customers[0]).await;
        let deadline = T0.plus_ms(GROUP_MS);
        let late = join(&h, deadline.plus_ms(-1), group, fx.customers[1]).await.expect("joins at expires_at − 1 ms");
        let (id, who, trade_no) = (late.order_id, fx.customers[1], format!("T{}", late.order_no));
        let trade = trade_no.clone();
        h.store.write(move |sql| payments::create_payment(sql, deadline.plus_ms(-1), id, who, "sandbox", &trade)).await.expect("start");
        let applied = h.store.write(move |sql| payments::apply_payment_success(sql, deadline, &trade_no, 8_000, "txn")).await;
        assert_eq!(applied.expect("apply"), PaymentApplied::RefundedLate);
        assert_eq!((detail(&h, deadline, group).await.paid, detail(&h, deadline, group).await.held), (1, 0));
        assert_eq!(order_status(&h, late.order_id).await, "refunding");
        let report = sweep(&h, deadline).await;
        assert_eq!((report.failed, report.refunds, report.holds_cancelled), (1, 1, 0));
        assert_eq!(refunds_of(&h, late.order_id).await.len(), 1);
        h.assert_consistent("late payment").await;
    }
}

backend_test! {
    /// A user's inbox: newest first, read marks, and the same message never twice.
    async fn the_inbox_says_each_thing_once(h: Harness) {
        let user = h.user(Role::Customer).await;
        let first = h.store.write(move |sql| inbox::notify(sql, T0, user, "group_failed", "g1", "{\"group_id\":\"g1\"}")).await;
        let again = h.store.write(move |sql| inbox::notify(sql, T0, user, "group_failed", "g1", "{\"group_id\":\"g1\"}")).await;
        assert_eq!((first.expect("notify"), again.expect("notify again")), (true, false));
        h.store.write(move |sql| inbox::notify(sql, T0, user, "group_succeeded", "g2", "{}")).await.expect("notify");
        let list = h.store.read(move |sql| inbox::messages(sql, user, 1, 10)).await.expect("list");
        assert_eq!(list.iter().map(|m| m.subject.as_str()).collect::<Vec<_>>(), ["g2", "g1"]);
        assert_eq!(h.store.read(move |sql| inbox::unread_count(sql, user)).await.expect("unread"), 2);
        assert_eq!(h.store.write(move |sql| inbox::mark_all_read(sql, T0, user)).await.expect("read"), 2);
        assert_eq!(h.store.read(move |sql| inbox::unread_count(sql, user)).await.expect("unread"), 0);
    }
}
