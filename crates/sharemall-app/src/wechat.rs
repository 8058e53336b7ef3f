//! WeChat Pay beside the sandbox: opening H5 and JSAPI orders, the notify route's use case
//! (verify, check against what we stored, apply once), and the refund job's call.
//!
//! The protocol (signatures, AES-GCM, the wire format) is `sharemall_wechatpay`'s; this module
//! only decides what a verified message means for our payments and refunds.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use sharemall_domain::{Error, ErrorCode, RefundId, Timestamp};
use sharemall_store::model::{Payment, SessionUser};
use sharemall_store::ops::payments::{self, PaymentApplied, RefundToExecute};
use sharemall_store::sql::Sql;
use sharemall_wechatpay::{
    Config, H5Order, JsapiOrder, JsapiPayParams, Notification, NowFn, OrderCheck, PaidTransaction, RefundNotice, RefundRequest,
    RefundStatus, WechatPay, check_against_order, check_refund_against,
};

use crate::App;
use crate::clock::Clock;
use crate::orders::{self, Perspective};

/// The `payments.provider` of every WeChat payment, H5 or JSAPI.
pub const PROVIDER_WECHAT: &str = "wechat";
/// `callback_nonces` key of an applied transaction: a redelivery finds it and changes nothing.
const APPLIED_PREFIX: &str = "txn:";
/// WeChat's transaction ids are 28–32 digits; anything much longer is not one.
const MAX_TRANSACTION_ID: usize = 64;

/// Builds the client once at start-up; a bad key or URL is an error naming the setting.
pub(crate) fn client(config: Config, clock: Arc<dyn Clock>) -> Result<WechatPay, Error> {
    let now: NowFn = Arc::new(move || clock.now());
    WechatPay::new(config, now)
}

/// The client, or why WeChat Pay cannot be used here.
pub(crate) fn configured(app: &App) -> Result<&WechatPay, Error> {
    app.wechat.as_ref().ok_or_else(|| Error::invalid("WeChat Pay is not configured on this platform"))
}

/// How the customer pays with WeChat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scene {
    /// A mobile browser outside WeChat; the address our edge saw (for WeChat's risk control).
    H5 { client_ip: String },
    /// Inside WeChat (official account page or mini-program), as the user with this openid.
    Jsapi { openid: String },
}

/// What the customer's side needs to pay.
pub(crate) struct Opened {
    pub pay_url: String,
    pub jsapi: Option<JsapiPayParams>,
}

/// Opens the WeChat order for `payment`. Repeating it with the same payment is safe: WeChat
/// answers a repeated `out_trade_no` with the same order.
pub(crate) async fn open(app: &App, customer: &SessionUser, payment: &Payment, scene: Scene) -> Result<Opened, Error> {
    let pay = configured(app)?;
    let order = orders::order_for(app, customer, payment.order_id, Perspective::Customer).await?;
    let description = format!("sharemall {}", order.order_no);
    // WeChat refuses payment after our own deadline, so nobody pays an order we cancel.
    let time_expire = Some(beijing_rfc3339(Timestamp(order.pay_deadline_at))?);
    let (out_trade_no, amount_fen) = (payment.out_trade_no.clone(), payment.amount_fen);
    match scene {
        Scene::H5 { client_ip } => {
            let order = H5Order { description, out_trade_no, amount_fen, payer_client_ip: client_ip, time_expire };
            Ok(Opened { pay_url: pay.create_h5_order(&order).await?.h5_url, jsapi: None })
        }
        Scene::Jsapi { openid } => {
            let order = JsapiOrder { description, out_trade_no, amount_fen, openid, time_expire };
            let prepay = pay.create_jsapi_order(&order).await?;
            // The page calls `wx.requestPayment` with the parameters, then shows the order.
            Ok(Opened { pay_url: format!("/orders/{}", payment.order_id), jsapi: Some(prepay.pay_params) })
        }
    }
}

