//! Orders (SPEC 3.4): the state machine and the limits on what a customer can order.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::time::{DAY_MS, MINUTE_MS};

pub const MAX_QUANTITY_PER_LINE: i64 = 999;
pub const MAX_LINES_PER_ORDER: usize = 50;
/// Default time a customer has to pay before the order cancels and releases its stock.
pub const DEFAULT_PAY_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// Default time after shipping when receipt is confirmed for a customer who didn't.
pub const DEFAULT_AUTO_RECEIVE_MS: i64 = 10 * DAY_MS;
/// The 7-day no-reason return window, counted from receipt.
pub const RETURN_WINDOW_MS: i64 = 7 * DAY_MS;

/// Where an order is in its life. Transitions are only those [`OrderStatus::can_become`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, stock reserved, waiting for payment.
    Created,
    /// A group-buy order, paid, waiting for its group to fill (待成团). It never ships from
    /// here: it moves to `to_ship` when the group succeeds, or is refunded when it fails.
    AwaitingGroup,
    /// Paid; waiting for the supplier to ship.
    ToShip,
    Shipped,
    Received,
    /// The no-reason return window closed; a quality return (15 days) may still refund it.
    Completed,
    /// Cancelled before payment: stock released.
    Cancelled,
    /// A full refund is under way.
    Refunding,
    /// Fully refunded: final.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::Created,
        OrderStatus::AwaitingGroup,
        OrderStatus::ToShip,
        OrderStatus::Shipped,
        OrderStatus::Received,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunding,
        OrderStatus::Refunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::AwaitingGroup => "awaiting_group",
            OrderStatus::ToShip => "to_ship",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Received => "received",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunding => "refunding",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Result<OrderStatus, Error> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| Error::internal(format!("unknown order status {text}")))
    }

    /// Whether payment has been taken for an order in this state (and not fully returned).
    pub const fn is_paid(self) -> bool {
        matches!(
            self,
            OrderStatus::AwaitingGroup
                | OrderStatus::ToShip
                | OrderStatus::Shipped
                | OrderStatus::Received
                | OrderStatus::Completed
                | OrderStatus::Refunding
        )
    }

    /// Whether the order's reserved stock still counts as reserved (not yet sold, not released).
    pub const fn holds_reservation(self) -> bool {
        matches!(self, OrderStatus::Created)
    }

    /// The legal transitions. Everything else is `invalid_order_state`.
    pub const fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Created, ToShip)
                | (Created, AwaitingGroup)
                | (AwaitingGroup, ToShip)
                | (AwaitingGroup, Refunding)
                | (Created, Cancelled)
                | (ToShip, Shipped)
                | (ToShip, Refunding)
                | (Shipped, Received)
                | (Shipped, Refunding)
                | (Received, Completed)
                | (Received, Refunding)
                // A quality return of everything may come after the 7-day window closed.
                | (Completed, Refunding)
                | (Refunding, Refunded)
        )
    }

    pub fn transition(self, next: OrderStatus) -> Result<OrderStatus, Error> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(Error::new(ErrorCode::InvalidOrderState, format!("an order that is {} cannot become {}", self.as_str(), next.as_str())))
        }
    }
}

/// Checks one line's quantity: 1 to [`MAX_QUANTITY_PER_LINE`].
pub fn check_quantity(quantity: i64) -> Result<i64, Error> {
    if (1..=MAX_QUANTITY_PER_LINE).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(Error::new(ErrorCode::InvalidQuantity, format!("quantity must be 1 to {MAX_QUANTITY_PER_LINE}")))
    }
}

/// Checks the number of lines in one order.
pub fn check_line_count(lines: usize) -> Result<(), Error> {
    match lines {
        0 => Err(Error::new(ErrorCode::EmptyCart, "the order has no items")),
        n if n > MAX_LINES_PER_ORDER => {
            Err(Error::new(ErrorCode::CartTooLarge, format!("an order holds at most {MAX_LINES_PER_ORDER} lines")))
        }
        _ => Ok(()),
    }
}

/// Checks a tracking number: 6–40 letters, digits or dashes.
pub fn check_tracking_no(text: &str) -> Result<String, Error> {
    let text = text.trim();
    let ok = (6..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { Ok(text.to_string()) } else { Err(Error::invalid("tracking number must be 6 to 40 letters, digits or dashes")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_go_nowhere() {
        for terminal in [OrderStatus::Cancelled, OrderStatus::Refunded] {
            for next in OrderStatus::ALL {
                assert!(!terminal.can_become(next));
            }
        }
        // The window has closed: only a quality return of everything still refunds it.
        for next in OrderStatus::ALL {
            assert_eq!(OrderStatus::Completed.can_become(next), next == OrderStatus::Refunding);
        }
    }

    #[test]
    fn unpaid_orders_cannot_ship() {
        assert!(OrderStatus::Created.transition(OrderStatus::Shipped).is_err());
        assert!(OrderStatus::Created.transition(OrderStatus::ToShip).is_ok());
        // A group order waits for its group: it ships only after moving to `to_ship`.
        assert!(OrderStatus::AwaitingGroup.transition(OrderStatus::Shipped).is_err());
        assert!(OrderStatus::AwaitingGroup.transition(OrderStatus::Cancelled).is_err());
        assert!(OrderStatus::AwaitingGroup.is_paid());
    }

    #[test]
    fn quantity_bounds() {
        for bad in [0, -1, 1000, i64::MAX] {
            assert_eq!(check_quantity(bad).map_err(|e| e.code), Err(ErrorCode::InvalidQuantity));
        }
        assert!(check_quantity(1).is_ok());
    }
}
