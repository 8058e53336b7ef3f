//! Bargains (砍价, SPEC 3.6): started by a customer, helped by friends, bought by the starter.
//!
//! Each help takes the next cut of `BargainTerms::cuts(seed)` with a conditional `UPDATE` that
//! names the help count it read (`helps = $seen AND status = 'running' AND expires_at > now`),
//! and records it in `bargain_helps`, whose keys refuse a second help by one person and two
//! helps taking the same cut. So no interleaving of helps can take a cut twice or pass K, and the
//! table's `CHECK`s (helps ≤ K, floor ≤ price ≤ start) say the same once more. A buy takes one
//! unit of the campaign's stock with `stock_used + 1 <= stock_cap`.
//!
//! Row locks are taken in one order — bargain, campaign, SKU — and an order being cancelled
//! only ever touches a bargain after its own row, so writers on PostgreSQL wait, never deadlock.

use sharemall_domain::bargain::{self, BargainStatus, BargainTerms, BuyRule};
use sharemall_domain::pricing::ShippingRule;
use sharemall_domain::{BargainCampaignId, BargainId, Error, ErrorCode, Money, OrderId, ShopId, SkuId, Timestamp, UserId};

use crate::model::{BargainStarted, HelpDone, OrderPlaced};
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::orders::{self, Activity, ActivityOrder};
use crate::params;
use crate::sql::{Backend, Row, Sql};

/// A customer starting a bargain in a shop.
#[derive(Debug, Clone, Copy)]
pub struct NewBargain {
    pub campaign: BargainCampaignId,
    pub shop: ShopId,
    pub starter: UserId,
    /// Decides the cut sequence; drawn at random by the caller, never shown.
    pub seed: u64,
}

/// Starts a bargain, or returns the starter's open one in the campaign (running, or bought and
/// awaiting payment): one at a time per customer per campaign, which the partial unique index
/// `bargains_one_running` also enforces.
pub fn start_bargain(sql: &mut dyn Sql, now: Timestamp, new: &NewBargain) -> Result<BargainStarted, Error> {
    let c = sql
        .query_opt(
            "SELECT shop_id, sku_id, start_fen, floor_fen, helpers_needed, bargain_hours, starts_at, ends_at, ended_at, stock_used, stock_cap \
             FROM bargain_campaigns WHERE id = $1",
            params![new.campaign],
        )?
        .ok_or_else(|| Error::not_found("campaign"))?;
    if c.opt_i64(8)?.is_some() || now < c.time(6)? || now >= c.time(7)? {
        return Err(Error::new(ErrorCode::CampaignNotActive, "this campaign is not running now"));
    }
    if c.opt_text(0)?.is_some_and(|own| own != new.shop.to_string()) {
        return Err(Error::new(ErrorCode::CampaignNotActive, "this campaign runs in another shop"));
    }
    let sku: SkuId = c.id(1)?;
    orders::sku_for_sale(sql, new.shop, sku)?;
    // A running bargain past its deadline frees the slot for a new one.
    sql.execute(
        "UPDATE bargains SET status = 'expired' WHERE campaign_id = $1 AND starter_id = $2 AND status = 'running' AND expires_at <= $3",
        params![new.campaign, new.starter, now],
    )?;
    let open = sql.query_opt(
        "SELECT b.id FROM bargains b LEFT JOIN orders o ON o.id = b.order_id WHERE b.campaign_id = $1 AND b.starter_id = $2 \
         AND (b.status = 'running' OR (b.status = 'bought' AND o.status = 'created')) ORDER BY b.started_at DESC LIMIT 1",
        params![new.campaign, new.starter],
    )?;
    if let Some(open) = open {
        return Ok(BargainStarted { id: open.id(0)?, started: false });
    }
    if c.i64(9)? >= c.i64(10)? {
        return Err(Error::new(ErrorCode::CampaignSoldOut, "this campaign has sold out"));
    }
    let id = BargainId::new();
    let expires_at = now.plus_ms(c.i64(5)?.saturating_mul(sharemall_domain::time::HOUR_MS));
    sql.execute(
        "INSERT INTO bargains (id, campaign_id, shop_id, starter_id, seed, start_fen, floor_fen, helpers_needed, helps, current_fen, \
         status, started_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $6, 'running', $9, $10)",
        params![
            id,
            new.campaign,
            new.shop,
            new.starter,
            // Stored as BIGINT: the same 64 bits, read back with `as u64`.
            new.seed as i64,
            c.i64(2)?,
            c.i64(3)?,
            c.i64(4)?,
            now,
            expires_at
        ],
    )?;
    Ok(BargainStarted { id, started: true })
}

