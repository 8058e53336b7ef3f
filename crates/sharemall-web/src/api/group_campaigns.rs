//! Group-buy campaigns (拼团活动): operators and permitted shop owners create and end them;
//! anyone may list and read them.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use sharemall_app::catalog::clamp_page;
use sharemall_app::group_campaigns::{self, CampaignDraft};
use sharemall_domain::group_buy::{CampaignRequest, DEFAULT_HOURS};
use sharemall_domain::{CampaignId, Error, ErrorCode, Money, ProductId, ShopId, SkuId, Timestamp};
use sharemall_store::model::GroupCampaign;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::catalog::Created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, CurrentUser};

fn default_hours() -> i64 {
    DEFAULT_HOURS
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    pub sku_id: String,
    /// Absent: a platform campaign (operators only), open in every shop carrying the product.
    pub shop_id: Option<String>,
    /// Group size N, 2–100.
    pub size: i64,
    /// At least the supply price, at most the retail price.
    pub group_price_fen: i64,
    /// How long a group stays open, 1–72 hours (default 24).
    #[serde(default = "default_hours")]
    pub group_hours: i64,
    /// The campaign window, Unix ms; it must end in the future.
    pub starts_at: i64,
    pub ends_at: i64,
    /// Units the campaign may sell in all; at least one group's worth.
    pub stock_cap: i64,
    /// 1–99 units per customer across the campaign.
    pub per_customer_limit: i64,
    /// 老带新: only customers who have never paid for an order may join.
    #[serde(default)]
    pub new_customers_only: bool,
    /// Paid members at which an expiring group still succeeds (1 to N−1); absent: off.
    pub auto_complete_at: Option<i64>,
}

impl CampaignBody {
    /// An id that does not parse names nothing, so it reads as not found, as in orders.
    fn into_draft(self) -> Result<CampaignDraft, Error> {
        let sku: SkuId = self.sku_id.parse().map_err(|_| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
        let shop: Option<ShopId> = self.shop_id.map(|id| id.parse().map_err(|_| Error::not_found("shop"))).transpose()?;
        Ok(CampaignDraft {
            shop,
            sku,
            request: CampaignRequest {
                size: self.size,
                group_price: Money::from_fen(self.group_price_fen),
                hours: self.group_hours,
                starts_at: Timestamp(self.starts_at),
                ends_at: Timestamp(self.ends_at),
                stock_cap: self.stock_cap,
                per_customer_limit: self.per_customer_limit,
                new_customers_only: self.new_customers_only,
                auto_complete_at: self.auto_complete_at,
            },
        })
    }
}

#[utoipa::path(post, path = "/group-campaigns", tag = "group buying", request_body = CampaignBody,
    responses((status = 200, body = Created), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_campaign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<CampaignBody>,
) -> ApiResult<Created> {
    let id = group_campaigns::create_campaign(&state.app, &user, body.into_draft()?).await?;
    Ok(Json(Created { id: id.to_string() }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CampaignQuery {
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

#[utoipa::path(get, path = "/group-campaigns", tag = "group buying", params(CampaignQuery),
    responses((status = 200, body = Vec<GroupCampaign>)))]
async fn list_campaigns(State(state): State<AppState>, Query(q): Query<CampaignQuery>) -> ApiResult<Vec<GroupCampaign>> {
    let (page, per_page) = clamp_page(q.page, q.per_page);
    Ok(Json(group_campaigns::campaigns(&state.app, q.shop_id, q.product_id, q.active.unwrap_or(false), page, per_page).await?))
}

#[utoipa::path(get, path = "/group-campaigns/{id}", tag = "group buying", params(("id" = String, Path)),
    responses((status = 200, body = GroupCampaign), (status = 404, body = ErrorBody)))]
async fn campaign(State(state): State<AppState>, Path(id): Path<CampaignId>) -> ApiResult<GroupCampaign> {
    Ok(Json(group_campaigns::campaign(&state.app, id).await?))
}

#[utoipa::path(post, path = "/group-campaigns/{id}/end", tag = "group buying", params(("id" = String, Path)),
    responses((status = 200, body = GroupCampaign), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_campaign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CampaignId>,
) -> ApiResult<GroupCampaign> {
    Ok(Json(group_campaigns::end_campaign(&state.app, &user, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_campaign, list_campaigns)).routes(routes!(campaign)).routes(routes!(end_campaign))
}
