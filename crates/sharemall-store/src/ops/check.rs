//! Invariants over stock, orders and payments: what `sharemall check` verifies. Each check
//! counts what it examined and lists every violation it found.

use serde::Serialize;
use sharemall_domain::Error;

use crate::params;
use crate::sql::Sql;

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: &'static str,
    pub checked: i64,
    pub violations: Vec<String>,
}

/// Most violations listed per check; the count is still exact.
const MAX_LISTED: i64 = 20;

pub(crate) fn run_check(sql: &mut dyn Sql, name: &'static str, universe: &str, violations: &str) -> Result<CheckResult, Error> {
    let checked = sql.query_i64(universe, params![])?;
    let rows = sql.query(&format!("{violations} LIMIT {MAX_LISTED}"), params![])?;
    let violations = rows.iter().map(|r| r.text(0)).collect::<Result<Vec<_>, _>>()?;
    Ok(CheckResult { name, checked, violations })
}

/// Statuses in which an order's goods count as sold.
const SOLD: &str = "('awaiting_group', 'to_ship', 'shipped', 'received', 'completed', 'refunding')";

pub fn check_all(sql: &mut dyn Sql) -> Result<Vec<CheckResult>, Error> {
    // One aggregate pass over the order lines per check (no per-SKU lookups, so no index on
    // order_items.sku_id is needed on the hot insert path).
    let per_sku = |column: &str, units: &str, orders_filter: &str| {
        format!(
            "SELECT s.id FROM skus s LEFT JOIN (SELECT i.sku_id AS sku_id, CAST(SUM({units}) AS BIGINT) AS q FROM order_items i \
             JOIN orders o ON o.id = i.order_id WHERE {orders_filter} GROUP BY i.sku_id) t ON t.sku_id = s.id WHERE s.{column} <> COALESCE(t.q, 0)"
        )
    };
    let reserved_per_sku = per_sku("stock_reserved", "i.quantity", "o.status = 'created'");
    // Units returned through after-sales went back into stock: they are no longer sold.
    let sold_per_sku = per_sku(
        "stock_sold",
        "i.quantity - i.restocked_qty",
        &format!("o.status IN {SOLD} OR (o.status = 'refunded' AND o.shipped_at IS NOT NULL)"),
    );
    let mut checks = vec![
        run_check(
            sql,
            "stock conservation (total = available + reserved + sold, none negative)",
            "SELECT COUNT(*) FROM skus",
            "SELECT id FROM skus WHERE stock_total <> stock_available + stock_reserved + stock_sold OR stock_available < 0 OR stock_reserved < 0 OR stock_sold < 0",
        )?,
        run_check(sql, "reserved stock = quantities of unpaid orders", "SELECT COUNT(*) FROM skus", &reserved_per_sku)?,
        run_check(sql, "sold stock = quantities of paid orders, less the units returned", "SELECT COUNT(*) FROM skus", &sold_per_sku)?,
        run_check(
            sql,
            "order amounts consistent with status",
            "SELECT COUNT(*) FROM orders",
            "SELECT order_no FROM orders WHERE (status = 'created' AND paid_fen <> 0) \
             OR (status IN ('awaiting_group', 'to_ship', 'shipped', 'received', 'completed', 'refunding', 'refunded') AND paid_fen <> payable_fen) \
             OR refunded_fen > paid_fen OR refunded_fen < 0 OR (status = 'refunded' AND refunded_fen <> paid_fen) \
             OR (status IN ('shipped', 'received', 'completed') AND shipped_at IS NULL) OR (status IN ('received', 'completed') AND received_at IS NULL) \
             OR payable_fen <> goods_fen + shipping_fen OR goods_fen <> base_fen - activity_discount_fen - member_discount_fen - coupon_discount_fen",
        )?,
        run_check(
            sql,
            "order lines sum to the order's goods amount",
            "SELECT COUNT(*) FROM orders",
            "SELECT o.order_no FROM orders o WHERE o.goods_fen <> (SELECT CAST(COALESCE(SUM(i.goods_fen), 0) AS BIGINT) FROM order_items i WHERE i.order_id = o.id)",
        )?,
        run_check(
            sql,
            "payments match orders (succeeded payments = paid amount)",
            "SELECT COUNT(*) FROM payments",
            "SELECT o.order_no FROM orders o WHERE o.paid_fen <> (SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM payments p WHERE p.order_id = o.id AND p.status = 'succeeded')",
        )?,
        run_check(
            sql,
            "refunds match orders (succeeded refunds = refunded amount)",
            "SELECT COUNT(*) FROM refunds",
            "SELECT o.order_no FROM orders o WHERE o.refunded_fen <> (SELECT CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) FROM refunds r WHERE r.order_id = o.id AND r.status = 'succeeded')",
        )?,
        run_check(
            sql,
            "every payment we count as succeeded is paid at the provider",
            "SELECT COUNT(*) FROM sandbox_transactions",
            "SELECT p.out_trade_no FROM payments p JOIN sandbox_transactions t ON t.out_trade_no = p.out_trade_no \
             WHERE (p.status = 'succeeded' AND t.status <> 'paid') OR p.amount_fen <> t.amount_fen",
        )?,
        run_check(sql, "shops opened free of charge", "SELECT COUNT(*) FROM shops", "SELECT id FROM shops WHERE opening_charge_fen <> 0")?,
        run_check(
            sql,
            "every binding is to the shop of the share that made it",
            "SELECT COUNT(*) FROM customer_bindings",
            "SELECT b.visitor FROM customer_bindings b JOIN shares s ON s.code = b.share_code WHERE s.shop_id <> b.shop_id",
        )?,
        run_check(
            sql,
            "an order's last-touch share is a share of the order's own shop",
            "SELECT COUNT(*) FROM orders WHERE share_code IS NOT NULL",
            "SELECT o.order_no FROM orders o JOIN shares s ON s.code = o.share_code WHERE s.shop_id <> o.shop_id",
        )?,
    ];
    checks.extend(group_checks(sql)?);
    checks.extend(bargain_checks(sql)?);
    checks.extend(crate::ops::ledger_check::ledger_checks(sql)?);
    checks.extend(after_sale_checks(sql)?);
    Ok(checks)
}

