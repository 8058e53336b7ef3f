//! Supply catalogue rules (SPEC 3.1): products, SKUs, prices, commission, stock.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};
use crate::money::{MAX_AMOUNT_FEN, Money};

/// The ceiling on commission for one order line: 30% of the goods amount (SPEC 3.8).
pub const COMMISSION_CAP_BPS: i64 = 3_000;
/// Stock a single SKU may hold; bounds every sum over stock.
pub const MAX_STOCK: i64 = 100_000_000;
pub const MAX_SKUS_PER_PRODUCT: usize = 100;

/// Approval state shared by suppliers and products: nothing sells before an operator approves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Pending,
    Approved,
    Rejected,
}

impl Approval {
    pub const fn as_str(self) -> &'static str {
        match self {
            Approval::Pending => "pending",
            Approval::Approved => "approved",
            Approval::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Result<Approval, Error> {
        match text {
            "pending" => Ok(Approval::Pending),
            "approved" => Ok(Approval::Approved),
            "rejected" => Ok(Approval::Rejected),
            other => Err(Error::internal(format!("unknown approval state {other}"))),
        }
    }
}

/// A SKU as a supplier submits it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSku {
    /// Human-readable attributes, e.g. `颜色:红色; 尺码:XL`.
    pub attributes: String,
    pub supply_price: Money,
    pub retail_price: Money,
    pub commission_bps: i64,
    pub stock: i64,
    /// Whether the 7-day no-reason return applies (not for fresh food, custom-made goods…).
    pub returnable: bool,
}

impl NewSku {
    pub fn validate(self) -> Result<NewSku, Error> {
        let positive = |m: Money| m.fen() > 0 && m.fen() <= MAX_AMOUNT_FEN;
        if !positive(self.supply_price) || !positive(self.retail_price) {
            return Err(Error::new(ErrorCode::InvalidPrice, "prices must be between ¥0.01 and ¥10,000,000"));
        }
        if self.supply_price > self.retail_price {
            return Err(Error::new(ErrorCode::InvalidPrice, "supply price must not exceed the retail price"));
        }
        if !(0..=COMMISSION_CAP_BPS).contains(&self.commission_bps) {
            return Err(Error::new(ErrorCode::CommissionAboveCap, "commission rate must be 0–3000 bp (at most 30%)"));
        }
        // The commission is paid out of the margin: a rate that exceeds it would make the
        // platform pay to sell.
        let commission = self.retail_price.apply_bps(self.commission_bps)?;
        if commission > self.retail_price.checked_sub(self.supply_price)? {
            return Err(Error::new(ErrorCode::CommissionAboveCap, "commission must not exceed the margin between retail and supply price"));
        }
        if !(0..=MAX_STOCK).contains(&self.stock) {
            return Err(Error::new(ErrorCode::InvalidQuantity, "stock must be 0 to 100,000,000"));
        }
        let attributes = self.attributes.trim().to_string();
        if attributes.chars().count() > 120 {
            return Err(Error::invalid("SKU attributes must be at most 120 characters"));
        }
        Ok(NewSku { attributes, ..self })
    }
}

/// Checks a product title (1–60 characters) and returns it trimmed.
pub fn check_title(title: &str) -> Result<String, Error> {
    let title = title.trim();
    let count = title.chars().count();
    if count == 0 || count > 60 || title.chars().any(char::is_control) {
        return Err(Error::invalid("title must be 1 to 60 characters"));
    }
    Ok(title.to_string())
}

/// Checks free text such as a description (at most `max` characters).
pub fn check_text(field: &str, text: &str, max: usize) -> Result<String, Error> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(Error::invalid(format!("{field} must be at most {max} characters")));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(supply: i64, retail: i64, bps: i64) -> NewSku {
        NewSku {
            attributes: "默认".into(),
            supply_price: Money::from_fen(supply),
            retail_price: Money::from_fen(retail),
            commission_bps: bps,
            stock: 10,
            returnable: true,
        }
    }

    #[test]
    fn sku_rules() {
        assert!(sku(500, 1000, 1000).validate().is_ok());
        assert_eq!(sku(1000, 500, 0).validate().map_err(|e| e.code), Err(ErrorCode::InvalidPrice));
        assert_eq!(sku(500, 1000, 3001).validate().map_err(|e| e.code), Err(ErrorCode::CommissionAboveCap));
        assert_eq!(sku(900, 1000, 2000).validate().map_err(|e| e.code), Err(ErrorCode::CommissionAboveCap));
        assert_eq!(sku(0, 1000, 0).validate().map_err(|e| e.code), Err(ErrorCode::InvalidPrice));
    }
}
