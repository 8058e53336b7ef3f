//! After-sales (售后, SPEC 3.7): returns and refunds after the customer has the goods.
//!
//! A case is for some units of some lines of one supplier's part of a received order. It asks
//! for a refund for one of two reasons: no reason at all (七天无理由, within 7 days of receipt,
//! only for goods that allow it) or a quality problem (within 15 days, described). The supplier
//! or the operator approves it (the goods come back, or the refund is paid without them) or
//! rejects it with a reason. Every waiting state has a deadline, so no case, and no commission
//! waiting on it, can hang forever.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::money::Money;
use crate::order::RETURN_WINDOW_MS;
use crate::time::{DAY_MS, Timestamp};

/// Quality returns are accepted for 15 days from receipt.
pub const QUALITY_WINDOW_MS: i64 = 15 * DAY_MS;
/// The supplier has 2 days to answer; a case nobody answered is approved for them.
pub const RESPOND_MS: i64 = 2 * DAY_MS;
/// The customer has 7 days to send approved goods back; then the case closes.
pub const SHIP_BACK_MS: i64 = 7 * DAY_MS;
/// The supplier has 10 days to confirm the goods came back; then they count as received.
pub const CONFIRM_RETURN_MS: i64 = 10 * DAY_MS;
/// Longest description or decision note, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// Why the customer wants their money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// 七天无理由退货: no reason needed, within 7 days, returnable goods only.
    NoReason,
    /// 质量问题: within 15 days, for any goods, with a description.
    Quality,
}

impl ReturnReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReturnReason::NoReason => "no_reason",
            ReturnReason::Quality => "quality",
        }
    }

    pub fn parse(text: &str) -> Result<ReturnReason, Error> {
        match text {
            "no_reason" => Ok(ReturnReason::NoReason),
            "quality" => Ok(ReturnReason::Quality),
            other => Err(Error::invalid(format!("reason must be no_reason or quality, not '{other}'"))),
        }
    }

    /// How long after receipt a case for this reason may be opened.
    pub const fn window_ms(self) -> i64 {
        match self {
            ReturnReason::NoReason => RETURN_WINDOW_MS,
            ReturnReason::Quality => QUALITY_WINDOW_MS,
        }
    }

    /// Checks that a case for this reason may still be opened at `now` for goods received at
    /// `received_at`. The window includes its last millisecond.
    pub fn check_window(self, received_at: Timestamp, now: Timestamp) -> Result<(), Error> {
        if now <= received_at.plus_ms(self.window_ms()) {
            return Ok(());
        }
        let message = match self {
            ReturnReason::NoReason => "the 7-day no-reason return window has closed; a quality return is possible within 15 days",
            ReturnReason::Quality => "the 15-day window for quality returns has closed",
        };
        Err(Error::new(ErrorCode::ReturnWindowClosed, message))
    }
}

/// How an approved case is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// 退货退款: the customer sends the goods back; the refund is paid when they arrive.
    ReturnAndRefund,
    /// 仅退款: the refund is paid now and the goods stay with the customer.
    RefundOnly,
}

impl Resolution {
    pub const fn as_str(self) -> &'static str {
        match self {
            Resolution::ReturnAndRefund => "return_and_refund",
            Resolution::RefundOnly => "refund_only",
        }
    }

    pub fn parse(text: &str) -> Result<Resolution, Error> {
        match text {
            "return_and_refund" => Ok(Resolution::ReturnAndRefund),
            "refund_only" => Ok(Resolution::RefundOnly),
            other => Err(Error::invalid(format!("resolution must be return_and_refund or refund_only, not '{other}'"))),
        }
    }
}

/// Where a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterSaleStatus {
    /// Waiting for the supplier or the operator (deadline: [`RESPOND_MS`]).
    Requested,
    /// Approved: waiting for the customer to send the goods back ([`SHIP_BACK_MS`]).
    Approved,
    /// On its way back, with a tracking number ([`CONFIRM_RETURN_MS`]).
    Returned,
    /// The refund is with the payment provider.
    Refunding,
    /// Final: the money is back with the customer.
    Refunded,
    /// Final: refused, with the reason shown to the customer.
    Rejected,
    /// Final: withdrawn by the customer.
    Cancelled,
    /// Final: the goods were not sent back in time.
    Closed,
    /// Final for the case: the provider refused the refund; the operator settles it by hand.
    RefundFailed,
}

