//! Payments and refunds on our side of the provider boundary.
//!
//! A payment succeeds only through a verified provider callback (or an equally verified query);
//! applying the same success twice changes nothing. A refund is recorded as pending in the same
//! transaction that decides it, and a job asks the provider to carry it out.

use serde::{Deserialize, Serialize};
use sharemall_domain::after_sale::OPEN_STATUSES_SQL;
use sharemall_domain::order::OrderStatus;
use sharemall_domain::payment::check_refund;
use sharemall_domain::{AfterSaleId, Error, ErrorCode, Money, OrderId, PaymentId, RefundId, Timestamp, UserId};
use utoipa::ToSchema;

use crate::model::Payment;
use crate::ops::after_sales;
use crate::ops::fulfilment::JOB_COMPLETE;
use crate::ops::groups::{self, Seated};
use crate::ops::jobs;
use crate::ops::ledger_orders;
use crate::ops::orders::move_stock;
use crate::params;
use crate::sql::{Row, Sql};

pub const JOB_EXECUTE_REFUND: &str = "execute_refund";

fn payment_row(row: &Row) -> Result<Payment, Error> {
    Ok(Payment {
        id: row.id(0)?,
        order_id: row.id(1)?,
        provider: row.text(2)?,
        out_trade_no: row.text(3)?,
        amount_fen: row.i64(4)?,
        status: row.text(5)?,
    })
}

const PAYMENT_COLUMNS: &str = "id, order_id, provider, out_trade_no, amount_fen, status";

/// Starts paying an order with `provider`, or returns the payment already started.
pub fn create_payment(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: OrderId,
    customer: UserId,
    provider: &str,
    out_trade_no: &str,
) -> Result<Payment, Error> {
    let row = sql
        .query_opt("SELECT status, customer_id, payable_fen, pay_deadline_at FROM orders WHERE id = $1", params![order])?
        .filter(|r| r.id::<UserId>(1).is_ok_and(|c| c == customer))
        .ok_or_else(|| Error::not_found("order"))?;
    if OrderStatus::parse(&row.text(0)?)? != OrderStatus::Created {
        return Err(Error::new(ErrorCode::InvalidOrderState, "this order is not waiting for payment"));
    }
    if row.time(3)? <= now {
        return Err(Error::new(ErrorCode::OrderExpired, "the time to pay this order has run out"));
    }
    let existing = sql.query_opt(
        &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 AND provider = $2 AND status = 'pending'"),
        params![order, provider],
    )?;
    if let Some(existing) = existing {
        return payment_row(&existing);
    }
    let id = PaymentId::new();
    let amount = row.i64(2)?;
    sql.execute(
        "INSERT INTO payments (id, order_id, provider, out_trade_no, amount_fen, status, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
        params![id, order, provider, out_trade_no, amount, now],
    )?;
    Ok(Payment {
        id,
        order_id: order,
        provider: provider.into(),
        out_trade_no: out_trade_no.into(),
        amount_fen: amount,
        status: "pending".into(),
    })
}

pub fn payment_by_trade_no(sql: &mut dyn Sql, out_trade_no: &str) -> Result<Payment, Error> {
    let row = sql
        .query_opt(&format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE out_trade_no = $1"), params![out_trade_no])?
        .ok_or_else(|| Error::not_found("payment"))?;
    payment_row(&row)
}

/// What applying a provider's "paid" notice did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentApplied {
    /// The order is now paid.
    Paid,
    /// This success was applied before: nothing changed.
    AlreadyApplied,
    /// The money arrived after the order was cancelled: it is refunded automatically.
    RefundedLate,
}

