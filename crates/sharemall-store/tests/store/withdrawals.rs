//! Withdrawals: limits, the operator's decision, payouts that succeed, fail for good or are
//! turned away for a while, racing requests, and a clawback after the money was paid out.

use sharemall_domain::account::Role;
use sharemall_domain::{ErrorCode, Money, Timestamp, UserId, WithdrawalId};
use sharemall_store::ops::fulfilment;
use sharemall_store::ops::ledger::Balances;
use sharemall_store::ops::sandbox_payouts::{self, BUSY_ATTEMPTS, SandboxPayout};
use sharemall_store::ops::withdrawals::{self, Decision, PayoutOutcome, Withdrawal, WithdrawalRequest};

use crate::harness::*;
use crate::ledger::{DAY_MS, balances, owner_of, pay, refund, settle, ship_and_receive};

/// A shop owner with ¥6.00 available (two units sold, received, window closed, settled), the
/// fixture, the order and when its window closed.
async fn owner_with_available(h: &Harness) -> (UserId, Fixture, sharemall_domain::OrderId, Timestamp) {
    let fx = h.fixture(1, 3_000, 10, 1).await;
    let (sku, customer) = (fx.skus[0], fx.customers[0]);
    let owner = owner_of(h, fx.shop).await;
    let id = h.place(T0, fx.order(customer, vec![(sku, 2)], order_no("WD", 0))).await.order_id;
    pay(h, T0, id, customer).await;
    let closes = ship_and_receive(h, T0.plus_ms(DAY_MS), fx.supplier, id, customer).await;
    assert!(h.store.write(move |sql| fulfilment::complete(sql, closes, id)).await.expect("complete"));
    assert_eq!(settle(h, closes).await, 1);
    assert_eq!(balances(h, owner).await.available_fen, 600);
    (owner, fx, id, closes)
}

async fn ask(h: &Harness, now: Timestamp, user: UserId, fen: i64, payee: &str) -> Result<Withdrawal, sharemall_domain::Error> {
    let req = WithdrawalRequest { user, amount: Money::from_fen(fen), payee: payee.into(), provider: "sandbox".into() };
    h.store.write(move |sql| withdrawals::request(sql, now, req, None)).await
}

async fn decide(
    h: &Harness,
    now: Timestamp,
    id: WithdrawalId,
    operator: UserId,
    d: Decision,
) -> Result<Withdrawal, sharemall_domain::Error> {
    h.store.write(move |sql| withdrawals::decide(sql, now, id, operator, d)).await
}

/// Asks the sandbox bank once and records a final answer, as the payout job does.
async fn pay_out(h: &Harness, now: Timestamp, w: &Withdrawal) -> SandboxPayout {
    let (id, payee, amount) = (w.id, w.payee.clone(), w.amount_fen);
    let answer = h.store.write(move |sql| sandbox_payouts::payout(sql, now, &id.to_string(), &payee, amount)).await.expect("payout");
    let outcome = match answer.clone() {
        SandboxPayout::Paid(provider_payout_id) => Some(PayoutOutcome::Paid { provider_payout_id }),
        SandboxPayout::Refused(reason) => Some(PayoutOutcome::Failed { reason }),
        SandboxPayout::TryLater => None,
    };
    if let Some(outcome) = outcome {
        let twice = outcome.clone();
        assert!(h.store.write(move |sql| withdrawals::finish_payout(sql, now, id, outcome)).await.expect("finish"));
        assert!(!h.store.write(move |sql| withdrawals::finish_payout(sql, now, id, twice)).await.expect("finish twice"));
    }
    answer
}

backend_test! {
    async fn limits_and_decisions(h: Harness) {
        let (owner, _, _, now) = owner_with_available(&h).await;
        let operator = h.user(Role::Operator).await;
        assert_eq!(code(&ask(&h, now, owner, 99, "6222 0000 0000 0001 张三").await), Some(ErrorCode::WithdrawalBelowMinimum));
        assert_eq!(code(&ask(&h, now, owner, 601, "6222 0000 0000 0001 张三").await), Some(ErrorCode::InsufficientAvailable));
        assert_eq!(code(&ask(&h, now, owner, 100, "   ").await), Some(ErrorCode::InvalidInput));
        assert_eq!(h.count("SELECT COUNT(*) FROM withdrawals").await, 0, "refused requests change nothing");
        assert_eq!(balances(&h, owner).await.available_fen, 600);

        let w = ask(&h, now, owner, 500, "6222 0000 0000 0001 张三").await.expect("request");
        assert_eq!(w.status, "requested");
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 100, withdrawing_fen: 500, ..Balances::default() });
        assert_eq!(code(&ask(&h, now, owner, 101, "6222 0000 0000 0001 张三").await), Some(ErrorCode::InsufficientAvailable));
        h.assert_consistent("requested").await;

        let empty = decide(&h, now, w.id, operator, Decision::Reject { reason: " ".into() }).await;
        assert_eq!(code(&empty), Some(ErrorCode::InvalidInput));
        let rejected = decide(&h, now, w.id, operator, Decision::Reject { reason: "payee name does not match".into() }).await.expect("reject");
        assert_eq!((rejected.status.as_str(), rejected.note.as_str()), ("rejected", "payee name does not match"));
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 600, ..Balances::default() });
        assert_eq!(code(&decide(&h, now, w.id, operator, Decision::Approve).await), Some(ErrorCode::WithdrawalNotPending));
        assert_eq!(h.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_payout'").await, 0);
        h.assert_consistent("rejected").await;

        let w = ask(&h, now, owner, 600, "6222 0000 0000 0001 张三").await.expect("request all");
        let approved = decide(&h, now, w.id, operator, Decision::Approve).await.expect("approve");
        assert_eq!(approved.status, "approved");
        assert_eq!(h.count("SELECT COUNT(*) FROM jobs WHERE kind = 'execute_payout'").await, 1);
        assert!(matches!(pay_out(&h, now, &approved).await, SandboxPayout::Paid(_)));
        assert_eq!(balances(&h, owner).await, Balances { paid_out_fen: 600, ..Balances::default() });
        // The bank asked again with the same payout number pays nothing more.
        assert!(matches!(pay_out_again(&h, now, &approved).await, SandboxPayout::Paid(_)));
        assert_eq!(h.count("SELECT COUNT(*) FROM sandbox_payouts").await, 1);
        h.assert_consistent("paid out").await;
    }
}

