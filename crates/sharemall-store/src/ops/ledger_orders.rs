//! The ledger side of an order's money: the split when its payment is applied, the start of
//! the settlement clock at receipt, and the proportional reversal when a refund is paid.
//! Each runs inside the command that changes the order's money, so the order and its
//! postings commit together or not at all.

use sharemall_domain::ledger::{
    Account, AccountKind, Earners, LineToSplit, Reversible, SplitPart, TransferKind, allocate_refund, split_order,
};
use sharemall_domain::{Error, Money, OrderId, PaymentId, RefundId, SupplierId, Timestamp, UserId};
use std::collections::BTreeMap;

use crate::ops::ledger::{About, Postings};
use crate::ops::policy;
use crate::params;
use crate::sql::Sql;

/// Records money arriving from a provider for an order: provider → clearing.
pub fn receive_payment(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: OrderId,
    payment: PaymentId,
    provider: &str,
    amount: Money,
) -> Result<(), Error> {
    let mut postings = Postings::default();
    let about = About { tag: Some(payment.0), ..About::order(order) };
    postings.add(TransferKind::PaymentReceived, Account::provider(provider), Account::CLEARING, amount, about)?;
    postings.write(sql, now).map(|_| ())
}

/// Splits a paid order's money out of clearing (SPEC 3.7): each line's supply price to its
/// supplier, commission to the beneficiaries the policy names (pending until the return window
/// closes), the rest and the shipping fee to the platform. Run once, when the payment that
/// pays the order is applied; the derived transfer ids make a second run post nothing.
pub fn split_paid_order(sql: &mut dyn Sql, now: Timestamp, order: OrderId) -> Result<(), Error> {
    let row = sql
        .query_opt(
            "SELECT o.payable_fen, o.shipping_fen, o.self_referral, o.customer_id, s.owner_id, s.invited_by \
             FROM orders o JOIN shops s ON s.id = COALESCE(o.bound_shop_id, o.shop_id) WHERE o.id = $1",
            params![order],
        )?
        .ok_or_else(|| Error::not_found("order"))?;
    let (payable, shipping, self_referral, customer) = (row.money(0)?, row.money(1)?, row.bool(2)?, row.id::<UserId>(3)?);
    let (owner, inviter) = (row.id::<UserId>(4)?, row.opt_id::<UserId>(5)?);
    let lines = sql
        .query(
            "SELECT i.line_no, i.supplier_id, i.goods_fen, k.supply_fen * i.quantity, k.commission_bps \
             FROM order_items i JOIN skus k ON k.id = i.sku_id WHERE i.order_id = $1 ORDER BY i.line_no",
            params![order],
        )?
        .iter()
        .map(|r| Ok(LineToSplit { line_no: r.i64(0)?, supplier: r.id(1)?, goods: r.money(2)?, supply: r.money(3)?, rate_bps: r.i64(4)? }))
        .collect::<Result<Vec<_>, Error>>()?;
    let terms = policy::current(sql)?;
    // Self-referral earns nothing at any level (SPEC 3.3); the inviter earns only on other
    // people's purchases, never on their invitee's own or their own.
    let second = match (terms.depth, inviter) {
        (2, Some(inviter)) if inviter != customer && inviter != owner => Some((inviter, terms.second_level_rate_bps)),
        _ => None,
    };
    let earners = Earners {
        first: (!self_referral).then_some(owner),
        first_rate_cap_bps: terms.rate_bps,
        second: if self_referral { None } else { second },
    };
    let split = split_order(&lines, shipping, payable, earners)?;
    let mut postings = Postings::default();
    for line in &split.lines {
        let about = About::line(order, line.line_no);
        postings.add(TransferKind::SupplierShare, Account::CLEARING, Account::supplier(line.supplier), line.supplier_share, about)?;
        for c in &line.commissions {
            postings.add(
                TransferKind::CommissionEarned,
                Account::CLEARING,
                Account::of(AccountKind::CommissionPending, c.beneficiary),
                c.amount,
                about,
            )?;
            sql.execute(
                "INSERT INTO commissions (order_id, line_no, beneficiary_id, level, rate_bps, base_fen, amount_fen, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) ON CONFLICT DO NOTHING",
                params![order, line.line_no, c.beneficiary, i64::from(c.level), c.rate_bps, line.goods, c.amount, now],
            )?;
        }
        postings.add(TransferKind::PlatformShare, Account::CLEARING, Account::PLATFORM_REVENUE, line.platform_share, about)?;
    }
    postings.add(TransferKind::ShippingShare, Account::CLEARING, Account::PLATFORM_REVENUE, split.shipping, About::order(order))?;
    postings.write(sql, now).map(|_| ())
}

