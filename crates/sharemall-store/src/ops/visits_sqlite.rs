//! Share visits recorded set-based on SQLite: a run of consecutive visits in one writer batch is
//! resolved with one query, bound with one insert per run, and written with multi-row inserts,
//! leaving exactly the rows and giving exactly the answers that [`super::shares::record_visit`]
//! run command by command would.
//!
//! Only a visitor's first visit in the run can bind set-based: a later one in the same run meets
//! the binding the first just made, so it is bound command by command with the same statements
//! as the generic path, after the set-based step.

use sharemall_domain::{Error, ShopId};
use std::collections::{HashMap, HashSet};

use crate::ops::orders_sqlite::{insert_rows, json};
use crate::ops::shares::{ResolvedShare, Visit, VisitCommand, bind, binding_of};
use crate::params;
use crate::sql::{Sql, Value};

const RESOLVE: &str = "SELECT s.code, s.target_kind, s.target_id, s.shop_id, s.sharer_id, s.expires_at \
     FROM json_each($1) AS j CROSS JOIN shares s ON s.code = j.value";

const INSERT_VISITS: &str = "INSERT INTO share_visits (code, visitor, device, visited_at, bound) VALUES ";
const VISIT_TUPLE: &str = "(?, ?, ?, ?, ?)";
const VISIT_WIDTH: usize = 5;

/// `WHERE true` lets SQLite tell the upsert clause from a join on the `SELECT`.
const BIND_NEW: &str = "INSERT INTO customer_bindings (visitor, shop_id, share_code, bound_at, protected_until) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 FROM json_each($1) AS j WHERE true \
     ON CONFLICT (visitor) DO NOTHING RETURNING visitor";

const TAKE_OVER: &str = "UPDATE customer_bindings SET shop_id = j.value ->> 1, share_code = j.value ->> 2, bound_at = j.value ->> 3, \
     protected_until = j.value ->> 4 FROM json_each($1) AS j \
     WHERE customer_bindings.visitor = j.value ->> 0 AND customer_bindings.protected_until IS NOT NULL \
     AND customer_bindings.protected_until <= j.value ->> 3 AND customer_bindings.shop_id <> j.value ->> 1 RETURNING customer_bindings.visitor";

const BOUND_SHOPS: &str = "SELECT b.visitor, b.shop_id FROM json_each($1) AS j CROSS JOIN customer_bindings b ON b.visitor = j.value";

/// Records a run of visits inside the caller's savepoint. `Ok` holds each command's result, in
/// order; `Err` means the run must be rolled back and recorded another way.
pub fn record_run(sql: &mut dyn Sql, run: &[VisitCommand]) -> Result<Vec<Result<Visit, Error>>, Error> {
    // 1. Every code of the run, in one query.
    let codes: Vec<&str> = run.iter().map(|v| v.code.as_str()).collect();
    let mut shares: HashMap<String, (ResolvedShare, Option<i64>)> = HashMap::new();
    for row in sql.query(RESOLVE, params![json(&codes)?])? {
        let share = ResolvedShare {
            code: row.text(0)?,
            target_kind: row.text(1)?,
            target_id: row.text(2)?,
            shop_id: row.id(3)?,
            sharer_id: row.id(4)?,
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
        for row in sql.query(BIND_NEW, params![json(&all)?])? {
            bound_now.insert(row.text(0)?);
        }
        let rest: Vec<&[serde_json::Value; 5]> =
            firsts.iter().map(|(_, b)| b).filter(|b| b[0].as_str().is_some_and(|v| !bound_now.contains(v))).collect();
        if !rest.is_empty() {
            for row in sql.query(TAKE_OVER, params![json(&rest)?])? {
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
        for row in sql.query(BOUND_SHOPS, params![json(&others)?])? {
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
    let mut values = Vec::with_capacity(run.len() * VISIT_WIDTH);
    for (visit, result) in run.iter().zip(&results) {
        if let Ok(recorded) = result {
            values.extend([
                Value::from(visit.code.as_str()),
                Value::from(visit.visitor.as_str()),
                Value::from(visit.device.as_str()),
                Value::from(visit.now),
                Value::Bool(recorded.bound_now),
            ]);
        }
    }
    insert_rows(sql, INSERT_VISITS, VISIT_TUPLE, VISIT_WIDTH, &values)?;
    Ok(results)
}

/// A binding row as JSON: visitor, shop, share code, bound at, protected until.
fn binding_json(visit: &VisitCommand, shop: ShopId) -> [serde_json::Value; 5] {
    let until = visit.policy.protected_until(visit.now).map(|t| t.millis());
    [visit.visitor.as_str().into(), shop.to_string().into(), visit.code.as_str().into(), visit.now.millis().into(), until.into()]
}