async fn pay_out_again(h: &Harness, now: Timestamp, w: &Withdrawal) -> SandboxPayout {
    let (id, payee, amount) = (w.id.to_string(), w.payee.clone(), w.amount_fen);
    h.store.write(move |sql| sandbox_payouts::payout(sql, now, &id, &payee, amount)).await.expect("payout again")
}

backend_test! {
    async fn payouts_that_fail_return_the_money(h: Harness) {
        let (owner, _, _, now) = owner_with_available(&h).await;
        let operator = h.user(Role::Operator).await;

        let w = ask(&h, now, owner, 200, "closed:6222 0000 0000 0002").await.expect("request");
        let w = decide(&h, now, w.id, operator, Decision::Approve).await.expect("approve");
        assert!(matches!(pay_out(&h, now, &w).await, SandboxPayout::Refused(_)));
        let failed = h.store.read(move |sql| withdrawals::load(sql, w.id)).await.expect("load");
        assert_eq!((failed.status.as_str(), failed.note.as_str()), ("failed", "the payee's account is closed"));
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 600, ..Balances::default() });
        h.assert_consistent("failed payout").await;

        let w = ask(&h, now, owner, 300, "busy:6222 0000 0000 0003").await.expect("request");
        let w = decide(&h, now, w.id, operator, Decision::Approve).await.expect("approve");
        for _ in 0..BUSY_ATTEMPTS {
            assert_eq!(pay_out(&h, now, &w).await, SandboxPayout::TryLater);
            assert_eq!(balances(&h, owner).await, Balances { available_fen: 300, withdrawing_fen: 300, ..Balances::default() });
        }
        assert!(matches!(pay_out(&h, now, &w).await, SandboxPayout::Paid(_)));
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 300, paid_out_fen: 300, ..Balances::default() });
        h.assert_consistent("paid after the bank was busy").await;
    }
}

backend_test! {
    async fn racing_requests_cannot_take_the_same_money(h: Harness) {
        let (owner, _, _, now) = owner_with_available(&h).await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            let store = h.store.clone();
            tasks.push(tokio::spawn(async move {
                let req = WithdrawalRequest { user: owner, amount: Money::from_fen(250), payee: format!("6222 {i}"), provider: "sandbox".into() };
                store.write(move |sql| withdrawals::request(sql, now, req, None)).await
            }));
        }
        let mut ok = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.code, ErrorCode::InsufficientAvailable),
            }
        }
        assert_eq!(ok, 2, "¥6.00 covers two withdrawals of ¥2.50");
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 100, withdrawing_fen: 500, ..Balances::default() });
        h.assert_consistent("raced").await;
    }
}

backend_test! {
    async fn clawback_after_payout_goes_negative_and_later_earnings_net_it_off(h: Harness) {
        let (owner, fx, order, closes) = owner_with_available(&h).await;
        let operator = h.user(Role::Operator).await;
        let w = ask(&h, closes, owner, 600, "6222 0000 0000 0004").await.expect("request");
        let w = decide(&h, closes, w.id, operator, Decision::Approve).await.expect("approve");
        assert!(matches!(pay_out(&h, closes, &w).await, SandboxPayout::Paid(_)));

        // The goods turn out faulty and the platform refunds the order in full, after the money
        // was paid out: the commission is clawed back into a negative balance, not lost.
        refund(&h, closes.plus_ms(DAY_MS), order, 6_800).await;
        assert_eq!(balances(&h, owner).await, Balances { available_fen: -600, paid_out_fen: 600, ..Balances::default() });
        assert_eq!(code(&ask(&h, closes.plus_ms(DAY_MS), owner, 100, "6222").await), Some(ErrorCode::InsufficientAvailable));
        h.assert_consistent("negative after clawback").await;

        // The owner's next sales net it off.
        let customer = fx.customers[0];
        let next = h.place(closes, fx.order(customer, vec![(fx.skus[0], 3)], order_no("WD", 1))).await.order_id;
        pay(&h, closes, next, customer).await;
        let next_closes = ship_and_receive(&h, closes.plus_ms(DAY_MS), fx.supplier, next, customer).await;
        assert_eq!(settle(&h, next_closes).await, 1);
        assert_eq!(balances(&h, owner).await, Balances { available_fen: 300, paid_out_fen: 600, ..Balances::default() });
        h.assert_consistent("netted off").await;
    }
}
