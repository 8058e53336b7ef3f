//! SQLite backend: rusqlite on dedicated threads.
//!
//! Settings: WAL (readers never block the writer), `synchronous=FULL` (an acknowledged commit
//! survives power loss), foreign keys on, and a busy timeout for the rare moment a reader
//! checkpoints. The single writer thread starts every batch with `BEGIN IMMEDIATE`, on a
//! connection opened through `sharemall-sqlite-vfs` so that each commit's WAL frames reach the
//! file in a few large writes ([`open_writer`]).

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sharemall_domain::Error;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sql::{Backend, Row, Sql, Value};

/// The writer's WAL writes so far, as SQLite asked for them and as they reached the file.
pub use sharemall_sqlite_vfs::{WalWrites, wal_writes};

/// Opens a connection with the platform's settings.
///
/// `page_size=1024` (for new databases): orders touch many B-tree leaves at random (customer
/// and idempotency indexes), and every dirtied page is written whole to the WAL at commit; at
/// 1 KiB instead of 4 KiB the WAL volume per order drops and the benchmark rose by about a tenth.
///
/// `mmap_size` (256 MiB): pages missing from the page cache are read from the mapped file instead
/// of by a `pread` each; share visits, which touch index pages all over the file, rose by about a
/// tenth (orders unchanged). Writes still go through the WAL.
pub fn open(path: &Path) -> Result<Connection, Error> {
    configure(Connection::open_with_flags(path, OPEN_FLAGS).map_err(db_error)?)
}

const OPEN_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_CREATE).union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// As [`open`], for the writer: on the VFS that gathers a commit's WAL frames into a few large writes
/// ([`sharemall_sqlite_vfs`]), creating the file's directory first (a fresh `./data/`). Only the
/// writer appends to the WAL, so only its connection needs the VFS.
pub fn open_writer(path: &Path) -> Result<Connection, Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    configure(sharemall_sqlite_vfs::open_connection(path, OPEN_FLAGS).map_err(db_error)?)
}

fn configure(conn: Connection) -> Result<Connection, Error> {
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_error)?;
    conn.execute_batch(
        "PRAGMA page_size=1024; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; \
         PRAGMA mmap_size=268435456;",
    )
    .map_err(db_error)?;
    // Statements are prepared once per connection and reused: most of a batch's work is the
    // same handful of statements.
    conn.set_prepared_statement_cache_capacity(256);
    // The bundled SQLite is built with STAT4, which re-prepares a statement with a join or an
    // ORDER BY every time its parameters change, in case the values suggest a better plan.
    // Measured: that re-parse was a third of the writer's time per order. The query-planner
    // stability guarantee keeps one plan per statement, which is what a cached statement is for.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(db_error)?;
    Ok(conn)
}

pub(crate) fn db_error(e: rusqlite::Error) -> Error {
    Error::internal(format!("sqlite: {e}"))
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        })
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> Result<(), Error> {
    // `$n` placeholders are named parameters to SQLite; bind each by its name so the order in
    // which they appear in the text does not matter.
    let mut name = String::with_capacity(4);
    for (i, value) in params.iter().enumerate() {
        name.clear();
        name.push('$');
        name.push_str(&(i + 1).to_string());
        let index = stmt.parameter_index(&name).map_err(db_error)?;
        if let Some(index) = index {
            stmt.raw_bind_parameter(index, value).map_err(db_error)?;
        }
    }
    Ok(())
}

fn column(value: ValueRef<'_>) -> Result<Value, Error> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(|e| Error::internal(e.to_string()))?),
        ValueRef::Real(_) | ValueRef::Blob(_) => return Err(Error::internal("unexpected REAL or BLOB column")),
    })
}

impl Sql for Connection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let mut stmt = self.prepare_cached(sql).map_err(db_error)?;
        bind(&mut stmt, params)?;
        let changed = stmt.raw_execute().map_err(db_error)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error> {
        let mut stmt = self.prepare_cached(sql).map_err(db_error)?;
        bind(&mut stmt, params)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(column(row.get_ref(i).map_err(db_error)?)?);
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.execute_batch(sql).map_err(db_error)
    }

    fn execute_positional(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let mut stmt = self.prepare_cached(sql).map_err(db_error)?;
        if stmt.parameter_count() != params.len() {
            return Err(Error::internal(format!("statement takes {} parameters, {} given", stmt.parameter_count(), params.len())));
        }
        for (i, value) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, value).map_err(db_error)?;
        }
        let changed = stmt.raw_execute().map_err(db_error)?;
        Ok(changed as u64)
    }
}

