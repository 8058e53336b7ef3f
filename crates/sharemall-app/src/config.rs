//! The settings the use cases need, loaded once by the binary and passed down.

use sharemall_domain::Money;
use sharemall_domain::order::{DEFAULT_AUTO_RECEIVE_MS, DEFAULT_PAY_WINDOW_MS};
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::share::BindingPolicy;
use sharemall_domain::time::{DAY_MS, HOUR_MS};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct AppConfig {
    /// How long a customer has to pay before the order cancels (SPEC 3.4: 15 minutes).
    pub pay_window_ms: i64,
    /// Receipt is confirmed automatically this long after shipping (10 days).
    pub auto_receive_ms: i64,
    /// Extra time after the 7-day return window before an order completes.
    pub settle_buffer_ms: i64,
    pub shipping: ShippingRule,
    pub cookie_session_ms: i64,
    pub bearer_token_ms: i64,
    /// Concurrent password hashes (each takes tens of milliseconds of CPU).
    pub hash_concurrency: usize,
    /// Failed sign-ins allowed per account and per address within `sign_in_window_ms`.
    pub sign_in_failures_max: u32,
    pub sign_in_window_ms: i64,
    /// The sandbox provider's merchant key (HMAC-SHA256). Set your own in production configs.
    pub sandbox_key: String,
    /// Where the platform is reachable, for provider callbacks and links: `http://127.0.0.1:8080`.
    pub public_url: String,
    /// How long a share visit binds a customer to a shop (SPEC 3.3: 15 days, or permanent).
    pub binding: BindingPolicy,
    /// Unknown share codes an address may try within `share_miss_window_ms` (anti-enumeration).
    pub share_misses_max: u32,
    pub share_miss_window_ms: i64,
    /// Fonts to try, in order, for posters and parcel cards (they print Chinese); empty means
    /// the well-known system locations (`CjkFont::system_paths`).
    pub font_paths: Vec<PathBuf>,
    /// Whether shop owners may run group-buy campaigns in their own shop; operators always may.
    pub shop_owners_may_run_groups: bool,
    /// The merchant's WeChat Pay (`[payments.wechat]`, keys already read from their files).
    /// `None`: WeChat Pay is not offered, and starting a WeChat payment is `invalid_input`.
    pub wechat_pay: Option<sharemall_wechatpay::Config>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            pay_window_ms: DEFAULT_PAY_WINDOW_MS,
            auto_receive_ms: DEFAULT_AUTO_RECEIVE_MS,
            settle_buffer_ms: 0,
            shipping: ShippingRule { flat_fee: Money::from_fen(600), free_at_or_above: Money::from_fen(4_900) },
            cookie_session_ms: 30 * DAY_MS,
            bearer_token_ms: 90 * DAY_MS,
            hash_concurrency: 2,
            sign_in_failures_max: 5,
            sign_in_window_ms: HOUR_MS / 4,
            sandbox_key: "sandbox-merchant-key-change-me".into(),
            public_url: "http://127.0.0.1:8080".into(),
            binding: BindingPolicy::DEFAULT,
            share_misses_max: 30,
            share_miss_window_ms: 10 * 60 * 1_000,
            font_paths: Vec::new(),
            shop_owners_may_run_groups: true,
            wechat_pay: None,
        }
    }
}
