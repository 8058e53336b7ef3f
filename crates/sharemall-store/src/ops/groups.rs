//! Groups (团, SPEC 3.5): opened by paying, joined with a held seat, succeeded exactly once at
//! the N-th payment, and swept at expiry with every paid member refunded exactly once.
//!
//! Every seat, unit and outcome is decided by a conditional `UPDATE` whose `WHERE` clause states
//! the rule (`paid + held < size`, `status = 'open' AND expires_at > now`, `stock_used + q <=
//! stock_cap`), so no interleaving of joins, payments, cancellations and sweeps can over-fill a
//! group, succeed it twice, or refund a member twice. The table's `CHECK (paid + held <= size)`
//! says the same once more.
//!
//! On PostgreSQL a group's row is locked before any of its orders (payments and cancellations
//! lock it first, see [`lock_group_of`]), and a sweep locks the campaign and SKU rows it will
//! touch before it claims groups, so concurrent writers wait for each other instead of
//! deadlocking.

use sharemall_domain::group_buy::{self, GroupStatus, Seats};
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, Money, OrderId, ShopId, SkuId, Timestamp, UserId};

use crate::model::OrderPlaced;
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::orders::{self, Activity, ActivityOrder, CancelBy};
use crate::ops::{inbox, payments};
use crate::params;
use crate::sql::{Backend, Row, Sql};

/// Inbox messages a group sends its members.
pub const MSG_GROUP_SUCCEEDED: &str = "group_succeeded";
pub const MSG_GROUP_PLATFORM_COMPLETED: &str = "group_platform_completed";
pub const MSG_GROUP_FAILED: &str = "group_failed";
/// Refund reason recorded for a failed group's members; `sharemall check` counts by it.
pub const REFUND_REASON_GROUP_FAILED: &str = "group failed";
const REFUND_REASON_LATE: &str = "paid after the group closed";

/// A group-buy order as the customer asks for it: everything but the price, which the campaign sets.
#[derive(Debug, Clone)]
pub struct GroupOrder {
    pub customer: UserId,
    pub quantity: i64,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub order_no: String,
    pub pay_window_ms: i64,
    pub shipping: ShippingRule,
}

/// The campaign terms an opening or a join needs.
struct Terms {
    shop: Option<ShopId>,
    sku: SkuId,
    price: Money,
    starts_at: Timestamp,
    ends_at: Timestamp,
    ended: bool,
    per_customer_limit: i64,
    new_customers_only: bool,
}

const TERMS_COLUMNS: &str =
    "c.shop_id, c.sku_id, c.group_price_fen, c.starts_at, c.ends_at, c.ended_at, c.per_customer_limit, c.new_customers_only";

fn terms(row: &Row, at: usize) -> Result<Terms, Error> {
    Ok(Terms {
        shop: row.opt_text(at)?.map(|s| s.parse().map_err(|_| Error::internal(format!("bad shop id {s}")))).transpose()?,
        sku: row.id(at + 1)?,
        price: row.money(at + 2)?,
        starts_at: row.time(at + 3)?,
        ends_at: row.time(at + 4)?,
        ended: row.opt_i64(at + 5)?.is_some(),
        per_customer_limit: row.i64(at + 6)?,
        new_customers_only: row.bool(at + 7)?,
    })
}

/// Refuses a request that would take the customer past the campaign's per-customer limit, or
/// into a group they are already in. Cancelled and refunded orders no longer count.
fn check_customer(sql: &mut dyn Sql, campaign: CampaignId, group: Option<GroupId>, order: &GroupOrder, limit: i64) -> Result<(), Error> {
    let row = sql.query_one(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT), CAST(COUNT(CASE WHEN group_id = $3 THEN 1 END) AS BIGINT) \
         FROM buy_group_members WHERE customer_id = $1 AND campaign_id = $2 AND status IN ('held', 'paid')",
        params![order.customer, campaign, group],
    )?;
    if row.i64(1)? > 0 {
        return Err(Error::new(ErrorCode::AlreadyInGroup, "you are already in this group"));
    }
    if row.i64(0)?.saturating_add(order.quantity) > limit {
        return Err(Error::new(ErrorCode::CampaignLimitReached, format!("this campaign sells at most {limit} per customer")));
    }
    Ok(())
}

/// Takes `quantity` units of the campaign's stock, or refuses with `campaign_sold_out`.
fn take_campaign_stock(sql: &mut dyn Sql, campaign: CampaignId, quantity: i64) -> Result<(), Error> {
    let taken = sql.execute(
        "UPDATE group_campaigns SET stock_used = stock_used + $2 WHERE id = $1 AND stock_used + $2 <= stock_cap",
        params![campaign, quantity],
    )?;
    if taken == 0 {
        return Err(Error::new(ErrorCode::CampaignSoldOut, "this campaign has sold out"));
    }
    Ok(())
}

