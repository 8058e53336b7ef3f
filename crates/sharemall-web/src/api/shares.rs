//! Shares: make one (link, 口令), find one in pasted chat text, and record a visit from an app.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use sharemall_app::shares::{self, ShareForms, ShareLanding};
use sharemall_domain::share::{Channel, ShareCode};
use sharemall_domain::{Error, ProductId, ShopId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr, CurrentUser, MaybeUser};

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
    /// Hours the share works (1 to 8784); omit for a share that never expires.
    pub valid_hours: Option<i64>,
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
    Ok(Json(shares::create(&state.app, &user, shop, product, channel, parent, req.valid_hours).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitRequest {
    /// An app's anonymous visitor id (32 hex characters), when the caller is not signed in.
    pub visitor_id: Option<String>,
}

/// A visit as an app sees it: where to go, and the binding after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitRecorded {
    pub landing: ShareLanding,
    /// The shop the visitor is bound to now.
    pub bound_shop_id: String,
    /// Whether this visit made the binding.
    pub bound_now: bool,
}

/// What `/s/{code}` does for a browser, for an app that opens shares itself (a mini-program):
/// records the visit and binds the visitor (the signed-in user, else `visitor_id`).
#[utoipa::path(post, path = "/shares/{code}/visits", tag = "shares", request_body = VisitRequest,
    params(("code" = String, Path, description = "the share code")),
    responses((status = 200, body = VisitRecorded), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn record_visit(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<VisitRequest>,
) -> ApiResult<VisitRecorded> {
    let visitor = match (&user, &req.visitor_id) {
        (Some(user), _) => format!("u:{}", user.user_id),
        (None, Some(id)) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => format!("a:{}", id.to_ascii_lowercase()),
        (None, _) => return Err(Error::invalid("sign in, or send visitor_id: 32 hexadecimal characters").into()),
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (landing, visit) = shares::follow(&state.app, &code, &visitor, user_agent, &addr).await?;
    Ok(Json(VisitRecorded { landing, bound_shop_id: visit.bound_shop.to_string(), bound_now: visit.bound_now }))
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
    OpenApiRouter::new().routes(routes!(create_share)).routes(routes!(resolve)).routes(routes!(record_visit))
}
