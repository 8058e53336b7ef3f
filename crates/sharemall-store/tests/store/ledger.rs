//! The commission ledger through an order's life: the split when the payment lands, the
//! settlement sweep after the return window, and refunds that void pending commission or claw
//! back settled commission. `check_all` (which includes every ledger invariant) stays clean
//! after every step.

use sharemall_domain::order::{DEFAULT_AUTO_RECEIVE_MS, RETURN_WINDOW_MS};
use sharemall_domain::{Money, OrderId, RefundId, ShopId, Timestamp, UserId};
use sharemall_store::ops::fulfilment::{self, ReceiveBy};
use sharemall_store::ops::ledger::{self, Balances};
use sharemall_store::ops::payments;
use sharemall_store::ops::settlement::{self, SETTLE_BATCH};
use sharemall_store::params;

use crate::harness::*;

pub const DAY_MS: i64 = 86_400_000;

pub async fn owner_of(h: &Harness, shop: ShopId) -> UserId {
    h.id_of(format!("SELECT owner_id FROM shops WHERE id = '{shop}'")).await
}

pub async fn balances(h: &Harness, user: UserId) -> Balances {
    h.store.read(move |sql| ledger::balances(sql, user)).await.expect("balances")
}

/// Pays an order in full through the sandbox records.
pub async fn pay(h: &Harness, now: Timestamp, id: OrderId, customer: UserId) {
    let trade_no = format!("LG-{id}");
    let payment =
        h.store.write(move |sql| payments::create_payment(sql, now, id, customer, "sandbox", &trade_no)).await.expect("create payment");
    let (out_trade_no, amount) = (payment.out_trade_no, payment.amount_fen);
    h.store
        .write(move |sql| payments::apply_payment_success(sql, now, &out_trade_no, amount, "provider-txn"))
        .await
        .expect("apply payment");
}

/// Ships the order and confirms receipt; returns when its return window closes.
pub async fn ship_and_receive(
    h: &Harness,
    now: Timestamp,
    supplier: sharemall_domain::SupplierId,
    id: OrderId,
    customer: UserId,
) -> Timestamp {
    h.store.write(move |sql| fulfilment::ship(sql, now, supplier, id, "SF", "SF0000000001", DEFAULT_AUTO_RECEIVE_MS)).await.expect("ship");
    let received = now.plus_ms(DAY_MS);
    assert!(
        h.store.write(move |sql| fulfilment::confirm_receipt(sql, received, id, ReceiveBy::Customer(customer), 0)).await.expect("receive")
    );
    received.plus_ms(RETURN_WINDOW_MS)
}

/// Requests a refund and has the provider confirm it at once.
pub async fn refund(h: &Harness, now: Timestamp, id: OrderId, fen: i64) -> RefundId {
    let requested = h
        .store
        .write(move |sql| payments::request_refund(sql, now, id, Money::from_fen(fen), "test refund"))
        .await
        .expect("request refund");
    let refund = requested.refund_id;
    assert!(h.store.write(move |sql| payments::finish_refund(sql, now, refund, "provider-refund")).await.expect("finish refund"));
    refund
}

pub async fn settle(h: &Harness, now: Timestamp) -> usize {
    h.store.write(move |sql| settlement::settle_due(sql, now, SETTLE_BATCH)).await.expect("settle")
}

async fn platform_revenue(h: &Harness) -> i64 {
    h.store
        .read(|sql| ledger::summed_balance(sql, &sharemall_domain::ledger::Account::PLATFORM_REVENUE))
        .await
        .expect("platform revenue")
        .fen()
}

