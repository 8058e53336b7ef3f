//! Share visits recorded set-based: a run of consecutive visits in one writer batch is resolved
//! with one query, bound with one insert per run, and written with one or a few multi-row
//! inserts, leaving exactly the rows and giving exactly the answers that
//! [`super::shares::record_visit`] run command by command would. The same steps on both
//! backends; only the SQL that unpacks the run's parameters differs (SQLite's `json_each` and
//! positional multi-row `VALUES`, PostgreSQL's `jsonb_array_elements`).
//!
//! Only a visitor's first visit in the run can bind set-based: a later one in the same run meets
//! the binding the first just made, so it is bound command by command with the same statements
//! as the generic path, after the set-based step.

use sharemall_domain::{Error, ShopId};
use std::collections::{HashMap, HashSet};

use crate::ops::orders_sqlite::{insert_rows, json};
use crate::ops::shares::{ResolvedShare, Visit, VisitCommand, bind, binding_of};
use crate::params;
use crate::sql::{Backend, Sql, Value};

/// The statements of a run, in one backend's dialect. Each takes one JSON array parameter.
struct Dialect {
    /// Codes → the shares (code, target kind and id, shop, sharer, expiry, group, bargain).
    resolve: &'static str,
    /// [visitor, shop, code, bound_at, protected_until] rows → bindings made, `RETURNING visitor`.
    bind_new: &'static str,
    /// The same rows → lapsed bindings taken over, `RETURNING visitor`.
    take_over: &'static str,
    /// Visitors → (visitor, bound shop).
    bound_shops: &'static str,
}

const SQLITE: Dialect = Dialect {
    resolve: "SELECT s.code, s.target_kind, s.target_id, s.shop_id, s.sharer_id, s.expires_at, s.group_id, s.bargain_id \
     FROM json_each($1) AS j CROSS JOIN shares s ON s.code = j.value",
    // `WHERE true` lets SQLite tell the upsert clause from a join on the `SELECT`.
    bind_new: "INSERT INTO customer_bindings (visitor, shop_id, share_code, bound_at, protected_until) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 FROM json_each($1) AS j WHERE true \
     ON CONFLICT (visitor) DO NOTHING RETURNING visitor",
    take_over: "UPDATE customer_bindings SET shop_id = j.value ->> 1, share_code = j.value ->> 2, bound_at = j.value ->> 3, \
     protected_until = j.value ->> 4 FROM json_each($1) AS j \
     WHERE customer_bindings.visitor = j.value ->> 0 AND customer_bindings.protected_until IS NOT NULL \
     AND customer_bindings.protected_until <= j.value ->> 3 AND customer_bindings.shop_id <> j.value ->> 1 RETURNING customer_bindings.visitor",
    bound_shops: "SELECT b.visitor, b.shop_id FROM json_each($1) AS j CROSS JOIN customer_bindings b ON b.visitor = j.value",
};

/// The run's ids reach PostgreSQL's planner through `= ANY(ARRAY(…))`, never as a join against
/// `jsonb_array_elements`: the planner estimates a set-returning function at 100 rows whatever it
/// holds, and against a table of a few thousand rows a sequential scan then looks cheaper than
/// 100 index probes. Measured (share-visit, the server's log of statements over 1 ms): the
/// take-over `UPDATE` took 2.2 ms a run 915 times and the bound-shops read 1.5 ms 666 times,
/// most of the writer's time. The index alone was not enough: a generic plan made on the nearly
/// empty table still scanned it, so the run is also planned for its parameters
/// ([`with_custom_plans`]).
const POSTGRES: Dialect = Dialect {
    resolve: "SELECT s.code, s.target_kind, s.target_id, s.shop_id, s.sharer_id, s.expires_at, s.group_id, s.bargain_id \
     FROM shares s WHERE s.code = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb))))",
    bind_new: "INSERT INTO customer_bindings (visitor, shop_id, share_code, bound_at, protected_until) \
     SELECT x ->> 0, x ->> 1, x ->> 2, CAST(x ->> 3 AS BIGINT), CAST(x ->> 4 AS BIGINT) \
     FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x \
     ON CONFLICT (visitor) DO NOTHING RETURNING visitor",
    take_over: "UPDATE customer_bindings SET shop_id = x ->> 1, share_code = x ->> 2, bound_at = CAST(x ->> 3 AS BIGINT), \
     protected_until = CAST(x ->> 4 AS BIGINT) FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS x \
     WHERE customer_bindings.visitor = ANY(ARRAY(SELECT y ->> 0 FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) AS y)) \
     AND customer_bindings.visitor = x ->> 0 AND customer_bindings.protected_until IS NOT NULL \
     AND customer_bindings.protected_until <= CAST(x ->> 3 AS BIGINT) AND customer_bindings.shop_id <> x ->> 1 \
     RETURNING customer_bindings.visitor",
    bound_shops: "SELECT b.visitor, b.shop_id FROM customer_bindings b \
     WHERE b.visitor = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(CAST($1 AS TEXT) AS jsonb))))",
};

