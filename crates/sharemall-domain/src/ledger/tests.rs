use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

fn user(n: u128) -> UserId {
    UserId(Uuid::from_u128(n))
}

fn supplier(n: u128) -> SupplierId {
    SupplierId(Uuid::from_u128(n))
}

fn line(line_no: i64, goods: i64, supply: i64, rate_bps: i64) -> LineToSplit {
    LineToSplit { line_no, supplier: supplier(7), goods: Money::from_fen(goods), supply: Money::from_fen(supply), rate_bps }
}

fn earners(first: Option<UserId>, second: Option<(UserId, i64)>) -> Earners {
    Earners { first, first_rate_cap_bps: COMMISSION_CAP_BPS, second }
}

#[test]
fn a_plain_order_splits_into_supplier_commission_platform_and_shipping() {
    let lines = [line(1, 10_000, 6_000, 1_500)];
    let split = split_order(&lines, Money::from_fen(600), Money::from_fen(10_600), earners(Some(user(1)), None)).unwrap();
    let l = &split.lines[0];
    assert_eq!(l.supplier_share.fen(), 6_000);
    assert_eq!(l.commissions, vec![LineCommission { beneficiary: user(1), level: 1, rate_bps: 1_500, amount: Money::from_fen(1_500) }]);
    assert_eq!(l.platform_share.fen(), 2_500);
    assert_eq!(split.shipping.fen(), 600);
}

#[test]
fn a_self_referred_order_pays_no_commission() {
    let lines = [line(1, 10_000, 6_000, 1_500)];
    let split = split_order(&lines, Money::ZERO, Money::from_fen(10_000), earners(None, Some((user(2), 500)))).unwrap();
    assert!(split.lines[0].commissions.is_empty());
    assert_eq!(split.lines[0].platform_share.fen(), 4_000);
}

#[test]
fn commission_stops_at_the_margin_and_the_second_level_yields_first() {
    // A group price just above supply: 20% would be 1,100 but the margin is 500.
    let lines = [line(1, 5_500, 5_000, 2_000)];
    let split = split_order(&lines, Money::ZERO, Money::from_fen(5_500), earners(Some(user(1)), Some((user(2), 500)))).unwrap();
    let l = &split.lines[0];
    assert_eq!(l.commissions.len(), 1, "the inviter gets nothing once the owner took the margin");
    assert_eq!(l.commissions[0].amount.fen(), 500);
    assert_eq!(l.platform_share.fen(), 0);
}

#[test]
fn both_levels_together_stay_within_thirty_percent() {
    let lines = [line(1, 10_000, 1_000, 2_800)];
    let split = split_order(&lines, Money::ZERO, Money::from_fen(10_000), earners(Some(user(1)), Some((user(2), 1_000)))).unwrap();
    let total: i64 = split.lines[0].commissions.iter().map(|c| c.amount.fen()).sum();
    assert_eq!(total, 3_000);
    assert_eq!(split.lines[0].commissions[1].rate_bps, 200);
}

#[test]
fn the_policy_caps_the_first_level_rate() {
    let lines = [line(1, 10_000, 1_000, 2_800)];
    let capped = Earners { first: Some(user(1)), first_rate_cap_bps: 1_000, second: None };
    let split = split_order(&lines, Money::ZERO, Money::from_fen(10_000), capped).unwrap();
    assert_eq!(split.lines[0].commissions[0].amount.fen(), 1_000);
}

#[test]
fn a_split_that_does_not_match_the_payment_is_refused() {
    let lines = [line(1, 10_000, 6_000, 1_500)];
    assert!(split_order(&lines, Money::from_fen(600), Money::from_fen(10_000), earners(None, None)).is_err());
}

#[test]
fn transfer_ids_are_deterministic_and_distinct() {
    let a = transfer_id(TransferKind::CommissionEarned, &["order", "1", "user"]);
    assert_eq!(a, transfer_id(TransferKind::CommissionEarned, &["order", "1", "user"]));
    assert_ne!(a, transfer_id(TransferKind::CommissionSettled, &["order", "1", "user"]));
    assert_ne!(a, transfer_id(TransferKind::CommissionEarned, &["order", "2", "user"]));
    // Parts are separated, so moving a boundary makes another id.
    assert_ne!(transfer_id(TransferKind::SupplierShare, &["ab", "c"]), transfer_id(TransferKind::SupplierShare, &["a", "bc"]));
}

