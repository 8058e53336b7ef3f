//! Friend bargaining (砍价, SPEC 3.6): the rules of a campaign and the sequence of cuts.
//!
//! The cuts are decided up front from the bargain's seed, so that exactly `helpers_needed`
//! helps take the price from the start to the floor: every cut is at least 1 fen, no cut is
//! larger than the one before it, and the last cut is whatever is left. The same seed always
//! gives the same cuts, so a bargain can be audited and replayed; the seed itself is drawn at
//! random when a bargain starts and never shown to the helpers.

use crate::group_buy::SkuPrices;
use crate::time::HOUR_MS;
use crate::{Error, ErrorCode, Money, Timestamp};

/// Fewest and most helps a campaign may ask for.
pub const MIN_HELPERS: i64 = 1;
pub const MAX_HELPERS: i64 = 100;
/// Shortest and longest a bargain may run, in hours (default 24).
pub const MIN_HOURS: i64 = 1;
pub const MAX_HOURS: i64 = 72;
pub const DEFAULT_HOURS: i64 = 24;

/// How a bargain may be bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyRule {
    /// At whatever the price has come down to.
    AtCurrentPrice,
    /// Only once the floor is reached.
    OnlyAtFloor,
}

impl BuyRule {
    pub const fn as_str(self) -> &'static str {
        match self {
            BuyRule::AtCurrentPrice => "current_price",
            BuyRule::OnlyAtFloor => "floor_only",
        }
    }

    pub fn parse(text: &str) -> Result<BuyRule, Error> {
        match text {
            "current_price" => Ok(BuyRule::AtCurrentPrice),
            "floor_only" => Ok(BuyRule::OnlyAtFloor),
            other => Err(Error::invalid(format!("buy rule must be current_price or floor_only, not {other:?}"))),
        }
    }
}

/// The price terms of a bargain campaign, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BargainTerms {
    pub start: Money,
    pub floor: Money,
    pub helpers_needed: i64,
}

impl BargainTerms {
    /// Checks the terms: the floor is at or above the supply price (the platform never sells
    /// below cost), below the start, and far enough below it that every help cuts at least 1 fen.
    pub fn new(start: Money, floor: Money, supply_price: Money, helpers_needed: i64) -> Result<BargainTerms, Error> {
        if !(MIN_HELPERS..=MAX_HELPERS).contains(&helpers_needed) {
            return Err(Error::invalid(format!("helpers needed must be {MIN_HELPERS} to {MAX_HELPERS}")));
        }
        if floor < supply_price {
            return Err(Error::new(ErrorCode::InvalidPrice, "the floor price is below the supply price"));
        }
        if floor.fen() <= 0 || start <= floor {
            return Err(Error::new(ErrorCode::InvalidPrice, "the start price must be above a floor price above zero"));
        }
        let room = start.checked_sub(floor)?;
        if room.fen() < helpers_needed {
            return Err(Error::new(ErrorCode::InvalidPrice, "start − floor must leave at least 1 fen for every help"));
        }
        Ok(BargainTerms { start, floor, helpers_needed })
    }

    /// The cuts, in the order the helps come. See the module docs for the rules they keep.
    pub fn cuts(&self, seed: u64) -> Result<Vec<Money>, Error> {
        let k = usize::try_from(self.helpers_needed).map_err(|_| Error::invalid("helpers needed out of range"))?;
        let room = self.start.checked_sub(self.floor)?;
        // Every help gets 1 fen; what is left is shared out by random weights that shrink from
        // the first help to the last, so early helpers feel they cut a lot.
        let spare = room.checked_sub(Money::from_fen(self.helpers_needed))?;
        let mut rng = SplitMix64(seed);
        let weights: Vec<i64> = (0..k).map(|i| (rng.next() % 1_000 + 1) as i64 * (k - i) as i64).collect();
        let mut shares = spare.allocate(&weights)?;
        shares.sort_by(|a, b| b.cmp(a));
        shares.into_iter().map(|s| s.checked_add(Money::from_fen(1))).collect()
    }
}

