//! The commission ledger (SPEC 3.7): accounts, transfers with deterministic ids, and the pure
//! arithmetic of splitting an order's money and reversing a refund of it.
//!
//! Double entry: every transfer moves a positive amount from one account (debited) to another
//! (credited), and is never changed once written. An account's balance is its credits minus its
//! debits, so the sum of all balances is always zero. Money enters through a provider account
//! (which therefore runs negative: it is what the providers hold for us) and is split from the
//! clearing account, which returns to zero for every order once its split and refunds are
//! written.

use uuid::Uuid;

use crate::catalog::COMMISSION_CAP_BPS;
use crate::error::{Error, ErrorCode};
use crate::ids::{SupplierId, UserId};
use crate::money::Money;

/// What an account is for. An account is a kind plus, for the per-party kinds, its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// Money held for us by a payment provider (owner: the provider's name). Runs negative.
    Provider,
    /// Customer payments not yet split, and refunds not yet paid out.
    Clearing,
    /// What the platform owes a supplier for goods sold (owner: the supplier).
    SupplierPayable,
    /// The platform's own share: margins after commission, and shipping fees.
    PlatformRevenue,
    /// Commission earned but inside the return window (owner: the beneficiary).
    CommissionPending,
    /// Commission the beneficiary may withdraw. Negative after a clawback, until later
    /// earnings net it off.
    CommissionAvailable,
    /// Commission set aside for a withdrawal being decided or paid out.
    WithdrawalHold,
    /// Commission paid out to the beneficiary, in total.
    PaidOut,
}

impl AccountKind {
    pub const ALL: [AccountKind; 8] = [
        AccountKind::Provider,
        AccountKind::Clearing,
        AccountKind::SupplierPayable,
        AccountKind::PlatformRevenue,
        AccountKind::CommissionPending,
        AccountKind::CommissionAvailable,
        AccountKind::WithdrawalHold,
        AccountKind::PaidOut,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AccountKind::Provider => "provider",
            AccountKind::Clearing => "clearing",
            AccountKind::SupplierPayable => "supplier_payable",
            AccountKind::PlatformRevenue => "platform_revenue",
            AccountKind::CommissionPending => "commission_pending",
            AccountKind::CommissionAvailable => "commission_available",
            AccountKind::WithdrawalHold => "withdrawal_hold",
            AccountKind::PaidOut => "paid_out",
        }
    }

    pub fn parse(text: &str) -> Result<AccountKind, Error> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| Error::internal(format!("unknown account kind {text}")))
    }

    /// Whether the kind belongs to one commission beneficiary.
    pub const fn is_commission(self) -> bool {
        matches!(
            self,
            AccountKind::CommissionPending | AccountKind::CommissionAvailable | AccountKind::WithdrawalHold | AccountKind::PaidOut
        )
    }
}

/// One ledger account: `clearing`, `platform_revenue`, `provider:sandbox`,
/// `commission_available:{user id}` and so on. The key is the account's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Account {
    pub kind: AccountKind,
    pub owner: Option<String>,
}

impl Account {
    pub const CLEARING: Account = Account { kind: AccountKind::Clearing, owner: None };
    pub const PLATFORM_REVENUE: Account = Account { kind: AccountKind::PlatformRevenue, owner: None };

    pub fn provider(name: &str) -> Account {
        Account { kind: AccountKind::Provider, owner: Some(name.to_string()) }
    }

    pub fn supplier(supplier: SupplierId) -> Account {
        Account { kind: AccountKind::SupplierPayable, owner: Some(supplier.to_string()) }
    }

    /// A beneficiary's account of a commission kind.
    pub fn of(kind: AccountKind, user: UserId) -> Account {
        Account { kind, owner: Some(user.to_string()) }
    }

    pub fn key(&self) -> String {
        match &self.owner {
            Some(owner) => format!("{}:{owner}", self.kind.as_str()),
            None => self.kind.as_str().to_string(),
        }
    }
}

