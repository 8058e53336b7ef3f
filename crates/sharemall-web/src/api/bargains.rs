//! Bargains (砍价): campaigns (operators and permitted shop owners create and end them; anyone
//! lists and reads them), starting a bargain, helping one, buying it, and a customer's bargains.
//! Buying requires an `Idempotency-Key`, as orders do, and never takes a price from the client.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sharemall_app::bargains::{self, BargainCampaignDraft};
use sharemall_app::catalog::clamp_page;
use sharemall_app::orders::Delivery;
use sharemall_domain::bargain::{BargainCampaignRequest, BuyRule, DEFAULT_HOURS};
use sharemall_domain::{BargainCampaignId, BargainId, Error, ErrorCode, Money, ProductId, ShopId, SkuId, Timestamp};
use sharemall_store::model::{BargainCampaign, BargainStarted, BargainView, HelpDone, OrderPlaced};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::Created;
use crate::api::groups::PageQuery;
use crate::api::orders::{parse_order_request, shop_or_bound};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, CurrentUser, MaybeUser, idempotency_key};

fn default_hours() -> i64 {
    DEFAULT_HOURS
}

fn default_rule() -> String {
    BuyRule::AtCurrentPrice.as_str().to_string()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BargainCampaignBody {
    pub sku_id: String,
    /// Absent: a platform campaign (operators only), open in every shop carrying the product.
    pub shop_id: Option<String>,
    /// Where a bargain starts: at most the retail price.
    pub start_fen: i64,
    /// Where K helps take it: at least the supply price, and start − floor ≥ K fen.
    pub floor_fen: i64,
    /// Helps K, 1–100.
    pub helpers_needed: i64,
    /// How long a bargain runs once started, 1–72 hours (default 24).
    #[serde(default = "default_hours")]
    pub bargain_hours: i64,
    /// The window bargains may start in, Unix ms; it must end in the future.
    pub starts_at: i64,
    pub ends_at: i64,
    /// Units the campaign may sell in all, at least 1.
    pub stock_cap: i64,
    /// `current_price` (default): buy at the price reached so far; `floor_only`: only at the floor.
    #[serde(default = "default_rule")]
    pub buy_rule: String,
}

impl BargainCampaignBody {
    /// An id that does not parse names nothing, so it reads as not found, as in orders.
    fn into_draft(self) -> Result<BargainCampaignDraft, Error> {
        let sku: SkuId = self.sku_id.parse().map_err(|_| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
        let shop: Option<ShopId> = self.shop_id.map(|id| id.parse().map_err(|_| Error::not_found("shop"))).transpose()?;
        Ok(BargainCampaignDraft {
            shop,
            sku,
            request: BargainCampaignRequest {
                start: Money::from_fen(self.start_fen),
                floor: Money::from_fen(self.floor_fen),
                helpers_needed: self.helpers_needed,
                hours: self.bargain_hours,
                starts_at: Timestamp(self.starts_at),
                ends_at: Timestamp(self.ends_at),
                stock_cap: self.stock_cap,
                buy_rule: BuyRule::parse(&self.buy_rule)?,
            },
        })
    }
}

#[utoipa::path(post, path = "/bargain-campaigns", tag = "bargaining", request_body = BargainCampaignBody,
    responses((status = 200, body = Created), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_campaign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<BargainCampaignBody>,
) -> ApiResult<Created> {
    let id = bargains::create_campaign(&state.app, &user, body.into_draft()?).await?;
    Ok(Json(Created { id: id.to_string() }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BargainCampaignQuery {
    /// Campaigns that run in this shop: its own and platform campaigns on products it carries.
    #[param(value_type = Option<String>)]
    pub shop_id: Option<ShopId>,
    #[param(value_type = Option<String>)]
    pub product_id: Option<ProductId>,
    /// Only campaigns open now.
    pub active: Option<bool>,
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/bargain-campaigns", tag = "bargaining", params(BargainCampaignQuery),
    responses((status = 200, body = Vec<BargainCampaign>)))]
async fn list_campaigns(State(state): State<AppState>, Query(q): Query<BargainCampaignQuery>) -> ApiResult<Vec<BargainCampaign>> {
    let (page, per_page) = clamp_page(q.page, q.per_page);
    Ok(Json(bargains::campaigns(&state.app, q.shop_id, q.product_id, q.active.unwrap_or(false), page, per_page).await?))
}

#[utoipa::path(get, path = "/bargain-campaigns/{id}", tag = "bargaining", params(("id" = String, Path)),
    responses((status = 200, body = BargainCampaign), (status = 404, body = ErrorBody)))]
async fn campaign(State(state): State<AppState>, Path(id): Path<BargainCampaignId>) -> ApiResult<BargainCampaign> {
    Ok(Json(bargains::campaign(&state.app, id).await?))
}

#[utoipa::path(post, path = "/bargain-campaigns/{id}/end", tag = "bargaining", params(("id" = String, Path)),
    responses((status = 200, body = BargainCampaign), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_campaign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<BargainCampaignId>,
) -> ApiResult<BargainCampaign> {
    Ok(Json(bargains::end_campaign(&state.app, &user, id).await?))
}

/// Where to start a bargain.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBargainRequest {
    /// The shop to bargain in (the buy happens there). Omitted: the campaign's own shop, else
    /// the shop the customer is bound to, else `shop_required`.
    #[serde(default)]
    pub shop_id: Option<String>,
}

#[utoipa::path(post, path = "/bargain-campaigns/{id}/bargains", tag = "bargaining", request_body = StartBargainRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = BargainStarted, description = "the new bargain, or the caller's open one in this campaign (`started`: false)"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start_bargain(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(campaign): Path<BargainCampaignId>,
    ApiJson(req): ApiJson<StartBargainRequest>,
) -> ApiResult<BargainStarted> {
    let shop: ShopId = match req.shop_id {
        Some(id) => shop_or_bound(&state, &user, Some(&id)).await?,
        None => match bargains::campaign(&state.app, campaign).await?.shop_id {
            Some(own) => own,
            None => shop_or_bound(&state, &user, None).await?,
        },
    };
    Ok(Json(bargains::start(&state.app, &user, campaign, shop).await?))
}

