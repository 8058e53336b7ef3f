//! PostgreSQL backend: the synchronous `postgres` client on dedicated threads, so that the same
//! use-case code ([`crate::ops`]) runs on both backends. Round trips (~0.1 ms each here), not the
//! driver, set the pace: statements are prepared once per connection, and the hot order path has
//! a set-based batch writer of its own ([`crate::ops::orders_pg`]).

pub mod values;

use postgres::{Client, NoTls, Statement};
use sharemall_domain::Error;
use std::collections::HashMap;

use crate::sql::{Backend, Row, Sql, Value};

/// A client with its own prepared-statement cache.
pub struct PgConn {
    pub client: Client,
    statements: HashMap<String, Statement>,
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn, Error> {
        let client = Client::connect(url, NoTls).map_err(db_error)?;
        Ok(PgConn { client, statements: HashMap::new() })
    }

    pub fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql).map_err(db_error)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

pub(crate) fn db_error(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => Error::internal(format!("postgres: {} ({})", db.message(), db.code().code())),
        None => Error::internal(format!("postgres: {e}")),
    }
}

pub(crate) fn params_ref(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
}

impl Sql for PgConn {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let stmt = self.statement(sql)?;
        self.client.execute(&stmt, &params_ref(params)).map_err(db_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error> {
        let stmt = self.statement(sql)?;
        let rows = self.client.query(&stmt, &params_ref(params)).map_err(db_error)?;
        rows.iter().map(values::row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.client.batch_execute(sql).map_err(db_error)
    }

    fn as_postgres(&mut self) -> Option<&mut PgConn> {
        Some(self)
    }
}
