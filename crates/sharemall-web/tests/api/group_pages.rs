//! The group-buying (拼团) pages over HTTP: the product page's offer, rules and joinable groups;
//! the group page's members, seats and join button; a group share landing on the group; "My
//! groups" and the inbox after success and failure; the campaign console.

use serde_json::{Value, json};
use sharemall_web::pages::url_encode;

use crate::helpers::*;

const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A page as a browser gets it (`?lang=` in the path picks the language).
async fn page(app: &TestApp, path: &str, token: Option<&str>) -> Resp {
    app.send(TestApp::with_token(app.client.get(app.url(path)), token)).await
}

/// An HTML page that must render.
#[track_caller]
fn html(resp: &Resp) -> &str {
    assert_eq!(resp.status, 200, "expected a page, got {}: {}", resp.status, resp.text);
    assert!(resp.content_type.starts_with("text/html"), "not HTML: {}", resp.content_type);
    &resp.text
}

fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&")
}

/// POSTs a form as a browser does; returns the answer (a redirect when it worked).
async fn post_form(app: &TestApp, path: &str, token: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .expect("form post")
}

#[track_caller]
fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status().as_u16(), 303, "expected a redirect, got {}", resp.status());
    resp.headers().get("location").expect("a location").to_str().expect("text").to_string()
}

/// A campaign of `size` at ¥80.00 (retail ¥100.00) in the fixture's shop.
async fn campaign(app: &TestApp, f: &Fixture, size: i64, new_only: bool) -> String {
    let operator = app.operator().await;
    let body = json!({
        "shop_id": f.shop.shop_id, "sku_id": f.product.sku_id, "size": size, "group_price_fen": 8_000,
        "starts_at": app.now(), "ends_at": app.now() + 7 * DAY_MS, "stock_cap": 30, "per_customer_limit": 2,
        "new_customers_only": new_only,
    });
    app.post("/group-campaigns", Some(&operator), &body).await.ok()["id"].as_str().expect("campaign id").to_string()
}

/// `customer` opens a group of the campaign through the API and pays; returns the group id.
async fn open_paid(app: &TestApp, f: &Fixture, campaign: &str, customer: &Actor) -> String {
    let body = json!({"shop_id": f.shop.shop_id, "recipient": "李四", "phone": "13800138000", "address": "上海市静安区南京西路 1 号"});
    let placed = app.post_with_key(&format!("/group-campaigns/{campaign}/groups"), &customer.token, &new_key(), &body).await;
    let order = placed.ok()["order_id"].as_str().expect("order id").to_string();
    app.pay(&customer.token, &order).await;
    group_of(app, customer, &order).await
}

async fn group_of(app: &TestApp, customer: &Actor, order: &str) -> String {
    let mine = app.get("/me/groups", Some(&customer.token)).await;
    let row = mine.ok().as_array().expect("my groups").iter().find(|g| g["order_id"] == order).expect("the order's group").clone();
    row["group_id"].as_str().expect("a paid opener's group").to_string()
}

