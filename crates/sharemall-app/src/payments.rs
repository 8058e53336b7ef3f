//! Paying for orders and refunding them, on our side of the provider boundary.

use serde::Serialize;
use sharemall_domain::payment::check_callback_time;
use sharemall_domain::{Error, ErrorCode, OrderId, RefundId};
use sharemall_store::model::{Payment, SessionUser};
use sharemall_store::ops::idempotency::{self, IdempotencyKey};
use sharemall_store::ops::payments::{self, PaymentApplied};
use utoipa::ToSchema;

use crate::sandbox::{self, MERCHANT_ID, PaymentNotice};
use crate::tokens::new_token;
use crate::{App, wechat};

pub const PROVIDER_SANDBOX: &str = "sandbox";
/// WeChat Pay in a mobile browser outside WeChat (H5): needs the payer's address.
pub const METHOD_WECHAT_H5: &str = "wechat_h5";
/// WeChat Pay inside WeChat (JSAPI): needs the payer's openid.
pub const METHOD_WECHAT_JSAPI: &str = "wechat_jsapi";
/// Longest openid accepted (WeChat's are 28 characters).
const MAX_OPENID: usize = 128;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment: Payment,
    /// Where to send the customer to pay (WeChat H5: WeChat's page; WeChat JSAPI: the order
    /// page, after calling `wx.requestPayment` with `jsapi`).
    pub pay_url: String,
    /// WeChat JSAPI only: the signed parameters for `wx.requestPayment` (`appId`, `timeStamp`,
    /// `nonceStr`, `package`, `signType`, `paySign`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub jsapi: Option<sharemall_wechatpay::JsapiPayParams>,
}

/// What the payer's side tells us, for the methods that need it.
#[derive(Debug, Clone, Default)]
pub struct Payer {
    /// The customer's address as our edge saw it (WeChat H5 uses it for risk control).
    pub client_ip: Option<String>,
    /// The customer's openid under our appid (WeChat JSAPI). It must come from the
    /// mini-program or official-account login; a wrong one only makes WeChat refuse to pay.
    pub openid: Option<String>,
}

/// Starts paying an order with the sandbox, or a method that needs nothing from the payer.
pub async fn start_payment(
    app: &App,
    customer: &SessionUser,
    order: OrderId,
    method: &str,
    key: Option<IdempotencyKey>,
) -> Result<PaymentStarted, Error> {
    start_payment_with(app, customer, order, method, &Payer::default(), key).await
}

/// Which scene a WeChat method is, checked before anything is written; `None` for the sandbox.
fn wechat_scene(method: &str, payer: &Payer) -> Result<Option<wechat::Scene>, Error> {
    if payer.openid.is_some() && method != METHOD_WECHAT_JSAPI {
        return Err(Error::invalid(format!("openid is only used with {METHOD_WECHAT_JSAPI}")));
    }
    match method {
        PROVIDER_SANDBOX => Ok(None),
        METHOD_WECHAT_H5 => {
            let client_ip = payer.client_ip.as_deref().unwrap_or_default();
            if client_ip.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::invalid("WeChat H5 payment needs the payer's IP address"));
            }
            Ok(Some(wechat::Scene::H5 { client_ip: client_ip.to_string() }))
        }
        METHOD_WECHAT_JSAPI => {
            let openid = payer.openid.as_deref().unwrap_or_default();
            let well_formed = openid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if openid.is_empty() || openid.len() > MAX_OPENID || !well_formed {
                return Err(Error::invalid(format!("{METHOD_WECHAT_JSAPI} needs the payer's openid: 1–{MAX_OPENID} of A-Z a-z 0-9 _ -")));
            }
            Ok(Some(wechat::Scene::Jsapi { openid: openid.to_string() }))
        }
        other => Err(Error::invalid(format!("unknown payment provider '{other}'"))),
    }
}

