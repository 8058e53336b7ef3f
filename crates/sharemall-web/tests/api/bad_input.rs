//! Bad input gets a stable code and changes nothing: malformed JSON, unknown fields, prices
//! sent by the client, impossible quantities, unknown or unsellable SKUs, oversized bodies, bad
//! ids, huge pages, unknown routes.

use serde_json::{Value, json};

use crate::helpers::{Fixture, TestApp, new_key, order_body, spawn_app};

/// Nothing was ordered and the SKU's stock is untouched.
async fn assert_nothing_ordered(app: &TestApp, f: &Fixture, stock: i64) {
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(app.stock(&f.product.sku_id).await, (stock, 0, 0));
    app.assert_consistent().await;
}

async fn post_order(app: &TestApp, f: &Fixture, body: &Value) -> crate::helpers::Resp {
    app.post_with_key("/orders", &f.customer.token, &new_key(), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_unknown_fields_are_named() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;

    for body in [&b"{\"shop_id\": "[..], b"not json", b"[1, 2", b""] {
        let resp = app.post_raw("/orders", Some(&f.customer.token), Some(&new_key()), body.to_vec()).await;
        resp.assert_error(422, "malformed_json");
    }
    // The same on a typed-extractor route.
    app.post_raw("/auth/register", None, None, b"{\"login\":".to_vec()).await.assert_error(422, "malformed_json");
    app.post_raw("/shops", Some(&f.customer.token), None, b"{oops}".to_vec()).await.assert_error(422, "malformed_json");

    let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    body["coupon"] = json!("FREE");
    post_order(&app, &f, &body).await.assert_error(422, "unknown_field");
    let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    body["items"][0]["gift"] = json!(true);
    post_order(&app, &f, &body).await.assert_error(422, "unknown_field");
    // Mass assignment: status, paid amount and ownership are not inputs.
    for field in ["status", "paid_fen", "customer_id", "owner_id", "role"] {
        let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
        body[field] = json!("x");
        post_order(&app, &f, &body).await.assert_error(422, "unknown_field");
    }
    app.post("/shops", Some(&f.customer.token), &json!({"name": "我的小店", "owner_id": f.shop.actor.user_id}))
        .await
        .assert_error(422, "unknown_field");
    assert_eq!(app.count("SELECT COUNT(*) FROM shops").await, 1);

    assert_nothing_ordered(&app, &f, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_sent_by_the_client_is_rejected() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;

    let mut top = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    top["payable_fen"] = json!(1);
    post_order(&app, &f, &top).await.assert_error(422, "client_price_rejected");
    let mut line = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    line["items"][0]["price"] = json!(1);
    post_order(&app, &f, &line).await.assert_error(422, "client_price_rejected");
    let mut unit = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    unit["items"][0]["unit_fen"] = json!(1);
    post_order(&app, &f, &unit).await.assert_error(422, "client_price_rejected");

    assert_nothing_ordered(&app, &f, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impossible_quantities_are_refused() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;

    for quantity in [0, -1, 1_000, 1_000_000_000_000_000_000_i64, i64::MIN] {
        let resp = post_order(&app, &f, &order_body(&f.shop.shop_id, &f.product.sku_id, quantity)).await;
        assert_eq!((resp.status, resp.code()), (422, "invalid_quantity"), "quantity {quantity}: {}", resp.text);
    }
    // Two lines of one SKU that only together exceed the limit.
    let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 999);
    body["items"] = json!([{"sku_id": f.product.sku_id, "quantity": 999}, {"sku_id": f.product.sku_id, "quantity": 1}]);
    post_order(&app, &f, &body).await.assert_error(422, "invalid_quantity");
    // Not an integer at all.
    let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    body["items"][0]["quantity"] = json!(1e30);
    assert_eq!(post_order(&app, &f, &body).await.status, 422);
    // In the cart too.
    let cart = format!("/shops/{}/cart/{}", f.shop.shop_id, f.product.sku_id);
    app.put(&cart, Some(&f.customer.token), &json!({"quantity": -1})).await.assert_error(422, "invalid_quantity");
    app.put(&cart, Some(&f.customer.token), &json!({"quantity": 1000})).await.assert_error(422, "invalid_quantity");
    // Within stock limits but more than there is.
    post_order(&app, &f, &order_body(&f.shop.shop_id, &f.product.sku_id, 11)).await.assert_error(409, "out_of_stock");

    assert_nothing_ordered(&app, &f, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_unsellable_skus_are_refused() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;
    let unapproved = app.draft_product(&f.supplier, 1_000, 10).await;
    // The shop cannot even carry a product that is not approved...
    let pick = app.post("/shop/products", Some(&f.shop.actor.token), &json!({"product_id": unapproved.product_id})).await;
    assert!(pick.status >= 400 && pick.status < 500, "{}", pick.text);
    // ...and an approved one the shop does not carry is not on sale there either.
    let elsewhere = app.product(&f.supplier, 1_000, 10).await;

    let random = uuid::Uuid::now_v7().to_string();
    post_order(&app, &f, &order_body(&f.shop.shop_id, &random, 1)).await.assert_error(404, "sku_not_found");
    post_order(&app, &f, &order_body(&f.shop.shop_id, "not-a-uuid", 1)).await.assert_error(404, "sku_not_found");
    post_order(&app, &f, &order_body(&f.shop.shop_id, &unapproved.sku_id, 1)).await.assert_error(409, "sku_not_on_sale");
    post_order(&app, &f, &order_body(&f.shop.shop_id, &elsewhere.sku_id, 1)).await.assert_error(409, "sku_not_on_sale");
    post_order(&app, &f, &order_body(&random, &f.product.sku_id, 1)).await.assert_error(404, "not_found");
    // One bad line spoils the whole order: the good line's stock is untouched.
    let mut mixed = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    mixed["items"] = json!([{"sku_id": f.product.sku_id, "quantity": 1}, {"sku_id": unapproved.sku_id, "quantity": 1}]);
    post_order(&app, &f, &mixed).await.assert_error(409, "sku_not_on_sale");

    assert_eq!(app.stock(&unapproved.sku_id).await, (10, 0, 0));
    assert_nothing_ordered(&app, &f, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_64_kib_is_too_large() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;

    let mut body = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    body["note"] = json!("好".repeat(30_000));
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 64 * 1024);
    let resp = app.post_raw("/orders", Some(&f.customer.token), Some(&new_key()), bytes.clone()).await;
    resp.assert_error(413, "body_too_large");
    // A typed-extractor route answers the same.
    let resp = app.post_raw("/shops", Some(&f.customer.token), None, bytes).await;
    resp.assert_error(413, "body_too_large");

    assert_nothing_ordered(&app, &f, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_id_in_the_path_gets_a_json_4xx() {
    let app = spawn_app().await;
    let customer = app.register_customer().await;

    for path in ["/orders/not-a-uuid", "/products/123", "/shops/%20"] {
        let resp = app.get(path, Some(&customer.token)).await;
        assert!((400..500).contains(&resp.status), "{path}: {} {}", resp.status, resp.text);
        assert!(!resp.code().is_empty(), "{path}: no error envelope: {}", resp.text);
        assert!(resp.content_type.starts_with("application/json"), "{path}: {}", resp.content_type);
    }
    let resp = app.post(&format!("/orders/{}/cancel", "x".repeat(40)), Some(&customer.token), &json!({})).await;
    assert!((400..500).contains(&resp.status) && !resp.code().is_empty(), "{}", resp.text);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_page_size_is_clamped_to_100() {
    let app = spawn_app().await;
    let supplier = app.supplier().await;
    // 105 approved products, arranged directly in the store (through the API it is just slower).
    let supplier_id: sharemall_domain::SupplierId = supplier.supplier_id.parse().unwrap();
    let now = app.app.now();
    app.app
        .store
        .write(move |sql| {
            use sharemall_domain::Money;
            use sharemall_domain::catalog::{Approval, NewSku};
            use sharemall_store::ops::catalog::{NewProduct, create_product, set_product_approval};
            for i in 0..105 {
                let sku = NewSku {
                    attributes: "规格:标准".into(),
                    supply_price: Money::from_fen(600),
                    retail_price: Money::from_fen(1_000),
                    commission_bps: 1_000,
                    stock: 5,
                    returnable: true,
                };
                let product = NewProduct {
                    title: format!("商品 {i}"),
                    description: String::new(),
                    category: "测试".into(),
                    image_hue: 10,
                    skus: vec![sku.validate()?],
                };
                let id = create_product(sql, now, supplier_id, product)?;
                set_product_approval(sql, now, id, Approval::Approved)?;
            }
            Ok(())
        })
        .await
        .unwrap();

    let page = app.get("/catalogue?per_page=10000", None).await;
    assert_eq!(page.ok().as_array().unwrap().len(), 100);
    let page = app.get("/catalogue?per_page=10000&page=2", None).await;
    assert_eq!(page.ok().as_array().unwrap().len(), 5);
    let page = app.get("/catalogue?per_page=-5", None).await;
    assert_eq!(page.ok().as_array().unwrap().len(), 1);
    let operator = app.operator().await;
    let page = app.get("/operator/products?per_page=10000", Some(&operator)).await;
    assert_eq!(page.ok().as_array().unwrap().len(), 100);
    let page = app.get("/catalogue?per_page=lots", None).await;
    assert!((400..500).contains(&page.status) && !page.code().is_empty(), "{}", page.text);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_api_route_is_a_json_404() {
    let app = spawn_app().await;

    for path in ["/api/v1/nope", "/api/v2/orders", "/api/v1/orders/x/y/z"] {
        let resp = app.send(app.client.get(app.url(path))).await;
        resp.assert_error(404, "not_found");
    }
    let resp = app.send(app.client.delete(app.url("/api/v1/nothing-here"))).await;
    resp.assert_error(404, "not_found");
    app.assert_consistent().await;
}