impl AfterSaleStatus {
    pub const ALL: [AfterSaleStatus; 9] = [
        AfterSaleStatus::Requested,
        AfterSaleStatus::Approved,
        AfterSaleStatus::Returned,
        AfterSaleStatus::Refunding,
        AfterSaleStatus::Refunded,
        AfterSaleStatus::Rejected,
        AfterSaleStatus::Cancelled,
        AfterSaleStatus::Closed,
        AfterSaleStatus::RefundFailed,
    ];

    /// The states in which a case may still take money back: an order has at most one case
    /// in them, and its commission waits while it has one.
    pub const OPEN: [AfterSaleStatus; 4] =
        [AfterSaleStatus::Requested, AfterSaleStatus::Approved, AfterSaleStatus::Returned, AfterSaleStatus::Refunding];

    pub const fn as_str(self) -> &'static str {
        match self {
            AfterSaleStatus::Requested => "requested",
            AfterSaleStatus::Approved => "approved",
            AfterSaleStatus::Returned => "returned",
            AfterSaleStatus::Refunding => "refunding",
            AfterSaleStatus::Refunded => "refunded",
            AfterSaleStatus::Rejected => "rejected",
            AfterSaleStatus::Cancelled => "cancelled",
            AfterSaleStatus::Closed => "closed",
            AfterSaleStatus::RefundFailed => "refund_failed",
        }
    }

    pub fn parse(text: &str) -> Result<AfterSaleStatus, Error> {
        AfterSaleStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| Error::invalid(format!("unknown after-sales status '{text}'")))
    }

    pub fn is_open(self) -> bool {
        AfterSaleStatus::OPEN.contains(&self)
    }

    /// Whether the units of a case in this state still count as being returned, so another
    /// case can't ask for them again. A refund the provider refused still holds them: the
    /// operator settles it by hand, and a second case must not pay the same goods twice.
    pub const fn holds_units(self) -> bool {
        !matches!(self, AfterSaleStatus::Rejected | AfterSaleStatus::Cancelled | AfterSaleStatus::Closed)
    }

    /// The legal moves. Everything else is `after_sale_not_pending`.
    pub const fn can_become(self, next: AfterSaleStatus) -> bool {
        use AfterSaleStatus::*;
        matches!(
            (self, next),
            (Requested, Approved)
                | (Requested, Refunding)
                | (Requested, Rejected)
                | (Requested, Cancelled)
                | (Approved, Returned)
                | (Approved, Cancelled)
                | (Approved, Closed)
                | (Returned, Refunding)
                | (Refunding, Refunded)
                | (Refunding, RefundFailed)
        )
    }

    pub fn transition(self, next: AfterSaleStatus) -> Result<AfterSaleStatus, Error> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(Error::new(
                ErrorCode::AfterSaleNotPending,
                format!("an after-sales case that is {} cannot become {}", self.as_str(), next.as_str()),
            ))
        }
    }
}

/// The SQL list of [`AfterSaleStatus::OPEN`], for queries that must agree with it.
pub const OPEN_STATUSES_SQL: &str = "('requested', 'approved', 'returned', 'refunding')";
/// The SQL list of the states that [`AfterSaleStatus::holds_units`].
pub const HOLDING_STATUSES_SQL: &str = "('requested', 'approved', 'returned', 'refunding', 'refunded', 'refund_failed')";

/// The refund for returning `units` of a line that still holds `held` for `remaining_units`
/// units (those not yet returned): the held amount in proportion, rounded down, and all of it
/// when the last units go back. Returning a line in several parts therefore refunds exactly
/// what was paid for it, to the fen.
pub fn refund_for_units(held: Money, remaining_units: i64, units: i64) -> Result<Money, Error> {
    if units <= 0 || units > remaining_units {
        return Err(Error::new(
            ErrorCode::InvalidQuantity,
            format!("you can return 1 to {remaining_units} of this item", remaining_units = remaining_units.max(0)),
        ));
    }
    if units == remaining_units {
        return Ok(held);
    }
    let share = i128::from(held.fen()) * i128::from(units) / i128::from(remaining_units);
    i64::try_from(share).map(Money::from_fen).map_err(|_| Error::internal("refund share overflows"))
}

