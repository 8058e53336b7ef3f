//! `spawn_app`: the real server on 127.0.0.1:0 with a fresh database per test (a temporary
//! SQLite file, or a fresh PostgreSQL schema when `SHAREMALL_TEST_POSTGRES_URL` is set), a fake
//! clock, and builders that arrange users, products and shops through the API itself.

use serde_json::{Value, json};
use sharemall_app::App;
use sharemall_app::clock::FakeClock;
use sharemall_app::config::AppConfig;
use sharemall_app::sandbox::{self, MERCHANT_ID, PaymentNotice};
use sharemall_domain::Timestamp;
use sharemall_domain::account::Role;
use sharemall_store::ops::check;
use sharemall_store::{Store, StoreConfig};
use sharemall_web::AppState;
use std::sync::Arc;
use tokio::sync::{OnceCell, oneshot};

/// The environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "SHAREMALL_TEST_POSTGRES_URL";

/// Where every test's clock starts: 2026-03-02 10:00 Beijing time.
pub const T0: Timestamp = Timestamp(1_772_416_800_000);

pub const PASSWORD: &str = "correct horse battery";

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|v| !v.trim().is_empty())
}

pub fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub fn new_key() -> String {
    format!("key-{}", random_suffix())
}

enum TestDb {
    Sqlite(#[expect(dead_code, reason = "held so the directory lives as long as the app")] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

/// One running server and what a test needs to drive it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    pub client: reqwest::Client,
    pub app: Arc<App>,
    pub clock: FakeClock,
    pub backend: &'static str,
    operator: OnceCell<String>,
    db: TestDb,
    _shutdown: oneshot::Sender<()>,
}

/// A response read whole: status, the raw text, and the JSON (`Null` when not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub text: String,
    pub json: Value,
    pub content_type: String,
}

impl Resp {
    /// The stable error code of an error envelope, or "" if there is none.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts a success status.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected 200, got {} {}", self.status, self.text);
        &self.json
    }

    /// Asserts an error envelope with `status` and `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "unexpected answer: {} {}", self.status, self.text);
        assert!(self.content_type.starts_with("application/json"), "error is not JSON: {}", self.content_type);
    }
}

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Actor {
    pub token: String,
    pub user_id: String,
}

#[derive(Debug, Clone)]
pub struct SupplierActor {
    pub actor: Actor,
    pub supplier_id: String,
}

#[derive(Debug, Clone)]
pub struct ProductRef {
    pub product_id: String,
    pub sku_id: String,
}

#[derive(Debug, Clone)]
pub struct ShopActor {
    pub actor: Actor,
    pub shop_id: String,
}

/// A supplier with one approved product, a shop carrying it, and a customer.
pub struct Fixture {
    pub supplier: SupplierActor,
    pub product: ProductRef,
    pub shop: ShopActor,
    pub customer: Actor,
}

fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with the app's settings adjusted by `configure` (the public URL is set
/// before it runs).
pub async fn spawn_app_with(configure: impl FnOnce(&mut AppConfig)) -> TestApp {
    let (url, db, backend) = match postgres_url() {
        None => {
            let dir = tempfile::Builder::new().prefix("sharemall-api-test-").tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("sharemall.db").display());
            (url, TestDb::Sqlite(dir), "sqlite")
        }
        Some(base) => {
            let schema = format!("t_{}", random_suffix());
            let (admin, name) = (base.clone(), schema.clone());
            tokio::task::spawn_blocking(move || {
                let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable at {admin}: {e}"));
                client.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap_or_else(|e| panic!("cannot create schema {name}: {e}"));
            })
            .await
            .expect("schema task");
            (with_search_path(&base, &schema), TestDb::Postgres { admin_url: base, schema }, "postgres")
        }
    };
    let clock = FakeClock::at(T0);
    let config = StoreConfig { url, readers: 2, batch_max: 256 };
    let store = tokio::task::spawn_blocking(move || Store::open(&config, T0.millis()))
        .await
        .expect("store task")
        .unwrap_or_else(|e| panic!("cannot open the {backend} store: {e}"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let address = format!("http://127.0.0.1:{port}");
    let mut config = AppConfig { public_url: address.clone(), ..AppConfig::default() };
    configure(&mut config);
    let app = App::new(store, Arc::new(clock.clone()), config).expect("app");
    let router = sharemall_web::router(AppState::new(Arc::clone(&app)));
    let (shutdown, stop) = oneshot::channel::<()>();
    tokio::spawn(sharemall_web::serve(listener, router, async move {
        let _ = stop.await;
    }));
    // The WeChat crate's builder: the app's TLS backend makes a bare reqwest builder panic
    // unless a rustls provider is installed (see `sharemall_wechatpay::http_client_builder`).
    let client =
        sharemall_wechatpay::http_client_builder().expect("tls").redirect(reqwest::redirect::Policy::none()).build().expect("client");
    TestApp { address, client, app, clock, backend, operator: OnceCell::new(), db, _shutdown: shutdown }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return; // keep a failed test's schema for inspection
        }
        if let TestDb::Postgres { admin_url, schema } = &self.db {
            let (admin, schema) = (admin_url.clone(), schema.clone());
            // The synchronous client may not run on an async worker thread.
            let _ = std::thread::spawn(move || {
                if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                    let _ = client.batch_execute(&format!("SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            })
            .join();
        }
    }
}

pub fn order_body(shop_id: &str, sku_id: &str, quantity: i64) -> Value {
    json!({
        "shop_id": shop_id,
        "items": [{"sku_id": sku_id, "quantity": quantity}],
        "recipient": "张三",
        "phone": "13800138000",
        "address": "上海市浦东新区世纪大道 100 号",
    })
}

impl TestApp {
    /// `/api/v1/...` paths and absolute paths (`/healthz`) both work.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/api/v1{path}"))
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        read(request.send().await.expect("request failed")).await
    }

    pub fn with_token(request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Self::with_token(self.client.get(self.api(path)), token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(Self::with_token(self.client.post(self.api(path)), token).json(body)).await
    }

    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Resp {
        self.send(self.client.post(self.api(path)).bearer_auth(token).header("idempotency-key", key).json(body)).await
    }

    /// POSTs raw bytes as JSON (malformed bodies, exact replays).
    pub async fn post_raw(&self, path: &str, token: Option<&str>, key: Option<&str>, body: Vec<u8>) -> Resp {
        let mut request = Self::with_token(self.client.post(self.api(path)), token).header("content-type", "application/json").body(body);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(Self::with_token(self.client.put(self.api(path)), token).json(body)).await
    }

    // ----- builders -----

    /// Makes a share as `token` with `body` (`POST /shares`); returns its code.
    pub async fn share_code(&self, token: &str, body: &Value) -> String {
        self.post("/shares", Some(token), body).await.ok()["code"].as_str().expect("a share code").to_string()
    }

    pub async fn register_customer(&self) -> Actor {
        let login = format!("c{}@test.example", random_suffix());
        let resp = self.post("/auth/register", None, &json!({"login": login, "password": PASSWORD, "display_name": "测试顾客"})).await;
        let body = resp.ok();
        Actor { token: body["token"].as_str().expect("token").into(), user_id: body["user"]["user_id"].as_str().expect("user id").into() }
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Resp {
        self.post("/auth/sign-in", None, &json!({"login": login, "password": password})).await
    }

    /// An operator account (created directly: operators cannot sign up), signed in via the API.
    pub async fn operator(&self) -> String {
        self.operator
            .get_or_init(|| async {
                let login = format!("op{}@test.example", random_suffix());
                sharemall_app::accounts::create_user(&self.app, &login, PASSWORD, "运营", vec![Role::Operator, Role::Customer])
                    .await
                    .expect("create operator");
                let resp = self.sign_in(&login, PASSWORD).await;
                resp.ok()["token"].as_str().expect("token").to_string()
            })
            .await
            .clone()
    }

    /// A registered user who applied as a supplier and was approved by an operator.
    pub async fn supplier(&self) -> SupplierActor {
        let actor = self.register_customer().await;
        let resp = self.post("/suppliers", Some(&actor.token), &json!({"name": "测试供应商", "contact": "supply@test.example"})).await;
        let supplier_id = resp.ok()["id"].as_str().expect("supplier id").to_string();
        let operator = self.operator().await;
        self.post(&format!("/operator/suppliers/{supplier_id}/approval"), Some(&operator), &json!({"approval": "approved"})).await.ok();
        SupplierActor { actor, supplier_id }
    }

    /// A product submitted by `supplier` with one SKU, not yet reviewed.
    pub async fn draft_product(&self, supplier: &SupplierActor, retail_fen: i64, stock: i64) -> ProductRef {
        let body = json!({
            "title": "有机高山绿茶 250g",
            "description": "明前采摘",
            "category": "茶叶",
            "skus": [{
                "attributes": "规格:250g",
                "supply_fen": retail_fen * 6 / 10,
                "retail_fen": retail_fen,
                "commission_bps": 1000,
                "stock": stock,
                "returnable": true
            }]
        });
        let resp = self.post("/supplier/products", Some(&supplier.actor.token), &body).await;
        let product_id = resp.ok()["id"].as_str().expect("product id").to_string();
        let list = self.get("/supplier/products?per_page=100", Some(&supplier.actor.token)).await;
        let sku_id = list
            .ok()
            .as_array()
            .expect("product list")
            .iter()
            .find(|p| p["id"] == product_id.as_str())
            .expect("new product listed")["skus"][0]["id"]
            .as_str()
            .expect("sku id")
            .to_string();
        ProductRef { product_id, sku_id }
    }

    /// A product approved by an operator: on sale.
    pub async fn product(&self, supplier: &SupplierActor, retail_fen: i64, stock: i64) -> ProductRef {
        let product = self.draft_product(supplier, retail_fen, stock).await;
        let operator = self.operator().await;
        self.post(&format!("/operator/products/{}/approval", product.product_id), Some(&operator), &json!({"approval": "approved"}))
            .await
            .ok();
        product
    }

    /// A new user's shop carrying `products`.
    pub async fn shop(&self, products: &[&ProductRef]) -> ShopActor {
        let actor = self.register_customer().await;
        let resp = self.post("/shops", Some(&actor.token), &json!({"name": "小王的好物店", "intro": "欢迎"})).await;
        let shop_id = resp.ok()["id"].as_str().expect("shop id").to_string();
        for product in products {
            self.post("/shop/products", Some(&actor.token), &json!({"product_id": product.product_id})).await.ok();
        }
        ShopActor { actor, shop_id }
    }

    pub async fn fixture(&self, retail_fen: i64, stock: i64) -> Fixture {
        let supplier = self.supplier().await;
        let product = self.product(&supplier, retail_fen, stock).await;
        let shop = self.shop(&[&product]).await;
        let customer = self.register_customer().await;
        Fixture { supplier, product, shop, customer }
    }

    // ----- actions -----

    pub async fn place_order(&self, token: &str, shop_id: &str, sku_id: &str, quantity: i64) -> Resp {
        self.post_with_key("/orders", token, &new_key(), &order_body(shop_id, sku_id, quantity)).await
    }

    /// Places an order that must succeed; returns its id.
    pub async fn placed_order(&self, token: &str, shop_id: &str, sku_id: &str, quantity: i64) -> String {
        self.place_order(token, shop_id, sku_id, quantity).await.ok()["order_id"].as_str().expect("order id").to_string()
    }

    /// Starts a sandbox payment; returns the `PaymentStarted` body.
    pub async fn start_payment(&self, token: &str, order_id: &str) -> Value {
        self.post_with_key(&format!("/orders/{order_id}/payments"), token, &new_key(), &json!({"provider": "sandbox"})).await.ok().clone()
    }

    /// Pays an order the way a person does: start, then "press pay" on the sandbox page, which
    /// delivers the signed callback to the server over HTTP.
    pub async fn pay(&self, token: &str, order_id: &str) {
        let started = self.start_payment(token, order_id).await;
        let txn = txn_id(&started);
        sandbox::confirm(&self.app, &txn).await.expect("sandbox confirm");
    }

    pub async fn order(&self, token: &str, order_id: &str) -> Value {
        self.get(&format!("/orders/{order_id}"), Some(token)).await.ok().clone()
    }

    pub async fn order_status(&self, token: &str, order_id: &str) -> String {
        self.order(token, order_id).await["status"].as_str().expect("status").to_string()
    }

    /// Delivers a sandbox callback with explicit signing inputs.
    pub async fn deliver_callback(&self, body: &[u8], key: &str, timestamp: i64, nonce: &str) -> Resp {
        let ts = timestamp.to_string();
        let signature = sandbox::sign(key, &ts, nonce, body);
        self.deliver_signed(body, &ts, nonce, &signature).await
    }

    pub async fn deliver_signed(&self, body: &[u8], timestamp: &str, nonce: &str, signature: &str) -> Resp {
        let request = self
            .client
            .post(self.api("/payments/sandbox/notify"))
            .header("content-type", "application/json")
            .header(sandbox::HEADER_TIMESTAMP, timestamp)
            .header(sandbox::HEADER_NONCE, nonce)
            .header(sandbox::HEADER_SIGNATURE, signature)
            .body(body.to_vec());
        self.send(request).await
    }

    pub fn now(&self) -> i64 {
        self.app.now().millis()
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock.advance_ms(ms);
    }

    /// Runs due jobs until none is left (bounded).
    pub async fn run_jobs(&self) -> usize {
        let mut total = 0;
        for _ in 0..20 {
            let ran = sharemall_app::jobs::run_due(&self.app).await.expect("run jobs");
            if ran == 0 {
                break;
            }
            total += ran;
        }
        total
    }

    pub async fn count(&self, query: &'static str) -> i64 {
        self.app.store.read(move |sql| sql.query_i64(query, &[])).await.expect("count")
    }

    /// (available, reserved, sold) of a SKU.
    pub async fn stock(&self, sku_id: &str) -> (i64, i64, i64) {
        let sku: sharemall_domain::SkuId = sku_id.parse().expect("sku id");
        self.app
            .store
            .read(move |sql| {
                let row = sql.query_one(
                    "SELECT stock_available, stock_reserved, stock_sold FROM skus WHERE id = $1",
                    sharemall_store::params![sku],
                )?;
                Ok((row.i64(0)?, row.i64(1)?, row.i64(2)?))
            })
            .await
            .expect("read stock")
    }

    /// Every invariant `sharemall check` verifies holds.
    pub async fn assert_consistent(&self) {
        let results = self.app.store.read(check::check_all).await.expect("check_all");
        let broken: Vec<String> =
            results.iter().filter(|r| !r.violations.is_empty()).map(|r| format!("{}: {:?}", r.name, r.violations)).collect();
        assert!(broken.is_empty(), "[{}] invariants violated: {broken:#?}", self.backend);
    }
}

/// The sandbox transaction id: the last path segment of `pay_url`.
pub fn txn_id(started: &Value) -> String {
    let pay_url = started["pay_url"].as_str().expect("pay_url");
    pay_url.rsplit('/').next().expect("txn id").to_string()
}

/// A "payment succeeded" notice body as the sandbox provider sends it.
pub fn notice_body(started: &Value, amount_fen: i64) -> Vec<u8> {
    let notice = PaymentNotice {
        event: "payment.succeeded".into(),
        merchant_id: MERCHANT_ID.into(),
        out_trade_no: started["payment"]["out_trade_no"].as_str().expect("out_trade_no").into(),
        transaction_id: txn_id(started),
        amount_fen,
        currency: "CNY".into(),
    };
    serde_json::to_vec(&notice).expect("notice json")
}

pub async fn read(response: reqwest::Response) -> Resp {
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = response.text().await.expect("read body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, text, json, content_type }
}