backend_test! {
    async fn payment_splits_and_settlement_makes_commission_available(h: Harness) {
        // ¥30.00 a unit, supply ¥18.00, 10% commission: two units earn the owner ¥6.00.
        let fx = h.fixture(1, 3_000, 10, 1).await;
        let (sku, customer) = (fx.skus[0], fx.customers[0]);
        let owner = owner_of(&h, fx.shop).await;
        let id = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("LG", 0))).await.order_id;
        assert_eq!(balances(&h, owner).await, Balances::default());
        pay(&h, T0, id, customer).await;
        assert_eq!(balances(&h, owner).await, Balances { pending_fen: 600, ..Balances::default() });
        // The platform keeps the margin (¥60.00 − ¥36.00 − ¥6.00) and the ¥8.00 shipping.
        assert_eq!(platform_revenue(&h).await, 1_800 + 800);
        assert_eq!(h.count("SELECT COUNT(*) FROM commissions WHERE status = 'pending' AND settle_after IS NULL").await, 1);
        h.assert_consistent("paid and split").await;

        // A payment notification delivered again posts nothing more.
        let trade_no = format!("LG-{id}");
        h.store.write(move |sql| payments::apply_payment_success(sql, T0, &trade_no, 6_800, "provider-txn")).await.expect("again");
        assert_eq!(balances(&h, owner).await.pending_fen, 600);

        let window_closes = ship_and_receive(&h, T0.plus_ms(DAY_MS), fx.supplier, id, customer).await;
        assert_eq!(settle(&h, window_closes.plus_ms(-1)).await, 0, "nothing settles inside the return window");
        assert_eq!(settle(&h, window_closes).await, 1);
        // The sweep is idempotent: running it again (as a second worker would) settles nothing.
        assert_eq!(settle(&h, window_closes).await, 0);
        assert_eq!(settle(&h, window_closes.plus_ms(DAY_MS)).await, 0);
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 600, ..Balances::default() });
        h.assert_consistent("settled").await;
    }
}

backend_test! {
    async fn refund_before_settlement_voids_the_commission(h: Harness) {
        let fx = h.fixture(1, 3_000, 10, 1).await;
        let (sku, customer) = (fx.skus[0], fx.customers[0]);
        let owner = owner_of(&h, fx.shop).await;
        let id = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("LV", 0))).await.order_id;
        pay(&h, T0, id, customer).await;

        // A partial refund takes its share of every part: ¥34.00 of ¥68.00 is half of each.
        refund(&h, T0.plus_ms(1_000), id, 3_400).await;
        assert_eq!(balances(&h, owner).await.pending_fen, 300);
        h.assert_consistent("half refunded").await;

        // A commission row that disagrees with its transfers is reported by the checker.
        let shift = |delta: i64| {
            let store = h.store.clone();
            async move {
                store
                    .write(move |sql| sql.execute("UPDATE commissions SET reversed_fen = reversed_fen + $1", params![delta]).map(|_| ()))
                    .await
                    .expect("tamper")
            }
        };
        shift(1).await;
        let results = h.store.read(sharemall_store::ops::check::check_all).await.expect("check_all");
        let broken: Vec<_> = results.iter().filter(|r| !r.violations.is_empty()).map(|r| r.name).collect();
        assert!(broken.iter().any(|name| name.starts_with("commission:")), "{broken:?}");
        shift(-1).await;
        h.assert_consistent("restored").await;

        refund(&h, T0.plus_ms(2_000), id, 3_400).await;
        assert_eq!(balances(&h, owner).await, Balances::default());
        assert_eq!(h.count("SELECT COUNT(*) FROM commissions WHERE status = 'voided' AND reversed_fen = amount_fen").await, 1);
        assert_eq!(platform_revenue(&h).await, 0);
        assert_eq!(settle(&h, T0.plus_ms(365 * DAY_MS)).await, 0, "a voided commission never settles");
        h.assert_consistent("fully refunded before settlement").await;
    }
}