/// Starts the settlement clock of an order's commission: it may settle once the return
/// window closes (`completes_at`: receipt + 7 days + the policy's buffer).
pub fn start_settlement_clock(sql: &mut dyn Sql, order: OrderId, completes_at: Timestamp) -> Result<(), Error> {
    sql.execute("UPDATE commissions SET settle_after = $2 WHERE order_id = $1 AND status = 'pending'", params![order, completes_at])?;
    Ok(())
}

/// Books a refund the provider has paid: its amount comes back out of the order's split in
/// proportion to what each part still holds (limited to `lines` when the refund is for some
/// lines only), then leaves clearing to the provider. Commission still pending is voided;
/// commission already settled is clawed back, into a negative balance if it was withdrawn.
pub fn book_refund(
    sql: &mut dyn Sql,
    now: Timestamp,
    order: OrderId,
    refund: RefundId,
    provider: &str,
    amount: Money,
    lines: Option<&[i64]>,
) -> Result<(), Error> {
    let mut postings = Postings::default();
    let parts: Vec<Reversible> = reversible_parts(sql, order)?
        .into_iter()
        .filter(|p| match (lines, p.part) {
            (None, _) => true,
            (Some(_), SplitPart::Shipping) => false,
            (
                Some(lines),
                SplitPart::Supplier { line_no, .. } | SplitPart::Commission { line_no, .. } | SplitPart::Platform { line_no },
            ) => lines.contains(&line_no),
        })
        .collect();
    // Money that was never split (paid after the order closed, or paid twice) is still in
    // clearing: an order-level refund takes that first, and reverses the split only for the
    // rest. A refund for some lines is for those lines' goods, so it reverses only them.
    let unsplit = match lines {
        None => unsplit_in_clearing(sql, order)?.clamp(Money::ZERO, amount),
        Some(_) => Money::ZERO,
    };
    let from_split = amount.checked_sub(unsplit)?;
    if from_split.fen() > 0 {
        for (part, fen) in allocate_refund(from_split, &parts)? {
            reverse_part(sql, &mut postings, order, refund, part, fen)?;
        }
    }
    postings.add(TransferKind::RefundPaid, Account::CLEARING, Account::provider(provider), amount, About::order(order).refund(refund))?;
    postings.write(sql, now).map(|_| ())
}

fn reverse_part(
    sql: &mut dyn Sql,
    postings: &mut Postings,
    order: OrderId,
    refund: RefundId,
    part: SplitPart,
    fen: Money,
) -> Result<(), Error> {
    match part {
        SplitPart::Supplier { line_no, supplier } => postings.add(
            TransferKind::SupplierReversal,
            Account::supplier(supplier),
            Account::CLEARING,
            fen,
            About::line(order, line_no).refund(refund),
        ),
        SplitPart::Platform { line_no } => postings.add(
            TransferKind::PlatformReversal,
            Account::PLATFORM_REVENUE,
            Account::CLEARING,
            fen,
            About::line(order, line_no).refund(refund),
        ),
        SplitPart::Shipping => postings.add(
            TransferKind::PlatformReversal,
            Account::PLATFORM_REVENUE,
            Account::CLEARING,
            fen,
            About::order(order).refund(refund),
        ),
        SplitPart::Commission { line_no, beneficiary } => {
            let status = sql.query_one(
                "UPDATE commissions SET reversed_fen = reversed_fen + $4, \
                 status = CASE WHEN status = 'pending' AND reversed_fen + $4 = amount_fen THEN 'voided' ELSE status END \
                 WHERE order_id = $1 AND line_no = $2 AND beneficiary_id = $3 RETURNING status",
                params![order, line_no, beneficiary, fen],
            )?;
            // A commission that settled is clawed back from what became available; one still
            // pending (or just voided by this refund) is voided from pending.
            let (kind, from) = if status.text(0)? == "settled" {
                (TransferKind::CommissionClawback, AccountKind::CommissionAvailable)
            } else {
                (TransferKind::CommissionVoided, AccountKind::CommissionPending)
            };
            postings.add(kind, Account::of(from, beneficiary), Account::CLEARING, fen, About::line(order, line_no).refund(refund))
        }
    }
}

