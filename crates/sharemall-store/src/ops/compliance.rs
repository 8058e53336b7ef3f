//! The facts the compliance audit judges (`domain::compliance::audit`), counted from the data.

use sharemall_domain::compliance::AuditFacts;
use sharemall_domain::{Error, Timestamp};

use crate::ops::policy;
use crate::params;
use crate::sql::Sql;

/// Deepest chain the invite-tree walk follows: far past any threshold, and a bound on the
/// recursion whatever the data holds.
const MAX_TREE_WALK: i64 = 64;

pub fn audit_facts(sql: &mut dyn Sql, now: Timestamp) -> Result<AuditFacts, Error> {
    let policy = policy::load(sql)?;
    // Each shop owner with the root of their invite tree and their level in it (a root is an
    // owner nobody invited). An inviter always owns a shop opened before the invitee's, so
    // the walk has no cycles; the bound is belt and braces.
    let tree = sql.query_one(
        &format!(
            "WITH RECURSIVE chain (owner_id, root_id, level) AS ( \
                 SELECT owner_id, owner_id, 1 FROM shops WHERE invited_by IS NULL \
                 UNION ALL \
                 SELECT s.owner_id, c.root_id, c.level + 1 FROM shops s JOIN chain c ON s.invited_by = c.owner_id WHERE c.level < {MAX_TREE_WALK} \
             ) \
             SELECT CAST(COALESCE(MAX(level), 0) AS BIGINT), \
                    CAST(COALESCE((SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM chain GROUP BY root_id) sizes), 0) AS BIGINT) FROM chain"
        ),
        params![],
    )?;
    let untied = sql.query_i64(
        "SELECT COUNT(*) FROM ledger_transfers WHERE kind IN ('commission_earned', 'commission_settled', 'commission_voided', 'commission_clawback') \
         AND (order_id IS NULL OR line_no IS NULL)",
        params![],
    )?;
    let charges = sql.query_i64(
        "SELECT COUNT(*) FROM payments p WHERE p.status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = p.order_id)",
        params![],
    )?;
    let bargains =
        sql.query_i64("SELECT COUNT(*) FROM bargain_campaigns WHERE starts_at <= $1 AND ends_at > $1 AND ended_at IS NULL", params![now])?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(AuditFacts {
        policy,
        invite_tree_max_depth: u32::try_from(tree.i64(0)?).unwrap_or(u32::MAX),
        invite_tree_largest_size: count(tree.i64(1)?),
        transfers_not_tied_to_order_line: count(untied),
        charges_without_goods: count(charges),
        live_bargain_campaigns: count(bargains),
    })
}
