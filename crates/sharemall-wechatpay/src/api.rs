//! The endpoints: JSAPI and H5 orders, order query and close, refunds; and the JSAPI pay-sign
//! parameters the page hands to `WeixinJSBridge` / `wx.requestPayment`.
//!
//! Inputs are checked before anything is signed or sent: the merchant's numbers go into URL
//! paths, so only WeChat's documented characters are allowed in them.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use sharemall_domain::money::MAX_AMOUNT_FEN;
use sharemall_domain::{Error, ErrorCode};

use crate::WechatPay;
use crate::check::CURRENCY;
use crate::error::ProviderError;
use crate::model::{PaidTransaction, RefundAmount, RefundStatus};
use crate::signing::{message, new_nonce};

/// A JSAPI order (official account page or mini-program): the customer is known by `openid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsapiOrder {
    /// Shown to the customer; at most 127 characters.
    pub description: String,
    /// Our order's payment number: 6–32 of `0-9 A-Z a-z _ - * |`.
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub openid: String,
    /// RFC 3339 deadline after which WeChat refuses payment; set it to the unpaid-order
    /// cancellation time so nobody pays an order we already cancelled.
    pub time_expire: Option<String>,
}

/// An H5 order (a mobile browser outside WeChat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H5Order {
    pub description: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    /// The customer's IP address as our edge saw it (WeChat compares it with the payer's).
    pub payer_client_ip: String,
    pub time_expire: Option<String>,
}

/// A refund of (part of) a paid order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub out_trade_no: String,
    /// Our refund's number, 1–64 of `0-9 A-Z a-z _ - * | @`; repeating it repeats nothing.
    pub out_refund_no: String,
    pub refund_fen: i64,
    /// The original order amount.
    pub total_fen: i64,
    /// Shown to the customer; at most 80 characters.
    pub reason: Option<String>,
}

/// The parameters for `wx.requestPayment` / `WeixinJSBridge.invoke('getBrandWCPayRequest')`,
/// serialised with the names WeChat's JavaScript expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiPayParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=…`
    pub package: String,
    /// Always `RSA`.
    pub sign_type: String,
    /// Merchant RSA-SHA256 over `appId\ntimeStamp\nnonceStr\npackage\n`, base64.
    pub pay_sign: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsapiPrepay {
    pub prepay_id: String,
    pub pay_params: JsapiPayParams,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct H5Prepay {
    /// Send the customer here; it may be valid for five minutes only.
    pub h5_url: String,
}

/// WeChat's answer to a refund request. `status` is usually `Processing`; the final outcome
/// comes by `REFUND.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundResult {
    pub refund_id: String,
    pub out_refund_no: String,
    pub status: RefundStatus,
    #[serde(default)]
    pub success_time: Option<String>,
    pub amount: RefundAmount,
}

#[derive(Serialize)]
struct Amount {
    total: i64,
    currency: &'static str,
}

#[derive(Serialize)]
struct Payer<'a> {
    openid: &'a str,
}

#[derive(Serialize)]
struct H5Info {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct SceneInfo<'a> {
    payer_client_ip: &'a str,
    h5_info: H5Info,
}

#[derive(Serialize)]
struct OrderBody<'a> {
    appid: &'a str,
    mchid: &'a str,
    description: &'a str,
    out_trade_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_expire: Option<&'a str>,
    notify_url: &'a str,
    amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer: Option<Payer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scene_info: Option<SceneInfo<'a>>,
}

#[derive(Serialize)]
struct RefundAmountBody {
    refund: i64,
    total: i64,
    currency: &'static str,
}

#[derive(Serialize)]
struct RefundBody<'a> {
    out_trade_no: &'a str,
    out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    notify_url: &'a str,
    amount: RefundAmountBody,
}

#[derive(Deserialize)]
struct PrepayAnswer {
    prepay_id: String,
}

fn invalid(message: String) -> ProviderError {
    ProviderError::local(ErrorCode::InvalidInput, message)
}

fn merchant_number(field: &str, value: &str, max: usize, min: usize, extra: &[u8]) -> Result<(), ProviderError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_-*|".contains(&b) || extra.contains(&b);
    if value.len() < min || value.len() > max || !value.bytes().all(allowed) {
        return Err(invalid(format!("{field} must be {min}–{max} of 0-9 A-Z a-z _ - * |{}", String::from_utf8_lossy(extra))));
    }
    Ok(())
}

fn out_trade_no(value: &str) -> Result<(), ProviderError> {
    merchant_number("out_trade_no", value, 32, 6, b"")
}

