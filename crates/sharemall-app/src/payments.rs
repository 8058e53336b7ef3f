//! Paying for orders and refunding them, on our side of the provider boundary.

use serde::Serialize;
use sharemall_domain::payment::check_callback_time;
use sharemall_domain::{Error, ErrorCode, OrderId, RefundId};
use sharemall_store::model::{Payment, SessionUser};
use sharemall_store::ops::idempotency::{self, IdempotencyKey};
use sharemall_store::ops::payments::{self, PaymentApplied};
use utoipa::ToSchema;

use crate::App;
use crate::sandbox::{self, MERCHANT_ID, PaymentNotice};
use crate::tokens::new_token;

pub const PROVIDER_SANDBOX: &str = "sandbox";

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment: Payment,
    /// Where to send the customer to pay.
    pub pay_url: String,
}

/// Starts paying an order. Starting twice returns the same payment.
pub async fn start_payment(
    app: &App,
    customer: &SessionUser,
    order: OrderId,
    provider: &str,
    key: Option<IdempotencyKey>,
) -> Result<PaymentStarted, Error> {
    if provider != PROVIDER_SANDBOX {
        return Err(Error::invalid(format!("unknown payment provider '{provider}'")));
    }
    let (now, user) = (app.now(), customer.user_id);
    // At most 32 characters, as WeChat Pay allows: "SM" and 30 of the token's 32 hex digits
    // (120 random bits).
    let out_trade_no = format!("SM{}", new_token().get(..30).unwrap_or_default());
    let payment = app
        .store
        .write(move |sql| {
            idempotency::run(sql, now, key.as_ref(), |sql| payments::create_payment(sql, now, order, user, PROVIDER_SANDBOX, &out_trade_no))
        })
        .await?;
    let return_url = format!("/orders/{}", payment.order_id);
    let txn = sandbox::open(app, &payment.out_trade_no, payment.amount_fen, "sharemall order", &return_url).await?;
    Ok(PaymentStarted { pay_url: format!("/sandbox/pay/{}", txn.id), payment })
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
