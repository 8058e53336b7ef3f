//! The set-based join path: a run of consecutive group joins in one writer batch, decided
//! together, on either backend.
//!
//! One join on the generic path ([`super::groups::join_group`]) is about seventeen statements,
//! and on PostgreSQL each is a round trip. The writer hands every maximal run of consecutive
//! joins to [`join_run`], which reads the run's groups (with their campaigns) and the joiners'
//! memberships in two queries, decides every join in arrival order in memory exactly as
//! `join_group` would (same checks, same order, same error codes), places the accepted joins'
//! orders through the backend's set-based order statements ([`super::orders_sqlite::place_run`],
//! [`super::orders_pg::place_in_transaction`]) and then writes the seats, the campaigns' units
//! and the memberships with one statement each. Only the SQL that unpacks the run differs by
//! backend ([`Dialect`]).
//!
//! Anything unusual — an Idempotency-Key seen before, an order the order path refuses, a seat or
//! unit count the final conditional `UPDATE`s do not confirm — fails the run, and the writer
//! rolls it back and joins its commands one by one on the generic path. So this path only has
//! to be right about the common case, and the generic path stays the definition.

use sharemall_domain::group_buy::GroupStatus;
use sharemall_domain::{CampaignId, Error, ErrorCode, GroupId, OrderId, ShopId, SkuId, Timestamp, UserId};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::OrderPlaced;
use crate::ops::groups::{GroupOrder, activity_order};
use crate::ops::idempotency::IdempotencyKey;
use crate::ops::order_batch::OrderCommand;
use crate::ops::orders_pg::place_in_transaction;
use crate::ops::orders_sqlite::{insert_rows, json, place_run};
use crate::params;
use crate::sql::{Backend, Sql, Value};

/// One join as the writer carries it: what [`crate::Store::join_group`] takes.
#[derive(Debug, Clone)]
pub struct JoinCommand {
    pub now: Timestamp,
    pub group: GroupId,
    pub order: GroupOrder,
    pub key: Option<IdempotencyKey>,
}

/// The run's reads and conditional updates in one backend's dialect. Each unpacks a JSON array
/// parameter: SQLite's `json_each`, PostgreSQL's `jsonb_array_elements`.
///
/// On PostgreSQL another process may join, pay or sweep the same rows at the same time, so the
/// run takes its locks in the order the generic path takes them (group, then campaign, then
/// SKU: [`super::groups::join_group`]): the groups in id order as it loads them, then the
/// campaigns in id order, and only then the SKUs, which the order path locks. Locking the SKUs
/// first, as the run once did, deadlocked against a generic join of the same group (measured:
/// `40P01` in three of eight runs of `three_joiners_per_seat_fill_it_exactly`).
struct Dialect {
    /// Group ids → each group with its campaign.
    load_groups: &'static str,
    /// Campaign ids → each campaign's units left, locked (PostgreSQL); SQLite's single writer
    /// needs no locks and reads the units with the groups.
    lock_campaigns: Option<&'static str>,
    /// [customer, campaign] pairs → the live memberships of each customer in each campaign.
    load_members: &'static str,
    /// Customers → those with a paid order (for 老带新 campaigns).
    paid_before: &'static str,
    /// [customer, key] pairs → how many already name an order.
    keys_used: &'static str,
    /// Seats held in the run's groups that each took `$2` seats (listed in `$1`), each confirmed
    /// by the rule the generic path states. One statement per distinct count (nearly always one,
    /// for 1): the amount is a parameter, not looked up per row in the JSON, which cost a
    /// millisecond a run.
    take_seats: &'static str,
    /// Units taken in the run's campaigns that each took `$2` units, within each campaign's cap.
    take_units: &'static str,
}

const SQLITE: Dialect = Dialect {
    load_groups: "SELECT g.id, g.campaign_id, g.shop_id, g.status, g.expires_at, g.size, g.paid, g.held, \
     c.sku_id, c.group_price_fen, c.per_customer_limit, c.new_customers_only, c.stock_cap, c.stock_used \
     FROM json_each($1) AS j CROSS JOIN buy_groups g ON g.id = j.value JOIN group_campaigns c ON c.id = g.campaign_id",
    lock_campaigns: None,
    // `+m.status`: one seek per pair on (customer, campaign), whose few memberships are then
    // filtered from the covering index, instead of one seek per status.
    load_members: "SELECT m.customer_id, m.campaign_id, m.group_id, m.quantity \
     FROM json_each($1) AS j CROSS JOIN buy_group_members m ON m.customer_id = j.value ->> 0 AND m.campaign_id = j.value ->> 1 \
     WHERE +m.status IN ('held', 'paid')",
    paid_before: "SELECT DISTINCT o.customer_id FROM json_each($1) AS j CROSS JOIN orders o ON o.customer_id = j.value \
     WHERE o.paid_at IS NOT NULL",
    keys_used: "SELECT COUNT(*) FROM json_each($1) AS j CROSS JOIN orders k ON k.customer_id = j.value ->> 0 AND k.idem_key = j.value ->> 1",
    take_seats: "UPDATE buy_groups SET held = held + $2 WHERE id IN (SELECT value FROM json_each($1)) \
     AND status = 'open' AND expires_at > $3 AND paid + held + $2 <= size",
    take_units: "UPDATE group_campaigns SET stock_used = stock_used + $2 WHERE id IN (SELECT value FROM json_each($1)) \
     AND stock_used + $2 <= stock_cap",
};