/// Starts paying an order with `method` (`sandbox`, `wechat_h5`, `wechat_jsapi`). Starting
/// twice with the same provider returns the same payment (and the same `out_trade_no`).
pub async fn start_payment_with(
    app: &App,
    customer: &SessionUser,
    order: OrderId,
    method: &str,
    payer: &Payer,
    key: Option<IdempotencyKey>,
) -> Result<PaymentStarted, Error> {
    let scene = wechat_scene(method, payer)?;
    let provider = match scene {
        Some(_) => {
            wechat::configured(app)?;
            wechat::PROVIDER_WECHAT
        }
        None => PROVIDER_SANDBOX,
    };
    let (now, user) = (app.now(), customer.user_id);
    // At most 32 characters, as WeChat Pay allows: "SM" and 30 of the token's 32 hex digits
    // (120 random bits).
    let out_trade_no = format!("SM{}", new_token().get(..30).unwrap_or_default());
    let payment = app
        .store
        .write(move |sql| {
            idempotency::run(sql, now, key.as_ref(), |sql| payments::create_payment(sql, now, order, user, provider, &out_trade_no))
        })
        .await?;
    if let Some(scene) = scene {
        let opened = wechat::open(app, customer, &payment, scene).await?;
        return Ok(PaymentStarted { payment, pay_url: opened.pay_url, jsapi: opened.jsapi });
    }
    let return_url = format!("/orders/{}", payment.order_id);
    let txn = sandbox::open(app, &payment.out_trade_no, payment.amount_fen, "sharemall order", &return_url).await?;
    Ok(PaymentStarted { pay_url: format!("/sandbox/pay/{}", txn.id), payment, jsapi: None })
}

/// The signature headers of a provider callback.
#[derive(Debug, Clone)]
pub struct CallbackHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
}

/// Handles the sandbox provider's "paid" callback: signature, freshness, replay, merchant,
/// currency and amount are all checked before anything changes; applying it twice changes
/// nothing the second time.
pub async fn sandbox_callback(app: &App, headers: CallbackHeaders, body: &[u8]) -> Result<PaymentApplied, Error> {
    if !sandbox::verify(&app.config.sandbox_key, &headers.timestamp, &headers.nonce, body, &headers.signature) {
        return Err(Error::new(ErrorCode::BadSignature, "callback signature does not verify"));
    }
    let now = app.now();
    let sent_at: i64 = headers.timestamp.parse().map_err(|_| Error::new(ErrorCode::StaleCallback, "bad callback timestamp"))?;
    check_callback_time(sent_at, now.millis())?;
    let nonce_ok = headers.nonce.len() <= 64 && !headers.nonce.is_empty();
    if !nonce_ok {
        return Err(Error::new(ErrorCode::BadSignature, "bad callback nonce"));
    }
    let notice: PaymentNotice = serde_json::from_slice(body).map_err(|e| Error::invalid(format!("callback body: {e}")))?;
    if notice.event != "payment.succeeded" || notice.merchant_id != MERCHANT_ID || notice.currency != "CNY" {
        return Err(Error::new(ErrorCode::PaymentAmountMismatch, "callback is for another merchant, currency or event"));
    }
    app.store
        .write(move |sql| {
            if !payments::remember_nonce(sql, now, PROVIDER_SANDBOX, &headers.nonce)? {
                return Err(Error::new(ErrorCode::ReplayedCallback, "this callback was already delivered"));
            }
            payments::apply_payment_success(sql, now, &notice.out_trade_no, notice.amount_fen, &notice.transaction_id)
        })
        .await
}

/// The refund job: asks the provider to refund, then records the outcome. Safe to re-run: the
/// provider refund is idempotent per refund id, and recording is idempotent too.
pub async fn execute_refund(app: &App, id: RefundId) -> Result<(), Error> {
    let refund = app.store.read(move |sql| payments::refund_to_execute(sql, id)).await?;
    if refund.status != "pending" {
        return Ok(());
    }
    if refund.provider == wechat::PROVIDER_WECHAT {
        return wechat::execute_refund(app, refund).await;
    }
    if refund.provider != PROVIDER_SANDBOX {
        return Err(Error::internal(format!("no provider '{}' configured", refund.provider)));
    }
    let now = app.now();
    match sandbox::refund(app, &refund.out_trade_no, &id.to_string(), refund.amount_fen, now).await {
        Ok(provider_refund_id) => app.store.write(move |sql| payments::finish_refund(sql, now, id, &provider_refund_id)).await.map(|_| ()),
        Err(e) if e.code != ErrorCode::Internal && e.code != ErrorCode::Overloaded => {
            let reason = e.message.clone();
            app.store.write(move |sql| payments::fail_refund(sql, now, id, &reason)).await
        }
        Err(e) => Err(e),
    }
}