/// How often the checkpointer copies committed pages from the WAL into the database file. Each
/// checkpoint writes every page changed since the last one and syncs the file; every 100 ms
/// rather than 25, a page changed several times in between is written once, and the syncs that
/// compete with the writer's commits are a quarter as many. Measured (group-join, c=64, three
/// alternations): half the device writes and p99 24–34 ms instead of 41–55 ms, the same
/// throughput.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// Log size past which the writer restarts the WAL: the file stays bounded near it (and
/// `journal_size_limit` trims it back to it), and at 128 MiB a restart comes four times less
/// often than at 32 MiB.
pub const WAL_RESTART_BYTES: u64 = 128 * 1024 * 1024;

/// Set by the checkpointer when the log it has just copied is past the restart size; taken by
/// the writer after its next commit. Under sustained writes a passive checkpoint never catches
/// up, so the log would never restart by itself and would grow without bound (measured: 1 GB in
/// 5 s of load); a RESTART checkpoint must copy whatever the passive ones have not yet copied,
/// syncing the database file, while the writer waits. Run whenever the writer found the file
/// large, it found up to 100 ms of commits still to copy: 35–85 ms of stalled writer, three
/// times per 40,000 joins. Run after the checkpointer has caught up ([`catch_up`]), it took
/// 2–54 ms, half of them under 10 (group-join's after-commit time per join fell from 4.1–5.0
/// µs to 1.0–1.5 µs).
#[derive(Debug, Default)]
pub struct WalRestartDue(AtomicBool);

/// Moves the work of WAL checkpoints off the writer thread: the writer's connection stops
/// checkpointing on commit (`wal_autocheckpoint=0`) and this thread runs a passive checkpoint
/// every [`CHECKPOINT_INTERVAL`] on its own connection; passive checkpoints never block the
/// writer. After a pass that leaves the log past `restart_bytes`, it raises `due`. The thread
/// ends when `alive` can no longer be upgraded (the store was dropped).
pub fn start_checkpointer<T: Send + Sync + 'static>(
    path: &Path,
    alive: std::sync::Weak<T>,
    restart_bytes: u64,
    due: Arc<WalRestartDue>,
) -> Result<(), Error> {
    let conn = open(path)?;
    let page_size = conn.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0)).map_err(db_error)?;
    let frame_bytes = u64::try_from(page_size).map_err(|_| Error::internal("a negative page size"))? + WAL_FRAME_HEADER;
    std::thread::Builder::new()
        .name("store-checkpointer".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                match passive_checkpoint(&conn) {
                    Ok(frames) if frames.saturating_mul(frame_bytes) > restart_bytes => {
                        catch_up(&conn);
                        due.0.store(true, Ordering::Release);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed; will retry"),
                }
            }
        })
        .map_err(|e| Error::internal(format!("cannot start checkpointer: {e}")))?;
    Ok(())
}

/// Copies every frame committed so far into the database file, never blocking the writer;
/// returns how many frames the log holds.
fn passive_checkpoint(conn: &Connection) -> Result<u64, Error> {
    // The pragma's row: busy, frames in the log, frames copied.
    let frames = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)).map_err(db_error)?;
    Ok(u64::try_from(frames).unwrap_or(0))
}

/// Before the writer restarts the log: passes back to back, each copying what was committed
/// during the one before, until one is short, so the restart itself finds almost nothing to copy.
/// A pass over 100 ms of group joins took 8–70 ms, and each pass has a fraction of the last
/// one's frames to copy.
fn catch_up(conn: &Connection) {
    for _ in 0..CATCH_UP_PASSES {
        let started = std::time::Instant::now();
        if let Err(e) = passive_checkpoint(conn) {
            tracing::warn!(error = %e, "checkpoint failed; will retry");
            return;
        }
        if started.elapsed() < CAUGHT_UP {
            return;
        }
    }
}

/// At most this many extra passes before a restart: enough to shrink a 60 ms pass below
/// [`CAUGHT_UP`] on a disk that copies faster than the writer commits, and bounded on one
/// that does not.
const CATCH_UP_PASSES: usize = 6;
/// A pass this short left the restart a batch or two of frames.
const CAUGHT_UP: std::time::Duration = std::time::Duration::from_millis(2);

/// Each WAL frame is a page behind a 24-byte header.
const WAL_FRAME_HEADER: u64 = 24;

/// Run by the writer after each commit, between batches, so it holds no lock: when the
/// checkpointer has raised `due`, a RESTART checkpoint copies the little the last pass left,
/// waits for readers still on the log's frames, and the next batch writes the log from its start.
pub fn restart_wal_when_due(due: Arc<WalRestartDue>) -> impl FnMut(&mut Connection) + Send + 'static {
    move |conn: &mut Connection| {
        if !due.0.swap(false, Ordering::AcqRel) {
            return;
        }
        match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) => {}
            // Busy: a reader outwaited the busy timeout, or a pass had begun; try again next batch.
            Ok(_) => due.0.store(true, Ordering::Release),
            Err(e) => {
                tracing::warn!(error = %e, "WAL restart failed; will retry after the next batch");
                due.0.store(true, Ordering::Release);
            }
        }
    }
}

#[cfg(test)]
mod wal_restart_tests;
