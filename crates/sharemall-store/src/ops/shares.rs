//! Shares, visits through them, and the customer binding (客户关系绑定) a first visit creates.
//!
//! A visitor is `u:<user id>` when signed in and `a:<cookie id>` otherwise. One binding row per
//! visitor, keyed by the visitor, so two shares visited at the same instant bind exactly once:
//! the second insert finds the row taken. A binding past its protection may be taken over by
//! the next share visit; a permanent one never.

use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::{BargainId, Error, GroupId, ProductId, ShopId, Timestamp, UserId};

use crate::params;
use crate::sql::Sql;

/// What is being shared. Kinds beyond these arrive with their capabilities (coupon,
/// membership); the column is open text for that reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareTarget {
    Product(ProductId),
    Shop,
    /// A group (团): a share of the campaign's product in the group's shop whose link lands on
    /// the group's page.
    Group(GroupId),
    /// A bargain (砍价): a share of the campaign's product in the bargain's shop whose link
    /// lands on the bargain's page, where friends help.
    Bargain(BargainId),
}

impl ShareTarget {
    fn kind(self) -> &'static str {
        match self {
            ShareTarget::Product(_) | ShareTarget::Group(_) | ShareTarget::Bargain(_) => "product",
            ShareTarget::Shop => "shop",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewShare {
    pub code: ShareCode,
    pub target: ShareTarget,
    pub shop: ShopId,
    pub sharer: UserId,
    /// The share through which the sharer arrived, if any.
    pub parent: Option<ShareCode>,
    pub channel: Channel,
    pub expires_at: Option<Timestamp>,
}

/// Records a share. The target must be sellable through the shop (a product the shop carries,
/// the shop itself, or a group opened or a bargain started in the shop); the parent, if given,
/// must exist.
pub fn create_share(sql: &mut dyn Sql, now: Timestamp, new: &NewShare) -> Result<(), Error> {
    let mut group_id = None;
    let mut bargain_id = None;
    let target_id = match new.target {
        ShareTarget::Group(group) => {
            let row = sql
                .query_opt(
                    "SELECT c.product_id FROM buy_groups g JOIN group_campaigns c ON c.id = g.campaign_id WHERE g.id = $1 AND g.shop_id = $2",
                    params![group, new.shop],
                )?
                .ok_or_else(|| Error::not_found("group in this shop"))?;
            group_id = Some(group.to_string());
            row.text(0)?
        }
        ShareTarget::Bargain(bargain) => {
            // The bargain's own shop only: its buy happens there, so that is the shop a
            // friend arriving through the share is bound to.
            let row = sql
                .query_opt(
                    "SELECT c.product_id FROM bargains b JOIN bargain_campaigns c ON c.id = b.campaign_id WHERE b.id = $1 AND b.shop_id = $2",
                    params![bargain, new.shop],
                )?
                .ok_or_else(|| Error::not_found("bargain in this shop"))?;
            bargain_id = Some(bargain.to_string());
            row.text(0)?
        }
        ShareTarget::Product(product) => {
            let carried =
                sql.query_opt("SELECT 1 FROM shop_products WHERE shop_id = $1 AND product_id = $2", params![new.shop, product])?;
            carried.ok_or_else(|| Error::not_found("product in this shop"))?;
            product.to_string()
        }
        ShareTarget::Shop => {
            sql.query_opt("SELECT 1 FROM shops WHERE id = $1", params![new.shop])?.ok_or_else(|| Error::not_found("shop"))?;
            new.shop.to_string()
        }
    };
    let parent = new.parent.as_ref().map(|p| p.as_str().to_string());
    if let Some(parent) = &parent {
        sql.query_opt("SELECT 1 FROM shares WHERE code = $1", params![parent.as_str()])?.ok_or_else(|| Error::not_found("parent share"))?;
    }
    sql.execute(
        "INSERT INTO shares (code, target_kind, target_id, shop_id, sharer_id, parent_code, channel, created_at, expires_at, group_id, \
         bargain_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        params![
            new.code.as_str(),
            new.target.kind(),
            target_id,
            new.shop,
            new.sharer,
            parent,
            new.channel.as_str(),
            now,
            new.expires_at,
            group_id,
            bargain_id
        ],
    )?;
    Ok(())
}

/// A share as a visit resolves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedShare {
    pub code: String,
    pub target_kind: String,
    pub target_id: String,
    pub shop_id: ShopId,
    pub sharer_id: UserId,
    /// Set for a share of a group: its link lands on the group's page.
    pub group_id: Option<String>,
    /// Set for a share of a bargain: its link lands on the bargain's page.
    pub bargain_id: Option<String>,
}