fn release_campaign_stock(sql: &mut dyn Sql, campaign: CampaignId, quantity: i64) -> Result<(), Error> {
    let released = sql.execute(
        "UPDATE group_campaigns SET stock_used = stock_used - $2 WHERE id = $1 AND stock_used >= $2",
        params![campaign, quantity],
    )?;
    if released == 0 {
        return Err(Error::internal(format!("campaign {campaign}: releasing more units than it used")));
    }
    Ok(())
}

/// A group order as the order path places it: at the campaign's group price, paid by `pay_deadline`.
pub(crate) fn activity_order(order: &GroupOrder, shop: ShopId, sku: SkuId, unit_price: Money, pay_deadline: Timestamp) -> ActivityOrder {
    ActivityOrder {
        customer: order.customer,
        shop,
        sku,
        quantity: order.quantity,
        unit_price,
        activity: Activity::GroupBuy,
        recipient: order.recipient.clone(),
        phone: order.phone.clone(),
        address: order.address.clone(),
        note: order.note.clone(),
        order_no: order.order_no.clone(),
        pay_deadline,
        shipping: order.shipping,
    }
}

fn insert_member(
    sql: &mut dyn Sql,
    now: Timestamp,
    placed: &OrderPlaced,
    group: Option<GroupId>,
    campaign: CampaignId,
    order: &GroupOrder,
) -> Result<(), Error> {
    sql.execute(
        "INSERT INTO buy_group_members (order_id, group_id, campaign_id, customer_id, quantity, leader, status, joined_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'held', $7)",
        params![placed.order_id, group, campaign, order.customer, order.quantity, group.is_none(), now],
    )?;
    Ok(())
}

/// Places the order that opens a group in `shop`. The group itself exists from the opener's
/// payment on ([`on_paid`]): until then there is nothing to join.
pub fn open_group(
    sql: &mut dyn Sql,
    now: Timestamp,
    campaign: CampaignId,
    shop: ShopId,
    order: &GroupOrder,
    key: Option<&IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    if let Some(placed) = key.map(|key| orders::placed_with_key(sql, key)).transpose()?.flatten() {
        return Ok(placed);
    }
    let row = sql
        .query_opt(&format!("SELECT {TERMS_COLUMNS} FROM group_campaigns c WHERE c.id = $1"), params![campaign])?
        .ok_or_else(|| Error::not_found("campaign"))?;
    let terms = terms(&row, 0)?;
    if terms.ended || now < terms.starts_at || now >= terms.ends_at {
        return Err(Error::new(ErrorCode::CampaignNotActive, "this campaign is not running now"));
    }
    if terms.shop.is_some_and(|own| own != shop) {
        return Err(Error::new(ErrorCode::CampaignNotActive, "this campaign runs in another shop"));
    }
    check_customer(sql, campaign, None, order, terms.per_customer_limit)?;
    take_campaign_stock(sql, campaign, order.quantity)?;
    let placed = orders::place_activity_order(
        sql,
        now,
        &activity_order(order, shop, terms.sku, terms.price, now.plus_ms(order.pay_window_ms)),
        key,
    )?;
    insert_member(sql, now, &placed, None, campaign, order)?;
    Ok(placed)
}

