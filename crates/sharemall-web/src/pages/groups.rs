//! Group buying (拼团) pages: the offer and the joinable groups on a product page, the group
//! order forms (open a group, join one), and the group page with its members, countdown and
//! share sheet. "My groups" and the inbox are in `my_groups`, the campaign console in
//! `console_groups`.
//!
//! Orders placed here go on exactly as checkout's do: to the order page, whose "去支付" opens
//! the sandbox provider's pay page.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::group_campaigns::{self};
use sharemall_app::orders::Delivery;
use sharemall_app::{catalog, groups, shops};
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, ShopId, SkuId};
use sharemall_store::model::{GroupCampaign, GroupSummary, Product};

use super::order_form::{DeliveryFields, OneUnit, phone_of};
use super::share_sheet::ShareSheet;
use super::{Ctx, Nav, PageResult, form_key, form_token, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

const HOUR_MS: i64 = 3_600_000;
pub(super) const DAY_MS: i64 = 24 * HOUR_MS;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/shops/{id}/groups/new", get(open_form).post(open_submit))
        .route("/groups/{id}", get(group_page))
        .route("/groups/{id}/join", get(join_form).post(join_submit))
}

/// `HH:MM:SS` of a remaining time (hours may pass 24: groups stay open up to 72 hours).
pub fn countdown(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60)
}

/// The first character of a (masked) name, for an avatar circle.
pub(super) fn initial(name: &str) -> String {
    name.chars().next().map_or_else(|| "?".to_string(), |c| c.to_string())
}

/// A campaign's rules, shown before anyone pays (SPEC 3.5).
pub struct Rules {
    pub size: i64,
    pub hours: i64,
    pub new_only: bool,
    pub limit: i64,
}

impl Rules {
    fn of(c: &GroupCampaign) -> Rules {
        Rules { size: c.size, hours: c.group_hours, new_only: c.new_customers_only, limit: c.per_customer_limit }
    }
}

/// The group offer on a product page.
pub struct GroupOffer {
    pub campaign_id: String,
    pub group_price: String,
    pub alone_price: String,
    pub rules: Rules,
}

/// A joinable group in the product page's 凑团 list.
pub struct JoinRow {
    pub id: String,
    pub initial: String,
    pub leader: String,
    pub seats_left: i64,
    pub remaining_ms: i64,
    pub countdown: String,
}

impl JoinRow {
    fn of(g: &GroupSummary, now: i64) -> JoinRow {
        JoinRow {
            id: g.id.to_string(),
            initial: initial(&g.leader_name),
            leader: g.leader_name.clone(),
            seats_left: g.seats_left,
            remaining_ms: g.expires_at - now,
            countdown: countdown(g.expires_at - now),
        }
    }
}

/// The running campaign of `product` in `shop` (one with stock left first) and the groups a
/// customer could join now, for the product page.
pub async fn product_offer(state: &AppState, shop: ShopId, product: &Product) -> Result<(Option<GroupOffer>, Vec<JoinRow>), Error> {
    let campaigns = group_campaigns::campaigns(&state.app, Some(shop), Some(product.id), true, 1, 10).await?;
    let campaign = campaigns.iter().find(|c| c.stock_used < c.stock_cap).or(campaigns.first());
    let offer = campaign.map(|c| GroupOffer {
        campaign_id: c.id.to_string(),
        group_price: yuan(c.group_price_fen),
        alone_price: yuan(product.skus.iter().find(|s| s.id == c.sku_id).map_or(product.price_from_fen, |s| s.retail_fen)),
        rules: Rules::of(c),
    });
    let now = state.app.now().millis();
    let joinable = groups::joinable(&state.app, shop, product.id, 5).await?.iter().map(|g| JoinRow::of(g, now)).collect();
    Ok((offer, joinable))
}

// ---------------------------------------------------------------------------------------------
// The group order form: open a group, or join one

#[derive(Template)]
#[template(path = "group_order.html")]
struct GroupOrderPage {
    t: &'static Strings,
    nav: Nav,
    heading: &'static str,
    action: String,
    campaign_id: String,
    product_id: String,
    title: String,
    attributes: String,
    shop_name: String,
    group_price: String,
    rules: Rules,
    /// Shipping and the total for one unit, priced as checkout previews an order.
    unit: OneUnit,
    form_token: String,
    recipient: String,
    phone: String,
}

#[derive(Deserialize)]
struct OpenQuery {
    #[serde(default)]
    campaign: String,
}

pub(super) fn campaign_id(text: &str) -> Result<CampaignId, Error> {
    text.parse().map_err(|_| Error::not_found("group-buy campaign"))
}

/// The option a campaign sells, for the form's summary line.
pub(super) fn attributes_of(product: &Product, sku: SkuId) -> String {
    product.skus.iter().find(|s| s.id == sku).map(|s| s.attributes.clone()).unwrap_or_default()
}

/// "开团": the order form for opening a group of a campaign in this shop.
async fn open_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(q): Query<OpenQuery>) -> PageResult {
    let user = ctx.user()?.clone();
    let shop_id: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let campaign = group_campaigns::campaign(&state.app, campaign_id(&q.campaign)?).await?;
    let (shop, product) = shops::shop_product(&state.app, shop_id, campaign.product_id).await?;
    let unit = OneUnit::priced(&state, campaign.sku_id, campaign.group_price_fen)?;
    render(&GroupOrderPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        heading: ctx.t.group_order_title,
        action: format!("/shops/{shop_id}/groups/new"),
        campaign_id: campaign.id.to_string(),
        product_id: product.id.to_string(),
        title: product.title.clone(),
        attributes: attributes_of(&product, campaign.sku_id),
        shop_name: shop.name,
        group_price: yuan(campaign.group_price_fen),
        rules: Rules::of(&campaign),
        unit,
        form_token: form_token(),
        recipient: user.display_name.clone(),
        phone: phone_of(&user),
    })
}

