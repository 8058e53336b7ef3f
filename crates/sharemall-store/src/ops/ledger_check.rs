//! The ledger's invariants (TESTING T4), part of `sharemall check`: balanced, cached balances
//! equal to their sums, every paid order split exactly once and every refund booked exactly,
//! commission within its ceilings, none available before its window, withdrawals accounted.

use sharemall_domain::Error;
use sharemall_domain::catalog::COMMISSION_CAP_BPS;
use sharemall_domain::ledger::TransferKind;
use sharemall_domain::order::RETURN_WINDOW_MS;

use crate::ops::check::{CheckResult, run_check};
use crate::sql::Sql;

/// Each account's Σ credits and Σ debits (`cr.fen`, `db.fen`), aggregated once over the
/// transfers and joined to `ledger_accounts a`: every check stays one pass over the ledger, not
/// a lookup per row.
const ACCOUNT_SUMS: &str = "LEFT JOIN (SELECT credit_account AS account, SUM(amount_fen) AS fen FROM ledger_transfers GROUP BY credit_account) cr \
     ON cr.account = a.key \
     LEFT JOIN (SELECT debit_account AS account, SUM(amount_fen) AS fen FROM ledger_transfers GROUP BY debit_account) db ON db.account = a.key";
const SUMMED: &str = "(COALESCE(cr.fen, 0) - COALESCE(db.fen, 0))";

/// An order's transfers summed by what they do (`s.split`, `s.reversed`, `s.received`,
/// `s.refunds_paid`), in one pass grouped by order, to be joined to `orders o`.
fn order_sums() -> String {
    use TransferKind as K;
    let sum = |kinds: &[TransferKind]| {
        let list = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
        format!("SUM(CASE WHEN kind IN ({list}) THEN amount_fen ELSE 0 END)")
    };
    format!(
        "LEFT JOIN (SELECT order_id, {} AS split, {} AS reversed, {} AS received, {} AS refunds_paid \
         FROM ledger_transfers WHERE order_id IS NOT NULL GROUP BY order_id) s ON s.order_id = o.id",
        sum(&[K::SupplierShare, K::CommissionEarned, K::PlatformShare, K::ShippingShare]),
        sum(&[K::SupplierReversal, K::CommissionVoided, K::CommissionClawback, K::PlatformReversal]),
        sum(&[K::PaymentReceived]),
        sum(&[K::RefundPaid]),
    )
}

