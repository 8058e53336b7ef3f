//! "My shares" over HTTP: the shop owner sees their shop's fission tree and its numbers, as JSON
//! and as the console page with the tree drawn inline; nobody else does.

use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

/// Shares as `token` (through `parent`, when given); returns the code.
async fn share(app: &TestApp, token: &str, shop_id: &str, parent: Option<&str>) -> String {
    let body = json!({"shop_id": shop_id, "channel": "moments", "parent_code": parent});
    app.share_code(token, &body).await
}

/// Opens a share link, signed in (bearer) or as an anonymous browser.
async fn follow(app: &TestApp, token: Option<&str>, code: &str) {
    let visit = TestApp::with_token(app.client.get(app.url(&format!("/s/{code}"))), token).send().await.unwrap();
    assert_eq!(visit.status().as_u16(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_sees_the_tree_and_its_numbers() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let owner = f.shop.actor.token.clone();

    // The owner shares the shop; a customer arrives through it and re-shares; a friend of the
    // customer arrives through the re-share and buys; a stranger only looks.
    let root = share(&app, &owner, &f.shop.shop_id, None).await;
    follow(&app, Some(&f.customer.token), &root).await;
    follow(&app, Some(&f.customer.token), &root).await;
    let child = share(&app, &f.customer.token, &f.shop.shop_id, Some(&root)).await;
    let friend = app.register_customer().await;
    follow(&app, Some(&friend.token), &child).await;
    follow(&app, None, &root).await;
    let paid = app.placed_order(&friend.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    app.pay(&friend.token, &paid).await;
    let paid_fen = app.order(&friend.token, &paid).await["paid_fen"].as_i64().unwrap();
    assert!(paid_fen > 0);
    // An unpaid order through the same share does not count.
    app.placed_order(&friend.token, &f.shop.shop_id, &f.product.sku_id, 1).await;

    let resp = app.get("/shop/shares", Some(&owner)).await;
    let body = resp.ok();
    let totals = &body["totals"];
    assert_eq!((totals["shares"].as_i64(), totals["roots"].as_i64()), (Some(2), Some(1)), "{body}");
    assert_eq!(
        totals["stats"],
        json!({"visits": 4, "unique_visitors": 3, "bound_customers": 3, "orders": 1, "gmv_fen": paid_fen, "reshares": 1}),
        "[{}] {body}",
        app.backend
    );
    let tree = &body["tree"];
    assert_eq!((tree["size"].as_i64(), tree["max_depth"].as_i64(), tree["truncated"].as_bool()), (Some(2), Some(1), Some(false)));
    let nodes = tree["nodes"].as_array().unwrap();
    assert_eq!((nodes[0]["code"].as_str(), nodes[0]["depth"].as_i64(), &nodes[0]["children"]), (Some(root.as_str()), Some(0), &json!([1])));
    assert_eq!(nodes[0]["parent_code"], serde_json::Value::Null);
    assert_eq!(
        (nodes[1]["code"].as_str(), nodes[1]["parent_code"].as_str(), nodes[1]["depth"].as_i64()),
        (Some(child.as_str()), Some(root.as_str()), Some(1))
    );
    assert_eq!(
        nodes[1]["stats"],
        json!({"visits": 1, "unique_visitors": 1, "bound_customers": 1, "orders": 1, "gmv_fen": paid_fen, "reshares": 0})
    );
    assert_eq!(nodes[1]["sharer_id"], f.customer.user_id.as_str());
    assert_eq!(nodes[1]["target_title"], "小王的好物店");
    let sharers = body["sharers"].as_array().unwrap();
    assert_eq!(sharers.len(), 2);
    assert_eq!(
        (sharers[0]["sharer_id"].as_str(), sharers[0]["stats"]["gmv_fen"].as_i64()),
        (Some(f.customer.user_id.as_str()), Some(paid_fen))
    );
    assert_eq!((sharers[1]["sharer_id"].as_str(), sharers[1]["stats"]["visits"].as_i64()), (Some(f.shop.actor.user_id.as_str()), Some(3)));

    // Pages are bounded whatever is asked for.
    let clamped = app.get("/shop/shares?page=0&per_page=100000", Some(&owner)).await;
    assert_eq!(
        (clamped.ok()["page"].as_i64(), clamped.ok()["per_page"].as_i64(), clamped.ok()["has_more"].as_bool()),
        (Some(1), Some(50), Some(false))
    );
    let empty_page = app.get("/shop/shares?page=2", Some(&owner)).await;
    assert_eq!(empty_page.ok()["tree"]["size"].as_i64(), Some(0));

    // The console page draws the tree and shows the totals.
    let page = app.client.get(app.url("/console/shop/shares")).bearer_auth(&owner).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<svg xmlns="http://www.w3.org/2000/svg" id="fission-tree""#), "{html}");
    assert_eq!(html.matches(r#"<g class="share-node">"#).count(), 2);
    assert!(html.contains(r#"<b id="share-stats-visits">4</b>"#));
    assert!(html.contains(r#"<b id="share-stats-bound">3</b>"#));
    assert!(html.contains(r#"<b id="share-stats-orders">1</b>"#));
    let gmv = format!(r#"<span id="share-stats-gmv">{}.{:02}</span>"#, paid_fen / 100, paid_fen % 100);
    assert!(html.contains(&gmv), "{gmv} in {html}");
    assert!(html.contains("我的分享") && html.contains("裂变树"));
    let english = app.client.get(app.url("/console/shop/shares?lang=en")).bearer_auth(&owner).send().await.unwrap();
    assert!(english.text().await.unwrap().contains("Fission tree"));
    let console = app.client.get(app.url("/console/shop")).bearer_auth(&owner).send().await.unwrap();
    assert!(console.text().await.unwrap().contains(r#"href="/console/shop/shares""#), "the shop console links to the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_sees_a_shops_shares() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    share(&app, &f.shop.actor.token, &f.shop.shop_id, None).await;

    // A customer has no shop: refused like every other shop route.
    app.get("/shop/shares", Some(&f.customer.token)).await.assert_error(403, "forbidden");
    app.get("/shop/shares", None).await.assert_error(401, "unauthenticated");
    let page = app.client.get(app.url("/console/shop/shares")).bearer_auth(&f.customer.token).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 403);
    assert!(!page.text().await.unwrap().contains("fission-tree"));
    let signed_out = app.client.get(app.url("/console/shop/shares")).send().await.unwrap();
    assert_eq!(signed_out.status().as_u16(), 303, "signed-out visitors are sent to sign in");

    // Another shop's owner sees their own (empty) shop, never this one's.
    let other = app.shop(&[&f.product]).await;
    let theirs = app.get("/shop/shares", Some(&other.actor.token)).await;
    assert_eq!(theirs.ok()["shop_id"], other.shop_id.as_str());
    assert_eq!(theirs.ok()["totals"]["shares"].as_i64(), Some(0));
    assert_eq!(theirs.ok()["tree"]["nodes"], json!([]));
}
