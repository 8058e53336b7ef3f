//! After-sales cases (SPEC 3.7): the customer asks, the supplier or the operator decides, the
//! goods come back into stock, and the refund goes out through the order's payment provider and
//! is reversed in the ledger for the returned lines only. Each command re-reads the case's state
//! under the writer (and a row lock on PostgreSQL), so a decision, a deadline and the customer
//! racing each other move the case once.

use sharemall_domain::after_sale::{
    AfterSaleStatus, CONFIRM_RETURN_MS, HOLDING_STATUSES_SQL, OPEN_STATUSES_SQL, RESPOND_MS, Resolution, ReturnReason, SHIP_BACK_MS,
    refund_for_units,
};
use sharemall_domain::order::{MAX_LINES_PER_ORDER, OrderStatus};
use sharemall_domain::payment::check_refund;
use sharemall_domain::{AfterSaleId, Error, ErrorCode, Money, OrderId, PaymentId, SkuId, SupplierId, Timestamp, UserId};
use std::collections::{BTreeMap, BTreeSet};

use crate::ops::after_sale_views::{self, AfterSale};
use crate::ops::{jobs, ledger_orders, payments};
use crate::params;
use crate::sql::{Backend, Sql};

/// The job that acts when a case's deadline passes (answer, send back, confirm).
pub const JOB_AFTER_SALE_DEADLINE: &str = "after_sale_deadline";

/// What the customer asks for: units of lines of one received order.
#[derive(Debug, Clone)]
pub struct ReturnRequest {
    pub order: OrderId,
    pub reason: ReturnReason,
    /// Checked by the caller with `after_sale::check_note` (required for quality returns).
    pub description: String,
    /// (line number, units to return), each line once.
    pub lines: Vec<(i64, i64)>,
}

/// Who acts on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// The supplier whose goods the case returns (a supplier's user).
    Supplier {
        supplier: SupplierId,
        user: UserId,
    },
    Operator(UserId),
}

impl Handler {
    fn user(self) -> UserId {
        match self {
            Handler::Supplier { user, .. } | Handler::Operator(user) => user,
        }
    }
}

/// A supplier's or operator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve(Resolution),
    /// Refused, with the reason shown to the customer (checked by the caller).
    Reject {
        note: String,
    },
}

fn lock_clause(sql: &dyn Sql) -> &'static str {
    match sql.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// Opens a case. Refused, changing nothing, when the order isn't the customer's or isn't