/// A bargain row as help and buy need it.
struct Stored {
    campaign: BargainCampaignId,
    shop: ShopId,
    starter: UserId,
    seed: u64,
    terms: BargainTerms,
    helps: i64,
    current: Money,
    status: BargainStatus,
    expires_at: Timestamp,
}

impl Stored {
    /// The status as it reads now.
    fn status_at(&self, now: Timestamp) -> BargainStatus {
        self.status.read(self.expires_at, now)
    }
}

/// Reads a bargain, locking its row on PostgreSQL so that helps and buys of one bargain take
/// turns (SQLite's single writer already serialises them).
fn load_locked(sql: &mut dyn Sql, id: BargainId) -> Result<Stored, Error> {
    let lock = match sql.backend() {
        Backend::Postgres => "FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sql
        .query_opt(
            &format!(
                "SELECT campaign_id, shop_id, starter_id, seed, start_fen, floor_fen, helpers_needed, helps, current_fen, status, expires_at \
                 FROM bargains WHERE id = $1 {lock}"
            ),
            params![id],
        )?
        .ok_or_else(|| Error::not_found("bargain"))?;
    stored(&row)
}

fn stored(row: &Row) -> Result<Stored, Error> {
    Ok(Stored {
        campaign: row.id(0)?,
        shop: row.id(1)?,
        starter: row.id(2)?,
        seed: row.i64(3)? as u64,
        // The terms were checked when the campaign was created and never change.
        terms: BargainTerms { start: row.money(4)?, floor: row.money(5)?, helpers_needed: row.i64(6)? },
        helps: row.i64(7)?,
        current: row.money(8)?,
        status: BargainStatus::parse(&row.text(9)?)?,
        expires_at: row.time(10)?,
    })
}

/// One friend's help: the next cut of the sequence. Refused, changing nothing, for the starter
/// (`bargain_self_help`), a second help (`bargain_already_helped`), a bargain with all K helps
/// or bought (`bargain_finished`) or past its deadline (`bargain_expired`).
pub fn help(sql: &mut dyn Sql, now: Timestamp, id: BargainId, helper: UserId) -> Result<HelpDone, Error> {
    let b = load_locked(sql, id)?;
    if helper == b.starter {
        return Err(Error::new(ErrorCode::BargainSelfHelp, "you cannot help your own bargain; share it with friends"));
    }
    if sql.query_opt("SELECT 1 FROM bargain_helps WHERE bargain_id = $1 AND helper_id = $2", params![id, helper])?.is_some() {
        return Err(already_helped());
    }
    bargain::may_help(b.status_at(now), b.helps, b.terms.helpers_needed)?;
    let cuts = b.terms.cuts(b.seed)?;
    let index = usize::try_from(b.helps).map_err(|_| Error::internal("negative help count"))?;
    let cut = *cuts.get(index).ok_or_else(|| Error::internal("help count beyond the cut sequence"))?;
    let price = b.current.checked_sub(cut)?;
    let taken = sql.execute(
        "UPDATE bargains SET helps = helps + 1, current_fen = $3 \
         WHERE id = $1 AND helps = $2 AND status = 'running' AND expires_at > $4 AND helps < helpers_needed",
        params![id, b.helps, price, now],
    )?;
    if taken == 0 {
        // Another help took this cut between the read and the write (only possible without the
        // row lock); the helper may simply try again.
        return Err(Error::new(ErrorCode::BargainFinished, "another help was recorded at the same moment; try again"));
    }
    let seq = b.helps + 1;
    let inserted = sql.execute(
        "INSERT INTO bargain_helps (bargain_id, helper_id, seq, cut_fen, helped_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        params![id, helper, seq, cut, now],
    )?;
    if inserted == 0 {
        // The error undoes the UPDATE above: the command runs in its own savepoint.
        return Err(already_helped());
    }
    Ok(HelpDone { seq, cut_fen: cut.fen(), current_fen: price.fen(), helps: seq, helpers_needed: b.terms.helpers_needed })
}

fn already_helped() -> Error {
    Error::new(ErrorCode::BargainAlreadyHelped, "you have already helped this bargain")
}

/// The starter's delivery details for the buy. No price: the bargain sets it.
#[derive(Debug, Clone)]
pub struct BargainBuy {
    pub customer: UserId,
    pub recipient: String,
    pub phone: String,
    pub address: String,
    pub note: String,
    pub order_no: String,
    pub pay_window_ms: i64,
    pub shipping: ShippingRule,
}

/// The starter buys one unit at the bargain's current price (under `floor_only`, only once the
/// floor is reached), in the shop the bargain was started in. Takes one unit of the campaign's
/// stock (`campaign_sold_out` when none is left) and places the order through the ordinary
/// pricing pipeline; if that order is cancelled unpaid, [`on_order_cancelled`] gives both back.
pub fn buy(sql: &mut dyn Sql, now: Timestamp, id: BargainId, buy: &BargainBuy, key: Option<&IdempotencyKey>) -> Result<OrderPlaced, Error> {
    if let Some(placed) = key.map(|key| orders::placed_with_key(sql, key)).transpose()?.flatten() {
        return Ok(placed);
    }
    let b = load_locked(sql, id)?;
    if buy.customer != b.starter {
        return Err(Error::new(ErrorCode::Forbidden, "only the customer who started this bargain may buy it"));
    }
    let row = sql.query_one("SELECT sku_id, buy_rule FROM bargain_campaigns WHERE id = $1", params![b.campaign])?;
    let (sku, rule): (SkuId, BuyRule) = (row.id(0)?, BuyRule::parse(&row.text(1)?).map_err(|e| Error::internal(e.message))?);
    bargain::may_buy(b.status_at(now), rule, b.helps, b.terms.helpers_needed)?;
    let taken = sql.execute(
        "UPDATE bargain_campaigns SET stock_used = stock_used + 1 WHERE id = $1 AND stock_used + 1 <= stock_cap",
        params![b.campaign],
    )?;
    if taken == 0 {
        return Err(Error::new(ErrorCode::CampaignSoldOut, "this campaign has sold out"));
    }
    let order = ActivityOrder {
        customer: buy.customer,
        shop: b.shop,
        sku,
        quantity: 1,
        // Read from the bargain row inside this transaction: never from the client.
        unit_price: b.current,
        activity: Activity::Bargain,
        recipient: buy.recipient.clone(),
        phone: buy.phone.clone(),
        address: buy.address.clone(),
        note: buy.note.clone(),
        order_no: buy.order_no.clone(),
        pay_deadline: now.plus_ms(buy.pay_window_ms),
        shipping: buy.shipping,
    };
    let placed = orders::place_activity_order(sql, now, &order, key)?;
    let bought = sql.execute(
        "UPDATE bargains SET status = 'bought', order_id = $2 WHERE id = $1 AND status = 'running' AND helps = $3 AND expires_at > $4",
        params![id, placed.order_id, b.helps, now],
    )?;
    if bought == 0 {
        return Err(Error::new(ErrorCode::BargainFinished, "this bargain changed while it was being bought; try again"));
    }
    Ok(placed)
}

/// Called by `orders::cancel_order` once a bargain order has closed unpaid: the bargain is open
/// to buying again (or reads as expired, if its deadline has passed meanwhile) and the
/// campaign's unit goes back. Does nothing for an order no bargain points at.
pub(crate) fn on_order_cancelled(sql: &mut dyn Sql, now: Timestamp, order: OrderId) -> Result<(), Error> {
    let Some(row) = sql.query_opt("SELECT id, campaign_id FROM bargains WHERE order_id = $1 AND status = 'bought'", params![order])? else {
        return Ok(());
    };
    let (id, campaign): (BargainId, BargainCampaignId) = (row.id(0)?, row.id(1)?);
    sql.execute(
        "UPDATE bargains SET status = CASE WHEN expires_at > $2 THEN 'running' ELSE 'expired' END, order_id = NULL WHERE id = $1",
        params![id, now],
    )?;
    let released =
        sql.execute("UPDATE bargain_campaigns SET stock_used = stock_used - 1 WHERE id = $1 AND stock_used >= 1", params![campaign])?;
    if released == 0 {
        return Err(Error::internal(format!("bargain campaign {campaign}: releasing a unit it never used")));
    }
    Ok(())
}
