//! After-sales through the store: windows, returnability, decisions, goods back into stock,
//! refunds reversed for the returned lines only, settlement waiting on an open case, deadlines,
//! and racing requests. Every invariant `sharemall check` verifies holds after every step.

use sharemall_domain::account::Role;
use sharemall_domain::after_sale::{AfterSaleStatus, CONFIRM_RETURN_MS, RESPOND_MS, Resolution, ReturnReason, SHIP_BACK_MS};
use sharemall_domain::{AfterSaleId, Error, ErrorCode, Money, OrderId, RefundId, SupplierId, Timestamp, UserId};
use sharemall_store::ops::after_sale_views::AfterSale;
use sharemall_store::ops::after_sales::{self, Decision, Handler, ReturnRequest};
use sharemall_store::ops::ledger::Balances;
use sharemall_store::ops::payments;
use sharemall_store::params;

use crate::harness::*;
use crate::ledger::{DAY_MS, balances, owner_of, pay, settle, ship_and_receive};

/// Two SKUs at ¥20.00 (supply ¥12.00, 10% commission): two of the first and one of the second
/// is ¥60.00 of goods and ¥8.00 shipping, paid, shipped and received. Returns the order, when
/// it was received and when its 7-day window closes.
async fn received_order(h: &Harness, fx: &Fixture, customer: UserId, tag: usize) -> (OrderId, Timestamp, Timestamp) {
    let id = h.place(T0, fx.order(customer, vec![(fx.skus[0], 2), (fx.skus[1], 1)], order_no("AS", tag))).await.order_id;
    pay(h, T0, id, customer).await;
    let closes = ship_and_receive(h, T0.plus_ms(DAY_MS), fx.supplier, id, customer).await;
    (id, closes.plus_ms(-7 * DAY_MS), closes)
}

async fn ask(
    h: &Harness,
    now: Timestamp,
    customer: UserId,
    order: OrderId,
    reason: ReturnReason,
    lines: Vec<(i64, i64)>,
) -> Result<AfterSale, Error> {
    let req = ReturnRequest { order, reason, description: "屏幕有划痕".into(), lines };
    h.store.write(move |sql| after_sales::request(sql, now, customer, &req)).await
}

async fn decide(h: &Harness, now: Timestamp, handler: Handler, id: AfterSaleId, decision: Decision) -> Result<AfterSale, Error> {
    h.store.write(move |sql| after_sales::decide(sql, now, handler, id, decision)).await
}

fn supplier_of(fx: &Fixture, user: UserId) -> Handler {
    Handler::Supplier { supplier: fx.supplier, user }
}

/// The provider confirms the case's refund.
async fn refund_paid(h: &Harness, now: Timestamp, case: &AfterSale) {
    let id = case.id;
    let refund: RefundId = h
        .store
        .read(move |sql| sql.query_one("SELECT refund_id FROM after_sales WHERE id = $1", params![id])?.id(0))
        .await
        .expect("refund id");
    assert!(h.store.write(move |sql| payments::finish_refund(sql, now, refund, "provider-refund")).await.expect("finish refund"));
}

async fn load(h: &Harness, id: AfterSaleId) -> AfterSale {
    h.store.read(move |sql| sharemall_store::ops::after_sale_views::load(sql, id)).await.expect("load case")
}

fn code<T>(result: &Result<T, Error>) -> Option<ErrorCode> {
    result.as_ref().err().map(|e| e.code)
}

