//! Share statistics and the fission tree (裂变树) of one shop (SPEC 3.3, 3.10).
//!
//! What each number counts, per share:
//! - `visits`: every visit recorded through the share; `unique_visitors`: distinct visitors (an
//!   anonymous visitor who later signed in counts once: carry-over moved their visits).
//! - `bound_customers`: visits through the share that bound their visitor: a first binding, or
//!   one taken over after the old protection lapsed. An event count, so a share keeps the credit
//!   for a customer it brought even if another share takes them over later; an anonymous visitor
//!   whose account was already bound when they signed in counts for nobody.
//! - `orders`: orders whose last-touch share it is and that are paid and not fully returned,
//!   i.e. [`OrderStatus::is_paid`]: awaiting_group, to_ship, shipped, received, completed, refunding. Not
//!   `created` (unpaid: the deadline may still cancel it), not `cancelled` (never paid), not
//!   `refunded` (every fen went back). So orders and GMV count the same orders, and GMV ÷ orders
//!   is a real average order value.
//! - `gmv_fen`: Σ (paid − refunded) over those orders; partial refunds are taken off.
//! - `reshares`: shares of the same shop made through this one (its children). A re-share into
//!   another shop is a root of that shop's tree and its numbers are that shop's.
//!
//! Self-referred orders count: they are real sales; only commission ignores them.
//!
//! Everything is computed with a handful of GROUP BY queries over one shop; nothing runs a query
//! per share. The tree is read one page of roots at a time with a recursive CTE (the same SQL on
//! both backends), and every result is bounded by the constants below.

use serde::Serialize;
use sharemall_domain::order::OrderStatus;
use sharemall_domain::{Error, ShopId, UserId};
use std::collections::HashMap;
use utoipa::ToSchema;

use crate::params;
use crate::sql::{Backend, Row, Sql};

/// Most root shares (and their re-shares) in one page of the tree.
pub const MAX_ROOTS_PER_PAGE: i64 = 50;
/// Most shares one page of the tree holds; past it the tree is cut, shallowest levels kept.
pub const MAX_TREE_NODES: usize = 2_000;
/// How deep the walk down re-shares goes. Parents always exist before their children, so there
/// are no cycles; this only keeps a pathological chain from running on.
pub const MAX_TREE_DEPTH: i64 = 100;
/// Most sharers listed, best first (GMV, then orders, then visits).
pub const MAX_SHARERS: i64 = 100;

/// A page of root shares: 1-based `page`, `per_page` of 1 to [`MAX_ROOTS_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootPage {
    pub page: i64,
    pub per_page: i64,
}

impl RootPage {
    /// Clamps what a caller asked for; the default is the first full page.
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> RootPage {
        RootPage { page: page.unwrap_or(1).clamp(1, 10_000), per_page: per_page.unwrap_or(MAX_ROOTS_PER_PAGE).clamp(1, MAX_ROOTS_PER_PAGE) }
    }

    fn offset(self) -> i64 {
        (self.page - 1) * self.per_page
    }
}

/// The numbers of one share, one sharer or a whole shop (see the module docs for each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShareCounts {
    pub visits: i64,
    pub unique_visitors: i64,
    pub bound_customers: i64,
    pub orders: i64,
    pub gmv_fen: i64,
    pub reshares: i64,
}

/// One share in the fission tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShareNode {
    pub code: String,
    /// The share this one was made through; `null` for a root (also when that share is another
    /// shop's, which this shop may not see).
    pub parent_code: Option<String>,
    /// 0 for a root.
    pub depth: i64,
    pub target_kind: String,
    pub target_id: String,
    /// The product's title, or the shop's name for a shop share.
    pub target_title: Option<String>,
    pub channel: String,
    #[schema(value_type = String)]
    pub sharer_id: UserId,
    pub sharer_name: String,
    pub created_at: i64,
    pub stats: ShareCounts,
    /// Positions in [`ShareTree::nodes`] of the re-shares drawn under this one, oldest first.
    pub children: Vec<usize>,
}

/// One page of a shop's fission tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShareTree {
    /// Pre-order: each root (oldest first), then its re-shares depth first, oldest first.
    pub nodes: Vec<ShareNode>,
    /// Number of nodes.
    pub size: usize,
    /// Depth of the deepest node (0 when there are only roots or none).
    pub max_depth: i64,
    /// More than [`MAX_TREE_NODES`] shares hang from this page's roots; the deepest levels were
    /// left out (every share shown still has its parent shown).
    pub truncated: bool,
}

