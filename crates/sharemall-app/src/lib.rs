//! Use cases of sharemall: one `pub async fn` per command or query, grouped by context.
//!
//! [`App`] holds what the use cases share: the store, the clock, the settings, the providers.
//! Handlers in the web crate call these functions and contain no SQL and no business rules.

pub mod accounts;
pub mod after_sales;
pub mod bargains;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod demo;
pub mod earnings;
pub mod group_campaigns;
pub mod groups;
pub mod import;
pub mod inbox;
pub mod jobs;
pub mod orders;
pub mod parcel_cards;
pub mod payments;
pub mod policy;
pub mod sandbox;
pub mod session_cache;
pub mod share_media;
pub mod share_stats;
pub mod shares;
pub mod shops;
pub mod throttle;
pub mod tokens;
pub mod wechat;
pub mod withdrawals;

use sharemall_domain::account::Role;
use sharemall_domain::{Error, ErrorCode, Timestamp};
use sharemall_store::Store;
use sharemall_store::model::SessionUser;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::config::AppConfig;
use crate::throttle::Throttle;

/// Everything the use cases share. Built once at start-up; cheap to share as `Arc<App>`.
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: AppConfig,
    hashing: Semaphore,
    throttle: Throttle,
    sessions: session_cache::SessionCache,
    share_misses: Throttle,
    /// The font and the render slots for posters and parcel cards.
    media: share_media::Renderer,
    order_numbers: OrderNumbers,
    http: reqwest::Client,
    /// The WeChat Pay client, when `config.wechat_pay` is set.
    wechat: Option<sharemall_wechatpay::WechatPay>,
    dummy_hash: String,
}

impl App {
    /// Fails when a configured provider does not validate (a bad key, a wrong URL): a start-up
    /// error naming the setting, never a failed payment later.
    pub fn new(store: Store, clock: Arc<dyn Clock>, config: AppConfig) -> Result<Arc<App>, Error> {
        // The WeChat crate's builder, because its TLS backend is the process's (see there).
        let http = sharemall_wechatpay::http_client_builder()?
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| Error::internal(format!("http client: {e}")))?;
        let wechat = config.wechat_pay.clone().map(|c| wechat::client(c, Arc::clone(&clock))).transpose()?;
        Ok(Arc::new(App {
            hashing: Semaphore::new(config.hash_concurrency.max(1)),
            throttle: Throttle::new(config.sign_in_failures_max, config.sign_in_window_ms),
            sessions: session_cache::SessionCache::default(),
            share_misses: Throttle::new(config.share_misses_max, config.share_miss_window_ms),
            media: share_media::Renderer::load(&config.font_paths),
            order_numbers: OrderNumbers::new(),
            store,
            clock,
            config,
            http,
            wechat,
            dummy_hash: password_auth::generate_hash(tokens::new_secret()),
        }))
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

/// Refuses a caller without `role`.
pub fn require(user: &SessionUser, role: Role) -> Result<(), Error> {
    if user.has(role) { Ok(()) } else { Err(Error::new(ErrorCode::Forbidden, "you do not have access to this")) }
}

/// Human-readable order numbers: the creation time in milliseconds, a per-process tag and a
/// counter, so that numbers are unique without a database sequence (none exists on distributed
/// SQL engines) and sort by time.
struct OrderNumbers {
    process_tag: u64,
    counter: AtomicU64,
}

impl OrderNumbers {
    fn new() -> OrderNumbers {
        OrderNumbers { process_tag: rand::random::<u64>() % 100, counter: AtomicU64::new(0) }
    }

    fn next(&self, now: Timestamp) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) % 10_000;
        format!("{}{:02}{:04}", now.millis(), self.process_tag, n)
    }
}