/// Why money moved. Each kind has one direction between account kinds (see [`TransferKind::accounts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// Provider → clearing: a customer's payment arrived.
    PaymentReceived,
    /// Clearing → supplier payable: the supply price of one order line.
    SupplierShare,
    /// Clearing → commission pending: one beneficiary's commission on one order line.
    CommissionEarned,
    /// Clearing → platform revenue: what is left of one order line.
    PlatformShare,
    /// Clearing → platform revenue: the order's shipping fee.
    ShippingShare,
    /// Commission pending → available: the return window closed (the pending transfer posted).
    CommissionSettled,
    /// Commission pending → clearing: a refund before settlement (the pending part voided).
    CommissionVoided,
    /// Commission available → clearing: a refund after settlement, even into a negative balance.
    CommissionClawback,
    /// Supplier payable → clearing: the supplier's part of a refund.
    SupplierReversal,
    /// Platform revenue → clearing: the platform's part of a refund (line margin or shipping).
    PlatformReversal,
    /// Clearing → provider: a refund paid back to the customer.
    RefundPaid,
    /// Commission available → withdrawal hold: a withdrawal was requested.
    WithdrawalHeld,
    /// Withdrawal hold → commission available: a withdrawal was rejected or its payout failed.
    WithdrawalReturned,
    /// Withdrawal hold → paid out: the payout provider paid the beneficiary.
    WithdrawalPaid,
}

impl TransferKind {
    pub const ALL: [TransferKind; 14] = [
        TransferKind::PaymentReceived,
        TransferKind::SupplierShare,
        TransferKind::CommissionEarned,
        TransferKind::PlatformShare,
        TransferKind::ShippingShare,
        TransferKind::CommissionSettled,
        TransferKind::CommissionVoided,
        TransferKind::CommissionClawback,
        TransferKind::SupplierReversal,
        TransferKind::PlatformReversal,
        TransferKind::RefundPaid,
        TransferKind::WithdrawalHeld,
        TransferKind::WithdrawalReturned,
        TransferKind::WithdrawalPaid,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TransferKind::PaymentReceived => "payment_received",
            TransferKind::SupplierShare => "supplier_share",
            TransferKind::CommissionEarned => "commission_earned",
            TransferKind::PlatformShare => "platform_share",
            TransferKind::ShippingShare => "shipping_share",
            TransferKind::CommissionSettled => "commission_settled",
            TransferKind::CommissionVoided => "commission_voided",
            TransferKind::CommissionClawback => "commission_clawback",
            TransferKind::SupplierReversal => "supplier_reversal",
            TransferKind::PlatformReversal => "platform_reversal",
            TransferKind::RefundPaid => "refund_paid",
            TransferKind::WithdrawalHeld => "withdrawal_held",
            TransferKind::WithdrawalReturned => "withdrawal_returned",
            TransferKind::WithdrawalPaid => "withdrawal_paid",
        }
    }

    pub fn parse(text: &str) -> Result<TransferKind, Error> {
        TransferKind::ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| Error::internal(format!("unknown transfer kind {text}")))
    }

    /// The (debited, credited) account kinds this kind moves money between. `sharemall check`
    /// verifies every stored transfer against it.
    pub const fn accounts(self) -> (AccountKind, AccountKind) {
        use AccountKind as A;
        match self {
            TransferKind::PaymentReceived => (A::Provider, A::Clearing),
            TransferKind::SupplierShare => (A::Clearing, A::SupplierPayable),
            TransferKind::CommissionEarned => (A::Clearing, A::CommissionPending),
            TransferKind::PlatformShare | TransferKind::ShippingShare => (A::Clearing, A::PlatformRevenue),
            TransferKind::CommissionSettled => (A::CommissionPending, A::CommissionAvailable),
            TransferKind::CommissionVoided => (A::CommissionPending, A::Clearing),
            TransferKind::CommissionClawback => (A::CommissionAvailable, A::Clearing),
            TransferKind::SupplierReversal => (A::SupplierPayable, A::Clearing),
            TransferKind::PlatformReversal => (A::PlatformRevenue, A::Clearing),
            TransferKind::RefundPaid => (A::Clearing, A::Provider),
            TransferKind::WithdrawalHeld => (A::CommissionAvailable, A::WithdrawalHold),
            TransferKind::WithdrawalReturned => (A::WithdrawalHold, A::CommissionAvailable),
            TransferKind::WithdrawalPaid => (A::WithdrawalHold, A::PaidOut),
        }
    }

    /// Whether a transfer of this kind must name a consumer order line: every movement of
    /// commission into a beneficiary's accounts does, which is how the compliance audit proves
    /// nothing pays for recruiting (SPEC 3.8).
    pub const fn needs_order_line(self) -> bool {
        matches!(
            self,
            TransferKind::SupplierShare
                | TransferKind::CommissionEarned
                | TransferKind::PlatformShare
                | TransferKind::CommissionSettled
                | TransferKind::CommissionVoided
                | TransferKind::CommissionClawback
                | TransferKind::SupplierReversal
        )
    }
}

