//! Groups (团): open one by ordering at the group price, join one, read them; a customer's
//! groups and inbox; a campaign's results. Ordering requires an `Idempotency-Key`, as orders do.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sharemall_app::groups;
use sharemall_app::inbox;
use sharemall_app::orders::Delivery;
use sharemall_domain::{CampaignId, GroupId, ProductId, ShopId};
use sharemall_store::model::{CampaignResults, GroupDetail, GroupSummary, InboxMessage, MyGroup, OrderPlaced};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::accounts::Done;
use crate::api::orders::{parse_order_request, shop_or_bound};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{CurrentUser, idempotency_key};

fn one() -> i64 {
    1
}

/// A group order: quantity and delivery. No price: the campaign sets it, and sending one is
/// refused with `client_price_rejected`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupOrderRequest {
    /// Opening only: the shop to open the group in. Omitted: the campaign's own shop, else the
    /// shop the customer is bound to, else `shop_required`. Joiners buy in the group's shop.
    #[serde(default)]
    pub shop_id: Option<String>,
    /// Units, within the campaign's per-customer limit (default 1).
    #[serde(default = "one")]
    pub quantity: i64,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    #[serde(default)]
    pub note: String,
}

impl GroupOrderRequest {
    fn delivery(self) -> (Option<String>, i64, Delivery) {
        let delivery = Delivery { recipient: self.recipient, phone: self.phone, address: self.address, note: self.note };
        (self.shop_id, self.quantity, delivery)
    }
}

#[utoipa::path(post, path = "/group-campaigns/{id}/groups", tag = "group buying", request_body = GroupOrderRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = OrderPlaced), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn open_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(campaign): Path<CampaignId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<OrderPlaced> {
    let req: GroupOrderRequest = parse_order_request(&body)?;
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/group-campaigns/{campaign}/groups"), &body)?;
    let (named_shop, quantity, delivery) = req.delivery();
    let shop: ShopId = match named_shop {
        Some(id) => shop_or_bound(&state, &user, Some(&id)).await?,
        None => match sharemall_app::group_campaigns::campaign(&state.app, campaign).await?.shop_id {
            Some(own) => own,
            None => shop_or_bound(&state, &user, None).await?,
        },
    };
    Ok(Json(groups::open_group(&state.app, &user, campaign, shop, quantity, delivery, Some(key)).await?))
}

#[utoipa::path(post, path = "/groups/{id}/join", tag = "group buying", request_body = GroupOrderRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = OrderPlaced), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn join_group(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(group): Path<GroupId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<OrderPlaced> {
    let req: GroupOrderRequest = parse_order_request(&body)?;
    if req.shop_id.is_some() {
        return Err(sharemall_domain::Error::invalid("a joiner buys in the group's shop; do not send shop_id").into());
    }
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/groups/{group}/join"), &body)?;
    let (_, quantity, delivery) = req.delivery();
    Ok(Json(groups::join_group(&state.app, &user, group, quantity, delivery, Some(key)).await?))
}

#[utoipa::path(get, path = "/groups/{id}", tag = "group buying", params(("id" = String, Path)),
    responses((status = 200, body = GroupDetail), (status = 404, body = ErrorBody)))]
async fn group(State(state): State<AppState>, Path(id): Path<GroupId>) -> ApiResult<GroupDetail> {
    Ok(Json(groups::group(&state.app, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct JoinableQuery {
    #[param(value_type = String)]
    pub shop_id: ShopId,
    #[param(value_type = String)]
    pub product_id: ProductId,
    /// 1–50, default 10.
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/groups", tag = "group buying", params(JoinableQuery),
    responses((status = 200, body = Vec<GroupSummary>)))]
async fn joinable(State(state): State<AppState>, Query(q): Query<JoinableQuery>) -> ApiResult<Vec<GroupSummary>> {
    Ok(Json(groups::joinable(&state.app, q.shop_id, q.product_id, q.limit.unwrap_or(10)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    pub page: Option<i64>,
    /// 1–50, default 20.
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/me/groups", tag = "group buying", params(PageQuery),
    responses((status = 200, body = Vec<MyGroup>), (status = 401, body = ErrorBody)))]
async fn my_groups(State(state): State<AppState>, CurrentUser(user): CurrentUser, Query(q): Query<PageQuery>) -> ApiResult<Vec<MyGroup>> {
    Ok(Json(groups::my_groups(&state.app, &user, q.page, q.per_page).await?))
}

#[utoipa::path(get, path = "/group-campaigns/{id}/results", tag = "group buying", params(("id" = String, Path)),
    responses((status = 200, body = CampaignResults), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn campaign_results(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CampaignId>,
) -> ApiResult<CampaignResults> {
    Ok(Json(groups::campaign_results(&state.app, &user, id).await?))
}

#[utoipa::path(get, path = "/me/inbox", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Vec<InboxMessage>), (status = 401, body = ErrorBody)))]
async fn my_inbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Vec<InboxMessage>> {
    Ok(Json(inbox::messages(&state.app, &user, q.page.unwrap_or(1)).await?))
}

#[utoipa::path(post, path = "/me/inbox/read", tag = "accounts",
    responses((status = 200, body = Done), (status = 401, body = ErrorBody)))]
async fn read_inbox(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> ApiResult<Done> {
    inbox::mark_all_read(&state.app, &user).await?;
    Ok(Json(Done { ok: true }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_group))
        .routes(routes!(join_group))
        .routes(routes!(group))
        .routes(routes!(joinable))
        .routes(routes!(my_groups))
        .routes(routes!(campaign_results))
        .routes(routes!(my_inbox))
        .routes(routes!(read_inbox))
}
