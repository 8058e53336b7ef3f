//! The one SQL surface both backends implement.
//!
//! Every use case in [`crate::ops`] is written once against [`Sql`] and runs unchanged on SQLite
//! and PostgreSQL. The SQL itself keeps to the common subset: `$1` placeholders (SQLite treats
//! them as named parameters, bound by name), `BIGINT` ids and amounts, `TEXT` uuids,
//! `INSERT … ON CONFLICT`, `RETURNING`, and `CAST(SUM(x) AS BIGINT)` where PostgreSQL would
//! otherwise return `NUMERIC`.

use sharemall_domain::{Error, Money, Timestamp};
use uuid::Uuid;

/// A parameter or column value. Deliberately small: integers (amounts, times, counts), text
/// (ids, names) and booleans are all the schema uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

/// Which dialect a connection speaks, for the few places where it matters (transaction start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection (or a transaction on one) that runs parameterised SQL.
pub trait Sql {
    fn backend(&self) -> Backend;
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, Error>;
    /// Runs several statements without parameters (transaction control, migrations).
    fn batch(&mut self, sql: &str) -> Result<(), Error>;
    /// Runs a statement whose anonymous `?` placeholders are bound in order; returns the number
    /// of rows it changed. For multi-row statements with hundreds of parameters, where binding
    /// `$n` by name costs a lookup per parameter. SQLite only: elsewhere it fails, and the
    /// caller falls back to a path that does not need it.
    fn execute_positional(&mut self, sql: &str, params: &[Value]) -> Result<u64, Error> {
        let _ = (sql, params);
        Err(Error::internal(format!("{}: positional parameters are not supported", self.backend().as_str())))
    }
    /// The PostgreSQL connection underneath, for the set-based paths whose statements bind typed
    /// arrays ([`crate::ops::orders_pg`]); `None` on SQLite.
    fn as_postgres(&mut self) -> Option<&mut crate::postgres::PgConn> {
        None
    }
}

impl dyn Sql + '_ {
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, Error> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, Error> {
        self.query_opt(sql, params)?.ok_or_else(|| Error::internal(format!("expected one row from: {sql}")))
    }

    pub fn query_i64(&mut self, sql: &str, params: &[Value]) -> Result<i64, Error> {
        self.query_one(sql, params)?.i64(0)
    }
}

/// One result row: values by column position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, index: usize) -> Result<&Value, Error> {
        self.0.get(index).ok_or_else(|| Error::internal(format!("no column {index}")))
    }

    pub fn i64(&self, index: usize) -> Result<i64, Error> {
        match self.get(index)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            other => Err(Error::internal(format!("column {index}: expected integer, found {other:?}"))),
        }
    }

    pub fn opt_i64(&self, index: usize) -> Result<Option<i64>, Error> {
        match self.get(index)? {
            Value::Null => Ok(None),
            _ => self.i64(index).map(Some),
        }
    }

    pub fn money(&self, index: usize) -> Result<Money, Error> {
        self.i64(index).map(Money::from_fen)
    }

    pub fn time(&self, index: usize) -> Result<Timestamp, Error> {
        self.i64(index).map(Timestamp)
    }

    pub fn opt_time(&self, index: usize) -> Result<Option<Timestamp>, Error> {
        Ok(self.opt_i64(index)?.map(Timestamp))
    }

    pub fn bool(&self, index: usize) -> Result<bool, Error> {
        match self.get(index)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(Error::internal(format!("column {index}: expected boolean, found {other:?}"))),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, Error> {
        match self.get(index)? {
            Value::Text(t) => Ok(t.clone()),
            other => Err(Error::internal(format!("column {index}: expected text, found {other:?}"))),
        }
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, Error> {
        match self.get(index)? {
            Value::Null => Ok(None),
            _ => self.text(index).map(Some),
        }
    }

    pub fn uuid(&self, index: usize) -> Result<Uuid, Error> {
        let text = self.text(index)?;
        Uuid::parse_str(&text).map_err(|e| Error::internal(format!("column {index}: bad uuid {text}: {e}")))
    }

    /// A typed id column (`UserId`, `OrderId`, …).
    pub fn id<T: From<Uuid>>(&self, index: usize) -> Result<T, Error> {
        self.uuid(index).map(T::from)
    }

    /// A nullable typed id column.
    pub fn opt_id<T: From<Uuid>>(&self, index: usize) -> Result<Option<T>, Error> {
        self.opt_text(index)?
            .map(|text| Uuid::parse_str(&text).map(T::from).map_err(|e| Error::internal(format!("column {index}: bad uuid {text}: {e}"))))
            .transpose()
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<Money> for Value {
    fn from(v: Money) -> Self {
        Value::Int(v.fen())
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Int(v.millis())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

macro_rules! id_values {
    ($($id:ident),*) => {$(
        impl From<sharemall_domain::$id> for Value {
            fn from(v: sharemall_domain::$id) -> Self {
                Value::Text(v.0.to_string())
            }
        }
    )*};
}
id_values!(
    UserId,
    SupplierId,
    ProductId,
    SkuId,
    ShopId,
    OrderId,
    PaymentId,
    RefundId,
    JobId,
    CampaignId,
    GroupId,
    BargainCampaignId,
    BargainId,
    WithdrawalId,
    AfterSaleId
);

/// Builds a parameter list: `params![order_id, amount, now]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::sql::Value] };
    ($($value:expr),+ $(,)?) => { &[$($crate::sql::Value::from($value)),+] as &[$crate::sql::Value] };
}