backend_test! {
    async fn a_partial_return_restocks_and_refunds_only_its_lines(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 1).await;
        let customer = fx.customers[0];
        let supplier_user = h.user(Role::Supplier).await;
        let owner = owner_of(&h, fx.shop).await;
        let (order, received, closes) = received_order(&h, &fx, customer, 0).await;
        assert_eq!(balances(&h, owner).await.pending_fen, 600);

        // One of the two units of line 1: half of what the line holds (¥40.00).
        let case = ask(&h, received.plus_ms(DAY_MS), customer, order, ReturnReason::NoReason, vec![(1, 1)]).await.expect("request");
        assert_eq!((case.status.as_str(), case.refund_fen, case.whole_order), ("requested", 2_000, false));
        assert_eq!(case.lines.len(), 1);
        h.assert_consistent("requested").await;

        // While it is open: no second case, no operator refund beside it, no other supplier.
        let second = ask(&h, received.plus_ms(DAY_MS), customer, order, ReturnReason::NoReason, vec![(2, 1)]).await;
        assert_eq!(code(&second), Some(ErrorCode::AfterSaleOpen));
        let beside = h.store.write(move |sql| payments::request_refund(sql, received, order, Money::from_fen(100), "beside")).await;
        assert_eq!(code(&beside), Some(ErrorCode::AfterSaleOpen));
        let stranger = Handler::Supplier { supplier: SupplierId::new(), user: supplier_user };
        let foreign = decide(&h, received, stranger, case.id, Decision::Approve(Resolution::ReturnAndRefund)).await;
        assert_eq!(code(&foreign), Some(ErrorCode::NotFound));

        // Commission waits while the case is open, even past the window.
        assert_eq!(settle(&h, closes).await, 0);

        let approved = decide(&h, received.plus_ms(DAY_MS), supplier_of(&fx, supplier_user), case.id, Decision::Approve(Resolution::ReturnAndRefund))
            .await
            .expect("approve");
        assert_eq!(approved.status, "approved");
        assert!(!approved.decided_automatically);
        let shipped_back = h
            .store
            .write(move |sql| after_sales::ship_back(sql, received.plus_ms(2 * DAY_MS), customer, case.id, "SF", "SF1234567890"))
            .await
            .expect("ship back");
        assert_eq!(shipped_back.return_tracking_no.as_deref(), Some("SF1234567890"));
        let stock_before = h.stock(fx.skus[0]).await;
        let handler = supplier_of(&fx, supplier_user);
        let back = h
            .store
            .write(move |sql| after_sales::confirm_goods_back(sql, received.plus_ms(3 * DAY_MS), handler, case.id))
            .await
            .expect("goods back");
        assert_eq!(back.status, "refunding");
        assert_eq!(h.stock(fx.skus[0]).await, (stock_before.0 + 1, stock_before.1, stock_before.2 - 1), "the unit is back in stock");
        h.assert_consistent("goods back, refund pending").await;

        refund_paid(&h, received.plus_ms(3 * DAY_MS), &back).await;
        assert_eq!(load(&h, case.id).await.status, "refunded");
        let (status, refunded) = order_money(&h, order).await;
        assert_eq!((status.as_str(), refunded), ("received", 2_000));
        // 10% of the ¥20.00 returned comes out of the owner's pending commission.
        assert_eq!(balances(&h, owner).await.pending_fen, 400);
        h.assert_consistent("refunded").await;

        // With the case done, the rest of the commission settles.
        assert_eq!(settle(&h, closes).await, 2);
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 400, ..Balances::default() });
        h.assert_consistent("settled").await;
    }
}

async fn order_money(h: &Harness, order: OrderId) -> (String, i64) {
    h.store
        .read(move |sql| {
            let row = sql.query_one("SELECT status, refunded_fen FROM orders WHERE id = $1", params![order])?;
            Ok((row.text(0)?, row.i64(1)?))
        })
        .await
        .expect("order")
}

backend_test! {
    async fn returning_everything_left_refunds_the_order_with_its_shipping(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 1).await;
        let customer = fx.customers[0];
        let operator = h.user(Role::Operator).await;
        let owner = owner_of(&h, fx.shop).await;
        let (order, received, closes) = received_order(&h, &fx, customer, 1).await;

        // A quality problem found on day 10, after the commission settled.
        assert_eq!(settle(&h, closes).await, 2);
        assert!(h.store.write(move |sql| sharemall_store::ops::fulfilment::complete(sql, closes, order)).await.expect("complete"));
        let day10 = received.plus_ms(10 * DAY_MS);
        let no_reason = ask(&h, day10, customer, order, ReturnReason::NoReason, vec![(1, 2), (2, 1)]).await;
        assert_eq!(code(&no_reason), Some(ErrorCode::ReturnWindowClosed));
        let case = ask(&h, day10, customer, order, ReturnReason::Quality, vec![(1, 2), (2, 1)]).await.expect("quality return");
        assert!(case.whole_order);
        assert_eq!(case.refund_fen, 6_800, "goods and shipping");

        // Refund only: the money goes back now, the goods stay with the customer.
        let stock_before = h.stock(fx.skus[1]).await;
        let decided = decide(&h, day10, Handler::Operator(operator), case.id, Decision::Approve(Resolution::RefundOnly)).await.expect("approve");
        assert_eq!(decided.status, "refunding");
        assert_eq!(order_money(&h, order).await.0, "refunding");
        h.assert_consistent("refund only, pending").await;
        refund_paid(&h, day10, &decided).await;
        assert_eq!(order_money(&h, order).await, ("refunded".to_string(), 6_800));
        assert_eq!(h.stock(fx.skus[1]).await, stock_before, "nothing came back into stock");
        // The settled commission is clawed back in full.
        assert_eq!(balances(&h, owner).await, Balances::default());
        h.assert_consistent("whole order refunded").await;
        let more = ask(&h, day10, customer, order, ReturnReason::Quality, vec![(1, 1)]).await;
        assert_eq!(code(&more), Some(ErrorCode::InvalidOrderState));
    }
}

