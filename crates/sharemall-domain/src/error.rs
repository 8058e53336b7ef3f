//! The one error-code catalogue. Codes are stable snake_case strings that API clients may match
//! on; messages are for people and may change. The web layer maps each [`ErrorKind`] to an HTTP
//! status; nothing here knows about HTTP.

use std::fmt;

/// What sort of failure a code is, independent of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    Unavailable,
    Internal,
}

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $kind:ident)),* $(,)?) => {
        /// Every error the platform reports, with its stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            pub const fn kind(self) -> ErrorKind {
                match self { $(ErrorCode::$variant => ErrorKind::$kind),* }
            }
        }
    };
}

error_codes! {
    // Input
    InvalidInput => ("invalid_input", Invalid),
    MalformedJson => ("malformed_json", Invalid),
    UnknownField => ("unknown_field", Invalid),
    InvalidQuantity => ("invalid_quantity", Invalid),
    AmountOutOfRange => ("amount_out_of_range", Invalid),
    ClientPriceRejected => ("client_price_rejected", Invalid),
    InvalidPhoneOrEmail => ("invalid_phone_or_email", Invalid),
    WeakPassword => ("weak_password", Invalid),
    EmptyCart => ("empty_cart", Invalid),
    CartTooLarge => ("cart_too_large", Invalid),
    // Accounts
    Unauthenticated => ("unauthenticated", Unauthenticated),
    SessionExpired => ("session_expired", Unauthenticated),
    BadCredentials => ("bad_credentials", Unauthenticated),
    Forbidden => ("forbidden", Forbidden),
    AccountExists => ("account_exists", Conflict),
    TooManyAttempts => ("too_many_attempts", RateLimited),
    RateLimited => ("rate_limited", RateLimited),
    // Catalogue and shops
    NotFound => ("not_found", NotFound),
    SkuNotFound => ("sku_not_found", NotFound),
    SkuNotOnSale => ("sku_not_on_sale", Conflict),
    ProductNotApproved => ("product_not_approved", Conflict),
    SupplierNotApproved => ("supplier_not_approved", Conflict),
    InvalidPrice => ("invalid_price", Invalid),
    CommissionAboveCap => ("commission_above_cap", Invalid),
    ShopAlreadyOpen => ("shop_already_open", Conflict),
    NoShop => ("no_shop", Conflict),
    // Orders
    OutOfStock => ("out_of_stock", Conflict),
    InvalidOrderState => ("invalid_order_state", Conflict),
    OrderExpired => ("order_expired", Conflict),
    ShopRequired => ("shop_required", Invalid),
    // Payments
    PaymentAmountMismatch => ("payment_amount_mismatch", Invalid),
    BadSignature => ("bad_signature", Unauthenticated),
    StaleCallback => ("stale_callback", Unauthenticated),
    ReplayedCallback => ("replayed_callback", Conflict),
    RefundExceedsPaid => ("refund_exceeds_paid", Conflict),
    // Idempotency
    IdempotencyKeyRequired => ("idempotency_key_required", Invalid),
    IdempotencyKeyReused => ("idempotency_key_reused", Conflict),
    // Shares
    MediaUnavailable => ("media_unavailable", Unavailable),
    // Group buying
    CampaignNotActive => ("campaign_not_active", Conflict),
    CampaignSoldOut => ("campaign_sold_out", Conflict),
    CampaignLimitReached => ("campaign_limit_reached", Conflict),
    NewCustomersOnly => ("new_customers_only", Conflict),
    GroupFull => ("group_full", Conflict),
    GroupExpired => ("group_expired", Conflict),
    AlreadyInGroup => ("already_in_group", Conflict),
    // Bargaining
    BargainSelfHelp => ("bargain_self_help", Conflict),
    BargainAlreadyHelped => ("bargain_already_helped", Conflict),
    BargainExpired => ("bargain_expired", Conflict),
    BargainFinished => ("bargain_finished", Conflict),
    BargainFloorNotReached => ("bargain_floor_not_reached", Conflict),
    // Money: ledger, withdrawals, after-sales
    InsufficientAvailable => ("insufficient_available", Conflict),
    WithdrawalBelowMinimum => ("withdrawal_below_minimum", Invalid),
    WithdrawalNotPending => ("withdrawal_not_pending", Conflict),
    ReturnWindowClosed => ("return_window_closed", Conflict),
    NotReturnable => ("not_returnable", Conflict),
    AfterSaleOpen => ("after_sale_open", Conflict),
    AfterSaleNotPending => ("after_sale_not_pending", Conflict),
    PayoutFailed => ("payout_failed", Unavailable),
    // Commission policy and the compliance guard
    PolicyForbidden => ("policy_forbidden", Invalid),
    PolicyInvalid => ("policy_invalid", Invalid),
    // Transport and infrastructure
    BodyTooLarge => ("body_too_large", TooLarge),
    Timeout => ("timeout", Unavailable),
    Overloaded => ("overloaded", Unavailable),
    Internal => ("internal", Internal),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with a stable code and a message for people.
///
/// `Internal` errors carry the detail for the log; the web layer never shows it to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Error::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{text} is not snake_case");
        }
    }
}