/// Places the order that joins `group`, holding a seat until it is paid or cancelled. The pay
/// deadline is the group's own when that comes first: a seat never outlives its group.
pub fn join_group(
    sql: &mut dyn Sql,
    now: Timestamp,
    group: GroupId,
    order: &GroupOrder,
    key: Option<&IdempotencyKey>,
) -> Result<OrderPlaced, Error> {
    if let Some(placed) = key.map(|key| orders::placed_with_key(sql, key)).transpose()?.flatten() {
        return Ok(placed);
    }
    let row = sql
        .query_opt(
            &format!(
                "SELECT g.campaign_id, g.shop_id, g.status, g.expires_at, {TERMS_COLUMNS} \
                 FROM buy_groups g JOIN group_campaigns c ON c.id = g.campaign_id WHERE g.id = $1"
            ),
            params![group],
        )?
        .ok_or_else(|| Error::not_found("group"))?;
    let (campaign, shop): (CampaignId, ShopId) = (row.id(0)?, row.id(1)?);
    let expires_at = row.time(3)?;
    let terms = terms(&row, 4)?;
    match GroupStatus::parse(&row.text(2)?)? {
        GroupStatus::Open if now < expires_at => {}
        GroupStatus::Open | GroupStatus::Failed => return Err(Error::new(ErrorCode::GroupExpired, "this group has closed")),
        GroupStatus::Succeeded | GroupStatus::PlatformCompleted => {
            return Err(Error::new(ErrorCode::GroupFull, "this group is already complete"));
        }
    }
    check_customer(sql, campaign, Some(group), order, terms.per_customer_limit)?;
    if terms.new_customers_only
        && sql.query_opt("SELECT 1 FROM orders WHERE customer_id = $1 AND paid_at IS NOT NULL LIMIT 1", params![order.customer])?.is_some()
    {
        return Err(Error::new(ErrorCode::NewCustomersOnly, "this group is for new customers only"));
    }
    let seated = sql.execute(
        "UPDATE buy_groups SET held = held + 1 WHERE id = $1 AND status = 'open' AND expires_at > $2 AND paid + held < size",
        params![group, now],
    )?;
    if seated == 0 {
        return Err(seat_refusal(sql, group)?);
    }
    take_campaign_stock(sql, campaign, order.quantity)?;
    let deadline = now.plus_ms(order.pay_window_ms).min(expires_at);
    let placed = orders::place_activity_order(sql, now, &activity_order(order, shop, terms.sku, terms.price, deadline), key)?;
    insert_member(sql, now, &placed, Some(group), campaign, order)?;
    Ok(placed)
}

/// Why the seat's conditional `UPDATE` matched nothing. On PostgreSQL a sweep may have settled
/// the group between our read and our update (the update waited for its lock and then saw the
/// settled row), so the status is read again rather than assumed: a settled group is closed,
/// an open one is full.
fn seat_refusal(sql: &mut dyn Sql, group: GroupId) -> Result<Error, Error> {
    let status = sql.query_one("SELECT status FROM buy_groups WHERE id = $1", params![group])?.text(0)?;
    Ok(match GroupStatus::parse(&status)? {
        GroupStatus::Open => Error::new(ErrorCode::GroupFull, "every seat in this group is taken"),
        GroupStatus::Failed => Error::new(ErrorCode::GroupExpired, "this group has closed"),
        GroupStatus::Succeeded | GroupStatus::PlatformCompleted => Error::new(ErrorCode::GroupFull, "this group is already complete"),
    })
}

/// A group order's membership, as the payment and cancellation hooks need it.
struct Member {
    group: Option<GroupId>,
    campaign: CampaignId,
    customer: UserId,
    quantity: i64,
    status: String,
}

fn member(sql: &mut dyn Sql, order: OrderId) -> Result<Member, Error> {
    let row = sql
        .query_opt(
            "SELECT group_id, campaign_id, customer_id, quantity, status FROM buy_group_members WHERE order_id = $1",
            params![order],
        )?
        .ok_or_else(|| Error::internal(format!("group order {order} has no membership")))?;
    Ok(Member {
        group: row.opt_text(0)?.map(|s| s.parse().map_err(|_| Error::internal(format!("bad group id {s}")))).transpose()?,
        campaign: row.id(1)?,
        customer: row.id(2)?,
        quantity: row.i64(3)?,
        status: row.text(4)?,
    })
}

/// On PostgreSQL, locks the group of a group order before the order row is touched, keeping
/// the lock order (group before order) that the sweeper uses. SQLite's single writer needs none.
pub(crate) fn lock_group_of(sql: &mut dyn Sql, order: OrderId) -> Result<(), Error> {
    if sql.backend() == Backend::Postgres {
        sql.query(
            "SELECT g.id FROM buy_groups g JOIN buy_group_members m ON m.group_id = g.id WHERE m.order_id = $1 FOR UPDATE OF g",
            params![order],
        )?;
    }
    Ok(())
}

/// What a group order's payment did to its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seated {
    /// The member is in: the group opened, or one more seat is paid.
    Paid,
    /// The group closed before the money arrived: the order is being refunded.
    Refunded,
}

