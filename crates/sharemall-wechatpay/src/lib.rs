//! WeChat Pay API v3 for one merchant (直连商户), as a provider library.
//!
//! # The protocol pieces
//!
//! - **Requests** carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,
//!   signature=…,timestamp=…,serial_no=…`, an RSA-SHA256 (PKCS#1 v1.5) signature with the
//!   merchant API key over `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`.
//! - **Responses** are signed by WeChat's platform key over `TIMESTAMP\nNONCE\nBODY\n`, in the
//!   `Wechatpay-Timestamp`, `-Nonce`, `-Signature` and `-Serial` headers.
//! - **Notifications** (payment and refund results) are signed the same way; their `resource`
//!   is sealed with AES-256-GCM under the merchant's APIv3 key.
//! - **JSAPI pay parameters** for the page are signed with the merchant key over
//!   `appId\ntimeStamp\nnonceStr\npackage\n`.
//!
//! # What is verified
//!
//! Every response and every notification, with the same verifier: the platform key is chosen
//! by `Wechatpay-Serial` among the configured ones (unknown → refused), WeChat's
//! `WECHATPAY/SIGNTEST/` probes are refused, the signature covers the raw body bytes, and the
//! timestamp must be within ±300 s. A 2xx answer without a signature is refused as forged.
//! Notification resources must open with the APIv3 key (the GCM tag authenticates them). Then
//! [`check_against_order`] compares merchant, appid, order number, currency and amount with
//! the stored order, because a genuine message may still be about something else.
//!
//! # What is not done here
//!
//! No storage: deduplicating redelivered notifications (WeChat resends until acknowledged) and
//! making the state change once is the caller's job, keyed by `out_trade_no` /
//! `transaction_id`. No wall clock: notifications take "now" as an argument and the client an
//! injected [`NowFn`]. TLS only with the `rustls-ring` feature (see [`http_client_builder`]);
//! the app enables it. Platform keys are configured, not downloaded.

mod ack;
mod aead;
mod api;
mod check;
mod client;
mod config;
mod error;
mod model;
mod notify;
mod pem;
mod signing;
#[cfg(feature = "test-support")]
pub mod test_support;
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sharemall_domain::{Error, Timestamp};

pub use ack::Ack;
pub use api::{H5Order, H5Prepay, JsapiOrder, JsapiPayParams, JsapiPrepay, RefundRequest, RefundResult};
pub use check::{CURRENCY, OrderCheck, check_against_order, check_refund_against};
pub use client::MAX_RESPONSE_BYTES;
pub use config::{Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, PlatformCert};
pub use error::ProviderError;
pub use model::{PaidTransaction, Payer, RefundAmount, RefundNotice, RefundStatus, TradeState, TransactionAmount};
pub use notify::{MAX_NOTIFICATION_BYTES, Notification, RESOURCE_ALGORITHM};
pub use signing::{AUTH_SCHEME, SIGNTEST_PREFIX, SignatureHeaders};
pub use tls::http_client_builder;

/// The `User-Agent` WeChat requires on every API request.
pub const USER_AGENT: &str = concat!("sharemall-wechatpay/", env!("CARGO_PKG_VERSION"));

/// Where the client reads "now" (request timestamps, response freshness). The app passes its
/// injected clock, e.g. `Arc::new(move || clock.now())`, so nothing here reads the wall clock.
pub type NowFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// One merchant's WeChat Pay: keys parsed once, an HTTP client with explicit timeouts.
/// Cheap to share behind an `Arc`; all methods take `&self`.
pub struct WechatPay {
    mchid: String,
    appid: String,
    notify_url: String,
    /// Without a trailing slash, so paths can be appended.
    base_url: String,
    request_timeout: Duration,
    now: NowFn,
    signer: signing::MerchantSigner,
    verifier: signing::PlatformVerifier,
    resource_key: aead::ResourceKey,
    http: reqwest::Client,
}

impl fmt::Debug for WechatPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatPay")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl WechatPay {
    /// Validates `config`, parses the keys, and builds an HTTP client with the configured
    /// connect and request timeouts, no redirects, WeChat's required `User-Agent` and the
    /// crate's TLS choice ([`http_client_builder`]).
    pub fn new(config: Config, now: NowFn) -> Result<WechatPay, Error> {
        let http = http_client_builder()?
            .connect_timeout(config.connect_timeout())
            .timeout(config.request_timeout())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| Error::internal(format!("WeChat Pay HTTP client: {e}")))?;
        WechatPay::with_http_client(config, now, http)
    }

    /// Like [`new`](Self::new) but with the caller's client, e.g. one with a TLS backend
    /// configured. The configured request timeout is still applied to every request; the
    /// client should not follow redirects and should send a `User-Agent`.
    pub fn with_http_client(config: Config, now: NowFn, http: reqwest::Client) -> Result<WechatPay, Error> {
        config.validate()?;
        let signer = signing::MerchantSigner::from_pem(&config.merchant_private_key_pem, &config.mchid, &config.merchant_serial_no)?;
        let verifier = signing::PlatformVerifier::from_certs(&config.platform_certs)?;
        let resource_key = aead::ResourceKey::new(config.api_v3_key.as_bytes())?;
        Ok(WechatPay {
            request_timeout: config.request_timeout(),
            now,
            base_url: config.base_url.trim_end_matches('/').to_string(),
            mchid: config.mchid,
            appid: config.appid,
            notify_url: config.notify_url,
            signer,
            verifier,
            resource_key,
            http,
        })
    }

    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    pub fn appid(&self) -> &str {
        &self.appid
    }
}
