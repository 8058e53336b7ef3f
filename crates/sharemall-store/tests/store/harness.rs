//! A fresh store per test, on each backend, and builders that seed the catalogue.

use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::{ErrorCode, Money, ProductId, ShopId, SkuId, SupplierId, Timestamp, UserId};
use sharemall_store::model::OrderPlaced;
use sharemall_store::ops::accounts::{self, NewUser};
use sharemall_store::ops::catalog::{self, NewProduct};
use sharemall_store::ops::orders::PlaceOrder;
use sharemall_store::ops::{check, shops};
use sharemall_store::{Store, StoreConfig, params};
use std::path::PathBuf;

/// The environment variable naming the PostgreSQL server to test against.
pub const POSTGRES_ENV: &str = "SHAREMALL_TEST_POSTGRES_URL";

/// A fixed "now" for seeding; tests move it forward explicitly.
pub const T0: Timestamp = Timestamp(1_800_000_000_000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// Generates `mod $name { fn sqlite(); fn postgres(); }`: the body runs once per backend. The
/// PostgreSQL variant passes without running when the environment variable is unset, and fails
/// when it is set but the server cannot be reached.
macro_rules! backend_test {
    ($(#[$meta:meta])* async fn $name:ident($h:ident: Harness) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($h: $crate::harness::Harness) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                run($crate::harness::Harness::open($crate::harness::Kind::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if $crate::harness::postgres_url().is_some() {
                    run($crate::harness::Harness::open($crate::harness::Kind::Postgres).await).await;
                }
            }
        }
    };
}

pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|v| !v.trim().is_empty())
}

enum Cleanup {
    Dir(PathBuf),
    Schema { admin_url: String, schema: String },
}

/// One test's database and the store opened on it.
pub struct Harness {
    pub kind: Kind,
    pub store: Store,
    /// The URL the store was opened with: open another store on the same database with it.
    pub url: String,
    cleanup: Cleanup,
}

fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn with_search_path(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// Runs blocking work (the synchronous `postgres` client, `Store::open`) off the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task panicked")
}

pub async fn open_store(url: &str) -> Store {
    let config = StoreConfig { url: url.to_string(), readers: 1, batch_max: 256 };
    blocking(move || Store::open(&config, T0.millis())).await.unwrap_or_else(|e| panic!("cannot open the store: {e}"))
}

impl Harness {
    pub async fn open(kind: Kind) -> Harness {
        let (url, cleanup) = match kind {
            Kind::Sqlite => {
                let dir = std::env::temp_dir().join(format!("sharemall-store-test-{}", random_suffix()));
                std::fs::create_dir_all(&dir).expect("temp dir");
                (format!("sqlite://{}", dir.join("store.db").display()), Cleanup::Dir(dir))
            }
            Kind::Postgres => {
                let base = postgres_url().unwrap_or_else(|| panic!("{POSTGRES_ENV} is not set"));
                let schema = format!("t_{}", random_suffix());
                let (admin, name) = (base.clone(), schema.clone());
                blocking(move || {
                    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                        .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable at {admin}: {e}"));
                    client.batch_execute(&format!("CREATE SCHEMA {name}")).unwrap_or_else(|e| panic!("cannot create schema {name}: {e}"));
                })
                .await;
                (with_search_path(&base, &schema), Cleanup::Schema { admin_url: base, schema })
            }
        };
        let store = open_store(&url).await;
        Harness { kind, store, url, cleanup }
    }

    /// Several seeds on SQLite, fewer on PostgreSQL (each round trip costs there).
    pub fn seeds(&self, sqlite: u64, postgres: u64) -> u64 {
        match self.kind {
            Kind::Sqlite => sqlite,
            Kind::Postgres => postgres,
        }
    }

    pub async fn user(&self, role: Role) -> UserId {
        let login = LoginId::parse(&format!("u{}@test.example", random_suffix())).expect("login");
        let new = NewUser { login, password_hash: "$dummy$hash".into(), display_name: "Test user".into(), roles: vec![role] };
        self.store.write(move |sql| accounts::create_user(sql, T0, new)).await.expect("create user")
    }

    /// An approved supplier and its owner.
    pub async fn supplier(&self) -> (UserId, SupplierId) {
        let owner = self.user(Role::Customer).await;
        let supplier = self
            .store
            .write(move |sql| {
                let id = catalog::create_supplier(sql, T0, owner, "Test supplier", "contact@test.example")?;
                catalog::set_supplier_approval(sql, id, Approval::Approved)?;
                Ok(id)
            })
            .await
            .expect("create supplier");
        (owner, supplier)
    }