/// Checks a description or decision note: trimmed, at most [`MAX_NOTE_CHARS`], and present
/// when `required`.
pub fn check_note(field: &str, text: &str, required: bool) -> Result<String, Error> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(Error::invalid(format!("{field} is required")));
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(Error::invalid(format!("{field} must be at most {MAX_NOTE_CHARS} characters")));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECEIVED: Timestamp = Timestamp(1_000_000);

    #[test]
    fn windows_include_their_last_millisecond_and_not_one_more() {
        let no_reason_end = RECEIVED.plus_ms(7 * DAY_MS);
        assert!(ReturnReason::NoReason.check_window(RECEIVED, no_reason_end).is_ok());
        let late = ReturnReason::NoReason.check_window(RECEIVED, no_reason_end.plus_ms(1)).unwrap_err();
        assert_eq!(late.code, ErrorCode::ReturnWindowClosed);
        assert!(ReturnReason::Quality.check_window(RECEIVED, no_reason_end.plus_ms(1)).is_ok());
        let quality_end = RECEIVED.plus_ms(15 * DAY_MS);
        assert!(ReturnReason::Quality.check_window(RECEIVED, quality_end).is_ok());
        assert_eq!(ReturnReason::Quality.check_window(RECEIVED, quality_end.plus_ms(1)).unwrap_err().code, ErrorCode::ReturnWindowClosed);
    }

    #[test]
    fn returning_a_line_in_parts_refunds_exactly_what_it_holds() {
        // 3 units paid ¥100.00 together: 1 + 1 + 1 returns give 33.33 + 33.33 + 33.34.
        let held = Money::from_fen(10_000);
        let first = refund_for_units(held, 3, 1).unwrap();
        let held = held.checked_sub(first).unwrap();
        let second = refund_for_units(held, 2, 1).unwrap();
        let held = held.checked_sub(second).unwrap();
        let third = refund_for_units(held, 1, 1).unwrap();
        assert_eq!([first.fen(), second.fen(), third.fen()], [3_333, 3_333, 3_334]);
        assert_eq!(refund_for_units(Money::from_fen(999), 4, 4).unwrap().fen(), 999);
    }

    #[test]
    fn units_outside_what_remains_are_refused() {
        for units in [0, -1, 4] {
            assert_eq!(refund_for_units(Money::from_fen(100), 3, units).unwrap_err().code, ErrorCode::InvalidQuantity);
        }
        assert_eq!(refund_for_units(Money::from_fen(100), 0, 1).unwrap_err().code, ErrorCode::InvalidQuantity);
    }

    #[test]
    fn final_states_go_nowhere_and_open_ones_are_the_sql_list() {
        for from in AfterSaleStatus::ALL.into_iter().filter(|s| !s.is_open() || *s == AfterSaleStatus::Refunding) {
            for to in AfterSaleStatus::ALL {
                let allowed = from == AfterSaleStatus::Refunding && matches!(to, AfterSaleStatus::Refunded | AfterSaleStatus::RefundFailed);
                assert_eq!(from.can_become(to), allowed, "{} -> {}", from.as_str(), to.as_str());
            }
        }
        let sql_list = |states: Vec<AfterSaleStatus>| {
            format!("({})", states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", "))
        };
        assert_eq!(OPEN_STATUSES_SQL, sql_list(AfterSaleStatus::OPEN.to_vec()));
        assert_eq!(HOLDING_STATUSES_SQL, sql_list(AfterSaleStatus::ALL.into_iter().filter(|s| s.holds_units()).collect()));
        assert_eq!(AfterSaleStatus::Approved.transition(AfterSaleStatus::Refunded).unwrap_err().code, ErrorCode::AfterSaleNotPending);
    }

    #[test]
    fn names_round_trip() {
        for s in AfterSaleStatus::ALL {
            assert_eq!(AfterSaleStatus::parse(s.as_str()).unwrap(), s);
        }
        for r in [ReturnReason::NoReason, ReturnReason::Quality] {
            assert_eq!(ReturnReason::parse(r.as_str()).unwrap(), r);
        }
        for r in [Resolution::ReturnAndRefund, Resolution::RefundOnly] {
            assert_eq!(Resolution::parse(r.as_str()).unwrap(), r);
        }
        assert_eq!(check_note("description", "  ", true).unwrap_err().code, ErrorCode::InvalidInput);
        assert_eq!(check_note("note", &"好".repeat(201), false).unwrap_err().code, ErrorCode::InvalidInput);
    }
}
