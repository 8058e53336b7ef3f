//! SQLite backend: rusqlite on dedicated threads.
//!
//! Settings: WAL (readers never block the writer), `synchronous=FULL` (an acknowledged commit
//! survives power loss), foreign keys on, and a busy timeout for the rare moment a reader
//! checkpoints. The single writer thread starts every batch with `BEGIN IMMEDIATE`.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use sharemall_domain::Error;
use std::path::Path;

use crate::sql::{Backend, Row, Sql, Value};

/// Opens a connection with the platform's settings.
pub fn open(path: &Path) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_error)?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;")
        .map_err(db_error)?;
    // Statements are prepared once per connection and reused: most of a batch's work is the
    // same handful of statements.
    conn.set_prepared_statement_cache_capacity(256);
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
}