fn text(field: &str, value: &str, max_chars: usize) -> Result<(), ProviderError> {
    if value.trim().is_empty() || value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(invalid(format!("{field} must be 1–{max_chars} characters without control characters")));
    }
    Ok(())
}

fn amount(field: &str, fen: i64) -> Result<(), ProviderError> {
    if !(1..=MAX_AMOUNT_FEN).contains(&fen) {
        return Err(ProviderError::local(ErrorCode::AmountOutOfRange, format!("{field} must be 1 to {MAX_AMOUNT_FEN} fen")));
    }
    Ok(())
}

fn time_expire(value: Option<&str>) -> Result<(), ProviderError> {
    value.map_or(Ok(()), |v| text("time_expire", v, 64))
}

fn to_json(body: &impl Serialize) -> Result<Vec<u8>, ProviderError> {
    serde_json::to_vec(body).map_err(|e| ProviderError::local(ErrorCode::Internal, format!("request body: {e}")))
}

impl WechatPay {
    /// The fields every order request carries; JSAPI adds the payer, H5 the scene.
    fn order_body<'a>(
        &'a self,
        description: &'a str,
        out_trade_no: &'a str,
        time_expire: Option<&'a str>,
        amount_fen: i64,
    ) -> OrderBody<'a> {
        OrderBody {
            appid: &self.appid,
            mchid: &self.mchid,
            description,
            out_trade_no,
            time_expire,
            notify_url: &self.notify_url,
            amount: Amount { total: amount_fen, currency: CURRENCY },
            payer: None,
            scene_info: None,
        }
    }

    /// Creates a JSAPI order (`POST /v3/pay/transactions/jsapi`) and signs the pay parameters
    /// for the page. Repeating it with the same `out_trade_no` and fields returns the same
    /// `prepay_id`.
    pub async fn create_jsapi_order(&self, order: &JsapiOrder) -> Result<JsapiPrepay, ProviderError> {
        text("description", &order.description, 127)?;
        out_trade_no(&order.out_trade_no)?;
        amount("amount_fen", order.amount_fen)?;
        text("openid", &order.openid, 128)?;
        time_expire(order.time_expire.as_deref())?;
        let body = OrderBody {
            payer: Some(Payer { openid: &order.openid }),
            ..self.order_body(&order.description, &order.out_trade_no, order.time_expire.as_deref(), order.amount_fen)
        };
        let answer = self.call(Method::POST, "/v3/pay/transactions/jsapi", Some(to_json(&body)?)).await?;
        let PrepayAnswer { prepay_id } = Self::parse(&answer, "JSAPI order")?;
        let pay_params =
            self.jsapi_pay_params(&prepay_id, self.now_secs()?).map_err(|e| ProviderError::unknown(e.code, e.message, None))?;
        Ok(JsapiPrepay { prepay_id, pay_params })
    }

    /// Signs the JSAPI pay parameters for `prepay_id` at `timestamp_secs` with the merchant key.
    pub fn jsapi_pay_params(&self, prepay_id: &str, timestamp_secs: u64) -> Result<JsapiPayParams, Error> {
        if prepay_id.is_empty() || prepay_id.len() > 128 || !prepay_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid("prepay_id must be 1–128 visible ASCII characters"));
        }
        let time_stamp = timestamp_secs.to_string();
        let nonce_str = new_nonce(self.signer.rng())?;
        let package = format!("prepay_id={prepay_id}");
        let signed = message(&[self.appid.as_bytes(), time_stamp.as_bytes(), nonce_str.as_bytes(), package.as_bytes()]);
        let pay_sign = self.signer.sign(&signed)?;
        Ok(JsapiPayParams { app_id: self.appid.clone(), time_stamp, nonce_str, package, sign_type: "RSA".into(), pay_sign })
    }

    /// Creates an H5 order (`POST /v3/pay/transactions/h5`, scene `Wap`).
    pub async fn create_h5_order(&self, order: &H5Order) -> Result<H5Prepay, ProviderError> {
        text("description", &order.description, 127)?;
        out_trade_no(&order.out_trade_no)?;
        amount("amount_fen", order.amount_fen)?;
        if order.payer_client_ip.parse::<std::net::IpAddr>().is_err() {
            return Err(invalid("payer_client_ip must be an IPv4 or IPv6 address".into()));
        }
        time_expire(order.time_expire.as_deref())?;
        let body = OrderBody {
            scene_info: Some(SceneInfo { payer_client_ip: &order.payer_client_ip, h5_info: H5Info { kind: "Wap" } }),
            ..self.order_body(&order.description, &order.out_trade_no, order.time_expire.as_deref(), order.amount_fen)
        };
        let answer = self.call(Method::POST, "/v3/pay/transactions/h5", Some(to_json(&body)?)).await?;
        Self::parse(&answer, "H5 order")
    }

    /// Asks WeChat for a refund (`POST /v3/refund/domestic/refunds`). Refund notifications go
    /// to the configured `notify_url`.
    pub async fn refund(&self, request: &RefundRequest) -> Result<RefundResult, ProviderError> {
        out_trade_no(&request.out_trade_no)?;
        merchant_number("out_refund_no", &request.out_refund_no, 64, 1, b"@")?;
        amount("refund_fen", request.refund_fen)?;
        amount("total_fen", request.total_fen)?;
        if request.refund_fen > request.total_fen {
            return Err(ProviderError::local(ErrorCode::RefundExceedsPaid, "refund is larger than the order total"));
        }
        if let Some(reason) = &request.reason {
            text("reason", reason, 80)?;
        }
        let body = RefundBody {
            out_trade_no: &request.out_trade_no,
            out_refund_no: &request.out_refund_no,
            reason: request.reason.as_deref(),
            notify_url: &self.notify_url,
            amount: RefundAmountBody { refund: request.refund_fen, total: request.total_fen, currency: CURRENCY },
        };
        let answer = self.call(Method::POST, "/v3/refund/domestic/refunds", Some(to_json(&body)?)).await?;
        let result: RefundResult = Self::parse(&answer, "refund")?;
        if result.out_refund_no != request.out_refund_no {
            return Err(ProviderError::local(ErrorCode::Internal, "WeChat Pay answered about another refund"));
        }
        Ok(result)
    }

    /// Looks a transaction up by our number (`GET /v3/pay/transactions/out-trade-no/{no}`).
    /// Use it before cancelling an unpaid order (the notification may be late) and to
    /// reconcile; check the result with [`check_against_order`](crate::check_against_order).
    pub async fn query_order(&self, out_trade_no_value: &str) -> Result<PaidTransaction, ProviderError> {
        out_trade_no(out_trade_no_value)?;
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no_value}?mchid={}", self.mchid);
        let answer = self.call(Method::GET, &path, None).await?;
        let transaction: PaidTransaction = Self::parse(&answer, "order query")?;
        if transaction.out_trade_no != out_trade_no_value || transaction.mchid != self.mchid {
            return Err(ProviderError::local(ErrorCode::Internal, "WeChat Pay answered about another order"));
        }
        Ok(transaction)
    }

    /// Closes an unpaid order so it can no longer be paid
    /// (`POST /v3/pay/transactions/out-trade-no/{no}/close`, answered `204`).
    pub async fn close_order(&self, out_trade_no_value: &str) -> Result<(), ProviderError> {
        out_trade_no(out_trade_no_value)?;
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no_value}/close");
        let body = to_json(&serde_json::json!({ "mchid": self.mchid }))?;
        self.call(Method::POST, &path, Some(body)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_numbers_keep_to_wechats_characters() {
        assert!(out_trade_no("SM0123456789").is_ok());
        assert!(out_trade_no("a_b-c*d|e").is_ok());
        for bad in ["short", "../../v3/refund", "has space1", "x?mchid=1", &"9".repeat(33), "订单号123456"] {
            assert_eq!(out_trade_no(bad).map_err(|e| e.code), Err(ErrorCode::InvalidInput), "{bad}");
        }
        assert!(merchant_number("out_refund_no", "r@1", 64, 1, b"@").is_ok());
        assert!(merchant_number("out_refund_no", "8b0e1c2a-7d4f-4a5b-9c3d-2e1f0a9b8c7d", 64, 1, b"@").is_ok());
    }

    #[test]
    fn amounts_and_texts_are_bounded() {
        assert_eq!(amount("a", 0).map_err(|e| e.code), Err(ErrorCode::AmountOutOfRange));
        assert_eq!(amount("a", MAX_AMOUNT_FEN + 1).map_err(|e| e.code), Err(ErrorCode::AmountOutOfRange));
        assert!(amount("a", 1).is_ok());
        assert!(text("d", &"字".repeat(127), 127).is_ok());
        assert!(text("d", &"字".repeat(128), 127).is_err());
        assert!(text("d", "  ", 127).is_err());
        assert!(text("d", "a\nb", 127).is_err());
    }
}
