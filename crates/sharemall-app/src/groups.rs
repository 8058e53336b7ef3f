//! Group use cases: open a group by ordering at the group price, join one, read groups, and the
//! sweeper that settles expired groups with automatic refunds.

use sharemall_domain::account::Role;
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, OrderId, ProductId, ShopId};
use sharemall_store::model::{CampaignResults, GroupDetail, GroupSummary, MyGroup, OrderPlaced, SessionUser};
use sharemall_store::ops::group_views;
use sharemall_store::ops::groups::{self, GroupOrder, SweepReport};
use sharemall_store::ops::idempotency::IdempotencyKey;
use sharemall_store::ops::joins_batch::JoinCommand;

use crate::App;
use crate::catalog::clamp_page;
use crate::orders::{Delivery, check_delivery};

/// Most groups one sweep transaction settles: each may refund up to 100 members, so a batch
/// stays a bounded transaction however many groups expire at once.
pub const SWEEP_BATCH: i64 = 100;

fn group_order(app: &App, customer: &SessionUser, quantity: i64, delivery: Delivery) -> Result<GroupOrder, Error> {
    // Checked before any seat or unit is counted, so a zero or negative quantity never reaches them.
    sharemall_domain::order::check_quantity(quantity)?;
    check_delivery(&delivery)?;
    let now = app.now();
    Ok(GroupOrder {
        customer: customer.user_id,
        quantity,
        recipient: delivery.recipient.trim().to_string(),
        phone: delivery.phone.trim().to_string(),
        address: delivery.address.trim().to_string(),
        note: delivery.note.trim().to_string(),
        order_no: app.order_numbers.next(now),
        pay_window_ms: app.config.pay_window_ms,
        shipping: app.config.shipping,
    })
}

/// Places the order that opens a group in `shop`; the group opens when it is paid.
pub async fn open_group(
    app: &App,
    customer: &SessionUser,
    campaign: CampaignId,
    shop: ShopId,
    quantity: i64,
    delivery: Delivery,
    key: Option<IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    let order = group_order(app, customer, quantity, delivery)?;
    let now = app.now();
    app.store.write(move |sql| groups::open_group(sql, now, campaign, shop, &order, key.as_ref())).await
}

/// Places the order that joins `group`, holding a seat until it is paid or cancelled.
pub async fn join_group(
    app: &App,
    customer: &SessionUser,
    group: GroupId,
    quantity: i64,
    delivery: Delivery,
    key: Option<IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    let order = group_order(app, customer, quantity, delivery)?;
    app.store.join_group(JoinCommand { now: app.now(), group, order, key }).await
}

pub async fn group(app: &App, id: GroupId) -> Result<GroupDetail, Error> {
    let now = app.now();
    app.store.read(move |sql| group_views::load_group(sql, now, id)).await
}

pub async fn joinable(app: &App, shop: ShopId, product: ProductId, limit: i64) -> Result<Vec<GroupSummary>, Error> {
    let now = app.now();
    app.store.read(move |sql| group_views::joinable_groups(sql, now, shop, product, limit)).await
}

pub async fn my_groups(app: &App, customer: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<Vec<MyGroup>, Error> {
    let (now, user) = (app.now(), customer.user_id);
    let (page, per_page) = clamp_page(page, per_page);
    app.store.read(move |sql| group_views::my_groups(sql, now, user, page, per_page)).await
}

/// Whether the customer holds or has paid for a seat in the group.
pub async fn is_member(app: &App, customer: &SessionUser, group: GroupId) -> Result<bool, Error> {
    let user = customer.user_id;
    app.store.read(move |sql| group_views::is_member(sql, group, user)).await
}

/// The group an order of the customer's was placed for (`None` for an ordinary order).
pub async fn group_of_order(app: &App, customer: &SessionUser, order: OrderId) -> Result<Option<MyGroup>, Error> {
    let (now, user) = (app.now(), customer.user_id);
    app.store.read(move |sql| group_views::group_of_order(sql, now, user, order)).await
}

/// A campaign's results, for the operator and for the owner of the shop it runs in.
pub async fn campaign_results(app: &App, user: &SessionUser, campaign: CampaignId) -> Result<CampaignResults, Error> {
    let found = crate::group_campaigns::campaign(app, campaign).await?;
    let allowed = user.has(Role::Operator) || (found.shop_id.is_some() && found.shop_id == user.shop_id);
    if !allowed {
        return Err(Error::new(ErrorCode::Forbidden, "only the operator and the campaign's shop see its results"));
    }
    let now = app.now();
    app.store.read(move |sql| group_views::campaign_results(sql, now, campaign)).await
}

/// Settles every group that has expired, a bounded batch per transaction, and reports what it
/// did. Several workers may sweep at once: each group is settled by exactly one of them.
pub async fn sweep(app: &App) -> Result<SweepReport, Error> {
    let mut total = SweepReport::default();
    // Every job round sweeps; nearly always nothing is due, and a reader says so without
    // taking a place in the writer's queue.
    let now = app.now();
    if !app.store.read(move |sql| groups::any_due(sql, now)).await? {
        return Ok(total);
    }
    loop {
        let now = app.now();
        let report = app.store.write(move |sql| groups::sweep_expired(sql, now, SWEEP_BATCH)).await?;
        let settled = report.failed + report.platform_completed;
        total.failed += report.failed;
        total.platform_completed += report.platform_completed;
        total.refunds += report.refunds;
        total.holds_cancelled += report.holds_cancelled;
        if settled < SWEEP_BATCH as u64 {
            return Ok(total);
        }
    }
}