const INSERT_VISITS: &str = "INSERT INTO share_visits (code, visitor, device, visited_at, bound) VALUES ";
const VISIT_TUPLE: &str = "(?, ?, ?, ?, ?)";
const VISIT_WIDTH: usize = 5;

/// PostgreSQL numbers visits in the order the rows are produced, so `ORDER BY` keeps arrival order.
const INSERT_VISITS_PG: &str = "INSERT INTO share_visits (code, visitor, device, visited_at, bound) \
     SELECT x ->> 0, x ->> 1, x ->> 2, CAST(x ->> 3 AS BIGINT), CAST(x ->> 4 AS BOOLEAN) \
     FROM jsonb_array_elements(CAST(CAST($1 AS TEXT) AS jsonb)) WITH ORDINALITY AS t(x, n) ORDER BY n";

/// Records a run of visits inside the caller's transaction (and savepoint, if any). `Ok` holds
/// each command's result, in order; `Err` means the run must be rolled back and recorded
/// another way.
pub fn record_run(sql: &mut dyn Sql, run: &[VisitCommand]) -> Result<Vec<Result<Visit, Error>>, Error> {
    match sql.backend() {
        Backend::Sqlite => record(sql, &SQLITE, run),
        Backend::Postgres => with_custom_plans(sql, |sql| record(sql, &POSTGRES, run)),
    }
}

/// Runs `work` with every statement planned for its actual parameters, then returns to the
/// default for the rest of the transaction (a failure is rolled back, and the setting with it).
///
/// The bindings table starts empty and grows by a row per first visitor. After five executions
/// PostgreSQL may keep a generic plan, and one made while the table was nearly empty scans it:
/// measured on share-visit, such a plan held for the whole run about half the time (4.1–8.2k
/// visits/s from run to run, against 6.0–8.6k with custom plans, alternating). The setting is
/// not the writer's for every batch: planning each of a group join's statements every time
/// cost that path about a third (2.2–3.4k joins/s against 3.1–5.4k).
fn with_custom_plans<T>(sql: &mut dyn Sql, work: impl FnOnce(&mut dyn Sql) -> Result<T, Error>) -> Result<T, Error> {
    sql.batch("SET LOCAL plan_cache_mode = force_custom_plan")?;
    let done = work(sql)?;
    sql.batch("SET LOCAL plan_cache_mode = DEFAULT")?;
    Ok(done)
}

