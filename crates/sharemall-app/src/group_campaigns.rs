//! Group-buy campaign use cases: operators run platform and shop campaigns; a shop owner runs
//! them for their own shop when the operator allows it. Anyone may read them.

use sharemall_domain::account::Role;
use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::{CampaignId, Error, ErrorCode, ProductId, ShopId, SkuId};
use sharemall_store::model::{GroupCampaign, SessionUser};
use sharemall_store::ops::group_campaigns::{self, CampaignFilter, NewCampaign};

use crate::App;
use crate::shops::own_shop;

/// A campaign as its creator submits it.
#[derive(Debug, Clone)]
pub struct CampaignDraft {
    /// `None`: a platform campaign (operators only).
    pub shop: Option<ShopId>,
    pub sku: SkuId,
    pub request: CampaignRequest,
}

pub(crate) fn refuse(message: &str) -> Error {
    Error::new(ErrorCode::Forbidden, message)
}

/// Whether `user` may run a campaign — group buying or bargaining, under the same operator
/// switch — in `shop` (`None`: on the platform).
pub(crate) fn may_run(app: &App, user: &SessionUser, shop: Option<ShopId>) -> Result<(), Error> {
    if user.has(Role::Operator) {
        return Ok(());
    }
    let own = own_shop(user)?;
    if !app.config.shop_owners_may_run_groups {
        return Err(refuse("the operator has not opened campaigns to shop owners"));
    }
    match shop {
        Some(shop) if shop == own => Ok(()),
        Some(_) => Err(refuse("you may run campaigns only in your own shop")),
        None => Err(refuse("only the operator runs platform campaigns")),
    }
}

pub async fn create_campaign(app: &App, user: &SessionUser, draft: CampaignDraft) -> Result<CampaignId, Error> {
    may_run(app, user, draft.shop)?;
    let now = app.now();
    let new = NewCampaign { shop: draft.shop, sku: draft.sku, request: draft.request, created_by: user.user_id };
    app.store.write(move |sql| group_campaigns::create_campaign(sql, now, &new)).await
}

pub async fn campaign(app: &App, id: CampaignId) -> Result<GroupCampaign, Error> {
    app.store.read(move |sql| group_campaigns::load_campaign(sql, id)).await
}

/// Campaigns by shop and product; `active_only` keeps those open now.
pub async fn campaigns(
    app: &App,
    shop: Option<ShopId>,
    product: Option<ProductId>,
    active_only: bool,
    page: i64,
    per_page: i64,
) -> Result<Vec<GroupCampaign>, Error> {
    let filter = CampaignFilter { shop, product, active_at: active_only.then(|| app.now()) };
    app.store.read(move |sql| group_campaigns::list_campaigns(sql, filter, page, per_page)).await
}

/// Ends a campaign early. Only its side may: an operator any campaign, a shop owner their own
/// shop's (a platform campaign is the operator's). The setting is not re-checked here, so an
/// owner can still stop a campaign after the operator closes group buying to owners.
pub async fn end_campaign(app: &App, user: &SessionUser, id: CampaignId) -> Result<GroupCampaign, Error> {
    let operator = user.has(Role::Operator);
    let own = if operator { None } else { Some(own_shop(user)?) };
    let now = app.now();
    app.store
        .write(move |sql| {
            let campaign = group_campaigns::load_campaign(sql, id)?;
            if !operator && campaign.shop_id != own {
                return Err(refuse("only the campaign's own shop or the operator may end it"));
            }
            group_campaigns::end_campaign(sql, now, id)
        })
        .await
}
