//! Fulfilment: the supplier ships, the customer confirms receipt (or it is confirmed for them),
//! and the order completes when the return window closes. Deadlines are data on the order; the
//! jobs that act on them re-check the data, so running one twice or late changes nothing.

use sharemall_domain::order::{OrderStatus, RETURN_WINDOW_MS};
use sharemall_domain::{Error, ErrorCode, OrderId, SupplierId, Timestamp, UserId};

use crate::ops::{jobs, ledger_orders};
use crate::params;
use crate::sql::Sql;

pub const JOB_AUTO_RECEIVE: &str = "auto_receive_order";
pub const JOB_COMPLETE: &str = "complete_order";

fn status_of(sql: &mut dyn Sql, id: OrderId) -> Result<OrderStatus, Error> {
    let row = sql.query_opt("SELECT status FROM orders WHERE id = $1", params![id])?.ok_or_else(|| Error::not_found("order"))?;
    OrderStatus::parse(&row.text(0)?)
}

/// Records the supplier's shipment of its part of the order. When every supplier in the order
/// has shipped, the order is shipped and the auto-receive deadline starts.
pub fn ship(
    sql: &mut dyn Sql,
    now: Timestamp,
    supplier: SupplierId,
    id: OrderId,
    carrier: &str,
    tracking_no: &str,
    auto_receive_ms: i64,
) -> Result<(), Error> {
    let has_items = sql.query_i64("SELECT COUNT(*) FROM order_items WHERE order_id = $1 AND supplier_id = $2", params![id, supplier])?;
    if has_items == 0 {
        return Err(Error::not_found("order"));
    }
    let status = status_of(sql, id)?;
    if status != OrderStatus::ToShip {
        return Err(Error::new(ErrorCode::InvalidOrderState, format!("an order that is {} cannot be shipped", status.as_str())));
    }
    let inserted = sql.execute(
        "INSERT INTO shipments (order_id, supplier_id, carrier, tracking_no, shipped_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        params![id, supplier, carrier, tracking_no, now],
    )?;
    if inserted == 0 {
        return Err(Error::new(ErrorCode::InvalidOrderState, "you have already shipped this order"));
    }
    let unshipped = sql.query_i64(
        "SELECT COUNT(DISTINCT supplier_id) FROM order_items i WHERE i.order_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM shipments sh WHERE sh.order_id = i.order_id AND sh.supplier_id = i.supplier_id)",
        params![id],
    )?;
    if unshipped == 0 {
        sql.execute("UPDATE orders SET status = 'shipped', shipped_at = $2 WHERE id = $1 AND status = 'to_ship'", params![id, now])?;
        jobs::enqueue(sql, now, JOB_AUTO_RECEIVE, &id.to_string(), now.plus_ms(auto_receive_ms))?;
    }
    Ok(())
}

/// Who confirms receipt.
#[derive(Debug, Clone, Copy)]
pub enum ReceiveBy {
    Customer(UserId),
    /// The auto-receive deadline passed.
    Deadline {
        auto_receive_ms: i64,
    },
}

/// Confirms receipt; starts the return window (7 days plus the policy's settlement buffer, or
/// `settle_buffer_ms` while no policy is set). Returns whether anything changed.
pub fn confirm_receipt(sql: &mut dyn Sql, now: Timestamp, id: OrderId, by: ReceiveBy, settle_buffer_ms: i64) -> Result<bool, Error> {
    let row = sql
        .query_opt("SELECT status, customer_id, shipped_at FROM orders WHERE id = $1", params![id])?
        .ok_or_else(|| Error::not_found("order"))?;
    let status = OrderStatus::parse(&row.text(0)?)?;
    match by {
        ReceiveBy::Customer(user) => {
            if row.id::<UserId>(1)? != user {
                return Err(Error::not_found("order"));
            }
            status.transition(OrderStatus::Received)?;
        }
        ReceiveBy::Deadline { auto_receive_ms } => {
            let due = row.opt_time(2)?.is_some_and(|shipped| shipped.plus_ms(auto_receive_ms) <= now);
            if status != OrderStatus::Shipped || !due {
                return Ok(false);
            }
        }
    }
    let buffer_ms = crate::ops::policy::settle_buffer_ms(sql, settle_buffer_ms)?;
    let completes_at = now.plus_ms(RETURN_WINDOW_MS).plus_ms(buffer_ms);
    let changed = sql.execute(
        "UPDATE orders SET status = 'received', received_at = $2, completes_at = $3 WHERE id = $1 AND status = 'shipped'",
        params![id, now, completes_at],
    )?;
    if changed > 0 {
        jobs::enqueue(sql, now, JOB_COMPLETE, &id.to_string(), completes_at)?;
        ledger_orders::start_settlement_clock(sql, id, completes_at)?;
    }
    Ok(changed > 0)
}

/// Completes a received order whose return window has closed. Idempotent.
pub fn complete(sql: &mut dyn Sql, now: Timestamp, id: OrderId) -> Result<bool, Error> {
    let changed = sql.execute(
        "UPDATE orders SET status = 'completed', closed_at = $2 WHERE id = $1 AND status = 'received' AND completes_at <= $2",
        params![id, now],
    )?;
    Ok(changed > 0)
}