/// PostgreSQL estimates a set-returning function at 100 rows whatever it holds, so a join of the
/// run's ids against a table of a few thousand rows looks cheaper as a full scan and a hash join
/// than as 100 index probes (8,000 groups: 1.5 ms a statement; at 50,000 rows it probes the
/// index again). `= ANY(ARRAY(…))` turns the ids into one array first, which the planner looks
/// up through the index at any size.
const POSTGRES: Dialect = Dialect {
    load_groups: "SELECT g.id, g.campaign_id, g.shop_id, g.status, g.expires_at, g.size, g.paid, g.held, \
     c.sku_id, c.group_price_fen, c.per_customer_limit, c.new_customers_only, c.stock_cap, c.stock_used \
     FROM buy_groups g JOIN group_campaigns c ON c.id = g.campaign_id \
     WHERE g.id = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)))) \
     ORDER BY g.id COLLATE \"C\" FOR UPDATE OF g",
    lock_campaigns: Some(
        "SELECT id, stock_cap - stock_used FROM group_campaigns \
         WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)))) ORDER BY id COLLATE \"C\" FOR UPDATE",
    ),
    load_members: "SELECT m.customer_id, m.campaign_id, m.group_id, m.quantity FROM buy_group_members m \
     WHERE m.customer_id = ANY(ARRAY(SELECT x ->> 0 FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x)) \
     AND (m.customer_id, m.campaign_id) IN (SELECT x ->> 0, x ->> 1 FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x) \
     AND m.status IN ('held', 'paid')",
    paid_before: "SELECT DISTINCT o.customer_id FROM orders o \
     WHERE o.customer_id = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)))) AND o.paid_at IS NOT NULL",
    keys_used: "SELECT COUNT(*) FROM orders k \
     WHERE k.customer_id = ANY(ARRAY(SELECT x ->> 0 FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x)) \
     AND (k.customer_id, k.idem_key) IN (SELECT x ->> 0, x ->> 1 FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x)",
    // The seat rule is one `CASE`, so that the planner cannot serve `status = 'open' AND
    // expires_at > $3` from the sweeper's partial index (`buy_groups_due`): before the table's
    // first ANALYZE it estimates that index at a few rows and reads every open group through it.
    take_seats: "UPDATE buy_groups SET held = held + $2 \
     WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)))) \
     AND CASE WHEN status = 'open' THEN expires_at > $3 AND paid + held + $2 <= size ELSE false END",
    take_units: "UPDATE group_campaigns SET stock_used = stock_used + $2 \
     WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb)))) AND stock_used + $2 <= stock_cap",
};

const INSERT_MEMBERS: &str =
    "INSERT INTO buy_group_members (order_id, group_id, campaign_id, customer_id, quantity, leader, status, joined_at) VALUES ";