#[derive(Deserialize)]
struct GroupOrderForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    campaign: String,
    #[serde(default)]
    qty: String,
    #[serde(flatten)]
    delivery: DeliveryFields,
}

impl GroupOrderForm {
    fn quantity(&self) -> Result<i64, Error> {
        let text = self.qty.trim();
        if text.is_empty() {
            return Ok(1);
        }
        text.parse().map_err(|_| Error::new(ErrorCode::InvalidQuantity, "quantity must be a whole number"))
    }

    /// What the form's idempotency key is bound to.
    fn what(&self, path: &str, quantity: i64) -> String {
        format!("POST {path}\n{}\n{quantity}\n{}", self.campaign.trim(), self.delivery.fingerprint())
    }

    fn delivery(self) -> Delivery {
        self.delivery.into_delivery()
    }
}

/// Places the order that opens a group (the form token makes a double submit place it once)
/// and goes to the order page to pay.
async fn open_submit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<GroupOrderForm>) -> PageResult {
    let user = ctx.user()?.clone();
    let shop: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let campaign = campaign_id(&form.campaign)?;
    let quantity = form.quantity()?;
    let key = form_key(&user, &form.form_token, &form.what(&format!("/shops/{shop}/groups/new"), quantity))?;
    let placed = groups::open_group(&state.app, &user, campaign, shop, quantity, form.delivery(), Some(key)).await?;
    Ok(see_other(&format!("/orders/{}", placed.order_id)))
}

fn group_id(text: &str) -> Result<GroupId, Error> {
    text.parse().map_err(|_| Error::not_found("group"))
}

/// "参团": the order form for joining a group.
async fn join_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?.clone();
    let group = groups::group(&state.app, group_id(&id)?).await?;
    let campaign = group_campaigns::campaign(&state.app, group.campaign_id).await?;
    let product = catalog::public_product(&state.app, group.product_id).await?;
    let unit = OneUnit::priced(&state, group.sku_id, group.group_price_fen)?;
    render(&GroupOrderPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        heading: ctx.t.group_join_title,
        action: format!("/groups/{}/join", group.id),
        campaign_id: campaign.id.to_string(),
        product_id: group.product_id.to_string(),
        title: group.title.clone(),
        attributes: attributes_of(&product, group.sku_id),
        shop_name: group.shop_name.clone(),
        group_price: yuan(group.group_price_fen),
        rules: Rules::of(&campaign),
        unit,
        form_token: form_token(),
        recipient: user.display_name.clone(),
        phone: phone_of(&user),
    })
}

async fn join_submit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<GroupOrderForm>) -> PageResult {
    let user = ctx.user()?.clone();
    let group = group_id(&id)?;
    let quantity = form.quantity()?;
    let key = form_key(&user, &form.form_token, &form.what(&format!("/groups/{group}/join"), quantity))?;
    let placed = groups::join_group(&state.app, &user, group, quantity, form.delivery(), Some(key)).await?;
    Ok(see_other(&format!("/orders/{}", placed.order_id)))
}

// ---------------------------------------------------------------------------------------------
// The group page

pub struct MemberDot {
    pub initial: String,
    pub name: String,
    pub leader: bool,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    t: &'static Strings,
    nav: Nav,
    id: String,
    title: String,
    product_id: String,
    product_href: String,
    shop_name: String,
    group_price: String,
    retail: String,
    status: String,
    status_label: &'static str,
    remaining_ms: i64,
    countdown: String,
    members: Vec<MemberDot>,
    /// One entry per seat nobody has paid for: the empty circles.
    empty_seats: Vec<u8>,
    seats_left: i64,
    rules: Rules,
    signed_in: bool,
    is_member: bool,
    sheet: ShareSheet,
}

#[derive(Deserialize)]
struct ShareQuery {
    share: Option<String>,
}

async fn group_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(q): Query<ShareQuery>) -> PageResult {
    let group = groups::group(&state.app, group_id(&id)?).await?;
    let campaign = group_campaigns::campaign(&state.app, group.campaign_id).await?;
    let is_member = match &ctx.user {
        Some(user) => groups::is_member(&state.app, user, group.id).await?,
        None => false,
    };
    let remaining_ms = group.expires_at - state.app.now().millis();
    let members: Vec<MemberDot> =
        group.members.iter().map(|m| MemberDot { initial: initial(&m.name), name: m.name.clone(), leader: m.leader }).collect();
    let empty = usize::try_from(group.size).unwrap_or(0).saturating_sub(members.len());
    let page = GroupPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        id: group.id.to_string(),
        title: group.title.clone(),
        product_id: group.product_id.to_string(),
        product_href: format!("/shops/{}/products/{}", group.shop_id, group.product_id),
        shop_name: group.shop_name.clone(),
        group_price: yuan(group.group_price_fen),
        retail: yuan(group.retail_fen),
        status: group.status.clone(),
        status_label: ctx.t.group_status(&group.status),
        remaining_ms,
        countdown: countdown(remaining_ms),
        members,
        empty_seats: vec![0; empty],
        seats_left: group.seats_left,
        rules: Rules::of(&campaign),
        signed_in: ctx.user.is_some(),
        is_member,
        sheet: ShareSheet::for_group(&state, &ctx, &group, q.share.as_deref()).await?,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_read_as_hours_minutes_seconds() {
        assert_eq!(countdown(0), "00:00:00");
        assert_eq!(countdown(-5_000), "00:00:00");
        assert_eq!(countdown(72 * HOUR_MS - 1_000), "71:59:59");
        assert_eq!(countdown(61_500), "00:01:01");
    }
}