/// Applies a verified success notice. The amount must match what we asked for, to the fen.
pub fn apply_payment_success(
    sql: &mut dyn Sql,
    now: Timestamp,
    out_trade_no: &str,
    amount_fen: i64,
    provider_txn_id: &str,
) -> Result<PaymentApplied, Error> {
    let payment = payment_by_trade_no(sql, out_trade_no)?;
    if payment.amount_fen != amount_fen {
        return Err(Error::new(ErrorCode::PaymentAmountMismatch, "paid amount differs from the order's amount"));
    }
    if payment.status == "succeeded" {
        return Ok(PaymentApplied::AlreadyApplied);
    }
    let group_order = sql.query_opt("SELECT 1 FROM orders WHERE id = $1 AND activity = 'group_buy'", params![payment.order_id])?.is_some();
    if group_order {
        groups::lock_group_of(sql, payment.order_id)?;
    }
    sql.execute(
        "UPDATE payments SET status = 'succeeded', provider_txn_id = $2, succeeded_at = $3 WHERE id = $1",
        params![payment.id, provider_txn_id, now],
    )?;
    // A group order waits for its group; every other order goes to shipping.
    let paid_status = if group_order { OrderStatus::AwaitingGroup } else { OrderStatus::ToShip };
    let moved = sql.execute(
        "UPDATE orders SET status = $4, paid_fen = $2, paid_at = $3 WHERE id = $1 AND status = 'created'",
        params![payment.order_id, amount_fen, now, paid_status.as_str()],
    )?;
    let amount = Money::from_fen(amount_fen);
    ledger_orders::receive_payment(sql, now, payment.order_id, payment.id, &payment.provider, amount)?;
    if moved == 1 {
        move_stock(sql, payment.order_id, "stock_reserved", "stock_sold")?;
        ledger_orders::split_paid_order(sql, now, payment.order_id)?;
        if group_order && groups::on_paid(sql, now, payment.order_id)? == Seated::Refunded {
            return Ok(PaymentApplied::RefundedLate);
        }
        return Ok(PaymentApplied::Paid);
    }
    // The order is no longer waiting (cancelled at its deadline, or paid by another payment):
    // the customer's money goes straight back.
    sql.execute("UPDATE orders SET paid_fen = paid_fen + $2 WHERE id = $1", params![payment.order_id, amount_fen])?;
    enqueue_refund(sql, now, payment.order_id, payment.id, amount, "paid after the order closed", None)?;
    Ok(PaymentApplied::RefundedLate)
}