/// `2026-03-02T10:15:00+08:00`: WeChat's `time_expire` format, in the merchant's time zone.
fn beijing_rfc3339(at: Timestamp) -> Result<String, Error> {
    let utc = time::OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1_000))
        .map_err(|e| Error::internal(format!("pay deadline out of range: {e}")))?;
    utc.to_offset(time::macros::offset!(+8))
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::internal(format!("pay deadline: {e}")))
}

/// What a verified notification did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// A payment notice: applied now, applied before, or refunded because the order had closed.
    Payment(PaymentApplied),
    Refund(RefundOutcome),
    /// Genuine, but nothing to change: not paid (yet), or an event we do not interpret.
    Ignored,
}

/// Where one of our refunds stands after WeChat's word on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Succeeded,
    Failed,
    /// `PROCESSING`, or `ABNORMAL` (the money could not reach the customer: the merchant
    /// settles it in WeChat's merchant platform, and WeChat then reports `SUCCESS`).
    Waiting(String),
}

/// The notify route's use case. Verifies the notification with the app clock's "now", checks
/// it against the stored payment or refund, and applies it once: a redelivery (WeChat resends
/// until acknowledged) is `Ok` and changes nothing. Any `Err` changes nothing.
pub async fn notification(app: &App, headers: &HeaderMap, raw_body: &[u8]) -> Result<Notified, Error> {
    let pay = app.wechat.as_ref().ok_or_else(|| Error::not_found("WeChat Pay is not configured"))?;
    let now_secs = app.now().millis().div_euclid(1_000);
    match pay.verify_notification(headers, raw_body, now_secs)? {
        Notification::Transaction(transaction) => apply_transaction(app, pay, transaction).await,
        Notification::Refund(notice) => apply_refund_notice(app, pay, notice).await,
        Notification::Other { id, event_type } => {
            tracing::info!(%id, %event_type, "WeChat Pay notification of a kind we do not interpret; acknowledged");
            Ok(Notified::Ignored)
        }
    }
}

async fn apply_transaction(app: &App, pay: &WechatPay, transaction: PaidTransaction) -> Result<Notified, Error> {
    let (mchid, appid, now) = (pay.mchid().to_string(), pay.appid().to_string(), app.now());
    app.store
        .write(move |sql| {
            let payment = payments::payment_by_trade_no(sql, &transaction.out_trade_no)?;
            if payment.provider != PROVIDER_WECHAT {
                return Err(Error::invalid("this payment was not made with WeChat Pay"));
            }
            let transaction_id = match check_against_order(&transaction, &mchid, &appid, &payment.out_trade_no, payment.amount_fen)? {
                OrderCheck::Ignored { trade_state } => {
                    tracing::info!(out_trade_no = %payment.out_trade_no, state = trade_state.as_str(), "WeChat Pay: not paid; nothing to do");
                    return Ok(Notified::Ignored);
                }
                OrderCheck::Paid { transaction_id, .. } => transaction_id,
            };
            if transaction_id.len() > MAX_TRANSACTION_ID {
                return Err(Error::invalid("transaction_id is too long"));
            }
            // In the same command as the state change: both happen, or neither does.
            if !payments::remember_nonce(sql, now, PROVIDER_WECHAT, &format!("{APPLIED_PREFIX}{transaction_id}"))? {
                return Ok(Notified::Payment(PaymentApplied::AlreadyApplied));
            }
            payments::apply_payment_success(sql, now, &payment.out_trade_no, payment.amount_fen, &transaction_id).map(Notified::Payment)
        })
        .await
}