const MEMBER_TUPLE: &str = "(?, ?, ?, ?, ?, 0, 'held', ?)";
const MEMBER_WIDTH: usize = 6;
const INSERT_MEMBERS_PG: &str = "INSERT INTO buy_group_members (order_id, group_id, campaign_id, customer_id, quantity, leader, status, joined_at) \
     SELECT x ->> 0, x ->> 1, x ->> 2, x ->> 3, CAST(x ->> 4 AS BIGINT), false, 'held', CAST(x ->> 5 AS BIGINT) \
     FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x";

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
    let dialect = match sql.backend() {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    let keys: Vec<[String; 2]> = run.iter().filter_map(|c| c.key.as_ref().map(|k| [k.user.to_string(), k.key.clone()])).collect();
    if !keys.is_empty() {
        let distinct: HashSet<&[String; 2]> = keys.iter().collect();
        if distinct.len() != keys.len() || sql.query_i64(dialect.keys_used, params![json(&keys)?])? > 0 {
            return Err(fall_back("an Idempotency-Key is replayed"));
        }
    }
    let mut group_ids: Vec<String> = run.iter().map(|c| c.group.to_string()).collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let (mut groups, mut units_left) = load_groups(sql, dialect, &group_ids)?;

    let pairs: Vec<[String; 2]> =
        run.iter().filter_map(|c| groups.get(&c.group).map(|g| [c.order.customer.to_string(), g.campaign.to_string()])).collect();
    let mut units: HashMap<(UserId, CampaignId), i64> = HashMap::new();
    let mut in_group: HashSet<(UserId, GroupId)> = HashSet::new();
    for row in sql.query(dialect.load_members, params![json(&pairs)?])? {
        let (customer, campaign): (UserId, CampaignId) = (row.id(0)?, row.id(1)?);
        *units.entry((customer, campaign)).or_insert(0) += row.i64(3)?;
        if let Some(group) = row.opt_text(2)? {
            in_group.insert((customer, group.parse().map_err(|_| fall_back("a bad group id"))?));
        }
    }
    let veterans: HashSet<UserId> = if groups.values().any(|g| g.new_customers_only) {
        let customers: Vec<String> = run.iter().map(|c| c.order.customer.to_string()).collect();
        sql.query(dialect.paid_before, params![json(&customers)?])?.iter().map(|r| r.id(0)).collect::<Result<_, _>>()?
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
    let placed = if orders.is_empty() { Vec::new() } else { place_orders(sql, &orders)? };
    let placed: Vec<OrderPlaced> = placed.into_iter().collect::<Result<_, _>>().map_err(|e| fall_back(&e.to_string()))?;

    // Every seat was decided at its own command's time; confirming them all at the latest
    // accepted one is at least as strict.
    let latest = run.iter().zip(&decided).filter(|(_, slot)| slot.is_ok()).map(|(c, _)| c.now).max().unwrap_or(Timestamp(0));
    confirm(sql, dialect.take_seats, &seats.iter().map(|(g, n)| (g.to_string(), *n)).collect(), Some(latest), "seats")?;
    confirm(sql, dialect.take_units, &taken_units.iter().map(|(c, n)| (c.to_string(), *n)).collect(), None, "units")?;
    let mut members = Vec::with_capacity(placed.len());
    for (command, slot) in run.iter().zip(&decided) {
        let (Ok(index), Some(group)) = (slot, groups.get(&command.group)) else { continue };
        let order = placed.get(*index).ok_or_else(|| fall_back("an order went missing"))?;
        members.push(NewMember { order: order.order_id, command, campaign: group.campaign });
    }
    insert_members(sql, &members)?;
    decided
        .into_iter()
        .map(|slot| match slot {
            Ok(index) => placed.get(index).cloned().ok_or_else(|| fall_back("an order went missing")).map(Ok),
            Err(e) => Ok(Err(e)),
        })
        .collect()
}

/// The accepted joins' orders, in the run's transaction: SQLite's set-based order path, or
/// PostgreSQL's (the statements of its order shards, on the writer's connection).
fn place_orders(sql: &mut dyn Sql, orders: &[OrderCommand]) -> Result<Vec<Result<OrderPlaced, Error>>, Error> {
    match sql.backend() {
        Backend::Sqlite => place_run(sql, orders),
        Backend::Postgres => match sql.as_postgres() {
            Some(conn) => place_in_transaction(conn, orders),
            None => Err(fall_back("the order statements need the PostgreSQL connection itself")),
        },
    }
}

/// A membership the run writes: a held seat of `command`'s customer, for its placed order.
struct NewMember<'a> {
    order: OrderId,
    command: &'a JoinCommand,
    campaign: CampaignId,
}

fn insert_members(sql: &mut dyn Sql, members: &[NewMember<'_>]) -> Result<(), Error> {
    match sql.backend() {
        Backend::Sqlite => insert_members_sqlite(sql, members),
        Backend::Postgres => insert_members_pg(sql, members),
    }
}

/// Positional multi-row `VALUES`, in chunks ([`insert_rows`]).
fn insert_members_sqlite(sql: &mut dyn Sql, members: &[NewMember<'_>]) -> Result<(), Error> {
    let mut values = Vec::with_capacity(members.len() * MEMBER_WIDTH);
    for m in members {
        values.extend([
            Value::from(m.order),
            Value::from(m.command.group),
            Value::from(m.campaign),
            Value::from(m.command.order.customer),
            Value::Int(m.command.order.quantity),
            Value::from(m.command.now),
        ]);
    }
    insert_rows(sql, INSERT_MEMBERS, MEMBER_TUPLE, MEMBER_WIDTH, &values)
}

/// One `INSERT … SELECT` over the rows as a JSON array.
fn insert_members_pg(sql: &mut dyn Sql, members: &[NewMember<'_>]) -> Result<(), Error> {
    let rows: Vec<(String, String, String, String, i64, i64)> = members
        .iter()
        .map(|m| {
            let (command, order) = (m.command, &m.command.order);
            (
                m.order.to_string(),
                command.group.to_string(),
                m.campaign.to_string(),
                order.customer.to_string(),
                order.quantity,
                command.now.millis(),
            )
        })
        .collect();
    sql.execute(INSERT_MEMBERS_PG, params![json(&rows)?])?;
    Ok(())
}

type Loaded = (HashMap<GroupId, RunGroup>, HashMap<CampaignId, i64>);

fn load_groups(sql: &mut dyn Sql, dialect: &Dialect, ids: &[String]) -> Result<Loaded, Error> {
    let mut groups = HashMap::with_capacity(ids.len());
    let mut units_left = HashMap::new();
    for row in sql.query(dialect.load_groups, params![json(ids)?])? {
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
    if let Some(lock_campaigns) = dialect.lock_campaigns {
        // Read again under the lock: the units read with the groups may have moved since.
        let mut campaigns: Vec<String> = units_left.keys().map(ToString::to_string).collect();
        campaigns.sort_unstable();
        for row in sql.query(lock_campaigns, params![json(&campaigns)?])? {
            units_left.insert(row.id(0)?, row.i64(1)?);
        }
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
