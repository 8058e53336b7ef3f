//! `serve --demo`: fills an empty database with a believable platform — suppliers with the demo
//! catalogue, shops, customers and orders in every state — through the same use cases the API
//! calls, so the demo is also a smoke test of the whole write path.

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use sharemall_app::accounts::{create_user, reload};
use sharemall_app::catalog::{add_products, apply_as_supplier, set_product_approval, set_supplier_approval};
use sharemall_app::demo::catalog::{SUPPLIERS, to_new_product};
use sharemall_app::orders::{Checkout, confirm_receipt, place_order, ship};
use sharemall_app::payments::{PROVIDER_SANDBOX, start_payment};
use sharemall_app::{App, sandbox, shares, shops};
use sharemall_domain::account::Role;
use sharemall_domain::catalog::Approval;
use sharemall_domain::{Error, ErrorCode, ProductId};
use sharemall_store::model::SessionUser;
use std::sync::Arc;

pub const PASSWORD: &str = "sharemall-demo";
const OPERATOR: &str = "operator@sharemall.demo";
const SHOPS: [(&str, &str, &str, &str); 3] = [
    ("13800000001", "林晓", "小林的好物铺", "每一件都是我自己用过才推荐的好东西。"),
    ("13800000002", "阿梅", "阿梅家乡味", "赣南老家的脐橙和土特产，产地直发。"),
    ("13800000003", "陈宝妈", "宝妈严选", "两个娃的妈妈，只选安心的母婴和家居好物。"),
];
const CUSTOMERS: [(&str, &str); 5] =
    [("13900000001", "王芳"), ("13900000002", "李强"), ("13900000003", "张伟"), ("13900000004", "刘洋"), ("13900000005", "陈静")];
const ADDRESSES: [&str; 5] = [
    "上海市浦东新区世纪大道100号",
    "北京市朝阳区建国路88号",
    "广州市天河区体育西路191号",
    "杭州市西湖区文三路259号",
    "成都市武侯区人民南路四段1号",
];

