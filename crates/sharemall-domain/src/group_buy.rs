//! Group buying (拼团, SPEC 3.5): the rules of a campaign and what a group's state is.
//!
//! A group's seats are counted, never assumed: paid members plus seats held by unpaid orders
//! never exceed the group's size. Expiry is data: an open group whose `expires_at` has passed
//! reads as expired at once, whether or not the sweeper has run yet.

use crate::time::HOUR_MS;
use crate::{Error, ErrorCode, Money, Timestamp};

/// Smallest and largest group.
pub const MIN_SIZE: i64 = 2;
pub const MAX_SIZE: i64 = 100;
/// How long a group may stay open, in hours (default 24).
pub const MIN_HOURS: i64 = 1;
pub const MAX_HOURS: i64 = 72;
pub const DEFAULT_HOURS: i64 = 24;
/// Most units one customer may buy across a campaign's groups.
pub const MAX_PER_CUSTOMER: i64 = 99;

/// A campaign as its creator asks for it, before checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRequest {
    pub size: i64,
    pub group_price: Money,
    pub hours: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Units the campaign may sell in all.
    pub stock_cap: i64,
    pub per_customer_limit: i64,
    /// 老带新: only customers who have never paid for an order may join (anyone may open).
    pub new_customers_only: bool,
    /// When set, a group that expires with at least this many paid members succeeds as a
    /// "platform-completed group" instead of failing. Off by default.
    pub auto_complete_at: Option<i64>,
}

/// What a campaign's SKU costs and sells for, for the price checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkuPrices {
    pub supply: Money,
    pub retail: Money,
}

impl CampaignRequest {
    /// Every rule a campaign must keep, with a clear error for the first it breaks.
    pub fn validate(&self, prices: SkuPrices, now: Timestamp) -> Result<(), Error> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&self.size) {
            return Err(Error::invalid(format!("group size must be {MIN_SIZE} to {MAX_SIZE}")));
        }
        if self.group_price < prices.supply {
            return Err(Error::new(ErrorCode::InvalidPrice, "the group price is below the supply price"));
        }
        if self.group_price > prices.retail || self.group_price.fen() <= 0 {
            return Err(Error::new(ErrorCode::InvalidPrice, "the group price must be above zero and at most the retail price"));
        }
        if !(MIN_HOURS..=MAX_HOURS).contains(&self.hours) {
            return Err(Error::invalid(format!("a group stays open {MIN_HOURS} to {MAX_HOURS} hours")));
        }
        if self.ends_at <= self.starts_at {
            return Err(Error::invalid("the campaign must end after it starts"));
        }
        if self.ends_at <= now {
            return Err(Error::invalid("the campaign window is in the past"));
        }
        if self.stock_cap < self.size {
            return Err(Error::invalid("the campaign's stock must fill at least one group"));
        }
        if !(1..=MAX_PER_CUSTOMER).contains(&self.per_customer_limit) {
            return Err(Error::invalid(format!("the per-customer limit must be 1 to {MAX_PER_CUSTOMER}")));
        }
        if let Some(threshold) = self.auto_complete_at
            && !(MIN_SIZE - 1..self.size).contains(&threshold)
        {
            return Err(Error::invalid("auto-complete needs a threshold of 1 to one less than the group size"));
        }
        Ok(())
    }

    /// How long a group opened in this campaign stays open.
    pub fn group_window_ms(&self) -> i64 {
        self.hours * HOUR_MS
    }
}

/// A group's state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    Open,
    Succeeded,
    /// Succeeded at expiry under the campaign's auto-complete threshold: shown as such, never
    /// with invented members.
    PlatformCompleted,
    Failed,
}

impl GroupStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            GroupStatus::Open => "open",
            GroupStatus::Succeeded => "succeeded",
            GroupStatus::PlatformCompleted => "platform_completed",
            GroupStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<GroupStatus, Error> {
        match text {
            "open" => Ok(GroupStatus::Open),
            "succeeded" => Ok(GroupStatus::Succeeded),
            "platform_completed" => Ok(GroupStatus::PlatformCompleted),
            "failed" => Ok(GroupStatus::Failed),
            other => Err(Error::internal(format!("unknown group status {other}"))),
        }
    }

    /// Orders of a group in this state may ship.
    pub const fn may_ship(self) -> bool {
        matches!(self, GroupStatus::Succeeded | GroupStatus::PlatformCompleted)
    }
}

