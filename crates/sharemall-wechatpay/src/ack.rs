//! The answer WeChat expects from the notify URL. Any 2xx stops redelivery; anything else
//! makes WeChat try again (15 s, 15 s, 30 s, 3 min, … for about 24 h).

use sharemall_domain::{Error, ErrorCode, error::ErrorKind};

/// Status and JSON body for the notify route's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub status: u16,
    pub body: String,
}

impl Ack {
    pub const CONTENT_TYPE: &'static str = "application/json";

    /// The notification was applied (or had been already): `200 {"code":"SUCCESS"}`.
    pub fn success() -> Ack {
        Ack { status: 200, body: r#"{"code":"SUCCESS"}"#.to_string() }
    }

    /// Not applied: WeChat will redeliver. `message` is shown in WeChat's merchant console.
    pub fn failure(status: u16, message: &str) -> Ack {
        let status = if (400..=599).contains(&status) { status } else { 500 };
        Ack { status, body: serde_json::json!({ "code": "FAIL", "message": message }).to_string() }
    }

    /// The answer for a notification that ended in `error`.
    ///
    /// `ReplayedCallback` is acknowledged as success: it means the change was already made,
    /// and failing would only make WeChat redeliver for a day. Everything else fails with a
    /// status by kind, and only the stable error code as message so that no internal detail
    /// leaves the service.
    pub fn for_error(error: &Error) -> Ack {
        if error.code == ErrorCode::ReplayedCallback {
            return Ack::success();
        }
        let status = match error.code.kind() {
            ErrorKind::Invalid => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::TooLarge => 413,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        };
        Ack::failure(status, error.code.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn bodies_are_what_wechat_expects() {
        assert_eq!(Ack::success(), Ack { status: 200, body: r#"{"code":"SUCCESS"}"#.into() });
        let fail = Ack::for_error(&Error::new(ErrorCode::BadSignature, "secret detail"));
        assert_eq!(fail.status, 401);
        let body: serde_json::Value = serde_json::from_str(&fail.body).unwrap();
        assert_eq!(body, serde_json::json!({"code": "FAIL", "message": "bad_signature"}));
        assert_eq!(Ack::for_error(&Error::internal("db down")).status, 500);
        assert_eq!(Ack::for_error(&Error::new(ErrorCode::ReplayedCallback, "dup")), Ack::success());
        assert_eq!(Ack::failure(200, "x").status, 500);
    }
}