/// Called in the payment's transaction once a group order has moved to `awaiting_group`.
/// The opener's payment opens the group; a joiner's turns a held seat into a paid one, and the
/// payment that fills the last seat succeeds the group — exactly once, because only one
/// transaction can move it from `open`.
pub(crate) fn on_paid(sql: &mut dyn Sql, now: Timestamp, order: OrderId) -> Result<Seated, Error> {
    let member = member(sql, order)?;
    let Some(group) = member.group else {
        return open_paid_group(sql, now, order, &member).map(|()| Seated::Paid);
    };
    let seated = sql.execute(
        "UPDATE buy_groups SET paid = paid + 1, held = held - 1 WHERE id = $1 AND status = 'open' AND expires_at > $2 AND held > 0",
        params![group, now],
    )?;
    if seated == 0 {
        // The group's deadline passed while this seat was being paid: the seat is released
        // and the money goes back, whichever of this and the sweep comes first.
        sql.execute("UPDATE buy_groups SET held = held - 1 WHERE id = $1 AND held > 0 AND status = 'open'", params![group])?;
        leave_with_refund(sql, now, order, &member, REFUND_REASON_LATE)?;
        return Ok(Seated::Refunded);
    }
    sql.execute("UPDATE buy_group_members SET status = 'paid', paid_at = $2 WHERE order_id = $1", params![order, now])?;
    let succeeded = sql.execute(
        "UPDATE buy_groups SET status = 'succeeded', settled_at = $2 WHERE id = $1 AND status = 'open' AND paid = size",
        params![group, now],
    )?;
    if succeeded == 1 {
        release_to_shipping(sql, now, group, MSG_GROUP_SUCCEEDED)?;
    }
    Ok(Seated::Paid)
}

fn open_paid_group(sql: &mut dyn Sql, now: Timestamp, order: OrderId, member: &Member) -> Result<(), Error> {
    let row = sql.query_one(
        "SELECT o.shop_id, c.size, c.group_hours FROM orders o JOIN group_campaigns c ON c.id = $2 WHERE o.id = $1",
        params![order, member.campaign],
    )?;
    let group = GroupId::new();
    let expires_at = now.plus_ms(row.i64(2)? * HOUR_MS);
    sql.execute(
        "INSERT INTO buy_groups (id, campaign_id, shop_id, leader_id, size, paid, held, status, opened_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, 1, 0, 'open', $6, $7)",
        params![group, member.campaign, row.text(0)?, member.customer, row.i64(1)?, now, expires_at],
    )?;
    sql.execute(
        "UPDATE buy_group_members SET group_id = $2, status = 'paid', paid_at = $3 WHERE order_id = $1",
        params![order, group, now],
    )?;
    Ok(())
}

/// Moves a settled group's paid orders to shipping and tells each member.
fn release_to_shipping(sql: &mut dyn Sql, now: Timestamp, group: GroupId, message: &str) -> Result<(), Error> {
    sql.execute(
        "UPDATE orders SET status = 'to_ship' WHERE status = 'awaiting_group' \
         AND id IN (SELECT order_id FROM buy_group_members WHERE group_id = $1 AND status = 'paid')",
        params![group],
    )?;
    notify_members(sql, now, group, message)
}

fn notify_members(sql: &mut dyn Sql, now: Timestamp, group: GroupId, message: &str) -> Result<(), Error> {
    let members =
        sql.query("SELECT customer_id FROM buy_group_members WHERE group_id = $1 AND status IN ('paid', 'refunded')", params![group])?;
    let subject = group.to_string();
    for row in members {
        inbox::notify(sql, now, row.id(0)?, message, &subject, &format!("{{\"group_id\":\"{subject}\"}}"))?;
    }
    Ok(())
}

/// A paid member leaves: the order is refunded in full through the provider, the member is
/// marked refunded (exactly once: only a `paid` or `held` member can become `refunded`), and
/// the campaign's units go back.
fn leave_with_refund(sql: &mut dyn Sql, now: Timestamp, order: OrderId, member: &Member, reason: &str) -> Result<(), Error> {
    let left =
        sql.execute("UPDATE buy_group_members SET status = 'refunded' WHERE order_id = $1 AND status IN ('held', 'paid')", params![order])?;
    if left == 0 {
        return Ok(());
    }
    payments::refund_in_full(sql, now, order, reason)?;
    release_campaign_stock(sql, member.campaign, member.quantity)
}

/// Called in the cancellation's transaction when an unpaid group order closes: its seat (if
/// its group exists yet) and its campaign units are released.
pub(crate) fn on_cancelled(sql: &mut dyn Sql, order: OrderId) -> Result<(), Error> {
    let member = member(sql, order)?;
    if member.status != "held" {
        return Ok(());
    }
    sql.execute("UPDATE buy_group_members SET status = 'cancelled' WHERE order_id = $1 AND status = 'held'", params![order])?;
    if let Some(group) = member.group {
        sql.execute("UPDATE buy_groups SET held = held - 1 WHERE id = $1 AND held > 0", params![group])?;
    }
    release_campaign_stock(sql, member.campaign, member.quantity)
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub failed: u64,
    pub platform_completed: u64,
    /// Paid members whose refund this sweep started.
    pub refunds: u64,
    /// Unpaid holds this sweep cancelled.
    pub holds_cancelled: u64,
}

