//! Commission and withdrawals over HTTP: earnings pending then available once the return window
//! closes (by the job round, not by hand), a withdrawal requested with an Idempotency-Key,
//! decided by an operator and paid out by the payout job, and a refund after the payout shown
//! to the owner as a clawback and a negative balance.

use serde_json::{Value, json};

use crate::helpers::{DAY_MS, Fixture, MINUTE_MS, TestApp, new_key, spawn_app};

/// ¥29.90 a unit, 10% commission: two units earn the owner ¥5.98. Paid, shipped and received;
/// returns the order id.
async fn received_order(app: &TestApp, f: &Fixture) -> String {
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    app.pay(&f.customer.token, &order_id).await;
    let ship = json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"});
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.supplier.actor.token), &ship).await.ok();
    app.post(&format!("/orders/{order_id}/receive"), Some(&f.customer.token), &json!({})).await.ok();
    order_id
}

async fn balances(app: &TestApp, token: &str) -> Value {
    app.get("/me/earnings", Some(token)).await.ok()["balances"].clone()
}

fn fen(v: &Value, field: &str) -> i64 {
    v[field].as_i64().unwrap_or_else(|| panic!("{field} missing in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commission_settles_by_the_job_round_and_is_withdrawn() {
    let app = spawn_app().await;
    let f = app.fixture(2_990, 10).await;
    let owner = f.shop.actor.token.clone();
    let order_id = received_order(&app, &f).await;

    let earnings = app.get("/me/earnings", Some(&owner)).await.ok().clone();
    assert_eq!((fen(&earnings["balances"], "pending_fen"), fen(&earnings["balances"], "available_fen")), (598, 0));
    let line = &earnings["lines"][0];
    assert_eq!(
        (line["order_id"].as_str(), fen(line, "base_fen"), fen(line, "amount_fen"), line["status"].as_str()),
        (Some(order_id.as_str()), 5_980, 598, Some("pending"))
    );
    assert!(line["settle_after"].as_i64().is_some(), "received: the settlement clock runs");

    // Nothing can be withdrawn while pending.
    let ask = json!({"amount_fen": 100, "payee": "6222 0000 0000 0001 王小明"});
    app.post_with_key("/me/withdrawals", &owner, &new_key(), &ask).await.assert_error(409, "insufficient_available");

    app.advance_ms(6 * DAY_MS);
    app.run_jobs().await;
    assert_eq!(fen(&balances(&app, &owner).await, "available_fen"), 0, "inside the window");
    app.advance_ms(DAY_MS + MINUTE_MS);
    app.run_jobs().await;
    let b = balances(&app, &owner).await;
    assert_eq!((fen(&b, "pending_fen"), fen(&b, "available_fen")), (0, 598));
    app.assert_consistent().await;

    // A money-moving POST needs a key; a replay returns the first response.
    app.post("/me/withdrawals", Some(&owner), &json!({"amount_fen": 500, "payee": "6222"}))
        .await
        .assert_error(422, "idempotency_key_required");
    app.post_with_key("/me/withdrawals", &owner, &new_key(), &json!({"amount_fen": 99, "payee": "6222"}))
        .await
        .assert_error(422, "withdrawal_below_minimum");
    let key = new_key();
    let ask = json!({"amount_fen": 500, "payee": "6222 0000 0000 0001 王小明"});
    let first = app.post_with_key("/me/withdrawals", &owner, &key, &ask).await.ok().clone();
    let again = app.post_with_key("/me/withdrawals", &owner, &key, &ask).await.ok().clone();
    assert_eq!((first["id"].clone(), first["status"].as_str()), (again["id"].clone(), Some("requested")));
    app.post_with_key("/me/withdrawals", &owner, &key, &json!({"amount_fen": 400, "payee": "6222"}))
        .await
        .assert_error(409, "idempotency_key_reused");
    let b = balances(&app, &owner).await;
    assert_eq!((fen(&b, "available_fen"), fen(&b, "withdrawing_fen")), (98, 500));

    // Only an operator sees and decides the queue.
    let id = first["id"].as_str().unwrap().to_string();
    app.get("/operator/withdrawals", Some(&owner)).await.assert_error(403, "forbidden");
    app.post(&format!("/operator/withdrawals/{id}/approve"), Some(&owner), &json!({})).await.assert_error(403, "forbidden");
    let operator = app.operator().await;
    let queue = app.get("/operator/withdrawals", Some(&operator)).await.ok().clone();
    assert_eq!(queue.as_array().map(|q| q.iter().filter(|w| w["id"] == id.as_str()).count()), Some(1));
    let approved = app.post(&format!("/operator/withdrawals/{id}/approve"), Some(&operator), &json!({})).await.ok().clone();
    assert_eq!(approved["status"], "approved");
    app.post(&format!("/operator/withdrawals/{id}/approve"), Some(&operator), &json!({})).await.assert_error(409, "withdrawal_not_pending");

    // The payout job pays it.
    app.run_jobs().await;
    let mine = app.get("/me/withdrawals", Some(&owner)).await.ok().clone();
    assert_eq!(mine[0]["status"], "paid");
    let b = balances(&app, &owner).await;
    assert_eq!((fen(&b, "available_fen"), fen(&b, "withdrawing_fen"), fen(&b, "paid_out_fen")), (98, 0, 500));
    app.assert_consistent().await;

    // A refund after the payout claws the commission back: the owner sees a negative balance
    // and the clawback, and nothing is lost.
    app.post_with_key(
        &format!("/operator/orders/{order_id}/refunds"),
        &operator,
        &new_key(),
        &json!({"amount_fen": 5_980, "reason": "质量问题"}),
    )
    .await
    .ok();
    app.run_jobs().await;
    let earnings = app.get("/me/earnings", Some(&owner)).await.ok().clone();
    assert_eq!(fen(&earnings, "clawed_back_fen"), 598);
    assert_eq!(fen(&earnings["balances"], "available_fen"), 98 - 598);
    assert_eq!(fen(&earnings["lines"][0], "reversed_fen"), 598);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_or_failed_withdrawal_returns_the_money() {
    let app = spawn_app().await;
    let f = app.fixture(2_990, 10).await;
    let owner = f.shop.actor.token.clone();
    received_order(&app, &f).await;
    app.advance_ms(7 * DAY_MS + MINUTE_MS);
    app.run_jobs().await;
    let operator = app.operator().await;

    let w =
        app.post_with_key("/me/withdrawals", &owner, &new_key(), &json!({"amount_fen": 300, "payee": "6222 王小明"})).await.ok().clone();
    let id = w["id"].as_str().unwrap();
    app.post(&format!("/operator/withdrawals/{id}/reject"), Some(&operator), &json!({"reason": ""}))
        .await
        .assert_error(422, "invalid_input");
    let rejected =
        app.post(&format!("/operator/withdrawals/{id}/reject"), Some(&operator), &json!({"reason": "户名与账号不符"})).await.ok().clone();
    assert_eq!((rejected["status"].as_str(), rejected["note"].as_str()), (Some("rejected"), Some("户名与账号不符")));
    assert_eq!(fen(&balances(&app, &owner).await, "available_fen"), 598);

    // A closed account: the payout fails for good and the money comes back.
    let w = app
        .post_with_key("/me/withdrawals", &owner, &new_key(), &json!({"amount_fen": 300, "payee": "closed:6222 0000"}))
        .await
        .ok()
        .clone();
    let id = w["id"].as_str().unwrap();
    app.post(&format!("/operator/withdrawals/{id}/approve"), Some(&operator), &json!({})).await.ok();
    app.run_jobs().await;
    let failed = app.get("/operator/withdrawals?status=failed", Some(&operator)).await.ok().clone();
    assert_eq!(failed[0]["id"], id);
    assert_eq!(fen(&balances(&app, &owner).await, "available_fen"), 598);

    // A busy bank: the job retries with backoff until it pays.
    let w =
        app.post_with_key("/me/withdrawals", &owner, &new_key(), &json!({"amount_fen": 598, "payee": "busy:6222 0000"})).await.ok().clone();
    let id = w["id"].as_str().unwrap();
    app.post(&format!("/operator/withdrawals/{id}/approve"), Some(&operator), &json!({})).await.ok();
    for _ in 0..4 {
        app.run_jobs().await;
        app.advance_ms(10 * MINUTE_MS);
    }
    let b = balances(&app, &owner).await;
    assert_eq!((fen(&b, "available_fen"), fen(&b, "withdrawing_fen"), fen(&b, "paid_out_fen")), (0, 0, 598));
    app.get("/operator/withdrawals?status=unknown", Some(&operator)).await.assert_error(422, "invalid_input");
    app.assert_consistent().await;
}