#[utoipa::path(get, path = "/bargains/{id}", tag = "bargaining", params(("id" = String, Path)),
    responses((status = 200, body = BargainView), (status = 404, body = ErrorBody)))]
async fn bargain(State(state): State<AppState>, MaybeUser(user): MaybeUser, Path(id): Path<BargainId>) -> ApiResult<BargainView> {
    Ok(Json(bargains::bargain(&state.app, user.as_ref(), id).await?))
}

#[utoipa::path(post, path = "/bargains/{id}/help", tag = "bargaining", params(("id" = String, Path)),
    responses((status = 200, body = HelpDone), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn help(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<BargainId>) -> ApiResult<HelpDone> {
    Ok(Json(bargains::help(&state.app, &user, id).await?))
}

/// Delivery for a bargain's order. No price: the bargain sets it, and sending one is refused
/// with `client_price_rejected`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyBargainRequest {
    pub recipient: String,
    pub phone: String,
    pub address: String,
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/bargains/{id}/buy", tag = "bargaining", request_body = BuyBargainRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = OrderPlaced), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn buy(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<BargainId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<OrderPlaced> {
    let req: BuyBargainRequest = parse_order_request(&body)?;
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/bargains/{id}/buy"), &body)?;
    let delivery = Delivery { recipient: req.recipient, phone: req.phone, address: req.address, note: req.note };
    Ok(Json(bargains::buy(&state.app, &user, id, delivery, Some(key)).await?))
}

#[utoipa::path(get, path = "/me/bargains", tag = "bargaining", params(PageQuery),
    responses((status = 200, body = Vec<BargainView>), (status = 401, body = ErrorBody)))]
async fn my_bargains(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Vec<BargainView>> {
    Ok(Json(bargains::my_bargains(&state.app, &user, q.page, q.per_page).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign, list_campaigns))
        .routes(routes!(campaign))
        .routes(routes!(end_campaign))
        .routes(routes!(start_bargain))
        .routes(routes!(bargain))
        .routes(routes!(help))
        .routes(routes!(buy))
        .routes(routes!(my_bargains))
}
