//! The shareable media of a share (its QR code and poster) and parcel insert cards (包裹卡).
//!
//! The images are public: whoever holds a share link may see its QR code and poster, and a card
//! is printed and handed out anyway. Unknown codes are counted by the share-guessing throttle.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::parcel_cards::{self, ParcelCardView};
use sharemall_app::share_media::{self, QrFormat};
use sharemall_domain::Error;
use utoipa::openapi::OpenApiBuilder;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr, CurrentUser};

/// A share's images change only when its product's price or title does: a day is fresh enough,
/// and chat apps and CDNs may keep them.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// An image response with the headers every one of them carries.
fn image(content_type: &'static str, disposition: String, bytes: Vec<u8>) -> Result<Response, ApiError> {
    let disposition = HeaderValue::from_str(&disposition).map_err(|_| Error::internal("content-disposition header"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The share's QR code as SVG: it encodes `{public_url}/s/{code}`.
#[utoipa::path(get, path = "/shares/{code}/qr.svg", tag = "shares", params(("code" = String, Path, description = "share code")),
    responses((status = 200, description = "the QR code", content_type = "image/svg+xml", body = String),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn qr_svg(State(state): State<AppState>, ClientAddr(addr): ClientAddr, Path(code): Path<String>) -> Result<Response, ApiError> {
    let svg = share_media::qr(&state.app, &code, QrFormat::Svg, &addr).await?;
    image("image/svg+xml", format!("inline; filename=\"qr-{code}.svg\""), svg)
}

/// The share's QR code as PNG (8 pixels per module, quiet zone included).
#[utoipa::path(get, path = "/shares/{code}/qr.png", tag = "shares", params(("code" = String, Path, description = "share code")),
    responses((status = 200, description = "the QR code", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn qr_png(State(state): State<AppState>, ClientAddr(addr): ClientAddr, Path(code): Path<String>) -> Result<Response, ApiError> {
    let png = share_media::qr(&state.app, &code, QrFormat::Png, &addr).await?;
    image("image/png", format!("inline; filename=\"qr-{code}.png\""), png)
}

/// The share's poster, 750×1200: the product (title, lowest price) or the shop, who shared it,
/// and the QR code of the share's link. `503 media_unavailable` when the server has no CJK font.
#[utoipa::path(get, path = "/shares/{code}/poster.png", tag = "shares", params(("code" = String, Path, description = "share code")),
    responses((status = 200, description = "the poster", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn poster(State(state): State<AppState>, ClientAddr(addr): ClientAddr, Path(code): Path<String>) -> Result<Response, ApiError> {
    let png = share_media::poster(&state.app, &code, &addr).await?;
    image("image/png", format!("inline; filename=\"poster-{code}.png\""), png)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParcelCardRequest {
    /// A note to the buyer, 1–80 characters; line breaks are kept.
    pub message: String,
    /// The reason to scan, 1–24 characters on one line, e.g. "扫码入会 领红包".
    pub offer: String,
}

/// Makes a parcel card for the caller's shop: a new share of the shop on the parcel-card
/// channel, whose link the card's QR code carries. Shop owners only.
#[utoipa::path(post, path = "/shop/parcel-cards", tag = "shares", request_body = NewParcelCardRequest,
    responses((status = 200, body = ParcelCardView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_card(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<NewParcelCardRequest>,
) -> ApiResult<ParcelCardView> {
    Ok(Json(parcel_cards::create(&state.app, &user, &req.message, &req.offer).await?))
}

/// The caller's shop's parcel cards, newest first (at most 50).
#[utoipa::path(get, path = "/shop/parcel-cards", tag = "shares",
    responses((status = 200, body = Vec<ParcelCardView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn my_cards(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> ApiResult<Vec<ParcelCardView>> {
    Ok(Json(parcel_cards::mine(&state.app, &user).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CardQuery {
    /// `1` to save the file (`Content-Disposition: attachment`) instead of showing it.
    pub download: Option<String>,
}

/// A parcel card, 1240×1748 (A6 at 300 dpi, which the PNG records, so it prints at size).
/// `503 media_unavailable` when the server has no CJK font.
#[utoipa::path(get, path = "/parcel-cards/{code}.png", tag = "shares",
    params(("code" = String, Path, description = "the card's share code"), CardQuery),
    responses((status = 200, description = "the card", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn card_png(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(file): Path<String>,
    Query(q): Query<CardQuery>,
) -> Result<Response, ApiError> {
    let code = file.strip_suffix(".png").ok_or_else(|| Error::not_found("parcel card"))?;
    let png = parcel_cards::card_png(&state.app, code, &addr).await?;
    let download = q.download.as_deref().is_some_and(|d| matches!(d, "1" | "true"));
    let disposition = if download { "attachment" } else { "inline" };
    image("image/png", format!("{disposition}; filename=\"parcel-card-{code}.png\""), png)
}

pub fn routes() -> OpenApiRouter<AppState> {
    // The router (matchit 0.8.4) cannot match a parameter followed by text in one segment, so
    // the card is routed as `{file}` and its `.png` is checked by the handler; the document still
    // names the URL clients use.
    let (schemas, card_paths, _) = routes!(card_png);
    let mut card =
        OpenApiRouter::with_openapi(OpenApiBuilder::new().paths(card_paths).build()).route("/parcel-cards/{file}", get(card_png));
    card.get_openapi_mut().components.get_or_insert_with(Default::default).schemas.extend(schemas);
    OpenApiRouter::new()
        .routes(routes!(qr_svg))
        .routes(routes!(qr_png))
        .routes(routes!(poster))
        .routes(routes!(create_card, my_cards))
        .merge(card)
}
