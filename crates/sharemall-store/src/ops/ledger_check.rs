//! The ledger's invariants (TESTING T4), part of `sharemall check`: balanced, cached balances
//! equal to their sums, every paid order split exactly once and every refund booked exactly,
//! commission within its ceilings, none available before its window, withdrawals accounted.

use sharemall_domain::Error;
use sharemall_domain::catalog::COMMISSION_CAP_BPS;
use sharemall_domain::ledger::TransferKind;
use sharemall_domain::order::RETURN_WINDOW_MS;

use crate::ops::check::{CheckResult, run_check};
use crate::sql::Sql;

/// Σ credits − Σ debits of one account, from its transfers.
const SUMMED: &str = "(SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.credit_account = a.key) \
                      - (SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.debit_account = a.key)";

/// The amount of an order's transfers of some kinds (`o` is the order).
fn order_sum(kinds: &[TransferKind]) -> String {
    let list = kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ");
    format!(
        "(SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.order_id = o.id AND t.kind IN ({list}))"
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
    use TransferKind as K;
    let split = order_sum(&[K::SupplierShare, K::CommissionEarned, K::PlatformShare, K::ShippingShare]);
    let reversed = order_sum(&[K::SupplierReversal, K::CommissionVoided, K::CommissionClawback, K::PlatformReversal]);
    let received = order_sum(&[K::PaymentReceived]);
    let refunds_paid = order_sum(&[K::RefundPaid]);
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
                "SELECT a.key FROM ledger_accounts a WHERE a.balance_fen IS NOT NULL AND a.balance_fen <> {SUMMED} \
                 UNION ALL SELECT 'all accounts sum to ' || CAST(SUM({SUMMED}) AS TEXT) FROM ledger_accounts a HAVING SUM({SUMMED}) <> 0"
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
                "SELECT o.order_no FROM orders o WHERE {received} <> o.paid_fen \
                 OR (o.paid_at IS NOT NULL AND {split} <> o.payable_fen) OR (o.paid_at IS NULL AND {split} <> 0)"
            ),
        )?,
        run_check(
            sql,
            "ledger: every finished refund paid out once; clearing never pays out more than it received; a full refund unwinds the whole split",
            "SELECT COUNT(*) FROM refunds",
            &format!(
                "SELECT r.id FROM refunds r WHERE \
                 (SELECT CAST(COALESCE(SUM(t.amount_fen), 0) AS BIGINT) FROM ledger_transfers t WHERE t.refund_id = r.id AND t.kind = 'refund_paid') \
                   <> CASE WHEN r.status = 'succeeded' THEN r.amount_fen ELSE 0 END \
                 UNION ALL SELECT o.order_no FROM orders o WHERE {refunds_paid} <> o.refunded_fen \
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
