//! Reading groups: one group with its members, the joinable groups of a product in a shop
//! (fewest seats missing first, 凑团), a customer's groups, and a campaign's results.
//!
//! Status is read through [`group_buy::view`], so an open group past its deadline shows as
//! expired before the sweeper has settled it.

use sharemall_domain::account::public_name;
use sharemall_domain::group_buy::{self, GroupStatus, GroupView, Seats};
use sharemall_domain::{CampaignId, Error, GroupId, OrderId, ProductId, ShopId, Timestamp, UserId};

use crate::model::{CampaignResults, GroupDetail, GroupMemberView, GroupSummary, MyGroup};
use crate::params;
use crate::sql::{Row, Sql};

/// Most groups a list returns.
pub const MAX_LIST: i64 = 50;

/// The status word clients see: the stored status, or `expired` for an overdue open group.
pub fn status_word(status: GroupStatus, seats: Seats, expires_at: Timestamp, now: Timestamp) -> &'static str {
    match group_buy::view(status, seats, expires_at, now) {
        GroupView::Open { .. } => "open",
        GroupView::Expired => "expired",
        GroupView::Settled(settled) => settled.as_str(),
    }
}

fn seats(row: &Row, at: usize) -> Result<Seats, Error> {
    Ok(Seats { size: row.i64(at)?, paid: row.i64(at + 1)?, held: row.i64(at + 2)? })
}

pub fn load_group(sql: &mut dyn Sql, now: Timestamp, id: GroupId) -> Result<GroupDetail, Error> {
    let row = sql
        .query_opt(
            "SELECT g.campaign_id, g.shop_id, s.name, c.product_id, c.sku_id, p.title, g.size, g.paid, g.held, g.status, g.opened_at, \
             g.expires_at, g.settled_at, c.group_price_fen, k.retail_fen, c.group_hours \
             FROM buy_groups g JOIN group_campaigns c ON c.id = g.campaign_id JOIN shops s ON s.id = g.shop_id \
             JOIN skus k ON k.id = c.sku_id JOIN products p ON p.id = c.product_id WHERE g.id = $1",
            params![id],
        )?
        .ok_or_else(|| Error::not_found("group"))?;
    let seats = seats(&row, 6)?;
    let expires_at = row.time(11)?;
    let status = GroupStatus::parse(&row.text(9)?)?;
    let members = sql
        .query(
            "SELECT u.display_name, m.leader, m.paid_at FROM buy_group_members m JOIN users u ON u.id = m.customer_id \
             WHERE m.group_id = $1 AND m.paid_at IS NOT NULL ORDER BY m.paid_at, m.order_id",
            params![id],
        )?
        .iter()
        .map(|r| Ok(GroupMemberView { name: public_name(&r.text(0)?), leader: r.bool(1)?, paid_at: r.i64(2)? }))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(GroupDetail {
        id,
        campaign_id: row.id(0)?,
        shop_id: row.id(1)?,
        shop_name: row.text(2)?,
        product_id: row.id(3)?,
        sku_id: row.id(4)?,
        title: row.text(5)?,
        size: seats.size,
        paid: seats.paid,
        held: seats.held,
        seats_left: seats.free(),
        status: status_word(status, seats, expires_at, now).to_string(),
        opened_at: row.i64(10)?,
        expires_at: expires_at.millis(),
        settled_at: row.opt_i64(12)?,
        group_price_fen: row.i64(13)?,
        retail_fen: row.i64(14)?,
        group_hours: row.i64(15)?,
        members,
    })
}

/// Open groups of `product` in `shop` that a customer could join now, fewest seats missing
/// first, then soonest to close: the 凑团 list.
pub fn joinable_groups(
    sql: &mut dyn Sql,
    now: Timestamp,
    shop: ShopId,
    product: ProductId,
    limit: i64,
) -> Result<Vec<GroupSummary>, Error> {
    let rows = sql.query(
        "SELECT g.id, g.campaign_id, u.display_name, g.size, g.paid, g.held, g.expires_at FROM buy_groups g \
         JOIN group_campaigns c ON c.id = g.campaign_id JOIN users u ON u.id = g.leader_id \
         WHERE c.product_id = $1 AND g.shop_id = $2 AND g.status = 'open' AND g.expires_at > $3 AND g.paid + g.held < g.size \
         ORDER BY g.size - g.paid - g.held, g.expires_at, g.id LIMIT $4",
        params![product, shop, now, limit.clamp(1, MAX_LIST)],
    )?;
    rows.iter()
        .map(|r| {
            let seats = seats(r, 3)?;
            Ok(GroupSummary {
                id: r.id(0)?,
                campaign_id: r.id(1)?,
                leader_name: public_name(&r.text(2)?),
                size: seats.size,
                paid: seats.paid,
                seats_left: seats.free(),
                expires_at: r.i64(6)?,
            })
        })
        .collect()
}

