//! Does a genuine WeChat message match the order we stored? A valid signature proves who
//! sent it, not that it is about this order, this merchant or this amount.
//!
//! Merchant and appid mismatches are `InvalidInput`, not `BadSignature`: the signature did
//! verify, so pointing the operator at keys would mislead; the message is simply not ours (a
//! misrouted notify URL, or a second merchant account sharing the endpoint).

use sharemall_domain::{Error, ErrorCode};

use crate::model::{PaidTransaction, RefundNotice, RefundStatus, TradeState};

/// The only currency this platform sells in.
pub const CURRENCY: &str = "CNY";

/// What a transaction means for the stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCheck {
    /// Paid in full for this order: record the payment (idempotently).
    Paid {
        transaction_id: String,
        success_time: Option<String>,
        /// What the customer paid after WeChat-side coupons; `None` when WeChat omits it.
        payer_total_fen: Option<i64>,
    },
    /// Genuine and about this order, but not (or not yet) paid: change nothing, acknowledge.
    Ignored { trade_state: TradeState },
}

/// Checks a transaction (from a notification or [`query_order`](crate::WechatPay::query_order))
/// against the stored order, in this order:
///
/// - `mchid`, `appid` or `out_trade_no` differ → `InvalidInput`;
/// - `trade_state` is not `SUCCESS` → `Ok(Ignored)`;
/// - currency is not `CNY` → `InvalidInput`;
/// - `amount.total` differs from `amount_fen` → `PaymentAmountMismatch`. `total` (the order
///   amount) is compared, not `payer_total`, which WeChat-side coupons lower legitimately.
pub fn check_against_order(
    transaction: &PaidTransaction,
    expected_mchid: &str,
    expected_appid: &str,
    out_trade_no: &str,
    amount_fen: i64,
) -> Result<OrderCheck, Error> {
    if transaction.mchid != expected_mchid {
        return Err(Error::invalid("payment is for another merchant"));
    }
    if transaction.appid != expected_appid {
        return Err(Error::invalid("payment is for another appid"));
    }
    if transaction.out_trade_no != out_trade_no {
        return Err(Error::invalid("payment is for another order"));
    }
    if transaction.trade_state != TradeState::Success {
        return Ok(OrderCheck::Ignored { trade_state: transaction.trade_state.clone() });
    }
    let amount = transaction.amount.as_ref().ok_or_else(|| Error::invalid("paid transaction has no amount"))?;
    if amount.currency.as_deref() != Some(CURRENCY) {
        return Err(Error::invalid(format!("payment currency {:?} is not {CURRENCY}", amount.currency)));
    }
    if amount.total != amount_fen {
        return Err(Error::new(ErrorCode::PaymentAmountMismatch, format!("paid {} fen, the order is for {amount_fen} fen", amount.total)));
    }
    let transaction_id = match transaction.transaction_id.as_deref() {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => return Err(Error::invalid("paid transaction has no transaction_id")),
    };
    Ok(OrderCheck::Paid { transaction_id, success_time: transaction.success_time.clone(), payer_total_fen: amount.payer_total })
}

/// Checks a refund notification against the stored refund: merchant or refund number differ →
/// `InvalidInput`; refunded amount differs → `PaymentAmountMismatch`. Returns the status to
/// record (`Success`, `Closed`, `Abnormal`, …).
pub fn check_refund_against(
    notice: &RefundNotice,
    expected_mchid: &str,
    out_refund_no: &str,
    refund_fen: i64,
) -> Result<RefundStatus, Error> {
    if notice.mchid != expected_mchid {
        return Err(Error::invalid("refund is for another merchant"));
    }
    if notice.out_refund_no != out_refund_no {
        return Err(Error::invalid("notification is for another refund"));
    }
    if notice.amount.refund != refund_fen {
        return Err(Error::new(
            ErrorCode::PaymentAmountMismatch,
            format!("refunded {} fen, the refund is for {refund_fen} fen", notice.amount.refund),
        ));
    }
    Ok(notice.refund_status.clone())
}
