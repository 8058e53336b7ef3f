//! Bargains (砍价) over HTTP: start → friends help → buy at the price reached → pay in the
//! sandbox → the order ships with the bargain's discount; floor_only; every abuse answered with
//! its status and code; campaigns created only by the right people with sound rules.

use serde_json::{Value, json};

use crate::helpers::*;

const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A sound campaign body for `sku_id` (retail 100.00, supply 60.00 in the fixture), open for a
/// week from now: start at retail, floor at supply, K = `k`.
fn campaign_body(app: &TestApp, sku_id: &str, k: i64, rule: &str) -> Value {
    json!({
        "sku_id": sku_id,
        "start_fen": 10_000,
        "floor_fen": 6_000,
        "helpers_needed": k,
        "starts_at": app.now(),
        "ends_at": app.now() + 7 * DAY_MS,
        "stock_cap": 10,
        "buy_rule": rule,
    })
}

fn delivery() -> Value {
    json!({"recipient": "张三", "phone": "13800138000", "address": "上海市浦东新区世纪大道 100 号"})
}

async fn campaign(app: &TestApp, f: &Fixture, k: i64, rule: &str) -> String {
    let operator = app.operator().await;
    let resp = app.post("/bargain-campaigns", Some(&operator), &campaign_body(app, &f.product.sku_id, k, rule)).await;
    resp.ok()["id"].as_str().expect("campaign id").to_string()
}

/// The fixture's customer starts a bargain in the fixture's shop; returns its id.
async fn start(app: &TestApp, f: &Fixture, campaign: &str) -> String {
    let resp =
        app.post(&format!("/bargain-campaigns/{campaign}/bargains"), Some(&f.customer.token), &json!({"shop_id": f.shop.shop_id})).await;
    let body = resp.ok();
    assert_eq!(body["started"], true);
    body["id"].as_str().expect("bargain id").to_string()
}

async fn help(app: &TestApp, bargain: &str, token: Option<&str>) -> Resp {
    app.post(&format!("/bargains/{bargain}/help"), token, &json!({})).await
}

