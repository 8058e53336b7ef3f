//! The storage boundary of sharemall.
//!
//! [`Store`] is the only way the rest of the platform touches the database. State changes go to
//! a batching [`writer::Writer`]; reads go to a pool of [`readers::Readers`]. Both backends —
//! embedded SQLite (the default) and PostgreSQL — run the same use-case code in [`ops`].

pub mod migrate;
pub mod model;
pub mod ops;
pub mod postgres;
pub mod readers;
pub mod sql;
pub mod sqlite;
pub mod thread_priority;
pub mod writer;

use sharemall_domain::{Error, Timestamp};
use std::path::PathBuf;
use std::sync::Arc;

use model::OrderPlaced;
use ops::idempotency::IdempotencyKey;
use ops::orders::PlaceOrder;
use readers::Readers;
pub use sql::{Backend, Sql};
use writer::{Writer, WriterStats};

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://path/to/file.db` (or a bare path), or `postgres://…`.
    pub url: String,
    pub readers: usize,
    /// Most commands committed in one transaction.
    pub batch_max: usize,
}

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(url: &str) -> Location {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Location::Postgres(url.to_string());
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        Location::Sqlite(PathBuf::from(path))
    }
}

/// A handle to the database: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    writer: Writer,
    readers: Readers,
    /// PostgreSQL only: the sharded, set-based order writer ([`ops::orders_pg`]).
    orders: Option<ops::orders_pg::PgOrderWriter>,
    stats: Arc<WriterStats>,
}

impl Store {
    /// Opens the store, applying pending migrations first. Blocking: call it before serving, or
    /// from `spawn_blocking`.
    pub fn open(config: &StoreConfig, now_ms: i64) -> Result<Store, Error> {
        let stats = Arc::new(WriterStats::default());
        let readers = config.readers.max(1);
        match Location::parse(&config.url) {
            Location::Sqlite(path) => {
                let mut conn = sqlite::open_writer(&path)?;
                migrate::migrate(&mut conn, now_ms)?;
                conn.batch(&format!("PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit={}", sqlite::WAL_RESTART_BYTES))?;
                let restart_due = Arc::new(sqlite::WalRestartDue::default());
                sqlite::start_checkpointer(&path, Arc::downgrade(&stats), sqlite::WAL_RESTART_BYTES, Arc::clone(&restart_due))?;
                let after_commit = sqlite::restart_wal_when_due(restart_due);
                let writer = Writer::start_with("store-writer", conn, config.batch_max, Arc::clone(&stats), after_commit)?;
                let conns = (0..readers).map(|_| sqlite::open(&path)).collect::<Result<Vec<_>, _>>()?;
                Ok(Store { backend: Backend::Sqlite, writer, readers: Readers::start(conns)?, orders: None, stats })
            }
            Location::Postgres(url) => {
                let mut conn = postgres::PgConn::connect(&url)?;
                migrate::migrate(&mut conn, now_ms)?;
                let writer = Writer::start("store-writer", conn, config.batch_max, Arc::clone(&stats))?;
                let conns = (0..readers).map(|_| postgres::PgConn::connect(&url)).collect::<Result<Vec<_>, _>>()?;
                let orders =
                    ops::orders_pg::PgOrderWriter::start(&url, ops::orders_pg::DEFAULT_SHARDS, config.batch_max, Arc::clone(&stats))?;
                Ok(Store { backend: Backend::Postgres, writer, readers: Readers::start(conns)?, orders: Some(orders), stats })
            }
        }
    }

    /// Applies migrations without starting the store (the `migrate` command).
    pub fn migrate_only(url: &str, now_ms: i64) -> Result<usize, Error> {
        match Location::parse(url) {
            Location::Sqlite(path) => migrate::migrate(&mut sqlite::open_writer(&path)?, now_ms),
            Location::Postgres(url) => migrate::migrate(&mut postgres::PgConn::connect(&url)?, now_ms),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs a command in the next batch; returns after the batch is durably committed.
    pub async fn write<T, F>(&self, command: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Sql) -> Result<T, Error> + Send + 'static,
    {
        self.writer.write(command).await
    }

    /// Runs a read use case on a reader thread.
    pub async fn read<T, F>(&self, query: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Sql) -> Result<T, Error> + Send + 'static,
    {
        self.readers.read(query).await
    }

    /// Places an order (with its idempotency key, if any) and returns after it is durably
    /// committed. SQLite: a command in the batching writer, as [`ops::orders::place_order`], placed
    /// set-based with the consecutive orders of its batch
    /// ([`ops::orders_sqlite`]). PostgreSQL: the sharded, set-based order writer
    /// ([`ops::orders_pg`]), same effect in a handful of round trips per batch.
    pub async fn place_order(&self, now: Timestamp, cmd: PlaceOrder, key: Option<IdempotencyKey>) -> Result<OrderPlaced, Error> {
        match &self.orders {
            Some(orders) => orders.place_order(now, cmd, key).await,
            None => self.writer.place_order(ops::order_batch::OrderCommand { now, cmd, key }).await,
        }
    }

    /// Records a share visit (as [`ops::shares::record_visit`]) and returns after it is durably
    /// committed; a run of visits in one batch is recorded set-based ([`ops::visits_batch`]).
    pub async fn record_visit(&self, visit: ops::shares::VisitCommand) -> Result<ops::shares::Visit, Error> {
        self.writer.record_visit(visit).await
    }

    /// Joins a group (as [`ops::groups::join_group`]) and returns after it is durably committed.
    /// On SQLite a run of joins in one batch is decided set-based ([`ops::joins_batch`]); on
    /// PostgreSQL each join runs on the generic path in its own savepoint.
    pub async fn join_group(&self, join: ops::joins_batch::JoinCommand) -> Result<OrderPlaced, Error> {
        self.writer.join_group(join).await
    }

    /// (commits, commands) so far: their ratio is the batching factor.
    pub fn writer_stats(&self) -> (u64, u64) {
        self.stats.snapshot()
    }

    /// The generic writer's wall time so far, split into applying, committing, answering callers
    /// and maintenance.
    pub fn writer_times(&self) -> writer::WriterTimes {
        self.stats.times()
    }

    /// Batches refused whole because their transaction could not commit.
    pub fn failed_commits(&self) -> u64 {
        self.stats.failed_commits.load(std::sync::atomic::Ordering::Relaxed)
    }
}
