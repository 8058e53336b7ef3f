//! The commission policy in force (SPEC 3.8), as the ledger reads it when it splits an order.
//! The table's checks repeat the compliance guard, so no write can store what the guard
//! forbids; without a row the platform defaults apply.

use sharemall_domain::Error;
use sharemall_domain::catalog::COMMISSION_CAP_BPS;

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

impl SplitTerms {
    pub const DEFAULT: SplitTerms = SplitTerms { depth: 1, rate_bps: COMMISSION_CAP_BPS, second_level_rate_bps: 0 };
}

pub fn current(sql: &mut dyn Sql) -> Result<SplitTerms, Error> {
    let row = sql.query_opt("SELECT depth, rate_bps, second_level_rate_bps FROM commission_policy WHERE id = 1", params![])?;
    match row {
        Some(r) => Ok(SplitTerms { depth: r.i64(0)?, rate_bps: r.i64(1)?, second_level_rate_bps: r.i64(2)? }),
        None => Ok(SplitTerms::DEFAULT),
    }
}
