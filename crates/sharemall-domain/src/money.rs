//! Money as integer fen (分, 1/100 CNY). Never a float; overflow is an error, never a wrap.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, ErrorCode};

/// An amount of CNY in fen. Signed, because balances and adjustments can be negative;
/// prices and order amounts are validated to be positive where they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

/// The largest amount any single price or order may carry: ¥10,000,000.00.
/// Far below `i64::MAX`, so sums of a bounded number of lines can never overflow silently.
pub const MAX_AMOUNT_FEN: i64 = 1_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Result<Money, Error> {
        self.0.checked_add(other.0).map(Money).ok_or_else(overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, Error> {
        self.0.checked_sub(other.0).map(Money).ok_or_else(overflow)
    }

    pub fn checked_mul(self, times: i64) -> Result<Money, Error> {
        self.0.checked_mul(times).map(Money).ok_or_else(overflow)
    }

    /// `self × bps / 10_000`, rounded down to the fen. Rates are basis points (1 bp = 0.01%).
    pub fn apply_bps(self, bps: i64) -> Result<Money, Error> {
        let product = i128::from(self.0) * i128::from(bps) / 10_000;
        i64::try_from(product).map(Money).map_err(|_| overflow())
    }

    /// Splits `self` into parts proportional to `weights`, exact to the fen: the parts always sum
    /// to `self`. Uses the largest-remainder method; ties go to the earlier weight, so the result
    /// is deterministic.
    pub fn allocate(self, weights: &[i64]) -> Result<Vec<Money>, Error> {
        let total_weight: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        if weights.is_empty() || total_weight <= 0 || weights.iter().any(|w| *w < 0) {
            return Err(Error::new(ErrorCode::InvalidInput, "allocation needs non-negative weights with a positive sum"));
        }
        let amount = i128::from(self.0);
        let mut parts: Vec<i128> = weights.iter().map(|w| amount * i128::from(*w) / total_weight).collect();
        let mut remainders: Vec<(usize, i128)> =
            weights.iter().enumerate().map(|(i, w)| (i, (amount * i128::from(*w)) % total_weight)).collect();
        remainders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut left = amount - parts.iter().sum::<i128>();
        for (index, _) in remainders {
            if left == 0 {
                break;
            }
            parts[index] += left.signum();
            left -= left.signum();
        }
        parts.into_iter().map(|p| i64::try_from(p).map(Money).map_err(|_| overflow())).collect()
    }

    /// `12.34` style, without a currency sign: what a price label shows after "¥".
    pub fn yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses `"12.34"`, `"12.3"` or `"12"` yuan into fen, exactly (no float on the way).
    pub fn parse_yuan(text: &str) -> Result<Money, Error> {
        let text = text.trim();
        let invalid = || Error::new(ErrorCode::InvalidInput, format!("'{text}' is not an amount in yuan such as 12.50"));
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let frac_fen: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| invalid())? * 10,
            _ => frac.parse().map_err(|_| invalid())?,
        };
        let fen = whole.checked_mul(100).and_then(|w| w.checked_add(frac_fen)).ok_or_else(invalid)?;
        if fen > MAX_AMOUNT_FEN {
            return Err(invalid());
        }
        Ok(Money(fen))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.yuan_string())
    }
}

fn overflow() -> Error {
    Error::new(ErrorCode::AmountOutOfRange, "amount out of range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yuan_round_trip() {
        assert_eq!(Money::parse_yuan("12.5").map(Money::fen).ok(), Some(1250));
        assert_eq!(Money::parse_yuan("0.07").map(Money::fen).ok(), Some(7));
        assert_eq!(Money::from_fen(-5).yuan_string(), "-0.05");
        assert!(Money::parse_yuan("1.234").is_err());
        assert!(Money::parse_yuan("-1").is_err());
        assert!(Money::parse_yuan("1e3").is_err());
        assert!(Money::parse_yuan("99999999999999999999").is_err());
    }

    proptest! {
        #[test]
        fn allocation_sums_exactly(amount in -1_000_000_000i64..1_000_000_000, weights in proptest::collection::vec(0i64..100_000, 1..12)) {
            prop_assume!(weights.iter().sum::<i64>() > 0);
            let parts = Money::from_fen(amount).allocate(&weights).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parts.iter().map(|p| p.fen()).sum::<i64>(), amount);
            let total: i64 = weights.iter().sum();
            for (part, weight) in parts.iter().zip(&weights) {
                let exact = i128::from(amount) * i128::from(*weight) / i128::from(total);
                prop_assert!((i128::from(part.fen()) - exact).abs() <= 1);
            }
        }
    }
}
