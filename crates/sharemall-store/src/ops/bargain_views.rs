//! Reading bargains: one bargain as its page shows it, a customer's bargains, a customer's open
//! bargain in a campaign, a helper's own help, and how a campaign's bargains have done.
//!
//! Status is read through [`BargainStatus::read`], so a running bargain past its deadline shows
//! as expired at once. The seed and the cuts still to come are never read out.

use sharemall_domain::account::public_name;
use sharemall_domain::bargain::{self, BargainStatus, BuyRule};
use sharemall_domain::{BargainCampaignId, BargainId, Error, Timestamp, UserId};

use crate::model::{BargainCampaignResults, BargainHelper, BargainView};
use crate::params;
use crate::sql::{Row, Sql};

/// Most bargains a list returns.
pub const MAX_LIST: i64 = 50;

const VIEW_COLUMNS: &str = "b.id, b.campaign_id, b.shop_id, s.name, c.product_id, c.sku_id, p.title, u.display_name, k.retail_fen, \
    b.start_fen, b.floor_fen, b.current_fen, b.helps, b.helpers_needed, b.status, c.buy_rule, b.started_at, b.expires_at, b.starter_id, b.order_id";

const VIEW_FROM: &str = "FROM bargains b JOIN bargain_campaigns c ON c.id = b.campaign_id JOIN shops s ON s.id = b.shop_id \
    JOIN products p ON p.id = c.product_id JOIN skus k ON k.id = c.sku_id JOIN users u ON u.id = b.starter_id";

fn view(sql: &mut dyn Sql, now: Timestamp, viewer: Option<UserId>, row: &Row) -> Result<BargainView, Error> {
    let id: BargainId = row.id(0)?;
    let expires_at = row.time(17)?;
    let status = BargainStatus::parse(&row.text(14)?)?.read(expires_at, now);
    let rule = BuyRule::parse(&row.text(15)?).map_err(|e| Error::internal(e.message))?;
    let (helps, needed) = (row.i64(12)?, row.i64(13)?);
    let starter: UserId = row.id(18)?;
    let mine = viewer == Some(starter);
    let order_id = if mine {
        row.opt_text(19)?.map(|s| s.parse().map_err(|_| Error::internal(format!("bad order id {s}")))).transpose()?
    } else {
        None
    };
    let helpers = sql
        .query(
            "SELECT h.seq, u.display_name, h.cut_fen, h.helped_at FROM bargain_helps h JOIN users u ON u.id = h.helper_id \
             WHERE h.bargain_id = $1 ORDER BY h.seq",
            params![id],
        )?
        .iter()
        .map(|r| Ok(BargainHelper { seq: r.i64(0)?, name: public_name(&r.text(1)?), cut_fen: r.i64(2)?, helped_at: r.i64(3)? }))
        .collect::<Result<Vec<_>, Error>>()?;
    let seconds_left = if status == BargainStatus::Running { (expires_at.millis() - now.millis()).max(0) / 1_000 } else { 0 };
    Ok(BargainView {
        id,
        campaign_id: row.id(1)?,
        shop_id: row.id(2)?,
        shop_name: row.text(3)?,
        product_id: row.id(4)?,
        sku_id: row.id(5)?,
        title: row.text(6)?,
        starter_name: public_name(&row.text(7)?),
        retail_fen: row.i64(8)?,
        start_fen: row.i64(9)?,
        floor_fen: row.i64(10)?,
        current_fen: row.i64(11)?,
        helps,
        helpers_needed: needed,
        status: status.as_str().to_string(),
        buy_rule: rule.as_str().to_string(),
        can_buy: bargain::may_buy(status, rule, helps, needed).is_ok(),
        started_at: row.i64(16)?,
        expires_at: expires_at.millis(),
        seconds_left,
        mine,
        order_id,
        helpers,
    })
}

/// One bargain as `viewer` (signed in or not) sees it.
pub fn load_bargain(sql: &mut dyn Sql, now: Timestamp, id: BargainId, viewer: Option<UserId>) -> Result<BargainView, Error> {
    let row = sql
        .query_opt(&format!("SELECT {VIEW_COLUMNS} {VIEW_FROM} WHERE b.id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("bargain"))?;
    view(sql, now, viewer, &row)
}

/// The bargains `customer` started, newest first.
pub fn my_bargains(sql: &mut dyn Sql, now: Timestamp, customer: UserId, page: i64, per_page: i64) -> Result<Vec<BargainView>, Error> {
    let per_page = per_page.clamp(1, MAX_LIST);
    let offset = (page.clamp(1, 10_000) - 1) * per_page;
    let rows = sql.query(
        &format!("SELECT {VIEW_COLUMNS} {VIEW_FROM} WHERE b.starter_id = $1 ORDER BY b.started_at DESC, b.id LIMIT $2 OFFSET $3"),
        params![customer, per_page, offset],
    )?;
    rows.iter().map(|row| view(sql, now, Some(customer), row)).collect()
}

/// The customer's bargain in `campaign` that is still running now, if any: the product page
/// links to it rather than offering a second start.
pub fn running_bargain(
    sql: &mut dyn Sql,
    now: Timestamp,
    campaign: BargainCampaignId,
    customer: UserId,
) -> Result<Option<BargainId>, Error> {
    let row = sql.query_opt(
        "SELECT id FROM bargains WHERE campaign_id = $1 AND starter_id = $2 AND status = 'running' AND expires_at > $3 \
         ORDER BY started_at DESC LIMIT 1",
        params![campaign, customer, now],
    )?;
    row.map(|r| r.id(0)).transpose()
}

/// The cut `helper` made on a bargain, if they helped it.
pub fn help_of(sql: &mut dyn Sql, id: BargainId, helper: UserId) -> Result<Option<i64>, Error> {
    let row = sql.query_opt("SELECT cut_fen FROM bargain_helps WHERE bargain_id = $1 AND helper_id = $2", params![id, helper])?;
    row.map(|r| r.i64(0)).transpose()
}

/// A campaign's bargains by outcome. A running bargain past its deadline counts as expired, as
/// it reads everywhere else.
pub fn campaign_results(sql: &mut dyn Sql, now: Timestamp, campaign: BargainCampaignId) -> Result<BargainCampaignResults, Error> {
    let row = sql.query_one(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(CASE WHEN helps = helpers_needed THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'bought' THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'expired' OR (status = 'running' AND expires_at <= $2) THEN 1 END) AS BIGINT) \
         FROM bargains WHERE campaign_id = $1",
        params![campaign, now],
    )?;
    Ok(BargainCampaignResults { started: row.i64(0)?, reached_floor: row.i64(1)?, bought: row.i64(2)?, expired: row.i64(3)? })
}
