//! After-sales: the customer's returns, and the supplier's and operator's handling of them.
//! Opening a case moves money, so it takes an `Idempotency-Key`; every later step is guarded
//! by the case's state, so repeating one is refused rather than applied twice.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use sharemall_app::after_sales::{self, Answer, ReturnForm};
use sharemall_domain::account::Role;
use sharemall_domain::{AfterSaleId, OrderId};
use sharemall_store::ops::after_sale_views::AfterSale;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, CurrentUser, idempotency_key, parse_json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    pub line_no: i64,
    /// Units of the line to return (1 to what is left of it).
    pub quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    /// no_reason (within 7 days of receipt, returnable goods) | quality (within 15 days)
    pub reason: String,
    /// What is wrong (required for quality returns, ≤ 200 characters).
    #[serde(default)]
    pub description: String,
    /// 1–50 lines, all from one supplier.
    pub lines: Vec<ReturnLineInput>,
}

#[utoipa::path(post, path = "/orders/{id}/returns", tag = "after-sales", request_body = ReturnInput,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = AfterSale), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_return(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<OrderId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<AfterSale> {
    let req: ReturnInput = parse_json(&body)?;
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/orders/{id}/returns"), &body)?;
    let form = ReturnForm {
        order: id,
        reason: req.reason,
        description: req.description,
        lines: req.lines.iter().map(|l| (l.line_no, l.quantity)).collect(),
    };
    Ok(Json(after_sales::request(&state.app, &user, form, Some(key)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReturnsQuery {
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/me/returns", tag = "after-sales", params(ReturnsQuery), responses((status = 200, body = Vec<AfterSale>)))]
async fn my_returns(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<ReturnsQuery>,
) -> ApiResult<Vec<AfterSale>> {
    Ok(Json(after_sales::mine(&state.app, &user, q.page, q.per_page).await?))
}

#[utoipa::path(get, path = "/returns/{id}", tag = "after-sales", params(("id" = String, Path)),
    responses((status = 200, body = AfterSale), (status = 404, body = ErrorBody)))]
async fn one_return(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<AfterSaleId>) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::case_for(&state.app, &user, id).await?))
}

#[utoipa::path(post, path = "/returns/{id}/cancel", tag = "after-sales", params(("id" = String, Path)),
    responses((status = 200, body = AfterSale), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_return(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<AfterSaleId>) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::cancel(&state.app, &user, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipBackInput {
    pub carrier: String,
    /// 6–40 letters, digits or dashes.
    pub tracking_no: String,
}

#[utoipa::path(post, path = "/returns/{id}/ship-back", tag = "after-sales", params(("id" = String, Path)), request_body = ShipBackInput,
    responses((status = 200, body = AfterSale), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn ship_back(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<AfterSaleId>,
    ApiJson(req): ApiJson<ShipBackInput>,
) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::ship_back(&state.app, &user, id, &req.carrier, &req.tracking_no).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// open (default: every case waiting on someone) | requested | approved | returned | refunding | refunded | rejected | cancelled | closed | refund_failed
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/supplier/returns", tag = "supplier", params(QueueQuery),
    responses((status = 200, body = Vec<AfterSale>), (status = 403, body = ErrorBody)))]
async fn supplier_queue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Vec<AfterSale>> {
    Ok(Json(after_sales::queue(&state.app, &user, Role::Supplier, q.status.as_deref(), q.page, q.per_page).await?))
}

#[utoipa::path(get, path = "/operator/returns", tag = "operator", params(QueueQuery),
    responses((status = 200, body = Vec<AfterSale>), (status = 403, body = ErrorBody)))]
async fn operator_queue(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Vec<AfterSale>> {
    Ok(Json(after_sales::queue(&state.app, &user, Role::Operator, q.status.as_deref(), q.page, q.per_page).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveInput {
    /// return_and_refund (the goods come back first) | refund_only (refund now, goods stay)
    pub resolution: String,
}

#[utoipa::path(post, path = "/returns/{id}/approve", tag = "after-sales", params(("id" = String, Path)), request_body = ApproveInput,
    responses((status = 200, body = AfterSale), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<AfterSaleId>,
    ApiJson(req): ApiJson<ApproveInput>,
) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::decide(&state.app, &user, id, Answer::Approve { resolution: req.resolution }).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    /// Shown to the customer (1–200 characters).
    pub reason: String,
}

#[utoipa::path(post, path = "/returns/{id}/reject", tag = "after-sales", params(("id" = String, Path)), request_body = RejectInput,
    responses((status = 200, body = AfterSale), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<AfterSaleId>,
    ApiJson(req): ApiJson<RejectInput>,
) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::decide(&state.app, &user, id, Answer::Reject { note: req.reason }).await?))
}

#[utoipa::path(post, path = "/returns/{id}/goods-received", tag = "after-sales", params(("id" = String, Path)),
    description = "The returned goods arrived: they go back into stock and the refund starts.",
    responses((status = 200, body = AfterSale), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn goods_received(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<AfterSaleId>,
) -> ApiResult<AfterSale> {
    Ok(Json(after_sales::confirm_goods_back(&state.app, &user, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_return))
        .routes(routes!(my_returns))
        .routes(routes!(one_return))
        .routes(routes!(cancel_return))
        .routes(routes!(ship_back))
        .routes(routes!(supplier_queue))
        .routes(routes!(operator_queue))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(goods_received))
}
