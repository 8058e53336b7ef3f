//! T7 (subset) over HTTP: the sandbox provider's callbacks can't be forged, replayed or
//! stretched, and duplicates change the order once.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{Fixture, MINUTE_MS, TestApp, notice_body, random_suffix, read, spawn_app, txn_id};

/// A placed order with a started sandbox payment that the payer has paid at the provider, but
/// whose notification the merchant has not received yet: the tests deliver it by hand.
async fn order_awaiting_payment(app: &TestApp) -> (Fixture, String, Value) {
    let f = app.fixture(2_990, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    let started = app.start_payment(&f.customer.token, &order_id).await;
    let (txn, now) = (txn_id(&started), app.app.now());
    app.app.store.write(move |sql| sharemall_store::ops::sandbox::mark_paid(sql, now, &txn)).await.unwrap();
    (f, order_id, started)
}

fn amount_of(started: &Value) -> i64 {
    started["payment"]["amount_fen"].as_i64().unwrap()
}

fn key(app: &TestApp) -> String {
    app.app.config.sandbox_key.clone()
}

/// The order is untouched: still awaiting payment, its stock still reserved.
async fn assert_unpaid(app: &TestApp, f: &Fixture, order_id: &str) {
    let order = app.order(&f.customer.token, order_id).await;
    assert_eq!((order["status"].as_str().unwrap(), order["paid_fen"].as_i64().unwrap()), ("created", 0));
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_signed_callback_pays_the_order() {
    let app = spawn_app().await;
    let (f, order_id, started) = order_awaiting_payment(&app).await;
    let body = notice_body(&started, amount_of(&started));

    let resp = app.deliver_callback(&body, &key(&app), app.now(), &random_suffix()).await;

    assert_eq!(resp.ok(), &json!({"code": "SUCCESS", "applied": "paid"}));
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["status"], "to_ship");
    assert_eq!(order["paid_fen"].as_i64().unwrap(), amount_of(&started));
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 0, 2));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callbacks_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (f, order_id, started) = order_awaiting_payment(&app).await;
    let amount = amount_of(&started);
    let body = notice_body(&started, amount);
    let now = app.now();

    // Tampered body: signed for one amount, sent with another.
    let ts = now.to_string();
    let nonce = random_suffix();
    let signature = sharemall_app::sandbox::sign(&key(&app), &ts, &nonce, &body);
    let tampered = notice_body(&started, 1);
    app.deliver_signed(&tampered, &ts, &nonce, &signature).await.assert_error(401, "bad_signature");
    // Signed with another key.
    app.deliver_callback(&body, "not-the-merchant-key", now, &random_suffix()).await.assert_error(401, "bad_signature");
    // Not base64 at all, and no signature at all.
    app.deliver_signed(&body, &ts, &random_suffix(), "!!not base64!!").await.assert_error(401, "bad_signature");
    app.deliver_signed(&body, &ts, &random_suffix(), "").await.assert_error(401, "bad_signature");
    // Correctly signed but six minutes old, or six minutes ahead.
    app.deliver_callback(&body, &key(&app), now - 6 * MINUTE_MS, &random_suffix()).await.assert_error(401, "stale_callback");
    app.deliver_callback(&body, &key(&app), now + 6 * MINUTE_MS, &random_suffix()).await.assert_error(401, "stale_callback");
    // Correctly signed, fresh, but the amount differs from the order's.
    let short = notice_body(&started, amount - 1);
    app.deliver_callback(&short, &key(&app), now, &random_suffix()).await.assert_error(422, "payment_amount_mismatch");

    assert_unpaid(&app, &f, &order_id).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM payments WHERE status = 'succeeded'").await, 0);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_within_the_window_is_accepted() {
    let app = spawn_app().await;
    let (f, order_id, started) = order_awaiting_payment(&app).await;
    let body = notice_body(&started, amount_of(&started));

    let resp = app.deliver_callback(&body, &key(&app), app.now() - 4 * MINUTE_MS, &random_suffix()).await;

    assert_eq!(resp.ok()["applied"], "paid");
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "to_ship");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_replay_is_refused() {
    let app = spawn_app().await;
    let (f, order_id, started) = order_awaiting_payment(&app).await;
    let body = notice_body(&started, amount_of(&started));
    let (ts, nonce) = (app.now().to_string(), random_suffix());
    let signature = sharemall_app::sandbox::sign(&key(&app), &ts, &nonce, &body);

    app.deliver_signed(&body, &ts, &nonce, &signature).await.ok();
    let replay = app.deliver_signed(&body, &ts, &nonce, &signature).await;

    replay.assert_error(409, "replayed_callback");
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!((order["status"].as_str().unwrap(), order["paid_fen"].as_i64().unwrap()), ("to_ship", amount_of(&started)));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_duplicate_deliveries_change_the_order_once() {
    let app = spawn_app().await;
    let (f, order_id, started) = order_awaiting_payment(&app).await;
    let body = notice_body(&started, amount_of(&started));

    let mut tasks = JoinSet::new();
    for _ in 0..10 {
        let (ts, nonce) = (app.now().to_string(), random_suffix());
        let signature = sharemall_app::sandbox::sign(&key(&app), &ts, &nonce, &body);
        let request = app
            .client
            .post(app.api("/payments/sandbox/notify"))
            .header("content-type", "application/json")
            .header(sharemall_app::sandbox::HEADER_TIMESTAMP, ts)
            .header(sharemall_app::sandbox::HEADER_NONCE, nonce)
            .header(sharemall_app::sandbox::HEADER_SIGNATURE, signature)
            .body(body.clone());
        tasks.spawn(async move { read(request.send().await.unwrap()).await });
    }
    let mut applied = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let resp = done.unwrap();
        applied.push(resp.ok()["applied"].as_str().unwrap().to_string());
    }

    applied.sort();
    let paid = applied.iter().filter(|a| *a == "paid").count();
    let already = applied.iter().filter(|a| *a == "already_applied").count();
    assert_eq!((paid, already), (1, 9), "{applied:?}");
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!((order["status"].as_str().unwrap(), order["paid_fen"].as_i64().unwrap()), ("to_ship", amount_of(&started)));
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 0, 2));
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0, "no late-payment refund for a duplicate");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_redelivers_until_acknowledged_without_paying_twice() {
    let app = spawn_app().await;
    let f = app.fixture(2_990, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    let started = app.start_payment(&f.customer.token, &order_id).await;

    sharemall_app::sandbox::confirm(&app.app, &txn_id(&started)).await.unwrap();
    // The retry job fires later and delivers again with a fresh nonce: nothing changes.
    app.advance_ms(MINUTE_MS);
    app.run_jobs().await;

    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!((order["status"].as_str().unwrap(), order["paid_fen"].as_i64().unwrap()), ("to_ship", amount_of(&started)));
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_arriving_after_the_order_closed_is_refunded() {
    let app = spawn_app().await;
    let f = app.fixture(2_990, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    let started = app.start_payment(&f.customer.token, &order_id).await;
    app.advance_ms(16 * MINUTE_MS);
    app.run_jobs().await;
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "cancelled");

    sharemall_app::sandbox::confirm(&app.app, &txn_id(&started)).await.unwrap();
    app.run_jobs().await;

    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["refunded_fen"], order["paid_fen"]);
    assert_eq!(app.stock(&f.product.sku_id).await, (10, 0, 0));
    app.assert_consistent().await;
}

/// Paying through the sandbox page delivers the callback at once; the safety-net re-delivery
/// job is dropped when that first delivery is acknowledged, so nothing is sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_payment_leaves_no_redelivery() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    app.pay(&f.customer.token, &order_id).await;
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "to_ship");
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'sandbox_notify'").await, 0);
    app.assert_consistent().await;
}
