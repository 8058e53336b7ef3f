//! Shares: make one (link, 口令), and find one in pasted chat text.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use sharemall_app::shares::{self, ShareForms, ShareLanding};
use sharemall_domain::share::{Channel, ShareCode};
use sharemall_domain::{Error, ProductId, ShopId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr, CurrentUser};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShareRequest {
    pub shop_id: String,
    /// Share this product of the shop; omit to share the shop itself.
    pub product_id: Option<String>,
    /// link | kouling | qr | poster | parcel_card | chat | moments
    pub channel: String,
    /// The share through which the sharer arrived.
    pub parent_code: Option<String>,
}

#[utoipa::path(post, path = "/shares", tag = "shares", request_body = NewShareRequest,
    responses((status = 200, body = ShareForms), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_share(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<NewShareRequest>,
) -> ApiResult<ShareForms> {
    let shop: ShopId = req.shop_id.parse().map_err(|_| Error::not_found("shop"))?;
    let product = req.product_id.map(|p| p.parse::<ProductId>().map_err(|_| Error::not_found("product"))).transpose()?;
    let parent = req.parent_code.map(|c| ShareCode::parse(&c)).transpose()?;
    let channel = Channel::parse(&req.channel)?;
    Ok(Json(shares::create(&state.app, &user, shop, product, channel, parent).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// Whatever was pasted: a 口令 with chat text around it, or a short link.
    pub text: String,
}

/// Longest pasted text looked at.
const MAX_PASTE_CHARS: usize = 2_000;

#[utoipa::path(post, path = "/shares/resolve", tag = "shares", request_body = ResolveRequest,
    responses((status = 200, body = ShareLanding), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn resolve(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<ShareLanding> {
    let text: String = req.text.chars().take(MAX_PASTE_CHARS).collect();
    Ok(Json(shares::resolve_text(&state.app, &text, &addr).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_share)).routes(routes!(resolve))
}
