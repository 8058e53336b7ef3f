//! "My shares" (我的分享) in the shop owner's console: the shop's share totals, its fission tree
//! drawn inline, and tables per share and per sharer.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::share_stats;
use sharemall_store::ops::share_stats::{ShareCounts, ShareNode, ShareTree, SharerStats};

use super::{Ctx, Nav, PageResult, render, yuan};
use crate::AppState;
use crate::fission_svg::{self, Labels};
use crate::i18n::Strings;

/// Root shares per page: fewer than the API's maximum, for a phone.
const ROOTS_PER_PAGE: i64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/shop/shares", get(my_shares))
}

/// A row's numbers as the tables show them.
struct Numbers {
    visits: i64,
    unique: i64,
    bound: i64,
    orders: i64,
    gmv: String,
    reshares: i64,
}

impl Numbers {
    fn of(c: &ShareCounts) -> Numbers {
        Numbers {
            visits: c.visits,
            unique: c.unique_visitors,
            bound: c.bound_customers,
            orders: c.orders,
            gmv: yuan(c.gmv_fen),
            reshares: c.reshares,
        }
    }
}

struct ShareRow {
    code: String,
    target: String,
    channel: &'static str,
    sharer: String,
    depth: i64,
    /// Left padding of the first cell, so re-shares sit under their parents (capped for a phone).
    indent: i64,
    n: Numbers,
}

impl ShareRow {
    fn of(node: &ShareNode, t: &Strings) -> ShareRow {
        let target = match (node.target_kind.as_str(), &node.target_title) {
            ("shop", _) => t.shares_target_shop.to_string(),
            (_, Some(title)) => title.clone(),
            (kind, None) => kind.to_string(),
        };
        ShareRow {
            code: node.code.clone(),
            target,
            channel: channel_label(t, &node.channel),
            sharer: node.sharer_name.clone(),
            depth: node.depth,
            indent: 6 + 10 * node.depth.min(6),
            n: Numbers::of(&node.stats),
        }
    }
}

struct SharerRow {
    name: String,
    shares: i64,
    n: Numbers,
}

impl SharerRow {
    fn of(s: &SharerStats) -> SharerRow {
        SharerRow { name: s.sharer_name.clone(), shares: s.shares, n: Numbers::of(&s.stats) }
    }
}

/// The label of a share channel (`chat`, `moments`, ...).
fn channel_label(t: &Strings, channel: &str) -> &'static str {
    match channel {
        "link" => t.channel_link,
        "kouling" => t.channel_kouling,
        "qr" => t.channel_qr,
        "poster" => t.channel_poster,
        "parcel_card" => t.channel_parcel_card,
        "moments" => t.channel_moments,
        _ => t.channel_chat,
    }
}

fn tree_svg(tree: &ShareTree, t: &Strings) -> String {
    let labels =
        Labels { title: t.shares_tree, visits: t.shares_visits, orders: t.shares_orders, more: t.shares_not_drawn, empty: t.shares_none };
    fission_svg::tree_svg(tree, "fission-tree", &labels)
}

#[derive(Template)]
#[template(path = "console_shares.html")]
struct SharesPage {
    t: &'static Strings,
    nav: Nav,
    shares: i64,
    totals: Numbers,
    tree_depth: i64,
    tree_truncated: bool,
    svg: String,
    rows: Vec<ShareRow>,
    sharers: Vec<SharerRow>,
    previous_page: Option<i64>,
    next_page: Option<i64>,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<String>,
}

async fn my_shares(State(state): State<AppState>, ctx: Ctx, Query(q): Query<PageQuery>) -> PageResult {
    let user = ctx.user()?;
    // A page number that is not one is the first page, as a link typed by hand deserves.
    let page = q.page.and_then(|p| p.trim().parse::<i64>().ok());
    let stats = share_stats::my_shares(&state.app, user, page, Some(ROOTS_PER_PAGE)).await?;
    let t = ctx.t;
    render(&SharesPage {
        t,
        nav: ctx.nav("me"),
        shares: stats.totals.shares,
        totals: Numbers::of(&stats.totals.stats),
        tree_depth: stats.tree.max_depth,
        tree_truncated: stats.tree.truncated,
        svg: tree_svg(&stats.tree, t),
        rows: stats.tree.nodes.iter().map(|n| ShareRow::of(n, t)).collect(),
        sharers: stats.sharers.iter().map(SharerRow::of).collect(),
        previous_page: (stats.page > 1).then(|| stats.page - 1),
        next_page: stats.has_more.then(|| stats.page + 1),
    })
}
