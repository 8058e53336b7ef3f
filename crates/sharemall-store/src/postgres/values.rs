//! Conversions between [`Value`] and PostgreSQL's wire types. A `Value` binds to whatever type
//! the server inferred for its placeholder, so the shared SQL needs no casts for parameters.

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use sharemall_domain::Error;

use crate::sql::{Row, Value};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => Err(format!("cannot bind an integer to a {ty} parameter").into()),
            },
            Value::Bool(b) => match *ty {
                Type::BOOL => b.to_sql(ty, out),
                Type::INT8 => i64::from(*b).to_sql(ty, out),
                _ => Err(format!("cannot bind a boolean to a {ty} parameter").into()),
            },
            Value::Text(t) => t.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn column(row: &postgres::Row, index: usize) -> Result<Value, Error> {
    let ty = row.columns()[index].type_();
    let fail = |e: BoxError| Error::internal(format!("postgres column {index}: {e}"));
    let value = match *ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index).map(|v| v.map(Value::Int)),
        Type::INT4 => row.try_get::<_, Option<i32>>(index).map(|v| v.map(|v| Value::Int(i64::from(v)))),
        Type::INT2 => row.try_get::<_, Option<i16>>(index).map(|v| v.map(|v| Value::Int(i64::from(v)))),
        Type::BOOL => row.try_get::<_, Option<bool>>(index).map(|v| v.map(Value::Bool)),
        _ if <String as FromSql>::accepts(ty) => row.try_get::<_, Option<String>>(index).map(|v| v.map(Value::Text)),
        _ => return Err(Error::internal(format!("postgres column {index}: unsupported type {ty}"))),
    };
    value.map(|v| v.unwrap_or(Value::Null)).map_err(|e| fail(Box::new(e)))
}

pub(crate) fn row(row: &postgres::Row) -> Result<Row, Error> {
    (0..row.len()).map(|i| column(row, i)).collect::<Result<Vec<_>, _>>().map(Row)
}
