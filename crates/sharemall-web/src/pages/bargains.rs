//! Bargain (砍价) pages: the offer on a product page and starting a bargain from it, the bargain
//! page (price now, progress to the floor, the helpers, countdown, share sheet, help and buy),
//! and the order form that buys a bargain. "My bargains" is in `my_bargains`, the campaign
//! console in `console_bargains`.
//!
//! A refusal the customer can run into (helping twice, helping their own, buying too early, a
//! bargain that ran out) comes back as the bargain page with the reason in words: nothing was
//! changed, and the page still says what can be done next.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::bargains;
use sharemall_domain::{BargainCampaignId, BargainId, Error, ErrorCode, ShopId};
use sharemall_store::model::{BargainView, Product};

use super::groups::{attributes_of, countdown, initial};
use super::order_form::{DeliveryFields, OneUnit, phone_of};
use super::share_sheet::ShareSheet;
use super::{Ctx, Nav, PageResult, form_key, form_token, render, see_other, url_encode, yuan};
use crate::AppState;
use crate::error::status_of;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/shops/{id}/bargains/new", post(start))
        .route("/bargains/{id}", get(bargain_page))
        .route("/bargains/{id}/help", post(help))
        .route("/bargains/{id}/buy", get(buy_form).post(buy_submit))
}

fn bargain_id(text: &str) -> Result<BargainId, Error> {
    text.parse().map_err(|_| Error::not_found("bargain"))
}

fn campaign_id(text: &str) -> Result<BargainCampaignId, Error> {
    text.trim().parse().map_err(|_| Error::not_found("bargain campaign"))
}

/// Codes a customer meets in the ordinary course of bargaining: shown as the bargain page with
/// the reason, never as an error page.
fn is_bargain_refusal(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::BargainSelfHelp
            | ErrorCode::BargainAlreadyHelped
            | ErrorCode::BargainExpired
            | ErrorCode::BargainFinished
            | ErrorCode::BargainFloorNotReached
            | ErrorCode::CampaignSoldOut
            | ErrorCode::CampaignNotActive
    )
}

// ---------------------------------------------------------------------------------------------
// The offer on a product page, and starting a bargain

/// The bargain offer on a product page.
pub struct BargainOffer {
    pub campaign_id: String,
    pub start: String,
    pub floor: String,
    pub helpers_needed: i64,
    pub hours: i64,
    pub floor_only: bool,
    /// The visitor's bargain in this campaign still running: linked instead of a second start.
    pub running: Option<String>,
}

/// The bargain campaign running for `product` in `shop` (one with units left first), with the
/// visitor's own running bargain in it, if any.
pub async fn product_offer(state: &AppState, ctx: &Ctx, shop: ShopId, product: &Product) -> Result<Option<BargainOffer>, Error> {
    let campaigns = bargains::campaigns(&state.app, Some(shop), Some(product.id), true, 1, 10).await?;
    let Some(c) = campaigns.iter().find(|c| c.stock_used < c.stock_cap).or(campaigns.first()) else { return Ok(None) };
    let running = match &ctx.user {
        Some(user) => bargains::running_bargain(&state.app, user, c.id).await?.map(|id| id.to_string()),
        None => None,
    };
    Ok(Some(BargainOffer {
        campaign_id: c.id.to_string(),
        start: yuan(c.start_fen),
        floor: yuan(c.floor_fen),
        helpers_needed: c.helpers_needed,
        hours: c.bargain_hours,
        floor_only: c.buy_rule == "floor_only",
        running,
    }))
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    campaign: String,
}

/// "发起砍价": starts a bargain in this shop (or finds the customer's open one) and opens it.
async fn start(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<StartForm>) -> PageResult {
    let user = ctx.user()?;
    let shop: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let started = bargains::start(&state.app, user, campaign_id(&form.campaign)?, shop).await?;
    Ok(see_other(&format!("/bargains/{}", started.id)))
}

// ---------------------------------------------------------------------------------------------
// The bargain page

pub struct HelperRow {
    pub initial: String,
    pub name: String,
    pub cut: String,
}

