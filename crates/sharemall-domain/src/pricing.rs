//! The server-side pricing pipeline (SPEC 3.4): base price → activity price → member discount →
//! coupon → shipping. The client never sends a price; it sends SKUs and quantities, and this
//! pipeline decides what they cost from stored prices.
//!
//! Each stage is a plain value in [`Adjustments`]; a stage that does not apply is `None`. The
//! group-buy, bargain, membership and coupon capabilities fill these in; the pipeline's order and
//! arithmetic stay here.

use serde::Serialize;

use crate::error::Error;
use crate::ids::SkuId;
use crate::money::Money;

/// One order line as priced from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    pub sku_id: SkuId,
    pub quantity: i64,
    /// The platform's retail price for the SKU, read from the catalogue at pricing time.
    pub unit_price: Money,
}

/// A special per-unit price for one SKU from a running activity (group buy, bargain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPrice {
    pub sku_id: SkuId,
    pub unit_price: Money,
}

/// A coupon's discount on the goods amount, already checked for eligibility by its capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponDiscount {
    /// Minimum goods amount for the coupon to apply (满减 threshold).
    pub threshold: Money,
    pub amount: Money,
}

/// Platform shipping policy: a flat fee, waived at or above a goods amount (满额包邮).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingRule {
    pub flat_fee: Money,
    pub free_at_or_above: Money,
}

impl ShippingRule {
    pub const FREE: ShippingRule = ShippingRule { flat_fee: Money::ZERO, free_at_or_above: Money::ZERO };

    fn fee_for(self, goods: Money) -> Money {
        if goods >= self.free_at_or_above { Money::ZERO } else { self.flat_fee }
    }
}

/// Everything beyond the base price that may change what an order costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustments {
    pub activity: Option<ActivityPrice>,
    /// Member discount in basis points off the goods amount (e.g. 1500 = 15% off).
    pub member_discount_bps: Option<i64>,
    pub coupon: Option<CouponDiscount>,
    pub shipping: ShippingRule,
}

impl Adjustments {
    pub const NONE: Adjustments = Adjustments { activity: None, member_discount_bps: None, coupon: None, shipping: ShippingRule::FREE };
}

/// What an order costs, stage by stage, exact to the fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceBreakdown {
    pub base_fen: i64,
    pub activity_discount_fen: i64,
    pub member_discount_fen: i64,
    pub coupon_discount_fen: i64,
    /// Goods amount the customer actually pays, after every discount: the commission base.
    pub goods_fen: i64,
    pub shipping_fen: i64,
    pub payable_fen: i64,
    /// `goods_fen` split over the lines in proportion to their value, summing exactly.
    pub line_goods_fen: Vec<i64>,
}

/// Runs the pipeline.
pub fn price(lines: &[LineInput], adjustments: &Adjustments) -> Result<PriceBreakdown, Error> {
    let mut base = Money::ZERO;
    let mut after_activity = Money::ZERO;
    let mut line_values = Vec::with_capacity(lines.len());
    for line in lines {
        let line_base = line.unit_price.checked_mul(line.quantity)?;
        base = base.checked_add(line_base)?;
        let unit = match &adjustments.activity {
            Some(activity) if activity.sku_id == line.sku_id => activity.unit_price.min(line.unit_price),
            _ => line.unit_price,
        };
        let line_value = unit.checked_mul(line.quantity)?;
        after_activity = after_activity.checked_add(line_value)?;
        line_values.push(line_value.fen());
    }
    let member_discount = match adjustments.member_discount_bps {
        Some(bps) => after_activity.apply_bps(bps.clamp(0, 10_000))?,
        None => Money::ZERO,
    };
    let after_member = after_activity.checked_sub(member_discount)?;
    let coupon_discount = match &adjustments.coupon {
        Some(coupon) if after_member >= coupon.threshold => coupon.amount.clamp(Money::ZERO, after_member),
        _ => Money::ZERO,
    };
    let goods = after_member.checked_sub(coupon_discount)?;
    let shipping = adjustments.shipping.fee_for(goods);
    let line_goods_fen = if after_activity > Money::ZERO {
        goods.allocate(&line_values)?.into_iter().map(Money::fen).collect()
    } else {
        vec![0; lines.len()]
    };
    Ok(PriceBreakdown {
        base_fen: base.fen(),
        activity_discount_fen: base.checked_sub(after_activity)?.fen(),
        member_discount_fen: member_discount.fen(),
        coupon_discount_fen: coupon_discount.fen(),
        goods_fen: goods.fen(),
        shipping_fen: shipping.fen(),
        payable_fen: goods.checked_add(shipping)?.fen(),
        line_goods_fen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(price: i64, qty: i64) -> LineInput {
        LineInput { sku_id: SkuId::new(), quantity: qty, unit_price: Money::from_fen(price) }
    }

    #[test]
    fn every_stage_applies_in_order() {
        let lines = vec![line(10_000, 1), line(5_000, 2)];
        let adjustments = Adjustments {
            activity: Some(ActivityPrice { sku_id: lines[0].sku_id, unit_price: Money::from_fen(8_000) }),
            member_discount_bps: Some(1_000),
            coupon: Some(CouponDiscount { threshold: Money::from_fen(10_000), amount: Money::from_fen(2_000) }),
            shipping: ShippingRule { flat_fee: Money::from_fen(600), free_at_or_above: Money::from_fen(9_900) },
        };
        let p = price(&lines, &adjustments).map_err(|e| e.to_string());
        let p = p.as_ref().map(|p| {
            (p.base_fen, p.activity_discount_fen, p.member_discount_fen, p.coupon_discount_fen, p.goods_fen, p.shipping_fen, p.payable_fen)
        });
        assert_eq!(p, Ok((20_000, 2_000, 1_800, 2_000, 14_200, 0, 14_200)));
    }

    #[test]
    fn shipping_charged_below_threshold() {
        let rule = ShippingRule { flat_fee: Money::from_fen(600), free_at_or_above: Money::from_fen(4_900) };
        let p = price(&[line(1_990, 1)], &Adjustments { shipping: rule, ..Adjustments::NONE }).map(|p| p.payable_fen);
        assert_eq!(p, Ok(2_590));
    }

    proptest! {
        #[test]
        fn lines_sum_to_goods(prices in proptest::collection::vec((1i64..1_000_000, 1i64..999), 1..50), coupon in 0i64..10_000_000, bps in 0i64..10_000) {
            let lines: Vec<_> = prices.iter().map(|(p, q)| line(*p, *q)).collect();
            let adjustments = Adjustments {
                member_discount_bps: Some(bps),
                coupon: Some(CouponDiscount { threshold: Money::ZERO, amount: Money::from_fen(coupon) }),
                ..Adjustments::NONE
            };
            let p = price(&lines, &adjustments).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(p.line_goods_fen.iter().sum::<i64>(), p.goods_fen);
            prop_assert!(p.goods_fen >= 0);
            prop_assert_eq!(p.base_fen - p.activity_discount_fen - p.member_discount_fen - p.coupon_discount_fen, p.goods_fen);
        }
    }
}
