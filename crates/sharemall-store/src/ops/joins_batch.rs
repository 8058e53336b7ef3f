//! SQLite's set-based join path: a run of consecutive group joins in one writer batch, decided
//! together.
//!
//! One join on the generic path ([`super::groups::join_group`]) is about seventeen statements.
//! The writer hands every maximal run of consecutive joins to [`join_run`], which reads the
//! run's groups (with their campaigns) and the joiners' memberships in two queries, decides
//! every join in arrival order in memory exactly as `join_group` would (same checks, same
//! order, same error codes), places the accepted joins' orders through the
//! set-based order path ([`super::orders_sqlite::place_run`]) and then writes the seats, the
//! campaigns' units and the memberships with one statement each.
//!
//! Anything unusual — an Idempotency-Key seen before, an order the order path refuses, a seat or
//! unit count the final conditional `UPDATE`s do not confirm — fails the run, and the writer
//! rolls it back and joins its commands one by one on the generic path. So this path only has
//! to be right about the common case, and the generic path stays the definition.

use sharemall_domain::group_buy::GroupStatus;
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, ShopId, SkuId, Timestamp, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::OrderPlaced;
use crate::ops::groups::{GroupOrder, activity_order};
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::order_batch::OrderCommand;
use crate::ops::orders_sqlite::{insert_rows, json, place_run};
use crate::params;
use crate::sql::{Sql, Value};

/// One join as the writer carries it: what [`crate::Store::join_group`] takes.
#[derive(Debug, Clone)]
pub struct JoinCommand {
    pub now: Timestamp,
    pub group: GroupId,
    pub order: GroupOrder,
    pub key: Option<IdempotencyKey>,
}

const LOAD_GROUPS: &str = "SELECT g.id, g.campaign_id, g.shop_id, g.status, g.expires_at, g.size, g.paid, g.held, \
     c.sku_id, c.group_price_fen, c.per_customer_limit, c.new_customers_only, c.stock_cap, c.stock_used \
     FROM json_each($1) AS j CROSS JOIN buy_groups g ON g.id = j.value JOIN group_campaigns c ON c.id = g.campaign_id";

const LOAD_MEMBERS: &str = "SELECT m.customer_id, m.campaign_id, m.group_id, m.quantity \
     FROM json_each($1) AS j CROSS JOIN buy_group_members m ON m.customer_id = j.value ->> 0 AND m.campaign_id = j.value ->> 1 \
     WHERE m.status IN ('held', 'paid')";

const PAID_BEFORE: &str = "SELECT DISTINCT o.customer_id FROM json_each($1) AS j CROSS JOIN orders o ON o.customer_id = j.value \
     WHERE o.paid_at IS NOT NULL";

const KEYS_USED: &str =
    "SELECT COUNT(*) FROM json_each($1) AS j CROSS JOIN orders k ON k.customer_id = j.value ->> 0 AND k.idem_key = j.value ->> 1";

/// Seats held in the run's groups that each took `$2` seats (listed in `$1`), each confirmed by
/// the rule the generic path states. One statement per distinct count (nearly always one, for
/// 1): the amount is a parameter, not looked up per row in the JSON, which cost a millisecond a run.
const TAKE_SEATS: &str = "UPDATE buy_groups SET held = held + $2 WHERE id IN (SELECT value FROM json_each($1)) \
     AND status = 'open' AND expires_at > $3 AND paid + held + $2 <= size";

/// Units taken in the run's campaigns that each took `$2` units, within each campaign's cap.
const TAKE_UNITS: &str = "UPDATE group_campaigns SET stock_used = stock_used + $2 WHERE id IN (SELECT value FROM json_each($1)) AND stock_used + $2 <= stock_cap";

const INSERT_MEMBERS: &str =
    "INSERT INTO buy_group_members (order_id, group_id, campaign_id, customer_id, quantity, leader, status, joined_at) VALUES ";
const MEMBER_TUPLE: &str = "(?, ?, ?, ?, ?, 0, 'held', ?)";
const MEMBER_WIDTH: usize = 6;

/// A group and its campaign as the run sees them, with the seats and units the run has taken.
struct RunGroup {
    campaign: CampaignId,
    shop: ShopId,
    status: GroupStatus,
    expires_at: Timestamp,
    free: i64,
    sku: SkuId,
    price: sharemall_domain::Money,
    per_customer_limit: i64,
    new_customers_only: bool,
}

