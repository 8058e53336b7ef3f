//! Notifications as WeChat Pay sends them: a resource sealed with AES-256-GCM under the APIv3
//! key, the envelope signed with the platform key. Each field of [`Delivery`] can be changed
//! on its own, so a test builds the one forgery it is about.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{API_V3_KEY, APPID, MCHID, PLATFORM_SERIAL, key_pair, keys, lines, seal, sign, signature_headers};

pub const NOTIFICATION_ID: &str = "EV-2018022511223320873";
pub const TRANSACTION_ID: &str = "4200001234202611020000000001";
pub const REFUND_ID: &str = "50000000382019052709732678859";
const RESOURCE_NONCE: &str = "fdasflkja484";

/// A paid `TRANSACTION.SUCCESS` resource for our order `out_trade_no`.
pub fn transaction_resource(out_trade_no: &str, amount_fen: i64) -> Value {
    json!({
        "mchid": MCHID, "appid": APPID, "out_trade_no": out_trade_no,
        "transaction_id": TRANSACTION_ID, "trade_type": "JSAPI",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "CMC", "attach": "",
        "success_time": "2026-11-02T10:00:00+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY"}
    })
}

/// A `REFUND.SUCCESS` resource for our refund `out_refund_no` of order `out_trade_no`.
pub fn refund_resource(out_trade_no: &str, out_refund_no: &str, refund_fen: i64, total_fen: i64) -> Value {
    json!({
        "mchid": MCHID, "out_trade_no": out_trade_no, "transaction_id": TRANSACTION_ID,
        "out_refund_no": out_refund_no, "refund_id": REFUND_ID,
        "refund_status": "SUCCESS", "success_time": "2026-11-03T10:00:00+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": total_fen, "refund": refund_fen, "payer_total": total_fen, "payer_refund": refund_fen}
    })
}

/// Everything one notification is made of.
#[derive(Clone)]
pub struct Delivery {
    pub event_type: &'static str,
    pub resource: Value,
    pub algorithm: &'static str,
    pub api_v3_key: &'static str,
    pub flip_ciphertext_byte: bool,
    /// `Wechatpay-Timestamp`, Unix seconds.
    pub timestamp: i64,
    pub serial: &'static str,
    /// Which private key signs: the platform's, or a stranger's.
    pub signed_by_platform: bool,
    /// Applied to the signature after signing.
    pub mangle_signature: fn(String) -> String,
    /// Applied to the body after signing.
    pub tamper_body: fn(Vec<u8>) -> Vec<u8>,
    pub drop_signature_header: bool,
}

impl Delivery {
    /// A genuine payment notification sent at `timestamp` (Unix seconds).
    pub fn payment(out_trade_no: &str, amount_fen: i64, timestamp: i64) -> Delivery {
        Delivery {
            event_type: "TRANSACTION.SUCCESS",
            resource: transaction_resource(out_trade_no, amount_fen),
            algorithm: "AEAD_AES_256_GCM",
            api_v3_key: API_V3_KEY,
            flip_ciphertext_byte: false,
            timestamp,
            serial: PLATFORM_SERIAL,
            signed_by_platform: true,
            mangle_signature: |s| s,
            tamper_body: |b| b,
            drop_signature_header: false,
        }
    }

    /// A genuine `REFUND.SUCCESS` notification sent at `timestamp`.
    pub fn refund(out_trade_no: &str, out_refund_no: &str, refund_fen: i64, total_fen: i64, timestamp: i64) -> Delivery {
        Delivery {
            event_type: "REFUND.SUCCESS",
            resource: refund_resource(out_trade_no, out_refund_no, refund_fen, total_fen),
            ..Delivery::payment(out_trade_no, total_fen, timestamp)
        }
    }

    pub fn with_resource(mut self, edit: impl FnOnce(&mut Value)) -> Delivery {
        edit(&mut self.resource);
        self
    }

    /// The headers and raw body WeChat would post.
    pub fn build(&self) -> (HeaderMap, Vec<u8>) {
        let original_type = if self.event_type.starts_with("REFUND.") { "refund" } else { "transaction" };
        let plain = self.resource.to_string();
        let mut sealed = STANDARD.decode(seal(self.api_v3_key.as_bytes(), RESOURCE_NONCE, original_type, plain.as_bytes())).unwrap();
        if self.flip_ciphertext_byte {
            sealed[3] ^= 0x01;
        }
        let body = json!({
            "id": NOTIFICATION_ID,
            "create_time": "2026-11-02T10:00:05+08:00",
            "resource_type": "encrypt-resource",
            "event_type": self.event_type,
            "summary": "支付成功",
            "resource": {
                "original_type": original_type,
                "algorithm": self.algorithm,
                "ciphertext": STANDARD.encode(sealed),
                "associated_data": original_type,
                "nonce": RESOURCE_NONCE
            }
        })
        .to_string()
        .into_bytes();
        let timestamp = self.timestamp.to_string();
        let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
        let keys = keys();
        let signer = key_pair(if self.signed_by_platform { &keys.platform.pkcs8_der } else { &keys.stranger.pkcs8_der });
        let signature = (self.mangle_signature)(sign(&signer, &lines(&[timestamp.as_bytes(), nonce.as_bytes(), &body])));
        let mut headers = signature_headers(&timestamp, nonce, &signature, self.serial);
        if self.drop_signature_header {
            headers.remove("Wechatpay-Signature");
        }
        (headers, (self.tamper_body)(body))
    }
}