async fn buy(app: &TestApp, bargain: &str, token: &str, body: &Value) -> Resp {
    app.post_with_key(&format!("/bargains/{bargain}/buy"), token, &new_key(), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_friends_help_then_the_starter_buys_and_pays_at_the_price_reached() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 5, "current_price").await;
    let id = start(&app, &f, &c).await;
    let again = app.post(&format!("/bargain-campaigns/{c}/bargains"), Some(&f.customer.token), &json!({"shop_id": f.shop.shop_id})).await;
    assert_eq!((again.ok()["id"].as_str(), again.ok()["started"].as_bool()), (Some(id.as_str()), Some(false)), "one at a time");

    let mut price = 10_000;
    for seq in 1..=3 {
        let friend = app.register_customer().await;
        let done = help(&app, &id, Some(&friend.token)).await;
        let done = done.ok();
        price -= done["cut_fen"].as_i64().expect("cut");
        assert_eq!(
            (done["seq"].as_i64(), done["current_fen"].as_i64(), done["helpers_needed"].as_i64()),
            (Some(seq), Some(price), Some(5))
        );
    }
    let view = app.get(&format!("/bargains/{id}"), None).await;
    let view = view.ok();
    assert_eq!((view["current_fen"].as_i64(), view["helps"].as_i64(), view["status"].as_str()), (Some(price), Some(3), Some("running")));
    assert_eq!(
        (view["can_buy"].as_bool(), view["mine"].as_bool(), view["seconds_left"].as_i64()),
        (Some(true), Some(false), Some(24 * 3_600))
    );
    let helpers = view["helpers"].as_array().expect("helpers");
    assert_eq!(helpers.len(), 3);
    assert!(helpers.iter().all(|h| h["name"] == "测**"), "names are masked: {helpers:?}");
    assert!(view.get("seed").is_none() && view.get("cuts").is_none(), "the cut sequence is never shown: {view}");
    assert_eq!(view["starter_name"], "测**");

    let placed = buy(&app, &id, &f.customer.token, &delivery()).await;
    let order_id = placed.ok()["order_id"].as_str().expect("order id").to_string();
    // No shipping: the goods are at or above the free-shipping line (49.00).
    assert_eq!(placed.ok()["payable_fen"].as_i64(), Some(price));
    let mine = app.get(&format!("/bargains/{id}"), Some(&f.customer.token)).await;
    assert_eq!((mine.ok()["status"].as_str(), mine.ok()["order_id"].as_str()), (Some("bought"), Some(order_id.as_str())));
    app.pay(&f.customer.token, &order_id).await;
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["status"], "to_ship");
    assert_eq!((order["base_fen"].as_i64(), order["activity_discount_fen"].as_i64()), (Some(10_000), Some(10_000 - price)));
    assert_eq!(
        (order["goods_fen"].as_i64(), order["shipping_fen"].as_i64(), order["paid_fen"].as_i64()),
        (Some(price), Some(0), Some(price))
    );
    assert_eq!(order["items"][0]["unit_fen"].as_i64(), Some(10_000), "the line keeps the retail price; the discount is the activity's");
    assert_eq!(app.stock(&f.product.sku_id).await, (99, 0, 1));
    let list = app.get("/me/bargains", Some(&f.customer.token)).await;
    assert_eq!(list.ok().as_array().map(Vec::len), Some(1));
    let campaign = app.get(&format!("/bargain-campaigns/{c}"), None).await;
    assert_eq!(campaign.ok()["stock_used"].as_i64(), Some(1));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floor_only_waits_for_the_last_help() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 2, "floor_only").await;
    let id = start(&app, &f, &c).await;
    buy(&app, &id, &f.customer.token, &delivery()).await.assert_error(409, "bargain_floor_not_reached");
    let first = app.register_customer().await;
    help(&app, &id, Some(&first.token)).await.ok();
    let view = app.get(&format!("/bargains/{id}"), Some(&f.customer.token)).await;
    assert_eq!((view.ok()["can_buy"].as_bool(), view.ok()["mine"].as_bool()), (Some(false), Some(true)));
    buy(&app, &id, &f.customer.token, &delivery()).await.assert_error(409, "bargain_floor_not_reached");
    let second = app.register_customer().await;
    assert_eq!(help(&app, &id, Some(&second.token)).await.ok()["current_fen"].as_i64(), Some(6_000));
    let third = app.register_customer().await;
    help(&app, &id, Some(&third.token)).await.assert_error(409, "bargain_finished");
    let placed = buy(&app, &id, &f.customer.token, &delivery()).await;
    assert_eq!(placed.ok()["payable_fen"].as_i64(), Some(6_000));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_abuse_is_refused_with_its_code_and_changes_nothing() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 3, "current_price").await;
    let id = start(&app, &f, &c).await;
    let friend = app.register_customer().await;
    help(&app, &id, Some(&friend.token)).await.ok();
    let before = app.get(&format!("/bargains/{id}"), None).await.ok().clone();

    help(&app, &id, None).await.assert_error(401, "unauthenticated");
    help(&app, &id, Some(&f.customer.token)).await.assert_error(409, "bargain_self_help");
    help(&app, &id, Some(&friend.token)).await.assert_error(409, "bargain_already_helped");
    buy(&app, &id, &friend.token, &delivery()).await.assert_error(403, "forbidden");
    let mut priced = delivery();
    priced["price_fen"] = json!(1);
    buy(&app, &id, &f.customer.token, &priced).await.assert_error(422, "client_price_rejected");
    let mut extra = delivery();
    extra["status"] = json!("paid");
    buy(&app, &id, &f.customer.token, &extra).await.assert_error(422, "unknown_field");
    let no_key = app.post(&format!("/bargains/{id}/buy"), Some(&f.customer.token), &delivery()).await;
    no_key.assert_error(422, "idempotency_key_required");
    buy(&app, &id, &f.customer.token, &json!({"recipient": "", "phone": "1", "address": "x"})).await.assert_error(422, "invalid_input");
    app.post(&format!("/bargain-campaigns/{c}/bargains"), Some(&f.customer.token), &json!({"helpers": 0}))
        .await
        .assert_error(422, "unknown_field");
    help(&app, "01900000-0000-7000-8000-000000000000", Some(&friend.token)).await.assert_error(404, "not_found");
    assert_eq!(app.get(&format!("/bargains/{id}"), None).await.ok(), &before, "refusals change nothing");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);

    // A replayed buy answers with the first order; after expiry nothing more is accepted.
    let key = new_key();
    let path = format!("/bargains/{id}/buy");
    let first = app.post_with_key(&path, &f.customer.token, &key, &delivery()).await.ok().clone();
    let replay = app.post_with_key(&path, &f.customer.token, &key, &delivery()).await.ok().clone();
    assert_eq!(first, replay);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    buy(&app, &id, &f.customer.token, &delivery()).await.assert_error(409, "bargain_finished");

    let other = start_other(&app, &f, &c).await;
    app.advance_ms(24 * HOUR_MS);
    let late = app.register_customer().await;
    help(&app, &other.0, Some(&late.token)).await.assert_error(409, "bargain_expired");
    buy(&app, &other.0, &other.1, &delivery()).await.assert_error(409, "bargain_expired");
    assert_eq!(app.get(&format!("/bargains/{}", other.0), None).await.ok()["status"], "expired");
    app.assert_consistent().await;
}