/// A sharer's totals over their shares in the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SharerStats {
    #[schema(value_type = String)]
    pub sharer_id: UserId,
    pub sharer_name: String,
    pub shares: i64,
    /// `unique_visitors` is distinct over all their shares, not a sum.
    pub stats: ShareCounts,
}

/// The shop's totals over all its shares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShopShareTotals {
    pub shares: i64,
    /// Shares that start a tree; `stats.reshares` are the others.
    pub roots: i64,
    pub stats: ShareCounts,
}

/// What the shop owner's "My shares" shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShopShareStats {
    #[schema(value_type = String)]
    pub shop_id: ShopId,
    pub page: i64,
    pub per_page: i64,
    /// Further pages of roots exist.
    pub has_more: bool,
    pub totals: ShopShareTotals,
    pub tree: ShareTree,
    pub sharers: Vec<SharerStats>,
}

/// Everything "My shares" shows for `shop`, read in one go.
pub fn shop_share_stats(sql: &mut dyn Sql, shop: ShopId, page: RootPage) -> Result<ShopShareStats, Error> {
    let totals = shop_totals(sql, shop)?;
    let tree = share_tree(sql, shop, page)?;
    let sharers = sharer_stats(sql, shop, MAX_SHARERS)?;
    let has_more = page.offset().saturating_add(page.per_page) < totals.roots;
    Ok(ShopShareStats { shop_id: shop, page: page.page, per_page: page.per_page, has_more, totals, tree, sharers })
}