/// The price after `helps` cuts.
pub fn price_after(terms: &BargainTerms, cuts: &[Money], helps: usize) -> Result<Money, Error> {
    let mut price = terms.start;
    for cut in cuts.iter().take(helps) {
        price = price.checked_sub(*cut)?;
    }
    Ok(price)
}

/// A bargain campaign as its creator asks for it, before checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BargainCampaignRequest {
    pub start: Money,
    pub floor: Money,
    pub helpers_needed: i64,
    /// How long one bargain runs once started.
    pub hours: i64,
    /// The window in which bargains may be started.
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    /// Units the campaign may sell in all.
    pub stock_cap: i64,
    pub buy_rule: BuyRule,
}

impl BargainCampaignRequest {
    /// Every rule a campaign must keep, with a clear error for the first it breaks; the checked
    /// price terms on success.
    pub fn validate(&self, prices: SkuPrices, now: Timestamp) -> Result<BargainTerms, Error> {
        if self.start > prices.retail {
            return Err(Error::new(ErrorCode::InvalidPrice, "the start price is above the retail price"));
        }
        let terms = BargainTerms::new(self.start, self.floor, prices.supply, self.helpers_needed)?;
        if !(MIN_HOURS..=MAX_HOURS).contains(&self.hours) {
            return Err(Error::invalid(format!("a bargain runs {MIN_HOURS} to {MAX_HOURS} hours")));
        }
        if self.ends_at <= self.starts_at {
            return Err(Error::invalid("the campaign must end after it starts"));
        }
        if self.ends_at <= now {
            return Err(Error::invalid("the campaign window is in the past"));
        }
        if self.stock_cap < 1 {
            return Err(Error::invalid("the campaign must have at least one unit to sell"));
        }
        Ok(terms)
    }

    /// How long a bargain started in this campaign runs.
    pub fn bargain_window_ms(&self) -> i64 {
        self.hours * HOUR_MS
    }
}

/// A bargain's state as stored. Expiry is data: a running bargain past its `expires_at` reads
/// as expired at once ([`BargainStatus::read`]); `Expired` is written only when the starter
/// begins another bargain in the same campaign, to free the one-running-bargain slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BargainStatus {
    Running,
    /// The starter placed the order (paid or not yet paid).
    Bought,
    Expired,
}

impl BargainStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            BargainStatus::Running => "running",
            BargainStatus::Bought => "bought",
            BargainStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Result<BargainStatus, Error> {
        match text {
            "running" => Ok(BargainStatus::Running),
            "bought" => Ok(BargainStatus::Bought),
            "expired" => Ok(BargainStatus::Expired),
            other => Err(Error::internal(format!("unknown bargain status {other}"))),
        }
    }

    /// The status as it reads at `now`: a running bargain past its deadline is expired.
    pub fn read(self, expires_at: Timestamp, now: Timestamp) -> BargainStatus {
        match self {
            BargainStatus::Running if now >= expires_at => BargainStatus::Expired,
            other => other,
        }
    }
}

/// Why a help is refused, checked in this order; `Ok` when it may go ahead.
pub fn may_help(status: BargainStatus, helps: i64, helpers_needed: i64) -> Result<(), Error> {
    match status {
        BargainStatus::Bought => Err(Error::new(ErrorCode::BargainFinished, "this bargain has been bought")),
        _ if helps >= helpers_needed => Err(Error::new(ErrorCode::BargainFinished, "this bargain already has every help it needs")),
        BargainStatus::Expired => Err(Error::new(ErrorCode::BargainExpired, "this bargain has expired")),
        BargainStatus::Running => Ok(()),
    }
}

