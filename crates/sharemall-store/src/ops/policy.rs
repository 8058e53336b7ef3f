//! The commission policy in force (SPEC 3.8). Saving passes the compliance guard first, so a
//! direct store call is refused exactly as the API and the file are; the table's checks repeat
//! the guard's limits as a last line. Without a row the platform defaults apply.

use sharemall_domain::compliance::{Binding, CommissionPolicy, Risk, check_policy};
use sharemall_domain::{Error, Timestamp, UserId};

use crate::params;
use crate::sql::Sql;

/// What the split needs of the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitTerms {
    /// 1: only the attributed shop's owner earns; 2: their inviter too.
    pub depth: i64,
    /// The highest first-level rate any line pays.
    pub rate_bps: i64,
    pub second_level_rate_bps: i64,
}

pub fn current(sql: &mut dyn Sql) -> Result<SplitTerms, Error> {
    let p = load(sql)?;
    Ok(SplitTerms { depth: p.depth, rate_bps: p.rate_bps, second_level_rate_bps: p.second_level_rate_bps })
}

/// The settlement buffer in force: the stored policy's, or `default_ms` (the settings file's)
/// until an operator has set a policy.
pub fn settle_buffer_ms(sql: &mut dyn Sql, default_ms: i64) -> Result<i64, Error> {
    let days = sql.query_opt("SELECT settle_buffer_days FROM commission_policy WHERE id = 1", params![])?;
    match days {
        Some(row) => Ok(row.i64(0)?.saturating_mul(sharemall_domain::time::DAY_MS)),
        None => Ok(default_ms),
    }
}

pub fn load(sql: &mut dyn Sql) -> Result<CommissionPolicy, Error> {
    let row = sql.query_opt(
        "SELECT depth, rate_bps, second_level_rate_bps, acknowledge_second_level_risk, settle_buffer_days, binding, protection_days \
         FROM commission_policy WHERE id = 1",
        params![],
    )?;
    let Some(r) = row else { return Ok(CommissionPolicy::DEFAULT) };
    let binding = match r.text(5)?.as_str() {
        "permanent" => Binding::Permanent,
        _ => Binding::Protected { days: r.i64(6)? },
    };
    Ok(CommissionPolicy {
        depth: r.i64(0)?,
        rate_bps: r.i64(1)?,
        second_level_rate_bps: r.i64(2)?,
        acknowledge_second_level_risk: r.i64(3)? == 1,
        settle_buffer_days: r.i64(4)?,
        binding,
    })
}

/// Stores a policy that passes the guard; returns the risks it reports. Refused policies
/// change nothing.
pub fn save(sql: &mut dyn Sql, now: Timestamp, by: Option<UserId>, policy: &CommissionPolicy) -> Result<Vec<Risk>, Error> {
    let risks = check_policy(policy)?;
    let (binding, days) = match policy.binding {
        Binding::Protected { days } => ("protected", days),
        Binding::Permanent => ("permanent", 15),
    };
    sql.execute(
        "INSERT INTO commission_policy (id, depth, rate_bps, second_level_rate_bps, acknowledge_second_level_risk, settle_buffer_days, \
         binding, protection_days, updated_at, updated_by) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET depth = excluded.depth, rate_bps = excluded.rate_bps, \
         second_level_rate_bps = excluded.second_level_rate_bps, acknowledge_second_level_risk = excluded.acknowledge_second_level_risk, \
         settle_buffer_days = excluded.settle_buffer_days, binding = excluded.binding, protection_days = excluded.protection_days, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        params![
            policy.depth,
            policy.rate_bps,
            policy.second_level_rate_bps,
            i64::from(policy.acknowledge_second_level_risk),
            policy.settle_buffer_days,
            binding,
            days,
            now,
            by
        ],
    )?;
    Ok(risks)
}
