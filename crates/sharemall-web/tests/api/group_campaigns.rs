//! Group-buy campaigns over HTTP: every broken rule answers with its status and code, only the
//! right people create and end campaigns, and lists filter and page within their limits.

use serde_json::{Value, json};

use crate::helpers::*;

const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A sound campaign body for `sku_id` (retail 100.00, supply 60.00 in the fixture), open for a
/// week from now.
fn body(app: &TestApp, sku_id: &str, shop_id: Option<&str>) -> Value {
    let mut body = json!({
        "sku_id": sku_id,
        "size": 3,
        "group_price_fen": 8_000,
        "starts_at": app.now(),
        "ends_at": app.now() + 7 * DAY_MS,
        "stock_cap": 30,
        "per_customer_limit": 2,
    });
    if let Some(shop_id) = shop_id {
        body["shop_id"] = json!(shop_id);
    }
    body
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.post("/group-campaigns", Some(token), body).await
}

async fn created(app: &TestApp, token: &str, body: &Value) -> String {
    create(app, token, body).await.ok()["id"].as_str().expect("campaign id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_creates_a_campaign_with_defaults_filled_in() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let operator = app.operator().await;
    let id = created(&app, &operator, &body(&app, &f.product.sku_id, None)).await;
    let campaign = app.get(&format!("/group-campaigns/{id}"), None).await;
    let campaign = campaign.ok();
    assert_eq!(campaign["shop_id"], Value::Null, "a platform campaign");
    assert_eq!(campaign["product_id"], f.product.product_id.as_str());
    assert_eq!((campaign["group_hours"].as_i64(), campaign["new_customers_only"].as_bool()), (Some(24), Some(false)));
    assert_eq!((campaign["auto_complete_at"].clone(), campaign["stock_used"].as_i64()), (Value::Null, Some(0)));
    let full = json!({"new_customers_only": true, "auto_complete_at": 2, "group_hours": 72});
    let mut shop_body = body(&app, &f.product.sku_id, Some(&f.shop.shop_id));
    for (key, value) in full.as_object().expect("object") {
        shop_body[key] = value.clone();
    }
    let id = created(&app, &operator, &shop_body).await;
    let campaign = app.get(&format!("/group-campaigns/{id}"), None).await;
    let campaign = campaign.ok();
    assert_eq!(campaign["shop_id"], f.shop.shop_id.as_str());
    assert_eq!((campaign["group_hours"].as_i64(), campaign["new_customers_only"].as_bool()), (Some(72), Some(true)));
    assert_eq!(campaign["auto_complete_at"].as_i64(), Some(2));
    app.get(&format!("/group-campaigns/{}", uuid_like()), None).await.assert_error(404, "not_found");
}

fn uuid_like() -> String {
    "01900000-0000-7000-8000-000000000000".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_rule_is_refused_with_its_code() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let operator = app.operator().await;
    let sound = body(&app, &f.product.sku_id, None);
    let now = app.now();
    let cases = [
        ("below supply", with(sound.clone(), "group_price_fen", json!(5_999)), 422, "invalid_price"),
        ("above retail", with(sound.clone(), "group_price_fen", json!(10_001)), 422, "invalid_price"),
        ("N = 1", with(sound.clone(), "size", json!(1)), 422, "invalid_input"),
        ("N = 101", with(sound.clone(), "size", json!(101)), 422, "invalid_input"),
        ("0 hours", with(sound.clone(), "group_hours", json!(0)), 422, "invalid_input"),
        ("73 hours", with(sound.clone(), "group_hours", json!(73)), 422, "invalid_input"),
        (
            "window in the past",
            with(with(sound.clone(), "starts_at", json!(now - 2 * DAY_MS)), "ends_at", json!(now - HOUR_MS)),
            422,
            "invalid_input",
        ),
        ("ends before it starts", with(sound.clone(), "ends_at", json!(now - 1)), 422, "invalid_input"),
        ("stock below N", with(sound.clone(), "stock_cap", json!(2)), 422, "invalid_input"),
        ("per-customer 0", with(sound.clone(), "per_customer_limit", json!(0)), 422, "invalid_input"),
        ("per-customer 100", with(sound.clone(), "per_customer_limit", json!(100)), 422, "invalid_input"),
        ("threshold = N", with(sound.clone(), "auto_complete_at", json!(3)), 422, "invalid_input"),
        ("threshold 0", with(sound.clone(), "auto_complete_at", json!(0)), 422, "invalid_input"),
        ("unknown SKU", with(sound.clone(), "sku_id", json!(uuid_like())), 404, "sku_not_found"),
        ("malformed SKU id", with(sound.clone(), "sku_id", json!("nope")), 404, "sku_not_found"),
        ("unknown shop", with(sound.clone(), "shop_id", json!(uuid_like())), 404, "not_found"),
        ("a client-invented field", with(sound.clone(), "discount", json!(1)), 422, "unknown_field"),
    ];
    for (name, body, status, code) in cases {
        let resp = create(&app, &operator, &body).await;
        assert_eq!((resp.status, resp.code()), (status, code), "{name}: {}", resp.text);
        assert!(!resp.message().is_empty(), "{name}: the error says what is wrong");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM group_campaigns").await, 0, "nothing refused is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operators_and_permitted_owners_of_the_shop_create_and_end() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let other = app.shop(&[&f.product]).await;
    let operator = app.operator().await;
    let in_shop = body(&app, &f.product.sku_id, Some(&f.shop.shop_id));

    app.post("/group-campaigns", None, &in_shop).await.assert_error(401, "unauthenticated");
    create(&app, &f.customer.token, &in_shop).await.assert_error(403, "forbidden");
    create(&app, &other.actor.token, &in_shop).await.assert_error(403, "forbidden");
    create(&app, &f.shop.actor.token, &body(&app, &f.product.sku_id, None)).await.assert_error(403, "forbidden");
    let own = created(&app, &f.shop.actor.token, &in_shop).await;
    let platform = created(&app, &operator, &body(&app, &f.product.sku_id, None)).await;
    let others = created(&app, &operator, &body(&app, &f.product.sku_id, Some(&other.shop_id))).await;

    let end = |id: &str| format!("/group-campaigns/{id}/end");
    app.post(&end(&own), None, &json!({})).await.assert_error(401, "unauthenticated");
    app.post(&end(&own), Some(&f.customer.token), &json!({})).await.assert_error(403, "forbidden");
    app.post(&end(&own), Some(&other.actor.token), &json!({})).await.assert_error(403, "forbidden");
    app.post(&end(&platform), Some(&f.shop.actor.token), &json!({})).await.assert_error(403, "forbidden");
    let ended = app.post(&end(&own), Some(&f.shop.actor.token), &json!({})).await.ok()["ended_at"].as_i64();
    assert_eq!(ended, Some(app.now()));
    app.advance_ms(MINUTE_MS);
    let again = app.post(&end(&own), Some(&f.shop.actor.token), &json!({})).await.ok()["ended_at"].as_i64();
    assert_eq!(again, ended, "ending twice keeps the first end");
    app.post(&end(&others), Some(&operator), &json!({})).await.ok();
    app.post(&end(&platform), Some(&operator), &json!({})).await.ok();
    app.post(&end(&uuid_like()), Some(&operator), &json!({})).await.assert_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_are_refused_when_the_operator_turns_the_setting_off() {
    let app = spawn_app_with(|config| config.shop_owners_may_run_groups = false).await;
    let f = app.fixture(10_000, 100).await;
    let in_shop = body(&app, &f.product.sku_id, Some(&f.shop.shop_id));
    create(&app, &f.shop.actor.token, &in_shop).await.assert_error(403, "forbidden");
    let operator = app.operator().await;
    created(&app, &operator, &in_shop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_by_shop_product_and_activity_within_page_limits() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 1_000).await;
    let second = app.product(&f.supplier, 20_000, 1_000).await;
    let operator = app.operator().await;
    let platform = created(&app, &operator, &body(&app, &f.product.sku_id, None)).await;
    let own = created(&app, &f.shop.actor.token, &body(&app, &f.product.sku_id, Some(&f.shop.shop_id))).await;
    let later = with(with(body(&app, &second.sku_id, None), "starts_at", json!(app.now() + DAY_MS)), "group_price_fen", json!(15_000));
    let not_started = created(&app, &operator, &later).await;
    let ended = created(&app, &operator, &body(&app, &f.product.sku_id, None)).await;
    app.post(&format!("/group-campaigns/{ended}/end"), Some(&operator), &json!({})).await.ok();

    let ids = |resp: Resp| {
        let mut ids: Vec<String> = resp.ok().as_array().expect("list").iter().map(|c| c["id"].as_str().expect("id").to_string()).collect();
        ids.sort();
        ids
    };
    let sorted = |ids: &[&String]| {
        let mut ids: Vec<String> = ids.iter().map(|id| (*id).clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(app.get("/group-campaigns", None).await).len(), 4);
    let shop = &f.shop.shop_id;
    assert_eq!(
        ids(app.get(&format!("/group-campaigns?shop_id={shop}"), None).await),
        sorted(&[&platform, &own, &ended]),
        "the shop carries only the first product"
    );
    let product = &second.product_id;
    assert_eq!(ids(app.get(&format!("/group-campaigns?product_id={product}"), None).await), sorted(&[&not_started]));
    assert_eq!(ids(app.get("/group-campaigns?active=true", None).await), sorted(&[&platform, &own]));
    assert_eq!(
        ids(app.get(&format!("/group-campaigns?active=true&shop_id={shop}&product_id={}", f.product.product_id), None).await),
        sorted(&[&platform, &own])
    );
    app.advance_ms(DAY_MS);
    assert_eq!(ids(app.get("/group-campaigns?active=true", None).await), sorted(&[&platform, &own, &not_started]), "started a day later");

    assert_eq!(ids(app.get("/group-campaigns?per_page=3", None).await).len(), 3);
    assert_eq!(ids(app.get("/group-campaigns?per_page=3&page=2", None).await).len(), 1);
    assert_eq!(ids(app.get("/group-campaigns?per_page=0", None).await).len(), 1, "per_page is at least 1");
    assert_eq!(ids(app.get("/group-campaigns?per_page=1000&page=-3", None).await).len(), 4, "clamped, not refused");
    assert!(ids(app.get("/group-campaigns?page=99999999", None).await).is_empty());
    assert_eq!(app.get("/group-campaigns?shop_id=nope", None).await.status, 400, "a malformed filter is refused");
}
