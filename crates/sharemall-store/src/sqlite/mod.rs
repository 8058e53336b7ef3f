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
/// throughput; the WAL restarts past [`WAL_RESTART_BYTES`] find at most 100 ms of it to copy.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// WAL size at which the writer restarts the log between batches. A restart waits for every
/// reader still on the log's older frames (its busy handler sleeps 1, 2, 5, 10… ms), a 40–60 ms
/// pause of the writer under load; at 128 MiB it comes four times less often than at 32 MiB
/// (group-join's p99 fell from 31–33 ms to 11–15 ms), and the log file stays bounded.
pub const WAL_RESTART_BYTES: u64 = 128 * 1024 * 1024;

/// Moves the work of WAL checkpoints off the writer thread: the writer's connection stops
/// checkpointing on commit (`wal_autocheckpoint=0`) and this thread runs a passive checkpoint
/// every [`CHECKPOINT_INTERVAL`] on its own connection; passive checkpoints never block the
/// writer. The thread ends when `alive` can no longer be upgraded (the store was dropped).
pub fn start_checkpointer<T: Send + Sync + 'static>(path: &Path, alive: std::sync::Weak<T>) -> Result<(), Error> {
    let conn = open(path)?;
    std::thread::Builder::new()
        .name("store-checkpointer".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed; will retry");
                }
            }
        })
        .map_err(|e| Error::internal(format!("cannot start checkpointer: {e}")))?;
    Ok(())
}

/// Run by the writer after each commit. Under sustained writes a passive checkpoint never
/// catches up, so the log would never restart and would grow without bound (measured: 1 GB in
/// 5 s of load). When the WAL passes [`WAL_RESTART_BYTES`], the writer — between batches, so it
/// holds no lock — runs a RESTART checkpoint: the checkpointer has already copied most frames,
/// the rest is short, and the next batch writes the log from its start; `journal_size_limit`
/// trims the file back.
pub fn restart_wal_when_large(path: &Path) -> impl FnMut(&mut Connection) + Send + 'static {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    move |conn: &mut Connection| {
        let large = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_RESTART_BYTES);
        if large && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL restart failed; will retry after the next batch");
        }
    }
}