/// The run's failure: roll it back and join one by one.
fn fall_back(why: &str) -> Error {
    Error::internal(format!("join run: {why}"))
}

/// Joins a run of commands inside the caller's transaction (and savepoint, if any). `Ok` holds
/// each command's result; `Err` means the run must be rolled back and joined another way.
pub fn join_run(sql: &mut dyn Sql, run: &[JoinCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    let keys: Vec<[String; 2]> = run.iter().filter_map(|c| c.key.as_ref().map(|k| [k.user.to_string(), k.key.clone()])).collect();
    if !keys.is_empty() {
        let distinct: HashSet<&[String; 2]> = keys.iter().collect();
        if distinct.len() != keys.len() || sql.query_i64(KEYS_USED, params![json(&keys)?])? > 0 {
            return Err(fall_back("an Idempotency-Key is replayed"));
        }
    }
    let mut group_ids: Vec<String> = run.iter().map(|c| c.group.to_string()).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let (mut groups, mut units_left) = load_groups(sql, &group_ids)?;

    let pairs: Vec<[String; 2]> =
        run.iter().filter_map(|c| groups.get(&c.group).map(|g| [c.order.customer.to_string(), g.campaign.to_string()])).collect();
    let mut units: HashMap<(UserId, CampaignId), i64> = HashMap::new();
    let mut in_group: HashSet<(UserId, GroupId)> = HashSet::new();
    for row in sql.query(LOAD_MEMBERS, params![json(&pairs)?])? {
        let (customer, campaign): (UserId, CampaignId) = (row.id(0)?, row.id(1)?);
        *units.entry((customer, campaign)).or_insert(0) += row.i64(3)?;
        if let Some(group) = row.opt_text(2)? {
            in_group.insert((customer, group.parse().map_err(|_| fall_back("a bad group id"))?));
        }
    }
    let veterans: HashSet<UserId> = if groups.values().any(|g| g.new_customers_only) {
        let customers: Vec<String> = run.iter().map(|c| c.order.customer.to_string()).collect();
        sql.query(PAID_BEFORE, params![json(&customers)?])?.iter().map(|r| r.id(0)).collect::<Result<_, _>>()?
    } else {
        HashSet::new()
    };

    // Decide in arrival order, as `join_group` would one after the other.
    let mut decided: Vec<Result<usize, Error>> = Vec::with_capacity(run.len());
    let mut orders: Vec<OrderCommand> = Vec::new();
    let mut seats: HashMap<GroupId, i64> = HashMap::new();
    let mut taken_units: HashMap<CampaignId, i64> = HashMap::new();
    for command in run {
        let Some(group) = groups.get_mut(&command.group) else {
            decided.push(Err(Error::not_found("group")));
            continue;
        };
        let (customer, quantity, now) = (command.order.customer, command.order.quantity, command.now);
        let verdict = match group.status {
            GroupStatus::Open if now < group.expires_at => Ok(()),
            GroupStatus::Open | GroupStatus::Failed => Err(Error::new(ErrorCode::GroupExpired, "this group has closed")),
            GroupStatus::Succeeded | GroupStatus::PlatformCompleted => {
                Err(Error::new(ErrorCode::GroupFull, "this group is already complete"))
            }
        }
        .and_then(|()| {
            if in_group.contains(&(customer, command.group)) {
                return Err(Error::new(ErrorCode::AlreadyInGroup, "you are already in this group"));
            }
            let limit = group.per_customer_limit;
            if units.get(&(customer, group.campaign)).copied().unwrap_or(0).saturating_add(quantity) > limit {
                return Err(Error::new(ErrorCode::CampaignLimitReached, format!("this campaign sells at most {limit} per customer")));
            }
            if group.new_customers_only && veterans.contains(&customer) {
                return Err(Error::new(ErrorCode::NewCustomersOnly, "this group is for new customers only"));
            }
            if group.free < 1 {
                return Err(Error::new(ErrorCode::GroupFull, "every seat in this group is taken"));
            }
            if units_left.get(&group.campaign).copied().unwrap_or(0) < quantity {
                return Err(Error::new(ErrorCode::CampaignSoldOut, "this campaign has sold out"));
            }
            Ok(())
        });
        if let Err(e) = verdict {
            decided.push(Err(e));
            continue;
        }
        group.free -= 1;
        *units.entry((customer, group.campaign)).or_insert(0) += quantity;
        *units_left.entry(group.campaign).or_insert(0) -= quantity;
        in_group.insert((customer, command.group));
        *seats.entry(command.group).or_insert(0) += 1;
        *taken_units.entry(group.campaign).or_insert(0) += quantity;
        let deadline = now.plus_ms(command.order.pay_window_ms).min(group.expires_at);
        let activity = activity_order(&command.order, group.shop, group.sku, group.price, deadline);
        orders.push(OrderCommand { now, cmd: activity.as_place_order(now), key: command.key.clone() });
        decided.push(Ok(orders.len() - 1));
    }

    // The accepted joins' orders, set-based; a refusal there would have freed a seat this run
    // already gave away, so it sends the whole run to the generic path.
    let placed = if orders.is_empty() { Vec::new() } else { place_run(sql, &orders)? };
    let placed: Vec<OrderPlaced> = placed.into_iter().collect::<Result<_, _>>().map_err(|e| fall_back(&e.to_string()))?;

    // Every seat was decided at its own command's time; confirming them all at the latest
    // accepted one is at least as strict.
    let latest = run.iter().zip(&decided).filter(|(_, slot)| slot.is_ok()).map(|(c, _)| c.now).max().unwrap_or(Timestamp(0));
    confirm(sql, TAKE_SEATS, &seats.iter().map(|(g, n)| (g.to_string(), *n)).collect(), Some(latest), "seats")?;
    confirm(sql, TAKE_UNITS, &taken_units.iter().map(|(c, n)| (c.to_string(), *n)).collect(), None, "units")?;
    let mut values = Vec::with_capacity(placed.len() * MEMBER_WIDTH);
    for (command, slot) in run.iter().zip(&decided) {
        let (Ok(index), Some(group)) = (slot, groups.get(&command.group)) else { continue };
        let order = placed.get(*index).ok_or_else(|| fall_back("an order went missing"))?;
        values.extend([
            Value::from(order.order_id),
            Value::from(command.group),
            Value::from(group.campaign),
            Value::from(command.order.customer),
            Value::Int(command.order.quantity),
            Value::from(command.now),
        ]);
    }
    insert_rows(sql, INSERT_MEMBERS, MEMBER_TUPLE, MEMBER_WIDTH, &values)?;
    decided
        .into_iter()
        .map(|slot| match slot {
            Ok(index) => placed.get(index).cloned().ok_or_else(|| fall_back("an order went missing")).map(Ok),
            Err(e) => Ok(Err(e)),
        })
        .collect()
}

type Loaded = (HashMap<GroupId, RunGroup>, HashMap<CampaignId, i64>);

fn load_groups(sql: &mut dyn Sql, ids: &[String]) -> Result<Loaded, Error> {
    let mut groups = HashMap::with_capacity(ids.len());
    let mut units_left = HashMap::new();
    for row in sql.query(LOAD_GROUPS, params![json(ids)?])? {
        let campaign: CampaignId = row.id(1)?;
        let size = row.i64(5)?;
        groups.insert(
            row.id::<GroupId>(0)?,
            RunGroup {
                campaign,
                shop: row.id(2)?,
                status: GroupStatus::parse(&row.text(3)?)?,
                expires_at: row.time(4)?,
                free: size - row.i64(6)? - row.i64(7)?,
                sku: row.id(8)?,
                price: row.money(9)?,
                per_customer_limit: row.i64(10)?,
                new_customers_only: row.bool(11)?,
            },
        );
        units_left.insert(campaign, row.i64(12)? - row.i64(13)?);
    }
    Ok((groups, units_left))
}

/// Applies a conditional `UPDATE` to every `(id, n)`, one statement per distinct `n`, and fails
/// the run unless each row took it.
fn confirm(sql: &mut dyn Sql, statement: &str, amounts: &HashMap<String, i64>, now: Option<Timestamp>, what: &str) -> Result<(), Error> {
    let mut by_amount: BTreeMap<i64, Vec<&String>> = BTreeMap::new();
    for (id, n) in amounts {
        by_amount.entry(*n).or_default().push(id);
    }
    for (n, ids) in by_amount {
        let changed = match now {
            Some(now) => sql.execute(statement, params![json(&ids)?, n, now])?,
            None => sql.execute(statement, params![json(&ids)?, n])?,
        };
        if changed != ids.len() as u64 {
            return Err(fall_back(&format!("{what} confirmed on {changed} of {} rows", ids.len())));
        }
    }
    Ok(())
}
