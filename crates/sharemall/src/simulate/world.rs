//! One seed's world: a fresh store on a temporary SQLite file, an app on a fake clock, and the
//! people and goods the steps act on. Everything is derived from the seed, so a seed builds
//! the same world every time.

use rand::Rng;
use rand::rngs::StdRng;
use sharemall_app::App;
use sharemall_app::clock::FakeClock;
use sharemall_app::config::AppConfig;
use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::compliance::CommissionPolicy;
use sharemall_domain::{Money, OrderId, ShopId, SkuId, Timestamp, WithdrawalId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::accounts::{self, NewUser};
use sharemall_store::ops::catalog::{self, NewProduct};
use sharemall_store::ops::{policy, shops};
use sharemall_store::{Store, StoreConfig, params};
use std::sync::Arc;

use crate::bench::harness::{TempDir, temp_dir_in};

/// Where every seed starts: 2027-01-15 08:00 UTC.
pub const EPOCH: Timestamp = Timestamp(1_800_000_000_000);

pub struct World {
    pub app: Arc<App>,
    pub clock: FakeClock,
    pub operator: SessionUser,
    pub suppliers: Vec<SessionUser>,
    pub owners: Vec<SessionUser>,
    pub shops: Vec<ShopId>,
    pub customers: Vec<SessionUser>,
    pub skus: Vec<SkuId>,
    /// Every order placed, in order: steps pick among them by position, never by id order.
    pub orders: Vec<OrderId>,
    pub withdrawals: Vec<WithdrawalId>,
    _dir: TempDir,
}

/// Builds a seed's world: an operator, two suppliers with two products each (one of them
/// fresh food, not returnable without a reason), two shops selling everything, four
/// customers, and, for about half the seeds, a depth-2 policy under which the first shop's
/// owner invited the second.
pub async fn build(rng: &mut StdRng) -> anyhow::Result<World> {
    // A memory-backed directory when there is one: the simulation measures logic, not fsync.
    let dir = temp_dir_in(std::path::Path::new("/dev/shm")).or_else(|_| crate::bench::harness::temp_dir())?;
    let url = format!("sqlite://{}", dir.0.join("sim.db").display());
    let config = StoreConfig { url, readers: 1, batch_max: 16 };
    let store = tokio::task::spawn_blocking(move || Store::open(&config, EPOCH.millis())).await??;
    let clock = FakeClock::at(EPOCH);
    let app = App::new(store, Arc::new(clock.clone()), AppConfig::default())?;
    let now = EPOCH;

    let mut users = Vec::new();
    for (i, role) in
        [Role::Operator, Role::Supplier, Role::Supplier, Role::Customer, Role::Customer].into_iter().chain([Role::Customer; 4]).enumerate()
    {
        let name = format!("sim{i}");
        let login = LoginId::parse(&format!("{name}@sim.sharemall"))?;
        let new = NewUser { login, password_hash: "sim-no-password".into(), display_name: name.clone(), roles: vec![role] };
        let id = app.store.write(move |sql| accounts::create_user(sql, now, new)).await?;
        users.push(id);
    }

    // (retail fen, returnable) per product; supply is 60% and the commission 5–30%.
    let goods = [(1_990, true), (2_990, true), (9_900, true), (350, false)];
    let mut products = Vec::new();
    let mut skus = Vec::new();
    for (i, &owner) in users[1..3].iter().enumerate() {
        let id = app
            .store
            .write(move |sql| {
                let id = catalog::create_supplier(sql, now, owner, &format!("模拟供应商 {i}"), "sim@sharemall.test")?;
                catalog::set_supplier_approval(sql, id, Approval::Approved)?;
                Ok(id)
            })
            .await?;
        for &(retail, returnable) in &goods[i * 2..i * 2 + 2] {
            let sku = NewSku {
                attributes: "规格:标准".into(),
                supply_price: Money::from_fen(retail * 6 / 10),
                retail_price: Money::from_fen(retail),
                commission_bps: rng.random_range(5..=30) * 100,
                stock: rng.random_range(20..=120),
                returnable,
            }
            .validate()?;
            let new = NewProduct {
                title: format!("模拟商品 {retail}"),
                description: "模拟".into(),
                category: "sim".into(),
                image_hue: 30,
                skus: vec![sku],
            };
            let (product, sku) = app
                .store
                .write(move |sql| {
                    let product = catalog::create_product(sql, now, id, new)?;
                    catalog::set_product_approval(sql, now, product, Approval::Approved)?;
                    let sku: SkuId = sql.query_one("SELECT id FROM skus WHERE product_id = $1", params![product])?.id(0)?;
                    Ok((product, sku))
                })
                .await?;
            products.push(product);
            skus.push(sku);
        }
    }

    let mut shop_ids = Vec::new();
    for (i, &user) in users[3..5].iter().enumerate() {
        let products = products.clone();
        let shop = app
            .store
            .write(move |sql| {
                let shop = shops::open_shop(sql, now, user, &format!("模拟小店 {i}"), "欢迎", None)?;
                for product in products {
                    shops::pick_product(sql, now, shop, product)?;
                }
                Ok(shop)
            })
            .await?;
        shop_ids.push(shop);
    }
    if rng.random_bool(0.5) {
        let (inviter, invited) = (users[3], shop_ids[1]);
        let policy = CommissionPolicy {
            depth: 2,
            rate_bps: 2_500,
            second_level_rate_bps: 300,
            acknowledge_second_level_risk: true,
            settle_buffer_days: rng.random_range(0..=3),
            ..CommissionPolicy::DEFAULT
        };
        app.store
            .write(move |sql| {
                sql.execute("UPDATE shops SET invited_by = $1 WHERE id = $2", params![inviter, invited])?;
                policy::save(sql, now, None, &policy).map(|_| ())
            })
            .await?;
    }
    // Everyone as a session sees them (roles, shop, supplier), read back from the store.
    let sessions = app.store.read(move |sql| users.iter().map(|&u| accounts::load_user(sql, u)).collect::<Result<Vec<_>, _>>()).await?;
    Ok(World {
        app,
        clock,
        operator: sessions[0].clone(),
        suppliers: sessions[1..3].to_vec(),
        owners: sessions[3..5].to_vec(),
        shops: shop_ids,
        customers: sessions[5..].to_vec(),
        skus,
        orders: Vec::new(),
        withdrawals: Vec::new(),
        _dir: dir,
    })
}