async fn apply_refund_notice(app: &App, pay: &WechatPay, notice: RefundNotice) -> Result<Notified, Error> {
    // Our refund id is the `out_refund_no` we sent.
    let id: RefundId = notice.out_refund_no.parse().map_err(|_| Error::invalid("the refund notice names no refund of ours"))?;
    let (mchid, now) = (pay.mchid().to_string(), app.now());
    app.store
        .write(move |sql| {
            let refund = payments::refund_to_execute(sql, id)?;
            if refund.provider != PROVIDER_WECHAT || refund.out_trade_no != notice.out_trade_no {
                return Err(Error::invalid("the refund notice is about another payment"));
            }
            let status = check_refund_against(&notice, &mchid, &id.to_string(), refund.amount_fen)?;
            if refund.status == "failed" && status == RefundStatus::Success {
                // Money left that our books say did not: only a person can reconcile this.
                tracing::error!(refund = %id, "WeChat Pay reports a refund we recorded as failed as SUCCESS; reconcile it by hand");
            }
            record_refund_status(sql, now, id, &status, &notice.refund_id).map(Notified::Refund)
        })
        .await
}

/// What WeChat's status of a refund means for ours; the notice and the refund job agree on it.
/// `finish_refund` and `fail_refund` change only a pending refund, so repeating this is safe.
fn record_refund_status(
    sql: &mut dyn Sql,
    now: Timestamp,
    id: RefundId,
    status: &RefundStatus,
    wechat_refund_id: &str,
) -> Result<RefundOutcome, Error> {
    match status {
        RefundStatus::Success => payments::finish_refund(sql, now, id, wechat_refund_id).map(|_| RefundOutcome::Succeeded),
        RefundStatus::Closed => payments::fail_refund(sql, now, id, "WeChat Pay closed the refund").map(|()| RefundOutcome::Failed),
        other => {
            if *other == RefundStatus::Abnormal {
                tracing::warn!(refund = %id, "WeChat Pay refund ABNORMAL: settle it in the merchant platform; it stays pending until then");
            }
            Ok(RefundOutcome::Waiting(other.as_str().to_string()))
        }
    }
}

/// The refund job's call for a WeChat payment: `out_refund_no` is our refund id, so a repeat
/// asks about the same refund. SUCCESS finishes it; CLOSED or a permanent refusal fails it; a
/// retryable failure, or a refund still PROCESSING, returns `Err` so the runner tries again
/// with backoff (the refund notice usually finishes it first, and the next run then finds it
/// no longer pending).
pub(crate) async fn execute_refund(app: &App, refund: RefundToExecute) -> Result<(), Error> {
    // Not configured (any more): keep the refund pending and retry, never fail it silently.
    let pay = app.wechat.as_ref().ok_or_else(|| Error::internal("a WeChat Pay refund is due but WeChat Pay is not configured"))?;
    let out_trade_no = refund.out_trade_no.clone();
    let total_fen = app.store.read(move |sql| payments::payment_by_trade_no(sql, &out_trade_no)).await?.amount_fen;
    let request = RefundRequest {
        out_trade_no: refund.out_trade_no.clone(),
        out_refund_no: refund.id.to_string(),
        refund_fen: refund.amount_fen,
        total_fen,
        reason: None,
    };
    let (id, now) = (refund.id, app.now());
    match pay.refund(&request).await {
        Ok(result) => {
            if result.amount.refund != refund.amount_fen {
                return Err(Error::internal(format!(
                    "WeChat Pay reports {} fen refunded, we asked for {}",
                    result.amount.refund, refund.amount_fen
                )));
            }
            let (status, wechat_id) = (result.status, result.refund_id);
            match app.store.write(move |sql| record_refund_status(sql, now, id, &status, &wechat_id)).await? {
                RefundOutcome::Waiting(status) => {
                    Err(Error::new(ErrorCode::Timeout, format!("WeChat Pay refund is {status}; asking again later")))
                }
                RefundOutcome::Succeeded | RefundOutcome::Failed => Ok(()),
            }
        }
        Err(e) if e.is_retryable() => Err(e.into()),
        Err(e) => {
            let reason = e.message;
            app.store.write(move |sql| payments::fail_refund(sql, now, id, &reason)).await
        }
    }
}
