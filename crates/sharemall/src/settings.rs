//! Settings: defaults < `sharemall.toml` < `SHAREMALL__…` environment < command-line flags.
//! Loaded once in `main` and passed down; nothing reads configuration later.

use anyhow::Context;
use serde::Deserialize;
use sharemall_app::config::AppConfig;
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::share::BindingPolicy;
use sharemall_domain::time::DAY_MS;
use sharemall_domain::{Money, Timestamp};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub orders: OrderSettings,
    pub payments: PaymentSettings,
    pub sharing: SharingSettings,
    pub media: MediaSettings,
    pub group_buy: GroupBuySettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: String,
    /// How the platform is reached from outside (links, provider callbacks). Defaults to
    /// `http://<bind>`.
    pub public_url: Option<String>,
    /// Run background jobs inside `serve` (turn off when dedicated `worker`s run them).
    pub run_jobs: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://data/sharemall.db` (default) or `postgres://user@host/db`.
    pub url: String,
    pub readers: usize,
    pub batch_max: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderSettings {
    pub pay_window_secs: i64,
    pub auto_receive_days: i64,
    pub settle_buffer_days: i64,
    pub shipping_fee_fen: i64,
    pub free_shipping_from_fen: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentSettings {
    pub sandbox_key: String,
    /// `[payments.wechat]`: WeChat Pay for one merchant (直连商户). Absent: not offered.
    pub wechat: Option<WechatSettings>,
}

/// `[payments.wechat]`. Keys are named by path and read at start-up, so secrets stay in files
/// the deployment protects rather than in the settings file.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatSettings {
    /// 商户号.
    pub mchid: String,
    /// The official account or mini-program the orders are paid in.
    pub appid: String,
    /// Serial number of the merchant API certificate.
    pub merchant_serial_no: String,
    /// `apiclient_key.pem` (PKCS#8 or PKCS#1, unencrypted).
    pub merchant_private_key_path: PathBuf,
    /// The APIv3 key set in the merchant platform: 32 bytes.
    pub api_v3_key: String,
    /// WeChat Pay's platform public keys (or certificates), several during a rotation.
    /// Configured, never downloaded.
    pub platform_certs: Vec<WechatPlatformCert>,
    /// Where WeChat posts notifications: `https://<host>/api/v1/payments/wechat/notify`.
    pub notify_url: String,
    #[serde(default = "default_wechat_base_url")]
    pub base_url: String,
    #[serde(default = "default_wechat_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "default_wechat_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatPlatformCert {
    /// The serial WeChat sends in `Wechatpay-Serial` (`PUB_KEY_ID_…` or a certificate serial).
    pub serial: String,
    /// A `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE` PEM file.
    pub public_key_path: PathBuf,
}

fn default_wechat_base_url() -> String {
    sharemall_wechatpay::DEFAULT_BASE_URL.into()
}
fn default_wechat_connect_timeout_ms() -> u64 {
    sharemall_wechatpay::DEFAULT_CONNECT_TIMEOUT_MS
}
fn default_wechat_request_timeout_ms() -> u64 {
    sharemall_wechatpay::DEFAULT_REQUEST_TIMEOUT_MS
}

