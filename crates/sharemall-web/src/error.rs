//! How errors leave the API: `{"error": {"code": "...", "message": "..."}}` with the status the
//! code's kind implies. Internal errors are logged once here and shown only as "internal".

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sharemall_domain::error::ErrorKind;
use sharemall_domain::{Error, ErrorCode};
use utoipa::ToSchema;

/// An API error response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `out_of_stock`.
    pub code: String,
    pub message: String,
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    match code.kind() {
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message a client may see: internal details stay in the log.
pub fn public_message(error: &Error) -> String {
    if error.code == ErrorCode::Internal {
        tracing::error!(detail = %error.message, "internal error");
        "something went wrong on our side; please try again".into()
    } else {
        error.message.clone()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code);
        let body = ErrorBody { error: ErrorDetail { code: self.0.code.as_str().into(), message: public_message(&self.0) } };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<Json<T>, ApiError>;