/// Every part of an order's split with what of it is still unreversed, in a fixed order (by
/// line, then supplier, commissions, platform; shipping last), so the same refund always
/// allocates the same way.
fn reversible_parts(sql: &mut dyn Sql, order: OrderId) -> Result<Vec<Reversible>, Error> {
    let mut held: BTreeMap<(i64, u8, String), (SplitPart, i64)> = BTreeMap::new();
    let rows = sql.query(
        "SELECT kind, line_no, debit_account, credit_account, amount_fen FROM ledger_transfers WHERE order_id = $1 \
         AND kind IN ('supplier_share', 'platform_share', 'shipping_share', 'supplier_reversal', 'platform_reversal')",
        params![order],
    )?;
    for row in rows {
        let kind = TransferKind::parse(&row.text(0)?)?;
        let line_no = row.opt_i64(1)?;
        let fen = row.i64(4)?;
        let (part, sign, supplier_key) = match (kind, line_no) {
            (TransferKind::SupplierShare, Some(l)) => (supplier_part(l, &row.text(3)?)?, 1, row.text(3)?),
            (TransferKind::SupplierReversal, Some(l)) => (supplier_part(l, &row.text(2)?)?, -1, row.text(2)?),
            (TransferKind::PlatformShare, Some(l)) => (SplitPart::Platform { line_no: l }, 1, String::new()),
            (TransferKind::PlatformReversal, Some(l)) => (SplitPart::Platform { line_no: l }, -1, String::new()),
            (TransferKind::ShippingShare, None) => (SplitPart::Shipping, 1, String::new()),
            (TransferKind::PlatformReversal, None) => (SplitPart::Shipping, -1, String::new()),
            _ => return Err(Error::internal(format!("{} transfer of order {order} with an unexpected line", kind.as_str()))),
        };
        let rank = match part {
            SplitPart::Supplier { .. } => 0,
            SplitPart::Platform { .. } => 2,
            _ => 3,
        };
        let entry = held.entry((line_no.unwrap_or(i64::MAX), rank, supplier_key)).or_insert((part, 0));
        entry.1 += sign * fen;
    }
    let commissions = sql.query(
        "SELECT line_no, beneficiary_id, amount_fen - reversed_fen FROM commissions WHERE order_id = $1 ORDER BY line_no, level",
        params![order],
    )?;
    for row in commissions {
        let (line_no, beneficiary): (i64, UserId) = (row.i64(0)?, row.id(1)?);
        held.insert((line_no, 1, beneficiary.to_string()), (SplitPart::Commission { line_no, beneficiary }, row.i64(2)?));
    }
    Ok(held.into_values().map(|(part, fen)| Reversible { part, remaining: Money::from_fen(fen.max(0)) }).collect())
}

/// What an order's split still holds, after the refunds booked so far: per line (supplier,
/// commission and platform parts together) and for shipping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub lines: BTreeMap<i64, Money>,
    pub shipping: Money,
}

pub fn holdings(sql: &mut dyn Sql, order: OrderId) -> Result<Holdings, Error> {
    let mut held = Holdings::default();
    for part in reversible_parts(sql, order)? {
        let slot = match part.part {
            SplitPart::Shipping => &mut held.shipping,
            SplitPart::Supplier { line_no, .. } | SplitPart::Commission { line_no, .. } | SplitPart::Platform { line_no } => {
                held.lines.entry(line_no).or_insert(Money::ZERO)
            }
        };
        *slot = slot.checked_add(part.remaining)?;
    }
    Ok(held)
}

/// What of an order's money sits in clearing: credits minus debits of its clearing transfers.
fn unsplit_in_clearing(sql: &mut dyn Sql, order: OrderId) -> Result<Money, Error> {
    let row = sql.query_one(
        "SELECT CAST(COALESCE(SUM(CASE WHEN credit_account = 'clearing' THEN amount_fen ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN debit_account = 'clearing' THEN amount_fen ELSE 0 END), 0) AS BIGINT) \
         FROM ledger_transfers WHERE order_id = $1",
        params![order],
    )?;
    row.money(0)?.checked_sub(row.money(1)?)
}

fn supplier_part(line_no: i64, account_key: &str) -> Result<SplitPart, Error> {
    let supplier: SupplierId = account_key
        .strip_prefix("supplier_payable:")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::internal(format!("{account_key} is not a supplier account")))?;
    Ok(SplitPart::Supplier { line_no, supplier })
}