/// received, when it already has an open case or a refund in flight, when the window for the
/// reason has closed, when a no-reason return names goods that don't allow it, when the lines
/// span suppliers, or when a line has fewer units left than asked.
pub fn request(sql: &mut dyn Sql, now: Timestamp, customer: UserId, req: &ReturnRequest) -> Result<AfterSale, Error> {
    let lock = lock_clause(sql);
    let order = sql
        .query_opt(&format!("SELECT status, customer_id, received_at FROM orders WHERE id = $1{lock}"), params![req.order])?
        .filter(|r| r.id::<UserId>(1).is_ok_and(|c| c == customer))
        .ok_or_else(|| Error::not_found("order"))?;
    let status = OrderStatus::parse(&order.text(0)?)?;
    let received_at = match (status, order.opt_time(2)?) {
        (OrderStatus::Received | OrderStatus::Completed, Some(at)) => at,
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidOrderState,
                format!("an order that is {} can't be returned: returns open once you have received it", status.as_str()),
            ));
        }
    };
    ensure_no_case_or_refund_in_flight(sql, req.order)?;
    req.reason.check_window(received_at, now)?;
    let chosen = chosen_lines(&req.lines)?;
    let items = order_lines(sql, req.order)?;
    let supplier = single_supplier(&chosen, &items)?;
    if req.reason == ReturnReason::NoReason
        && let Some(item) = chosen.keys().filter_map(|l| items.get(l)).find(|i| !i.returnable)
    {
        return Err(Error::new(
            ErrorCode::NotReturnable,
            format!("{} can't be returned without a reason (fresh or custom goods); a quality return is possible", item.title),
        ));
    }
    let held = ledger_orders::holdings(sql, req.order)?;
    let mut refunds = BTreeMap::new();
    for (&line_no, &units) in &chosen {
        let item = items.get(&line_no).ok_or_else(|| Error::invalid(format!("the order has no item {line_no}")))?;
        let line_held = held.lines.get(&line_no).copied().unwrap_or(Money::ZERO);
        refunds.insert(line_no, refund_for_units(line_held, item.quantity - item.units_in_cases, units)?);
    }
    // A case that returns every unit the order still has refunds the order in full, shipping
    // included: nothing of it was kept.
    let whole_order = items.iter().all(|(line_no, i)| i.units_in_cases + chosen.get(line_no).copied().unwrap_or(0) == i.quantity);
    let mut total = refunds.values().try_fold(Money::ZERO, |sum, fen| sum.checked_add(*fen))?;
    if whole_order {
        total = total.checked_add(held.shipping)?;
    }
    if total.fen() <= 0 {
        return Err(Error::new(ErrorCode::InvalidOrderState, "nothing is left to refund for these items"));
    }
    let id = AfterSaleId::new();
    let deadline = now.plus_ms(RESPOND_MS);
    sql.execute(
        "INSERT INTO after_sales (id, order_id, customer_id, supplier_id, reason, description, status, refund_fen, whole_order, deadline_at, requested_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'requested', $7, $8, $9, $10)",
        params![id, req.order, customer, supplier, req.reason.as_str(), req.description.as_str(), total, whole_order, deadline, now],
    )?;
    for (line_no, units) in chosen {
        let refund = refunds.get(&line_no).copied().unwrap_or(Money::ZERO);
        sql.execute(
            "INSERT INTO after_sale_lines (after_sale_id, order_id, line_no, quantity, refund_fen) VALUES ($1, $2, $3, $4, $5)",
            params![id, req.order, line_no, units, refund],
        )?;
    }
    jobs::enqueue(sql, now, JOB_AFTER_SALE_DEADLINE, &id.to_string(), deadline)?;
    after_sale_views::load(sql, id)
}

/// The supplier's (for its own cases) or the operator's answer to a requested case.
pub fn decide(sql: &mut dyn Sql, now: Timestamp, handler: Handler, id: AfterSaleId, decision: Decision) -> Result<AfterSale, Error> {
    let case = locked_case(sql, id, Some(handler))?;
    match decision {
        Decision::Reject { note } => {
            case.status.transition(AfterSaleStatus::Rejected)?;
            sql.execute(
                "UPDATE after_sales SET status = 'rejected', decision_note = $2, decided_by = $3, decided_at = $4, finished_at = $4, deadline_at = NULL \
                 WHERE id = $1",
                params![id, note, handler.user(), now],
            )?;
        }
        Decision::Approve(resolution) => approve(sql, now, &case, resolution, Some(handler.user()))?,
    }
    after_sale_views::load(sql, id)
}

fn approve(sql: &mut dyn Sql, now: Timestamp, case: &CaseState, resolution: Resolution, by: Option<UserId>) -> Result<(), Error> {
    case.status.transition(AfterSaleStatus::Approved)?;
    sql.execute(
        "UPDATE after_sales SET resolution = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
        params![case.id, resolution.as_str(), by, now],
    )?;
    match resolution {
        Resolution::ReturnAndRefund => {
            let deadline = now.plus_ms(SHIP_BACK_MS);
            sql.execute("UPDATE after_sales SET status = 'approved', deadline_at = $2 WHERE id = $1", params![case.id, deadline])?;
            jobs::enqueue(sql, now, JOB_AFTER_SALE_DEADLINE, &case.id.to_string(), deadline)?;
            Ok(())
        }
        Resolution::RefundOnly => start_refund(sql, now, case),
    }
}

