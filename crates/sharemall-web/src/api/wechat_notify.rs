//! `POST /api/v1/payments/wechat/notify`: WeChat Pay's payment and refund notifications.
//!
//! This file only reads the raw body (the signature covers the exact bytes, so it is never
//! parsed here) and answers in the shape WeChat expects; what a notification means is
//! `sharemall_app::wechat::notification`'s decision.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sharemall_app::wechat;
use sharemall_domain::{Error, ErrorCode};
use sharemall_wechatpay::{Ack, MAX_NOTIFICATION_BYTES};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The answer WeChat reads: `{"code":"SUCCESS"}`, or `{"code":"FAIL","message":<error code>}`
/// (WeChat delivers again after any answer that is not 2xx).
#[derive(Debug, Serialize, ToSchema)]
pub struct WechatAck {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[utoipa::path(post, path = "/payments/wechat/notify", tag = "payments",
    description = "WeChat Pay API v3 payment and refund notifications, verified with the configured platform keys (Wechatpay-Timestamp, -Nonce, -Signature, -Serial over the raw body) and the APIv3 key. Success for a notification applied now or before; 4xx for a forged, stale or mismatched one; 5xx when retrying may help.",
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WechatAck), (status = 400, body = WechatAck), (status = 401, body = WechatAck),
        (status = 404, body = WechatAck), (status = 409, body = WechatAck), (status = 413, body = WechatAck),
        (status = 500, body = WechatAck), (status = 503, body = WechatAck)))]
async fn wechat_notify(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let ack = match body {
        Err(rejection) => {
            let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::BodyTooLarge } else { ErrorCode::InvalidInput };
            Ack::for_error(&Error::new(code, rejection.body_text()))
        }
        Ok(body) => match wechat::notification(&state.app, &headers, &body).await {
            Ok(outcome) => {
                tracing::info!(?outcome, "WeChat Pay notification");
                Ack::success()
            }
            Err(e) => {
                tracing::warn!(code = e.code.as_str(), error = %e, "WeChat Pay notification not applied");
                Ack::for_error(&e)
            }
        },
    };
    let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, Ack::CONTENT_TYPE)], ack.body).into_response()
}

pub fn routes() -> OpenApiRouter<AppState> {
    // WeChat's notifications are a few kilobytes; the library refuses more than this anyway.
    OpenApiRouter::new().routes(routes!(wechat_notify)).layer(DefaultBodyLimit::max(MAX_NOTIFICATION_BYTES))
}
