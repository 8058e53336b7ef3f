//! An order's life: payment, shipping, receipt, completion; cancellation; late payments and
//! refunds. `check_all` must stay clean after every step.

use sharemall_domain::order::{DEFAULT_AUTO_RECEIVE_MS, DEFAULT_PAY_WINDOW_MS, RETURN_WINDOW_MS};
use sharemall_domain::{ErrorCode, Money, OrderId, RefundId, UserId};
use sharemall_store::model::Order;
use sharemall_store::ops::fulfilment::{self, ReceiveBy};
use sharemall_store::ops::orders::{self, CancelBy};
use sharemall_store::ops::payments::{self, PaymentApplied};
use sharemall_store::params;

use crate::harness::*;

async fn order(h: &Harness, id: OrderId) -> Order {
    h.store.read(move |sql| orders::load_order(sql, id)).await.expect("load order")
}

/// Starts a sandbox payment of the order's full amount; returns its out_trade_no and amount.
async fn start_payment(h: &Harness, now: sharemall_domain::Timestamp, id: OrderId, customer: UserId, trade_no: &str) -> (String, i64) {
    let trade_no = trade_no.to_string();
    let payment =
        h.store.write(move |sql| payments::create_payment(sql, now, id, customer, "sandbox", &trade_no)).await.expect("create payment");
    assert_eq!(payment.status, "pending");
    (payment.out_trade_no, payment.amount_fen)
}

async fn pay(
    h: &Harness,
    now: sharemall_domain::Timestamp,
    trade_no: &str,
    amount: i64,
) -> Result<PaymentApplied, sharemall_domain::Error> {
    let trade_no = trade_no.to_string();
    h.store.write(move |sql| payments::apply_payment_success(sql, now, &trade_no, amount, "provider-txn")).await
}

backend_test! {
    async fn lifecycle_to_completion(h: Harness) {
        let fx = h.fixture(1, 3_000, 10, 1).await;
        let (sku, customer, supplier) = (fx.skus[0], fx.customers[0], fx.supplier);
        let placed = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("LC", 0))).await;
        assert_eq!((placed.status.as_str(), placed.payable_fen, placed.pay_deadline_at), ("created", 6_800, T0.plus_ms(DEFAULT_PAY_WINDOW_MS).millis()));
        let id = placed.order_id;
        let o = order(&h, id).await;
        assert_eq!((o.goods_fen, o.shipping_fen, o.items.len(), o.items[0].quantity, o.items[0].goods_fen), (6_000, 800, 1, 2, 6_000));
        assert_eq!(h.stock(sku).await, (8, 2, 0));
        assert_eq!(h.count("SELECT COUNT(*) FROM jobs WHERE kind = 'cancel_unpaid_order'").await, 1);
        h.assert_consistent("placed").await;

        // A cheap order pays shipping.
        let cheap = h.place(T0, fx.order(customer, vec![(sku, 1)], order_no("LC", 1))).await;
        assert_eq!(cheap.payable_fen, 3_000 + 800);
        h.assert_consistent("cheap placed").await;

        let now = T0.plus_ms(60_000);
        let (trade_no, amount) = start_payment(&h, now, id, customer, "LC-PAY-1").await;
        assert_eq!(amount, 6_800);
        // Asking again returns the payment already started.
        let (again, _) = start_payment(&h, now, id, customer, "LC-PAY-2").await;
        assert_eq!(again, trade_no);
        assert_eq!(code(&pay(&h, now, &trade_no, amount - 1).await), Some(ErrorCode::PaymentAmountMismatch));
        assert_eq!(pay(&h, now, &trade_no, amount).await.expect("pay"), PaymentApplied::Paid);
        assert_eq!(pay(&h, now, &trade_no, amount).await.expect("pay again"), PaymentApplied::AlreadyApplied);
        assert_eq!(order(&h, id).await.status, "to_ship");
        assert_eq!(h.stock(sku).await, (7, 1, 2));
        h.assert_consistent("paid").await;

        // Nothing to cancel any more, even at the deadline.
        let deadline = T0.plus_ms(DEFAULT_PAY_WINDOW_MS);
        assert!(!h.store.write(move |sql| orders::cancel_order(sql, deadline, id, CancelBy::Deadline)).await.expect("cancel job"));

        let shipped_at = now.plus_ms(3_600_000);
        h.store.write(move |sql| fulfilment::ship(sql, shipped_at, supplier, id, "SF", "SF1234567890", DEFAULT_AUTO_RECEIVE_MS)).await.expect("ship");
        let twice = h.store.write(move |sql| fulfilment::ship(sql, shipped_at, supplier, id, "SF", "SF1234567890", DEFAULT_AUTO_RECEIVE_MS)).await;
        assert_eq!(code(&twice), Some(ErrorCode::InvalidOrderState));
        assert_eq!(order(&h, id).await.status, "shipped");
        h.assert_consistent("shipped").await;

        let received_at = shipped_at.plus_ms(86_400_000);
        assert!(h.store.write(move |sql| fulfilment::confirm_receipt(sql, received_at, id, ReceiveBy::Customer(customer), 0)).await.expect("receive"));
        let o = order(&h, id).await;
        assert_eq!((o.status.as_str(), o.completes_at), ("received", Some(received_at.plus_ms(RETURN_WINDOW_MS).millis())));
        h.assert_consistent("received").await;

        assert!(!h.store.write(move |sql| fulfilment::complete(sql, received_at, id)).await.expect("complete early"));
        let later = received_at.plus_ms(RETURN_WINDOW_MS);
        assert!(h.store.write(move |sql| fulfilment::complete(sql, later, id)).await.expect("complete"));
        assert!(!h.store.write(move |sql| fulfilment::complete(sql, later, id)).await.expect("complete twice"));
        assert_eq!(order(&h, id).await.status, "completed");
        assert_eq!(h.stock(sku).await, (7, 1, 2));
        h.assert_consistent("completed").await;
    }
}