/// Finds a live share; an unknown or expired code is simply "not found".
pub fn resolve(sql: &mut dyn Sql, now: Timestamp, code: &ShareCode) -> Result<ResolvedShare, Error> {
    let row = sql
        .query_opt(
            "SELECT code, target_kind, target_id, shop_id, sharer_id, expires_at, group_id, bargain_id FROM shares WHERE code = $1",
            params![code.as_str()],
        )?
        .filter(|r| r.opt_time(5).ok().flatten().is_none_or(|expires| expires > now))
        .ok_or_else(|| Error::not_found("share"))?;
    Ok(ResolvedShare {
        code: row.text(0)?,
        target_kind: row.text(1)?,
        target_id: row.text(2)?,
        shop_id: row.id(3)?,
        sharer_id: row.id(4)?,
        group_id: row.opt_text(6)?,
        bargain_id: row.opt_text(7)?,
    })
}

/// What a visit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub share: ResolvedShare,
    /// The shop the visitor is bound to after this visit.
    pub bound_shop: ShopId,
    /// Whether this visit made (or took over) the binding.
    pub bound_now: bool,
}

/// A visit to record: what [`crate::Store::record_visit`] takes, as data so that the writer can
/// record a run of them together ([`super::visits_batch`]).
#[derive(Debug, Clone)]
pub struct VisitCommand {
    pub now: Timestamp,
    pub code: ShareCode,
    /// `u:<user id>` or `a:<cookie id>`.
    pub visitor: String,
    pub device: String,
    pub policy: BindingPolicy,
}

/// Records a visit through a share and binds the visitor to the share's shop when they are not
/// bound, or their binding's protection has run out.
pub fn record_visit(sql: &mut dyn Sql, visit: &VisitCommand) -> Result<Visit, Error> {
    let share = resolve(sql, visit.now, &visit.code)?;
    let bound_now = bind(sql, visit, share.shop_id)?;
    sql.execute(
        "INSERT INTO share_visits (code, visitor, device, visited_at, bound) VALUES ($1, $2, $3, $4, $5)",
        params![visit.code.as_str(), visit.visitor.as_str(), visit.device.as_str(), visit.now, bound_now],
    )?;
    let bound_shop = binding_of(sql, &visit.visitor)?.ok_or_else(|| Error::internal("a visit left its visitor unbound"))?;
    Ok(Visit { share, bound_shop, bound_now })
}

/// Binds the visitor to `shop` unless a binding still protected (or permanent) holds them.
/// Returns whether this visit bound them.
pub(crate) fn bind(sql: &mut dyn Sql, visit: &VisitCommand, shop: ShopId) -> Result<bool, Error> {
    let (now, until) = (visit.now, visit.policy.protected_until(visit.now));
    let inserted = sql.execute(
        "INSERT INTO customer_bindings (visitor, shop_id, share_code, bound_at, protected_until) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (visitor) DO NOTHING",
        params![visit.visitor.as_str(), shop, visit.code.as_str(), now, until],
    )?;
    if inserted == 1 {
        return Ok(true);
    }
    // Taken over only once the old binding's protection has lapsed (never when permanent).
    let taken = sql.execute(
        "UPDATE customer_bindings SET shop_id = $2, share_code = $3, bound_at = $4, protected_until = $5 \
         WHERE visitor = $1 AND protected_until IS NOT NULL AND protected_until <= $4 AND shop_id <> $2",
        params![visit.visitor.as_str(), shop, visit.code.as_str(), now, until],
    )?;
    Ok(taken == 1)
}

/// The shop a visitor is bound to, if any.
pub fn binding_of(sql: &mut dyn Sql, visitor: &str) -> Result<Option<ShopId>, Error> {
    sql.query_opt("SELECT shop_id FROM customer_bindings WHERE visitor = $1", params![visitor])?.map(|r| r.id(0)).transpose()
}

/// When an anonymous visitor signs up or in, their binding moves to the account, unless the
/// account is already bound, and their visits become the account's: they were the same person,
/// so the share that led them in can be the last touch of their first order, and they count
/// once among a share's visitors and bound customers. Returns the account's binding afterwards.
pub fn carry_over(sql: &mut dyn Sql, anonymous: &str, user: &str) -> Result<Option<ShopId>, Error> {
    // An account already bound was no new customer: the anonymous visits bound no one.
    if binding_of(sql, user)?.is_some() {
        sql.execute("UPDATE share_visits SET visitor = $2, bound = $3 WHERE visitor = $1", params![anonymous, user, false])?;
    } else {
        sql.execute("UPDATE share_visits SET visitor = $2 WHERE visitor = $1", params![anonymous, user])?;
    }
    sql.execute(
        "INSERT INTO customer_bindings (visitor, shop_id, share_code, bound_at, protected_until) \
         SELECT CAST($2 AS TEXT), shop_id, share_code, bound_at, protected_until FROM customer_bindings WHERE visitor = $1 \
         ON CONFLICT (visitor) DO NOTHING",
        params![anonymous, user],
    )?;
    sql.execute("DELETE FROM customer_bindings WHERE visitor = $1", params![anonymous])?;
    binding_of(sql, user)
}

