//! Settings: defaults < `sharemall.toml` < `SHAREMALL__…` environment < command-line flags.
//! Loaded once in `main` and passed down; nothing reads configuration later.

use serde::Deserialize;
use sharemall_app::config::AppConfig;
use sharemall_domain::Money;
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::share::BindingPolicy;
use sharemall_domain::time::DAY_MS;
use std::path::{Path, PathBuf};

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
        PaymentSettings { sandbox_key: AppConfig::default().sandbox_key }
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

    pub fn app_config(&self) -> AppConfig {
        AppConfig {
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
            ..AppConfig::default()
        }
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
        assert_eq!(settings.app_config().pay_window_ms, 600_000);
        assert!(settings.app_config().font_paths.is_empty(), "no font set: the system's locations");
        let env = config::Map::from([("SHAREMALL__MEDIA__FONT".to_string(), "/opt/fonts/wqy-microhei.ttc".to_string())]);
        let settings = Settings::load_with_env(&file, Some(env)).unwrap();
        assert_eq!(settings.app_config().font_paths, [PathBuf::from("/opt/fonts/wqy-microhei.ttc")]);
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
        assert_eq!(defaults.app_config().binding, BindingPolicy::Protected { protection_ms: 15 * DAY_MS });
        std::fs::write(&file, "[sharing]\nprotection_days = 30\n").unwrap();
        let longer = Settings::load_with_env(&file, Some(config::Map::new())).unwrap();
        assert_eq!(longer.app_config().binding, BindingPolicy::Protected { protection_ms: 30 * DAY_MS });
        let env = config::Map::from([("SHAREMALL__SHARING__BINDING".to_string(), "permanent".to_string())]);
        assert_eq!(Settings::load_with_env(&file, Some(env)).unwrap().app_config().binding, BindingPolicy::Permanent);
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
        assert!(defaults.app_config().shop_owners_may_run_groups, "on by default");
        std::fs::write(&file, "[group_buy]\nshop_owners_may_create = false\n").unwrap();
        assert!(!Settings::load_with_env(&file, Some(config::Map::new())).unwrap().app_config().shop_owners_may_run_groups);
        let env = config::Map::from([("SHAREMALL__GROUP_BUY__SHOP_OWNERS_MAY_CREATE".to_string(), "true".to_string())]);
        assert!(Settings::load_with_env(&file, Some(env)).unwrap().app_config().shop_owners_may_run_groups, "environment beats the file");
        std::fs::write(&file, "[group_buy]\nshop_owners_may_creat = false\n").unwrap();
        assert!(Settings::load_with_env(&file, Some(config::Map::new())).is_err(), "a misspelt key is refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