/// Namespace of transfer ids (a fixed random UUID), so that ids derived here never collide
/// with ids derived the same way for anything else.
const TRANSFER_NAMESPACE: Uuid = Uuid::from_u128(0x6d1c_2f0e_8a47_4b5e_9c3d_71a2_e0b4_5f18);

/// The id of a transfer, derived from what it is about: its kind and the ids that make it
/// unique (payment; order and line; beneficiary; refund; withdrawal). Writing a transfer
/// whose id exists changes nothing, so a re-run of any command posts nothing twice.
pub fn transfer_id(kind: TransferKind, parts: &[&str]) -> Uuid {
    let mut name = String::from(kind.as_str());
    for part in parts {
        name.push('/');
        name.push_str(part);
    }
    Uuid::new_v5(&TRANSFER_NAMESPACE, name.as_bytes())
}

/// One line of a paid order, as the split needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineToSplit {
    pub line_no: i64,
    pub supplier: SupplierId,
    /// What the customer paid for the line's goods (after activity prices and discounts).
    pub goods: Money,
    /// The supply price of the line: unit supply price × quantity.
    pub supply: Money,
    /// The SKU's first-level commission rate.
    pub rate_bps: i64,
}

/// Who earns on an order, as the commission policy and the attribution decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earners {
    /// The owner of the attributed shop; `None` on a self-referred order (nobody earns).
    pub first: Option<UserId>,
    /// The highest first-level rate the policy allows.
    pub first_rate_cap_bps: i64,
    /// With commission depth 2: the user who invited the shop owner, and their rate.
    pub second: Option<(UserId, i64)>,
}

/// One beneficiary's commission on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCommission {
    pub beneficiary: UserId,
    /// 1 for the shop owner, 2 for their inviter. Nothing deeper exists.
    pub level: u8,
    pub rate_bps: i64,
    pub amount: Money,
}

/// Where one line's money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSplit {
    pub line_no: i64,
    pub supplier: SupplierId,
    pub goods: Money,
    pub supplier_share: Money,
    pub commissions: Vec<LineCommission>,
    pub platform_share: Money,
}

/// Where an order's money goes: every line, and the shipping fee (the platform's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSplit {
    pub lines: Vec<LineSplit>,
    pub shipping: Money,
}

impl OrderSplit {
    /// The sum of every part: always the amount the split was made of.
    pub fn total(&self) -> Result<Money, Error> {
        let mut total = self.shipping;
        for line in &self.lines {
            total = total.checked_add(line.supplier_share)?.checked_add(line.platform_share)?;
            for c in &line.commissions {
                total = total.checked_add(c.amount)?;
            }
        }
        Ok(total)
    }
}