    /// An approved product with one SKU at `price_fen` (supply price 60%) and `stock` units.
    pub async fn product(&self, supplier: SupplierId, price_fen: i64, stock: i64) -> (ProductId, SkuId) {
        let sku = NewSku {
            attributes: "颜色:红色".into(),
            supply_price: Money::from_fen(price_fen * 6 / 10),
            retail_price: Money::from_fen(price_fen),
            commission_bps: 1_000,
            stock,
            returnable: true,
        }
        .validate()
        .expect("valid SKU");
        let new = NewProduct {
            title: "Test product".into(),
            description: "A product".into(),
            category: "test".into(),
            image_hue: 120,
            skus: vec![sku],
        };
        self.store
            .write(move |sql| {
                let product = catalog::create_product(sql, T0, supplier, new)?;
                catalog::set_product_approval(sql, T0, product, Approval::Approved)?;
                let sku: SkuId = sql.query_one("SELECT id FROM skus WHERE product_id = $1", params![product])?.id(0)?;
                Ok((product, sku))
            })
            .await
            .expect("create product")
    }

    /// A shop that picked `products`.
    pub async fn shop(&self, products: &[ProductId]) -> ShopId {
        let owner = self.user(Role::Customer).await;
        let products = products.to_vec();
        self.store
            .write(move |sql| {
                let shop = shops::open_shop(sql, T0, owner, "Test shop", "Welcome", None)?;
                for product in products {
                    shops::pick_product(sql, T0, shop, product)?;
                }
                Ok(shop)
            })
            .await
            .expect("open shop")
    }

    /// A supplier with `skus` products of `stock` each at `price_fen`, a shop selling them all,
    /// and `customers` customers.
    pub async fn fixture(&self, skus: usize, price_fen: i64, stock: i64, customers: usize) -> Fixture {
        let (_, supplier) = self.supplier().await;
        let mut products = Vec::new();
        let mut sku_ids = Vec::new();
        for _ in 0..skus {
            let (product, sku) = self.product(supplier, price_fen, stock).await;
            products.push(product);
            sku_ids.push(sku);
        }
        let shop = self.shop(&products).await;
        let mut customer_ids = Vec::new();
        for _ in 0..customers {
            customer_ids.push(self.user(Role::Customer).await);
        }
        Fixture { supplier, products, skus: sku_ids, shop, customers: customer_ids }
    }

    /// (available, reserved, sold) of a SKU.
    pub async fn stock(&self, sku: SkuId) -> (i64, i64, i64) {
        self.store
            .read(move |sql| {
                let row = sql.query_one("SELECT stock_available, stock_reserved, stock_sold FROM skus WHERE id = $1", params![sku])?;
                Ok((row.i64(0)?, row.i64(1)?, row.i64(2)?))
            })
            .await
            .expect("read stock")
    }

    pub async fn count(&self, query: &'static str) -> i64 {
        self.store.read(move |sql| sql.query_i64(query, params![])).await.expect("count")
    }

    /// The id in the first column of the first row `query` returns.
    pub async fn id_of<T: std::str::FromStr + Send + 'static>(&self, query: String) -> T {
        let text = self.store.read(move |sql| sql.query_one(&query, params![])?.text(0)).await.expect("id query");
        text.parse().unwrap_or_else(|_| panic!("not an id: {text}"))
    }

    /// Asserts that every invariant `sharemall check` verifies holds.
    pub async fn assert_consistent(&self, context: &str) {
        let results = self.store.read(check::check_all).await.expect("check_all");
        let broken: Vec<_> =
            results.iter().filter(|r| !r.violations.is_empty()).map(|r| format!("{}: {:?}", r.name, r.violations)).collect();
        assert!(broken.is_empty(), "[{:?}] {context}: invariants violated: {broken:#?}", self.kind);
    }

    pub async fn place(&self, now: Timestamp, cmd: PlaceOrder) -> OrderPlaced {
        self.place_result(now, cmd).await.unwrap_or_else(|e| panic!("[{:?}] place_order: {e}", self.kind))
    }

    pub async fn place_result(&self, now: Timestamp, cmd: PlaceOrder) -> Result<OrderPlaced, sharemall_domain::Error> {
        self.store.place_order(now, cmd, None).await
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Keep the database of a failed test for inspection.
            return;
        }
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
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
}

pub struct Fixture {
    pub supplier: SupplierId,
    pub products: Vec<ProductId>,
    pub skus: Vec<SkuId>,
    pub shop: ShopId,
    pub customers: Vec<UserId>,
}

impl Fixture {
    pub fn order(&self, customer: UserId, lines: Vec<(SkuId, i64)>, order_no: String) -> PlaceOrder {
        PlaceOrder {
            customer,
            shop: self.shop,
            lines,
            recipient: "张三".into(),
            phone: "13800000000".into(),
            address: "上海市 浦东新区 1 号".into(),
            note: String::new(),
            order_no,
            pay_window_ms: sharemall_domain::order::DEFAULT_PAY_WINDOW_MS,
            shipping: ShippingRule { flat_fee: Money::from_fen(800), free_at_or_above: Money::from_fen(9_900) },
            from_cart: false,
            activity: None,
        }
    }
}

/// A unique order number.
pub fn order_no(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:06}{}", random_suffix())
}

/// The code of an error result, or `None` for success.
pub fn code<T>(result: &Result<T, sharemall_domain::Error>) -> Option<ErrorCode> {
    result.as_ref().err().map(|e| e.code)
}