/// What a group is now: an open group past its `expires_at` reads as expired at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupView {
    Open { seats_left: i64 },
    Expired,
    Settled(GroupStatus),
}

/// A group's seats and deadline, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub size: i64,
    pub paid: i64,
    /// Seats held by joiners' unpaid orders.
    pub held: i64,
}

impl Seats {
    /// Seats neither paid for nor held. Never negative: paid + held ≤ size is the invariant.
    pub fn free(self) -> i64 {
        (self.size - self.paid - self.held).max(0)
    }

    pub fn full(self) -> bool {
        self.paid >= self.size
    }
}

pub fn view(status: GroupStatus, seats: Seats, expires_at: Timestamp, now: Timestamp) -> GroupView {
    match status {
        GroupStatus::Open if now >= expires_at => GroupView::Expired,
        GroupStatus::Open => GroupView::Open { seats_left: seats.free() },
        settled => GroupView::Settled(settled),
    }
}

/// What happens to an expired open group: it fails, unless the campaign's auto-complete
/// threshold is met by paid members.
pub fn outcome_at_expiry(seats: Seats, auto_complete_at: Option<i64>) -> GroupStatus {
    match auto_complete_at {
        Some(threshold) if seats.paid >= threshold => GroupStatus::PlatformCompleted,
        _ => GroupStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn request() -> CampaignRequest {
        CampaignRequest {
            size: 3,
            group_price: Money::from_fen(2_990),
            hours: DEFAULT_HOURS,
            starts_at: NOW,
            ends_at: NOW.plus_ms(7 * 24 * HOUR_MS),
            stock_cap: 300,
            per_customer_limit: 2,
            new_customers_only: false,
            auto_complete_at: None,
        }
    }

    const PRICES: SkuPrices = SkuPrices { supply: Money::from_fen(2_000), retail: Money::from_fen(3_990) };

    #[test]
    fn a_sound_campaign_passes_and_each_broken_rule_is_named() {
        assert!(request().validate(PRICES, NOW).is_ok());
        let broken = [
            CampaignRequest { size: 1, ..request() },
            CampaignRequest { size: 101, ..request() },
            CampaignRequest { group_price: Money::from_fen(1_999), ..request() },
            CampaignRequest { group_price: Money::from_fen(3_991), ..request() },
            CampaignRequest { hours: 0, ..request() },
            CampaignRequest { hours: 73, ..request() },
            CampaignRequest { ends_at: NOW, ..request() },
            CampaignRequest { starts_at: NOW.plus_ms(-10 * HOUR_MS), ends_at: NOW.plus_ms(-HOUR_MS), ..request() },
            CampaignRequest { stock_cap: 2, ..request() },
            CampaignRequest { per_customer_limit: 0, ..request() },
            CampaignRequest { auto_complete_at: Some(3), ..request() },
        ];
        for (i, campaign) in broken.iter().enumerate() {
            assert!(campaign.validate(PRICES, NOW).is_err(), "case {i} should be refused: {campaign:?}");
        }
        let below_cost = CampaignRequest { group_price: Money::from_fen(1_999), ..request() }.validate(PRICES, NOW);
        assert_eq!(below_cost.unwrap_err().code, ErrorCode::InvalidPrice);
    }

    #[test]
    fn an_overdue_group_reads_as_expired_at_once() {
        let seats = Seats { size: 3, paid: 1, held: 1 };
        let expires = NOW.plus_ms(1);
        assert_eq!(view(GroupStatus::Open, seats, expires, NOW), GroupView::Open { seats_left: 1 });
        assert_eq!(view(GroupStatus::Open, seats, expires, expires), GroupView::Expired);
        assert_eq!(view(GroupStatus::Succeeded, seats, expires, expires), GroupView::Settled(GroupStatus::Succeeded));
    }

    #[test]
    fn expiry_fails_unless_the_threshold_is_met() {
        let seats = Seats { size: 5, paid: 3, held: 0 };
        assert_eq!(outcome_at_expiry(seats, None), GroupStatus::Failed);
        assert_eq!(outcome_at_expiry(seats, Some(4)), GroupStatus::Failed);
        assert_eq!(outcome_at_expiry(seats, Some(3)), GroupStatus::PlatformCompleted);
        assert!(GroupStatus::PlatformCompleted.may_ship() && !GroupStatus::Failed.may_ship() && !GroupStatus::Open.may_ship());
    }
}