/// Which kinds of account each kind of transfer may move money between, as SQL.
fn transfer_shapes() -> String {
    TransferKind::ALL
        .iter()
        .map(|k| {
            let (debit, credit) = k.accounts();
            format!("(t.kind = '{}' AND d.kind = '{}' AND c.kind = '{}')", k.as_str(), debit.as_str(), credit.as_str())
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Commission earned per (order line, beneficiary), summed once in one pass: joined to
/// `commissions` rather than summed per row, so the check stays linear however the planner
/// estimates a correlated lookup. The beneficiary is the account key after its kind's prefix
/// (`commission_pending:` is 19 characters, `commission_available:` 21).
const EARNED: &str = "SELECT order_id, line_no, substr(credit_account, 20) AS beneficiary_id, CAST(SUM(amount_fen) AS BIGINT) AS fen \
     FROM ledger_transfers WHERE kind = 'commission_earned' GROUP BY order_id, line_no, credit_account";
/// Commission given back per (order line, beneficiary): voided from pending, clawed back from available.
const REVERSED: &str = "SELECT order_id, line_no, \
     CASE WHEN kind = 'commission_voided' THEN substr(debit_account, 20) ELSE substr(debit_account, 22) END AS beneficiary_id, \
     CAST(SUM(amount_fen) AS BIGINT) AS fen FROM ledger_transfers WHERE kind IN ('commission_voided', 'commission_clawback') \
     GROUP BY order_id, line_no, CASE WHEN kind = 'commission_voided' THEN substr(debit_account, 20) ELSE substr(debit_account, 22) END";

pub fn ledger_checks(sql: &mut dyn Sql) -> Result<Vec<CheckResult>, Error> {
    let order_sums = order_sums();
    let (split, reversed, received, refunds_paid) =
        ("COALESCE(s.split, 0)", "COALESCE(s.reversed, 0)", "COALESCE(s.received, 0)", "COALESCE(s.refunds_paid, 0)");
    // What of an order's money is in clearing: received and not yet split or paid back.
    let clearing = format!("({received} - {split} + {reversed} - {refunds_paid})");
    let line_kinds =
        TransferKind::ALL.iter().filter(|k| k.needs_order_line()).map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
    Ok(vec![
        run_check(
            sql,
            "ledger: every transfer moves a positive amount between two accounts of the kinds its kind allows",
            "SELECT COUNT(*) FROM ledger_transfers",
            &format!(
                "SELECT t.id FROM ledger_transfers t JOIN ledger_accounts d ON d.key = t.debit_account JOIN ledger_accounts c ON c.key = t.credit_account \
                 WHERE t.amount_fen <= 0 OR NOT ({})",
                transfer_shapes()
            ),
        )?,
        run_check(
            sql,
            "ledger: balanced (Σ debits = Σ credits over all accounts) and every cached balance = its Σ credits − Σ debits",
            "SELECT COUNT(*) FROM ledger_accounts",
            &format!(
                "WITH net AS (SELECT a.key, a.balance_fen, {SUMMED} AS fen FROM ledger_accounts a {ACCOUNT_SUMS}) \
                 SELECT key FROM net WHERE balance_fen IS NOT NULL AND balance_fen <> fen \
                 UNION ALL SELECT 'all accounts sum to ' || CAST(SUM(fen) AS TEXT) FROM net HAVING SUM(fen) <> 0"
            ),
        )?,
        run_check(
            sql,
            "ledger: commission never reaches a beneficiary except from a consumer order line",
            "SELECT COUNT(*) FROM ledger_transfers",
            &format!("SELECT t.id FROM ledger_transfers t WHERE t.kind IN ({line_kinds}) AND (t.order_id IS NULL OR t.line_no IS NULL)"),
        )?,
        run_check(
            sql,
            "ledger: every payment received once, every paid order split exactly once into its payable amount",
            "SELECT COUNT(*) FROM orders WHERE paid_fen > 0",
            &format!(
                "SELECT o.order_no FROM orders o {order_sums} WHERE {received} <> o.paid_fen \
                 OR (o.paid_at IS NOT NULL AND {split} <> o.payable_fen) OR (o.paid_at IS NULL AND {split} <> 0)"
            ),
        )?,
        run_check(
            sql,
            "ledger: every finished refund paid out once; clearing never pays out more than it received; a full refund unwinds the whole split",
            "SELECT COUNT(*) FROM refunds",
            &format!(
                "SELECT r.id FROM refunds r LEFT JOIN (SELECT refund_id, SUM(amount_fen) AS fen FROM ledger_transfers \
                     WHERE kind = 'refund_paid' GROUP BY refund_id) p ON p.refund_id = r.id \
                 WHERE COALESCE(p.fen, 0) <> CASE WHEN r.status = 'succeeded' THEN r.amount_fen ELSE 0 END \
                 UNION ALL SELECT o.order_no FROM orders o {order_sums} WHERE {refunds_paid} <> o.refunded_fen \
                 OR {clearing} < 0 OR {clearing} > o.paid_fen - o.refunded_fen OR {reversed} > {split} \
                 OR (o.paid_fen > 0 AND o.refunded_fen = o.paid_fen AND ({clearing} <> 0 OR {reversed} <> {split}))"
            ),
        )?,
        run_check(
            sql,
            "commission: at most 30% of a line's paid goods (both levels), never beyond level 2, and its ledger state matches",
            "SELECT COUNT(*) FROM commissions",
            &format!(
                "SELECT c.order_id || '/' || CAST(c.line_no AS TEXT) FROM commissions c GROUP BY c.order_id, c.line_no, c.base_fen \
                 HAVING SUM(c.amount_fen) * 10000 > c.base_fen * {COMMISSION_CAP_BPS} OR MAX(c.level) > 2 \
                 UNION ALL SELECT c.order_id || '/' || CAST(c.line_no AS TEXT) FROM commissions c \
                 LEFT JOIN ({EARNED}) e ON e.order_id = c.order_id AND e.line_no = c.line_no AND e.beneficiary_id = c.beneficiary_id \
                 LEFT JOIN ({REVERSED}) r ON r.order_id = c.order_id AND r.line_no = c.line_no AND r.beneficiary_id = c.beneficiary_id \
                 WHERE (c.status = 'voided' AND c.reversed_fen <> c.amount_fen) \
                 OR c.amount_fen <> COALESCE(e.fen, 0) OR c.reversed_fen <> COALESCE(r.fen, 0)"
            ),
        )?,
        run_check(
            sql,
            "commission: none available before its order's return window closed (receipt + 7 days + buffer)",
            "SELECT COUNT(*) FROM commissions WHERE status = 'settled'",
            &format!(
                "SELECT c.order_id FROM commissions c JOIN orders o ON o.id = c.order_id WHERE c.status = 'settled' \
                 AND (o.received_at IS NULL OR c.settled_at < o.received_at + {RETURN_WINDOW_MS} OR c.settled_at < c.settle_after) \
                 UNION ALL SELECT t.id FROM ledger_transfers t JOIN orders o ON o.id = t.order_id WHERE t.kind = 'commission_settled' \
                 AND (o.received_at IS NULL OR t.created_at < o.received_at + {RETURN_WINDOW_MS})"
            ),
        )?,
        run_check(
            sql,
            "withdrawals: each held once; paid ones paid out once, rejected and failed ones returned once, open ones still held",
            "SELECT COUNT(*) FROM withdrawals",
            "SELECT w.id FROM withdrawals w WHERE \
             (SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.withdrawal_id = w.id AND t.kind = 'withdrawal_held') <> w.amount_fen \
             OR (SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.withdrawal_id = w.id AND t.kind = 'withdrawal_paid') \
                <> CASE WHEN w.status = 'paid' THEN w.amount_fen ELSE 0 END \
             OR (SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.withdrawal_id = w.id AND t.kind = 'withdrawal_returned') \
                <> CASE WHEN w.status IN ('rejected', 'failed') THEN w.amount_fen ELSE 0 END",
        )?,
    ])
}