/// The customer withdraws a case that hasn't gone back yet.
pub fn cancel(sql: &mut dyn Sql, now: Timestamp, customer: UserId, id: AfterSaleId) -> Result<AfterSale, Error> {
    let case = locked_case(sql, id, None)?;
    if case.customer != customer {
        return Err(Error::not_found("after-sales case"));
    }
    case.status.transition(AfterSaleStatus::Cancelled)?;
    sql.execute("UPDATE after_sales SET status = 'cancelled', finished_at = $2, deadline_at = NULL WHERE id = $1", params![id, now])?;
    after_sale_views::load(sql, id)
}

/// The customer has sent the approved goods back (carrier and tracking number checked by the
/// caller); the supplier now has [`CONFIRM_RETURN_MS`] to confirm they arrived.
pub fn ship_back(
    sql: &mut dyn Sql,
    now: Timestamp,
    customer: UserId,
    id: AfterSaleId,
    carrier: &str,
    tracking_no: &str,
) -> Result<AfterSale, Error> {
    let case = locked_case(sql, id, None)?;
    if case.customer != customer {
        return Err(Error::not_found("after-sales case"));
    }
    case.status.transition(AfterSaleStatus::Returned)?;
    let deadline = now.plus_ms(CONFIRM_RETURN_MS);
    sql.execute(
        "UPDATE after_sales SET status = 'returned', return_carrier = $2, return_tracking_no = $3, returned_at = $4, deadline_at = $5 WHERE id = $1",
        params![id, carrier, tracking_no, now, deadline],
    )?;
    jobs::enqueue(sql, now, JOB_AFTER_SALE_DEADLINE, &id.to_string(), deadline)?;
    after_sale_views::load(sql, id)
}

/// The returned goods arrived: they go back into stock and the refund starts.
pub fn confirm_goods_back(sql: &mut dyn Sql, now: Timestamp, handler: Handler, id: AfterSaleId) -> Result<AfterSale, Error> {
    let case = locked_case(sql, id, Some(handler))?;
    goods_back(sql, now, &case)?;
    after_sale_views::load(sql, id)
}

fn goods_back(sql: &mut dyn Sql, now: Timestamp, case: &CaseState) -> Result<(), Error> {
    case.status.transition(AfterSaleStatus::Refunding)?;
    let lines = sql.query(
        "SELECT l.line_no, l.quantity, i.sku_id FROM after_sale_lines l JOIN order_items i ON i.order_id = l.order_id AND i.line_no = l.line_no \
         WHERE l.after_sale_id = $1 ORDER BY i.sku_id",
        params![case.id],
    )?;
    for line in lines {
        let (line_no, units, sku): (i64, i64, SkuId) = (line.i64(0)?, line.i64(1)?, line.id(2)?);
        let restocked = sql.execute(
            "UPDATE order_items SET restocked_qty = restocked_qty + $3 WHERE order_id = $1 AND line_no = $2 AND restocked_qty + $3 <= quantity",
            params![case.order, line_no, units],
        )?;
        let moved = sql.execute(
            "UPDATE skus SET stock_sold = stock_sold - $2, stock_available = stock_available + $2 WHERE id = $1 AND stock_sold >= $2",
            params![sku, units],
        )?;
        if restocked == 0 || moved == 0 {
            return Err(Error::internal(format!("returned units of line {line_no} exceed what was sold")));
        }
    }
    sql.execute("UPDATE after_sales SET goods_back_at = $2 WHERE id = $1", params![case.id, now])?;
    start_refund(sql, now, case)
}