#[test]
fn every_line_tied_kind_moves_between_its_own_accounts() {
    let mut seen = HashSet::new();
    for kind in TransferKind::ALL {
        assert!(seen.insert(kind.as_str()), "duplicate kind {}", kind.as_str());
        assert_eq!(TransferKind::parse(kind.as_str()).unwrap(), kind);
        let (debit, credit) = kind.accounts();
        assert_ne!(debit, credit);
        // Money only reaches a beneficiary's pending account from an order line.
        if credit == AccountKind::CommissionPending {
            assert!(kind.needs_order_line());
        }
    }
    for kind in AccountKind::ALL {
        assert_eq!(AccountKind::parse(kind.as_str()).unwrap(), kind);
    }
}

#[test]
fn withdrawals_need_a_yuan_and_the_balance() {
    assert_eq!(check_withdrawal(Money::from_fen(99), Money::from_fen(10_000)).unwrap_err().code, ErrorCode::WithdrawalBelowMinimum);
    assert_eq!(check_withdrawal(Money::from_fen(10_001), Money::from_fen(10_000)).unwrap_err().code, ErrorCode::InsufficientAvailable);
    assert_eq!(check_withdrawal(Money::from_fen(100), Money::from_fen(-50)).unwrap_err().code, ErrorCode::InsufficientAvailable);
    assert!(check_withdrawal(Money::from_fen(10_000), Money::from_fen(10_000)).is_ok());
}

fn arb_lines() -> impl Strategy<Value = Vec<LineToSplit>> {
    proptest::collection::vec((1i64..5_000_000, 0i64..=100, 0i64..=3_000), 1..8).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (goods, supply_pct, rate))| line(i as i64 + 1, goods, goods * supply_pct / 100, rate))
            .collect()
    })
}

proptest! {
    #[test]
    fn splits_are_exact_and_within_every_ceiling(
        lines in arb_lines(),
        shipping in 0i64..2_000,
        self_referred in any::<bool>(),
        second in proptest::option::of(0i64..3_000),
    ) {
        let goods: i64 = lines.iter().map(|l| l.goods.fen()).sum();
        let paid = Money::from_fen(goods + shipping);
        let who = earners((!self_referred).then(|| user(1)), second.map(|bps| (user(2), bps)));
        let split = split_order(&lines, Money::from_fen(shipping), paid, who).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(split.total().unwrap(), paid);
        for (l, input) in split.lines.iter().zip(&lines) {
            let commission: i64 = l.commissions.iter().map(|c| c.amount.fen()).sum();
            prop_assert!(commission * 10_000 <= input.goods.fen() * COMMISSION_CAP_BPS);
            prop_assert!(l.platform_share.fen() >= 0);
            prop_assert_eq!(l.supplier_share, input.supply);
            prop_assert!(l.commissions.iter().all(|c| c.level <= 2 && c.amount.fen() > 0));
            if self_referred {
                prop_assert_eq!(commission, 0);
            }
        }
    }

    #[test]
    fn refunds_reverse_exactly_and_never_more_than_a_part_holds(
        remaining in proptest::collection::vec(0i64..1_000_000, 1..12),
        share in 1u32..=100,
    ) {
        let held: i64 = remaining.iter().sum();
        prop_assume!(held > 0);
        let refund = Money::from_fen((held * i64::from(share) / 100).max(1));
        let parts: Vec<Reversible> = remaining
            .iter()
            .enumerate()
            .map(|(i, r)| Reversible { part: SplitPart::Platform { line_no: i as i64 }, remaining: Money::from_fen(*r) })
            .collect();
        let reversed = allocate_refund(refund, &parts).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(reversed.iter().map(|(_, a)| a.fen()).sum::<i64>(), refund.fen());
        for (part, amount) in &reversed {
            let SplitPart::Platform { line_no } = part else { unreachable!() };
            prop_assert!(amount.fen() <= remaining[*line_no as usize]);
        }
        if share == 100 {
            // A full refund gives back exactly what every part holds.
            for (part, amount) in &reversed {
                let SplitPart::Platform { line_no } = part else { unreachable!() };
                prop_assert_eq!(amount.fen(), remaining[*line_no as usize]);
            }
        }
        prop_assert!(allocate_refund(Money::from_fen(held + 1), &parts).is_err());
    }
}
