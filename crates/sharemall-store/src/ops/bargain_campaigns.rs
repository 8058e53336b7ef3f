//! Bargain campaigns (砍价活动, SPEC 3.6): creating one on a sellable SKU, reading and listing
//! them, ending one early. Bargains themselves are in [`super::bargains`].

use sharemall_domain::bargain::BargainCampaignRequest;
use sharemall_domain::group_buy::SkuPrices;
use sharemall_domain::{BargainCampaignId, Error, ErrorCode, ProductId, ShopId, SkuId, Timestamp, UserId};

use crate::model::BargainCampaign;
use crate::ops::group_campaigns::{CampaignFilter, MAX_PAGE, MAX_PER_PAGE};
use crate::ops::shops;
use crate::params;
use crate::sql::{Row, Sql, Value};

/// A campaign to create: who asked, where it runs, and the rules as asked.
#[derive(Debug, Clone)]
pub struct NewBargainCampaign {
    /// `None`: a platform campaign.
    pub shop: Option<ShopId>,
    pub sku: SkuId,
    pub request: BargainCampaignRequest,
    pub created_by: UserId,
}

/// Reads the SKU's product and prices, refusing one whose product or supplier is not approved,
/// as order placement would: a campaign on goods nobody may buy would only fail later.
fn campaign_sku(sql: &mut dyn Sql, sku: SkuId) -> Result<(ProductId, SkuPrices), Error> {
    let row = sql
        .query_opt(
            "SELECT s.product_id, s.supply_fen, s.retail_fen, p.approval, sup.approval \
             FROM skus s JOIN products p ON p.id = s.product_id JOIN suppliers sup ON sup.id = p.supplier_id WHERE s.id = $1",
            params![sku],
        )?
        .ok_or_else(|| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
    if row.text(3)? != "approved" {
        return Err(Error::new(ErrorCode::ProductNotApproved, "this product is not approved for sale yet"));
    }
    if row.text(4)? != "approved" {
        return Err(Error::new(ErrorCode::SupplierNotApproved, "this product's supplier is not approved"));
    }
    Ok((row.id(0)?, SkuPrices { supply: row.money(1)?, retail: row.money(2)? }))
}

/// Creates a campaign after checking the SKU is sellable, a shop campaign's shop carries it,
/// and every campaign rule holds (start ≤ retail, floor ≥ supply, K, hours, window, stock).
pub fn create_campaign(sql: &mut dyn Sql, now: Timestamp, new: &NewBargainCampaign) -> Result<BargainCampaignId, Error> {
    let (product, prices) = campaign_sku(sql, new.sku)?;
    if let Some(shop) = new.shop {
        shops::load_shop(sql, shop)?;
        if !shops::carries(sql, shop, product)? {
            return Err(Error::new(ErrorCode::SkuNotOnSale, "this shop does not carry this product"));
        }
    }
    let r = &new.request;
    r.validate(prices, now)?;
    let id = BargainCampaignId::new();
    sql.execute(
        "INSERT INTO bargain_campaigns (id, shop_id, sku_id, product_id, start_fen, floor_fen, helpers_needed, bargain_hours, \
         starts_at, ends_at, stock_cap, stock_used, buy_rule, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14)",
        params![
            id,
            new.shop,
            new.sku,
            product,
            r.start,
            r.floor,
            r.helpers_needed,
            r.hours,
            r.starts_at,
            r.ends_at,
            r.stock_cap,
            r.buy_rule.as_str(),
            new.created_by,
            now
        ],
    )?;
    Ok(id)
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.shop_id, c.sku_id, c.product_id, c.start_fen, c.floor_fen, c.helpers_needed, c.bargain_hours, \
     c.starts_at, c.ends_at, c.stock_cap, c.stock_used, c.buy_rule, c.created_at, c.ended_at";

fn campaign_row(row: &Row) -> Result<BargainCampaign, Error> {
    Ok(BargainCampaign {
        id: row.id(0)?,
        shop_id: row.opt_text(1)?.map(|text| text.parse().map_err(|e| Error::internal(format!("bad shop id {text}: {e}")))).transpose()?,
        sku_id: row.id(2)?,
        product_id: row.id(3)?,
        start_fen: row.i64(4)?,
        floor_fen: row.i64(5)?,
        helpers_needed: row.i64(6)?,
        bargain_hours: row.i64(7)?,
        starts_at: row.i64(8)?,
        ends_at: row.i64(9)?,
        stock_cap: row.i64(10)?,
        stock_used: row.i64(11)?,
        buy_rule: row.text(12)?,
        created_at: row.i64(13)?,
        ended_at: row.opt_i64(14)?,
    })
}

pub fn load_campaign(sql: &mut dyn Sql, id: BargainCampaignId) -> Result<BargainCampaign, Error> {
    let row = sql
        .query_opt(&format!("SELECT {CAMPAIGN_COLUMNS} FROM bargain_campaigns c WHERE c.id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("campaign"))?;
    campaign_row(&row)
}

/// Campaigns matching `filter` (the same filter as group-buy campaigns), ending soonest first.
/// `page` and `per_page` are clamped here too, so no caller can ask for an unbounded list.
pub fn list_campaigns(sql: &mut dyn Sql, filter: CampaignFilter, page: i64, per_page: i64) -> Result<Vec<BargainCampaign>, Error> {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let offset = (page.clamp(1, MAX_PAGE) - 1) * per_page;
    let rows = sql.query(
        &format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM bargain_campaigns c \
             WHERE (CAST($1 AS TEXT) IS NULL OR c.shop_id = $1 \
                    OR (c.shop_id IS NULL AND EXISTS (SELECT 1 FROM shop_products sp WHERE sp.shop_id = $1 AND sp.product_id = c.product_id))) \
             AND (CAST($2 AS TEXT) IS NULL OR c.product_id = $2) \
             AND (CAST($3 AS BIGINT) IS NULL OR (c.ended_at IS NULL AND c.starts_at <= $3 AND c.ends_at > $3)) \
             ORDER BY c.ends_at, c.id LIMIT $4 OFFSET $5"
        ),
        &[filter.shop.into(), filter.product.into(), filter.active_at.into(), Value::Int(per_page), Value::Int(offset)],
    )?;
    rows.iter().map(campaign_row).collect()
}

/// Ends a campaign now: no new bargains start in it; running ones may still be helped and
/// bought until they expire (their starters were promised that). Ending an ended campaign
/// changes nothing and keeps the first end time.
pub fn end_campaign(sql: &mut dyn Sql, now: Timestamp, id: BargainCampaignId) -> Result<BargainCampaign, Error> {
    sql.execute("UPDATE bargain_campaigns SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL", params![id, now])?;
    load_campaign(sql, id)
}
