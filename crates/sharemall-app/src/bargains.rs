//! Bargain use cases (砍价, SPEC 3.6). Campaigns: operators run platform and shop campaigns; a
//! shop owner runs them in their own shop when `shop_owners_may_run_groups` (the same switch as
//! group buying: both are the owner's promotions) allows. Bargains: a signed-in customer starts
//! one, friends help, the starter buys; anyone may read one.

use sharemall_domain::account::Role;
use sharemall_domain::bargain::BargainCampaignRequest;
use sharemall_domain::{BargainCampaignId, BargainId, Error, ProductId, ShopId, SkuId};
use sharemall_store::model::{BargainCampaign, BargainCampaignResults, BargainStarted, BargainView, HelpDone, OrderPlaced, SessionUser};
use sharemall_store::ops::bargain_campaigns::{self, NewBargainCampaign};
use sharemall_store::ops::bargain_views;
use sharemall_store::ops::bargains::{self, BargainBuy, NewBargain};
use sharemall_store::ops::group_campaigns::CampaignFilter;
use sharemall_store::ops::idempotency::IdempotencyKey;

use crate::App;
use crate::catalog::clamp_page;
use crate::group_campaigns::{may_run, refuse};
use crate::orders::{Delivery, check_delivery};
use crate::shops::own_shop;

/// A campaign as its creator submits it.
#[derive(Debug, Clone)]
pub struct BargainCampaignDraft {
    /// `None`: a platform campaign (operators only).
    pub shop: Option<ShopId>,
    pub sku: SkuId,
    pub request: BargainCampaignRequest,
}

pub async fn create_campaign(app: &App, user: &SessionUser, draft: BargainCampaignDraft) -> Result<BargainCampaignId, Error> {
    may_run(app, user, draft.shop)?;
    let now = app.now();
    let new = NewBargainCampaign { shop: draft.shop, sku: draft.sku, request: draft.request, created_by: user.user_id };
    app.store.write(move |sql| bargain_campaigns::create_campaign(sql, now, &new)).await
}

pub async fn campaign(app: &App, id: BargainCampaignId) -> Result<BargainCampaign, Error> {
    app.store.read(move |sql| bargain_campaigns::load_campaign(sql, id)).await
}

/// Campaigns by shop and product; `active_only` keeps those open now.
pub async fn campaigns(
    app: &App,
    shop: Option<ShopId>,
    product: Option<ProductId>,
    active_only: bool,
    page: i64,
    per_page: i64,
) -> Result<Vec<BargainCampaign>, Error> {
    let filter = CampaignFilter { shop, product, active_at: active_only.then(|| app.now()) };
    app.store.read(move |sql| bargain_campaigns::list_campaigns(sql, filter, page, per_page)).await
}

/// Ends a campaign early: an operator any campaign, a shop owner their own shop's. The setting
/// is not re-checked, so an owner can still stop a campaign after the operator closes campaigns.
pub async fn end_campaign(app: &App, user: &SessionUser, id: BargainCampaignId) -> Result<BargainCampaign, Error> {
    let operator = user.has(Role::Operator);
    let own = if operator { None } else { Some(own_shop(user)?) };
    let now = app.now();
    app.store
        .write(move |sql| {
            let campaign = bargain_campaigns::load_campaign(sql, id)?;
            if !operator && campaign.shop_id != own {
                return Err(refuse("only the campaign's own shop or the operator may end it"));
            }
            bargain_campaigns::end_campaign(sql, now, id)
        })
        .await
}

/// Starts a bargain in `shop` (or returns the customer's open one in this campaign). The seed
/// that decides the cuts is drawn here, at random, and never leaves the server.
pub async fn start(app: &App, customer: &SessionUser, campaign: BargainCampaignId, shop: ShopId) -> Result<BargainStarted, Error> {
    let now = app.now();
    let new = NewBargain { campaign, shop, starter: customer.user_id, seed: rand::random::<u64>() };
    app.store.write(move |sql| bargains::start_bargain(sql, now, &new)).await
}

/// A signed-in friend helps (the extractor has already refused anonymous callers).
pub async fn help(app: &App, helper: &SessionUser, id: BargainId) -> Result<HelpDone, Error> {
    let (now, user) = (app.now(), helper.user_id);
    app.store.write(move |sql| bargains::help(sql, now, id, user)).await
}

/// The starter buys at the price the server has recorded; the order must be paid within the
/// normal pay window.
pub async fn buy(
    app: &App,
    customer: &SessionUser,
    id: BargainId,
    delivery: Delivery,
    key: Option<IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    check_delivery(&delivery)?;
    let now = app.now();
    let cmd = BargainBuy {
        customer: customer.user_id,
        recipient: delivery.recipient.trim().to_string(),
        phone: delivery.phone.trim().to_string(),
        address: delivery.address.trim().to_string(),
        note: delivery.note.trim().to_string(),
        order_no: app.order_numbers.next(now),
        pay_window_ms: app.config.pay_window_ms,
        shipping: app.config.shipping,
    };
    app.store.write(move |sql| bargains::buy(sql, now, id, &cmd, key.as_ref())).await
}

pub async fn bargain(app: &App, viewer: Option<&SessionUser>, id: BargainId) -> Result<BargainView, Error> {
    let (now, viewer) = (app.now(), viewer.map(|v| v.user_id));
    app.store.read(move |sql| bargain_views::load_bargain(sql, now, id, viewer)).await
}

pub async fn my_bargains(app: &App, customer: &SessionUser, page: Option<i64>, per_page: Option<i64>) -> Result<Vec<BargainView>, Error> {
    let (now, user) = (app.now(), customer.user_id);
    let (page, per_page) = clamp_page(page, per_page);
    app.store.read(move |sql| bargain_views::my_bargains(sql, now, user, page, per_page)).await
}

/// The customer's bargain in `campaign` still running now, if any.
pub async fn running_bargain(app: &App, customer: &SessionUser, campaign: BargainCampaignId) -> Result<Option<BargainId>, Error> {
    let (now, user) = (app.now(), customer.user_id);
    app.store.read(move |sql| bargain_views::running_bargain(sql, now, campaign, user)).await
}

/// The cut (fen) the signed-in `helper` made on a bargain, if they helped it.
pub async fn my_help(app: &App, helper: &SessionUser, id: BargainId) -> Result<Option<i64>, Error> {
    let user = helper.user_id;
    app.store.read(move |sql| bargain_views::help_of(sql, id, user)).await
}

/// How a campaign's bargains have done: for the operator and the campaign's own shop.
pub async fn campaign_results(app: &App, user: &SessionUser, id: BargainCampaignId) -> Result<BargainCampaignResults, Error> {
    let found = campaign(app, id).await?;
    let allowed = user.has(Role::Operator) || (found.shop_id.is_some() && found.shop_id == user.shop_id);
    if !allowed {
        return Err(refuse("only the operator and the campaign's shop see its results"));
    }
    let now = app.now();
    app.store.read(move |sql| bargain_views::campaign_results(sql, now, id)).await
}