#[derive(Template)]
#[template(path = "bargain.html")]
struct BargainPage {
    t: &'static Strings,
    nav: Nav,
    id: String,
    title: String,
    product_id: String,
    product_href: String,
    shop_name: String,
    starter: String,
    start: String,
    floor: String,
    current: String,
    cut_so_far: String,
    /// The bar's width: per-mille of start − floor (integer arithmetic), written as a CSS
    /// percentage with one decimal.
    bar_width: String,
    helps: i64,
    helpers_needed: i64,
    helps_left: i64,
    /// `running`, `floor` (all helps in, not bought), `bought` or `expired`.
    status: &'static str,
    status_label: &'static str,
    remaining_ms: i64,
    countdown: String,
    helpers: Vec<HelperRow>,
    floor_only: bool,
    can_buy: bool,
    mine: bool,
    signed_in: bool,
    order_href: Option<String>,
    /// What the signed-in visitor cut, when they helped.
    my_cut: Option<String>,
    /// A refusal, in words.
    notice: Option<&'static str>,
    sign_in_href: String,
    sheet: ShareSheet,
}

/// The status as the page shows it: a running bargain with all K helps in has reached its floor.
pub(super) fn shown_status(view: &BargainView) -> &'static str {
    match view.status.as_str() {
        "bought" => "bought",
        "expired" => "expired",
        _ if view.helps >= view.helpers_needed => "floor",
        _ => "running",
    }
}

/// Cut so far over start − floor, in per-mille, clamped to 0..=1000.
fn progress_permille(view: &BargainView) -> i64 {
    let total = view.start_fen.saturating_sub(view.floor_fen);
    if total <= 0 {
        return 1000;
    }
    (view.start_fen.saturating_sub(view.current_fen).saturating_mul(1000) / total).clamp(0, 1000)
}

fn bar_width(permille: i64) -> String {
    format!("{}.{}%", permille / 10, permille % 10)
}

#[derive(Deserialize)]
struct ShareQuery {
    share: Option<String>,
}

async fn bargain_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(q): Query<ShareQuery>) -> PageResult {
    show(&state, &ctx, bargain_id(&id)?, q.share.as_deref(), None).await
}

/// Renders the bargain page; with a refusal, in that refusal's HTTP status.
async fn show(state: &AppState, ctx: &Ctx, id: BargainId, share: Option<&str>, refusal: Option<ErrorCode>) -> PageResult {
    let view = bargains::bargain(&state.app, ctx.user.as_ref(), id).await?;
    let my_cut = match &ctx.user {
        Some(user) if !view.mine => bargains::my_help(&state.app, user, id).await?.map(yuan),
        _ => None,
    };
    let status = shown_status(&view);
    let remaining_ms = if view.status == "running" { (view.expires_at - state.app.now().millis()).max(0) } else { 0 };
    let t = ctx.t;
    let page = BargainPage {
        t,
        nav: ctx.nav("home"),
        id: view.id.to_string(),
        title: view.title.clone(),
        product_id: view.product_id.to_string(),
        product_href: format!("/shops/{}/products/{}", view.shop_id, view.product_id),
        shop_name: view.shop_name.clone(),
        starter: view.starter_name.clone(),
        start: yuan(view.start_fen),
        floor: yuan(view.floor_fen),
        current: yuan(view.current_fen),
        cut_so_far: yuan(view.start_fen.saturating_sub(view.current_fen)),
        bar_width: bar_width(progress_permille(&view)),
        helps: view.helps,
        helpers_needed: view.helpers_needed,
        helps_left: (view.helpers_needed - view.helps).max(0),
        status,
        status_label: t.bargain_status(status),
        remaining_ms,
        countdown: countdown(remaining_ms),
        // Newest first: the friend who just helped sees themselves at the top.
        helpers: view
            .helpers
            .iter()
            .rev()
            .map(|h| HelperRow { initial: initial(&h.name), name: h.name.clone(), cut: yuan(h.cut_fen) })
            .collect(),
        floor_only: view.buy_rule == "floor_only",
        can_buy: view.can_buy,
        mine: view.mine,
        signed_in: ctx.user.is_some(),
        order_href: view.order_id.map(|o| format!("/orders/{o}")),
        my_cut,
        notice: refusal.and_then(|code| t.error_headline(code)),
        sign_in_href: format!("/signin?next={}", url_encode(&format!("/bargains/{}", view.id))),
        sheet: ShareSheet::for_bargain(state, ctx, &view, share).await?,
    };
    let mut response = render(&page)?;
    if let Some(code) = refusal {
        *response.status_mut() = status_of(code);
    }
    Ok(response)
}

