//! The bargaining (砍价) pages over HTTP: the product page's offer and starting from it; the
//! bargain page's price, progress, helpers and countdown; helping, and the friendly refusals
//! that change nothing; buying at the floor through the order form and the sandbox pay page; a
//! share of the bargain landing on it; "My bargains"; the campaign console and its switch.

use serde_json::{Value, json};
use sharemall_web::pages::url_encode;

use crate::helpers::*;

const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A page as a browser gets it (`?lang=` in the path picks the language).
pub(crate) async fn page(app: &TestApp, path: &str, token: Option<&str>) -> Resp {
    app.send(TestApp::with_token(app.client.get(app.url(path)), token)).await
}

/// An HTML page that must render.
#[track_caller]
pub(crate) fn html(resp: &Resp) -> &str {
    assert_eq!(resp.status, 200, "expected a page, got {}: {}", resp.status, resp.text);
    assert!(resp.content_type.starts_with("text/html"), "not HTML: {}", resp.content_type);
    &resp.text
}

pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&")
}

/// What a form post answered: the status, where it redirected (if it did) and the page.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) text: String,
}

/// POSTs a form as a browser does (redirects are not followed).
pub(crate) async fn post_form(app: &TestApp, path: &str, token: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let request = app.client.post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(form(fields));
    let resp = TestApp::with_token(request, token).send().await.expect("form post");
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
    Answer { status, location, text: resp.text().await.expect("body") }
}

/// Where a form post redirected to.
#[track_caller]
pub(crate) fn location(resp: &Answer) -> String {
    assert_eq!(resp.status, 303, "expected a redirect, got {}: {}", resp.status, resp.text);
    resp.location.clone().expect("a location")
}

/// A bargain campaign in the fixture's shop: ¥100.00 → ¥60.00 in `k` helps, `rule`.
async fn campaign(app: &TestApp, f: &Fixture, k: i64, rule: &str) -> String {
    let operator = app.operator().await;
    let body = json!({
        "shop_id": f.shop.shop_id, "sku_id": f.product.sku_id, "start_fen": 10_000, "floor_fen": 6_000, "helpers_needed": k,
        "starts_at": app.now(), "ends_at": app.now() + 7 * DAY_MS, "stock_cap": 10, "buy_rule": rule,
    });
    app.post("/bargain-campaigns", Some(&operator), &body).await.ok()["id"].as_str().expect("campaign id").to_string()
}

/// `customer` starts a bargain from the product page's button; returns its id.
async fn start_by_page(app: &TestApp, f: &Fixture, campaign: &str, customer: &Actor) -> String {
    let resp = post_form(app, &format!("/shops/{}/bargains/new", f.shop.shop_id), Some(&customer.token), &[("campaign", campaign)]).await;
    location(&resp).trim_start_matches("/bargains/").to_string()
}

/// The bargain as the API shows it to `token`.
async fn view(app: &TestApp, id: &str, token: Option<&str>) -> Value {
    app.get(&format!("/bargains/{id}"), token).await.ok().clone()
}

/// The helps a bargain has (row count), for asserting refusals changed nothing.
async fn help_rows(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM bargain_helps").await
}

