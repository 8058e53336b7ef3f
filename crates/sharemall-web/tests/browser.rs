//! End-to-end in a real browser, in two languages.
//!
//! - Buying, in Chinese and then in English: a customer registers, buys a product from a shop,
//!   pays on the sandbox provider's page and lands back on a paid order.
//! - The consoles, in Chinese and then in English (each user switches language after signing
//!   in: switching users clears cookies, and with them the language): supplier, operator and
//!   shop owner consoles, and a newcomer offered a shop.
//! - Sharing, in Chinese and then in English, each run from its own shop: a 口令 pasted by a
//!   friend who signs up and buys, counted in the owner's "My shares".
//! - Group buying (拼团), in Chinese and then in English, each run with its own new people and
//!   groups: a customer opens a group and shares it, a friend in a second browser profile
//!   follows the link, signs up, joins and pays, and the group succeeds; another group is left
//!   to expire (the test clock jumps a day), and its member is refunded.
//! - Bargaining (砍价), in Chinese and then in English: a customer starts a bargain and shares
//!   it, a friend in the second profile follows the link, signs up and helps, and the starter
//!   sees the lower price.
//!
//! In English runs each person switches with the top bar's `#lang-switch`, and every page must
//! be English: no Chinese text outside user content ([`USER_TEXT`]), i.e. no missing
//! translation. Screenshots of every step go to `artifacts/screenshots/` at the workspace root,
//! named by run and language, and no page may log a console error.
//!
//! Needs Debian's `chromium`, `chromium-driver` and `fonts-wqy-microhei`; runs only with
//! `SHAREMALL_BROWSER_TESTS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder, Locator};
use sharemall_app::bargains::{self, BargainCampaignDraft};
use sharemall_app::catalog::ProductDraft;
use sharemall_app::clock::{Clock, SystemClock};
use sharemall_app::config::AppConfig;
use sharemall_app::group_campaigns::{self, CampaignDraft};
use sharemall_app::{App, accounts, catalog, jobs, shops};
use sharemall_domain::account::Role;
use sharemall_domain::bargain::{BargainCampaignRequest, BuyRule};
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::{Money, Timestamp};
use sharemall_store::{Store, StoreConfig};
use sharemall_web::{AppState, router, serve};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

const SHOP_NAME: &str = "小林的好物小店";
const PRODUCT_TITLE: &str = "云南高山红茶";
const BUY_ADDRESS: &str = "云南省昆明市五华区翠湖南路 1 号";
const GROUP_ADDRESS: &str = "云南省昆明市盘龙区北京路 8 号";
const OPERATOR_NAME: &str = "运营小王";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Seeded {
    shop_id: String,
    product_id: String,
    /// Each language's share run's own shop (by language code), selling the product: its
    /// owner's "My shares" starts empty, so the run can count exactly its own friend.
    share_shops: Vec<(&'static str, String)>,
    /// The supplier's account and the 100g tin, for the orders the returns tours start from.
    supplier: sharemall_store::model::SessionUser,
    tin: sharemall_domain::SkuId,
}

impl Seeded {
    /// The product's page in `w`'s share shop.
    fn share_product_path(&self, w: &Words) -> String {
        let (_, shop) = self.share_shops.iter().find(|(code, _)| *code == w.code).expect("a share shop for each language");
        format!("/shops/{shop}/products/{}", self.product_id)
    }
}

/// The sign-in of the owner of `w`'s share shop.
fn sharer_login(w: &Words) -> String {
    format!("sharer-{}@sharemall.test", w.code)
}

/// The wall clock plus an offset the test can move: everything runs in real time until the
/// test jumps past a group's deadline.
#[derive(Clone, Default)]
struct ShiftedClock(Arc<AtomicI64>);

impl ShiftedClock {
    fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp(SystemClock.now().millis() + self.0.load(Ordering::SeqCst))
    }
}

async fn seed(app: &App) -> Seeded {
    let pw = "correct-horse-battery";
    let operator = accounts::create_user(app, "operator@sharemall.test", pw, OPERATOR_NAME, vec![Role::Operator]).await.unwrap();
    let supplier_user = accounts::create_user(app, "supplier@sharemall.test", pw, "滇红茶厂", vec![Role::Customer]).await.unwrap();
    let supplier = catalog::apply_as_supplier(app, &supplier_user, "滇红茶厂", "0871-12345678").await.unwrap();
    catalog::set_supplier_approval(app, &operator, supplier, Approval::Approved).await.unwrap();
    let supplier_user = accounts::reload(app, &supplier_user).await.unwrap();
    let sku = |attributes: &str, retail: i64, stock: i64| NewSku {
        attributes: attributes.into(),
        supply_price: Money::from_fen(retail / 2),
        retail_price: Money::from_fen(retail),
        commission_bps: 1000,
        stock,
        returnable: true,
    };
    let product = catalog::add_product(
        app,
        &supplier_user,
        ProductDraft {
            title: PRODUCT_TITLE.into(),
            description: "海拔1800米茶园，春季头采，蜜香浓郁。\n独立小袋包装，方便冲泡。".into(),
            category: "茶饮".into(),
            image_hue: 18,
            skus: vec![sku("规格:100g 罐装", 3_990, 50), sku("规格:250g 礼盒", 8_800, 20)],
        },
    )
    .await
    .unwrap();
    catalog::set_product_approval(app, &operator, product, Approval::Approved).await.unwrap();
    let owner = accounts::create_user(app, "owner@sharemall.test", pw, "小林", vec![Role::Customer]).await.unwrap();
    let shop = shops::open_shop(app, &owner, SHOP_NAME, "只卖自己喝过的好东西，欢迎常来。", None).await.unwrap();
    let owner = accounts::reload(app, &owner).await.unwrap();
    shops::pick_product(app, &owner, product).await.unwrap();
    let mut share_shops = Vec::new();
    for w in [&ZH, &EN] {
        let sharer = accounts::create_user(app, &sharer_login(w), pw, w.sharer, vec![Role::Customer]).await.unwrap();
        let shop = shops::open_shop(app, &sharer, w.share_shop, w.share_shop_intro, None).await.unwrap();
        let sharer = accounts::reload(app, &sharer).await.unwrap();
        shops::pick_product(app, &sharer, product).await.unwrap();
        share_shops.push((w.code, shop.to_string()));
    }
    // A two-person group of the 100g tin at ¥29.90 (retail ¥39.90) in the shop.
    let tin = catalog::public_product(app, product).await.unwrap().skus.iter().find(|s| s.attributes.contains("100g")).unwrap().id;
    let now = app.now();
    let request = CampaignRequest {
        size: 2,
        group_price: Money::from_fen(2_990),
        hours: 24,
        starts_at: now,
        ends_at: now.plus_ms(7 * 24 * 3_600_000),
        stock_cap: 20,
        per_customer_limit: 2,
        new_customers_only: false,
        auto_complete_at: None,
    };
    group_campaigns::create_campaign(app, &operator, CampaignDraft { shop: Some(shop), sku: tin, request }).await.unwrap();
    // A bargain on the 250g box: ¥88.00 down to ¥60.00 in three helps, for ten days (the two
    // group tours move the clock two days on before the bargain tours run).
    let gift = catalog::public_product(app, product).await.unwrap().skus.iter().find(|s| s.attributes.contains("250g")).unwrap().id;
    let request = BargainCampaignRequest {
        start: Money::from_fen(8_800),
        floor: Money::from_fen(6_000),
        helpers_needed: 3,
        hours: 24,
        starts_at: now,
        ends_at: now.plus_ms(10 * 24 * 3_600_000),
        stock_cap: 10,
        buy_rule: BuyRule::AtCurrentPrice,
    };
    bargains::create_campaign(app, &operator, BargainCampaignDraft { shop: Some(shop), sku: gift, request }).await.unwrap();
    Seeded { shop_id: shop.to_string(), product_id: product.to_string(), share_shops, supplier: supplier_user, tin }
}