/// "帮 TA 砍一刀": one help, then the page shows the cut; a refusal shows the page with the reason.
async fn help(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let id = bargain_id(&id)?;
    match bargains::help(&state.app, user, id).await {
        Ok(_) => Ok(see_other(&format!("/bargains/{id}"))),
        Err(e) if is_bargain_refusal(e.code) => show(&state, &ctx, id, None, Some(e.code)).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Buying a bargain

#[derive(Template)]
#[template(path = "bargain_order.html")]
struct BargainOrderPage {
    t: &'static Strings,
    nav: Nav,
    id: String,
    product_id: String,
    title: String,
    attributes: String,
    shop_name: String,
    price: String,
    unit: OneUnit,
    form_token: String,
    recipient: String,
    phone: String,
}

/// Why the starter may not buy now, as the code the buy itself would answer.
fn buy_refusal(view: &BargainView) -> ErrorCode {
    match view.status.as_str() {
        "expired" => ErrorCode::BargainExpired,
        "bought" => ErrorCode::BargainFinished,
        _ => ErrorCode::BargainFloorNotReached,
    }
}

/// "立即购买": the order form for the starter, at the price reached.
async fn buy_form(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?.clone();
    let id = bargain_id(&id)?;
    let view = bargains::bargain(&state.app, Some(&user), id).await?;
    if !view.mine {
        return Err(Error::new(ErrorCode::Forbidden, "only the starter buys a bargain").into());
    }
    if !view.can_buy {
        return show(&state, &ctx, id, None, Some(buy_refusal(&view))).await;
    }
    let product = sharemall_app::catalog::public_product(&state.app, view.product_id).await?;
    render(&BargainOrderPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        id: view.id.to_string(),
        product_id: view.product_id.to_string(),
        title: view.title.clone(),
        attributes: attributes_of(&product, view.sku_id),
        shop_name: view.shop_name.clone(),
        price: yuan(view.current_fen),
        unit: OneUnit::priced(&state, view.sku_id, view.current_fen)?,
        form_token: form_token(),
        recipient: user.display_name.clone(),
        phone: phone_of(&user),
    })
}

#[derive(Deserialize)]
struct BuyForm {
    #[serde(default)]
    form_token: String,
    #[serde(flatten)]
    delivery: DeliveryFields,
}

impl BuyForm {
    /// What the form's idempotency key is bound to.
    fn what(&self, id: BargainId) -> String {
        format!("POST /bargains/{id}/buy\n{}", self.delivery.fingerprint())
    }
}

/// Places the bargain's order (the form token makes a double submit place it once) and goes to
/// the order page to pay.
async fn buy_submit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<BuyForm>) -> PageResult {
    let user = ctx.user()?;
    let id = bargain_id(&id)?;
    let key = form_key(user, &form.form_token, &form.what(id))?;
    match bargains::buy(&state.app, user, id, form.delivery.into_delivery(), Some(key)).await {
        Ok(placed) => Ok(see_other(&format!("/orders/{}", placed.order_id))),
        Err(e) if is_bargain_refusal(e.code) => show(&state, &ctx, id, None, Some(e.code)).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(start: i64, floor: i64, current: i64) -> BargainView {
        BargainView {
            id: BargainId::new(),
            campaign_id: BargainCampaignId::new(),
            shop_id: ShopId::new(),
            shop_name: String::new(),
            product_id: sharemall_domain::ProductId::new(),
            sku_id: sharemall_domain::SkuId::new(),
            title: String::new(),
            starter_name: String::new(),
            retail_fen: start,
            start_fen: start,
            floor_fen: floor,
            current_fen: current,
            helps: 0,
            helpers_needed: 3,
            status: "running".into(),
            buy_rule: "floor_only".into(),
            can_buy: false,
            started_at: 0,
            expires_at: 0,
            seconds_left: 0,
            mine: false,
            order_id: None,
            helpers: Vec::new(),
        }
    }

    #[test]
    fn progress_is_integer_per_mille_of_start_minus_floor() {
        assert_eq!(progress_permille(&view(10_000, 6_000, 10_000)), 0);
        assert_eq!(progress_permille(&view(10_000, 6_000, 8_000)), 500);
        assert_eq!(progress_permille(&view(10_000, 6_000, 8_667)), 333);
        assert_eq!(progress_permille(&view(10_000, 6_000, 6_000)), 1000);
        assert_eq!((bar_width(333), bar_width(1000), bar_width(0)), ("33.3%".to_string(), "100.0%".to_string(), "0.0%".to_string()));
    }
}
