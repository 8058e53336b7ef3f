//! Orders end to end: place, pay through the sandbox, ship, receive, complete; unpaid orders
//! cancel; the cart; refunds; idempotency (T6) and no oversell (T1) over HTTP.

use serde_json::{Value, json};
use std::collections::HashMap;
use tokio::task::JoinSet;

use crate::helpers::{DAY_MS, MINUTE_MS, new_key, order_body, read, spawn_app, txn_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_placed_paid_shipped_received_and_completed() {
    // Arrange
    let app = spawn_app().await;
    let f = app.fixture(1_990, 10).await;
    let token = f.customer.token.as_str();

    // Act: place
    let placed = app.place_order(token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    let placed = placed.ok().clone();
    let order_id = placed["order_id"].as_str().unwrap().to_string();
    assert_eq!(placed["status"], "created");
    assert_eq!(placed["payable_fen"], 3_980 + 600, "two at ¥19.90 plus ¥6 shipping (free only from ¥49)");
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 2, 0));

    // Pay: start (idempotent by key), then confirm on the sandbox page.
    let key = new_key();
    let path = format!("/orders/{order_id}/payments");
    let started = app.post_with_key(&path, token, &key, &json!({"provider": "sandbox"})).await;
    let started = started.ok().clone();
    let again = app.post_with_key(&path, token, &key, &json!({"provider": "sandbox"})).await;
    assert_eq!(again.ok()["payment"], started["payment"], "a replayed payment start returns the same payment");
    assert!(started["pay_url"].as_str().unwrap().starts_with("/sandbox/pay/"));
    sharemall_app::sandbox::confirm(&app.app, &txn_id(&started)).await.unwrap();

    // Assert: paid
    let order = app.order(token, &order_id).await;
    assert_eq!(order["status"], "to_ship");
    assert_eq!(order["paid_fen"], order["payable_fen"]);
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 0, 2));

    // Ship, receive
    let ship = json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"});
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.supplier.actor.token), &ship).await.ok();
    assert_eq!(app.order_status(token, &order_id).await, "shipped");
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.supplier.actor.token), &ship)
        .await
        .assert_error(409, "invalid_order_state");
    app.post(&format!("/orders/{order_id}/receive"), Some(token), &json!({})).await.ok();
    assert_eq!(app.order_status(token, &order_id).await, "received");

    // Nothing completes before the return window closes...
    app.advance_ms(6 * DAY_MS);
    app.run_jobs().await;
    assert_eq!(app.order_status(token, &order_id).await, "received");
    // ...and it completes once it has.
    app.advance_ms(DAY_MS + MINUTE_MS);
    app.run_jobs().await;
    assert_eq!(app.order_status(token, &order_id).await, "completed");

    // Everyone sees it in their own lists.
    let mine = app.get("/orders", Some(token)).await;
    assert_eq!(mine.ok().as_array().unwrap().len(), 1);
    let shop = app.get("/shop/orders", Some(&f.shop.actor.token)).await;
    assert_eq!(shop.ok().as_array().unwrap().len(), 1);
    let supplier = app.get("/supplier/orders?status=completed", Some(&f.supplier.actor.token)).await;
    assert_eq!(supplier.ok().as_array().unwrap().len(), 1);
    assert_eq!(app.stock(&f.product.sku_id).await, (8, 0, 2));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_order_cancels_after_15_minutes_and_its_stock_returns() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 5).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 3).await;
    assert_eq!(app.stock(&f.product.sku_id).await, (2, 3, 0));

    app.advance_ms(14 * MINUTE_MS);
    app.run_jobs().await;
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "created");

    app.advance_ms(MINUTE_MS + 1);
    app.run_jobs().await;
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "cancelled");
    assert_eq!(app.stock(&f.product.sku_id).await, (5, 0, 0));
    // A cancelled order cannot be paid.
    let resp =
        app.post_with_key(&format!("/orders/{order_id}/payments"), &f.customer.token, &new_key(), &json!({"provider": "sandbox"})).await;
    assert!(matches!(resp.code(), "invalid_order_state" | "order_expired"), "{}", resp.text);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_cancels_an_unpaid_order() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 5).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    app.post(&format!("/orders/{order_id}/cancel"), Some(&f.customer.token), &json!({})).await.ok();
    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "cancelled");
    assert_eq!(app.stock(&f.product.sku_id).await, (5, 0, 0));
    app.post(&format!("/orders/{order_id}/receive"), Some(&f.customer.token), &json!({})).await.assert_error(409, "invalid_order_state");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checking_out_the_cart_empties_it() {
    let app = spawn_app().await;
    let f = app.fixture(2_500, 20).await;
    let (token, shop) = (f.customer.token.as_str(), f.shop.shop_id.as_str());

    let cart = app.put(&format!("/shops/{shop}/cart/{}", f.product.sku_id), Some(token), &json!({"quantity": 2})).await;
    assert_eq!(cart.ok().as_array().unwrap().len(), 1);
    let cart = app.put(&format!("/shops/{shop}/cart/{}", f.product.sku_id), Some(token), &json!({"quantity": 3})).await;
    assert_eq!(cart.ok()[0]["quantity"], 3);

    let body =
        json!({"shop_id": shop, "from_cart": true, "recipient": "李四", "phone": "13900139000", "address": "杭州市西湖区文三路 1 号"});
    let placed = app.post_with_key("/orders", token, &new_key(), &body).await;
    let order_id = placed.ok()["order_id"].as_str().unwrap().to_string();
    assert_eq!(placed.json["payable_fen"], 7_500);

    let order = app.order(token, &order_id).await;
    assert_eq!(order["items"][0]["quantity"], 3);
    assert_eq!(app.get(&format!("/shops/{shop}/cart"), Some(token)).await.ok(), &json!([]));
    // An empty cart cannot be checked out.
    app.post_with_key("/orders", token, &new_key(), &body).await.assert_error(422, "empty_cart");
    assert_eq!(app.stock(&f.product.sku_id).await, (17, 3, 0));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_refunds_part_then_the_rest() {
    let app = spawn_app().await;
    let f = app.fixture(3_000, 10).await;
    let token = f.customer.token.as_str();
    let order_id = app.placed_order(token, &f.shop.shop_id, &f.product.sku_id, 2).await;
    app.pay(token, &order_id).await;
    let paid = app.order(token, &order_id).await["paid_fen"].as_i64().unwrap();
    assert_eq!(paid, 6_000);
    let operator = app.operator().await;
    let path = format!("/operator/orders/{order_id}/refunds");

    // A partial refund leaves the order to ship.
    let partial = app.post_with_key(&path, &operator, &new_key(), &json!({"amount_fen": 1_000, "reason": "少发赠品"})).await;
    assert_eq!(partial.ok()["status"], "pending");
    app.run_jobs().await;
    let order = app.order(token, &order_id).await;
    assert_eq!((order["status"].as_str().unwrap(), order["refunded_fen"].as_i64().unwrap()), ("to_ship", 1_000));

    // More than what is left is refused and changes nothing.
    app.post_with_key(&path, &operator, &new_key(), &json!({"amount_fen": 5_001, "reason": "太多"}))
        .await
        .assert_error(409, "refund_exceeds_paid");

    // The rest refunds the order.
    app.post_with_key(&path, &operator, &new_key(), &json!({"amount_fen": 5_000, "reason": "缺货"})).await.ok();
    assert_eq!(app.order_status(token, &order_id).await, "refunding");
    app.run_jobs().await;
    let order = app.order(token, &order_id).await;
    assert_eq!(order["status"], "refunded");
    assert_eq!(order["refunded_fen"], order["paid_fen"]);
    assert_eq!(app.stock(&f.product.sku_id).await, (10, 0, 0), "unshipped goods return to stock");
    // Nothing more to refund.
    app.post_with_key(&path, &operator, &new_key(), &json!({"amount_fen": 1, "reason": "再退"}))
        .await
        .assert_error(409, "invalid_order_state");
    // A customer cannot refund.
    app.post_with_key(&path, token, &new_key(), &json!({"amount_fen": 1, "reason": "x"})).await.assert_error(403, "forbidden");
    app.assert_consistent().await;
}

/// T6 over HTTP: every order sent 5× concurrently with one key is created once, and every
/// replay answers byte for byte what the first did.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn t6_concurrent_replays_create_each_order_once() {
    let app = spawn_app().await;
    let f = app.fixture(1_200, 1_000).await;
    const ORDERS: usize = 50;
    const COPIES: usize = 5;

    let mut tasks = JoinSet::new();
    for i in 0..ORDERS {
        let key = new_key();
        let body = serde_json::to_vec(&order_body(&f.shop.shop_id, &f.product.sku_id, 1)).unwrap();
        for _ in 0..COPIES {
            let request = app
                .client
                .post(app.api("/orders"))
                .bearer_auth(&f.customer.token)
                .header("idempotency-key", &key)
                .header("content-type", "application/json")
                .body(body.clone());
            tasks.spawn(async move { (i, read(request.send().await.unwrap()).await) });
        }
    }
    let mut answers: HashMap<usize, Vec<String>> = HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (i, resp) = done.unwrap();
        assert_eq!(resp.status, 200, "{}", resp.text);
        answers.entry(i).or_default().push(resp.text);
    }

    assert_eq!(answers.len(), ORDERS);
    for (i, texts) in &answers {
        assert_eq!(texts.len(), COPIES);
        assert!(texts.iter().all(|t| t == &texts[0]), "order {i}: replays differ: {texts:#?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, ORDERS as i64);
    assert_eq!(app.stock(&f.product.sku_id).await, (1_000 - ORDERS as i64, ORDERS as i64, 0));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t6_a_key_reused_with_another_body_is_refused_and_a_missing_key_is_required() {
    let app = spawn_app().await;
    let f = app.fixture(1_200, 100).await;
    let key = new_key();
    let first = app.post_with_key("/orders", &f.customer.token, &key, &order_body(&f.shop.shop_id, &f.product.sku_id, 1)).await;
    first.ok();

    let changed = app.post_with_key("/orders", &f.customer.token, &key, &order_body(&f.shop.shop_id, &f.product.sku_id, 2)).await;
    changed.assert_error(409, "idempotency_key_reused");

    let missing = app.post("/orders", Some(&f.customer.token), &order_body(&f.shop.shop_id, &f.product.sku_id, 1)).await;
    missing.assert_error(422, "idempotency_key_required");
    let blank = app.post_with_key("/orders", &f.customer.token, "   ", &order_body(&f.shop.shop_id, &f.product.sku_id, 1)).await;
    blank.assert_error(422, "idempotency_key_required");

    // The same key from another customer is another key.
    let other = app.register_customer().await;
    app.post_with_key("/orders", &other.token, &key, &order_body(&f.shop.shop_id, &f.product.sku_id, 1)).await.ok();

    // The replay still answers the first response.
    let replay = app.post_with_key("/orders", &f.customer.token, &key, &order_body(&f.shop.shop_id, &f.product.sku_id, 1)).await;
    assert_eq!(replay.text, first.text);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 2);
    assert_eq!(app.stock(&f.product.sku_id).await, (98, 2, 0));
    app.assert_consistent().await;
}

/// T1 over HTTP: 200 concurrent buyers (20 customers × 10 requests) race for 50 units.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn t1_two_hundred_buyers_for_fifty_units_never_oversell() {
    let app = spawn_app().await;
    let f = app.fixture(990, 50).await;
    let mut customers = Vec::new();
    for _ in 0..20 {
        customers.push(app.register_customer().await);
    }

    let mut tasks = JoinSet::new();
    for customer in &customers {
        for _ in 0..10 {
            let request = app
                .client
                .post(app.api("/orders"))
                .bearer_auth(&customer.token)
                .header("idempotency-key", new_key())
                .json(&order_body(&f.shop.shop_id, &f.product.sku_id, 1));
            tasks.spawn(async move { read(request.send().await.unwrap()).await });
        }
    }
    let (mut ok, mut out_of_stock, mut other): (i64, i64, Vec<String>) = (0, 0, Vec::new());
    while let Some(done) = tasks.join_next().await {
        let resp = done.unwrap();
        match (resp.status, resp.code()) {
            (200, _) => ok += 1,
            (409, "out_of_stock") => out_of_stock += 1,
            _ => other.push(format!("{} {}", resp.status, resp.text)),
        }
    }

    assert_eq!((ok, out_of_stock), (50, 150), "unexpected answers: {other:?}");
    assert!(other.is_empty(), "no 5xx or other answer: {other:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 50);
    assert_eq!(app.stock(&f.product.sku_id).await, (0, 50, 0));
    let sold: Value = app.get(&format!("/products/{}", f.product.product_id), None).await.ok().clone();
    assert_eq!(sold["skus"][0]["stock_available"], 0);
    app.assert_consistent().await;
}