fn record(sql: &mut dyn Sql, dialect: &Dialect, run: &[VisitCommand]) -> Result<Vec<Result<Visit, Error>>, Error> {
    // 1. Every code of the run, in one query.
    let codes: Vec<&str> = run.iter().map(|v| v.code.as_str()).collect();
    let mut shares: HashMap<String, (ResolvedShare, Option<i64>)> = HashMap::new();
    for row in sql.query(dialect.resolve, params![json(&codes)?])? {
        let share = ResolvedShare {
            code: row.text(0)?,
            target_kind: row.text(1)?,
            target_id: row.text(2)?,
            shop_id: row.id(3)?,
            sharer_id: row.id(4)?,
            group_id: row.opt_text(6)?,
            bargain_id: row.opt_text(7)?,
        };
        shares.insert(share.code.clone(), (share, row.opt_i64(5)?));
    }
    let live = |visit: &VisitCommand| {
        shares
            .get(visit.code.as_str())
            .filter(|(_, expires)| expires.is_none_or(|at| at > visit.now.millis()))
            .map(|(share, _)| share.clone())
            .ok_or_else(|| Error::not_found("share"))
    };
    let resolved: Vec<Result<ResolvedShare, Error>> = run.iter().map(live).collect();

    // 2. Each visitor's first visit binds set-based: new bindings, then lapsed ones taken over.
    let mut seen: HashSet<&str> = HashSet::new();
    let mut firsts: Vec<(usize, [serde_json::Value; 5])> = Vec::new();
    for (i, (visit, share)) in run.iter().zip(&resolved).enumerate() {
        if let Ok(share) = share
            && seen.insert(visit.visitor.as_str())
        {
            firsts.push((i, binding_json(visit, share.shop_id)));
        }
    }
    let mut bound_now: HashSet<String> = HashSet::new();
    if !firsts.is_empty() {
        let all: Vec<&[serde_json::Value; 5]> = firsts.iter().map(|(_, b)| b).collect();
        for row in sql.query(dialect.bind_new, params![json(&all)?])? {
            bound_now.insert(row.text(0)?);
        }
        let rest: Vec<&[serde_json::Value; 5]> =
            firsts.iter().map(|(_, b)| b).filter(|b| b[0].as_str().is_some_and(|v| !bound_now.contains(v))).collect();
        if !rest.is_empty() {
            for row in sql.query(dialect.take_over, params![json(&rest)?])? {
                bound_now.insert(row.text(0)?);
            }
        }
    }
    // A visitor this run bound is bound to the share's shop; only the others are looked up.
    let mut bound_shop: HashMap<String, ShopId> = HashMap::with_capacity(firsts.len());
    let mut others: Vec<&str> = Vec::new();
    for (i, _) in &firsts {
        let (visitor, share) = (&run[*i].visitor, &resolved[*i]);
        match share {
            Ok(share) if bound_now.contains(visitor) => {
                bound_shop.insert(visitor.clone(), share.shop_id);
            }
            _ => others.push(visitor),
        }
    }
    if !others.is_empty() {
        for row in sql.query(dialect.bound_shops, params![json(&others)?])? {
            bound_shop.insert(row.text(0)?, row.id(1)?);
        }
    }

    // 3. Answers in order; a visitor's later visits in the run bind one by one, as they would have.
    let first_of: HashSet<usize> = firsts.iter().map(|(i, _)| *i).collect();
    let mut results = Vec::with_capacity(run.len());
    for (i, (visit, share)) in run.iter().zip(resolved).enumerate() {
        let result = match share {
            Err(e) => Err(e),
            Ok(share) if first_of.contains(&i) => {
                let shop = *bound_shop.get(&visit.visitor).ok_or_else(|| Error::internal("a visit left its visitor unbound"))?;
                Ok(Visit { bound_now: bound_now.contains(&visit.visitor), bound_shop: shop, share })
            }
            Ok(share) => {
                let now_bound = bind(sql, visit, share.shop_id)?;
                let shop = binding_of(sql, &visit.visitor)?.ok_or_else(|| Error::internal("a visit left its visitor unbound"))?;
                Ok(Visit { bound_now: now_bound, bound_shop: shop, share })
            }
        };
        results.push(result);
    }

    // 4. The visits, in arrival order, each saying whether it bound its visitor.
    let recorded: Vec<(&VisitCommand, bool)> =
        run.iter().zip(&results).filter_map(|(visit, result)| result.as_ref().ok().map(|r| (visit, r.bound_now))).collect();
    insert_visits(sql, &recorded)?;
    Ok(results)
}

/// Inserts the run's visit rows: positional multi-row `VALUES` on SQLite (binding hundreds of
/// `$n` names costs a lookup each there), one JSON parameter on PostgreSQL.
fn insert_visits(sql: &mut dyn Sql, recorded: &[(&VisitCommand, bool)]) -> Result<(), Error> {
    if recorded.is_empty() {
        return Ok(());
    }
    if sql.backend() == Backend::Postgres {
        let rows: Vec<(&str, &str, &str, i64, bool)> =
            recorded.iter().map(|(v, bound)| (v.code.as_str(), v.visitor.as_str(), v.device.as_str(), v.now.millis(), *bound)).collect();
        let inserted = sql.execute(INSERT_VISITS_PG, params![json(&rows)?])?;
        if inserted != rows.len() as u64 {
            return Err(Error::internal(format!("visit run: inserted {inserted} of {} visits", rows.len())));
        }
        return Ok(());
    }
    let mut values = Vec::with_capacity(recorded.len() * VISIT_WIDTH);
    for (visit, bound) in recorded {
        values.extend([
            Value::from(visit.code.as_str()),
            Value::from(visit.visitor.as_str()),
            Value::from(visit.device.as_str()),
            Value::from(visit.now),
            Value::Bool(*bound),
        ]);
    }
    insert_rows(sql, INSERT_VISITS, VISIT_TUPLE, VISIT_WIDTH, &values)
}

/// A binding row as JSON: visitor, shop, share code, bound at, protected until.
fn binding_json(visit: &VisitCommand, shop: ShopId) -> [serde_json::Value; 5] {
    let until = visit.policy.protected_until(visit.now).map(|t| t.millis());
    [visit.visitor.as_str().into(), shop.to_string().into(), visit.code.as_str().into(), visit.now.millis().into(), until.into()]
}
