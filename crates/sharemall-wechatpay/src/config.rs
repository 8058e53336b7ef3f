//! The merchant's WeChat Pay settings, and the checks that turn a typo into a start-up error
//! instead of a failed payment at 3 a.m.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use sharemall_domain::Error;

/// WeChat Pay's production API host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// Connecting should take well under a second from mainland China; 5 s leaves room for a
/// slow DNS answer without tying up a worker.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// The whole request, body included. WeChat documents its APIs as answering within seconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Upper bound for either timeout: a payment call that takes longer has failed.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// One WeChat Pay platform public key, pinned by the serial WeChat sends in `Wechatpay-Serial`.
///
/// `public_key_pem` may be a `PUBLIC KEY` (SPKI, "微信支付公钥", serial `PUB_KEY_ID_…`), an
/// `RSA PUBLIC KEY` (PKCS#1) or a platform `CERTIFICATE`; only its RSA key is used.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PlatformCert {
    pub serial: String,
    pub public_key_pem: String,
}

impl fmt::Debug for PlatformCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformCert").field("serial", &self.serial).finish_non_exhaustive()
    }
}

/// Everything needed to talk to WeChat Pay as one merchant (直连商户).
///
/// Deserialisable so the app can read it straight from `[payments.wechat]`. Secrets are never
/// printed by `Debug`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// 商户号, digits.
    pub mchid: String,
    /// The official account / mini-program appid the orders are paid in.
    pub appid: String,
    /// Serial number of the merchant API certificate whose private key is below.
    pub merchant_serial_no: String,
    /// The merchant API private key (`apiclient_key.pem`): PKCS#8 `PRIVATE KEY`, or PKCS#1
    /// `RSA PRIVATE KEY`. Unencrypted.
    pub merchant_private_key_pem: String,
    /// The APIv3 key set in the merchant platform: exactly 32 bytes.
    pub api_v3_key: String,
    /// Platform keys that may sign responses and callbacks. Several during a key rotation.
    pub platform_certs: Vec<PlatformCert>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Where WeChat posts payment and refund notifications: https, no query string.
    pub notify_url: String,
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_string()
}
fn default_connect_timeout_ms() -> u64 {
    DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_request_timeout_ms() -> u64 {
    DEFAULT_REQUEST_TIMEOUT_MS
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial_no", &self.merchant_serial_no)
            .field("merchant_private_key_pem", &"<redacted>")
            .field("api_v3_key", &"<redacted>")
            .field("platform_certs", &self.platform_certs)
            .field("base_url", &self.base_url)
            .field("notify_url", &self.notify_url)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .finish()
    }
}

impl Config {
    /// A config with the production base URL and default timeouts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mchid: impl Into<String>,
        appid: impl Into<String>,
        merchant_serial_no: impl Into<String>,
        merchant_private_key_pem: impl Into<String>,
        api_v3_key: impl Into<String>,
        platform_certs: Vec<PlatformCert>,
        notify_url: impl Into<String>,
    ) -> Config {
        Config {
            mchid: mchid.into(),
            appid: appid.into(),
            merchant_serial_no: merchant_serial_no.into(),
            merchant_private_key_pem: merchant_private_key_pem.into(),
            api_v3_key: api_v3_key.into(),
            platform_certs,
            base_url: default_base_url(),
            notify_url: notify_url.into(),
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
        }
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// Checks the plain fields. Keys are checked when they are parsed, by
    /// [`WechatPay::new`](crate::WechatPay::new), which calls this first.
    pub fn validate(&self) -> Result<(), Error> {
        // These three go verbatim into the `Authorization` header's quoted values, so a quote or
        // comma would let the value escape; WeChat's are digits, letters and underscores anyway.
        token("mchid", &self.mchid, 32)?;
        token("merchant_serial_no", &self.merchant_serial_no, 64)?;
        token("appid", &self.appid, 32)?;
        if self.api_v3_key.len() != 32 {
            return Err(bad("api_v3_key", &format!("must be exactly 32 bytes, found {}", self.api_v3_key.len())));
        }
        if self.platform_certs.is_empty() {
            return Err(bad("platform_certs", "at least one platform public key is needed to verify WeChat"));
        }
        for (i, cert) in self.platform_certs.iter().enumerate() {
            token(&format!("platform_certs[{i}].serial"), &cert.serial, 64)?;
            let duplicate = self.platform_certs[..i].iter().any(|c| c.serial.eq_ignore_ascii_case(&cert.serial));
            if duplicate {
                return Err(bad("platform_certs", &format!("serial {} is listed twice", cert.serial)));
            }
        }
        check_base_url(&self.base_url)?;
        check_notify_url(&self.notify_url)?;
        for (field, ms) in [("connect_timeout_ms", self.connect_timeout_ms), ("request_timeout_ms", self.request_timeout_ms)] {
            if ms == 0 || ms > MAX_TIMEOUT_MS {
                return Err(bad(field, &format!("must be between 1 and {MAX_TIMEOUT_MS} ms")));
            }
        }
        Ok(())
    }
}

pub(crate) fn bad(field: &str, why: &str) -> Error {
    Error::invalid(format!("payments.wechat.{field}: {why}"))
}

fn token(field: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(bad(field, &format!("longer than {max} characters")));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(bad(field, "only ASCII letters, digits, '_' and '-' are allowed"));
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// https only, except plain http to this machine (the fake server in tests): the merchant's
/// requests carry nothing secret, but the responses decide whether money moved.
fn check_base_url(text: &str) -> Result<(), Error> {
    let url = Url::parse(text).map_err(|e| bad("base_url", &format!("not a URL: {e}")))?;
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !scheme_ok {
        return Err(bad("base_url", "must be https (plain http only to a loopback address)"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(bad("base_url", "must not carry a query, fragment or credentials"));
    }
    Ok(())
}

/// WeChat only posts to https URLs without parameters.
fn check_notify_url(text: &str) -> Result<(), Error> {
    let url = Url::parse(text).map_err(|e| bad("notify_url", &format!("not a URL: {e}")))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err(bad("notify_url", "must be an https URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("notify_url", "must not carry a query string or fragment"));
    }
    if text.len() > 255 {
        return Err(bad("notify_url", "longer than 255 characters"));
    }
    Ok(())
}
