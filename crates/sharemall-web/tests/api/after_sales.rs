//! After-sales over HTTP: a customer returns part of a received order, the supplier approves,
//! the customer enters the return tracking number, the supplier confirms the goods came back,
//! and the refund job pays the refund through the sandbox provider; stock, the order's money and
//! the owner's commission follow. Bad input and other people's cases change nothing.

use serde_json::{Value, json};

use crate::helpers::{DAY_MS, Fixture, TestApp, new_key, spawn_app};

/// Three units at ¥30.00 (10% commission), paid, shipped and received.
async fn received_order(app: &TestApp, f: &Fixture) -> String {
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 3).await;
    app.pay(&f.customer.token, &order_id).await;
    let ship = json!({"carrier": "顺丰速运", "tracking_no": "SF1234567890"});
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.supplier.actor.token), &ship).await.ok();
    app.post(&format!("/orders/{order_id}/receive"), Some(&f.customer.token), &json!({})).await.ok();
    order_id
}

fn one_unit(reason: &str) -> Value {
    json!({"reason": reason, "description": "尺码不合适", "lines": [{"line_no": 1, "quantity": 1}]})
}

fn pending_fen(earnings: &Value) -> i64 {
    earnings["balances"]["pending_fen"].as_i64().expect("pending")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_goes_from_request_to_refund_over_http() {
    let app = spawn_app().await;
    let f = app.fixture(3_000, 10).await;
    let (customer, supplier) = (f.customer.token.clone(), f.supplier.actor.token.clone());
    let order_id = received_order(&app, &f).await;
    assert_eq!(pending_fen(app.get("/me/earnings", Some(&f.shop.actor.token)).await.ok()), 900);

    // Opening a case moves money: it needs a key, and a replay returns the same case.
    let path = format!("/orders/{order_id}/returns");
    app.post(&path, Some(&customer), &one_unit("no_reason")).await.assert_error(422, "idempotency_key_required");
    let key = new_key();
    let case = app.post_with_key(&path, &customer, &key, &one_unit("no_reason")).await.ok().clone();
    let again = app.post_with_key(&path, &customer, &key, &one_unit("no_reason")).await.ok().clone();
    assert_eq!(case["id"], again["id"]);
    assert_eq!((case["status"].as_str(), case["refund_fen"].as_i64()), (Some("requested"), Some(3_000)));
    let id = case["id"].as_str().expect("id").to_string();

    // The customer sees it; another customer and another supplier don't.
    assert_eq!(app.get("/me/returns", Some(&customer)).await.ok()[0]["id"], case["id"]);
    let stranger = app.register_customer().await;
    app.get(&format!("/returns/{id}"), Some(&stranger.token)).await.assert_error(404, "not_found");
    app.post(&format!("/returns/{id}/cancel"), Some(&stranger.token), &json!({})).await.assert_error(404, "not_found");
    let other_supplier = app.supplier().await;
    assert_eq!(app.get("/supplier/returns", Some(&other_supplier.actor.token)).await.ok(), &json!([]));
    let approve = json!({"resolution": "return_and_refund"});
    app.post(&format!("/returns/{id}/approve"), Some(&other_supplier.actor.token), &approve).await.assert_error(404, "not_found");
    app.post(&format!("/returns/{id}/approve"), Some(&customer), &approve).await.assert_error(403, "forbidden");
    app.get("/supplier/returns", Some(&customer)).await.assert_error(403, "forbidden");
    app.get("/operator/returns", Some(&supplier)).await.assert_error(403, "forbidden");

    // The supplier's queue holds it; approving twice is refused the second time.
    let queue = app.get("/supplier/returns", Some(&supplier)).await.ok().clone();
    assert_eq!(queue[0]["id"], case["id"]);
    app.post(&format!("/returns/{id}/approve"), Some(&supplier), &json!({"resolution": "swap"})).await.assert_error(422, "invalid_input");
    assert_eq!(app.post(&format!("/returns/{id}/approve"), Some(&supplier), &approve).await.ok()["status"], "approved");
    app.post(&format!("/returns/{id}/approve"), Some(&supplier), &approve).await.assert_error(409, "after_sale_not_pending");

    let back = json!({"carrier": "中通快递", "tracking_no": "bad no"});
    app.post(&format!("/returns/{id}/ship-back"), Some(&customer), &back).await.assert_error(422, "invalid_input");
    let back = json!({"carrier": "中通快递", "tracking_no": "ZT000111222"});
    assert_eq!(app.post(&format!("/returns/{id}/ship-back"), Some(&customer), &back).await.ok()["status"], "returned");

    let stock_before = app.stock(&f.product.sku_id).await;
    let arrived = app.post(&format!("/returns/{id}/goods-received"), Some(&supplier), &json!({})).await.ok().clone();
    assert_eq!(arrived["status"], "refunding");
    let stock_after = app.stock(&f.product.sku_id).await;
    assert_eq!((stock_after.0, stock_after.2), (stock_before.0 + 1, stock_before.2 - 1), "one unit back in stock");

    // The refund job pays it through the sandbox provider.
    app.run_jobs().await;
    assert_eq!(app.get(&format!("/returns/{id}"), Some(&customer)).await.ok()["status"], "refunded");
    let order = app.order(&customer, &order_id).await;
    assert_eq!((order["status"].as_str(), order["refunded_fen"].as_i64()), (Some("received"), Some(3_000)));
    assert_eq!(pending_fen(app.get("/me/earnings", Some(&f.shop.actor.token)).await.ok()), 600, "the returned unit's commission is voided");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_returns_change_nothing() {
    let app = spawn_app().await;
    let f = app.fixture(3_000, 10).await;
    let customer = f.customer.token.clone();
    let order_id = received_order(&app, &f).await;
    let path = format!("/orders/{order_id}/returns");

    let refused = [
        (json!({"reason": "changed_mind", "lines": [{"line_no": 1, "quantity": 1}]}), 422, "invalid_input"),
        (json!({"reason": "quality", "lines": [{"line_no": 1, "quantity": 1}]}), 422, "invalid_input"),
        (json!({"reason": "no_reason", "lines": [{"line_no": 1, "quantity": 4}]}), 422, "invalid_quantity"),
        (json!({"reason": "no_reason", "lines": []}), 422, "invalid_input"),
        (json!({"reason": "no_reason", "lines": [{"line_no": 1, "quantity": 1}], "refund_fen": 1}), 422, "unknown_field"),
    ];
    for (body, status, code) in &refused {
        app.post_with_key(&path, &customer, &new_key(), body).await.assert_error(*status, code);
    }
    // Eight days after receipt, no-reason returns have closed; a quality return is still open.
    app.advance_ms(8 * DAY_MS);
    app.post_with_key(&path, &customer, &new_key(), &one_unit("no_reason")).await.assert_error(409, "return_window_closed");
    assert_eq!(app.count("SELECT COUNT(*) FROM after_sales").await, 0);

    let case = app.post_with_key(&path, &customer, &new_key(), &one_unit("quality")).await.ok().clone();
    let id = case["id"].as_str().expect("id");
    // The operator rejects it with a reason the customer sees.
    let operator = app.operator().await;
    app.post(&format!("/returns/{id}/reject"), Some(&operator), &json!({"reason": " "})).await.assert_error(422, "invalid_input");
    let rejected = app.post(&format!("/returns/{id}/reject"), Some(&operator), &json!({"reason": "商品无质量问题"})).await.ok().clone();
    assert_eq!((rejected["status"].as_str(), rejected["decision_note"].as_str()), (Some("rejected"), Some("商品无质量问题")));
    assert_eq!(app.get("/operator/returns?status=rejected", Some(&operator)).await.ok()[0]["id"], case["id"]);
    app.get("/operator/returns?status=lost", Some(&operator)).await.assert_error(422, "invalid_input");
    assert_eq!(app.order(&customer, &order_id).await["refunded_fen"].as_i64(), Some(0));
    app.assert_consistent().await;
}