backend_test! {
    async fn refund_after_settlement_claws_back(h: Harness) {
        let fx = h.fixture(1, 3_000, 10, 1).await;
        let (sku, customer) = (fx.skus[0], fx.customers[0]);
        let owner = owner_of(&h, fx.shop).await;
        let id = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("LC", 0))).await.order_id;
        pay(&h, T0, id, customer).await;
        let window_closes = ship_and_receive(&h, T0.plus_ms(DAY_MS), fx.supplier, id, customer).await;
        assert!(h.store.write(move |sql| fulfilment::complete(sql, window_closes, id)).await.expect("complete"));
        assert_eq!(settle(&h, window_closes).await, 1);
        assert_eq!(balances(&h, owner).await.available_fen, 600);

        // The platform refunds a quarter after the money became available: a quarter of the
        // commission comes back out of what is available.
        refund(&h, window_closes.plus_ms(DAY_MS), id, 1_700).await;
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 450, ..Balances::default() });
        assert_eq!(h.count("SELECT COUNT(*) FROM ledger_transfers WHERE kind = 'commission_clawback' AND amount_fen = 150").await, 1);
        h.assert_consistent("clawed back").await;

        // The owner's available balance can go below zero: later earnings net it off.
        let other = h.place(T0, fx.order(customer, vec![(sku, 1)], order_no("LC", 1))).await.order_id;
        h.store
            .write(move |sql| {
                sql.execute("UPDATE ledger_accounts SET balance_fen = balance_fen - 450 WHERE owner_id = $1 AND kind = 'commission_available'", params![owner])?;
                Ok(())
            })
            .await
            .expect("tamper with the cached balance");
        // The cache no longer equals the transfers: the checker must see it.
        let results = h.store.read(sharemall_store::ops::check::check_all).await.expect("check_all");
        assert!(results.iter().any(|r| !r.violations.is_empty()), "a tampered balance must be reported");
        h.store
            .write(move |sql| {
                sql.execute("UPDATE ledger_accounts SET balance_fen = balance_fen + 450 WHERE owner_id = $1 AND kind = 'commission_available'", params![owner])?;
                Ok(())
            })
            .await
            .expect("restore");
        pay(&h, T0.plus_ms(2_000), other, customer).await;
        refund(&h, window_closes.plus_ms(2 * DAY_MS), id, 5_100).await;
        assert_eq!(balances(&h, owner).await, Balances { pending_fen: 300, ..Balances::default() });
        h.assert_consistent("fully refunded after settlement").await;
    }
}

backend_test! {
    async fn settlement_waits_for_a_refund_in_flight(h: Harness) {
        let fx = h.fixture(1, 3_000, 10, 1).await;
        let (sku, customer) = (fx.skus[0], fx.customers[0]);
        let owner = owner_of(&h, fx.shop).await;
        let id = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("LW", 0))).await.order_id;
        pay(&h, T0, id, customer).await;
        let window_closes = ship_and_receive(&h, T0.plus_ms(DAY_MS), fx.supplier, id, customer).await;
        let requested = h
            .store
            .write(move |sql| payments::request_refund(sql, window_closes, id, Money::from_fen(3_400), "damaged"))
            .await
            .expect("request refund");
        assert!(!h.store.read(move |sql| settlement::any_due(sql, window_closes)).await.expect("any_due"));
        assert_eq!(settle(&h, window_closes).await, 0, "a refund in flight holds the commission back");
        let refund_id = requested.refund_id;
        h.store.write(move |sql| payments::finish_refund(sql, window_closes, refund_id, "provider-refund")).await.expect("finish");
        assert!(h.store.read(move |sql| settlement::any_due(sql, window_closes)).await.expect("any_due"));
        assert_eq!(settle(&h, window_closes).await, 1);
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 300, ..Balances::default() });
        h.assert_consistent("settled after the refund").await;
    }
}

backend_test! {
    async fn buying_from_ones_own_shop_earns_nothing(h: Harness) {
        let fx = h.fixture(1, 3_000, 10, 0).await;
        let owner = owner_of(&h, fx.shop).await;
        let id = h.place(T0, fx.order(owner, vec![(fx.skus[0], 1)], order_no("LS", 0))).await.order_id;
        pay(&h, T0, id, owner).await;
        assert_eq!(balances(&h, owner).await, Balances::default());
        assert_eq!(h.count("SELECT COUNT(*) FROM commissions").await, 0);
        // What would have been commission stays with the platform: ¥30.00 − ¥18.00, plus shipping.
        assert_eq!(platform_revenue(&h).await, 1_200 + 800);
        h.assert_consistent("self-referral").await;
    }
}