backend_test! {
    async fn windows_returnability_and_bad_requests_change_nothing(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 2).await;
        let (customer, other) = (fx.customers[0], fx.customers[1]);
        let (order, received, _) = received_order(&h, &fx, customer, 2).await;
        let sku = fx.skus[1];
        h.store.write(move |sql| sql.execute("UPDATE skus SET returnable = $2 WHERE id = $1", params![sku, false])).await.expect("fresh food");

        let refused = [
            (ask(&h, received.plus_ms(7 * DAY_MS + 1), customer, order, ReturnReason::NoReason, vec![(1, 1)]).await, ErrorCode::ReturnWindowClosed),
            (ask(&h, received.plus_ms(15 * DAY_MS + 1), customer, order, ReturnReason::Quality, vec![(1, 1)]).await, ErrorCode::ReturnWindowClosed),
            (ask(&h, received, customer, order, ReturnReason::NoReason, vec![(2, 1)]).await, ErrorCode::NotReturnable),
            (ask(&h, received, other, order, ReturnReason::Quality, vec![(1, 1)]).await, ErrorCode::NotFound),
            (ask(&h, received, customer, order, ReturnReason::Quality, vec![(1, 3)]).await, ErrorCode::InvalidQuantity),
            (ask(&h, received, customer, order, ReturnReason::Quality, vec![(1, 0)]).await, ErrorCode::InvalidQuantity),
            (ask(&h, received, customer, order, ReturnReason::Quality, vec![(9, 1)]).await, ErrorCode::InvalidInput),
            (ask(&h, received, customer, order, ReturnReason::Quality, vec![(1, 1), (1, 1)]).await, ErrorCode::InvalidInput),
            (ask(&h, received, customer, order, ReturnReason::Quality, vec![]).await, ErrorCode::InvalidInput),
        ];
        for (i, (result, expected)) in refused.iter().enumerate() {
            assert_eq!(code(result), Some(*expected), "request {i}");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM after_sales").await, 0);
        // The last millisecond of the window still counts, and fresh goods have quality returns.
        ask(&h, received.plus_ms(15 * DAY_MS), customer, order, ReturnReason::Quality, vec![(2, 1)]).await.expect("quality, last ms");

        // An order not yet received can't be returned.
        let unreceived = h.place(T0, fx.order(other, vec![(fx.skus[0], 1)], order_no("AS", 3))).await.order_id;
        pay(&h, T0, unreceived, other).await;
        let early = ask(&h, T0, other, unreceived, ReturnReason::NoReason, vec![(1, 1)]).await;
        assert_eq!(code(&early), Some(ErrorCode::InvalidOrderState));
        h.assert_consistent("refusals").await;
    }
}

