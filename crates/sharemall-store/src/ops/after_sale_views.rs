//! After-sales cases as the customer, the supplier and the operator read them.

use serde::{Deserialize, Serialize};
use sharemall_domain::after_sale::{AfterSaleStatus, HOLDING_STATUSES_SQL, OPEN_STATUSES_SQL};
use sharemall_domain::{AfterSaleId, Error, OrderId, SupplierId, UserId};
use utoipa::ToSchema;

use crate::params;
use crate::sql::{Row, Sql, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AfterSale {
    #[schema(value_type = String)]
    pub id: AfterSaleId,
    #[schema(value_type = String)]
    pub order_id: OrderId,
    pub order_no: String,
    #[schema(value_type = String)]
    pub customer_id: UserId,
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
    /// no_reason | quality
    pub reason: String,
    pub description: String,
    /// requested | approved | returned | refunding | refunded | rejected | cancelled | closed | refund_failed
    pub status: String,
    /// return_and_refund | refund_only, once decided
    pub resolution: Option<String>,
    /// What the customer gets back, in fen.
    pub refund_fen: i64,
    /// The case returns everything the order still had (the shipping fee is refunded too).
    pub whole_order: bool,
    pub return_carrier: Option<String>,
    pub return_tracking_no: Option<String>,
    /// Why it was rejected.
    pub decision_note: String,
    /// Nobody decided: the case was approved because the supplier didn't answer in time.
    pub decided_automatically: bool,
    /// When the current wait ends (ms since the epoch), while the case waits on someone.
    pub deadline_at: Option<i64>,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub returned_at: Option<i64>,
    pub goods_back_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub lines: Vec<AfterSaleLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AfterSaleLine {
    pub line_no: i64,
    pub title: String,
    pub attributes: String,
    pub quantity: i64,
    pub refund_fen: i64,
}

impl AfterSale {
    pub fn status(&self) -> Result<AfterSaleStatus, Error> {
        AfterSaleStatus::parse(&self.status)
    }
}

const COLUMNS: &str = "a.id, a.order_id, o.order_no, a.customer_id, a.supplier_id, a.reason, a.description, a.status, a.resolution, \
     a.refund_fen, a.whole_order, a.return_carrier, a.return_tracking_no, a.decision_note, a.decided_by, a.decided_at, a.deadline_at, \
     a.requested_at, a.returned_at, a.goods_back_at, a.finished_at";

fn case_row(row: &Row) -> Result<AfterSale, Error> {
    let decided_at = row.opt_i64(15)?;
    Ok(AfterSale {
        id: row.id(0)?,
        order_id: row.id(1)?,
        order_no: row.text(2)?,
        customer_id: row.id(3)?,
        supplier_id: row.id(4)?,
        reason: row.text(5)?,
        description: row.text(6)?,
        status: row.text(7)?,
        resolution: row.opt_text(8)?,
        refund_fen: row.i64(9)?,
        whole_order: row.bool(10)?,
        return_carrier: row.opt_text(11)?,
        return_tracking_no: row.opt_text(12)?,
        decision_note: row.text(13)?,
        decided_automatically: decided_at.is_some() && row.opt_text(14)?.is_none(),
        decided_at,
        deadline_at: row.opt_i64(16)?,
        requested_at: row.i64(17)?,
        returned_at: row.opt_i64(18)?,
        goods_back_at: row.opt_i64(19)?,
        finished_at: row.opt_i64(20)?,
        lines: Vec::new(),
    })
}

/// Reads cases with their lines (one query for the lines of the whole page).
fn read_cases(sql: &mut dyn Sql, filter: &str, order_by: &str, params: &[Value]) -> Result<Vec<AfterSale>, Error> {
    let rows = sql.query(
        &format!("SELECT {COLUMNS} FROM after_sales a JOIN orders o ON o.id = a.order_id WHERE {filter} ORDER BY {order_by}"),
        params,
    )?;
    let mut cases = rows.iter().map(case_row).collect::<Result<Vec<_>, _>>()?;
    if cases.is_empty() {
        return Ok(cases);
    }
    let ids: Vec<String> = cases.iter().map(|c| format!("'{}'", c.id)).collect();
    // The ids are UUIDs we formatted ourselves, never caller text.
    let lines = sql.query(
        &format!(
            "SELECT l.after_sale_id, l.line_no, i.title, i.attributes, l.quantity, l.refund_fen FROM after_sale_lines l \
             JOIN order_items i ON i.order_id = l.order_id AND i.line_no = l.line_no WHERE l.after_sale_id IN ({}) ORDER BY l.line_no",
            ids.join(", ")
        ),
        params![],
    )?;
    for line in lines {
        let case_id: AfterSaleId = line.id(0)?;
        if let Some(case) = cases.iter_mut().find(|c| c.id == case_id) {
            case.lines.push(AfterSaleLine {
                line_no: line.i64(1)?,
                title: line.text(2)?,
                attributes: line.text(3)?,
                quantity: line.i64(4)?,
                refund_fen: line.i64(5)?,
            });
        }
    }
    Ok(cases)
}

pub fn load(sql: &mut dyn Sql, id: AfterSaleId) -> Result<AfterSale, Error> {
    read_cases(sql, "a.id = $1", "a.id", params![id])?.pop().ok_or_else(|| Error::not_found("after-sales case"))
}

/// One page of a customer's cases, newest first.
pub fn list_for_customer(sql: &mut dyn Sql, customer: UserId, page: i64, per_page: i64) -> Result<Vec<AfterSale>, Error> {
    read_cases(
        sql,
        "a.customer_id = $1",
        "a.requested_at DESC, a.id LIMIT $2 OFFSET $3",
        params![customer, per_page, offset(page, per_page)],
    )
}

/// The cases of one order (for its page), newest first.
pub fn list_for_order(sql: &mut dyn Sql, order: OrderId) -> Result<Vec<AfterSale>, Error> {
    read_cases(sql, "a.order_id = $1", "a.requested_at DESC, a.id", params![order])
}

/// A line of an order as the return form offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReturnableLine {
    pub line_no: i64,
    pub title: String,
    pub attributes: String,
    pub quantity: i64,
    /// Units not yet claimed by another case.
    pub left: i64,
    /// Whether the goods allow a no-reason return (fresh food does not).
    pub returnable: bool,
    pub goods_fen: i64,
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
}

pub fn returnable_lines(sql: &mut dyn Sql, order: OrderId) -> Result<Vec<ReturnableLine>, Error> {
    let rows = sql.query(
        &format!(
            "SELECT i.line_no, i.title, i.attributes, i.quantity, k.returnable, i.goods_fen, i.supplier_id, \
             CAST(COALESCE((SELECT SUM(l.quantity) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id \
                 WHERE l.order_id = i.order_id AND l.line_no = i.line_no AND a.status IN {HOLDING_STATUSES_SQL}), 0) AS BIGINT) \
             FROM order_items i JOIN skus k ON k.id = i.sku_id WHERE i.order_id = $1 ORDER BY i.line_no"
        ),
        params![order],
    )?;
    rows.iter()
        .map(|r| {
            Ok(ReturnableLine {
                line_no: r.i64(0)?,
                title: r.text(1)?,
                attributes: r.text(2)?,
                quantity: r.i64(3)?,
                returnable: r.bool(4)?,
                goods_fen: r.i64(5)?,
                supplier_id: r.id(6)?,
                left: r.i64(3)? - r.i64(7)?,
            })
        })
        .collect()
}

/// Which cases a queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFilter {
    /// Every case still waiting on someone.
    Open,
    One(AfterSaleStatus),
}

/// A handler's queue, oldest first (first asked, first answered): one supplier's cases, or
/// every supplier's for the operator.
pub fn queue(
    sql: &mut dyn Sql,
    supplier: Option<SupplierId>,
    filter: QueueFilter,
    page: i64,
    per_page: i64,
) -> Result<Vec<AfterSale>, Error> {
    let status = match filter {
        QueueFilter::Open => format!("a.status IN {OPEN_STATUSES_SQL}"),
        QueueFilter::One(status) => format!("a.status = '{}'", status.as_str()),
    };
    let skip = offset(page, per_page);
    match supplier {
        Some(supplier) => read_cases(
            sql,
            &format!("a.supplier_id = $1 AND {status}"),
            "a.requested_at, a.id LIMIT $2 OFFSET $3",
            params![supplier, per_page, skip],
        ),
        None => read_cases(sql, &status, "a.requested_at, a.id LIMIT $1 OFFSET $2", params![per_page, skip]),
    }
}

fn offset(page: i64, per_page: i64) -> i64 {
    page.saturating_sub(1).saturating_mul(per_page)
}
