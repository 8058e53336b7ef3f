//! The sandbox payment provider's own books. A real provider keeps these on its side; the
//! sandbox keeps them in its own tables so that it can verify amounts, refuse over-refunds and
//! re-deliver notifications exactly as a real one would.

use sharemall_domain::{Error, ErrorCode, Timestamp};
use uuid::Uuid;

use crate::params;
use crate::sql::Sql;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxTransaction {
    pub id: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub description: String,
    pub notify_url: String,
    pub return_url: String,
    pub status: String,
    pub refunded_fen: i64,
}

pub struct NewSandboxTransaction<'a> {
    pub out_trade_no: &'a str,
    pub amount_fen: i64,
    pub description: &'a str,
    pub notify_url: &'a str,
    pub return_url: &'a str,
}

/// Opens a transaction, or returns the one already open for this merchant order number.
pub fn open_transaction(sql: &mut dyn Sql, now: Timestamp, new: NewSandboxTransaction<'_>) -> Result<SandboxTransaction, Error> {
    sql.execute(
        "INSERT INTO sandbox_transactions (id, out_trade_no, amount_fen, description, notify_url, return_url, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT (out_trade_no) DO NOTHING",
        params![
            format!("sbx_{}", Uuid::new_v4().simple()),
            new.out_trade_no,
            new.amount_fen,
            new.description,
            new.notify_url,
            new.return_url,
            now
        ],
    )?;
    let existing = transaction_by_trade_no(sql, new.out_trade_no)?;
    if existing.amount_fen != new.amount_fen {
        return Err(Error::new(ErrorCode::PaymentAmountMismatch, "this order number was opened with another amount"));
    }
    Ok(existing)
}

const COLUMNS: &str = "id, out_trade_no, amount_fen, description, notify_url, return_url, status, refunded_fen";

fn row_to_txn(row: &crate::sql::Row) -> Result<SandboxTransaction, Error> {
    Ok(SandboxTransaction {
        id: row.text(0)?,
        out_trade_no: row.text(1)?,
        amount_fen: row.i64(2)?,
        description: row.text(3)?,
        notify_url: row.text(4)?,
        return_url: row.text(5)?,
        status: row.text(6)?,
        refunded_fen: row.i64(7)?,
    })
}

pub fn transaction(sql: &mut dyn Sql, id: &str) -> Result<SandboxTransaction, Error> {
    let row = sql
        .query_opt(&format!("SELECT {COLUMNS} FROM sandbox_transactions WHERE id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("sandbox transaction"))?;
    row_to_txn(&row)
}

pub fn transaction_by_trade_no(sql: &mut dyn Sql, out_trade_no: &str) -> Result<SandboxTransaction, Error> {
    let row = sql
        .query_opt(&format!("SELECT {COLUMNS} FROM sandbox_transactions WHERE out_trade_no = $1"), params![out_trade_no])?
        .ok_or_else(|| Error::not_found("sandbox transaction"))?;
    row_to_txn(&row)
}

/// The payer confirmed: the transaction is paid. Paying twice is a no-op.
pub fn mark_paid(sql: &mut dyn Sql, now: Timestamp, id: &str) -> Result<SandboxTransaction, Error> {
    sql.execute("UPDATE sandbox_transactions SET status = 'paid', paid_at = $2 WHERE id = $1 AND status = 'open'", params![id, now])?;
    transaction(sql, id)
}

/// Refunds part or all of a paid transaction. Idempotent per `out_refund_no`; never more than
/// was paid in total.
pub fn refund(sql: &mut dyn Sql, now: Timestamp, out_trade_no: &str, out_refund_no: &str, amount_fen: i64) -> Result<String, Error> {
    if let Some(row) = sql.query_opt("SELECT id, amount_fen FROM sandbox_refunds WHERE out_refund_no = $1", params![out_refund_no])? {
        if row.i64(1)? != amount_fen {
            return Err(Error::new(ErrorCode::PaymentAmountMismatch, "refund number reused with another amount"));
        }
        return row.text(0);
    }
    let txn = transaction_by_trade_no(sql, out_trade_no)?;
    if txn.status != "paid" {
        return Err(Error::new(ErrorCode::InvalidOrderState, "transaction is not paid"));
    }
    let changed = sql.execute(
        "UPDATE sandbox_transactions SET refunded_fen = refunded_fen + $2 WHERE id = $1 AND refunded_fen + $2 <= amount_fen",
        params![txn.id.as_str(), amount_fen],
    )?;
    if changed == 0 || amount_fen <= 0 {
        return Err(Error::new(ErrorCode::RefundExceedsPaid, "refund exceeds the paid amount"));
    }
    let id = format!("sbr_{}", Uuid::new_v4().simple());
    sql.execute(
        "INSERT INTO sandbox_refunds (id, transaction_id, out_refund_no, amount_fen, created_at) VALUES ($1, $2, $3, $4, $5)",
        params![id.as_str(), txn.id.as_str(), out_refund_no, amount_fen, now],
    )?;
    Ok(id)
}
