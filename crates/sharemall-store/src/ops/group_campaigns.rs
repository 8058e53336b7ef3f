//! Group-buy campaigns (拼团活动, SPEC 3.5): creating one on a sellable SKU, reading and listing
//! them, ending one early. Groups and joining build on these rows later.

use sharemall_domain::group_buy::{CampaignRequest, SkuPrices};
use sharemall_domain::{CampaignId, Error, ErrorCode, ProductId, ShopId, SkuId, Timestamp, UserId};

use crate::model::GroupCampaign;
use crate::ops::shops;
use crate::params;
use crate::sql::{Row, Sql, Value};

/// Largest page a campaign list returns.
pub const MAX_PER_PAGE: i64 = 100;
/// Deepest page a list may ask for, so an offset stays bounded.
pub const MAX_PAGE: i64 = 10_000;

/// A campaign to create: who asked, where it runs, and the rules as asked.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// `None`: a platform campaign.
    pub shop: Option<ShopId>,
    pub sku: SkuId,
    pub request: CampaignRequest,
    pub created_by: UserId,
}

/// The SKU's product and prices, once it is known to be sellable.
struct CampaignSku {
    product: ProductId,
    prices: SkuPrices,
}

/// Reads the SKU's prices and refuses one whose product or supplier is not approved, as order
/// placement does: a campaign on goods nobody may buy would only fail later.
fn campaign_sku(sql: &mut dyn Sql, sku: SkuId) -> Result<CampaignSku, Error> {
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
    Ok(CampaignSku { product: row.id(0)?, prices: SkuPrices { supply: row.money(1)?, retail: row.money(2)? } })
}

/// Creates a campaign after checking the SKU is sellable, a shop campaign's shop carries it,
/// and every campaign rule holds.
pub fn create_campaign(sql: &mut dyn Sql, now: Timestamp, new: &NewCampaign) -> Result<CampaignId, Error> {
    let sku = campaign_sku(sql, new.sku)?;
    if let Some(shop) = new.shop {
        shops::load_shop(sql, shop)?;
        if !shops::carries(sql, shop, sku.product)? {
            return Err(Error::new(ErrorCode::SkuNotOnSale, "this shop does not carry this product"));
        }
    }
    new.request.validate(sku.prices, now)?;
    let id = CampaignId::new();
    let r = &new.request;
    sql.execute(
        "INSERT INTO group_campaigns (id, shop_id, sku_id, product_id, size, group_price_fen, group_hours, starts_at, ends_at, \
         stock_cap, stock_used, per_customer_limit, new_customers_only, auto_complete_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $13, $14, $15)",
        params![
            id,
            new.shop,
            new.sku,
            sku.product,
            r.size,
            r.group_price,
            r.hours,
            r.starts_at,
            r.ends_at,
            r.stock_cap,
            r.per_customer_limit,
            r.new_customers_only,
            r.auto_complete_at,
            new.created_by,
            now
        ],
    )?;
    Ok(id)
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.shop_id, c.sku_id, c.product_id, c.size, c.group_price_fen, c.group_hours, c.starts_at, c.ends_at, \
     c.stock_cap, c.stock_used, c.per_customer_limit, c.new_customers_only, c.auto_complete_at, c.created_at, c.ended_at";

fn campaign_row(row: &Row) -> Result<GroupCampaign, Error> {
    Ok(GroupCampaign {
        id: row.id(0)?,
        shop_id: row.opt_text(1)?.map(|text| text.parse().map_err(|e| Error::internal(format!("bad shop id {text}: {e}")))).transpose()?,
        sku_id: row.id(2)?,
        product_id: row.id(3)?,
        size: row.i64(4)?,
        group_price_fen: row.i64(5)?,
        group_hours: row.i64(6)?,
        starts_at: row.i64(7)?,
        ends_at: row.i64(8)?,
        stock_cap: row.i64(9)?,
        stock_used: row.i64(10)?,
        per_customer_limit: row.i64(11)?,
        new_customers_only: row.bool(12)?,
        auto_complete_at: row.opt_i64(13)?,
        created_at: row.i64(14)?,
        ended_at: row.opt_i64(15)?,
    })
}

pub fn load_campaign(sql: &mut dyn Sql, id: CampaignId) -> Result<GroupCampaign, Error> {
    let row = sql
        .query_opt(&format!("SELECT {CAMPAIGN_COLUMNS} FROM group_campaigns c WHERE c.id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("campaign"))?;
    campaign_row(&row)
}

/// Which campaigns a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct CampaignFilter {
    /// Campaigns that run in this shop: its own, and platform campaigns on products it carries.
    pub shop: Option<ShopId>,
    pub product: Option<ProductId>,
    /// Only campaigns open at this moment: started, window not over, not ended early.
    pub active_at: Option<Timestamp>,
}

/// Campaigns matching `filter`, ending soonest first. `page` and `per_page` are clamped here
/// too, so no caller can ask for an unbounded list.
pub fn list_campaigns(sql: &mut dyn Sql, filter: CampaignFilter, page: i64, per_page: i64) -> Result<Vec<GroupCampaign>, Error> {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let offset = (page.clamp(1, MAX_PAGE) - 1) * per_page;
    let rows = sql.query(
        &format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM group_campaigns c \
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

/// Ends a campaign now: no new groups open in it. Ending an ended campaign changes nothing and
/// keeps the first end time.
pub fn end_campaign(sql: &mut dyn Sql, now: Timestamp, id: CampaignId) -> Result<GroupCampaign, Error> {
    sql.execute("UPDATE group_campaigns SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL", params![id, now])?;
    load_campaign(sql, id)
}