/// Seeds the demo platform unless it is already there.
pub async fn seed(app: &Arc<App>) -> anyhow::Result<()> {
    match create_user(app, OPERATOR, PASSWORD, "平台运营", vec![Role::Operator, Role::Customer]).await {
        Ok(operator) => seed_platform(app, &operator).await?,
        Err(e) if e.code == ErrorCode::AccountExists => println!("demo data already present"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

async fn seed_platform(app: &Arc<App>, operator: &SessionUser) -> Result<(), Error> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_261_125);
    let mut suppliers = Vec::new();
    let mut product_ids: Vec<ProductId> = Vec::new();
    for (i, demo) in SUPPLIERS.iter().enumerate() {
        let user = create_user(app, &format!("supplier{}@sharemall.demo", i + 1), PASSWORD, demo.contact, vec![Role::Customer]).await?;
        let supplier_id = apply_as_supplier(app, &user, demo.name, demo.contact).await?;
        set_supplier_approval(app, operator, supplier_id, Approval::Approved).await?;
        let products = demo.products.iter().map(to_new_product).collect::<Result<Vec<_>, _>>()?;
        let ids = add_products(app, supplier_id, products).await?;
        for id in &ids {
            set_product_approval(app, operator, *id, Approval::Approved).await?;
        }
        product_ids.extend(ids);
        suppliers.push(reload(app, &user).await?);
    }
    let mut shop_owners = Vec::new();
    for (login, name, shop_name, intro) in SHOPS {
        let owner = create_user(app, login, PASSWORD, name, vec![Role::Customer]).await?;
        shops::open_shop(app, &owner, shop_name, intro, None).await?;
        let owner = reload(app, &owner).await?;
        let mut picks = product_ids.clone();
        picks.shuffle(&mut rng);
        for product in picks.iter().take(rng.random_range(14..=22)) {
            shops::pick_product(app, &owner, *product).await?;
        }
        shop_owners.push(owner);
    }
    let mut customers = Vec::new();
    for (login, name) in CUSTOMERS {
        customers.push(create_user(app, login, PASSWORD, name, vec![Role::Customer]).await?);
    }
    seed_shares(app, &customers, &shop_owners).await?;
    seed_orders(app, &mut rng, &customers, &shop_owners, &suppliers).await?;
    crate::demo_activities::seed(app, operator, &shop_owners, &customers).await
}

/// Each shop owner shares their shop into a chat; customers follow the links (binding to that
/// shop), and one of them re-shares it, so the fission tree has a second level.
async fn seed_shares(app: &Arc<App>, customers: &[SessionUser], owners: &[SessionUser]) -> Result<(), Error> {
    use sharemall_domain::share::{Channel, ShareCode};
    for (i, owner) in owners.iter().enumerate() {
        let Some(shop) = owner.shop_id else { continue };
        let root = shares::create(app, owner, shop, None, Channel::Chat, None, None).await?;
        let Some(first) = customers.get(i) else { continue };
        shares::follow(app, &root.code, &format!("u:{}", first.user_id), "Mozilla/5.0 (iPhone) MicroMessenger/8.0", "demo").await?;
        let parent = ShareCode::parse(&root.code)?;
        let reshare = shares::create(app, first, shop, None, Channel::Moments, Some(parent), None).await?;
        if let Some(friend) = customers.get(i + owners.len()) {
            shares::follow(app, &reshare.code, &format!("u:{}", friend.user_id), "Mozilla/5.0 (Android 14; Mobile)", "demo").await?;
        }
    }
    Ok(())
}

/// Orders in every state: unpaid, paid, shipped, received; customers bound through a share
/// order in their shop first (attributed to the share).
async fn seed_orders(
    app: &Arc<App>,
    rng: &mut rand::rngs::StdRng,
    customers: &[SessionUser],
    owners: &[SessionUser],
    suppliers: &[SessionUser],
) -> Result<(), Error> {
    for (n, customer) in customers.iter().enumerate() {
        for round in 0..3 {
            // A customer a share brought in buys there first, so the demo has attributed orders.
            let bound = if round == 0 { shares::bound_shop(app, customer).await? } else { None };
            let Some(shop) = bound.or_else(|| owners.choose(rng).and_then(|o| o.shop_id)) else { continue };
            let products = shops::shop_products(app, shop, 1, 50).await?;
            let Some(product) = products.choose(rng) else { continue };
            let Some(sku) = product.skus.first() else { continue };
            let checkout = Checkout {
                shop,
                lines: vec![(sku.id, rng.random_range(1..=2))],
                recipient: customer.display_name.clone(),
                phone: customer.login.clone(),
                address: ADDRESSES[n % ADDRESSES.len()].into(),
                note: String::new(),
                from_cart: false,
            };
            let placed = place_order(app, customer, checkout, None).await?;
            if round == 2 {
                continue; // left unpaid, waiting for the customer
            }
            let started = start_payment(app, customer, placed.order_id, PROVIDER_SANDBOX, None).await?;
            let txn_id = started.pay_url.rsplit('/').next().unwrap_or_default().to_string();
            sandbox::confirm(app, &txn_id).await?;
            if round == 1 && n % 2 == 0 {
                let order =
                    sharemall_app::orders::order_for(app, customer, placed.order_id, sharemall_app::orders::Perspective::Customer).await?;
                if order.status != "to_ship" {
                    continue;
                }
                for supplier in suppliers.iter().filter(|s| order.items.iter().any(|i| Some(i.supplier_id) == s.supplier_id)) {
                    ship(app, supplier, placed.order_id, "顺丰速运", &format!("SF{}", rng.random_range(1_000_000_000u64..9_999_999_999)))
                        .await?;
                }
                if n == 0 {
                    confirm_receipt(app, customer, placed.order_id).await?;
                }
            }
        }
    }
    Ok(())
}

pub fn print_sign_ins(public_url: &str) {
    println!();
    println!("Demo platform — password for every account: {PASSWORD}");
    println!("  operator console   {public_url}/console/operator   sign in as {OPERATOR}");
    println!("  supplier console   {public_url}/console/supplier   sign in as supplier1@sharemall.demo");
    for (login, _, shop, _) in SHOPS {
        println!("  shop owner         {public_url}/console/shop       sign in as {login}  ({shop})");
    }
    println!("  customer           {public_url}/                   sign in as {}", CUSTOMERS[0].0);
    println!();
}