fn delivery_fields(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("form_token", token.to_string()),
        ("recipient", "李四".into()),
        ("phone", "13800138000".into()),
        ("address", "上海市静安区南京西路 1 号".into()),
        ("note", String::new()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_page_offers_the_bargain_and_starting_opens_it() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let product_path = format!("/shops/{}/products/{}", f.shop.shop_id, f.product.product_id);
    assert!(!html(&page(&app, &product_path, None).await).contains("bargain-offer"), "no campaign, no offer");

    let c = campaign(&app, &f, 3, "floor_only").await;
    let anonymous = page(&app, &product_path, None).await;
    let text = html(&anonymous);
    for wanted in [
        "bargain-offer",
        "起砍价 ¥100.00",
        "60.00",
        "3</b> 位好友帮砍，就能砍到 ¥60.00",
        "发起后 24 小时内有效",
        "砍到底价才能购买",
        "发起砍价",
    ] {
        assert!(text.contains(wanted), "the offer shows {wanted:?}");
    }
    // The template's `urlencode` keeps `/`; either spelling comes back to the product page.
    let back = [format!("/signin?next={product_path}"), format!("/signin?next={}", url_encode(&product_path))];
    assert!(
        back.iter().any(|b| text.contains(&format!("id=\"bargain-sign-in\" href=\"{b}\""))),
        "anonymous visitors sign in and come back"
    );
    assert!(!text.contains("id=\"bargain-start\""), "no start button before signing in");

    let signed_in = page(&app, &product_path, Some(&f.customer.token)).await;
    assert!(html(&signed_in).contains(&format!("action=\"/shops/{}/bargains/new\"", f.shop.shop_id)));
    assert!(html(&signed_in).contains(&format!("value=\"{c}\"")));

    let id = start_by_page(&app, &f, &c, &f.customer).await;
    let mine = app.get("/me/bargains", Some(&f.customer.token)).await;
    assert_eq!(mine.ok()[0]["id"], id.as_str(), "the started bargain is the customer's");

    // With a bargain running, the product page links to it instead of starting another.
    let again = page(&app, &product_path, Some(&f.customer.token)).await;
    let text = html(&again);
    assert!(text.contains(&format!("id=\"bargain-mine\" href=\"/bargains/{id}\"")) && !text.contains("id=\"bargain-start\""));
    let restart = start_by_page(&app, &f, &c, &f.customer).await;
    assert_eq!(restart, id, "starting again opens the same bargain");
    assert_eq!(app.count("SELECT COUNT(*) FROM bargains").await, 1);

    let starter = page(&app, &format!("/bargains/{id}"), Some(&f.customer.token)).await;
    let text = html(&starter);
    for wanted in
        ["有机高山绿茶 250g", "砍价中", "id=\"bargain-price\">100.00<", "底价 ¥60.00", "bargain-countdown", "0/3", "分享给好友帮砍"]
    {
        assert!(text.contains(wanted), "the starter's page shows {wanted:?}");
    }
    assert!(text.contains("24:00:00") || text.contains("23:59:59"), "a countdown from 24 hours");
    assert!(text.contains("style=\"width: 0.0%\""), "nothing cut yet");
    assert!(text.contains(&format!("name=\"bargain\" value=\"{id}\"")), "the share sheet shares the bargain");
    assert!(text.contains("bargain-floor-only") && !text.contains("id=\"bargain-buy\""), "floor_only: no buying before the floor");
    assert!(!text.contains("id=\"bargain-help\""), "the starter is not offered to help themselves");

    let en = page(&app, &format!("{product_path}?lang=en"), None).await;
    assert!(html(&en).contains("friends help you cut it to ¥60.00") && html(&en).contains("Start a bargain"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friends_help_on_the_page_and_refusals_are_friendly_and_change_nothing() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 3, "current_price").await;
    let id = start_by_page(&app, &f, &c, &f.customer).await;
    let path = format!("/bargains/{id}");

    let anonymous = page(&app, &path, None).await;
    assert!(html(&anonymous).contains(&format!("/signin?next={}", url_encode(&path))), "anonymous visitors sign in to help");

    let friend = app.register_customer().await;
    let offered = page(&app, &path, Some(&friend.token)).await;
    assert!(html(&offered).contains("id=\"bargain-help\"") && html(&offered).contains("帮 TA 砍一刀"));
    let helped = post_form(&app, &format!("{path}/help"), Some(&friend.token), &[]).await;
    assert_eq!(location(&helped), path);
    let after = view(&app, &id, None).await;
    let cut = after["helpers"][0]["cut_fen"].as_i64().expect("the cut");
    assert_eq!(after["helps"].as_i64(), Some(1));
    let cut_text = format!("{}.{:02}", cut / 100, cut % 100);
    let shown = page(&app, &path, Some(&friend.token)).await;
    let text = html(&shown);
    assert!(text.contains(&format!("你帮 TA 砍掉了 ¥{cut_text}")), "the friend sees their cut");
    assert!(!text.contains("id=\"bargain-help\""), "no second help offered");
    assert!(text.contains("测**") && text.contains(&format!("砍掉 ¥{cut_text}")), "the helper, masked, with the cut");
    assert!(text.contains("1/3") && !text.contains("style=\"width: 0.0%\""), "progress moved");

    // Refusals: the page again with the reason in words, never a code; nothing changes.
    let before = (view(&app, &id, None).await, help_rows(&app).await);
    let own = post_form(&app, &format!("{path}/help"), Some(&f.customer.token), &[]).await;
    assert_eq!(own.status, 409);
    assert!(own.text.contains("不能给自己砍价") && own.text.contains("bargain-refusal") && !own.text.contains("bargain_self_help"));
    let twice = post_form(&app, &format!("{path}/help"), Some(&friend.token), &[]).await;
    assert_eq!(twice.status, 409);
    assert!(twice.text.contains("你已经帮 TA 砍过一刀了") && !twice.text.contains("bargain_already_helped"));
    let en = post_form(&app, &format!("{path}/help?lang=en"), Some(&friend.token), &[]).await;
    assert!(en.text.contains("You have already helped this bargain"));
    let now = (view(&app, &id, None).await, help_rows(&app).await);
    assert_eq!(
        (now.0["current_fen"].clone(), now.0["helps"].clone(), now.1),
        (before.0["current_fen"].clone(), before.0["helps"].clone(), before.1)
    );

    // A second friend: the newest help is listed first.
    let second = app.register_customer().await;
    location(&post_form(&app, &format!("{path}/help"), Some(&second.token), &[]).await);
    let listed = page(&app, &path, None).await;
    let cuts: Vec<String> = view(&app, &id, None).await["helpers"]
        .as_array()
        .expect("helpers")
        .iter()
        .rev()
        .map(|h| h["cut_fen"].as_i64().expect("cut"))
        .map(|c| format!("砍掉 ¥{}.{:02}", c / 100, c % 100))
        .collect();
    let text = html(&listed);
    let positions: Vec<usize> = cuts.iter().map(|c| text.find(c.as_str()).expect("each cut listed")).collect();
    assert!(positions[0] <= positions[1], "newest first: {cuts:?}");

    // Past its deadline the bargain reads as expired; a late help is refused and changes nothing.
    app.advance_ms(25 * HOUR_MS);
    let late = app.register_customer().await;
    let refused = post_form(&app, &format!("{path}/help"), Some(&late.token), &[]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.text.contains("这个砍价已经过期了") && refused.text.contains("已过期"));
    assert_eq!(help_rows(&app).await, 2);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_starter_buys_at_the_floor_through_the_order_form_and_pays_in_the_sandbox() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 2, "floor_only").await;
    let id = start_by_page(&app, &f, &c, &f.customer).await;
    let path = format!("/bargains/{id}");
    let token = f.customer.token.as_str();

    // Before the floor: the form and the buy are refused in words, and no order is placed.
    let early = page(&app, &format!("{path}/buy"), Some(token)).await;
    assert_eq!(early.status, 409);
    assert!(early.text.contains("还没砍到底价"));
    let early_fields = delivery_fields(&new_key());
    let early_fields: Vec<(&str, &str)> = early_fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let early_buy = post_form(&app, &format!("{path}/buy"), Some(token), &early_fields).await;
    assert_eq!(early_buy.status, 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0, "nothing ordered");
    // Nobody else may buy it.
    let stranger = app.register_customer().await;
    assert_eq!(page(&app, &format!("{path}/buy"), Some(&stranger.token)).await.status, 403);

    for _ in 0..2 {
        let friend = app.register_customer().await;
        location(&post_form(&app, &format!("{path}/help"), Some(&friend.token), &[]).await);
    }
    let at_floor = page(&app, &path, Some(token)).await;
    let text = html(&at_floor);
    assert!(text.contains("已砍到底价") && text.contains("style=\"width: 100.0%\""));
    assert!(text.contains(&format!("href=\"{path}/buy\"")) && text.contains("立即购买 ¥60.00"));

    let order_form = page(&app, &format!("{path}/buy"), Some(token)).await;
    let text = html(&order_form);
    assert!(text.contains("砍价下单") && text.contains("砍后价") && text.contains("¥60.00") && text.contains("id=\"payable\""));
    let fields = delivery_fields(&new_key());
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let placed = post_form(&app, &format!("{path}/buy"), Some(token), &fields).await;
    let order = location(&placed).trim_start_matches("/orders/").to_string();
    let replay = post_form(&app, &format!("{path}/buy"), Some(token), &fields).await;
    assert_eq!(location(&replay), format!("/orders/{order}"), "a double submit places one order");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 1);
    let stored = app.order(token, &order).await;
    let payable = stored["payable_fen"].as_i64().expect("payable");
    assert!(payable >= 6_000, "the floor price plus shipping: {payable}");
    assert!(text.contains(&format!("{}.{:02}", payable / 100, payable % 100)), "the form showed the amount the order asks");

    // The order page → the sandbox pay page → paid, and the order is to ship.
    let order_page = page(&app, &format!("/orders/{order}"), Some(token)).await;
    assert!(html(&order_page).contains("pay-now"));
    let started = post_form(&app, &format!("/orders/{order}/pay"), Some(token), &[("form_token", &new_key())]).await;
    let pay_url = location(&started);
    let pay_path = &pay_url[pay_url.find("/sandbox/").expect("a sandbox pay page")..];
    let pay_page = page(&app, pay_path, Some(token)).await;
    assert!(html(&pay_page).contains("sandbox-amount"));
    let paid = post_form(&app, &format!("{pay_path}/confirm"), Some(token), &[]).await;
    assert!(paid.status == 303 || paid.status == 200, "confirm: {}", paid.status);
    assert_eq!(app.order_status(token, &order).await, "to_ship");

    let bought = page(&app, &path, Some(token)).await;
    assert!(html(&bought).contains("已下单") && html(&bought).contains(&format!("href=\"/orders/{order}\"")));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_of_a_bargain_lands_on_the_bargain_after_recording_the_visit() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let c = campaign(&app, &f, 3, "current_price").await;
    let id = start_by_page(&app, &f, &c, &f.customer).await;
    let path = format!("/bargains/{id}");

    let fields = [("shop", f.shop.shop_id.as_str()), ("product", f.product.product_id.as_str()), ("bargain", id.as_str()), ("back", &path)];
    let made = post_form(&app, "/shares/new", Some(&f.customer.token), &fields).await;
    let back = location(&made);
    assert!(back.starts_with(&format!("{path}?share=")), "back on the bargain page: {back}");
    let code = back.trim_start_matches(&format!("{path}?share=")).trim_end_matches("#share").to_string();
    let shown = page(&app, &format!("{path}?share={code}"), Some(&f.customer.token)).await;
    let text = html(&shown);
    assert!(
        text.contains(&format!("/s/{code}")) && text.contains("share-kouling") && text.contains("share-poster"),
        "link, 口令 and poster"
    );

    let visit = app.client.get(app.url(&format!("/s/{code}"))).send().await.expect("visit");
    assert_eq!(visit.status().as_u16(), 303);
    assert_eq!(visit.headers().get("location").and_then(|l| l.to_str().ok()), Some(path.as_str()), "the link lands on the bargain");
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 1, "the visit is recorded");
    assert_eq!(app.count("SELECT COUNT(*) FROM customer_bindings").await, 1, "the visitor is bound to the bargain's shop");
    assert_eq!(app.count("SELECT COUNT(*) FROM shares WHERE bargain_id IS NOT NULL AND target_kind = 'product'").await, 1);

    // Passed on from another shop, the share is still of the bargain's own shop.
    let other = app.shop(&[&f.product]).await;
    let elsewhere =
        [("shop", other.shop_id.as_str()), ("product", f.product.product_id.as_str()), ("bargain", id.as_str()), ("back", &path)];
    assert!(location(&post_form(&app, "/shares/new", Some(&other.actor.token), &elsewhere).await).starts_with(&format!("{path}?share=")));
    let in_shop = format!("SELECT COUNT(*) FROM shares WHERE bargain_id IS NOT NULL AND shop_id = '{}'", f.shop.shop_id);
    assert_eq!(app.app.store.read(move |sql| sql.query_i64(&in_shop, &[])).await.expect("count"), 2);
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_bargains_lists_the_bargains_started_and_is_linked_from_me() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let empty = page(&app, "/me/bargains", Some(&f.customer.token)).await;
    assert!(html(&empty).contains("还没有发起砍价"));
    let c = campaign(&app, &f, 3, "current_price").await;
    let id = start_by_page(&app, &f, &c, &f.customer).await;
    let friend = app.register_customer().await;
    location(&post_form(&app, &format!("/bargains/{id}/help"), Some(&friend.token), &[]).await);
    let current = view(&app, &id, None).await["current_fen"].as_i64().expect("price");

    let mine = page(&app, "/me/bargains", Some(&f.customer.token)).await;
    let text = html(&mine);
    assert!(text.contains("有机高山绿茶 250g") && text.contains(&format!("href=\"/bargains/{id}\"")) && text.contains("砍价中"));
    assert!(text.contains(&format!("{}.{:02}", current / 100, current % 100)) && text.contains("底价 ¥60.00") && text.contains("助力 1/3"));
    assert!(!html(&page(&app, "/me/bargains", Some(&friend.token)).await).contains(&id), "only the starter's own bargains");
    let me = page(&app, "/me", Some(&f.customer.token)).await;
    assert!(html(&me).contains("href=\"/me/bargains\"") && html(&me).contains("我的砍价"));
    let anonymous = app.client.get(app.url("/me/bargains")).send().await.expect("anonymous");
    assert_eq!(anonymous.status().as_u16(), 303, "sign in first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_creates_campaigns_shows_their_figures_and_ends_them() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let owner = f.shop.actor.token.as_str();
    let console = page(&app, "/console/bargains", Some(owner)).await;
    let text = html(&console);
    assert!(text.contains(&format!("value=\"{}\"", f.product.sku_id)) && text.contains("暂无砍价活动"));
    let shop_console = page(&app, "/console/shop", Some(owner)).await;
    assert!(html(&shop_console).contains("href=\"/console/bargains\""), "linked next to the group console");

    let fields = [
        ("sku", f.product.sku_id.as_str()),
        ("start_yuan", "100.00"),
        ("floor_yuan", "60.00"),
        ("helpers", "2"),
        ("hours", "12"),
        ("days", "7"),
        ("stock", "20"),
        ("buy_rule", "current_price"),
    ];
    // A floor below the supply price is refused in place, with what was typed kept; nothing stored.
    let mut bad = fields;
    bad[2] = ("floor_yuan", "10.00");
    let refused = post_form(&app, "/console/bargains", Some(owner), &bad).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("campaign-error") && refused.text.contains("value=\"10.00\"") && refused.text.contains("campaign-form"));
    let mut garbled = fields;
    garbled[3] = ("helpers", "many");
    let refused = post_form(&app, "/console/bargains", Some(owner), &garbled).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text.contains("campaign-error") && refused.text.contains("value=\"many\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM bargain_campaigns").await, 0);

    assert_eq!(location(&post_form(&app, "/console/bargains", Some(owner), &fields).await), "/console/bargains");
    let stored = app.get(&format!("/bargain-campaigns?shop_id={}", f.shop.shop_id), None).await;
    let stored: Vec<Value> = stored.ok().as_array().expect("list").clone();
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!((c["start_fen"].as_i64(), c["floor_fen"].as_i64(), c["helpers_needed"].as_i64()), (Some(10_000), Some(6_000), Some(2)));
    assert_eq!((c["bargain_hours"].as_i64(), c["stock_cap"].as_i64(), c["buy_rule"].as_str()), (Some(12), Some(20), Some("current_price")));
    assert_eq!(c["shop_id"], f.shop.shop_id.as_str());
    let id = c["id"].as_str().expect("id").to_string();

    // Three bargains: one bought, one helped to the floor, one left to expire.
    let buyer = start_by_page(&app, &f, &id, &f.customer).await;
    let body = json!({"recipient": "张三", "phone": "13800138000", "address": "上海市浦东新区世纪大道 100 号"});
    app.post_with_key(&format!("/bargains/{buyer}/buy"), &f.customer.token, &new_key(), &body).await.ok();
    let second = app.register_customer().await;
    let floored = start_by_page(&app, &f, &id, &second).await;
    for _ in 0..2 {
        let friend = app.register_customer().await;
        location(&post_form(&app, &format!("/bargains/{floored}/help"), Some(&friend.token), &[]).await);
    }
    let third = app.register_customer().await;
    start_by_page(&app, &f, &id, &third).await;
    app.advance_ms(13 * HOUR_MS);

    let console = page(&app, "/console/bargains", Some(owner)).await;
    let text = html(&console);
    assert!(text.contains("有机高山绿茶 250g") && text.contains(&format!("campaign-{id}")) && text.contains("转化率"));
    let figures = "<td class=\"n\">3</td><td class=\"n\">1</td><td class=\"n\">1</td><td class=\"n\">2</td><td class=\"n\">33%</td>";
    assert!(text.contains(figures), "started 3, floor 1, bought 1, expired 2, 33%");
    let operator = app.operator().await;
    assert!(html(&page(&app, "/console/bargains", Some(&operator)).await).contains(&format!("campaign-{id}")));

    assert_eq!(location(&post_form(&app, &format!("/console/bargains/{id}/end"), Some(owner), &[]).await), "/console/bargains");
    assert!(html(&page(&app, "/console/bargains", Some(owner)).await).contains("已结束"));
    let ended = app.get(&format!("/bargain-campaigns/{id}"), None).await;
    assert!(ended.ok()["ended_at"].as_i64().is_some(), "ended in the store");

    assert_eq!(page(&app, "/console/bargains", Some(&f.customer.token)).await.status, 403, "customers have no console");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_owner_without_the_switch_is_refused_a_bargain_campaign() {
    let app = spawn_app_with(|config| config.shop_owners_may_run_groups = false).await;
    let f = app.fixture(10_000, 100).await;
    let owner = f.shop.actor.token.as_str();
    let console = page(&app, "/console/bargains", Some(owner)).await;
    let text = html(&console);
    assert!(text.contains("campaign-owners-off") && !text.contains("campaign-form"));
    let fields = [
        ("sku", f.product.sku_id.as_str()),
        ("start_yuan", "100.00"),
        ("floor_yuan", "60.00"),
        ("helpers", "2"),
        ("hours", "12"),
        ("days", "7"),
        ("stock", "20"),
        ("buy_rule", "current_price"),
    ];
    let refused = post_form(&app, "/console/bargains", Some(owner), &fields).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM bargain_campaigns").await, 0, "nothing created");
    // The operator still runs campaigns in the shop.
    let operator = app.operator().await;
    let mut for_shop = fields.to_vec();
    for_shop.push(("shop", f.shop.shop_id.as_str()));
    assert_eq!(location(&post_form(&app, "/console/bargains", Some(&operator), &for_shop).await), "/console/bargains");
    assert_eq!(app.count("SELECT COUNT(*) FROM bargain_campaigns").await, 1);
}