backend_test! {
    async fn cancel_at_deadline_releases_stock(h: Harness) {
        let fx = h.fixture(1, 1_000, 5, 2).await;
        let (sku, customer, other) = (fx.skus[0], fx.customers[0], fx.customers[1]);
        let id = h.place(T0, fx.order(customer, vec![(sku, 3)], order_no("CX", 0))).await.order_id;
        assert_eq!(h.stock(sku).await, (2, 3, 0));
        let early = T0.plus_ms(DEFAULT_PAY_WINDOW_MS - 1);
        assert!(!h.store.write(move |sql| orders::cancel_order(sql, early, id, CancelBy::Deadline)).await.expect("early"));
        assert_eq!(h.stock(sku).await, (2, 3, 0));
        let deadline = T0.plus_ms(DEFAULT_PAY_WINDOW_MS);
        assert!(h.store.write(move |sql| orders::cancel_order(sql, deadline, id, CancelBy::Deadline)).await.expect("cancel"));
        assert!(!h.store.write(move |sql| orders::cancel_order(sql, deadline, id, CancelBy::Deadline)).await.expect("cancel twice"));
        assert_eq!(h.stock(sku).await, (5, 0, 0));
        assert_eq!(order(&h, id).await.status, "cancelled");
        let by_customer = h.store.write(move |sql| orders::cancel_order(sql, deadline, id, CancelBy::Customer(customer))).await;
        assert_eq!(code(&by_customer), Some(ErrorCode::InvalidOrderState));
        // Paying a cancelled order cannot start.
        let late = h.store.write(move |sql| payments::create_payment(sql, deadline, id, customer, "sandbox", "CX-PAY")).await;
        assert_eq!(code(&late), Some(ErrorCode::InvalidOrderState));
        h.assert_consistent("cancelled at deadline").await;

        // A customer cancels their own order; nobody else can.
        let id = h.place(T0, fx.order(customer, vec![(sku, 5)], order_no("CX", 1))).await.order_id;
        let refused = h.place_result(T0, fx.order(other, vec![(sku, 1)], order_no("CX", 2))).await;
        assert_eq!(code(&refused), Some(ErrorCode::OutOfStock));
        let foreign = h.store.write(move |sql| orders::cancel_order(sql, T0, id, CancelBy::Customer(other))).await;
        assert_eq!(code(&foreign), Some(ErrorCode::NotFound));
        assert!(h.store.write(move |sql| orders::cancel_order(sql, T0, id, CancelBy::Customer(customer))).await.expect("customer cancels"));
        assert_eq!(h.stock(sku).await, (5, 0, 0));
        h.place(T0, fx.order(other, vec![(sku, 1)], order_no("CX", 3))).await;
        h.assert_consistent("cancelled by customer").await;
    }
}

