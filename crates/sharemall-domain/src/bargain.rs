//! Friend bargaining (砍价, SPEC 3.6): the rules of a campaign and the sequence of cuts.
//!
//! The cuts are decided up front from the bargain's seed, so that exactly `helpers_needed`
//! helps take the price from the start to the floor: every cut is at least 1 fen, no cut is
//! larger than the one before it, and the last cut is whatever is left. The same seed always
//! gives the same cuts, so a bargain can be audited and replayed; the seed itself is drawn at
//! random when a bargain starts and never shown to the helpers.

use crate::{Error, ErrorCode, Money};

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
