//! Nobody sees or touches another's data: another customer's or shop's order is "not found"
//! (never "forbidden", so ids can't be probed); roles gate the consoles.

use serde_json::json;

use crate::helpers::{new_key, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_customers_order_is_not_found() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    let other = app.register_customer().await;

    app.get(&format!("/orders/{order_id}"), Some(&other.token)).await.assert_error(404, "not_found");
    app.post(&format!("/orders/{order_id}/cancel"), Some(&other.token), &json!({})).await.assert_error(404, "not_found");
    app.post(&format!("/orders/{order_id}/receive"), Some(&other.token), &json!({})).await.assert_error(404, "not_found");
    let pay = app.post_with_key(&format!("/orders/{order_id}/payments"), &other.token, &new_key(), &json!({"provider": "sandbox"})).await;
    pay.assert_error(404, "not_found");
    assert_eq!(app.get("/orders", Some(&other.token)).await.ok(), &json!([]));
    // A random id answers exactly the same.
    let random = uuid::Uuid::now_v7();
    app.get(&format!("/orders/{random}"), Some(&other.token)).await.assert_error(404, "not_found");

    assert_eq!(app.order_status(&f.customer.token, &order_id).await, "created");
    assert_eq!(app.count("SELECT COUNT(*) FROM payments").await, 0);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_shops_order_is_not_found() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    let shop_b = app.shop(&[&f.product]).await;

    app.get(&format!("/shop/orders/{order_id}"), Some(&f.shop.actor.token)).await.ok();
    app.get(&format!("/shop/orders/{order_id}"), Some(&shop_b.actor.token)).await.assert_error(404, "not_found");
    assert_eq!(app.get("/shop/orders", Some(&shop_b.actor.token)).await.ok(), &json!([]));
    // The buyer has no shop: the shop console says so.
    app.get(&format!("/shop/orders/{order_id}"), Some(&f.customer.token)).await.assert_error(404, "not_found");
    let no_shop = app.get("/shop/orders", Some(&f.customer.token)).await;
    assert!(matches!(no_shop.code(), "forbidden" | "no_shop"), "{}", no_shop.text);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_cannot_ship_another_suppliers_order() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    app.pay(&f.customer.token, &order_id).await;
    let supplier_y = app.supplier().await;

    let ship = json!({"carrier": "中通快递", "tracking_no": "ZT000111222"});
    let resp = app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&supplier_y.actor.token), &ship).await;
    resp.assert_error(404, "not_found");
    assert_eq!(app.get("/supplier/orders", Some(&supplier_y.actor.token)).await.ok(), &json!([]));
    // A customer is not a supplier at all.
    app.post(&format!("/supplier/orders/{order_id}/ship"), Some(&f.customer.token), &ship).await.assert_error(403, "forbidden");

    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["status"], "to_ship");
    assert_eq!(order["shipments"], json!([]));
    // Supplier Y cannot restock supplier X's SKU either.
    let restock =
        app.post(&format!("/supplier/skus/{}/restock", f.product.sku_id), Some(&supplier_y.actor.token), &json!({"add": 100})).await;
    restock.assert_error(404, "sku_not_found");
    assert_eq!(app.stock(&f.product.sku_id).await, (9, 0, 1));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_console_is_for_operators_only() {
    let app = spawn_app().await;
    let f = app.fixture(1_000, 10).await;
    let order_id = app.placed_order(&f.customer.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    let pending = app.draft_product(&f.supplier, 1_000, 10).await;

    for token in [&f.customer.token, &f.shop.actor.token, &f.supplier.actor.token] {
        app.get("/operator/orders", Some(token)).await.assert_error(403, "forbidden");
        app.get("/operator/products", Some(token)).await.assert_error(403, "forbidden");
        app.get("/operator/suppliers", Some(token)).await.assert_error(403, "forbidden");
        let approve =
            app.post(&format!("/operator/products/{}/approval", pending.product_id), Some(token), &json!({"approval": "approved"})).await;
        approve.assert_error(403, "forbidden");
        let approve = app
            .post(&format!("/operator/suppliers/{}/approval", f.supplier.supplier_id), Some(token), &json!({"approval": "rejected"}))
            .await;
        approve.assert_error(403, "forbidden");
        let refund = app
            .post_with_key(&format!("/operator/orders/{order_id}/refunds"), token, &new_key(), &json!({"amount_fen": 1, "reason": "x"}))
            .await;
        refund.assert_error(403, "forbidden");
    }
    let operator = app.operator().await;
    assert_eq!(app.get("/operator/orders", Some(&operator)).await.ok().as_array().unwrap().len(), 1);
    // Nothing the refused requests asked for happened.
    let product = app.get(&format!("/products/{}", pending.product_id), None).await;
    product.assert_error(404, "not_found");
    let suppliers = app.get("/operator/suppliers?approval=approved", Some(&operator)).await;
    assert_eq!(suppliers.ok().as_array().unwrap().len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM refunds").await, 0);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_must_sign_in() {
    let app = spawn_app().await;
    let random = uuid::Uuid::now_v7();

    for path in [
        "/me",
        "/orders",
        &format!("/orders/{random}"),
        "/shop/orders",
        "/supplier/orders",
        "/operator/orders",
        "/supplier/products",
        &format!("/shops/{random}/cart"),
    ] {
        app.get(path, None).await.assert_error(401, "unauthenticated");
    }
    app.post("/orders", None, &json!({})).await.assert_error(401, "unauthenticated");
    app.post("/shops", None, &json!({"name": "匿名店"})).await.assert_error(401, "unauthenticated");
    app.post("/suppliers", None, &json!({"name": "x", "contact": "y"})).await.assert_error(401, "unauthenticated");
    app.post("/auth/sign-out", None, &json!({})).await.assert_error(401, "unauthenticated");
    // Public reads stay public.
    app.get("/catalogue", None).await.ok();
    assert_eq!(app.count("SELECT COUNT(*) FROM shops").await + app.count("SELECT COUNT(*) FROM suppliers").await, 0);
    app.assert_consistent().await;
}