const MY_GROUPS: &str = "SELECT m.order_id, m.group_id, m.status, m.leader, p.title, c.group_price_fen, g.size, g.paid, g.held, g.status, \
     g.expires_at, o.status FROM buy_group_members m JOIN orders o ON o.id = m.order_id JOIN group_campaigns c ON c.id = m.campaign_id \
     JOIN products p ON p.id = c.product_id LEFT JOIN buy_groups g ON g.id = m.group_id";

fn my_group(r: &Row, now: Timestamp) -> Result<MyGroup, Error> {
    let group_status = match r.opt_text(9)? {
        Some(status) => Some(status_word(GroupStatus::parse(&status)?, seats(r, 6)?, r.time(10)?, now).to_string()),
        None => None,
    };
    Ok(MyGroup {
        order_id: r.id(0)?,
        group_id: r.opt_text(1)?,
        membership: r.text(2)?,
        leader: r.bool(3)?,
        title: r.text(4)?,
        group_price_fen: r.i64(5)?,
        size: r.opt_i64(6)?,
        paid: r.opt_i64(7)?,
        group_status,
        expires_at: r.opt_i64(10)?,
        order_status: r.text(11)?,
    })
}

/// The customer's group orders, newest first, with each group's state as it reads now.
pub fn my_groups(sql: &mut dyn Sql, now: Timestamp, customer: UserId, page: i64, per_page: i64) -> Result<Vec<MyGroup>, Error> {
    let per_page = per_page.clamp(1, MAX_LIST);
    let offset = (page.clamp(1, 10_000) - 1) * per_page;
    let rows = sql.query(
        &format!("{MY_GROUPS} WHERE m.customer_id = $1 ORDER BY m.joined_at DESC, m.order_id LIMIT $2 OFFSET $3"),
        params![customer, per_page, offset],
    )?;
    rows.iter().map(|r| my_group(r, now)).collect()
}

/// The group an order of `customer` was placed for, if it is a group order of theirs: what the
/// order page says about the group.
pub fn group_of_order(sql: &mut dyn Sql, now: Timestamp, customer: UserId, order: OrderId) -> Result<Option<MyGroup>, Error> {
    let row = sql.query_opt(&format!("{MY_GROUPS} WHERE m.order_id = $1 AND m.customer_id = $2"), params![order, customer])?;
    row.map(|r| my_group(&r, now)).transpose()
}

/// Whether `customer` holds or has paid for a seat in `group` (the page offers them no join).
pub fn is_member(sql: &mut dyn Sql, group: GroupId, customer: UserId) -> Result<bool, Error> {
    let row = sql.query_opt(
        "SELECT 1 FROM buy_group_members WHERE group_id = $1 AND customer_id = $2 AND status IN ('held', 'paid')",
        params![group, customer],
    )?;
    Ok(row.is_some())
}

/// How a campaign's groups have done: the console's monitor.
pub fn campaign_results(sql: &mut dyn Sql, now: Timestamp, campaign: CampaignId) -> Result<CampaignResults, Error> {
    let row = sql.query_one(
        "SELECT CAST(COUNT(CASE WHEN status = 'open' AND expires_at > $2 THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'open' AND expires_at <= $2 THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'succeeded' THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'platform_completed' THEN 1 END) AS BIGINT), \
         CAST(COUNT(CASE WHEN status = 'failed' THEN 1 END) AS BIGINT) FROM buy_groups WHERE campaign_id = $1",
        params![campaign, now],
    )?;
    let refunds = sql.query_one(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) FROM refunds r \
         JOIN buy_group_members m ON m.order_id = r.order_id WHERE m.campaign_id = $1",
        params![campaign],
    )?;
    let (succeeded, platform_completed, failed) = (row.i64(2)?, row.i64(3)?, row.i64(4)?);
    let settled = succeeded + platform_completed + failed;
    Ok(CampaignResults {
        open: row.i64(0)?,
        expired_unsettled: row.i64(1)?,
        succeeded,
        platform_completed,
        failed,
        // Basis points of settled groups that succeeded (either way); none settled reads as 0.
        success_rate_bps: if settled == 0 { 0 } else { (succeeded + platform_completed) * 10_000 / settled },
        refunds: refunds.i64(0)?,
        refunded_fen: refunds.i64(1)?,
    })
}
