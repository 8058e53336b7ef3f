//! Orders and payments. Money-moving POSTs require an `Idempotency-Key`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use sharemall_app::orders::{self, Checkout, Perspective};
use sharemall_app::payments::{self, CallbackHeaders, Payer, PaymentStarted};
use sharemall_app::sandbox;
use sharemall_app::shares;
use sharemall_domain::order::OrderStatus;
use sharemall_domain::{Error, ErrorCode, OrderId, ShopId, SkuId};
use sharemall_store::model::{Order, OrderPlaced, SessionUser};
use sharemall_store::ops::payments::{PaymentApplied, RefundRequested};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::accounts::Done;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientAddr, CurrentUser, idempotency_key, parse_json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    pub sku_id: String,
    pub quantity: i64,
}

/// An order request. There is deliberately no price field: sending one is refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    /// The shop to buy in. Omitted: the shop the customer is bound to (buying through the
    /// platform), or `shop_required` when they are bound to none.
    #[serde(default)]
    pub shop_id: Option<String>,
    /// Lines to buy; omit and set `from_cart` to check out the cart.
    #[serde(default)]
    pub items: Vec<OrderLineInput>,
    #[serde(default)]
    pub from_cart: bool,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    #[serde(default)]
    pub note: String,
}

/// Parses an order request. There is no price field, so a price is an unknown field; it is
/// reported with its own code so a client learns *why* (the check runs only on that failure,
/// keeping the hot path to one parse).
pub(crate) fn parse_order_request<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    parse_json(body).map_err(|e| {
        let price_keys = ["price", "price_fen", "unit_fen", "amount_fen", "payable_fen", "total_fen", "unit_price"];
        let names_price = price_keys.iter().any(|k| e.message.contains(&format!("unknown field `{k}`")));
        if e.code == ErrorCode::UnknownField && names_price {
            Error::new(ErrorCode::ClientPriceRejected, "prices are decided by the server; do not send them")
        } else {
            e
        }
    })
}