/// Why the starter may not buy now, or `Ok`. `status` is as read at `now`.
pub fn may_buy(status: BargainStatus, rule: BuyRule, helps: i64, helpers_needed: i64) -> Result<(), Error> {
    match status {
        BargainStatus::Bought => Err(Error::new(ErrorCode::BargainFinished, "this bargain has been bought already")),
        BargainStatus::Expired => Err(Error::new(ErrorCode::BargainExpired, "this bargain has expired")),
        BargainStatus::Running if rule == BuyRule::OnlyAtFloor && helps < helpers_needed => {
            Err(Error::new(ErrorCode::BargainFloorNotReached, "this bargain can be bought only once the floor price is reached"))
        }
        BargainStatus::Running => Ok(()),
    }
}

/// A small, fixed pseudo-random generator: the cuts must be the same on every platform and in
/// every version, which a library generator does not promise.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms(start: i64, floor: i64, k: i64) -> BargainTerms {
        BargainTerms::new(Money::from_fen(start), Money::from_fen(floor), Money::from_fen(floor), k).unwrap()
    }

    #[test]
    fn a_typical_bargain() {
        let t = terms(9_900, 100, 5);
        let cuts = t.cuts(42).unwrap();
        assert_eq!(cuts.len(), 5);
        assert_eq!(cuts.iter().map(|c| c.fen()).sum::<i64>(), 9_800);
        assert!(cuts.windows(2).all(|w| w[0] >= w[1]), "{cuts:?}");
        assert_eq!(price_after(&t, &cuts, 5).unwrap(), Money::from_fen(100));
        assert_eq!(t.cuts(42).unwrap(), cuts, "the same seed gives the same cuts");
        assert_ne!(t.cuts(43).unwrap(), cuts, "another seed gives other cuts");
    }

    #[test]
    fn bad_terms_are_refused() {
        let (start, floor, supply) = (Money::from_fen(5_000), Money::from_fen(3_000), Money::from_fen(2_000));
        assert!(BargainTerms::new(start, floor, supply, 0).is_err());
        assert!(BargainTerms::new(start, floor, supply, 101).is_err());
        assert_eq!(BargainTerms::new(start, Money::from_fen(1_000), supply, 5).unwrap_err().code, ErrorCode::InvalidPrice);
        assert_eq!(BargainTerms::new(floor, start, supply, 5).unwrap_err().code, ErrorCode::InvalidPrice);
        assert_eq!(BargainTerms::new(Money::from_fen(3_004), floor, supply, 5).unwrap_err().code, ErrorCode::InvalidPrice);
        assert!(BargainTerms::new(Money::from_fen(3_005), floor, supply, 5).is_ok(), "exactly 1 fen a help is enough");
    }

    const NOW: Timestamp = Timestamp(1_800_000_000_000);
    const PRICES: SkuPrices = SkuPrices { supply: Money::from_fen(6_000), retail: Money::from_fen(10_000) };

    fn request() -> BargainCampaignRequest {
        BargainCampaignRequest {
            start: Money::from_fen(10_000),
            floor: Money::from_fen(6_000),
            helpers_needed: 5,
            hours: DEFAULT_HOURS,
            starts_at: NOW,
            ends_at: NOW.plus_ms(7 * 24 * HOUR_MS),
            stock_cap: 10,
            buy_rule: BuyRule::AtCurrentPrice,
        }
    }

    #[test]
    fn a_sound_campaign_passes_and_each_broken_rule_is_named() {
        assert_eq!(request().validate(PRICES, NOW).unwrap().helpers_needed, 5);
        let broken = [
            (BargainCampaignRequest { start: Money::from_fen(10_001), ..request() }, ErrorCode::InvalidPrice),
            (BargainCampaignRequest { floor: Money::from_fen(5_999), ..request() }, ErrorCode::InvalidPrice),
            (BargainCampaignRequest { helpers_needed: 0, ..request() }, ErrorCode::InvalidInput),
            (BargainCampaignRequest { helpers_needed: 101, ..request() }, ErrorCode::InvalidInput),
            (BargainCampaignRequest { hours: 0, ..request() }, ErrorCode::InvalidInput),
            (BargainCampaignRequest { hours: 73, ..request() }, ErrorCode::InvalidInput),
            (BargainCampaignRequest { ends_at: NOW, ..request() }, ErrorCode::InvalidInput),
            (
                BargainCampaignRequest { starts_at: NOW.plus_ms(-2 * HOUR_MS), ends_at: NOW.plus_ms(-HOUR_MS), ..request() },
                ErrorCode::InvalidInput,
            ),
            (BargainCampaignRequest { stock_cap: 0, ..request() }, ErrorCode::InvalidInput),
        ];
        for (request, code) in broken {
            assert_eq!(request.validate(PRICES, NOW).unwrap_err().code, code, "{request:?}");
        }
    }

    #[test]
    fn expiry_is_read_from_the_deadline_and_the_rules_refuse_in_order() {
        let deadline = NOW.plus_ms(HOUR_MS);
        assert_eq!(BargainStatus::Running.read(deadline, NOW), BargainStatus::Running);
        assert_eq!(BargainStatus::Running.read(deadline, deadline), BargainStatus::Expired);
        assert_eq!(BargainStatus::Bought.read(deadline, deadline), BargainStatus::Bought);
        assert!(may_help(BargainStatus::Running, 4, 5).is_ok());
        assert_eq!(may_help(BargainStatus::Running, 5, 5).unwrap_err().code, ErrorCode::BargainFinished);
        assert_eq!(may_help(BargainStatus::Bought, 1, 5).unwrap_err().code, ErrorCode::BargainFinished);
        assert_eq!(may_help(BargainStatus::Expired, 1, 5).unwrap_err().code, ErrorCode::BargainExpired);
        assert!(may_buy(BargainStatus::Running, BuyRule::AtCurrentPrice, 0, 5).is_ok());
        assert_eq!(may_buy(BargainStatus::Running, BuyRule::OnlyAtFloor, 4, 5).unwrap_err().code, ErrorCode::BargainFloorNotReached);
        assert!(may_buy(BargainStatus::Running, BuyRule::OnlyAtFloor, 5, 5).is_ok());
        assert_eq!(may_buy(BargainStatus::Expired, BuyRule::AtCurrentPrice, 5, 5).unwrap_err().code, ErrorCode::BargainExpired);
        assert_eq!(may_buy(BargainStatus::Bought, BuyRule::AtCurrentPrice, 5, 5).unwrap_err().code, ErrorCode::BargainFinished);
        for status in [BargainStatus::Running, BargainStatus::Bought, BargainStatus::Expired] {
            assert_eq!(BargainStatus::parse(status.as_str()).unwrap(), status);
        }
    }

    proptest! {
        /// For any start, floor and K within the limits: exactly K cuts reach the floor, every
        /// cut at least 1 fen, never larger than the one before, summing to start − floor.
        #[test]
        fn exactly_k_helps_reach_the_floor(floor in 1i64..1_000_000, room in 0i64..10_000_000, k in MIN_HELPERS..=MAX_HELPERS, seed in any::<u64>()) {
            let start = floor + k + room;
            let t = terms(start, floor, k);
            let cuts = t.cuts(seed).unwrap();
            prop_assert_eq!(cuts.len() as i64, k);
            prop_assert!(cuts.iter().all(|c| c.fen() >= 1));
            prop_assert!(cuts.windows(2).all(|w| w[0] >= w[1]));
            prop_assert_eq!(cuts.iter().map(|c| c.fen()).sum::<i64>(), start - floor);
            for helps in 0..cuts.len() {
                prop_assert!(price_after(&t, &cuts, helps).unwrap() > t.floor, "the floor only after the last help");
            }
            prop_assert_eq!(price_after(&t, &cuts, cuts.len()).unwrap(), t.floor);
        }
    }
}