impl fmt::Debug for WechatSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatSettings")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial_no", &self.merchant_serial_no)
            .field("merchant_private_key_path", &self.merchant_private_key_path)
            .field("api_v3_key", &"<redacted>")
            .field("platform_certs", &self.platform_certs)
            .field("notify_url", &self.notify_url)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl WechatSettings {
    /// Reads the key files and checks everything (the keys are parsed too), so a mistake is a
    /// start-up error naming the setting and the file.
    pub fn to_config(&self) -> anyhow::Result<sharemall_wechatpay::Config> {
        let read = |setting: &str, path: &Path| {
            std::fs::read_to_string(path).with_context(|| format!("payments.wechat.{setting}: cannot read {}", path.display()))
        };
        let mut platform_certs = Vec::with_capacity(self.platform_certs.len());
        for (i, cert) in self.platform_certs.iter().enumerate() {
            let public_key_pem = read(&format!("platform_certs[{i}].public_key_path"), &cert.public_key_path)?;
            platform_certs.push(sharemall_wechatpay::PlatformCert { serial: cert.serial.clone(), public_key_pem });
        }
        let config = sharemall_wechatpay::Config {
            mchid: self.mchid.clone(),
            appid: self.appid.clone(),
            merchant_serial_no: self.merchant_serial_no.clone(),
            merchant_private_key_pem: read("merchant_private_key_path", &self.merchant_private_key_path)?,
            api_v3_key: self.api_v3_key.clone(),
            platform_certs,
            base_url: self.base_url.clone(),
            notify_url: self.notify_url.clone(),
            connect_timeout_ms: self.connect_timeout_ms,
            request_timeout_ms: self.request_timeout_ms,
        };
        // Building the client parses every key; the clock is never read here.
        sharemall_wechatpay::WechatPay::new(config.clone(), Arc::new(|| Timestamp(0))).map_err(|e| {
            anyhow::anyhow!("{e} (the keys come from payments.wechat.merchant_private_key_path and platform_certs[].public_key_path)")
        })?;
        Ok(config)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharingSettings {
    /// `protected`: the first share visit binds a customer for `protection_days`, and only a
    /// visit after that may move them; `permanent`: the first binding is for good.
    pub binding: BindingMode,
    pub protection_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingMode {
    Protected,
    Permanent,
}

impl Default for SharingSettings {
    fn default() -> Self {
        SharingSettings { binding: BindingMode::Protected, protection_days: 15 }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// The font posters and parcel cards are drawn with (TrueType/OpenType or .ttc, with Chinese
    /// glyphs), e.g. one shipped with the deployment. Unset: the system's well-known locations
    /// (on Debian, the package fonts-wqy-microhei).
    pub font: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupBuySettings {
    /// Shop owners may run group-buy campaigns in their own shop (operators always may).
    pub shop_owners_may_create: bool,
}

impl Default for GroupBuySettings {
    fn default() -> Self {
        GroupBuySettings { shop_owners_may_create: AppConfig::default().shop_owners_may_run_groups }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { bind: "127.0.0.1:8080".into(), public_url: None, run_jobs: true }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { url: "sqlite://data/sharemall.db".into(), readers: 4, batch_max: 256 }
    }
}

impl Default for OrderSettings {
    fn default() -> Self {
        let app = AppConfig::default();
        OrderSettings {
            pay_window_secs: app.pay_window_ms / 1_000,
            auto_receive_days: app.auto_receive_ms / 86_400_000,
            settle_buffer_days: 0,
            shipping_fee_fen: app.shipping.flat_fee.fen(),
            free_shipping_from_fen: app.shipping.free_at_or_above.fen(),
        }
    }
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings { sandbox_key: AppConfig::default().sandbox_key, wechat: None }
    }
}

impl Settings {
    /// Reads `file` (if it exists) and the `SHAREMALL__SECTION__KEY` environment over the
    /// defaults. Flags are applied by the caller afterwards.
    pub fn load(file: &Path) -> anyhow::Result<Settings> {
        Settings::load_with_env(file, None)
    }

    /// As [`Settings::load`], with the environment given as a map (tests) instead of read from
    /// the process.
    pub fn load_with_env(file: &Path, env: Option<config::Map<String, String>>) -> anyhow::Result<Settings> {
        let environment =
            config::Environment::with_prefix("SHAREMALL").prefix_separator("__").separator("__").try_parsing(true).source(env);
        let built = config::Config::builder().add_source(config::File::from(file).required(false)).add_source(environment).build()?;
        Ok(built.try_deserialize()?)
    }

    pub fn public_url(&self) -> String {
        self.server.public_url.clone().unwrap_or_else(|| format!("http://{}", self.server.bind))
    }

    /// The use cases' settings; fails when `[payments.wechat]` is set but does not validate.
    pub fn app_config(&self) -> anyhow::Result<AppConfig> {
        let wechat_pay = self.payments.wechat.as_ref().map(WechatSettings::to_config).transpose()?;
        Ok(AppConfig {
            pay_window_ms: self.orders.pay_window_secs.clamp(60, 86_400) * 1_000,
            auto_receive_ms: self.orders.auto_receive_days.clamp(1, 30) * 86_400_000,
            settle_buffer_ms: self.orders.settle_buffer_days.clamp(0, 30) * 86_400_000,
            shipping: ShippingRule {
                flat_fee: Money::from_fen(self.orders.shipping_fee_fen.max(0)),
                free_at_or_above: Money::from_fen(self.orders.free_shipping_from_fen.max(0)),
            },
            sandbox_key: self.payments.sandbox_key.clone(),
            public_url: self.public_url(),
            binding: match self.sharing.binding {
                BindingMode::Protected => BindingPolicy::Protected { protection_ms: self.sharing.protection_days.clamp(1, 365) * DAY_MS },
                BindingMode::Permanent => BindingPolicy::Permanent,
            },
            font_paths: self.media.font.iter().cloned().collect(),
            shop_owners_may_run_groups: self.group_buy.shop_owners_may_create,
            wechat_pay,
            ..AppConfig::default()
        })
    }

    pub fn store_config(&self) -> sharemall_store::StoreConfig {
        sharemall_store::StoreConfig {
            url: self.database.url.clone(),
            readers: self.database.readers.clamp(1, 64),
            batch_max: self.database.batch_max.clamp(1, 4_096),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_environment_overrides_file() {
        let dir = std::env::temp_dir().join(format!("sharemall-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sharemall.toml");
        std::fs::write(&file, "[server]\nbind = \"0.0.0.0:9000\"\n[database]\nbatch_max = 64\n[orders]\npay_window_secs = 600\n").unwrap();
        let env = config::Map::from([("SHAREMALL__DATABASE__BATCH_MAX".to_string(), "128".to_string())]);
        let settings = Settings::load_with_env(&file, Some(env)).unwrap();
        assert_eq!(settings.server.bind, "0.0.0.0:9000");
        assert_eq!(settings.database.batch_max, 128, "environment beats the file");
        assert_eq!(settings.orders.pay_window_secs, 600);
        assert_eq!(settings.database.url, "sqlite://data/sharemall.db", "untouched keys keep their defaults");
        assert_eq!(settings.app_config().unwrap().pay_window_ms, 600_000);
        assert!(settings.app_config().unwrap().font_paths.is_empty(), "no font set: the system's locations");
        let env = config::Map::from([("SHAREMALL__MEDIA__FONT".to_string(), "/opt/fonts/wqy-microhei.ttc".to_string())]);
        let settings = Settings::load_with_env(&file, Some(env)).unwrap();
        assert_eq!(settings.app_config().unwrap().font_paths, [PathBuf::from("/opt/fonts/wqy-microhei.ttc")]);
        std::fs::write(&file, "[server]\nbnid = \"typo\"\n").unwrap();
        assert!(Settings::load_with_env(&file, Some(config::Map::new())).is_err(), "unknown keys are refused, not ignored");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn binding_mode_is_chosen_by_the_operator() {
        let dir = std::env::temp_dir().join(format!("sharemall-settings-{}", std::process::id() + 1));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sharemall.toml");
        let defaults = Settings::load_with_env(&file, Some(config::Map::new())).unwrap();
        assert_eq!(defaults.app_config().unwrap().binding, BindingPolicy::Protected { protection_ms: 15 * DAY_MS });
        std::fs::write(&file, "[sharing]\nprotection_days = 30\n").unwrap();
        let longer = Settings::load_with_env(&file, Some(config::Map::new())).unwrap();
        assert_eq!(longer.app_config().unwrap().binding, BindingPolicy::Protected { protection_ms: 30 * DAY_MS });
        let env = config::Map::from([("SHAREMALL__SHARING__BINDING".to_string(), "permanent".to_string())]);
        assert_eq!(Settings::load_with_env(&file, Some(env)).unwrap().app_config().unwrap().binding, BindingPolicy::Permanent);
        std::fs::write(&file, "[sharing]\nbinding = \"forever\"\n").unwrap();
        assert!(Settings::load_with_env(&file, Some(config::Map::new())).is_err(), "an unknown mode is refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shop_owners_run_group_campaigns_unless_the_operator_says_no() {
        let dir = std::env::temp_dir().join(format!("sharemall-settings-{}", std::process::id() + 2));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sharemall.toml");
        let defaults = Settings::load_with_env(&file, Some(config::Map::new())).unwrap();
        assert!(defaults.app_config().unwrap().shop_owners_may_run_groups, "on by default");
        std::fs::write(&file, "[group_buy]\nshop_owners_may_create = false\n").unwrap();
        assert!(!Settings::load_with_env(&file, Some(config::Map::new())).unwrap().app_config().unwrap().shop_owners_may_run_groups);
        let env = config::Map::from([("SHAREMALL__GROUP_BUY__SHOP_OWNERS_MAY_CREATE".to_string(), "true".to_string())]);
        assert!(
            Settings::load_with_env(&file, Some(env)).unwrap().app_config().unwrap().shop_owners_may_run_groups,
            "environment beats the file"
        );
        std::fs::write(&file, "[group_buy]\nshop_owners_may_creat = false\n").unwrap();
        assert!(Settings::load_with_env(&file, Some(config::Map::new())).is_err(), "a misspelt key is refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wechat_pay_comes_from_key_files_and_a_bad_file_stops_start_up() {
        use sharemall_wechatpay::test_support::{API_V3_KEY, APPID, MCHID, MERCHANT_SERIAL, NOTIFY_URL, PLATFORM_SERIAL, keys};
        let dir = std::env::temp_dir().join(format!("sharemall-settings-{}", std::process::id() + 3));
        std::fs::create_dir_all(&dir).unwrap();
        let (file, merchant, platform) = (dir.join("sharemall.toml"), dir.join("apiclient_key.pem"), dir.join("pub_key.pem"));
        std::fs::write(&merchant, &keys().merchant.pkcs8_pem).unwrap();
        std::fs::write(&platform, &keys().platform.spki_pem).unwrap();
        let no_env = || Some(config::Map::new());
        assert!(Settings::load_with_env(&file, no_env()).unwrap().app_config().unwrap().wechat_pay.is_none(), "absent: not offered");

        let section = format!(
            "[payments.wechat]\nmchid = \"{MCHID}\"\nappid = \"{APPID}\"\nmerchant_serial_no = \"{MERCHANT_SERIAL}\"\n\
             merchant_private_key_path = \"{}\"\napi_v3_key = \"{API_V3_KEY}\"\nnotify_url = \"{NOTIFY_URL}\"\n\
             [[payments.wechat.platform_certs]]\nserial = \"{PLATFORM_SERIAL}\"\npublic_key_path = \"{}\"\n",
            merchant.display(),
            platform.display()
        );
        std::fs::write(&file, &section).unwrap();
        let wechat = Settings::load_with_env(&file, no_env()).unwrap().app_config().unwrap().wechat_pay.unwrap();
        assert_eq!((wechat.mchid.as_str(), wechat.appid.as_str()), (MCHID, APPID));
        assert_eq!(wechat.base_url, sharemall_wechatpay::DEFAULT_BASE_URL, "the real host unless told otherwise");
        assert_eq!(wechat.request_timeout_ms, sharemall_wechatpay::DEFAULT_REQUEST_TIMEOUT_MS);
        assert_eq!(wechat.merchant_private_key_pem, keys().merchant.pkcs8_pem, "the key is read from its file");
        assert_eq!(wechat.platform_certs[0].public_key_pem, keys().platform.spki_pem);
        assert!(!format!("{wechat:?}").contains(API_V3_KEY), "secrets never printed");
        let env = config::Map::from([("SHAREMALL__PAYMENTS__WECHAT__MCHID".to_string(), "1900000110".to_string())]);
        let from_env = Settings::load_with_env(&file, Some(env)).unwrap().app_config().unwrap().wechat_pay.unwrap();
        assert_eq!(from_env.mchid, "1900000110", "a digits-only value from the environment stays text");

        std::fs::write(&file, format!("{section}typo_key = 1\n")).unwrap();
        assert!(Settings::load_with_env(&file, no_env()).is_err(), "unknown keys are refused in [payments.wechat] too");

        std::fs::write(&file, &section).unwrap();
        std::fs::write(&merchant, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n").unwrap();
        let error = Settings::load_with_env(&file, no_env()).unwrap().app_config().unwrap_err().to_string();
        assert!(error.contains("merchant_private_key"), "names the setting: {error}");
        std::fs::remove_file(&merchant).unwrap();
        let error = Settings::load_with_env(&file, no_env()).unwrap().app_config().unwrap_err().to_string();
        assert!(error.contains("merchant_private_key_path") && error.contains("apiclient_key.pem"), "names setting and file: {error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
