//! What WeChat tells us about transactions and refunds, as it sends it.
//!
//! Unknown fields are ignored (WeChat adds fields without notice); states WeChat may add later
//! are kept as `Other(text)` rather than failing the whole message.

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)*
            /// A state this library does not know; never treated as success.
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match text.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Other(text),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_string()
            }
        }
    };
}

wire_enum! {
    /// `trade_state` of a transaction. Only `Success` means the customer paid.
    TradeState {
        Success => "SUCCESS",
        Refund => "REFUND",
        NotPay => "NOTPAY",
        Closed => "CLOSED",
        Revoked => "REVOKED",
        UserPaying => "USERPAYING",
        PayError => "PAYERROR",
    }
}

wire_enum! {
    /// `status` / `refund_status` of a refund. `Processing` is normal right after the request:
    /// the outcome comes later by notification or query.
    RefundStatus {
        Success => "SUCCESS",
        Closed => "CLOSED",
        Processing => "PROCESSING",
        Abnormal => "ABNORMAL",
    }
}

/// Amounts in fen. `total` is the order amount; `payer_total` what the customer paid after
/// WeChat-side coupons, which can be less.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub payer_currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    #[serde(default)]
    pub openid: Option<String>,
}

/// A transaction as WeChat reports it, in a `TRANSACTION.SUCCESS` notification or an order
/// query. "Paid" only when [`trade_state`](Self::trade_state) is `Success`, and then only for
/// the order [`check_against_order`](crate::check_against_order) confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidTransaction {
    pub mchid: String,
    pub appid: String,
    pub out_trade_no: String,
    /// WeChat's transaction number; absent while unpaid.
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub trade_type: Option<String>,
    pub trade_state: TradeState,
    #[serde(default)]
    pub trade_state_desc: Option<String>,
    /// RFC 3339, e.g. `2026-11-02T10:00:00+08:00`.
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub payer: Option<Payer>,
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
}

/// Refund amounts in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    pub total: i64,
    pub refund: i64,
    #[serde(default)]
    pub payer_total: Option<i64>,
    #[serde(default)]
    pub payer_refund: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// The decrypted resource of a `REFUND.*` notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub out_refund_no: String,
    pub refund_id: String,
    pub refund_status: RefundStatus,
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub user_received_account: Option<String>,
    pub amount: RefundAmount,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn states_round_trip_and_keep_unknown_text() {
        let state: TradeState = serde_json::from_str("\"NOTPAY\"").unwrap();
        assert_eq!(state, TradeState::NotPay);
        let later: TradeState = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(later, TradeState::Other("SOMETHING_NEW".into()));
        assert_eq!(serde_json::to_string(&later).unwrap(), "\"SOMETHING_NEW\"");
        assert_eq!(RefundStatus::from("PROCESSING".to_string()), RefundStatus::Processing);
    }
}
