//! What a shop owner reads about their commission: the balances, and the commission of every
//! order line they earned on, with what refunds took back (SPEC 3.7: a clawback is shown, never
//! hidden).

use serde::Serialize;
use sharemall_domain::{Error, OrderId, UserId};
use utoipa::ToSchema;

use crate::ops::ledger::{self, Balances};
use crate::params;
use crate::sql::Sql;

/// One order line's commission for one beneficiary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CommissionLine {
    #[schema(value_type = String)]
    pub order_id: OrderId,
    pub order_no: String,
    pub line_no: i64,
    pub title: String,
    /// 1: the attributed shop's owner; 2: who invited that owner (only with an acknowledged depth-2 policy).
    pub level: i64,
    pub rate_bps: i64,
    /// The goods amount the customer paid for the line: what the rate applies to.
    pub base_fen: i64,
    pub amount_fen: i64,
    /// What refunds took back: voided while pending, clawed back once settled.
    pub reversed_fen: i64,
    /// pending | settled | voided
    pub status: String,
    /// When the return window closes; `None` until the customer has the goods.
    pub settle_after: Option<i64>,
    pub settled_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Earnings {
    pub balances: Balances,
    /// The sum of every clawback: commission taken back after it had become available.
    pub clawed_back_fen: i64,
    pub lines: Vec<CommissionLine>,
}

pub fn earnings(sql: &mut dyn Sql, user: UserId, page: i64, per_page: i64) -> Result<Earnings, Error> {
    let balances = ledger::balances(sql, user)?;
    let clawed_back_fen = sql.query_i64(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_transfers WHERE kind = 'commission_clawback' AND debit_account = $1",
        params![sharemall_domain::ledger::Account::of(sharemall_domain::ledger::AccountKind::CommissionAvailable, user).key()],
    )?;
    let rows = sql.query(
        "SELECT c.order_id, o.order_no, c.line_no, i.title, c.level, c.rate_bps, c.base_fen, c.amount_fen, c.reversed_fen, c.status, \
                c.settle_after, c.settled_at, c.created_at \
         FROM commissions c JOIN orders o ON o.id = c.order_id \
         JOIN order_items i ON i.order_id = c.order_id AND i.line_no = c.line_no \
         WHERE c.beneficiary_id = $1 ORDER BY c.created_at DESC, c.order_id, c.line_no LIMIT $2 OFFSET $3",
        params![user, per_page, page.saturating_sub(1).saturating_mul(per_page)],
    )?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok(CommissionLine {
                order_id: r.id(0)?,
                order_no: r.text(1)?,
                line_no: r.i64(2)?,
                title: r.text(3)?,
                level: r.i64(4)?,
                rate_bps: r.i64(5)?,
                base_fen: r.i64(6)?,
                amount_fen: r.i64(7)?,
                reversed_fen: r.i64(8)?,
                status: r.text(9)?,
                settle_after: r.opt_i64(10)?,
                settled_at: r.opt_i64(11)?,
                created_at: r.i64(12)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Earnings { balances, clawed_back_fen, lines })
}