/// Whether any open group has passed its deadline: what a sweep would settle.
pub fn any_due(sql: &mut dyn Sql, now: Timestamp) -> Result<bool, Error> {
    Ok(sql.query_opt("SELECT 1 FROM buy_groups WHERE status = 'open' AND expires_at <= $1 LIMIT 1", params![now])?.is_some())
}

/// Settles up to `limit` open groups whose deadline has passed. Safe to run in several workers
/// at once: each group is settled by the one transaction that moves it from `open`, and the
/// others find nothing to do.
pub fn sweep_expired(sql: &mut dyn Sql, now: Timestamp, limit: i64) -> Result<SweepReport, Error> {
    let skip_locked = match sql.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    if sql.backend() == Backend::Postgres {
        lock_shared_rows_of_due_groups(sql, now)?;
    }
    let due = sql.query(
        &format!("SELECT id FROM buy_groups WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2 {skip_locked}"),
        params![now, limit],
    )?;
    let mut report = SweepReport::default();
    for row in due {
        settle_expired(sql, now, row.id(0)?, &mut report)?;
    }
    Ok(report)
}

/// Settling a group touches rows many groups share: its campaign and its SKU. Two sweepers that
/// each settle a batch would take those locks in whatever order their groups come and could
/// deadlock, so on PostgreSQL a sweep first locks every campaign and SKU with a due group, in id
/// order. Sweepers then queue on the first of them instead of crossing; the groups themselves
/// are still claimed with `SKIP LOCKED`, so each is settled by one sweeper.
fn lock_shared_rows_of_due_groups(sql: &mut dyn Sql, now: Timestamp) -> Result<(), Error> {
    const DUE: &str = "SELECT g.campaign_id FROM buy_groups g WHERE g.status = 'open' AND g.expires_at <= $1";
    sql.query(&format!("SELECT c.id FROM group_campaigns c WHERE c.id IN ({DUE}) ORDER BY c.id FOR UPDATE"), params![now])?;
    sql.query(
        &format!(
            "SELECT s.id FROM skus s WHERE s.id IN (SELECT c.sku_id FROM group_campaigns c WHERE c.id IN ({DUE})) ORDER BY s.id FOR UPDATE"
        ),
        params![now],
    )?;
    Ok(())
}

fn settle_expired(sql: &mut dyn Sql, now: Timestamp, group: GroupId, report: &mut SweepReport) -> Result<(), Error> {
    let Some(row) = sql.query_opt(
        "SELECT g.size, g.paid, g.held, c.auto_complete_at FROM buy_groups g JOIN group_campaigns c ON c.id = g.campaign_id \
         WHERE g.id = $1 AND g.status = 'open' AND g.expires_at <= $2",
        params![group, now],
    )?
    else {
        return Ok(());
    };
    let seats = Seats { size: row.i64(0)?, paid: row.i64(1)?, held: row.i64(2)? };
    let outcome = group_buy::outcome_at_expiry(seats, row.opt_i64(3)?);
    let settled = sql.execute(
        "UPDATE buy_groups SET status = $3, settled_at = $2 WHERE id = $1 AND status = 'open' AND expires_at <= $2",
        params![group, now, outcome.as_str()],
    )?;
    if settled == 0 {
        return Ok(());
    }
    let holds =
        sql.query("SELECT order_id FROM buy_group_members WHERE group_id = $1 AND status = 'held' ORDER BY order_id", params![group])?;
    for hold in holds {
        if orders::cancel_order(sql, now, hold.id(0)?, CancelBy::GroupClosed)? {
            report.holds_cancelled += 1;
        }
    }
    if outcome == GroupStatus::PlatformCompleted {
        report.platform_completed += 1;
        return release_to_shipping(sql, now, group, MSG_GROUP_PLATFORM_COMPLETED);
    }
    report.failed += 1;
    let paid =
        sql.query("SELECT order_id FROM buy_group_members WHERE group_id = $1 AND status = 'paid' ORDER BY order_id", params![group])?;
    for row in paid {
        let order: OrderId = row.id(0)?;
        let member = member(sql, order)?;
        leave_with_refund(sql, now, order, &member, REFUND_REASON_GROUP_FAILED)?;
        report.refunds += 1;
    }
    notify_members(sql, now, group, MSG_GROUP_FAILED)
}
