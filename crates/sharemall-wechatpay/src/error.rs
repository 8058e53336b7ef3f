//! Failures of calls to WeChat Pay, with the one thing a caller's job must know: try again?
//!
//! `retryable` is true when the same call may succeed later *and* repeating it is safe. Every
//! call here is idempotent on WeChat's side by the merchant's own numbers (`out_trade_no`,
//! `out_refund_no`), so "the outcome is unknown" (timeouts, 5xx, an unverifiable answer) is
//! retryable too: the retry either does the work or reports it done. Permanent failures (4xx:
//! bad parameters, wrong keys, order already paid or closed) are not: repeating them changes
//! nothing until someone fixes the cause.
//!
//! Codes are the platform's stable [`ErrorCode`]s, so the web layer maps them like any other:
//!
//! | cause | code | retryable |
//! |---|---|---|
//! | timeout | `timeout` | yes |
//! | connection failure, 5xx, 429, `SYSTEM_ERROR`, `BANK_ERROR`, `FREQUENCY_LIMITED` | `overloaded` | yes |
//! | `NOT_ENOUGH` (merchant balance too low for a refund) | `payout_failed` | yes |
//! | `USER_ACCOUNT_ABNORMAL` (refund cannot reach the customer) | `payout_failed` | no |
//! | response signature missing or wrong, body unreadable or too large | `bad_signature` / `internal` | yes |
//! | 401 `SIGN_ERROR`, 403 `NO_AUTH`, `APPID_MCHID_NOT_MATCH`, `MCH_NOT_EXISTS` (our configuration) | `internal` | no |
//! | `ORDERPAID`, `OUT_TRADE_NO_USED`, `TRADE_ERROR` | `invalid_order_state` | no |
//! | `ORDER_CLOSED` | `order_expired` | no |
//! | 404, `ORDER_NOT_EXIST`, `RESOURCE_NOT_EXISTS` | `not_found` | no |
//! | other 4xx (`PARAM_ERROR`, `INVALID_REQUEST`, …), local validation | `invalid_input` | no |
//!
//! Local checks before sending may also give `refund_exceeds_paid` or `amount_out_of_range`.

use sharemall_domain::{Error, ErrorCode};

/// A failed call to WeChat Pay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ProviderError {
    pub code: ErrorCode,
    pub message: String,
    /// Safe and sensible to repeat the same call later.
    pub retryable: bool,
    /// The HTTP status WeChat answered with, if it answered.
    pub http_status: Option<u16>,
    /// WeChat's own error code (`PARAM_ERROR`, `SYSTEM_ERROR`, …), if it sent one.
    pub wechat_code: Option<String>,
}

impl ProviderError {
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    pub(crate) fn local(code: ErrorCode, message: impl Into<String>) -> ProviderError {
        ProviderError { code, message: message.into(), retryable: false, http_status: None, wechat_code: None }
    }

    /// The outcome is unknown: safe to repeat, since every call is idempotent.
    pub(crate) fn unknown(code: ErrorCode, message: impl Into<String>, http_status: Option<u16>) -> ProviderError {
        ProviderError { code, message: message.into(), retryable: true, http_status, wechat_code: None }
    }

    /// Maps WeChat's answer `status` with error JSON `{code, message}` (either may be missing).
    pub(crate) fn from_response(status: u16, wechat_code: Option<String>, wechat_message: Option<String>) -> ProviderError {
        let (code, retryable) = classify(status, wechat_code.as_deref());
        let message = format!(
            "WeChat Pay answered {status} {}: {}",
            wechat_code.as_deref().unwrap_or("(no code)"),
            wechat_message.as_deref().unwrap_or("(no message)")
        );
        ProviderError { code, message, retryable, http_status: Some(status), wechat_code }
    }
}

impl From<ProviderError> for Error {
    fn from(e: ProviderError) -> Error {
        Error::new(e.code, e.message)
    }
}

/// WeChat's error code decides first (it is more specific), then the HTTP status.
fn classify(status: u16, wechat_code: Option<&str>) -> (ErrorCode, bool) {
    match wechat_code {
        Some("SYSTEM_ERROR" | "BANK_ERROR" | "FREQUENCY_LIMITED") => return (ErrorCode::Overloaded, true),
        Some("NOT_ENOUGH") => return (ErrorCode::PayoutFailed, true),
        Some("USER_ACCOUNT_ABNORMAL") => return (ErrorCode::PayoutFailed, false),
        Some("SIGN_ERROR" | "NO_AUTH" | "APPID_MCHID_NOT_MATCH" | "MCH_NOT_EXISTS") => return (ErrorCode::Internal, false),
        Some("ORDERPAID" | "OUT_TRADE_NO_USED" | "TRADE_ERROR") => return (ErrorCode::InvalidOrderState, false),
        Some("ORDER_CLOSED") => return (ErrorCode::OrderExpired, false),
        Some("ORDER_NOT_EXIST" | "RESOURCE_NOT_EXISTS") => return (ErrorCode::NotFound, false),
        _ => {}
    }
    match status {
        429 | 500..=599 => (ErrorCode::Overloaded, true),
        401 | 403 => (ErrorCode::Internal, false),
        404 => (ErrorCode::NotFound, false),
        400..=499 => (ErrorCode::InvalidInput, false),
        // 1xx/3xx (redirects are not followed): a wrong base_url, not a WeChat answer.
        _ => (ErrorCode::Internal, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases: &[(u16, Option<&str>, ErrorCode, bool)] = &[
            (500, Some("SYSTEM_ERROR"), ErrorCode::Overloaded, true),
            (502, None, ErrorCode::Overloaded, true),
            (429, Some("FREQUENCY_LIMITED"), ErrorCode::Overloaded, true),
            (403, Some("NOT_ENOUGH"), ErrorCode::PayoutFailed, true),
            (400, Some("USER_ACCOUNT_ABNORMAL"), ErrorCode::PayoutFailed, false),
            (401, Some("SIGN_ERROR"), ErrorCode::Internal, false),
            (403, Some("NO_AUTH"), ErrorCode::Internal, false),
            (403, Some("ORDERPAID"), ErrorCode::InvalidOrderState, false),
            (400, Some("ORDER_CLOSED"), ErrorCode::OrderExpired, false),
            (404, Some("ORDER_NOT_EXIST"), ErrorCode::NotFound, false),
            (400, Some("PARAM_ERROR"), ErrorCode::InvalidInput, false),
            (400, Some("INVALID_REQUEST"), ErrorCode::InvalidInput, false),
            (418, None, ErrorCode::InvalidInput, false),
            (302, None, ErrorCode::Internal, false),
        ];
        for &(status, code, expected, retryable) in cases {
            assert_eq!(classify(status, code), (expected, retryable), "{status} {code:?}");
        }
    }
}
