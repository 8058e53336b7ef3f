//! Payments and refunds: provider-neutral rules.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created with the provider; the customer has not paid yet.
    Pending,
    Succeeded,
    /// The order was cancelled before this payment completed.
    Closed,
}

impl PaymentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Result<PaymentStatus, Error> {
        match text {
            "pending" => Ok(PaymentStatus::Pending),
            "succeeded" => Ok(PaymentStatus::Succeeded),
            "closed" => Ok(PaymentStatus::Closed),
            other => Err(Error::internal(format!("unknown payment status {other}"))),
        }
    }
}

/// Checks a refund against what was paid and what has already been refunded.
pub fn check_refund(amount: Money, paid: Money, already_refunded: Money) -> Result<(), Error> {
    if amount.fen() <= 0 {
        return Err(Error::new(ErrorCode::AmountOutOfRange, "refund amount must be positive"));
    }
    let refundable = paid.checked_sub(already_refunded)?;
    if amount > refundable {
        return Err(Error::new(ErrorCode::RefundExceedsPaid, format!("at most {refundable} can still be refunded")));
    }
    Ok(())
}

/// How far a callback's timestamp may be from our clock, either way (replays and clock skew).
pub const CALLBACK_TOLERANCE_MS: i64 = 5 * 60 * 1_000;

/// Refuses a callback whose timestamp is outside the tolerance window.
pub fn check_callback_time(callback_ms: i64, now_ms: i64) -> Result<(), Error> {
    if (callback_ms - now_ms).abs() > CALLBACK_TOLERANCE_MS {
        return Err(Error::new(ErrorCode::StaleCallback, "callback timestamp outside the accepted window"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_limits() {
        let m = Money::from_fen;
        assert!(check_refund(m(100), m(100), m(0)).is_ok());
        assert_eq!(check_refund(m(1), m(100), m(100)).map_err(|e| e.code), Err(ErrorCode::RefundExceedsPaid));
        assert_eq!(check_refund(m(0), m(100), m(0)).map_err(|e| e.code), Err(ErrorCode::AmountOutOfRange));
    }
}