/// Splits a paid order (SPEC 3.7): the supplier gets the supply price, each beneficiary the
/// rate × the goods amount actually paid for the line (shipping excluded), the platform the
/// rest; exact to the fen.
///
/// Two ceilings keep the platform from paying more than it took: the commission of a line,
/// both levels together, never exceeds 30% of the line's goods ([`COMMISSION_CAP_BPS`]) nor
/// the line's margin (goods − supply), the second level yielding first. The supplier's share
/// never exceeds what was paid for the line: today every price is at or above the supply price
/// (the schema and the activity rules see to it), so the cap only guards against a future
/// discount that nobody funds.
pub fn split_order(lines: &[LineToSplit], shipping: Money, paid: Money, earners: Earners) -> Result<OrderSplit, Error> {
    let mut split = OrderSplit { lines: Vec::with_capacity(lines.len()), shipping };
    for line in lines {
        if line.goods.fen() < 0 || line.supply.fen() < 0 {
            return Err(Error::internal(format!("line {} has a negative amount", line.line_no)));
        }
        let supplier_share = line.supply.min(line.goods);
        let margin = line.goods.checked_sub(supplier_share)?;
        let mut left = margin;
        let mut commissions = Vec::new();
        let mut rate_left = COMMISSION_CAP_BPS;
        if let Some(owner) = earners.first {
            let rate = line.rate_bps.clamp(0, earners.first_rate_cap_bps.clamp(0, COMMISSION_CAP_BPS));
            rate_left -= rate;
            let amount = line.goods.apply_bps(rate)?.min(left);
            left = left.checked_sub(amount)?;
            commissions.push(LineCommission { beneficiary: owner, level: 1, rate_bps: rate, amount });
            if let Some((inviter, second_bps)) = earners.second {
                let rate = second_bps.clamp(0, rate_left);
                let amount = line.goods.apply_bps(rate)?.min(left);
                left = left.checked_sub(amount)?;
                commissions.push(LineCommission { beneficiary: inviter, level: 2, rate_bps: rate, amount });
            }
        }
        commissions.retain(|c| c.amount.fen() > 0);
        split.lines.push(LineSplit {
            line_no: line.line_no,
            supplier: line.supplier,
            goods: line.goods,
            supplier_share,
            commissions,
            platform_share: left,
        });
    }
    if split.total()? != paid {
        return Err(Error::internal(format!("order split sums to {} but {} was paid", split.total()?, paid)));
    }
    Ok(split)
}

/// One part of a split that a refund may reverse, with what of it is still unreversed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reversible {
    pub part: SplitPart,
    pub remaining: Money,
}

/// A part of an order's split: which account got it and, for line parts, which line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitPart {
    Supplier { line_no: i64, supplier: SupplierId },
    Commission { line_no: i64, beneficiary: UserId },
    Platform { line_no: i64 },
    Shipping,
}

/// Allocates a refund over the parts it reverses, proportionally to what each part still
/// holds, exact to the fen (largest remainder). No part gives back more than it holds, and the
/// parts sum to the refund.
pub fn allocate_refund(refund: Money, parts: &[Reversible]) -> Result<Vec<(SplitPart, Money)>, Error> {
    let weights: Vec<i64> = parts.iter().map(|p| p.remaining.fen()).collect();
    let held: i64 =
        weights.iter().try_fold(0i64, |sum, w| sum.checked_add(*w)).ok_or_else(|| Error::internal("reversible parts overflow"))?;
    if refund.fen() <= 0 || refund.fen() > held {
        return Err(Error::new(
            ErrorCode::RefundExceedsPaid,
            format!("a refund of {refund} exceeds the {} it can reverse", Money::from_fen(held)),
        ));
    }
    let amounts = refund.allocate(&weights)?;
    Ok(parts.iter().zip(amounts).map(|(p, a)| (p.part, a)).filter(|(_, a)| a.fen() > 0).collect())
}

/// The smallest withdrawal: ¥1.00 (SPEC 3.7).
pub const MIN_WITHDRAWAL_FEN: i64 = 100;

/// Checks a withdrawal request against the beneficiary's available balance.
pub fn check_withdrawal(amount: Money, available: Money) -> Result<(), Error> {
    if amount.fen() < MIN_WITHDRAWAL_FEN {
        return Err(Error::new(ErrorCode::WithdrawalBelowMinimum, "the smallest withdrawal is ¥1.00"));
    }
    if amount > available {
        return Err(Error::new(ErrorCode::InsufficientAvailable, format!("only {} is available to withdraw", available.max(Money::ZERO))));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