#[utoipa::path(post, path = "/orders", tag = "orders", request_body = PlaceOrderRequest,
    params(("Idempotency-Key" = String, Header, description = "required; a replay returns the first response")),
    responses((status = 200, body = OrderPlaced), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn place_order(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<OrderPlaced> {
    let req: PlaceOrderRequest = parse_order_request(&body)?;
    let key = idempotency_key(&headers, &user, "POST /api/v1/orders", &body)?;
    let shop = shop_or_bound(&state, &user, req.shop_id.as_deref()).await?;
    let mut lines = Vec::with_capacity(req.items.len());
    for item in &req.items {
        let sku: SkuId = item.sku_id.parse().map_err(|_| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
        lines.push((sku, item.quantity));
    }
    if req.from_cart {
        if !lines.is_empty() {
            return Err(Error::invalid("send either items or from_cart, not both").into());
        }
        lines = orders::cart(&state.app, &user, shop).await?.into_iter().map(|l| (l.sku_id, l.quantity)).collect();
    }
    let checkout = Checkout {
        shop,
        lines,
        recipient: req.recipient,
        phone: req.phone,
        address: req.address,
        note: req.note,
        from_cart: req.from_cart,
    };
    Ok(Json(orders::place_order(&state.app, &user, checkout, Some(key)).await?))
}

/// The shop a customer names, or the one they are bound to (buying through the platform), or
/// `shop_required` when they are bound to none.
pub(crate) async fn shop_or_bound(state: &AppState, user: &SessionUser, named: Option<&str>) -> Result<ShopId, Error> {
    match named {
        Some(id) => id.parse().map_err(|_| Error::not_found("shop")),
        None => shares::bound_shop(&state.app, user)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::ShopRequired, "choose a shop: this account is not bound to one through a share")),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrderListQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// created | to_ship | shipped | received | completed | cancelled | refunding | refunded
    pub status: Option<String>,
}

fn status_param(text: Option<&str>) -> Result<Option<OrderStatus>, Error> {
    text.map(|t| OrderStatus::parse(t).map_err(|_| Error::invalid(format!("unknown status '{t}'")))).transpose()
}

async fn list(state: &AppState, user: &sharemall_store::model::SessionUser, view: Perspective, q: OrderListQuery) -> ApiResult<Vec<Order>> {
    Ok(Json(orders::list_for(&state.app, user, view, status_param(q.status.as_deref())?, q.page, q.per_page).await?))
}

#[utoipa::path(get, path = "/orders", tag = "orders", params(OrderListQuery), responses((status = 200, body = Vec<Order>)))]
async fn my_orders(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OrderListQuery>,
) -> ApiResult<Vec<Order>> {
    list(&state, &user, Perspective::Customer, q).await
}

#[utoipa::path(get, path = "/shop/orders", tag = "shops", params(OrderListQuery), responses((status = 200, body = Vec<Order>), (status = 409, body = ErrorBody)))]
async fn shop_orders(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OrderListQuery>,
) -> ApiResult<Vec<Order>> {
    list(&state, &user, Perspective::ShopOwner, q).await
}

#[utoipa::path(get, path = "/supplier/orders", tag = "supplier", params(OrderListQuery), responses((status = 200, body = Vec<Order>), (status = 403, body = ErrorBody)))]
async fn supplier_orders(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OrderListQuery>,
) -> ApiResult<Vec<Order>> {
    list(&state, &user, Perspective::Supplier, q).await
}

#[utoipa::path(get, path = "/operator/orders", tag = "operator", params(OrderListQuery), responses((status = 200, body = Vec<Order>), (status = 403, body = ErrorBody)))]
async fn platform_orders(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<OrderListQuery>,
) -> ApiResult<Vec<Order>> {
    list(&state, &user, Perspective::Operator, q).await
}

#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = String, Path)), responses((status = 200, body = Order), (status = 404, body = ErrorBody)))]
async fn order(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<OrderId>) -> ApiResult<Order> {
    Ok(Json(orders::order_for(&state.app, &user, id, Perspective::Customer).await?))
}

#[utoipa::path(get, path = "/shop/orders/{id}", tag = "shops", params(("id" = String, Path)), responses((status = 200, body = Order), (status = 404, body = ErrorBody)))]
async fn shop_order(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<OrderId>) -> ApiResult<Order> {
    Ok(Json(orders::order_for(&state.app, &user, id, Perspective::ShopOwner).await?))
}

#[utoipa::path(post, path = "/orders/{id}/cancel", tag = "orders", params(("id" = String, Path)), responses((status = 200, body = Done), (status = 409, body = ErrorBody)))]
async fn cancel(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<OrderId>) -> ApiResult<Done> {
    orders::cancel(&state.app, &user, id).await?;
    Ok(Json(Done { ok: true }))
}

#[utoipa::path(post, path = "/orders/{id}/receive", tag = "orders", params(("id" = String, Path)), responses((status = 200, body = Done), (status = 409, body = ErrorBody)))]
async fn receive(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<OrderId>) -> ApiResult<Done> {
    orders::confirm_receipt(&state.app, &user, id).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// `sandbox`, `wechat_h5` (pay in a mobile browser; WeChat's page is `pay_url`) or
    /// `wechat_jsapi` (inside WeChat; needs `openid`, answers `jsapi` for `wx.requestPayment`).
    pub provider: String,
    /// `wechat_jsapi` only: the payer's openid under our appid, from the mini-program or
    /// official-account login. A wrong one only makes WeChat refuse to pay.
    #[serde(default)]
    pub openid: Option<String>,
}

#[utoipa::path(post, path = "/orders/{id}/payments", tag = "orders", params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = PayRequest, responses((status = 200, body = PaymentStarted), (status = 409, body = ErrorBody)))]
async fn pay(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientAddr(client_ip): ClientAddr,
    Path(id): Path<OrderId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<PaymentStarted> {
    let req: PayRequest = parse_json(&body)?;
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/orders/{id}/payments"), &body)?;
    let payer = Payer { client_ip: Some(client_ip), openid: req.openid };
    Ok(Json(payments::start_payment_with(&state.app, &user, id, &req.provider, &payer, Some(key)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    pub carrier: String,
    pub tracking_no: String,
}

#[utoipa::path(post, path = "/supplier/orders/{id}/ship", tag = "supplier", params(("id" = String, Path)), request_body = ShipRequest,
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn ship(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<OrderId>,
    ApiJson(req): ApiJson<ShipRequest>,
) -> ApiResult<Done> {
    orders::ship(&state.app, &user, id, &req.carrier, &req.tracking_no).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    pub amount_fen: i64,
    pub reason: String,
}

#[utoipa::path(post, path = "/operator/orders/{id}/refunds", tag = "operator", params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body = RefundRequest, responses((status = 200, body = RefundRequested), (status = 409, body = ErrorBody)))]
async fn refund(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<OrderId>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<RefundRequested> {
    let req: RefundRequest = parse_json(&body)?;
    let key = idempotency_key(&headers, &user, &format!("POST /api/v1/operator/orders/{id}/refunds"), &body)?;
    Ok(Json(orders::refund(&state.app, &user, id, req.amount_fen, &req.reason, Some(key)).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAck {
    pub code: String,
    #[schema(value_type = String)]
    pub applied: PaymentApplied,
}

#[utoipa::path(post, path = "/payments/sandbox/notify", tag = "payments",
    description = "The sandbox provider's signed payment callback: headers sandbox-timestamp, sandbox-nonce, sandbox-signature (base64 HMAC-SHA256 of `ts\\nnonce\\nbody\\n`).",
    responses((status = 200, body = CallbackAck), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn sandbox_notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> ApiResult<CallbackAck> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let callback = CallbackHeaders {
        timestamp: header(sandbox::HEADER_TIMESTAMP),
        nonce: header(sandbox::HEADER_NONCE),
        signature: header(sandbox::HEADER_SIGNATURE),
    };
    let applied = payments::sandbox_callback(&state.app, callback, &body).await?;
    Ok(Json(CallbackAck { code: "SUCCESS".into(), applied }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order, my_orders))
        .routes(routes!(shop_orders))
        .routes(routes!(supplier_orders))
        .routes(routes!(platform_orders))
        .routes(routes!(order))
        .routes(routes!(shop_order))
        .routes(routes!(cancel))
        .routes(routes!(receive))
        .routes(routes!(pay))
        .routes(routes!(ship))
        .routes(routes!(refund))
        .routes(routes!(sandbox_notify))
}
