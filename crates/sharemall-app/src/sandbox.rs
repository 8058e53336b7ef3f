//! The sandbox payment provider: a complete provider that moves no real money.
//!
//! It behaves as a real provider does, so the platform's payment code is exercised for real:
//! it keeps its own books (`sandbox_*` tables), shows a pay page, and tells the merchant about
//! a payment by an HTTP callback to the merchant's notify URL, signed with HMAC-SHA256 over
//! `timestamp \n nonce \n body \n` with the merchant key, re-delivered until acknowledged.
//! Refunds are refused beyond what was paid.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use serde::{Deserialize, Serialize};
use sharemall_domain::{Error, Timestamp};
use sharemall_store::ops::jobs;
use sharemall_store::ops::sandbox::{self, NewSandboxTransaction, SandboxTransaction};

use crate::App;
use crate::tokens::new_token;

pub const MERCHANT_ID: &str = "sharemall-sandbox-merchant";
pub const HEADER_TIMESTAMP: &str = "sandbox-timestamp";
pub const HEADER_NONCE: &str = "sandbox-nonce";
pub const HEADER_SIGNATURE: &str = "sandbox-signature";
pub const JOB_NOTIFY: &str = "sandbox_notify";

/// The body of a "payment succeeded" notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentNotice {
    pub event: String,
    pub merchant_id: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub amount_fen: i64,
    pub currency: String,
}

fn signing_input(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(body.len() + timestamp.len() + nonce.len() + 3);
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(nonce.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body);
    message.push(b'\n');
    message
}

/// Signs a notification: base64 of HMAC-SHA256(key, "ts\nnonce\nbody\n").
pub fn sign(key: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    STANDARD.encode(hmac::sign(&key, &signing_input(timestamp, nonce, body)).as_ref())
}

/// Verifies a signature in constant time.
pub fn verify(key: &str, timestamp: &str, nonce: &str, body: &[u8], signature: &str) -> bool {
    let Ok(tag) = STANDARD.decode(signature) else { return false };
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    hmac::verify(&key, &signing_input(timestamp, nonce, body), &tag).is_ok()
}

/// Opens (or finds) the provider-side transaction for a merchant order number.
pub async fn open(
    app: &App,
    out_trade_no: &str,
    amount_fen: i64,
    description: &str,
    return_url: &str,
) -> Result<SandboxTransaction, Error> {
    let notify_url = format!("{}/api/v1/payments/sandbox/notify", app.config.public_url);
    let (now, out_trade_no, description, return_url) =
        (app.now(), out_trade_no.to_string(), description.to_string(), return_url.to_string());
    app.store
        .write(move |sql| {
            sandbox::open_transaction(
                sql,
                now,
                NewSandboxTransaction {
                    out_trade_no: &out_trade_no,
                    amount_fen,
                    description: &description,
                    notify_url: &notify_url,
                    return_url: &return_url,
                },
            )
        })
        .await
}

pub async fn transaction(app: &App, id: &str) -> Result<SandboxTransaction, Error> {
    let id = id.to_string();
    app.store.read(move |sql| sandbox::transaction(sql, &id)).await
}

/// The payer pressed "pay" on the sandbox page: the money is taken, and the merchant is told
/// at once. If telling fails, a job re-delivers until the merchant acknowledges.
pub async fn confirm(app: &App, id: &str) -> Result<SandboxTransaction, Error> {
    let now = app.now();
    let txn_id = id.to_string();
    let (txn, retry_job) = app
        .store
        .write(move |sql| {
            let txn = sandbox::mark_paid(sql, now, &txn_id)?;
            let job = jobs::enqueue(sql, now, JOB_NOTIFY, &txn.id, now.plus_ms(30_000))?;
            Ok((txn, job))
        })
        .await?;
    match notify(app, &txn).await {
        // Acknowledged: the safety-net re-delivery is not needed.
        Ok(()) => app.store.write(move |sql| jobs::finish(sql, retry_job)).await?,
        Err(e) => tracing::warn!(error = %e, transaction = %txn.id, "sandbox notification failed; the retry job will re-deliver"),
    }
    Ok(txn)
}

/// The "paid" notification of `txn` as the sandbox sends it: the JSON body and its signature
/// under `key` for this timestamp and nonce.
pub fn signed_notice(key: &str, txn: &SandboxTransaction, timestamp: &str, nonce: &str) -> Result<(Vec<u8>, String), Error> {
    let notice = PaymentNotice {
        event: "payment.succeeded".into(),
        merchant_id: MERCHANT_ID.into(),
        out_trade_no: txn.out_trade_no.clone(),
        transaction_id: txn.id.clone(),
        amount_fen: txn.amount_fen,
        currency: "CNY".into(),
    };
    let body = serde_json::to_vec(&notice).map_err(|e| Error::internal(e.to_string()))?;
    let signature = sign(key, timestamp, nonce, &body);
    Ok((body, signature))
}

/// Delivers the "paid" notification once: a fresh timestamp and nonce on every delivery.
pub async fn notify(app: &App, txn: &SandboxTransaction) -> Result<(), Error> {
    if txn.status != "paid" {
        return Ok(());
    }
    let timestamp = app.now().millis().to_string();
    let nonce = new_token();
    let (body, signature) = signed_notice(&app.config.sandbox_key, txn, &timestamp, &nonce)?;
    let response = app
        .http
        .post(&txn.notify_url)
        .header("content-type", "application/json")
        .header(HEADER_TIMESTAMP, &timestamp)
        .header(HEADER_NONCE, &nonce)
        .header(HEADER_SIGNATURE, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| Error::internal(format!("notify {}: {e}", txn.notify_url)))?;
    if !response.status().is_success() {
        return Err(Error::internal(format!("merchant answered {}", response.status())));
    }
    Ok(())
}

/// The notification job: re-delivers until acknowledged (the job is retried on error).
pub async fn redeliver(app: &App, transaction_id: &str) -> Result<(), Error> {
    let txn = transaction(app, transaction_id).await?;
    notify(app, &txn).await
}

/// The provider's refund API: refunds `amount_fen` of a paid transaction, at most what was paid.
pub async fn refund(app: &App, out_trade_no: &str, out_refund_no: &str, amount_fen: i64, now: Timestamp) -> Result<String, Error> {
    let (out_trade_no, out_refund_no) = (out_trade_no.to_string(), out_refund_no.to_string());
    app.store.write(move |sql| sandbox::refund(sql, now, &out_trade_no, &out_refund_no, amount_fen)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_every_part() {
        let sig = sign("k", "1", "n", b"{}");
        assert!(verify("k", "1", "n", b"{}", &sig));
        assert!(!verify("other", "1", "n", b"{}", &sig));
        assert!(!verify("k", "2", "n", b"{}", &sig));
        assert!(!verify("k", "1", "m", b"{}", &sig));
        assert!(!verify("k", "1", "n", b"{ }", &sig));
        assert!(!verify("k", "1", "n", b"{}", "not base64!"));
    }
}
