//! Shares over HTTP: a share comes back as a link and a 口令; the link records the visit, binds
//! the visitor and redirects; pasted chat text finds the share; unknown codes are "not found" and
//! an address that keeps guessing is throttled; an anonymous binding follows the visitor into a
//! new account.

use serde_json::json;

use sharemall_web::pages::url_encode;

use crate::helpers::{new_key, order_body, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_link_kouling_visit_and_binding() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;

    // Arrange: the shop owner shares the product into a chat.
    let share = app
        .post(
            "/shares",
            Some(&f.shop.actor.token),
            &json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "chat"}),
        )
        .await;
    let share = share.ok().clone();
    let code = share["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 12);
    assert!(share["url"].as_str().unwrap().ends_with(&format!("/s/{code}")));
    let kouling = share["kouling"].as_str().unwrap();
    assert!(kouling.starts_with(&format!("￥{code}￥ ")), "{kouling}");

    // Act: a friend opens the link without an account.
    let visit = app
        .client
        .get(app.url(&format!("/s/{code}")))
        .header("user-agent", "Mozilla/5.0 (iPhone) MicroMessenger/8.0")
        .send()
        .await
        .unwrap();

    // Assert: redirected to the product in the shop, with a visitor cookie, visit and binding stored.
    assert_eq!(visit.status().as_u16(), 303);
    let location = visit.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/shops/{}/products/{}", f.shop.shop_id, f.product.product_id));
    let set_cookie = visit.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    let visitor_cookie = set_cookie.iter().find(|c| c.starts_with("sm_visitor=")).expect("visitor cookie").clone();
    let visitor_id = visitor_cookie.trim_start_matches("sm_visitor=").split(';').next().unwrap().to_string();
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM customer_bindings").await, 1);

    // The 口令 pasted with chat noise around it finds the same landing.
    let pasted = format!("【分享购】快来看看 {kouling} 复制打开");
    let landing = app.post("/shares/resolve", None, &json!({"text": pasted})).await;
    assert_eq!(landing.ok()["path"].as_str().unwrap(), location);

    // The anonymous visitor registers: the binding becomes the account's.
    let register = app
        .client
        .post(app.url("/register"))
        .header("cookie", format!("sm_visitor={visitor_id}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=13911112222&password=friend-password&display_name=friend")
        .send()
        .await
        .unwrap();
    assert_eq!(register.status().as_u16(), 303);
    let bound = app.count("SELECT COUNT(*) FROM customer_bindings WHERE visitor LIKE 'u:%'").await;
    assert_eq!(bound, 1, "the binding followed the visitor into the account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_codes_are_not_found_and_guessing_is_throttled() {
    let app = spawn_app().await;
    app.post("/shares/resolve", None, &json!({"text": "just chatting, no code here"})).await.assert_error(404, "not_found");
    app.post("/shares/resolve", None, &json!({"text": "￥AAAAAAAAAAAA￥"})).await.assert_error(404, "not_found");
    let page = app.client.get(app.url("/s/not-a-code")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 404, "a bad link is a friendly 404 page, never a 5xx");

    // A scraper walking the code space: after the allowed misses every lookup is refused.
    let mut refused = 0;
    for i in 0..40 {
        let guess = format!("￥{:0>12}￥", i);
        let resp = app.post("/shares/resolve", None, &json!({"text": guess})).await;
        if resp.status == 429 {
            assert_eq!(resp.code(), "rate_limited");
            refused += 1;
        } else {
            assert_eq!(resp.code(), "not_found");
        }
    }
    assert!(refused >= 8, "guessing was throttled ({refused} refused)");
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_need_a_real_target() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let other = app.fixture(990, 5).await;
    // A product the shop does not carry.
    let body = json!({"shop_id": f.shop.shop_id, "product_id": other.product.product_id, "channel": "link"});
    app.post("/shares", Some(&f.customer.token), &body).await.assert_error(404, "not_found");
    app.post("/shares", Some(&f.customer.token), &json!({"shop_id": f.shop.shop_id, "channel": "fax"}))
        .await
        .assert_error(422, "invalid_input");
    app.post("/shares", None, &json!({"shop_id": f.shop.shop_id, "channel": "link"})).await.assert_error(401, "unauthenticated");
    // Anyone signed in may share a shop.
    let ok = app.post("/shares", Some(&f.customer.token), &json!({"shop_id": f.shop.shop_id, "channel": "qr"})).await;
    assert!(ok.ok()["kouling"].as_str().unwrap().contains("￥"));
    assert_eq!(app.count("SELECT COUNT(*) FROM shares").await, 1);
}

/// Opens a share link as a signed-in user (bearer token), as an in-app browser would.
async fn follow_as(app: &crate::helpers::TestApp, token: &str, code: &str) {
    let visit = app.client.get(app.url(&format!("/s/{code}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(visit.status().as_u16(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_record_binding_last_touch_and_self_referral() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let body = json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "moments"});
    let code = app.share_code(&f.shop.actor.token, &body).await;

    // Not bound yet: buying through the platform needs a shop.
    let mut platform_order = order_body(&f.shop.shop_id, &f.product.sku_id, 1);
    platform_order.as_object_mut().unwrap().remove("shop_id");
    let refused = app.post_with_key("/orders", &f.customer.token, &new_key(), &platform_order).await;
    refused.assert_error(422, "shop_required");

    // Through the share: bound, and the platform order goes to the bound shop with the share.
    follow_as(&app, &f.customer.token, &code).await;
    let placed = app.post_with_key("/orders", &f.customer.token, &new_key(), &platform_order).await;
    let order_id = placed.ok()["order_id"].as_str().unwrap().to_string();
    let order = app.order(&f.customer.token, &order_id).await;
    assert_eq!(order["shop_id"], f.shop.shop_id.as_str());
    assert_eq!(order["bound_shop_id"], f.shop.shop_id.as_str());
    assert_eq!(order["share_code"], code.as_str());
    assert_eq!(order["self_referral"], false);

    // The sharer (the shop's owner) buying through their own share earns nothing: recorded.
    follow_as(&app, &f.shop.actor.token, &code).await;
    let own = app.placed_order(&f.shop.actor.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    let own = app.order(&f.shop.actor.token, &own).await;
    assert_eq!(own["share_code"], code.as_str());
    assert_eq!(own["self_referral"], true);

    // An order placed without any share visit carries no share.
    let stranger = app.register_customer().await;
    let plain = app.placed_order(&stranger.token, &f.shop.shop_id, &f.product.sku_id, 1).await;
    let plain = app.order(&stranger.token, &plain).await;
    assert!(plain["share_code"].is_null() && plain["bound_shop_id"].is_null(), "{plain}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders WHERE share_code IS NOT NULL").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_product_links_lead_to_the_bound_shop() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let second = app.shop(&[&f.product]).await;
    let code = app.share_code(&second.actor.token, &json!({"shop_id": second.shop_id, "channel": "chat"})).await;
    let link = |token: Option<String>| {
        let request = app.client.get(app.url(&format!("/products/{}", f.product.product_id)));
        async move {
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 303);
            resp.headers()["location"].to_str().unwrap().to_string()
        }
    };
    // Unbound: the longest-standing seller. Bound: the bound shop.
    assert_eq!(link(None).await, format!("/shops/{}/products/{}", f.shop.shop_id, f.product.product_id));
    follow_as(&app, &f.customer.token, &code).await;
    assert_eq!(link(Some(f.customer.token.clone())).await, format!("/shops/{}/products/{}", second.shop_id, f.product.product_id));
}

/// The page flow: the owner makes a share from the product page's sheet and sees its link, 口令
/// and QR; a friend pastes chat text carrying the 口令 into the search box and lands on the
/// product through the share link (the visit recorded); text without a code searches the
/// catalogue, and a dead 口令 says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_sheet_and_paste_box() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let product_page = format!("/shops/{}/products/{}", f.shop.shop_id, f.product.product_id);
    let page = |path: String, token: Option<String>| {
        let request = app.client.get(app.url(&path));
        async move {
            let request = match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            };
            request.send().await.unwrap()
        }
    };

    let anonymous = page(product_page.clone(), None).await.text().await.unwrap();
    assert!(anonymous.contains("id=\"share-sign-in\""), "signed out: a sign-in link instead of the button");

    let made = app
        .client
        .post(app.url("/shares/new"))
        .bearer_auth(&f.shop.actor.token)
        .header("origin", app.url(""))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("shop={}&product={}&back={}", f.shop.shop_id, f.product.product_id, url_encode(&product_page)))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status().as_u16(), 303);
    let location = made.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{product_page}?share=")), "{location}");
    let code = location.split("share=").nth(1).unwrap().trim_end_matches("#share").to_string();
    let sheet = page(location.clone(), Some(f.shop.actor.token.clone())).await.text().await.unwrap();
    assert!(sheet.contains(&format!("/s/{code}")) && sheet.contains(&format!("￥{code}￥")), "the sheet shows link and 口令");
    assert!(sheet.contains(&format!("/api/v1/shares/{code}/qr.svg")));
    // Someone else's code in the URL shows no sheet of theirs.
    let foreign = page(location, Some(f.customer.token.clone())).await.text().await.unwrap();
    assert!(!foreign.contains("id=\"share-forms\""));

    let chat = format!("【团购群】这个草莓很甜 ￥{code}￥ 复制这段话打开");
    let pasted = page(format!("/search?q={}", url_encode(&chat)), None).await;
    assert_eq!(pasted.status().as_u16(), 303);
    assert_eq!(pasted.headers()["location"].to_str().unwrap(), format!("/s/{code}"));

    let searched = page(format!("/search?q={}", url_encode("绿茶")), None).await.text().await.unwrap();
    assert!(searched.contains(&format!("/products/{}", f.product.product_id)), "a plain word searches the catalogue");
    let dead = page(format!("/search?q={}", url_encode("￥AAAAAAAAAAAA￥")), None).await.text().await.unwrap();
    assert!(dead.contains("id=\"kouling-missing\""));
}

/// An app records visits itself: signed in, or with its own anonymous visitor id; a share made
/// to last a day stops working after it, and a bad limit is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_visits_and_share_expiry() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let body = json!({"shop_id": f.shop.shop_id, "channel": "chat", "valid_hours": 24});
    let code = app.share_code(&f.shop.actor.token, &body).await;

    let signed_in = app.post(&format!("/shares/{code}/visits"), Some(&f.customer.token), &json!({})).await;
    assert_eq!(signed_in.ok()["bound_shop_id"], f.shop.shop_id.as_str());
    assert_eq!(signed_in.ok()["bound_now"], true);
    let anonymous = app.post(&format!("/shares/{code}/visits"), None, &json!({"visitor_id": "0123456789abcdef0123456789ABCDEF"})).await;
    assert_eq!(anonymous.ok()["landing"]["path"], format!("/shops/{}", f.shop.shop_id).as_str());
    app.post(&format!("/shares/{code}/visits"), None, &json!({})).await.assert_error(422, "invalid_input");
    app.post(&format!("/shares/{code}/visits"), None, &json!({"visitor_id": "short"})).await.assert_error(422, "invalid_input");
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 2);

    app.advance_ms(24 * 3_600_000 + 1);
    let late = app.post(&format!("/shares/{code}/visits"), Some(&f.customer.token), &json!({})).await;
    late.assert_error(404, "not_found");
    let bad = json!({"shop_id": f.shop.shop_id, "channel": "chat", "valid_hours": 0});
    app.post("/shares", Some(&f.shop.actor.token), &bad).await.assert_error(422, "invalid_input");
}

/// A share of a product the shop later stops selling still leads somewhere: the shop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_of_a_dropped_product_lands_on_the_shop() {
    let app = spawn_app().await;
    let f = app.fixture(1_990, 20).await;
    let body = json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "chat"});
    let code = app.share_code(&f.shop.actor.token, &body).await;
    let unpick = app
        .client
        .post(app.url(&format!("/console/shop/unpick/{}", f.product.product_id)))
        .bearer_auth(&f.shop.actor.token)
        .header("origin", app.url(""))
        .send()
        .await
        .unwrap();
    assert_eq!(unpick.status().as_u16(), 303);
    let visit = app.client.get(app.url(&format!("/s/{code}"))).send().await.unwrap();
    let product_path = visit.headers()["location"].to_str().unwrap().to_string();
    let page = app.client.get(app.url(&product_path)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"].to_str().unwrap(), format!("/shops/{}", f.shop.shop_id));
}