struct Browser {
    client: Client,
    base: String,
    /// The run's name, prefixing its screenshots ("zh", "en-group-a", ...).
    run: String,
    step: u32,
    /// Whether this person has switched to English: every page checked must then be English.
    english: bool,
}

impl Browser {
    async fn body(&self) -> String {
        self.client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
    }

    /// Fails if the page is an error page (ours, or a JSON error from the API fallback).
    async fn assert_no_error(&self) {
        let source = self.client.source().await.unwrap();
        let url = self.client.current_url().await.unwrap();
        assert!(!source.contains("id=\"error-page\""), "error page at {url}: {}", self.body().await);
        assert!(!source.contains("\"error\":{"), "JSON error at {url}: {source}");
    }

    async fn expect_text(&self, wanted: &[&str]) {
        self.assert_no_error().await;
        self.assert_translated().await;
        let body = self.body().await;
        for w in wanted {
            assert!(body.contains(w), "expected {w:?} on {}; page says:\n{body}", self.client.current_url().await.unwrap());
        }
    }

    /// For someone browsing in English: fails unless the page is English, with no Chinese left
    /// outside user content (a missing translation). Nothing to check in Chinese.
    async fn assert_translated(&self) {
        if !self.english {
            return;
        }
        let url = self.client.current_url().await.unwrap();
        let lang = self.client.execute("return document.documentElement.lang;", vec![]).await.unwrap();
        assert_eq!(lang, "en", "{url} is not an English page");
        let text = self.client.execute("return document.body.innerText;", vec![]).await.unwrap();
        let untranslated = untranslated_lines(text.as_str().expect("the page's text"));
        assert!(untranslated.is_empty(), "Chinese UI text on the English page {url}:\n{}", untranslated.join("\n"));
    }

    /// Forgets who this browser was: signed out, and back in the default language (Chinese).
    async fn clear_cookies(&mut self) {
        self.client.delete_all_cookies().await.unwrap();
        self.english = false;
    }

    async fn shot(&mut self, name: &str) {
        self.assert_translated().await;
        self.step += 1;
        let png = self.client.screenshot().await.unwrap();
        let path = screenshots_dir().join(format!("{}-{:02}-{name}.png", self.run, self.step));
        std::fs::write(&path, png).unwrap();
    }