/// Group buying (SPEC 3.5): seats, success, shipping and refunds.
fn group_checks(sql: &mut dyn Sql) -> Result<Vec<CheckResult>, Error> {
    use crate::ops::groups::REFUND_REASON_GROUP_FAILED as FAILED;
    Ok(vec![
        run_check(
            sql,
            "no group over-filled; its seats are its members (paid: every member who paid into it, held: unpaid seats)",
            "SELECT COUNT(*) FROM buy_groups",
            "SELECT g.id FROM buy_groups g WHERE g.paid + g.held > g.size \
             OR g.paid <> (SELECT COUNT(*) FROM buy_group_members m WHERE m.group_id = g.id AND m.paid_at IS NOT NULL) \
             OR g.held <> (SELECT COUNT(*) FROM buy_group_members m WHERE m.group_id = g.id AND m.status = 'held')",
        )?,
        run_check(
            sql,
            "a group succeeded only when every seat was paid",
            "SELECT COUNT(*) FROM buy_groups WHERE status = 'succeeded'",
            "SELECT id FROM buy_groups WHERE status = 'succeeded' AND paid <> size",
        )?,
        run_check(
            sql,
            "orders of a group that has not succeeded never ship",
            "SELECT COUNT(*) FROM buy_group_members",
            "SELECT o.order_no FROM orders o JOIN buy_group_members m ON m.order_id = o.id LEFT JOIN buy_groups g ON g.id = m.group_id \
             WHERE o.status IN ('to_ship', 'shipped', 'received', 'completed') AND (g.id IS NULL OR g.status NOT IN ('succeeded', 'platform_completed'))",
        )?,
        run_check(
            sql,
            "every paid member of a failed group refunded exactly once; no member of a completed group refunded",
            "SELECT COUNT(*) FROM buy_group_members m JOIN buy_groups g ON g.id = m.group_id WHERE g.status <> 'open'",
            &format!(
                "SELECT m.order_id FROM buy_group_members m JOIN buy_groups g ON g.id = m.group_id \
                 WHERE (g.status = 'failed' AND (m.status = 'paid' OR m.status = 'held' \
                        OR (m.status = 'refunded' AND m.paid_at IS NOT NULL AND \
                            (SELECT COUNT(*) FROM refunds r WHERE r.order_id = m.order_id AND r.reason LIKE '{FAILED}%') <> 1))) \
                 OR (g.status IN ('succeeded', 'platform_completed') AND \
                     EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = m.order_id AND r.reason LIKE '{FAILED}%'))"
            ),
        )?,
        run_check(
            sql,
            "a campaign's units used = its members' units held or paid",
            "SELECT COUNT(*) FROM group_campaigns",
            "SELECT c.id FROM group_campaigns c WHERE c.stock_used <> (SELECT CAST(COALESCE(SUM(m.quantity), 0) AS BIGINT) \
             FROM buy_group_members m WHERE m.campaign_id = c.id AND m.status IN ('held', 'paid'))",
        )?,
    ])
}