/// `customer` joins through the pages (form → order page); returns the order id, unpaid.
async fn join_by_page(app: &TestApp, group: &str, customer: &Actor) -> String {
    let form_page = page(app, &format!("/groups/{group}/join"), Some(&customer.token)).await;
    assert!(html(&form_page).contains("参团下单"));
    let fields = [
        ("form_token", &*new_key()),
        ("campaign", ""),
        ("qty", "1"),
        ("recipient", "王五"),
        ("phone", "13900139000"),
        ("address", "北京市朝阳区建国路 2 号"),
        ("note", ""),
    ];
    let resp = post_form(app, &format!("/groups/{group}/join"), &customer.token, &fields).await;
    location(&resp).trim_start_matches("/orders/").to_string()
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_page_shows_the_group_price_the_rules_and_joinable_groups() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let product_path = format!("/shops/{}/products/{}", f.shop.shop_id, f.product.product_id);
    let before = page(&app, &product_path, None).await;
    assert!(!html(&before).contains("group-offer"), "no campaign, no offer");

    let campaign = campaign(&app, &f, 3, true).await;
    let resp = page(&app, &product_path, None).await;
    let text = html(&resp);
    for wanted in ["拼团价", "80.00", "单买价 ¥100.00", "3人团", "开团后 24 小时内有效", "未成团自动全额退款", "仅限新用户参团", "开团"]
    {
        assert!(text.contains(wanted), "the offer shows {wanted:?}");
    }
    assert!(text.contains(&format!("/shops/{}/groups/new?campaign={campaign}", f.shop.shop_id)), "开团 leads to the group order form");
    assert!(!text.contains("joinable-groups"), "no group open yet");

    // The rules come again on the order form, before paying.
    let form_page = page(&app, &format!("/shops/{}/groups/new?campaign={campaign}", f.shop.shop_id), Some(&f.customer.token)).await;
    let form_text = html(&form_page);
    assert!(form_text.contains("未成团自动全额退款") && form_text.contains("3人团") && form_text.contains("¥</small>80.00"));
    // Opening through the page's form places the order and goes to pay it.
    let fields = [
        ("form_token", &*new_key()),
        ("campaign", campaign.as_str()),
        ("qty", "1"),
        ("recipient", "李四"),
        ("phone", "13800138000"),
        ("address", "上海市静安区南京西路 1 号"),
        ("note", ""),
    ];
    let placed = post_form(&app, &format!("/shops/{}/groups/new", f.shop.shop_id), &f.customer.token, &fields).await;
    let order = location(&placed).trim_start_matches("/orders/").to_string();
    let unpaid = page(&app, &format!("/orders/{order}"), Some(&f.customer.token)).await;
    assert!(html(&unpaid).contains("pay-now"), "the order page offers the sandbox payment");
    app.pay(&f.customer.token, &order).await;
    let group = group_of(&app, &f.customer, &order).await;

    let resp = page(&app, &product_path, None).await;
    let text = html(&resp);
    assert!(text.contains("joinable-groups"), "the open group is listed");
    assert!(text.contains("还差 <b>2</b> 人"), "two seats missing");
    assert!(text.contains(&format!("href=\"/groups/{group}\"")) && text.contains("去参团"));
    assert!(text.contains("23:59:59") || text.contains("24:00:00"), "a countdown from 24 hours");
    assert!(text.contains("测**"), "the leader's masked name");

    let en = page(&app, &format!("{product_path}?lang=en"), None).await;
    let en = html(&en);
    assert!(en.contains("Full automatic refund if the group does not fill") && en.contains("Needs <b>2</b> more"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_page_shows_paid_members_empty_seats_and_the_join_button() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let campaign = campaign(&app, &f, 3, false).await;
    let group = open_paid(&app, &f, &campaign, &f.customer).await;
    let path = format!("/groups/{group}");

    let anonymous = page(&app, &path, None).await;
    let text = html(&anonymous);
    assert!(text.contains("拼团中") && text.contains("group-countdown"));
    assert_eq!(count(text, "seat filled"), 1, "the one paid member");
    assert_eq!(count(text, "seat empty"), 2, "two empty seats");
    assert!(text.contains("团长") && text.contains(">测<"), "the leader's circle shows the first character");
    assert!(text.contains(&format!("href=\"/groups/{group}/join\"")), "a join button");
    let to_sign_in = app.client.get(app.url(&format!("/groups/{group}/join"))).send().await.expect("join");
    assert_eq!(location(&to_sign_in), format!("/signin?next={}", url_encode(&format!("/groups/{group}/join"))));

    // The leader is a member: no join button for them.
    let leader = page(&app, &path, Some(&f.customer.token)).await;
    assert!(html(&leader).contains("group-member") && !html(&leader).contains("id=\"group-join\""));

    // A friend joins: held but unpaid, the seat is not shown as a member.
    let friend = app.register_customer().await;
    let friend_order = join_by_page(&app, &group, &friend).await;
    let held = page(&app, &path, None).await;
    assert_eq!(count(html(&held), "seat filled"), 1, "an unpaid joiner is never shown as a member");
    let order_page = page(&app, &format!("/orders/{friend_order}"), Some(&friend.token)).await;
    assert!(html(&order_page).contains("pay-now"));
    app.pay(&friend.token, &friend_order).await;
    let waiting = page(&app, &format!("/orders/{friend_order}"), Some(&friend.token)).await;
    assert!(html(&waiting).contains("待成团"), "a paid group order awaits its group");
    assert!(html(&waiting).contains(&format!("href=\"/groups/{group}\"")), "the order links to its group");
    let list = page(&app, "/orders", Some(&friend.token)).await;
    assert!(html(&list).contains("待成团"));

    let third = app.register_customer().await;
    let third_order = join_by_page(&app, &group, &third).await;
    app.pay(&third.token, &third_order).await;
    let done = page(&app, &path, None).await;
    let text = html(&done);
    assert!(text.contains("已成团") && !text.contains("group-countdown"));
    assert_eq!((count(text, "seat filled"), count(text, "seat empty")), (3, 0));
    assert!(!text.contains("id=\"group-join\""), "a full group takes nobody");
    let shipped = page(&app, &format!("/orders/{friend_order}"), Some(&friend.token)).await;
    assert!(html(&shipped).contains("待发货"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_of_a_group_lands_on_the_group_after_recording_the_visit() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let campaign = campaign(&app, &f, 2, false).await;
    let group = open_paid(&app, &f, &campaign, &f.customer).await;
    let path = format!("/groups/{group}");

    let sheet = page(&app, &path, Some(&f.customer.token)).await;
    assert!(html(&sheet).contains(&format!("name=\"group\" value=\"{group}\"")), "the sheet shares the group");
    let fields =
        [("shop", f.shop.shop_id.as_str()), ("product", f.product.product_id.as_str()), ("group", group.as_str()), ("back", &path)];
    let made = post_form(&app, "/shares/new", &f.customer.token, &fields).await;
    let back = location(&made);
    assert!(back.starts_with(&format!("{path}?share=")), "back on the group page: {back}");
    let code = back.trim_start_matches(&format!("{path}?share=")).trim_end_matches("#share").to_string();
    let shown = page(&app, &format!("{path}?share={code}"), Some(&f.customer.token)).await;
    assert!(html(&shown).contains(&format!("/s/{code}")), "the sheet shows the link");

    let visit = app.client.get(app.url(&format!("/s/{code}"))).send().await.expect("visit");
    assert_eq!(location(&visit), path, "the link lands on the group");
    assert!(visit.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap_or("").starts_with("sm_visitor=")));
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 1, "the visit is recorded");
    assert_eq!(app.count("SELECT COUNT(*) FROM customer_bindings").await, 1, "the visitor is bound to the group's shop");
    assert_eq!(app.count("SELECT COUNT(*) FROM shares WHERE group_id IS NOT NULL AND target_kind = 'product'").await, 1);

    // Anyone signed in may share a group; the share is always of the group's own shop.
    let other = app.shop(&[&f.product]).await;
    let elsewhere =
        [("shop", other.shop_id.as_str()), ("product", f.product.product_id.as_str()), ("group", group.as_str()), ("back", &path)];
    let made_again = post_form(&app, "/shares/new", &other.actor.token, &elsewhere).await;
    assert!(location(&made_again).starts_with(&format!("{path}?share=")));
    let in_group_shop = format!("SELECT COUNT(*) FROM shares WHERE group_id IS NOT NULL AND shop_id = '{}'", f.shop.shop_id);
    let count_in_shop = app.app.store.read(move |sql| sql.query_i64(&in_group_shop, &[])).await.expect("count");
    assert_eq!(count_in_shop, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_groups_and_the_inbox_tell_members_what_became_of_their_groups() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let campaign = campaign(&app, &f, 2, false).await;
    let group = open_paid(&app, &f, &campaign, &f.customer).await;
    let friend = app.register_customer().await;
    let order = join_by_page(&app, &group, &friend).await;
    app.pay(&friend.token, &order).await;

    let mine = page(&app, "/me/groups", Some(&friend.token)).await;
    let text = html(&mine);
    assert!(text.contains("有机高山绿茶 250g") && text.contains("已成团") && text.contains(&format!("/groups/{group}")));
    let me = page(&app, "/me", Some(&friend.token)).await;
    assert!(html(&me).contains("id=\"inbox-unread\">1<"), "one unread message");
    assert!(html(&me).contains("/me/groups"), "我的拼团 is linked");
    let inbox = page(&app, "/me/inbox", Some(&friend.token)).await;
    assert!(html(&inbox).contains("你参加的拼团已成团") && html(&inbox).contains(&format!("/groups/{group}")));
    let me = page(&app, "/me", Some(&friend.token)).await;
    assert!(!html(&me).contains("inbox-unread"), "read once opened");

    // A group nobody joins fails at its deadline; the sweep refunds the opener.
    let loner = app.register_customer().await;
    let lonely = open_paid(&app, &f, &campaign, &loner).await;
    let lonely_order = app.get("/me/groups", Some(&loner.token)).await.ok()[0]["order_id"].as_str().expect("order").to_string();
    app.advance_ms(25 * HOUR_MS);
    let expired = page(&app, &format!("/groups/{lonely}"), None).await;
    assert!(html(&expired).contains("已过期"), "past its deadline before the sweep");
    app.run_jobs().await;
    let failed = page(&app, &format!("/groups/{lonely}"), None).await;
    assert!(html(&failed).contains("未成团·已退款"));
    let order_page = page(&app, &format!("/orders/{lonely_order}"), Some(&loner.token)).await;
    assert!(html(&order_page).contains("未成团，已退款") && html(&order_page).contains("已退款"));
    let inbox = page(&app, "/me/inbox?lang=en", Some(&loner.token)).await;
    assert!(html(&inbox).contains("Your group did not fill"));
    let mine = page(&app, "/me/groups", Some(&loner.token)).await;
    assert!(html(&mine).contains("未成团·已退款"));
    app.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_creates_lists_and_ends_campaigns() {
    let app = spawn_app().await;
    let f = app.fixture(10_000, 100).await;
    let owner = &f.shop.actor.token;
    let console = page(&app, "/console/groups", Some(owner)).await;
    let text = html(&console);
    assert!(text.contains(&format!("value=\"{}\"", f.product.sku_id)), "the shop's SKUs to choose from");
    assert!(text.contains("暂无拼团活动"));

    let fields = [
        ("sku", f.product.sku_id.as_str()),
        ("size", "2"),
        ("price_yuan", "85.00"),
        ("hours", "12"),
        ("days", "7"),
        ("stock", "20"),
        ("limit", "1"),
        ("new_only", "on"),
        ("auto_complete", ""),
    ];
    let made = post_form(&app, "/console/groups", owner, &fields).await;
    assert_eq!(location(&made), "/console/groups");
    let stored = app.get(&format!("/group-campaigns?shop_id={}", f.shop.shop_id), None).await;
    let stored: Vec<Value> = stored.ok().as_array().expect("list").clone();
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!((c["size"].as_i64(), c["group_price_fen"].as_i64(), c["group_hours"].as_i64()), (Some(2), Some(8_500), Some(12)));
    assert_eq!(
        (c["stock_cap"].as_i64(), c["per_customer_limit"].as_i64(), c["new_customers_only"].as_bool()),
        (Some(20), Some(1), Some(true))
    );
    assert_eq!(c["shop_id"], f.shop.shop_id.as_str());
    let id = c["id"].as_str().expect("id").to_string();

    // Its results show, for the owner and the operator.
    open_paid(&app, &f, &id, &f.customer).await;
    let console = page(&app, "/console/groups", Some(owner)).await;
    let text = html(&console);
    assert!(text.contains("有机高山绿茶 250g") && text.contains("85.00") && text.contains("成团率"));
    assert!(text.contains("<td class=\"n\">1</td>"), "one open group");
    let operator = app.operator().await;
    let operator_view = page(&app, "/console/groups", Some(&operator)).await;
    assert!(html(&operator_view).contains(&format!("campaign-{id}")) && html(&operator_view).contains("全平台"));

    // A bad price is refused with the rule, and nothing is stored.
    let mut bad = fields;
    bad[2] = ("price_yuan", "10.00");
    let refused = post_form(&app, "/console/groups", owner, &bad).await;
    assert_eq!(refused.status().as_u16(), 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM group_campaigns").await, 1);

    let ended = post_form(&app, &format!("/console/groups/{id}/end"), owner, &[]).await;
    assert_eq!(location(&ended), "/console/groups");
    let console = page(&app, "/console/groups", Some(owner)).await;
    assert!(html(&console).contains("已结束"));

    // Customers have no console; owners without the setting see theirs without the form.
    let customer = page(&app, "/console/groups", Some(&f.customer.token)).await;
    assert_eq!(customer.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_see_no_create_form_when_the_operator_keeps_group_buying() {
    let app = spawn_app_with(|config| config.shop_owners_may_run_groups = false).await;
    let f = app.fixture(10_000, 100).await;
    let console = page(&app, "/console/groups", Some(&f.shop.actor.token)).await;
    let text = html(&console);
    assert!(text.contains("campaign-owners-off") && !text.contains("campaign-form"));
}