/// Acts on a case whose deadline has passed: an unanswered case is approved for a return, goods
/// not sent back close the case, goods not confirmed count as arrived. Returns whether anything
/// changed; a deadline that moved or a case that moved on makes it a no-op.
pub fn on_deadline(sql: &mut dyn Sql, now: Timestamp, id: AfterSaleId) -> Result<bool, Error> {
    let case = locked_case(sql, id, None)?;
    if case.deadline_at.is_none_or(|at| at > now) {
        return Ok(false);
    }
    match case.status {
        AfterSaleStatus::Requested => approve(sql, now, &case, Resolution::ReturnAndRefund, None)?,
        AfterSaleStatus::Approved => {
            sql.execute("UPDATE after_sales SET status = 'closed', finished_at = $2, deadline_at = NULL WHERE id = $1", params![id, now])?;
        }
        AfterSaleStatus::Returned => goods_back(sql, now, &case)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Asks the provider for the case's refund (in the same transaction as the decision that
/// started it); a case that returns everything puts the whole order into `refunding`.
fn start_refund(sql: &mut dyn Sql, now: Timestamp, case: &CaseState) -> Result<(), Error> {
    let order = sql.query_one("SELECT paid_fen, refunded_fen, status FROM orders WHERE id = $1", params![case.order])?;
    check_refund(case.refund, order.money(0)?, order.money(1)?)?;
    let payment: PaymentId = sql
        .query_opt(
            "SELECT id FROM payments WHERE order_id = $1 AND status = 'succeeded' ORDER BY succeeded_at LIMIT 1",
            params![case.order],
        )?
        .ok_or_else(|| Error::internal("paid order without a succeeded payment"))?
        .id(0)?;
    if case.whole_order {
        OrderStatus::parse(&order.text(2)?)?.transition(OrderStatus::Refunding)?;
        sql.execute("UPDATE orders SET status = 'refunding' WHERE id = $1", params![case.order])?;
    }
    let refund = payments::enqueue_refund(sql, now, case.order, payment, case.refund, "after-sales return", Some(case.id))?;
    sql.execute("UPDATE after_sales SET status = 'refunding', refund_id = $2, deadline_at = NULL WHERE id = $1", params![case.id, refund])?;
    Ok(())
}

/// The lines a case's refund reverses in the ledger: `None` when the case refunds the whole
/// order (every line and the shipping).
pub(crate) fn refund_lines(sql: &mut dyn Sql, case: AfterSaleId) -> Result<Option<Vec<i64>>, Error> {
    if sql.query_one("SELECT whole_order FROM after_sales WHERE id = $1", params![case])?.bool(0)? {
        return Ok(None);
    }
    let lines = sql.query("SELECT line_no FROM after_sale_lines WHERE after_sale_id = $1 ORDER BY line_no", params![case])?;
    lines.iter().map(|r| r.i64(0)).collect::<Result<Vec<_>, _>>().map(Some)
}

/// Records the outcome of a case's refund (called where the refund itself is recorded).
pub(crate) fn refund_finished(sql: &mut dyn Sql, now: Timestamp, case: AfterSaleId, paid: bool) -> Result<(), Error> {
    let status = if paid { AfterSaleStatus::Refunded } else { AfterSaleStatus::RefundFailed };
    sql.execute(
        "UPDATE after_sales SET status = $2, finished_at = $3 WHERE id = $1 AND status = 'refunding'",
        params![case, status.as_str(), now],
    )?;
    Ok(())
}

/// Refuses to start a second money movement on an order while one is under way.
pub(crate) fn ensure_no_case_or_refund_in_flight(sql: &mut dyn Sql, order: OrderId) -> Result<(), Error> {
    let open =
        sql.query_opt(&format!("SELECT 1 FROM after_sales WHERE order_id = $1 AND status IN {OPEN_STATUSES_SQL}"), params![order])?;
    if open.is_some() {
        return Err(Error::new(ErrorCode::AfterSaleOpen, "this order already has an open after-sales case"));
    }
    let refunding = sql.query_opt("SELECT 1 FROM refunds WHERE order_id = $1 AND status = 'pending'", params![order])?;
    if refunding.is_some() {
        return Err(Error::new(ErrorCode::InvalidOrderState, "a refund of this order is being paid; try again when it is done"));
    }
    Ok(())
}

/// A case's state as the commands need it, read under the row lock.
struct CaseState {
    id: AfterSaleId,
    order: OrderId,
    customer: UserId,
    status: AfterSaleStatus,
    refund: Money,
    whole_order: bool,
    deadline_at: Option<Timestamp>,
}

/// Reads a case for a command. A supplier sees only its own cases: another's is "not found".
fn locked_case(sql: &mut dyn Sql, id: AfterSaleId, handler: Option<Handler>) -> Result<CaseState, Error> {
    let lock = lock_clause(sql);
    let row = sql
        .query_opt(
            &format!("SELECT order_id, customer_id, supplier_id, status, refund_fen, whole_order, deadline_at FROM after_sales WHERE id = $1{lock}"),
            params![id],
        )?
        .ok_or_else(|| Error::not_found("after-sales case"))?;
    if let Some(Handler::Supplier { supplier, .. }) = handler
        && row.id::<SupplierId>(2)? != supplier
    {
        return Err(Error::not_found("after-sales case"));
    }
    Ok(CaseState {
        id,
        order: row.id(0)?,
        customer: row.id(1)?,
        status: AfterSaleStatus::parse(&row.text(3)?)?,
        refund: row.money(4)?,
        whole_order: row.bool(5)?,
        deadline_at: row.opt_time(6)?,
    })
}

/// Checks the customer's line choice: 1 to [`MAX_LINES_PER_ORDER`] lines, each once.
fn chosen_lines(lines: &[(i64, i64)]) -> Result<BTreeMap<i64, i64>, Error> {
    if lines.is_empty() || lines.len() > MAX_LINES_PER_ORDER {
        return Err(Error::invalid(format!("choose 1 to {MAX_LINES_PER_ORDER} items to return")));
    }
    let mut chosen = BTreeMap::new();
    for &(line_no, units) in lines {
        if chosen.insert(line_no, units).is_some() {
            return Err(Error::invalid(format!("item {line_no} is listed twice")));
        }
    }
    Ok(chosen)
}

/// One line of the order with what cases already hold of it.
struct OrderLine {
    supplier: SupplierId,
    title: String,
    quantity: i64,
    returnable: bool,
    units_in_cases: i64,
}

fn order_lines(sql: &mut dyn Sql, order: OrderId) -> Result<BTreeMap<i64, OrderLine>, Error> {
    let rows = sql.query(
        &format!(
            "SELECT i.line_no, i.supplier_id, i.title, i.quantity, k.returnable, \
             CAST(COALESCE((SELECT SUM(l.quantity) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id \
                 WHERE l.order_id = i.order_id AND l.line_no = i.line_no AND a.status IN {HOLDING_STATUSES_SQL}), 0) AS BIGINT) \
             FROM order_items i JOIN skus k ON k.id = i.sku_id WHERE i.order_id = $1"
        ),
        params![order],
    )?;
    rows.iter()
        .map(|r| {
            let line =
                OrderLine { supplier: r.id(1)?, title: r.text(2)?, quantity: r.i64(3)?, returnable: r.bool(4)?, units_in_cases: r.i64(5)? };
            Ok((r.i64(0)?, line))
        })
        .collect()
}

/// A case is handled by one supplier, so its lines must all be that supplier's.
fn single_supplier(chosen: &BTreeMap<i64, i64>, items: &BTreeMap<i64, OrderLine>) -> Result<SupplierId, Error> {
    let mut suppliers = BTreeSet::new();
    for line_no in chosen.keys() {
        let item = items.get(line_no).ok_or_else(|| Error::invalid(format!("the order has no item {line_no}")))?;
        suppliers.insert(item.supplier);
    }
    match (suppliers.len(), suppliers.first()) {
        (1, Some(&supplier)) => Ok(supplier),
        _ => Err(Error::invalid("these items come from different suppliers: return each supplier's items separately")),
    }
}