/// Bargaining (SPEC 3.6): helps, cuts, floors and campaign units.
fn bargain_checks(sql: &mut dyn Sql) -> Result<Vec<CheckResult>, Error> {
    Ok(vec![
        run_check(
            sql,
            "a bargain's help count = its rows in bargain_helps",
            "SELECT COUNT(*) FROM bargains",
            "SELECT b.id FROM bargains b WHERE b.helps <> (SELECT COUNT(*) FROM bargain_helps h WHERE h.bargain_id = b.id)",
        )?,
        run_check(
            sql,
            "a bargain's cuts sum to start − current, at its campaign's start",
            "SELECT COUNT(*) FROM bargains",
            "SELECT b.id FROM bargains b JOIN bargain_campaigns c ON c.id = b.campaign_id WHERE b.start_fen <> c.start_fen \
             OR c.start_fen - b.current_fen <> (SELECT CAST(COALESCE(SUM(h.cut_fen), 0) AS BIGINT) FROM bargain_helps h WHERE h.bargain_id = b.id)",
        )?,
        run_check(
            sql,
            "no bargain below its campaign's floor, nor helped more than K times",
            "SELECT COUNT(*) FROM bargains",
            "SELECT b.id FROM bargains b JOIN bargain_campaigns c ON c.id = b.campaign_id \
             WHERE b.current_fen < c.floor_fen OR b.floor_fen <> c.floor_fen OR b.helps > c.helpers_needed",
        )?,
        run_check(
            sql,
            "a bargain campaign's units used = its bought bargains",
            "SELECT COUNT(*) FROM bargain_campaigns",
            "SELECT c.id FROM bargain_campaigns c WHERE c.stock_used <> (SELECT COUNT(*) FROM bargains b WHERE b.campaign_id = c.id AND b.status = 'bought')",
        )?,
        // A bargain share binds its visitors to the shop it names, so that must be the shop the
        // bargain is bought in; its product is the campaign's.
        run_check(
            sql,
            "a share of a bargain is a share of the bargain's own shop and product",
            "SELECT COUNT(*) FROM shares WHERE bargain_id IS NOT NULL",
            "SELECT s.code FROM shares s JOIN bargains b ON b.id = s.bargain_id JOIN bargain_campaigns c ON c.id = b.campaign_id \
             WHERE s.shop_id <> b.shop_id OR s.target_kind <> 'product' OR s.target_id <> c.product_id",
        )?,
    ])
}

/// After-sales (SPEC 3.7): what a case returns, restocks and refunds.
fn after_sale_checks(sql: &mut dyn Sql) -> Result<Vec<CheckResult>, Error> {
    use sharemall_domain::after_sale::{HOLDING_STATUSES_SQL, OPEN_STATUSES_SQL};
    Ok(vec![
        run_check(
            sql,
            "no line returned beyond what was ordered; restocked units are the units of cases whose goods came back",
            "SELECT COUNT(*) FROM order_items",
            &format!(
                "SELECT i.order_id FROM order_items i WHERE i.restocked_qty < 0 OR i.restocked_qty > i.quantity \
                 OR i.quantity < (SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id \
                     WHERE l.order_id = i.order_id AND l.line_no = i.line_no AND a.status IN {HOLDING_STATUSES_SQL}) \
                 OR i.restocked_qty <> (SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id \
                     WHERE l.order_id = i.order_id AND l.line_no = i.line_no AND a.goods_back_at IS NOT NULL)"
            ),
        )?,
        run_check(
            sql,
            "at most one open after-sales case per order; each case refunds its lines (and shipping when it returns everything)",
            "SELECT COUNT(*) FROM after_sales",
            &format!(
                "SELECT a.id FROM after_sales a WHERE (a.status IN {OPEN_STATUSES_SQL} AND EXISTS (SELECT 1 FROM after_sales b \
                     WHERE b.order_id = a.order_id AND b.id <> a.id AND b.status IN {OPEN_STATUSES_SQL})) \
                 OR (NOT a.whole_order AND a.refund_fen <> (SELECT CAST(COALESCE(SUM(l.refund_fen), 0) AS BIGINT) FROM after_sale_lines l WHERE l.after_sale_id = a.id)) \
                 OR (a.whole_order AND a.refund_fen < (SELECT CAST(COALESCE(SUM(l.refund_fen), 0) AS BIGINT) FROM after_sale_lines l WHERE l.after_sale_id = a.id))"
            ),
        )?,
        run_check(
            sql,
            "a refunded case was paid once, for its amount; a case refunding has its refund pending",
            "SELECT COUNT(*) FROM after_sales WHERE refund_id IS NOT NULL",
            "SELECT a.id FROM after_sales a LEFT JOIN refunds r ON r.id = a.refund_id \
             WHERE (a.status = 'refunded' AND (r.status IS NULL OR r.status <> 'succeeded' OR r.amount_fen <> a.refund_fen)) \
             OR (a.status = 'refunding' AND (r.status IS NULL OR r.status <> 'pending')) \
             OR (r.id IS NOT NULL AND (r.after_sale_id IS NULL OR r.after_sale_id <> a.id)) \
             OR (SELECT COUNT(*) FROM refunds x WHERE x.after_sale_id = a.id) > 1",
        )?,
    ])
}
