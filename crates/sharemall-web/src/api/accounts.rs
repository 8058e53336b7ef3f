//! `/api/v1/auth/*` and `/api/v1/me`: bearer-token sign-up and sign-in for API clients.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use sharemall_app::accounts;
use sharemall_store::model::{SessionKind, SessionUser};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr, CurrentUser, session_token};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Mobile number or e-mail.
    pub login: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user: SessionUser,
}

#[utoipa::path(post, path = "/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses((status = 200, body = TokenResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn register(State(state): State<AppState>, ApiJson(req): ApiJson<RegisterRequest>) -> ApiResult<TokenResponse> {
    let signed = accounts::register(&state.app, &req.login, &req.password, &req.display_name, SessionKind::Bearer).await?;
    Ok(Json(TokenResponse { token: signed.token, user: signed.user }))
}

#[utoipa::path(post, path = "/auth/sign-in", tag = "accounts", request_body = SignInRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<SignInRequest>,
) -> ApiResult<TokenResponse> {
    let signed = accounts::sign_in(&state.app, &req.login, &req.password, &addr, SessionKind::Bearer).await?;
    Ok(Json(TokenResponse { token: signed.token, user: signed.user }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    pub ok: bool,
}

#[utoipa::path(post, path = "/auth/sign-out", tag = "accounts", responses((status = 200, body = Done), (status = 401, body = ErrorBody)))]
async fn sign_out(State(state): State<AppState>, _user: CurrentUser, headers: HeaderMap) -> ApiResult<Done> {
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    if let Some((token, _)) = session_token(&parts, state.secure_cookies) {
        accounts::sign_out(&state.app, &token).await.map_err(ApiError)?;
    }
    Ok(Json(Done { ok: true }))
}

#[utoipa::path(get, path = "/me", tag = "accounts", responses((status = 200, body = SessionUser), (status = 401, body = ErrorBody)))]
async fn me(CurrentUser(user): CurrentUser) -> ApiResult<SessionUser> {
    Ok(Json(user))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(register)).routes(routes!(sign_in)).routes(routes!(sign_out)).routes(routes!(me))
}
