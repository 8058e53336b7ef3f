//! Settlement (SPEC 3.7): commission becomes available once its order's return window has
//! closed. A bounded sweep, safe to run in several workers at once and to re-run: a commission
//! settles in the one transaction that moves it from `pending`, and its transfer's id is
//! derived from the commission, so nothing settles twice.

use sharemall_domain::ledger::{Account, AccountKind, TransferKind};
use sharemall_domain::{Error, OrderId, Timestamp, UserId};

use crate::ops::ledger::{About, Postings};
use crate::params;
use crate::sql::{Backend, Sql};

/// Most commissions settled per transaction.
pub const SETTLE_BATCH: i64 = 200;

/// Whether any commission is due: asked on a reader first, so an idle round takes no place in
/// the writer's queue.
pub fn any_due(sql: &mut dyn Sql, now: Timestamp) -> Result<bool, Error> {
    Ok(sql
        .query_opt(
            &format!("SELECT 1 FROM commissions c WHERE c.status = 'pending' AND c.settle_after <= $1 AND {SETTLEABLE} LIMIT 1"),
            params![now],
        )?
        .is_some())
}

/// A commission waits while its order has a refund in flight or an after-sales case open:
/// either may still take money back, and settling first would only claw it back again.
const SETTLEABLE: &str = "NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = c.order_id AND r.status = 'pending') \
     AND NOT EXISTS (SELECT 1 FROM after_sales a WHERE a.order_id = c.order_id \
     AND a.status IN ('requested', 'approved', 'returned', 'refunding'))";

/// Settles up to `limit` due commissions; returns how many settled.
pub fn settle_due(sql: &mut dyn Sql, now: Timestamp, limit: i64) -> Result<usize, Error> {
    let skip_locked = match sql.backend() {
        Backend::Postgres => "FOR UPDATE OF c SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let due = sql.query(
        &format!(
            "SELECT c.order_id, c.line_no, c.beneficiary_id FROM commissions c \
             WHERE c.status = 'pending' AND c.settle_after <= $1 AND {SETTLEABLE} \
             ORDER BY c.settle_after, c.order_id, c.line_no, c.beneficiary_id LIMIT $2 {skip_locked}"
        ),
        params![now, limit],
    )?;
    let mut postings = Postings::default();
    let mut settled = 0;
    for row in due {
        let (order, line_no, beneficiary): (OrderId, i64, UserId) = (row.id(0)?, row.i64(1)?, row.id(2)?);
        let moved = sql.query_opt(
            "UPDATE commissions SET status = CASE WHEN reversed_fen = amount_fen THEN 'voided' ELSE 'settled' END, settled_at = $4 \
             WHERE order_id = $1 AND line_no = $2 AND beneficiary_id = $3 AND status = 'pending' AND settle_after <= $4 \
             RETURNING amount_fen - reversed_fen",
            params![order, line_no, beneficiary, now],
        )?;
        let Some(moved) = moved else { continue };
        postings.add(
            TransferKind::CommissionSettled,
            Account::of(AccountKind::CommissionPending, beneficiary),
            Account::of(AccountKind::CommissionAvailable, beneficiary),
            moved.money(0)?,
            About::line(order, line_no),
        )?;
        settled += 1;
    }
    postings.write(sql, now)?;
    Ok(settled)
}

#[cfg(test)]
mod tests {
    #[test]
    fn commission_waits_on_exactly_the_open_cases() {
        assert!(super::SETTLEABLE.contains(sharemall_domain::after_sale::OPEN_STATUSES_SQL));
    }
}