backend_test! {
    async fn deadlines_move_waiting_cases_on(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 1).await;
        let customer = fx.customers[0];
        let (order, received, _) = received_order(&h, &fx, customer, 4).await;
        let on_deadline = |now: Timestamp, id: AfterSaleId| {
            let store = h.store.clone();
            async move { store.write(move |sql| after_sales::on_deadline(sql, now, id)).await.expect("deadline") }
        };

        // Nobody answers for 2 days: approved for a return, by nobody.
        let case = ask(&h, received, customer, order, ReturnReason::NoReason, vec![(1, 1)]).await.expect("request");
        assert!(!on_deadline(received.plus_ms(RESPOND_MS - 1), case.id).await);
        assert!(on_deadline(received.plus_ms(RESPOND_MS), case.id).await);
        let approved = load(&h, case.id).await;
        assert_eq!((approved.status.as_str(), approved.decided_automatically), ("approved", true));
        assert!(!on_deadline(received.plus_ms(RESPOND_MS), case.id).await, "a deadline acts once");

        // The goods are not sent back within 7 days: the case closes, and its units are free.
        let shipped_deadline = received.plus_ms(RESPOND_MS + SHIP_BACK_MS);
        assert!(on_deadline(shipped_deadline, case.id).await);
        assert_eq!(load(&h, case.id).await.status, "closed");
        h.assert_consistent("closed").await;

        // Sent back but never confirmed: after 10 days the goods count as arrived.
        let now = received.plus_ms(2 * DAY_MS);
        let again = ask(&h, now, customer, order, ReturnReason::Quality, vec![(1, 2)]).await.expect("second case");
        decide(&h, now, Handler::Operator(h.user(Role::Operator).await), again.id, Decision::Approve(Resolution::ReturnAndRefund))
            .await
            .expect("approve");
        h.store.write(move |sql| after_sales::ship_back(sql, now, customer, again.id, "YTO", "YT0000000001")).await.expect("ship back");
        assert!(!on_deadline(now.plus_ms(CONFIRM_RETURN_MS - 1), again.id).await);
        assert!(on_deadline(now.plus_ms(CONFIRM_RETURN_MS), again.id).await);
        let back = load(&h, again.id).await;
        assert_eq!(back.status, "refunding");
        assert_eq!(back.refund_fen, 4_000);
        h.assert_consistent("counted as back").await;

        // A cancelled or rejected case is final.
        let late_cancel = h.store.write(move |sql| after_sales::cancel(sql, now, customer, again.id)).await;
        assert_eq!(code(&late_cancel), Some(ErrorCode::AfterSaleNotPending));
        assert_eq!(AfterSaleStatus::parse(&back.status).expect("status"), AfterSaleStatus::Refunding);
    }
}

backend_test! {
    async fn a_refused_refund_ends_the_case_and_keeps_its_units(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 1).await;
        let customer = fx.customers[0];
        let operator = Handler::Operator(h.user(Role::Operator).await);
        let (order, received, _) = received_order(&h, &fx, customer, 5).await;
        let case = ask(&h, received, customer, order, ReturnReason::Quality, vec![(1, 2), (2, 1)]).await.expect("request");
        let decided = decide(&h, received, operator, case.id, Decision::Approve(Resolution::RefundOnly)).await.expect("approve");
        assert_eq!(order_money(&h, order).await.0, "refunding");
        let id = case.id;
        let refund: RefundId =
            h.store.read(move |sql| sql.query_one("SELECT refund_id FROM after_sales WHERE id = $1", params![id])?.id(0)).await.expect("refund");
        h.store.write(move |sql| payments::fail_refund(sql, received, refund, "account closed")).await.expect("fail");
        assert_eq!(load(&h, decided.id).await.status, "refund_failed");
        assert_eq!(order_money(&h, order).await, ("received".to_string(), 0), "the order is back where it was");
        h.assert_consistent("refund refused").await;
        // The units stay with the failed case: a new case can't pay for the same goods again.
        let again = ask(&h, received, customer, order, ReturnReason::Quality, vec![(1, 1)]).await;
        assert_eq!(code(&again), Some(ErrorCode::InvalidQuantity));
    }
}

backend_test! {
    async fn racing_requests_open_one_case(h: Harness) {
        let fx = h.fixture(2, 2_000, 10, 1).await;
        let customer = fx.customers[0];
        let (order, received, _) = received_order(&h, &fx, customer, 6).await;
        let mut tasks = Vec::new();
        for line in [1, 2, 1, 2, 1, 2] {
            let store = h.store.clone();
            tasks.push(tokio::spawn(async move {
                let req = ReturnRequest { order, reason: ReturnReason::NoReason, description: String::new(), lines: vec![(line, 1)] };
                store.write(move |sql| after_sales::request(sql, received, customer, &req)).await
            }));
        }
        let mut opened = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => opened += 1,
                Err(e) => assert_eq!(e.code, ErrorCode::AfterSaleOpen),
            }
        }
        assert_eq!(opened, 1);
        assert_eq!(h.count("SELECT COUNT(*) FROM after_sales").await, 1);
        h.assert_consistent("raced").await;
    }
}