/// `'to_ship', 'shipped', …`: the statuses whose orders count, from the domain's own rule.
fn counted_statuses() -> String {
    OrderStatus::ALL.iter().filter(|s| s.is_paid()).map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

impl ShareCounts {
    /// The six numbers, in field order, from `row` starting at column `first`: every stats
    /// query selects them in that order.
    fn from_row(row: &Row, first: usize) -> Result<ShareCounts, Error> {
        Ok(ShareCounts {
            visits: row.i64(first)?,
            unique_visitors: row.i64(first + 1)?,
            bound_customers: row.i64(first + 2)?,
            orders: row.i64(first + 3)?,
            gmv_fen: row.i64(first + 4)?,
            reshares: row.i64(first + 5)?,
        })
    }
}

/// The visits that bound their visitor, as a BIGINT on both backends (`bound` is an integer on
/// SQLite and a boolean on PostgreSQL; both read as a condition).
const BOUND_SUM: &str = "CAST(SUM(CASE WHEN v.bound THEN 1 ELSE 0 END) AS BIGINT)";

/// A root is a share of the shop with no parent, or whose parent is another shop's share.
const ROOT_FILTER: &str = "s.shop_id = $1 AND (p.code IS NULL OR p.shop_id <> s.shop_id)";

/// The shop's totals. Unique visitors are distinct over the whole shop.
pub fn shop_totals(sql: &mut dyn Sql, shop: ShopId) -> Result<ShopShareTotals, Error> {
    let row = sql.query_one(
        &format!(
            "SELECT \
             (SELECT COUNT(*) FROM shares WHERE shop_id = $1), \
             (SELECT COUNT(*) FROM shares s LEFT JOIN shares p ON p.code = s.parent_code WHERE {ROOT_FILTER}), \
             (SELECT COUNT(*) FROM share_visits v JOIN shares s ON s.code = v.code WHERE s.shop_id = $1), \
             (SELECT COUNT(DISTINCT v.visitor) FROM share_visits v JOIN shares s ON s.code = v.code WHERE s.shop_id = $1), \
             (SELECT COUNT(*) FROM share_visits v JOIN shares s ON s.code = v.code WHERE s.shop_id = $1 AND v.bound), \
             (SELECT COUNT(*) FROM orders o JOIN shares s ON s.code = o.share_code WHERE s.shop_id = $1 AND o.status IN ({statuses})), \
             (SELECT CAST(COALESCE(SUM(o.paid_fen - o.refunded_fen), 0) AS BIGINT) FROM orders o JOIN shares s ON s.code = o.share_code \
              WHERE s.shop_id = $1 AND o.status IN ({statuses}))",
            statuses = counted_statuses()
        ),
        params![shop],
    )?;
    let (shares, roots) = (row.i64(0)?, row.i64(1)?);
    let stats = ShareCounts {
        visits: row.i64(2)?,
        unique_visitors: row.i64(3)?,
        bound_customers: row.i64(4)?,
        orders: row.i64(5)?,
        gmv_fen: row.i64(6)?,
        reshares: shares - roots,
    };
    Ok(ShopShareTotals { shares, roots, stats })
}

/// One page of the shop's tree: `page.per_page` roots, oldest first, with every share made
/// through them (up to [`MAX_TREE_NODES`]), each with its numbers. One query: the recursive walk
/// down `parent_code` (index `shares_parent`), then one GROUP BY per kind of number over the
/// page's shares. Those are written `code IN (SELECT code FROM page)` rather than as joins so
/// that SQLite, which has no statistics, looks the page's codes up in the indexes on visits and
/// orders by share code instead of scanning those indexes whole (customers bound are counted
/// from the visits that bound them).
pub fn share_tree(sql: &mut dyn Sql, shop: ShopId, page: RootPage) -> Result<ShareTree, Error> {
    // SQLite fills a recursive CTE before the outer LIMIT applies, so there the walk itself is
    // limited (its queue is first in, first out: shallowest first). PostgreSQL refuses a LIMIT
    // inside the recursion and needs none: it walks only as far as the outer LIMIT reads.
    let walk_limit = match sql.backend() {
        Backend::Sqlite => " LIMIT $5",
        Backend::Postgres => "",
    };
    let query = format!(
        "WITH RECURSIVE \
         roots (code) AS ( \
           SELECT s.code FROM shares s LEFT JOIN shares p ON p.code = s.parent_code WHERE {ROOT_FILTER} \
           ORDER BY s.created_at, s.code LIMIT $2 OFFSET $3), \
         tree (code, depth) AS ( \
           SELECT code, 0 FROM roots \
           UNION ALL \
           SELECT c.code, t.depth + 1 FROM tree t JOIN shares c ON c.parent_code = t.code WHERE c.shop_id = $1 AND t.depth < $4{walk_limit}), \
         page (code, depth) AS (SELECT code, depth FROM tree LIMIT $5), \
         visit_counts (code, visits, visitors, bound) AS ( \
           SELECT v.code, COUNT(*), COUNT(DISTINCT v.visitor), {bound_sum} FROM share_visits v WHERE v.code IN (SELECT code FROM page) GROUP BY v.code), \
         order_counts (code, orders, gmv) AS ( \
           SELECT o.share_code, COUNT(*), CAST(SUM(o.paid_fen - o.refunded_fen) AS BIGINT) FROM orders o \
           WHERE o.share_code IN (SELECT code FROM page) AND o.status IN ({statuses}) GROUP BY o.share_code), \
         reshare_counts (code, reshares) AS ( \
           SELECT c.parent_code, COUNT(*) FROM shares c WHERE c.parent_code IN (SELECT code FROM page) AND c.shop_id = $1 GROUP BY c.parent_code) \
         SELECT s.code, CASE WHEN g.depth = 0 THEN NULL ELSE s.parent_code END, g.depth, s.target_kind, s.target_id, \
           CASE s.target_kind WHEN 'product' THEN pr.title WHEN 'shop' THEN sh.name END, s.channel, s.sharer_id, u.display_name, s.created_at, \
           COALESCE(vc.visits, 0), COALESCE(vc.visitors, 0), COALESCE(vc.bound, 0), COALESCE(oc.orders, 0), COALESCE(oc.gmv, 0), \
           COALESCE(rc.reshares, 0) \
         FROM page g JOIN shares s ON s.code = g.code JOIN users u ON u.id = s.sharer_id JOIN shops sh ON sh.id = s.shop_id \
         LEFT JOIN products pr ON s.target_kind = 'product' AND pr.id = s.target_id \
         LEFT JOIN visit_counts vc ON vc.code = s.code \
         LEFT JOIN order_counts oc ON oc.code = s.code LEFT JOIN reshare_counts rc ON rc.code = s.code",
        statuses = counted_statuses(),
        bound_sum = BOUND_SUM
    );
    // One more row than kept, to know whether the tree was cut.
    let limit = i64::try_from(MAX_TREE_NODES).unwrap_or(i64::MAX).saturating_add(1);
    let rows = sql.query(&query, params![shop, page.per_page, page.offset(), MAX_TREE_DEPTH, limit])?;
    let nodes = rows.iter().map(node_row).collect::<Result<Vec<_>, _>>()?;
    Ok(assemble(nodes))
}

fn node_row(row: &Row) -> Result<ShareNode, Error> {
    Ok(ShareNode {
        code: row.text(0)?,
        parent_code: row.opt_text(1)?,
        depth: row.i64(2)?,
        target_kind: row.text(3)?,
        target_id: row.text(4)?,
        target_title: row.opt_text(5)?,
        channel: row.text(6)?,
        sharer_id: row.id(7)?,
        sharer_name: row.text(8)?,
        created_at: row.i64(9)?,
        stats: ShareCounts::from_row(row, 10)?,
        children: Vec::new(),
    })
}

/// Orders the walked shares into a tree: children under their parents, oldest first, in
/// pre-order. The walk is breadth first and stops after one row more than [`MAX_TREE_NODES`];
/// past that many the shallowest (then oldest) are kept, which keeps every kept share's parent.
/// A share whose parent is missing anyway is dropped, never shown as a root.
fn assemble(mut nodes: Vec<ShareNode>) -> ShareTree {
    let truncated = nodes.len() > MAX_TREE_NODES;
    nodes.sort_by(|a, b| (a.depth, a.created_at, &a.code).cmp(&(b.depth, b.created_at, &b.code)));
    nodes.truncate(MAX_TREE_NODES);

    // Parents come before children in this order, so one pass finds every node's parent.
    let mut position: HashMap<String, usize> = HashMap::with_capacity(nodes.len());
    let mut kept: Vec<ShareNode> = Vec::with_capacity(nodes.len());
    let mut roots = Vec::new();
    for node in nodes {
        let parent = if node.depth == 0 { None } else { node.parent_code.as_ref().and_then(|p| position.get(p)).copied() };
        let index = kept.len();
        match parent {
            Some(parent) => kept[parent].children.push(index),
            None if node.depth == 0 => roots.push(index),
            None => continue,
        }
        position.insert(node.code.clone(), index);
        kept.push(node);
    }

    // Pre-order walk; children were pushed oldest first, so pop them in reverse.
    let mut order = Vec::with_capacity(kept.len());
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(index) = stack.pop() {
        order.push(index);
        stack.extend(kept[index].children.iter().rev());
    }
    let mut new_position = vec![0; kept.len()];
    for (new, &old) in order.iter().enumerate() {
        new_position[old] = new;
    }
    let mut slots: Vec<Option<ShareNode>> = kept.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(order.len());
    for old in order {
        if let Some(mut node) = slots[old].take() {
            node.children = node.children.iter().map(|&c| new_position[c]).collect();
            ordered.push(node);
        }
    }
    let max_depth = ordered.iter().map(|n| n.depth).max().unwrap_or(0);
    ShareTree { size: ordered.len(), max_depth, truncated, nodes: ordered }
}

/// Each sharer's totals over their shares in the shop, best first (GMV, orders, visits), at most
/// `limit`. One query: per-sharer GROUP BYs joined on the sharer.
pub fn sharer_stats(sql: &mut dyn Sql, shop: ShopId, limit: i64) -> Result<Vec<SharerStats>, Error> {
    let query = format!(
        "WITH mine (code, sharer_id) AS (SELECT code, sharer_id FROM shares WHERE shop_id = $1), \
         share_counts (sharer_id, shares) AS (SELECT sharer_id, COUNT(*) FROM mine GROUP BY sharer_id), \
         visit_counts (sharer_id, visits, visitors, bound) AS ( \
           SELECT m.sharer_id, COUNT(*), COUNT(DISTINCT v.visitor), {bound_sum} FROM share_visits v JOIN mine m ON m.code = v.code GROUP BY m.sharer_id), \
         order_counts (sharer_id, orders, gmv) AS ( \
           SELECT m.sharer_id, COUNT(*), CAST(SUM(o.paid_fen - o.refunded_fen) AS BIGINT) FROM orders o JOIN mine m ON m.code = o.share_code \
           WHERE o.status IN ({statuses}) GROUP BY m.sharer_id), \
         reshare_counts (sharer_id, reshares) AS ( \
           SELECT m.sharer_id, COUNT(*) FROM shares c JOIN mine m ON m.code = c.parent_code WHERE c.shop_id = $1 GROUP BY m.sharer_id) \
         SELECT sc.sharer_id, u.display_name, sc.shares, COALESCE(vc.visits, 0), COALESCE(vc.visitors, 0), COALESCE(vc.bound, 0), \
           COALESCE(oc.orders, 0), COALESCE(oc.gmv, 0), COALESCE(rc.reshares, 0) \
         FROM share_counts sc JOIN users u ON u.id = sc.sharer_id \
         LEFT JOIN visit_counts vc ON vc.sharer_id = sc.sharer_id \
         LEFT JOIN order_counts oc ON oc.sharer_id = sc.sharer_id LEFT JOIN reshare_counts rc ON rc.sharer_id = sc.sharer_id \
         ORDER BY COALESCE(oc.gmv, 0) DESC, COALESCE(oc.orders, 0) DESC, COALESCE(vc.visits, 0) DESC, sc.shares DESC, sc.sharer_id \
         LIMIT $2",
        statuses = counted_statuses(),
        bound_sum = BOUND_SUM
    );
    sql.query(&query, params![shop, limit.clamp(1, MAX_SHARERS)])?
        .iter()
        .map(|row| {
            Ok(SharerStats { sharer_id: row.id(0)?, sharer_name: row.text(1)?, shares: row.i64(2)?, stats: ShareCounts::from_row(row, 3)? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, parent: Option<&str>, depth: i64, created_at: i64) -> ShareNode {
        ShareNode {
            code: code.into(),
            parent_code: parent.map(str::to_string),
            depth,
            target_kind: "shop".into(),
            target_id: String::new(),
            target_title: None,
            channel: "chat".into(),
            sharer_id: UserId::new(),
            sharer_name: code.into(),
            created_at,
            stats: ShareCounts::default(),
            children: Vec::new(),
        }
    }

    #[test]
    fn assembles_pre_order_with_children_oldest_first() {
        // Rows arrive in any order.
        let tree = assemble(vec![
            node("b2", Some("a"), 1, 30),
            node("c", Some("b1"), 2, 40),
            node("r2", None, 0, 5),
            node("a", None, 0, 1),
            node("b1", Some("a"), 1, 20),
        ]);
        let codes: Vec<&str> = tree.nodes.iter().map(|n| n.code.as_str()).collect();
        assert_eq!(codes, ["a", "b1", "c", "b2", "r2"]);
        assert_eq!(tree.nodes[0].children, [1, 3]);
        assert_eq!(tree.nodes[1].children, [2]);
        assert!(tree.nodes[4].children.is_empty());
        assert_eq!((tree.size, tree.max_depth, tree.truncated), (5, 2, false));
    }

    #[test]
    fn a_cut_tree_keeps_the_shallowest_and_oldest() {
        let mut rows = vec![node("root", None, 0, 0)];
        for i in 0..MAX_TREE_NODES {
            rows.push(node(&format!("c{i:05}"), Some("root"), 1, 1 + i as i64));
        }
        rows.push(node("grandchild", Some("c00000"), 2, 0));
        let tree = assemble(rows);
        assert!(tree.truncated);
        assert_eq!((tree.size, tree.max_depth), (MAX_TREE_NODES, 1));
        assert!(tree.nodes.iter().all(|n| n.code != "grandchild" && n.code != format!("c{:05}", MAX_TREE_NODES - 1)));
        assert_eq!(tree.nodes[0].children.len(), MAX_TREE_NODES - 1);
    }

    #[test]
    fn a_share_whose_parent_is_missing_is_dropped() {
        let tree = assemble(vec![node("root", None, 0, 0), node("orphan", Some("gone"), 1, 1), node("under-orphan", Some("orphan"), 2, 2)]);
        let codes: Vec<&str> = tree.nodes.iter().map(|n| n.code.as_str()).collect();
        assert_eq!(codes, ["root"]);
        assert_eq!(tree.max_depth, 0);
    }

    #[test]
    fn pages_are_clamped() {
        assert_eq!(RootPage::new(None, None), RootPage { page: 1, per_page: MAX_ROOTS_PER_PAGE });
        assert_eq!(RootPage::new(Some(0), Some(1_000)), RootPage { page: 1, per_page: MAX_ROOTS_PER_PAGE });
        assert_eq!(RootPage::new(Some(3), Some(10)).offset(), 20);
    }

    #[test]
    fn counted_statuses_are_the_paid_ones() {
        assert_eq!(counted_statuses(), "'awaiting_group', 'to_ship', 'shipped', 'received', 'completed', 'refunding'");
    }
}
