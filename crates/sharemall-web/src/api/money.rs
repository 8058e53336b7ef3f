//! Commission and withdrawals: a shop owner's earnings, withdrawal requests and history, and
//! the operator's withdrawal queue. Requests move money, so they take an `Idempotency-Key`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sharemall_app::{earnings, withdrawals};
use sharemall_domain::WithdrawalId;
use sharemall_store::ops::earnings::Earnings;
use sharemall_store::ops::withdrawals::{Decision, Withdrawal};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{CurrentUser, idempotency_key, parse_json};

#[derive(Debug, Deserialize, IntoParams)]
pub struct MoneyPageQuery {
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/me/earnings", tag = "money", params(MoneyPageQuery), responses((status = 200, body = Earnings)))]
async fn my_earnings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<MoneyPageQuery>,
) -> ApiResult<Earnings> {
    Ok(Json(earnings::my_earnings(&state.app, &user, q.page, q.per_page).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalInput {
    /// At least 100 (¥1.00), at most the available balance.
    pub amount_fen: i64,
    /// Where to pay: a bank card number and the holder's name, or a WeChat account (≤ 64 characters).
    pub payee: String,
}

#[utoipa::path(post, path = "/me/withdrawals", tag = "money", request_body = WithdrawalInput,
    params(("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = Withdrawal), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_withdrawal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Withdrawal> {
    let req: WithdrawalInput = parse_json(&body)?;
    let key = idempotency_key(&headers, &user, "POST /api/v1/me/withdrawals", &body)?;
    Ok(Json(withdrawals::request(&state.app, &user, req.amount_fen, &req.payee, Some(key)).await?))
}

#[utoipa::path(get, path = "/me/withdrawals", tag = "money", params(MoneyPageQuery), responses((status = 200, body = Vec<Withdrawal>)))]
async fn my_withdrawals(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<MoneyPageQuery>,
) -> ApiResult<Vec<Withdrawal>> {
    Ok(Json(withdrawals::mine(&state.app, &user, q.page, q.per_page).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// requested (default) | approved | paid | rejected | failed
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/operator/withdrawals", tag = "operator", params(QueueQuery),
    responses((status = 200, body = Vec<Withdrawal>), (status = 403, body = ErrorBody)))]
async fn withdrawal_queue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Vec<Withdrawal>> {
    Ok(Json(withdrawals::queue(&state.app, &user, q.status.as_deref(), q.page, q.per_page).await?))
}

#[utoipa::path(post, path = "/operator/withdrawals/{id}/approve", tag = "operator", params(("id" = String, Path)),
    responses((status = 200, body = Withdrawal), (status = 409, body = ErrorBody)))]
async fn approve_withdrawal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<WithdrawalId>,
) -> ApiResult<Withdrawal> {
    Ok(Json(withdrawals::decide(&state.app, &user, id, Decision::Approve).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Shown to the shop owner (1–200 characters).
    pub reason: String,
}

#[utoipa::path(post, path = "/operator/withdrawals/{id}/reject", tag = "operator", params(("id" = String, Path)), request_body = RejectInput,
    responses((status = 200, body = Withdrawal), (status = 409, body = ErrorBody)))]
async fn reject_withdrawal(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<WithdrawalId>,
    body: Bytes,
) -> ApiResult<Withdrawal> {
    let req: RejectInput = parse_json(&body)?;
    Ok(Json(withdrawals::decide(&state.app, &user, id, Decision::Reject { reason: req.reason }).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_earnings))
        .routes(routes!(request_withdrawal, my_withdrawals))
        .routes(routes!(withdrawal_queue))
        .routes(routes!(approve_withdrawal))
        .routes(routes!(reject_withdrawal))
}
