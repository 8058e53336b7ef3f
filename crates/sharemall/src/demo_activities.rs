//! The demo's group buying and bargaining: one group that failed yesterday and was refunded, one
//! open group with two of three seats paid, one group open with just its leader, one that
//! succeeded, and a bargain two friends have helped. Everything goes through the same use cases
//! and the sandbox provider as a real customer's actions; the failed group is opened by an `App`
//! whose clock stands two days back, so the serving app's sweeper finds it expired and refunds it.

use sharemall_app::clock::FakeClock;
use sharemall_app::group_campaigns::{self, CampaignDraft};
use sharemall_app::orders::Delivery;
use sharemall_app::payments::{PROVIDER_SANDBOX, start_payment};
use sharemall_app::{App, bargains, groups, sandbox, shops};
use sharemall_domain::bargain::{BargainCampaignRequest, BuyRule};
use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::time::DAY_MS;
use sharemall_domain::{CampaignId, Error, GroupId, Money, OrderId, ShopId, SkuId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::{payments, sandbox as sandbox_books};
use sharemall_store::params;
use std::sync::Arc;

fn delivery(customer: &SessionUser) -> Delivery {
    Delivery {
        recipient: customer.display_name.clone(),
        phone: customer.login.clone(),
        address: "上海市 静安区 南京西路 1 号".into(),
        note: String::new(),
    }
}

async fn pay(app: &App, customer: &SessionUser, order: OrderId) -> Result<(), Error> {
    let started = start_payment(app, customer, order, PROVIDER_SANDBOX, None).await?;
    let txn_id = started.pay_url.rsplit('/').next().unwrap_or_default().to_string();
    sandbox::confirm(app, &txn_id).await.map(|_| ())
}

/// Pays in the past app's time: the sandbox marks the transaction paid and the success is applied
/// as its verified callback would apply it. (The sandbox's own notice over HTTP would carry a
/// timestamp two days old, which the server rightly refuses as stale.)
async fn pay_in_the_past(past: &App, customer: &SessionUser, order: OrderId) -> Result<(), Error> {
    let started = start_payment(past, customer, order, PROVIDER_SANDBOX, None).await?;
    let txn_id = started.pay_url.rsplit('/').next().unwrap_or_default().to_string();
    let (now, trade_no, amount) = (past.now(), started.payment.out_trade_no.clone(), started.payment.amount_fen);
    past.store
        .write(move |sql| {
            let txn = sandbox_books::mark_paid(sql, now, &txn_id)?;
            payments::apply_payment_success(sql, now, &trade_no, amount, &txn.id).map(|_| ())
        })
        .await
}

/// The first SKU of the shop's `nth` product, with its supply and retail prices.
async fn sku_of(app: &App, shop: ShopId, nth: usize) -> Result<(SkuId, Money, Money), Error> {
    let products = shops::shop_products(app, shop, 1, 50).await?;
    let sku =
        products.get(nth).and_then(|p| p.skus.first()).map(|s| s.id).ok_or_else(|| Error::internal("demo shop has too few products"))?;
    let row = app.store.read(move |sql| sql.query_one("SELECT supply_fen, retail_fen FROM skus WHERE id = $1", params![sku])).await?;
    Ok((sku, row.money(0)?, row.money(1)?))
}

/// A group price halfway between supply and retail, to the jiao.
fn group_price(supply: Money, retail: Money) -> Money {
    Money::from_fen((supply.fen() + retail.fen()) / 2 / 10 * 10)
}

async fn campaign(app: &App, operator: &SessionUser, sku: (SkuId, Money, Money), size: i64) -> Result<CampaignId, Error> {
    let now = app.now();
    let request = CampaignRequest {
        size,
        group_price: group_price(sku.1, sku.2),
        hours: 24,
        starts_at: now,
        ends_at: now.plus_ms(30 * DAY_MS),
        stock_cap: 200,
        per_customer_limit: 2,
        new_customers_only: false,
        auto_complete_at: None,
    };
    group_campaigns::create_campaign(app, operator, CampaignDraft { shop: None, sku: sku.0, request }).await
}

/// Opens a group and pays for it; returns the group.
async fn open_paid(app: &App, customer: &SessionUser, campaign: CampaignId, shop: ShopId) -> Result<GroupId, Error> {
    let placed = groups::open_group(app, customer, campaign, shop, 1, delivery(customer), None).await?;
    pay(app, customer, placed.order_id).await?;
    let mine = groups::my_groups(app, customer, Some(1), Some(50)).await?;
    mine.iter()
        .find(|g| g.order_id == placed.order_id)
        .and_then(|g| g.group_id.as_deref())
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::internal("a paid opener's group is missing"))
}

async fn join_paid(app: &App, customer: &SessionUser, group: GroupId) -> Result<(), Error> {
    let placed = groups::join_group(app, customer, group, 1, delivery(customer), None).await?;
    pay(app, customer, placed.order_id).await
}

pub async fn seed(app: &Arc<App>, operator: &SessionUser, owners: &[SessionUser], customers: &[SessionUser]) -> Result<(), Error> {
    let (Some(shop), Some(other_shop)) = (owners.first().and_then(|o| o.shop_id), owners.get(1).and_then(|o| o.shop_id)) else {
        return Ok(());
    };
    let [c0, c1, c2, c3, c4] = customers else { return Ok(()) };

    // Two days ago: a group of 3 opened and paid by one customer, nobody joined.
    let past = App::new(app.store.clone(), Arc::new(FakeClock::at(app.now().plus_ms(-2 * DAY_MS))), app.config.clone())?;
    let yesterday_campaign = campaign(&past, operator, sku_of(&past, shop, 0).await?, 3).await?;
    let placed = groups::open_group(&past, c0, yesterday_campaign, shop, 1, delivery(c0), None).await?;
    pay_in_the_past(&past, c0, placed.order_id).await?;

    // Today: groups of 3 in the first shop, and a group of 2 in the second that filled.
    let threes = campaign(app, operator, sku_of(app, shop, 1).await?, 3).await?;
    let nearly = open_paid(app, c1, threes, shop).await?;
    join_paid(app, c2, nearly).await?;
    open_paid(app, c3, threes, shop).await?;
    let pairs = campaign(app, operator, sku_of(app, other_shop, 0).await?, 2).await?;
    let filled = open_paid(app, c4, pairs, other_shop).await?;
    join_paid(app, c0, filled).await?;

    // A bargain: from retail to the supply price in five helps; two friends have helped.
    let (sku, supply, retail) = sku_of(app, shop, 2).await?;
    let now = app.now();
    let request = BargainCampaignRequest {
        start: retail,
        floor: supply,
        helpers_needed: 5,
        hours: 24,
        starts_at: now,
        ends_at: now.plus_ms(14 * DAY_MS),
        stock_cap: 50,
        buy_rule: BuyRule::AtCurrentPrice,
    };
    let bargain_campaign = bargains::create_campaign(app, operator, bargains::BargainCampaignDraft { shop: None, sku, request }).await?;
    let started = bargains::start(app, c1, bargain_campaign, shop).await?;
    for helper in [c3, c4] {
        bargains::help(app, helper, started.id).await?;
    }
    Ok(())
}
