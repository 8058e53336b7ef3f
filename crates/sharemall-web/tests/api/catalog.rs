//! The catalogue as suppliers, operators and shops use it; the OpenAPI document matches the
//! router; health and metrics.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_is_public_only_once_approved() {
    let app = spawn_app().await;
    let supplier = app.supplier().await;
    let product = app.draft_product(&supplier, 1_990, 30).await;

    app.get(&format!("/products/{}", product.product_id), None).await.assert_error(404, "not_found");
    assert_eq!(app.get("/catalogue", None).await.ok(), &json!([]));
    let operator = app.operator().await;
    let pending = app.get("/operator/products?approval=pending", Some(&operator)).await;
    assert_eq!(pending.ok().as_array().unwrap().len(), 1);
    app.post(&format!("/operator/products/{}/approval", product.product_id), Some(&operator), &json!({"approval": "approved"})).await.ok();

    let public = app.get(&format!("/products/{}", product.product_id), None).await;
    let public = public.ok();
    assert_eq!(public["price_from_fen"], 1_990);
    assert!(public["skus"][0].get("supply_fen").is_none(), "the supply price is not public: {public}");
    let trade = app.get("/supplier/products", Some(&supplier.actor.token)).await;
    assert_eq!(trade.ok()[0]["skus"][0]["supply_fen"], 1_194);
    assert_eq!(app.get("/catalogue?q=绿茶", None).await.ok().as_array().unwrap().len(), 1);
    assert_eq!(app.get("/catalogue?q=咖啡", None).await.ok().as_array().unwrap().len(), 0);

    let restocked = app.post(&format!("/supplier/skus/{}/restock", product.sku_id), Some(&supplier.actor.token), &json!({"add": 20})).await;
    assert_eq!(restocked.ok()["stock_available"], 50);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_opens_free_and_shows_what_it_carries() {
    let app = spawn_app().await;
    let supplier = app.supplier().await;
    let product = app.product(&supplier, 2_000, 10).await;
    let shop = app.shop(&[&product]).await;

    let home = app.get(&format!("/shops/{}", shop.shop_id), None).await;
    let home = home.ok();
    assert_eq!(home["products"].as_array().unwrap().len(), 1);
    assert!(home["registration_statement"].as_str().unwrap().contains("电子商务法"));
    let again = app.post("/shops", Some(&shop.actor.token), &json!({"name": "第二家店"})).await;
    again.assert_error(409, "shop_already_open");
    app.send(app.client.delete(app.api(&format!("/shop/products/{}", product.product_id))).bearer_auth(&shop.actor.token)).await.ok();
    let home = app.get(&format!("/shops/{}", shop.shop_id), None).await;
    assert_eq!(home.ok()["products"], json!([]));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_supplier_cannot_sell() {
    let app = spawn_app().await;
    let user = app.register_customer().await;
    let applied = app.post("/suppliers", Some(&user.token), &json!({"name": "待审供应商", "contact": "x@test.example"})).await;
    applied.ok();
    app.post("/suppliers", Some(&user.token), &json!({"name": "再来一次", "contact": "x@test.example"}))
        .await
        .assert_error(409, "account_exists");
    let operator = app.operator().await;
    let pending = app.get("/operator/suppliers?approval=pending", Some(&operator)).await;
    assert_eq!(pending.ok().as_array().unwrap().len(), 1);
    let product = app
        .post(
            "/supplier/products",
            Some(&user.token),
            &json!({"title": "t", "description": "", "category": "c", "skus": [{"attributes": "", "supply_fen": 100, "retail_fen": 50, "commission_bps": 0, "stock": 1, "returnable": true}]}),
        )
        .await;
    product.assert_error(422, "invalid_price");
    let greedy = app
        .post(
            "/supplier/products",
            Some(&user.token),
            &json!({"title": "t", "description": "", "category": "c", "skus": [{"attributes": "", "supply_fen": 10, "retail_fen": 100, "commission_bps": 3001, "stock": 1, "returnable": true}]}),
        )
        .await;
    greedy.assert_error(422, "commission_above_cap");
    assert_eq!(app.count("SELECT COUNT(*) FROM products").await, 0);
    app.assert_consistent().await;
}

fn dummy_path(path: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e + 1);
        out.push_str(&id);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every operation in the OpenAPI document is routed (a 4xx from our handlers is fine; the
/// fallback's "page not found" is not), and none answers 5xx to a dummy request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = app.send(app.client.get(app.url("/api/openapi.json"))).await;
    let doc: &Value = doc.ok();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "only {} paths documented", paths.len());
    // Where the document says the API lives; an OpenAPI client joins it with every path.
    let base = doc["servers"][0]["url"].as_str().unwrap_or("").trim_end_matches('/').to_string();
    let customer = app.register_customer().await;

    let mut checked = 0;
    let mut unrouted = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = app.url(&format!("{base}{}", dummy_path(path)));
            let request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), url)
                .bearer_auth(&customer.token)
                .header("idempotency-key", "openapi-probe");
            let request = if method == "get" || method == "delete" { request } else { request.json(&json!({})) };
            let resp = app.send(request).await;
            checked += 1;
            if resp.status == 404 && resp.code() == "not_found" && resp.message() == "page not found" || resp.status == 405 {
                unrouted.push(format!("{} {base}{path} → {} {}", method.to_uppercase(), resp.status, resp.text));
            }
            assert!(resp.status < 500, "{method} {path}: {} {}", resp.status, resp.text);
            // WeChat Pay's notify route answers in WeChat's shape (`{"code":"FAIL","message"}`),
            // the one contract that is not ours.
            let wechat_ack = path == "/payments/wechat/notify" && resp.json["code"] == "FAIL" && resp.json["message"].is_string();
            assert!(
                resp.status == 200 || !resp.code().is_empty() || wechat_ack,
                "{method} {path}: not our envelope: {} {}",
                resp.status,
                resp.text
            );
        }
    }
    assert!(unrouted.is_empty(), "documented but not routed: {unrouted:#?}");
    assert!(checked >= 30, "only {checked} operations");
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let app = spawn_app().await;

    let health = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!((health.status, health.text.as_str()), (200, "ok"));
    let metrics = app.send(app.client.get(app.url("/metrics"))).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.text.contains("sharemall_http_requests_total"), "{}", metrics.text);
    assert!(metrics.text.contains("sharemall_http_requests_total{class=\"2xx\"}"), "{}", metrics.text);
    assert!(metrics.text.contains("sharemall_store_commits_total"), "{}", metrics.text);
    app.assert_consistent().await;
}