/// Another customer's bargain in the same campaign: (bargain id, their token).
async fn start_other(app: &TestApp, f: &Fixture, campaign: &str) -> (String, String) {
    let customer = app.register_customer().await;
    let resp =
        app.post(&format!("/bargain-campaigns/{campaign}/bargains"), Some(&customer.token), &json!({"shop_id": f.shop.shop_id})).await;
    (resp.ok()["id"].as_str().expect("id").to_string(), customer.token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_are_created_by_the_right_people_with_sound_rules() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let operator = app.operator().await;
    let sound = campaign_body(&app, &f.product.sku_id, 5, "current_price");
    let with = |key: &str, value: Value| {
        let mut body = sound.clone();
        body[key] = value;
        body
    };
    let cases = [
        ("start above retail", with("start_fen", json!(10_001)), 422, "invalid_price"),
        ("floor below supply", with("floor_fen", json!(5_999)), 422, "invalid_price"),
        ("K = 0", with("helpers_needed", json!(0)), 422, "invalid_input"),
        ("K = 101", with("helpers_needed", json!(101)), 422, "invalid_input"),
        ("73 hours", with("bargain_hours", json!(73)), 422, "invalid_input"),
        ("no stock", with("stock_cap", json!(0)), 422, "invalid_input"),
        ("window in the past", with("ends_at", json!(app.now() - 1)), 422, "invalid_input"),
        ("unknown rule", with("buy_rule", json!("haggle")), 422, "invalid_input"),
        ("unknown SKU", with("sku_id", json!("nope")), 404, "sku_not_found"),
        ("a client-invented field", with("discount", json!(1)), 422, "unknown_field"),
    ];
    for (name, body, status, code) in cases {
        let resp = app.post("/bargain-campaigns", Some(&operator), &body).await;
        assert_eq!((resp.status, resp.code()), (status, code), "{name}: {}", resp.text);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM bargain_campaigns").await, 0, "nothing refused is stored");

    app.post("/bargain-campaigns", None, &sound).await.assert_error(401, "unauthenticated");
    app.post("/bargain-campaigns", Some(&f.customer.token), &sound).await.assert_error(403, "forbidden");
    app.post("/bargain-campaigns", Some(&f.shop.actor.token), &sound).await.assert_error(403, "forbidden");
    let own = with("shop_id", json!(f.shop.shop_id));
    let id = app.post("/bargain-campaigns", Some(&f.shop.actor.token), &own).await.ok()["id"].as_str().expect("id").to_string();
    let listed = app.get(&format!("/bargain-campaigns?shop_id={}&active=true", f.shop.shop_id), None).await;
    assert_eq!(listed.ok().as_array().map(Vec::len), Some(1));
    app.post(&format!("/bargain-campaigns/{id}/end"), Some(&f.customer.token), &json!({})).await.assert_error(403, "forbidden");
    let ended = app.post(&format!("/bargain-campaigns/{id}/end"), Some(&f.shop.actor.token), &json!({})).await;
    assert_eq!(ended.ok()["ended_at"].as_i64(), Some(app.now()));
    app.post(&format!("/bargain-campaigns/{id}/bargains"), Some(&f.customer.token), &json!({}))
        .await
        .assert_error(409, "campaign_not_active");
    assert_eq!(app.get("/bargain-campaigns?active=true", None).await.ok().as_array().map(Vec::len), Some(0));
}