/// How long a share visit counts as the one that led to an order.
pub const LAST_TOUCH_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

/// Who an order is attributed to, decided when it is placed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The shop the customer was bound to (客户关系绑定); commission follows it.
    pub bound_shop: Option<ShopId>,
    /// The last share of the order's shop the customer came through within
    /// [`LAST_TOUCH_WINDOW_MS`].
    pub share_code: Option<String>,
    /// The buyer is that share's sharer, or the owner of the shop that would earn on the order:
    /// recorded so that the ledger pays nothing on it.
    pub self_referral: bool,
}

/// The attribution of an order `customer` places in `shop` now, read inside the order's own
/// transaction. The set-based order paths read the same three facts for a whole batch in one
/// query and decide with [`Attribution::decide`].
pub fn attribution_for(sql: &mut dyn Sql, now: Timestamp, customer: UserId, shop: ShopId) -> Result<Attribution, Error> {
    let visitor = format!("u:{customer}");
    let bound_shop: Option<ShopId> = binding_of(sql, &visitor)?;
    // Ties on the millisecond go to the later row, so every path picks the same visit.
    let last_touch = sql.query_opt(
        "SELECT v.code, s.sharer_id FROM share_visits v JOIN shares s ON s.code = v.code \
         WHERE v.visitor = $1 AND v.visited_at >= $2 AND s.shop_id = $3 ORDER BY v.visited_at DESC, v.id DESC LIMIT 1",
        params![visitor.as_str(), last_touch_cutoff(now), shop],
    )?;
    let last_touch = match last_touch {
        Some(row) => Some((row.text(0)?, row.id::<UserId>(1)?)),
        None => None,
    };
    let earning_shop = bound_shop.unwrap_or(shop);
    let owner: Option<UserId> =
        sql.query_opt("SELECT owner_id FROM shops WHERE id = $1", params![earning_shop])?.map(|r| r.id(0)).transpose()?;
    Ok(Attribution::decide(customer, bound_shop, last_touch, owner))
}

/// The share through which `user` last came to `shop` (within the last-touch window), unless
/// it is their own: the parent of a share they make now, which is how the fission tree grows.
pub fn arrived_through(sql: &mut dyn Sql, now: Timestamp, user: UserId, shop: ShopId) -> Result<Option<ShareCode>, Error> {
    let row = sql.query_opt(
        "SELECT v.code FROM share_visits v JOIN shares s ON s.code = v.code \
         WHERE v.visitor = $1 AND v.visited_at >= $2 AND s.shop_id = $3 AND s.sharer_id <> $4 ORDER BY v.visited_at DESC, v.id DESC LIMIT 1",
        params![format!("u:{user}"), last_touch_cutoff(now), shop, user],
    )?;
    row.map(|r| ShareCode::parse(&r.text(0)?)).transpose()
}

/// A share as its sharer sees it again: what it leads to, for rebuilding its forms.
pub fn own_share(sql: &mut dyn Sql, code: &ShareCode, sharer: UserId) -> Result<Option<ResolvedShare>, Error> {
    let row = sql.query_opt(
        "SELECT code, target_kind, target_id, shop_id, sharer_id, group_id, bargain_id FROM shares WHERE code = $1 AND sharer_id = $2",
        params![code.as_str(), sharer],
    )?;
    row.map(|r| {
        Ok(ResolvedShare {
            code: r.text(0)?,
            target_kind: r.text(1)?,
            target_id: r.text(2)?,
            shop_id: r.id(3)?,
            sharer_id: r.id(4)?,
            group_id: r.opt_text(5)?,
            bargain_id: r.opt_text(6)?,
        })
    })
    .transpose()
}

/// The oldest visit that still counts as the last touch of an order placed at `now`.
pub fn last_touch_cutoff(now: Timestamp) -> Timestamp {
    now.plus_ms(-LAST_TOUCH_WINDOW_MS)
}

impl Attribution {
    /// The rule, given what the store knows: the binding, the last-touch share and its sharer,
    /// and the owner of the shop that would earn (the bound shop, else the order's).
    pub fn decide(
        customer: UserId,
        bound_shop: Option<ShopId>,
        last_touch: Option<(String, UserId)>,
        earning_owner: Option<UserId>,
    ) -> Attribution {
        let sharer = last_touch.as_ref().map(|(_, sharer)| *sharer);
        Attribution {
            bound_shop,
            share_code: last_touch.map(|(code, _)| code),
            self_referral: sharer == Some(customer) || earning_owner == Some(customer),
        }
    }
}
