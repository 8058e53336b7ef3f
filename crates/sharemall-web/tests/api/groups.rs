//! Groups over HTTP: open by ordering at the group price, a friend joins, both pay through the
//! sandbox provider and the group succeeds; an unfilled group expires under the fake clock and
//! the job runner refunds its paid member through the provider. Refusals keep their codes.

use serde_json::{Value, json};

use crate::helpers::*;

fn seat(shop_id: Option<&str>) -> Value {
    let mut body = json!({"recipient": "王五", "phone": "13700000000", "address": "北京市 朝阳区 3 号"});
    if let Some(shop_id) = shop_id {
        body["shop_id"] = json!(shop_id);
    }
    body
}

/// A platform campaign of groups of `size` at 80.00 on the fixture's SKU (retail 100.00).
async fn campaign(app: &TestApp, f: &Fixture, size: i64) -> String {
    let operator = app.operator().await;
    let body = json!({
        "sku_id": f.product.sku_id, "size": size, "group_price_fen": 8_000, "starts_at": app.now(),
        "ends_at": app.now() + 7 * DAY_MS, "stock_cap": 50, "per_customer_limit": 2,
    });
    app.post("/group-campaigns", Some(&operator), &body).await.ok()["id"].as_str().expect("campaign id").to_string()
}

async fn open_paid(app: &TestApp, f: &Fixture, campaign: &str, leader: &Actor) -> (String, String) {
    let placed =
        app.post_with_key(&format!("/group-campaigns/{campaign}/groups"), &leader.token, &new_key(), &seat(Some(&f.shop.shop_id))).await;
    let order_id = placed.ok()["order_id"].as_str().expect("order id").to_string();
    assert_eq!(placed.ok()["payable_fen"].as_i64(), Some(8_000));
    app.pay(&leader.token, &order_id).await;
    let mine = app.get("/me/groups", Some(&leader.token)).await;
    let group_id = mine.ok()[0]["group_id"].as_str().expect("the paid opener's group").to_string();
    (order_id, group_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_joins_both_pay_and_the_group_succeeds() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 2).await;
    let (a, b) = (app.register_customer().await, app.register_customer().await);
    let (a_order, group) = open_paid(&app, &f, &c, &a).await;
    assert_eq!(app.order_status(&a.token, &a_order).await, "awaiting_group");
    let page = app.get(&format!("/groups/{group}"), None).await;
    assert_eq!((page.ok()["status"].as_str(), page.ok()["seats_left"].as_i64()), (Some("open"), Some(1)));
    let listed = app.get(&format!("/groups?shop_id={}&product_id={}", f.shop.shop_id, f.product.product_id), None).await;
    assert_eq!(listed.ok().as_array().map(Vec::len), Some(1), "the product's joinable groups");

    app.post_with_key(&format!("/groups/{group}/join"), &b.token, &new_key(), &seat(None)).await.ok();
    let second = app.post_with_key(&format!("/groups/{group}/join"), &b.token, &new_key(), &seat(None)).await;
    second.assert_error(409, "already_in_group");
    let b_order = app.get("/me/groups", Some(&b.token)).await.ok()[0]["order_id"].as_str().expect("b's order").to_string();
    app.pay(&b.token, &b_order).await;

    let done = app.get(&format!("/groups/{group}"), None).await;
    assert_eq!((done.ok()["status"].as_str(), done.ok()["paid"].as_i64()), (Some("succeeded"), Some(2)));
    assert_eq!(done.ok()["members"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.order_status(&a.token, &a_order).await, "to_ship");
    assert_eq!(app.order_status(&b.token, &b_order).await, "to_ship");
    let inbox = app.get("/me/inbox", Some(&b.token)).await;
    assert_eq!(inbox.ok()[0]["kind"], "group_succeeded");
    let operator = app.operator().await;
    let results = app.get(&format!("/group-campaigns/{c}/results"), Some(&operator)).await;
    assert_eq!((results.ok()["succeeded"].as_i64(), results.ok()["success_rate_bps"].as_i64()), (Some(1), Some(10_000)));
    app.get(&format!("/group-campaigns/{c}/results"), Some(&a.token)).await.assert_error(403, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfilled_group_expires_and_its_member_is_refunded_by_the_provider() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 3).await;
    let a = app.register_customer().await;
    let (a_order, group) = open_paid(&app, &f, &c, &a).await;
    app.advance_ms(24 * 60 * MINUTE_MS);
    let expired = app.get(&format!("/groups/{group}"), None).await;
    assert_eq!(expired.ok()["status"], "expired", "overdue reads as expired before any sweep");
    let late = app.register_customer().await;
    app.post_with_key(&format!("/groups/{group}/join"), &late.token, &new_key(), &seat(None)).await.assert_error(409, "group_expired");
    app.run_jobs().await;
    let failed = app.get(&format!("/groups/{group}"), None).await;
    assert_eq!(failed.ok()["status"], "failed");
    assert_eq!(app.order_status(&a.token, &a_order).await, "refunded", "refunded through the sandbox provider by the job runner");
    let order = app.order(&a.token, &a_order).await;
    assert_eq!(order["refunded_fen"].as_i64(), Some(8_000));
    assert_eq!(app.get("/me/inbox", Some(&a.token)).await.ok()[0]["kind"], "group_failed");
    app.run_jobs().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 1, "a second round refunds nothing more");
    assert_eq!(app.stock(&f.product.sku_id).await, (100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_orders_refuse_prices_strangers_and_a_missing_key() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 2).await;
    let a = app.register_customer().await;
    let path = format!("/group-campaigns/{c}/groups");
    let mut priced = seat(Some(&f.shop.shop_id));
    priced["price_fen"] = json!(1);
    app.post_with_key(&path, &a.token, &new_key(), &priced).await.assert_error(422, "client_price_rejected");
    app.post(&path, None, &seat(Some(&f.shop.shop_id))).await.assert_error(401, "unauthenticated");
    app.post(&path, Some(&a.token), &seat(Some(&f.shop.shop_id))).await.assert_error(422, "idempotency_key_required");
    let (_, group) = open_paid(&app, &f, &c, &a).await;
    let b = app.register_customer().await;
    let mut with_shop = seat(Some(&f.shop.shop_id));
    with_shop["quantity"] = json!(1);
    app.post_with_key(&format!("/groups/{group}/join"), &b.token, &new_key(), &with_shop).await.assert_error(422, "invalid_input");
    let mut negative = seat(None);
    negative["quantity"] = json!(-1);
    app.post_with_key(&format!("/groups/{group}/join"), &b.token, &new_key(), &negative).await.assert_error(422, "invalid_quantity");
    let mut too_many = seat(None);
    too_many["quantity"] = json!(3);
    app.post_with_key(&format!("/groups/{group}/join"), &b.token, &new_key(), &too_many).await.assert_error(409, "campaign_limit_reached");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1, "only the opener's order exists");
}