/// Records a pending refund (for an after-sales case, when `after_sale` is given) and asks the
/// refund job to carry it out.
pub(crate) fn enqueue_refund(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: OrderId,
    payment: PaymentId,
    amount: Money,
    reason: &str,
    after_sale: Option<AfterSaleId>,
) -> Result<RefundId, Error> {
    let id = RefundId::new();
    sql.execute(
        "INSERT INTO refunds (id, order_id, payment_id, amount_fen, reason, status, created_at, after_sale_id) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
        params![id, order, payment, amount, reason, now, after_sale],
    )?;
    jobs::enqueue(sql, now, JOB_EXECUTE_REFUND, &id.to_string(), now)?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefundRequested {
    #[schema(value_type = String)]
    pub refund_id: RefundId,
    pub amount_fen: i64,
    pub status: String,
}

/// Decides a refund of `amount` on a paid order: full (the order becomes `refunding`) or
/// partial. The provider is asked by the refund job, outside this transaction.
pub fn request_refund(sql: &mut dyn Sql, now: Timestamp, order: OrderId, amount: Money, reason: &str) -> Result<RefundRequested, Error> {
    let row = sql
        .query_opt("SELECT status, paid_fen, refunded_fen FROM orders WHERE id = $1", params![order])?
        .ok_or_else(|| Error::not_found("order"))?;
    let status = OrderStatus::parse(&row.text(0)?)?;
    if status == OrderStatus::AwaitingGroup {
        return Err(Error::new(
            ErrorCode::InvalidOrderState,
            "this order waits for its group: it is refunded automatically if the group does not fill",
        ));
    }
    if !status.is_paid() || status == OrderStatus::Refunding {
        return Err(Error::new(ErrorCode::InvalidOrderState, format!("an order that is {} cannot be refunded", status.as_str())));
    }
    // An open after-sales case is already deciding what of this order to refund.
    if sql.query_opt(&format!("SELECT 1 FROM after_sales WHERE order_id = $1 AND status IN {OPEN_STATUSES_SQL}"), params![order])?.is_some()
    {
        return Err(Error::new(ErrorCode::AfterSaleOpen, "this order has an open after-sales case: decide it there"));
    }
    let in_flight = Money::from_fen(sql.query_i64(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM refunds WHERE order_id = $1 AND status = 'pending'",
        params![order],
    )?);
    let paid = row.money(1)?;
    let committed = row.money(2)?.checked_add(in_flight)?;
    check_refund(amount, paid, committed)?;
    let payment: PaymentId = sql
        .query_opt("SELECT id FROM payments WHERE order_id = $1 AND status = 'succeeded' ORDER BY succeeded_at LIMIT 1", params![order])?
        .ok_or_else(|| Error::internal("paid order without a succeeded payment"))?
        .id(0)?;
    if committed.checked_add(amount)? == paid {
        sql.execute("UPDATE orders SET status = 'refunding' WHERE id = $1", params![order])?;
    }
    let id = enqueue_refund(sql, now, order, payment, amount, reason, None)?;
    Ok(RefundRequested { refund_id: id, amount_fen: amount.fen(), status: "pending".into() })
}

/// Refunds everything still unrefunded on a paid order: the order becomes `refunding` and the
/// refund job asks the provider. Used when the platform, not the customer, decides the refund
/// (a group that failed).
pub fn refund_in_full(sql: &mut dyn Sql, now: Timestamp, order: OrderId, reason: &str) -> Result<RefundId, Error> {
    let row = sql
        .query_opt("SELECT status, paid_fen, refunded_fen FROM orders WHERE id = $1", params![order])?
        .ok_or_else(|| Error::not_found("order"))?;
    let status = OrderStatus::parse(&row.text(0)?)?;
    status.transition(OrderStatus::Refunding)?;
    let amount = row.money(1)?.checked_sub(row.money(2)?)?;
    let payment: PaymentId = sql
        .query_opt("SELECT id FROM payments WHERE order_id = $1 AND status = 'succeeded' ORDER BY succeeded_at LIMIT 1", params![order])?
        .ok_or_else(|| Error::internal("paid order without a succeeded payment"))?
        .id(0)?;
    sql.execute("UPDATE orders SET status = 'refunding' WHERE id = $1", params![order])?;
    enqueue_refund(sql, now, order, payment, amount, reason, None)
}

/// What the refund job needs to call the provider.
#[derive(Debug, Clone)]
pub struct RefundToExecute {
    pub id: RefundId,
    pub provider: String,
    pub out_trade_no: String,
    pub amount_fen: i64,
    pub status: String,
}

pub fn refund_to_execute(sql: &mut dyn Sql, id: RefundId) -> Result<RefundToExecute, Error> {
    let row = sql
        .query_opt(
            "SELECT p.provider, p.out_trade_no, r.amount_fen, r.status FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = $1",
            params![id],
        )?
        .ok_or_else(|| Error::not_found("refund"))?;
    Ok(RefundToExecute { id, provider: row.text(0)?, out_trade_no: row.text(1)?, amount_fen: row.i64(2)?, status: row.text(3)? })
}

/// Records the provider's confirmation of a refund. Idempotent. A full refund of goods that
/// never shipped returns their stock to the pool.
pub fn finish_refund(sql: &mut dyn Sql, now: Timestamp, id: RefundId, provider_refund_id: &str) -> Result<bool, Error> {
    let row = sql.query_opt(
        "SELECT r.order_id, r.amount_fen, p.provider, r.after_sale_id FROM refunds r JOIN payments p ON p.id = r.payment_id \
         WHERE r.id = $1 AND r.status = 'pending'",
        params![id],
    )?;
    let Some(row) = row else { return Ok(false) };
    let order: OrderId = row.id(0)?;
    let case = row.opt_id::<AfterSaleId>(3)?;
    sql.execute(
        "UPDATE refunds SET status = 'succeeded', provider_refund_id = $2, finished_at = $3 WHERE id = $1",
        params![id, provider_refund_id, now],
    )?;
    // A case's refund reverses only the lines it returns (all of them for a whole order).
    let lines = match case {
        Some(case) => after_sales::refund_lines(sql, case)?,
        None => None,
    };
    ledger_orders::book_refund(sql, now, order, id, &row.text(2)?, row.money(1)?, lines.as_deref())?;
    if let Some(case) = case {
        after_sales::refund_finished(sql, now, case, true)?;
    }
    let totals = sql.query_one(
        "UPDATE orders SET refunded_fen = refunded_fen + $2 WHERE id = $1 RETURNING paid_fen, refunded_fen, status, shipped_at",
        params![order, row.i64(1)?],
    )?;
    let fully_refunded = totals.i64(0)? == totals.i64(1)?;
    let status = OrderStatus::parse(&totals.text(2)?)?;
    if fully_refunded && status == OrderStatus::Refunding {
        sql.execute("UPDATE orders SET status = 'refunded', closed_at = $2 WHERE id = $1", params![order, now])?;
        if totals.opt_i64(3)?.is_none() {
            move_stock(sql, order, "stock_sold", "stock_available")?;
        }
    }
    Ok(true)
}

/// Records a refused refund; the order goes back to its state before the request.
pub fn fail_refund(sql: &mut dyn Sql, now: Timestamp, id: RefundId, reason: &str) -> Result<(), Error> {
    let row = sql.query_opt("SELECT order_id, after_sale_id FROM refunds WHERE id = $1 AND status = 'pending'", params![id])?;
    let Some(row) = row else { return Ok(()) };
    let order: OrderId = row.id(0)?;
    let case = row.opt_id::<AfterSaleId>(1)?;
    sql.execute(
        "UPDATE refunds SET status = 'failed', reason = reason || ' / ' || $2, finished_at = $3 WHERE id = $1",
        params![id, reason, now],
    )?;
    if let Some(case) = case {
        after_sales::refund_finished(sql, now, case, false)?;
    }
    // A failed group's order stays `refunding`: it must never become shippable, so a refused
    // refund of it waits for the operator instead.
    let restored = sql.query_opt(
        "UPDATE orders SET status = CASE WHEN closed_at IS NOT NULL THEN 'completed' WHEN received_at IS NOT NULL THEN 'received' \
         WHEN shipped_at IS NOT NULL THEN 'shipped' ELSE 'to_ship' END \
         WHERE id = $1 AND status = 'refunding' \
         AND NOT EXISTS (SELECT 1 FROM buy_group_members m WHERE m.order_id = orders.id AND m.status = 'refunded') \
         RETURNING status, completes_at",
        params![order],
    )?;
    // Back in `received`, the order still completes when its window closes (the completion
    // job may have run and found it refunding meanwhile; running it again is harmless).
    if let Some(row) = restored
        && row.text(0)? == "received"
        && let Some(completes_at) = row.opt_time(1)?
    {
        jobs::enqueue(sql, now, JOB_COMPLETE, &order.to_string(), completes_at)?;
    }
    Ok(())
}

/// Remembers a callback nonce; `false` when it was seen before (a replay).
pub fn remember_nonce(sql: &mut dyn Sql, now: Timestamp, provider: &str, nonce: &str) -> Result<bool, Error> {
    let inserted = sql.execute(
        "INSERT INTO callback_nonces (provider, nonce, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![provider, nonce, now],
    )?;
    Ok(inserted == 1)
}