backend_test! {
    async fn payment_after_cancellation_is_refunded(h: Harness) {
        let fx = h.fixture(1, 2_500, 4, 1).await;
        let (sku, customer) = (fx.skus[0], fx.customers[0]);
        let id = h.place(T0, fx.order(customer, vec![(sku, 4)], order_no("LP", 0))).await.order_id;
        let (trade_no, amount) = start_payment(&h, T0.plus_ms(1_000), id, customer, "LP-PAY").await;
        let deadline = T0.plus_ms(DEFAULT_PAY_WINDOW_MS);
        assert!(h.store.write(move |sql| orders::cancel_order(sql, deadline, id, CancelBy::Deadline)).await.expect("cancel"));
        assert_eq!(h.stock(sku).await, (4, 0, 0));
        h.assert_consistent("cancelled with a pending payment").await;

        // The money arrives after all: it goes straight back.
        let late = deadline.plus_ms(5_000);
        assert_eq!(pay(&h, late, &trade_no, amount).await.expect("late payment"), PaymentApplied::RefundedLate);
        assert_eq!(pay(&h, late, &trade_no, amount).await.expect("late payment again"), PaymentApplied::AlreadyApplied);
        let o = order(&h, id).await;
        assert_eq!((o.status.as_str(), o.paid_fen, o.refunded_fen), ("cancelled", amount, 0));
        assert_eq!(h.stock(sku).await, (4, 0, 0));
        let refund: RefundId = h
            .store
            .read(move |sql| sql.query_one("SELECT id FROM refunds WHERE order_id = $1 AND status = 'pending' AND amount_fen = $2", params![id, amount])?.id(0))
            .await
            .expect("a pending refund");
        assert_eq!(h.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_refund'").await, 1);
        h.assert_consistent("refunded late (pending)").await;

        let todo = h.store.read(move |sql| payments::refund_to_execute(sql, refund)).await.expect("refund to execute");
        assert_eq!((todo.out_trade_no.as_str(), todo.amount_fen, todo.status.as_str()), (trade_no.as_str(), amount, "pending"));
        assert!(h.store.write(move |sql| payments::finish_refund(sql, late, refund, "provider-refund-1")).await.expect("finish"));
        assert!(!h.store.write(move |sql| payments::finish_refund(sql, late, refund, "provider-refund-1")).await.expect("finish twice"));
        let o = order(&h, id).await;
        assert_eq!((o.status.as_str(), o.paid_fen, o.refunded_fen), ("cancelled", amount, amount));
        assert_eq!(h.stock(sku).await, (4, 0, 0));
        h.assert_consistent("refunded late (done)").await;
    }
}

backend_test! {
    async fn refunds_partial_then_full(h: Harness) {
        let fx = h.fixture(1, 5_000, 10, 1).await;
        let (sku, customer, supplier) = (fx.skus[0], fx.customers[0], fx.supplier);
        let id = h.place(T0, fx.order(customer, vec![(sku, 3)], order_no("RF", 0))).await.order_id;
        let (trade_no, amount) = start_payment(&h, T0, id, customer, "RF-PAY").await;
        assert_eq!(pay(&h, T0, &trade_no, amount).await.expect("pay"), PaymentApplied::Paid);
        assert_eq!(h.stock(sku).await, (7, 0, 3));

        let partial = h.store.write(move |sql| payments::request_refund(sql, T0, id, Money::from_fen(5_000), "one broken")).await.expect("partial");
        assert_eq!((partial.amount_fen, partial.status.as_str()), (5_000, "pending"));
        assert_eq!(order(&h, id).await.status, "to_ship");
        // What is pending counts against what may still be refunded.
        let too_much = h.store.write(move |sql| payments::request_refund(sql, T0, id, Money::from_fen(10_001), "too much")).await;
        assert_eq!(code(&too_much), Some(ErrorCode::RefundExceedsPaid));
        let zero = h.store.write(move |sql| payments::request_refund(sql, T0, id, Money::ZERO, "nothing")).await;
        assert_eq!(code(&zero), Some(ErrorCode::AmountOutOfRange));
        h.assert_consistent("partial refund pending").await;
        let (refund, later) = (partial.refund_id, T0.plus_ms(10_000));
        assert!(h.store.write(move |sql| payments::finish_refund(sql, later, refund, "pr-1")).await.expect("finish partial"));
        let o = order(&h, id).await;
        assert_eq!((o.status.as_str(), o.refunded_fen), ("to_ship", 5_000));
        assert_eq!(h.stock(sku).await, (7, 0, 3));
        h.assert_consistent("partial refund done").await;

        // The rest: the order is refunding, then refunded; the goods never shipped, so their
        // stock returns to the pool.
        let full = h.store.write(move |sql| payments::request_refund(sql, later, id, Money::from_fen(10_000), "cancel the rest")).await.expect("full");
        assert_eq!(order(&h, id).await.status, "refunding");
        let more = h.store.write(move |sql| payments::request_refund(sql, later, id, Money::from_fen(1), "more")).await;
        assert_eq!(code(&more), Some(ErrorCode::InvalidOrderState));
        let ship = h.store.write(move |sql| fulfilment::ship(sql, later, supplier, id, "SF", "SF1", DEFAULT_AUTO_RECEIVE_MS)).await;
        assert_eq!(code(&ship), Some(ErrorCode::InvalidOrderState));
        h.assert_consistent("full refund pending").await;
        let refund = full.refund_id;
        assert!(h.store.write(move |sql| payments::finish_refund(sql, later, refund, "pr-2")).await.expect("finish full"));
        let o = order(&h, id).await;
        assert_eq!((o.status.as_str(), o.paid_fen, o.refunded_fen), ("refunded", amount, amount));
        assert_eq!(h.stock(sku).await, (10, 0, 0));
        h.assert_consistent("fully refunded").await;
    }
}

backend_test! {
    async fn refund_after_shipping_keeps_stock_sold_and_failed_refund_restores_state(h: Harness) {
        let fx = h.fixture(1, 2_000, 10, 1).await;
        let (sku, customer, supplier) = (fx.skus[0], fx.customers[0], fx.supplier);
        let id = h.place(T0, fx.order(customer, vec![(sku, 5)], order_no("RS", 0))).await.order_id;
        let (trade_no, amount) = start_payment(&h, T0, id, customer, "RS-PAY").await;
        pay(&h, T0, &trade_no, amount).await.expect("pay");
        h.store.write(move |sql| fulfilment::ship(sql, T0, supplier, id, "SF", "SF2", DEFAULT_AUTO_RECEIVE_MS)).await.expect("ship");

        // A refused refund puts the order back where it was.
        let first = h.store.write(move |sql| payments::request_refund(sql, T0, id, Money::from_fen(amount), "return")).await.expect("request");
        assert_eq!(order(&h, id).await.status, "refunding");
        let refund = first.refund_id;
        h.store.write(move |sql| payments::fail_refund(sql, T0, refund, "provider said no")).await.expect("fail");
        assert_eq!(order(&h, id).await.status, "shipped");
        h.assert_consistent("refund failed").await;

        let second = h.store.write(move |sql| payments::request_refund(sql, T0, id, Money::from_fen(amount), "return")).await.expect("request again");
        let refund = second.refund_id;
        assert!(h.store.write(move |sql| payments::finish_refund(sql, T0, refund, "pr-3")).await.expect("finish"));
        assert_eq!(order(&h, id).await.status, "refunded");
        // Shipped goods are not back on the shelf.
        assert_eq!(h.stock(sku).await, (5, 0, 5));
        h.assert_consistent("refunded after shipping").await;
    }
}