    async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Clicks like a thumb: the element is scrolled to the middle first, clear of the fixed bars.
    async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
        let arg = serde_json::to_value(&element).unwrap();
        self.client.execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg]).await.unwrap();
        element.click().await.unwrap();
    }

    /// Clicks something that navigates, and waits until the next page has loaded.
    async fn submit(&self, css: &str) {
        let before = self.client.current_url().await.unwrap();
        // Mark this document: once the mark is gone, a new page has loaded (even at the same URL).
        self.client.execute("window.__smOld = true;", vec![]).await.unwrap();
        self.click(css).await;
        for _ in 0..100 {
            let loaded = self.client.execute("return window.__smOld === undefined && document.readyState === 'complete';", vec![]).await;
            if loaded.is_ok_and(|v| v == serde_json::Value::Bool(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("clicking {css} on {before} went nowhere");
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// The natural width of image `#id` once it has loaded (0 if it never does, within 10 s).
    async fn image_width(&self, id: &str) -> i64 {
        let script = format!("const i = document.getElementById('{id}'); return i && i.complete ? i.naturalWidth : 0;");
        for _ in 0..100 {
            let width = self.client.execute(&script, vec![]).await.unwrap().as_i64().unwrap_or(0);
            if width > 0 {
                return width;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        0
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// The text of `css`, once it reads `wanted` (reloading meanwhile: jobs and payment
    /// callbacks run in the background); fails after 20 seconds.
    async fn wait_for_text(&self, css: &str, wanted: &str) {
        let mut text = String::new();
        for _ in 0..40 {
            self.assert_no_error().await;
            text = self.client.find(Locator::Css(css)).await.unwrap().text().await.unwrap();
            if text.trim() == wanted {
                self.assert_translated().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.client.refresh().await.unwrap();
        }
        panic!("{css} reads {text:?}, never {wanted:?}, at {}", self.client.current_url().await.unwrap());
    }

    /// Fails if the browser logged any console error (or failed load) since the last call.
    async fn assert_no_console_errors(&self) {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap();
        let errors: Vec<&serde_json::Value> =
            entries.as_array().map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect()).unwrap_or_default();
        assert!(errors.is_empty(), "console errors in {}: {errors:#?}", self.run);
    }
}

/// chromedriver's browser console log (`goog:loggingPrefs`), drained by each read.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_string()))
    }
}

/// The Chinese an English page may show: what people typed (the seeded shop, supplier and
/// product, names and addresses), the shop's legal statement, and three things Chinese on
/// purpose. Anything else
/// Chinese on an English page is a missing translation.
const USER_TEXT: &[&str] = &[
    // The shop owner's shop, description and name.
    SHOP_NAME,
    "只卖自己喝过的好东西，欢迎常来。",
    "小林",
    // The shop's statutory statement that it needs no registration (E-commerce Law art. 10),
    // shown verbatim, in Chinese, in both languages.
    "根据《电子商务法》第十条，本店经营者为个人销售自产农副产品、家庭手工业产品或从事零星小额交易活动，依法不需要办理市场主体登记。",
    // The supplier's product: title, description lines, category, SKU attributes, and name.
    PRODUCT_TITLE,
    "海拔1800米茶园，春季头采，蜜香浓郁。",
    "独立小袋包装，方便冲泡。",
    "茶饮",
    "规格:100g 罐装",
    "规格:250g 礼盒",
    "滇红茶厂",
    // The operator's name, in the top bar of their console.
    OPERATOR_NAME,
    // The Chinese run's buyer, still signed in (top bar) when the page switches to English.
    ZH.buyer,
    // The Chinese share run's shop, listed on every home page.
    ZH.share_shop,
    ZH.share_shop_intro,
    // Delivery addresses the customers typed.
    BUY_ADDRESS,
    GROUP_ADDRESS,
    // Chinese on purpose: the language switch names Chinese in Chinese; the logo mark; the
    // English copy calls the share text pasted into chats by its Chinese name, 口令.
    "中文",
    "享",
    "口令",
];

/// The lines of a page's visible text that still hold Chinese (U+4E00–U+9FFF) once the
/// allowed [`USER_TEXT`] is taken out.
fn untranslated_lines(text: &str) -> Vec<&str> {
    // Longest first, so a name inside a longer allowed string ("小林" in the shop's name)
    // cannot split it and leave the rest behind.
    let mut allowed = USER_TEXT.to_vec();
    allowed.sort_by_key(|a| std::cmp::Reverse(a.chars().count()));
    text.lines()
        .filter(|line| {
            let rest = allowed.iter().fold(line.to_string(), |rest, a| rest.replace(a, ""));
            rest.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        })
        .collect()
}

#[test]
fn untranslated_chinese_is_found_and_user_text_is_not() {
    assert!(untranslated_lines("Home\nAlice · 小林的好物小店\n云南高山红茶 规格:250g 礼盒\n中文").is_empty());
    assert_eq!(untranslated_lines("Group\n拼团中 · 云南高山红茶\nLeader"), vec!["拼团中 · 云南高山红茶"]);
    // Taking out an allowed character leaves the untranslated word around it behind.
    assert_eq!(untranslated_lines("分享给好友"), vec!["分享给好友"]);
    assert_eq!(untranslated_lines("小林的好物"), vec!["小林的好物"]);
}

/// Words each language must show along the way, and the people of its runs.
struct Words {
    /// The language's code, prefixing its runs' screenshots.
    code: &'static str,
    /// What the top bar's `#lang-switch` reads on this language's pages (it offers the other).
    switch_label: &'static str,
    register: &'static str,
    returnable: &'static str,
    buy_now: &'static str,
    checkout: &'static str,
    awaiting_payment: &'static str,
    pay_now: &'static str,
    sandbox: &'static str,
    /// Followed by the amount: "确认支付 ¥88.00".
    confirm_pay: &'static str,
    to_ship: &'static str,
    shop_statement: &'static str,
    // Group buying.
    group_price: &'static str,
    alone_price: &'static str,
    two_person_group: &'static str,
    valid_24_hours: &'static str,
    refund_promise: &'static str,
    open_group_title: &'static str,
    awaiting_group: &'static str,
    group_open: &'static str,
    one_more_needed: &'static str,
    leader: &'static str,
    share: &'static str,
    /// Followed by the price: "参团 ¥29.90".
    join: &'static str,
    join_title: &'static str,
    group_filled: &'static str,
    inbox_group_filled: &'static str,
    refunded: &'static str,
    order_not_filled_refunded: &'static str,
    group_not_filled_refunded: &'static str,
    my_groups: &'static str,
    // Bargaining.
    bargain: &'static str,
    bargain_from: &'static str,
    bargain_three_friends: &'static str,
    bargain_start: &'static str,
    bargain_running: &'static str,
    bargain_floor: &'static str,
    bargain_share: &'static str,
    bargain_sign_in_to_help: &'static str,
    bargain_you_cut: &'static str,
    // After-sales.
    returner: &'static str,
    return_no_reason: &'static str,
    return_waiting: &'static str,
    return_queue: &'static str,
    return_send_back: &'static str,
    return_on_way: &'static str,
    return_refunded: &'static str,
    my_returns: &'static str,
    // The consoles.
    supplier_console: &'static str,
    orders_to_ship: &'static str,
    csv_import: &'static str,
    /// What the supplier types as the parcel's carrier.
    carrier: &'static str,
    import_errors: &'static str,
    operator_console: &'static str,
    pending_products: &'static str,
    recent_orders: &'static str,
    shop_orders: &'static str,
    pick_products: &'static str,
    picked: &'static str,
    open_shop_free: &'static str,
    // Sharing.
    copy_kouling: &'static str,
    download_poster: &'static str,
    /// The chat message a friend pastes, around the 口令: before and after it.
    chat_around_kouling: (&'static str, &'static str),
    my_shares: &'static str,
    fission_tree: &'static str,
    /// What the owner prints on the parcel card: its message and its offer.
    card_message: &'static str,
    card_offer: &'static str,
    // The people of this language's runs: new accounts (phone numbers from `phones` up) with
    // names in the language.
    phones: u64,
    buyer: &'static str,
    group_leader: &'static str,
    group_friend: &'static str,
    group_loner: &'static str,
    bargain_starter: &'static str,
    bargain_helper: &'static str,
    /// How the helper shows to the starter: first character and a mask.
    bargain_helper_public: &'static str,
    /// A newcomer to the consoles, offered a shop of their own.
    newcomer: &'static str,
    /// The owner of this language's share shop, its shop and intro, and the friend who buys.
    sharer: &'static str,
    share_shop: &'static str,
    share_shop_intro: &'static str,
    share_friend: &'static str,
}

impl Words {
    /// A new phone number for this language's runs: `n` apart from the others.
    fn phone(&self, n: u64) -> String {
        (self.phones + n).to_string()
    }
}

const ZH: Words = Words {
    code: "zh",
    switch_label: "English",
    register: "注册新账号",
    returnable: "7天无理由退货",
    buy_now: "立即购买",
    checkout: "确认订单",
    awaiting_payment: "待付款",
    pay_now: "去支付",
    sandbox: "沙箱支付",
    confirm_pay: "确认支付",
    to_ship: "待发货",
    shop_statement: "依法不需要办理市场主体登记",
    group_price: "拼团价",
    alone_price: "单买价 ¥39.90",
    two_person_group: "2人团",
    valid_24_hours: "开团后 24 小时内有效",
    refund_promise: "未成团自动全额退款",
    open_group_title: "开团下单",
    awaiting_group: "待成团",
    group_open: "拼团中",
    one_more_needed: "还差 1 人",
    leader: "团长",
    share: "分享给好友",
    join: "参团",
    join_title: "参团下单",
    group_filled: "已成团",
    inbox_group_filled: "你参加的拼团已成团",
    refunded: "已退款",
    order_not_filled_refunded: "未成团，已退款",
    group_not_filled_refunded: "未成团·已退款",
    my_groups: "我的拼团",
    bargain: "砍价",
    bargain_from: "起砍价 ¥88.00",
    bargain_three_friends: "3 位好友帮砍，就能砍到 ¥60.00",
    bargain_start: "发起砍价",
    bargain_running: "砍价中",
    bargain_floor: "底价 ¥60.00",
    bargain_share: "分享给好友帮砍",
    bargain_sign_in_to_help: "登录后帮 TA 砍一刀",
    bargain_you_cut: "你帮 TA 砍掉了 ¥",
    returner: "退货的小王",
    return_no_reason: "七天无理由退货",
    return_waiting: "待商家处理",
    return_queue: "售后处理",
    return_send_back: "待寄回商品",
    return_on_way: "商品寄回中",
    return_refunded: "退款成功",
    my_returns: "我的售后",
    supplier_console: "供应商后台",
    orders_to_ship: "待发货订单",
    csv_import: "CSV 批量导入",
    carrier: "顺丰速运",
    import_errors: "以下行有问题",
    operator_console: "运营后台",
    pending_products: "待审核商品",
    recent_orders: "最近订单",
    shop_orders: "店铺订单",
    pick_products: "选品上架",
    picked: "已上架",
    open_shop_free: "开店免费",
    copy_kouling: "复制口令",
    download_poster: "下载海报",
    chat_around_kouling: ("【好友推荐】这个红茶很香 ", " 复制整段话打开"),
    my_shares: "我的分享",
    fission_tree: "裂变树",
    card_message: "感谢支持阿美的茶铺！扫码入会，下次购物更优惠。",
    card_offer: "扫码入会 领5元红包",
    phones: 13_800_138_000,
    buyer: "张小花",
    group_leader: "团长阿明",
    group_friend: "好友小雨",
    group_loner: "独行小陈",
    bargain_starter: "砍价阿珍",
    bargain_helper: "热心小周",
    bargain_helper_public: "热**",
    newcomer: "新人小李",
    sharer: "阿美",
    share_shop: "阿美的茶铺",
    share_shop_intro: "好茶分享给朋友。",
    share_friend: "好友小芳",
};

const EN: Words = Words {
    code: "en",
    switch_label: "中文",
    register: "Create an account",
    returnable: "7-day no-reason returns",
    buy_now: "Buy now",
    checkout: "Confirm order",
    awaiting_payment: "Awaiting payment",
    pay_now: "Pay now",
    sandbox: "Sandbox payment",
    confirm_pay: "Confirm payment",
    to_ship: "To ship",
    shop_statement: "依法不需要办理市场主体登记",
    group_price: "Group price",
    alone_price: "Alone ¥39.90",
    two_person_group: "2-person group",
    valid_24_hours: "Fills within 24 hours",
    refund_promise: "Full automatic refund if the group does not fill",
    open_group_title: "Start a group",
    awaiting_group: "Awaiting group",
    group_open: "Open",
    one_more_needed: "Needs 1 more",
    leader: "Leader",
    share: "Share with friends",
    join: "Join this group",
    join_title: "Join the group",
    group_filled: "Group filled",
    inbox_group_filled: "Your group filled",
    refunded: "Refunded",
    order_not_filled_refunded: "Group not filled, refunded",
    group_not_filled_refunded: "Not filled · refunded",
    my_groups: "My groups",
    bargain: "Bargain",
    bargain_from: "From ¥88.00",
    bargain_three_friends: "3 friends help you cut it to ¥60.00",
    bargain_start: "Start a bargain",
    bargain_running: "Running",
    bargain_floor: "Floor ¥60.00",
    bargain_share: "Ask friends to help",
    bargain_sign_in_to_help: "Sign in to help cut the price",
    bargain_you_cut: "You cut the price by ¥",
    returner: "Wang, returning",
    return_no_reason: "7-day no-reason return",
    return_waiting: "Waiting for the supplier",
    return_queue: "Returns to handle",
    return_send_back: "Send the goods back",
    return_on_way: "On its way back",
    return_refunded: "Refunded",
    my_returns: "My returns",
    supplier_console: "Supplier console",
    orders_to_ship: "Orders to ship",
    csv_import: "CSV import",
    carrier: "SF Express",
    import_errors: "These rows have problems",
    operator_console: "Operator console",
    pending_products: "Products awaiting review",
    recent_orders: "Recent orders",
    shop_orders: "Shop orders",
    pick_products: "Pick products",
    picked: "In shop",
    open_shop_free: "Opening a shop is free",
    copy_kouling: "Copy 口令",
    download_poster: "Download poster",
    chat_around_kouling: ("[Friend tip] this black tea smells lovely ", " copy the whole message to open"),
    my_shares: "My shares",
    fission_tree: "Fission tree",
    card_message: "Thanks for shopping at May's Tea Corner! Scan to join for a better deal next time.",
    card_offer: "Scan to join, get ¥5 off",
    phones: 13_900_139_000,
    buyer: "Alice",
    group_leader: "Amos Leader",
    group_friend: "Rain Friend",
    group_loner: "Carl Alone",
    bargain_starter: "Jean Starter",
    bargain_helper: "Zoe Helper",
    bargain_helper_public: "Z**",
    newcomer: "Nina Newcomer",
    sharer: "May",
    share_shop: "May's Tea Corner",
    share_shop_intro: "Good tea, shared with friends.",
    share_friend: "Fay Friend",
};

/// Switches this person's pages to `w`'s language with the top bar's switch (if they are not
/// in it already); from then on, in English, every page checked must be English.
async fn use_language(b: &mut Browser, w: &Words) {
    let label = || async { b.client.find(Locator::Css("#lang-switch")).await.unwrap().text().await.unwrap() };
    if label().await != w.switch_label {
        b.submit("#lang-switch").await;
        assert_eq!(label().await, w.switch_label, "the switch did not change the language");
    }
    b.english = w.code == "en";
}

async fn buy_flow(b: &mut Browser, w: &Words, shop_id: &str) {
    // Register.
    b.goto("/register").await;
    b.expect_text(&[w.register]).await;
    b.fill("#login", &w.phone(1)).await;
    b.fill("#display_name", w.buyer).await;
    b.fill("#password", "a-good-password").await;
    b.shot("register").await;
    b.submit("#register-submit").await;
    assert_eq!(b.path().await, "/");
    b.expect_text(&[SHOP_NAME]).await;
    b.shot("home").await;

    // Shop home → product.
    b.goto(&format!("/shops/{shop_id}")).await;
    b.expect_text(&[SHOP_NAME, PRODUCT_TITLE, w.shop_statement]).await;
    b.shot("shop").await;
    b.submit(".product-link").await;
    buy_here(b, w).await;
}

/// From a product page: pick the ¥88.00 gift box, check out, pay in the sandbox, and see the
/// order paid.
async fn buy_here(b: &mut Browser, w: &Words) {
    b.expect_text(&[PRODUCT_TITLE, w.returnable, w.buy_now, "250g 礼盒", "¥88.00"]).await;
    // Pick the 250g gift box (¥88.00): the sandbox amount is checked below.
    let radios = b.client.find_all(Locator::Css("input[name=sku]")).await.unwrap();
    assert_eq!(radios.len(), 2);
    b.click("label.sku:nth-of-type(2)").await;
    b.shot("product").await;
    b.submit("#buy-now").await;

    // Checkout.
    b.expect_text(&[w.checkout, PRODUCT_TITLE, "¥88.00"]).await;
    b.fill("#address", BUY_ADDRESS).await;
    b.shot("checkout").await;
    b.submit("#place-order").await;

    // Order page.
    assert!(b.path().await.starts_with("/orders/"), "not on an order page: {}", b.path().await);
    let order_path = b.path().await;
    b.expect_text(&[w.awaiting_payment, w.pay_now, "¥88.00"]).await;
    b.shot("order-created").await;
    b.submit("#pay-now").await;

    // The sandbox provider's page.
    assert!(b.path().await.starts_with("/sandbox/pay/"), "not on the pay page: {}", b.path().await);
    b.expect_text(&[w.sandbox, &format!("{} ¥88.00", w.confirm_pay), "88.00"]).await;
    b.shot("sandbox-pay").await;
    b.submit("#confirm-pay").await;

    // Back on the order page, paid.
    assert_eq!(b.path().await, order_path);
    let mut status = String::new();
    for _ in 0..40 {
        b.assert_no_error().await;
        status = b.client.find(Locator::Css("#order-status")).await.unwrap().text().await.unwrap();
        if status == w.to_ship {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        b.client.refresh().await.unwrap();
    }
    assert_eq!(status, w.to_ship, "order never showed as paid");
    b.expect_text(&[w.to_ship]).await;
    b.shot("order-paid").await;
}

/// Signs in as a seeded user (cookies cleared first), then switches to `w`'s language: clearing
/// the cookies put the browser back in Chinese.
async fn sign_in_as(b: &mut Browser, w: &Words, login: &str) {
    b.clear_cookies().await;
    b.goto("/signin").await;
    b.fill("#login", login).await;
    b.fill("#password", "correct-horse-battery").await;
    b.submit("#signin-submit").await;
    b.assert_no_error().await;
    use_language(b, w).await;
}

/// A customer who received the 100g tin returns it without a reason, in `w`'s language: the
/// order page's return form, the supplier approving from the returns queue, the customer's
/// return tracking number, the supplier confirming the goods came back, and the refund paid by
/// the job runner, shown on the case page.
async fn returns_tour(b: &mut Browser, w: &Words, app: &App, seeded: &Seeded) {
    start_run(b, w, "returns");
    // The order, paid in the sandbox (its signed callback comes over HTTP), shipped and received.
    let login = format!("returner-{}@sharemall.test", w.code);
    let customer = accounts::create_user(app, &login, "correct-horse-battery", w.returner, vec![Role::Customer]).await.unwrap();
    let checkout = sharemall_app::orders::Checkout {
        shop: seeded.shop_id.parse().unwrap(),
        lines: vec![(seeded.tin, 1)],
        recipient: w.returner.into(),
        phone: "13800000000".into(),
        address: BUY_ADDRESS.into(),
        note: String::new(),
        from_cart: false,
    };
    let order = sharemall_app::orders::place_order(app, &customer, checkout, None).await.unwrap().order_id;
    let started = sharemall_app::payments::start_payment(app, &customer, order, "sandbox", None).await.unwrap();
    let txn = started.pay_url.rsplit('/').next().unwrap().to_string();
    sharemall_app::sandbox::confirm(app, &txn).await.unwrap();
    sharemall_app::orders::ship(app, &seeded.supplier, order, w.carrier, "SF5550001112").await.unwrap();
    sharemall_app::orders::confirm_receipt(app, &customer, order).await.unwrap();

    sign_in_as(b, w, &login).await;
    b.goto(&format!("/orders/{order}")).await;
    b.submit("#apply-return").await;
    b.expect_text(&[w.return_no_reason, PRODUCT_TITLE]).await;
    b.fill("#return-qty-1", "1").await;
    b.shot("return-form").await;
    b.submit("#return-submit").await;
    assert!(b.path().await.starts_with("/returns/"), "not on a case page: {}", b.path().await);
    let case_path = b.path().await;
    b.wait_for_text("#return-status", w.return_waiting).await;
    b.shot("return-requested").await;

    sign_in_as(b, w, "supplier@sharemall.test").await;
    b.goto("/console/returns").await;
    b.expect_text(&[w.return_queue, PRODUCT_TITLE]).await;
    b.shot("return-queue").await;
    b.submit(&format!("a[href='{case_path}']")).await;
    b.expect_text(&[w.return_waiting]).await;
    b.shot("return-decide").await;
    b.submit("#return-approve").await;
    b.wait_for_text("#return-status", w.return_send_back).await;

    sign_in_as(b, w, &login).await;
    b.goto(&case_path).await;
    b.fill("#ship-back-carrier", w.carrier).await;
    b.fill("#ship-back-tracking", "YT0000000001").await;
    b.shot("return-ship-back").await;
    b.submit("#ship-back-submit").await;
    b.wait_for_text("#return-status", w.return_on_way).await;

    sign_in_as(b, w, "supplier@sharemall.test").await;
    b.goto(&case_path).await;
    b.submit("#return-goods-received").await;
    // The refund job pays it through the sandbox provider in the background.
    b.wait_for_text("#return-status", w.return_refunded).await;
    b.shot("return-refunded").await;
    sign_in_as(b, w, &login).await;
    b.goto("/returns").await;
    b.expect_text(&[w.my_returns, w.return_refunded]).await;
    b.shot("my-returns").await;
}

/// The consoles in `w`'s language, each user switching language after signing in. The supplier
/// ships one of the orders still to ship (each language's buy flow left one); the operator
/// and the shop owner read theirs; a newcomer is offered a shop.
async fn console_tour(b: &mut Browser, w: &Words) {
    start_run(b, w, "console");
    // The supplier ships one of the paid orders.
    sign_in_as(b, w, "supplier@sharemall.test").await;
    b.goto("/console/supplier").await;
    b.expect_text(&[w.supplier_console, w.orders_to_ship, PRODUCT_TITLE, w.csv_import]).await;
    let to_ship = b.client.find_all(Locator::Css("form[action$='/ship']")).await.unwrap().len();
    assert!(to_ship > 0, "no order to ship");
    b.fill("input[name=carrier]", w.carrier).await;
    b.fill("input[name=tracking_no]", "SF1234567890").await;
    b.shot("supplier").await;
    b.submit("form[action$='/ship'] button").await;
    b.expect_text(&[w.supplier_console]).await;
    let left = b.client.find_all(Locator::Css("form[action$='/ship']")).await.unwrap().len();
    assert_eq!(left, to_ship - 1, "the shipped order leaves the list");
    // A pasted CSV with a bad row is refused with a per-row message.
    b.fill("textarea[name=csv]", "product_code,title\nX1,\n").await;
    b.submit("#csv-import button").await;
    b.expect_text(&[w.import_errors]).await;
    b.shot("supplier-import-errors").await;

    // The operator sees the platform's orders.
    sign_in_as(b, w, "operator@sharemall.test").await;
    b.goto("/console/operator").await;
    b.expect_text(&[w.operator_console, w.pending_products, w.recent_orders, SHOP_NAME]).await;
    b.shot("operator").await;

    // The shop owner sees the orders and the pick list.
    sign_in_as(b, w, "owner@sharemall.test").await;
    b.goto("/console/shop").await;
    b.expect_text(&[w.shop_orders, SHOP_NAME]).await;
    b.shot("shop-owner").await;
    b.goto("/console/shop/pick").await;
    b.expect_text(&[w.pick_products, PRODUCT_TITLE, w.picked]).await;
    b.shot("shop-pick").await;

    // A newcomer is offered a free shop.
    register_as(b, w, &w.phone(9), w.newcomer).await;
    b.goto("/console/shop").await;
    b.expect_text(&[w.open_shop_free]).await;
    b.shot("open-shop").await;
}

/// Sharing in `w`'s language, from the language's own share shop: its owner makes a share of
/// the product from its share sheet; a friend pastes the 口令 (inside chat text) into the home
/// page's paste box, lands on the product, registers and buys; the owner's "My shares" shows
/// the visit, the binding and the order.
async fn share_tour(b: &mut Browser, w: &Words, seeded: &Seeded) {
    start_run(b, w, "share");
    let product_path = seeded.share_product_path(w);
    sign_in_as(b, w, &sharer_login(w)).await;
    b.goto(&product_path).await;
    b.expect_text(&[w.share]).await;
    b.submit("#share-make").await;
    b.expect_text(&[w.copy_kouling, w.download_poster]).await;
    let kouling = b.client.find(Locator::Css("#share-kouling")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(kouling.starts_with('￥'), "a 口令: {kouling}");
    // The QR code is a real image (the poster link is checked over HTTP in the API tests).
    assert!(b.image_width("share-qr").await > 0, "the QR code did not load");
    b.shot("share-sheet").await;

    // A friend, signed out, picks their language and pastes the whole chat message.
    b.clear_cookies().await;
    b.goto("/").await;
    use_language(b, w).await;
    let (before, after) = w.chat_around_kouling;
    b.fill("#paste-text", &format!("{before}{kouling}{after}")).await;
    b.shot("paste-box").await;
    b.submit("#paste-open").await;
    assert_eq!(b.path().await, product_path, "the 口令 opens the shared product");
    b.expect_text(&[PRODUCT_TITLE]).await;
    b.shot("opened-by-kouling").await;

    // They register (the binding follows them into the account, so the cookies stay) and buy.
    b.goto("/register").await;
    b.expect_text(&[w.register]).await;
    b.fill("#login", &w.phone(88)).await;
    b.fill("#display_name", w.share_friend).await;
    b.fill("#password", "a-good-password").await;
    b.submit("#register-submit").await;
    b.goto(&product_path).await;
    buy_here(b, w).await;

    // The owner sees it in My shares.
    sign_in_as(b, w, &sharer_login(w)).await;
    b.goto("/console/shop/shares").await;
    b.expect_text(&[w.my_shares, w.fission_tree]).await;
    // One friend: one visit, one bound customer (counted once though they signed up), one order.
    for id in ["#share-stats-visits", "#share-stats-bound", "#share-stats-orders"] {
        let text = b.client.find(Locator::Css(id)).await.unwrap().text().await.unwrap();
        assert_eq!(text.trim(), "1", "{id}");
    }
    b.client.find(Locator::Css("svg#fission-tree")).await.expect("the fission tree is drawn");
    b.shot("my-shares").await;

    // A parcel insert card for the next parcels: designed, previewed, ready to print.
    b.goto("/console/shop/card").await;
    b.fill("#card-message", w.card_message).await;
    b.fill("#card-offer", w.card_offer).await;
    b.submit("#card-create").await;
    b.assert_no_error().await;
    assert_eq!(b.image_width("card-preview").await, 1240, "the A6 card preview (1240 px wide at 300 dpi)");
    b.shot("parcel-card").await;
}

/// Registers a new customer in this browser (its cookies cleared first), switching to `w`'s
/// language on the sign-up page first.
async fn register_as(b: &mut Browser, w: &Words, phone: &str, name: &str) {
    b.clear_cookies().await;
    b.goto("/register").await;
    use_language(b, w).await;
    b.expect_text(&[w.register]).await;
    b.fill("#login", phone).await;
    b.fill("#display_name", name).await;
    b.fill("#password", "a-good-password").await;
    b.submit("#register-submit").await;
    b.assert_no_error().await;
}

/// Starts a new run of screenshots for this person.
fn start_run(b: &mut Browser, w: &Words, name: &str) {
    b.run = format!("{}-{name}", w.code);
    b.step = 0;
}

/// On a group order form: fill the address, place the order, pay it in the sandbox, and wait
/// on the order page until it reads `status`.
async fn place_and_pay_group_order(b: &mut Browser, w: &Words, status: &str) {
    b.expect_text(&[w.refund_promise, w.two_person_group, "29.90", "¥35.90"]).await;
    b.fill("#address", GROUP_ADDRESS).await;
    b.shot("group-order-form").await;
    b.submit("#place-group-order").await;
    assert!(b.path().await.starts_with("/orders/"), "not on an order page: {}", b.path().await);
    // ¥29.90 and ¥6.00 shipping (free from ¥49).
    b.expect_text(&[w.awaiting_payment, w.pay_now, "¥29.90", "¥35.90"]).await;
    b.submit("#pay-now").await;
    b.expect_text(&[w.sandbox, &format!("{} ¥35.90", w.confirm_pay)]).await;
    b.shot("group-sandbox-pay").await;
    b.submit("#confirm-pay").await;
    b.wait_for_text("#order-status", status).await;
    b.shot("group-order-paid").await;
}

/// Group buying end to end in `w`'s language, with two browser profiles and new people: A opens
/// a group of two and shares it; B follows the link, signs up, joins and pays; both see the
/// group filled. Then C opens a group nobody joins, the clock passes its deadline, the sweep
/// fails it and the refund job refunds C. The clock stays moved on: a later run opens its own
/// groups, after this one's are settled.
async fn group_tour(a: &mut Browser, b: &mut Browser, w: &Words, app: &App, clock: &ShiftedClock, seeded: &Seeded) {
    let product_path = format!("/shops/{}/products/{}", seeded.shop_id, seeded.product_id);
    start_run(a, w, "group-a");

    // A opens a group from the product page and pays.
    register_as(a, w, &w.phone(101), w.group_leader).await;
    a.goto(&product_path).await;
    a.expect_text(&[w.group_price, "29.90", w.alone_price, w.two_person_group, w.valid_24_hours, w.refund_promise]).await;
    a.shot("product-group-offer").await;
    a.submit("#group-open").await;
    a.expect_text(&[w.open_group_title]).await;
    place_and_pay_group_order(a, w, w.awaiting_group).await;

    // The order leads to the group; A shares it.
    a.submit("#order-group-link").await;
    let group_path = a.path().await;
    assert!(group_path.starts_with("/groups/"), "not on a group page: {group_path}");
    a.expect_text(&[w.group_open, w.one_more_needed, w.leader, w.share]).await;
    a.submit("#share-make").await;
    let link = a.client.find(Locator::Css("#share-url")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(link.contains("/s/"), "a short link: {link}");
    a.shot("group-share-sheet").await;

    // B, in another browser profile (signed out of any earlier run), opens the link: it lands
    // on the group, where B picks their language.
    start_run(b, w, "group-b");
    b.clear_cookies().await;
    b.client.goto(&link).await.unwrap();
    assert_eq!(b.path().await, group_path, "the share lands on the group");
    use_language(b, w).await;
    assert_eq!(b.path().await, group_path, "the language switch comes back to the group");
    b.expect_text(&[w.group_open, w.one_more_needed, &format!("{} ¥29.90", w.join)]).await;
    b.shot("group-from-share").await;
    // Joining asks B to sign in; B signs up instead and comes straight back to the join form.
    b.submit("#group-join").await;
    assert_eq!(b.path().await, "/signin");
    b.submit("#to-register").await;
    b.expect_text(&[w.register]).await;
    b.fill("#login", &w.phone(102)).await;
    b.fill("#display_name", w.group_friend).await;
    b.fill("#password", "a-good-password").await;
    b.shot("group-register").await;
    b.submit("#register-submit").await;
    assert_eq!(b.path().await, format!("{group_path}/join"));
    b.expect_text(&[w.join_title]).await;
    place_and_pay_group_order(b, w, w.to_ship).await;
    b.goto(&group_path).await;
    b.expect_text(&[w.group_filled]).await;
    let filled = b.client.find_all(Locator::Css(".seat.filled")).await.unwrap().len();
    assert_eq!(filled, 2, "two real members, no empty seat");
    b.shot("group-succeeded").await;
    b.goto("/me/inbox").await;
    b.expect_text(&[w.inbox_group_filled]).await;
    b.shot("inbox").await;

    // A sees it too.
    a.goto(&group_path).await;
    a.expect_text(&[w.group_filled, w.leader]).await;
    a.shot("group-succeeded").await;

    // C opens another group that nobody joins.
    register_as(a, w, &w.phone(103), w.group_loner).await;
    a.goto(&product_path).await;
    a.submit("#group-open").await;
    place_and_pay_group_order(a, w, w.awaiting_group).await;
    let order_path = a.path().await;
    a.submit("#order-group-link").await;
    let lonely_path = a.path().await;
    assert_ne!(lonely_path, group_path);
    a.expect_text(&[w.group_open, w.one_more_needed]).await;
    a.shot("group-open-alone").await;

    // A day and an hour later the group has expired: the sweep fails it and refunds C.
    clock.advance_ms(25 * 3_600_000);
    for _ in 0..40 {
        jobs::run_due(app).await.unwrap();
        a.goto(&order_path).await;
        let status = a.client.find(Locator::Css("#order-status")).await.unwrap().text().await.unwrap();
        if status == w.refunded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    a.expect_text(&[w.refunded, w.order_not_filled_refunded]).await;
    a.shot("group-order-refunded").await;
    a.goto(&lonely_path).await;
    a.expect_text(&[w.group_not_filled_refunded]).await;
    a.shot("group-failed").await;
    a.goto("/me/groups").await;
    a.expect_text(&[w.my_groups, w.group_not_filled_refunded]).await;
    a.shot("my-groups").await;

    a.assert_no_console_errors().await;
    b.assert_no_console_errors().await;
}

/// Bargaining end to end in `w`'s language, with two browser profiles and new people: A starts
/// a bargain from the product page and shares it; B follows the link, is asked to sign in,
/// signs up, comes back to the bargain and helps; A sees the price come down by B's cut.
async fn bargain_tour(a: &mut Browser, b: &mut Browser, w: &Words, app: &App, seeded: &Seeded) {
    let product_path = format!("/shops/{}/products/{}", seeded.shop_id, seeded.product_id);
    start_run(a, w, "bargain-a");
    register_as(a, w, &w.phone(201), w.bargain_starter).await;
    a.goto(&product_path).await;
    a.expect_text(&[w.bargain, w.bargain_from, w.bargain_three_friends, w.bargain_start]).await;
    a.shot("product-bargain-offer").await;
    a.submit("#bargain-start").await;
    let bargain_path = a.path().await;
    assert!(bargain_path.starts_with("/bargains/"), "not on a bargain page: {bargain_path}");
    a.expect_text(&[w.bargain_running, "88.00", w.bargain_floor, "0/3", w.bargain_share]).await;
    a.submit("#share-make").await;
    let link = a.client.find(Locator::Css("#share-url")).await.unwrap().prop("value").await.unwrap().unwrap();
    assert!(link.contains("/s/"), "a short link: {link}");
    a.shot("bargain-share-sheet").await;

    // B follows the link to the bargain, picks their language, signs up and comes back to help.
    start_run(b, w, "bargain-b");
    b.clear_cookies().await;
    b.client.goto(&link).await.unwrap();
    assert_eq!(b.path().await, bargain_path, "the share lands on the bargain");
    use_language(b, w).await;
    b.expect_text(&[w.bargain_running, w.bargain_sign_in_to_help]).await;
    b.shot("bargain-from-share").await;
    b.submit("#bargain-sign-in").await;
    assert_eq!(b.path().await, "/signin");
    b.submit("#to-register").await;
    b.expect_text(&[w.register]).await;
    b.fill("#login", &w.phone(202)).await;
    b.fill("#display_name", w.bargain_helper).await;
    b.fill("#password", "a-good-password").await;
    b.submit("#register-submit").await;
    assert_eq!(b.path().await, bargain_path, "back on the bargain after signing up");
    b.submit("#bargain-help").await;
    b.expect_text(&[w.bargain_you_cut, "1/3"]).await;
    b.shot("bargain-helped").await;

    // A sees the new price: the start less B's cut, as the server recorded it.
    let id: sharemall_domain::BargainId = bargain_path.trim_start_matches("/bargains/").parse().unwrap();
    let view = bargains::bargain(app, None, id).await.unwrap();
    assert_eq!(view.helps, 1);
    let price = format!("{}.{:02}", view.current_fen / 100, view.current_fen % 100);
    a.goto(&bargain_path).await;
    a.wait_for_text("#bargain-price", &price).await;
    a.expect_text(&["1/3", w.bargain_helper_public]).await;
    a.shot("bargain-new-price").await;
    a.assert_no_console_errors().await;
    b.assert_no_console_errors().await;
}

/// A browser session with its own profile (cookies, storage), phone-sized, logging the console.
async fn connect(webdriver: &str, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            // Headless windows are at least 500 px wide; emulate the phone's viewport exactly.
            "mobileEmulation": { "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2 } },
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=390,844", "--lang=zh-CN",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    caps.insert("goog:loggingPrefs".into(), serde_json::json!({ "browser": "ALL" }));
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(webdriver)
            .await
        {
            Ok(c) => return c,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("chromedriver did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_buys_and_pays_in_both_languages() {
    if std::env::var("SHAREMALL_BROWSER_TESTS").as_deref() != Ok("1") {
        println!("browser test skipped: set SHAREMALL_BROWSER_TESTS=1 (needs /usr/bin/chromium and /usr/bin/chromedriver)");
        return;
    }

    // The server, on a fresh SQLite file.
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let db = dir.path().join("sharemall.db");
    let clock = ShiftedClock::default();
    let store = Store::open(&StoreConfig { url: db.display().to_string(), readers: 2, batch_max: 256 }, clock.now().millis()).unwrap();
    let config = AppConfig { public_url: format!("http://127.0.0.1:{port}"), ..AppConfig::default() };
    let app = App::new(store, Arc::new(clock.clone()), config).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router(AppState::new(app.clone())), async move {
        let _ = stop_rx.await;
    }));
    let (jobs_stop_tx, jobs_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let job_app = app.clone();
    let job_runner = tokio::spawn(async move {
        jobs::run_until(&job_app, Duration::from_millis(250), async move {
            let _ = jobs_stop_rx.await;
        })
        .await;
    });
    let seeded = seed(&app).await;

    // The browser.
    let driver_port = free_port();
    let _driver = Driver(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let profile = tempfile::tempdir().unwrap();
    let webdriver = format!("http://127.0.0.1:{driver_port}");
    let client = connect(&webdriver, profile.path()).await;
    let mut b = Browser { client, base: format!("http://127.0.0.1:{port}"), run: "zh".into(), step: 0, english: false };

    // Chinese first (the default).
    b.goto("/").await;
    b.expect_text(&["分享购", "首页", "购物车", "订单", "我的", SHOP_NAME]).await;
    buy_flow(&mut b, &ZH, &seeded.shop_id).await;

    // Switch to English with the top bar's switch, then buy again as a new customer.
    b.goto("/").await;
    use_language(&mut b, &EN).await;
    b.run = "en".into();
    b.step = 0;
    b.expect_text(&["Home", "Cart", "Orders", "Featured shops"]).await;
    b.shot("home-switched").await;
    buy_flow(&mut b, &EN, &seeded.shop_id).await;

    // My orders (in English now) lists the paid order.
    b.goto("/orders").await;
    b.expect_text(&["My orders", "To ship", PRODUCT_TITLE]).await;
    b.shot("my-orders").await;

    // The consoles and sharing, in both languages. The two buy flows left two orders to ship,
    // one for each console run's supplier; each share run has its own shop (seeded).
    for w in [&ZH, &EN] {
        console_tour(&mut b, w).await;
    }
    for w in [&ZH, &EN] {
        share_tour(&mut b, w, &seeded).await;
    }
    b.assert_no_console_errors().await;

    // Group buying and bargaining, with a second browser profile for the friend, in both
    // languages. Each group tour moves the clock a day on (after its own groups are settled,
    // and before the next run opens new ones), so they come after the buying; the bargains
    // start afresh after both, well inside their ten-day campaign.
    let friend_profile = tempfile::tempdir().unwrap();
    let mut friend = Browser {
        client: connect(&webdriver, friend_profile.path()).await,
        base: b.base.clone(),
        run: String::new(),
        step: 0,
        english: false,
    };
    for w in [&ZH, &EN] {
        group_tour(&mut b, &mut friend, w, &app, &clock, &seeded).await;
    }
    for w in [&ZH, &EN] {
        bargain_tour(&mut b, &mut friend, w, &app, &seeded).await;
    }
    friend.client.close().await.unwrap();
    for w in [&ZH, &EN] {
        returns_tour(&mut b, w, &app, &seeded).await;
    }
    b.assert_no_console_errors().await;

    b.client.close().await.unwrap();
    let _ = jobs_stop_tx.send(());
    let _ = stop_tx.send(());
    let _ = job_runner.await;
    let _ = server.await;
}
