//! Payment and refund notifications (支付通知 / 退款结果通知): verify, decrypt, parse.
//!
//! Verification is a pure function of the headers, the raw body bytes, the configured keys and
//! the caller's clock, so it is tested without a network and the caller decides what "now" is.

use reqwest::header::HeaderMap;
use serde::Deserialize;
use sharemall_domain::{Error, ErrorCode};

use crate::WechatPay;
use crate::model::{PaidTransaction, RefundNotice};
use crate::signing::SignatureHeaders;

/// Notifications are a couple of kilobytes; the route should cap the body before this, and
/// this refuses anything larger than WeChat would ever send.
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;
/// The only resource algorithm WeChat uses.
pub const RESOURCE_ALGORITHM: &str = "AEAD_AES_256_GCM";

/// A verified, decrypted notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `TRANSACTION.*` (in practice `TRANSACTION.SUCCESS`). Still to be checked against the
    /// stored order with [`check_against_order`](crate::check_against_order).
    Transaction(PaidTransaction),
    /// `REFUND.SUCCESS`, `REFUND.ABNORMAL` or `REFUND.CLOSED`: read
    /// [`RefundNotice::refund_status`], and check with
    /// [`check_refund_against`](crate::check_refund_against).
    Refund(RefundNotice),
    /// A genuine notification of a kind this library does not interpret. Acknowledge it so
    /// WeChat stops resending, and change nothing.
    Other { id: String, event_type: String },
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    event_type: String,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

fn malformed(what: &str, e: serde_json::Error) -> Error {
    Error::new(ErrorCode::MalformedJson, format!("notification {what}: {e}"))
}

impl WechatPay {
    /// Verifies and opens a notification WeChat posted to `notify_url`.
    ///
    /// `raw_body` must be the bytes exactly as received: the signature covers them, so a body
    /// that was parsed and re-serialised will not verify. In order:
    ///
    /// 1. body at most [`MAX_NOTIFICATION_BYTES`], else `BodyTooLarge`;
    /// 2. `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial` all present, the signature
    ///    not a `WECHATPAY/SIGNTEST/` probe, the serial a configured platform key, the
    ///    signature base64 and valid over `timestamp\nnonce\nbody\n`, else `BadSignature`;
    /// 3. the timestamp within ±300 s of `now_unix_secs`, else `StaleCallback`;
    /// 4. the envelope JSON well formed (`MalformedJson`) with algorithm `AEAD_AES_256_GCM`
    ///    (`InvalidInput`);
    /// 5. the resource opened with the APIv3 key, else `BadSignature`;
    /// 6. the resource parsed for its event type (`MalformedJson`).
    ///
    /// Duplicates are not refused here: WeChat redelivers until acknowledged, so the same
    /// notification arriving twice is normal and the caller's state change must be idempotent.
    pub fn verify_notification(&self, headers: &HeaderMap, raw_body: &[u8], now_unix_secs: i64) -> Result<Notification, Error> {
        if raw_body.len() > MAX_NOTIFICATION_BYTES {
            return Err(Error::new(ErrorCode::BodyTooLarge, format!("notification body over {MAX_NOTIFICATION_BYTES} bytes")));
        }
        let signature = SignatureHeaders::from_headers(headers)
            .ok_or_else(|| Error::new(ErrorCode::BadSignature, "notification lacks Wechatpay-* signature headers"))?;
        self.verifier.verify(&signature, raw_body, now_unix_secs)?;
        let envelope: Envelope = serde_json::from_slice(raw_body).map_err(|e| malformed("body", e))?;
        let Resource { algorithm, ciphertext, associated_data, nonce } = envelope.resource;
        if algorithm != RESOURCE_ALGORITHM {
            return Err(Error::invalid(format!("notification resource algorithm '{algorithm}' is not {RESOURCE_ALGORITHM}")));
        }
        let plain = self.resource_key.open(&nonce, &associated_data, &ciphertext)?;
        let event_type = envelope.event_type;
        if event_type.starts_with("TRANSACTION.") {
            let transaction = serde_json::from_slice(&plain).map_err(|e| malformed("transaction", e))?;
            Ok(Notification::Transaction(transaction))
        } else if event_type.starts_with("REFUND.") {
            let refund = serde_json::from_slice(&plain).map_err(|e| malformed("refund", e))?;
            Ok(Notification::Refund(refund))
        } else {
            Ok(Notification::Other { id: envelope.id, event_type })
        }
    }
}
