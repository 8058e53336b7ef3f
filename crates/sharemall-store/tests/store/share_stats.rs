//! Share statistics and the fission tree: a shop's shares re-shared three levels deep, visits
//! with repeat visitors, the bindings they made, and orders attributed through them in every
//! state; every number per share, per sharer and per shop is checked exactly.

use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::{Money, OrderId, ShopId, Timestamp, UserId};
use sharemall_store::ops::orders::{self, CancelBy};
use sharemall_store::ops::payments;
use sharemall_store::ops::share_stats::{self, RootPage, ShareCounts, ShareNode, ShopShareStats};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, VisitCommand};
use sharemall_store::params;

use crate::harness::*;

/// 5,000 fen a unit: one unit pays 5,800 with shipping, two pay 10,000 (free shipping).
const PRICE: i64 = 5_000;

struct Scenario {
    fx: Fixture,
    owner: UserId,
    /// The shop's shares: r (owner), r2 (owner), a (c1, under r), b (c2, under r), a1 (c3, under
    /// a), a1x (c4, under a1), y (c5, under another shop's share).
    codes: Codes,
    other_shop: ShopId,
    sharers: [UserId; 5],
}

struct Codes {
    r: ShareCode,
    r2: ShareCode,
    a: ShareCode,
    b: ShareCode,
    a1: ShareCode,
    a1x: ShareCode,
    y: ShareCode,
    other_root: ShareCode,
    cross: ShareCode,
}

fn at(ms: i64) -> Timestamp {
    T0.plus_ms(ms)
}

async fn share(h: &Harness, code: &ShareCode, shop: ShopId, sharer: UserId, parent: Option<&ShareCode>, target: ShareTarget, ms: i64) {
    let new = NewShare { code: code.clone(), target, shop, sharer, parent: parent.cloned(), channel: Channel::Chat, expires_at: None };
    h.store.write(move |sql| shares::create_share(sql, at(ms), &new)).await.expect("share");
}

async fn visit(h: &Harness, code: &ShareCode, visitor: String, ms: i64) {
    let visit = VisitCommand { now: at(ms), code: code.clone(), visitor, device: "phone".into(), policy: BindingPolicy::DEFAULT };
    h.store.record_visit(visit).await.expect("visit");
}

fn u(user: UserId) -> String {
    format!("u:{user}")
}

async fn rename(h: &Harness, user: UserId, name: &'static str) {
    h.store.write(move |sql| sql.execute("UPDATE users SET display_name = $2 WHERE id = $1", params![user, name])).await.expect("rename");
}

/// Places an order, which the order path attributes (the customer's binding and last touch in
/// the shop at `ms`).
async fn order(h: &Harness, s: &Scenario, customer: UserId, quantity: i64, ms: i64) -> OrderId {
    let cmd = s.fx.order(customer, vec![(s.fx.skus[0], quantity)], order_no("SS", ms as usize));
    h.place(at(ms), cmd).await.order_id
}

async fn pay(h: &Harness, id: OrderId, customer: UserId, ms: i64) {
    let trade_no = format!("SS-PAY-{id}");
    let payment =
        h.store.write(move |sql| payments::create_payment(sql, at(ms), id, customer, "sandbox", &trade_no)).await.expect("payment");
    let (trade_no, amount) = (payment.out_trade_no, payment.amount_fen);
    h.store.write(move |sql| payments::apply_payment_success(sql, at(ms), &trade_no, amount, "provider-txn")).await.expect("paid");
}

/// Asks for a refund of `fen`; `finish` has the provider carry it out.
async fn refund(h: &Harness, id: OrderId, fen: i64, finish: bool, ms: i64) {
    let requested =
        h.store.write(move |sql| payments::request_refund(sql, at(ms), id, Money::from_fen(fen), "test")).await.expect("refund request");
    if finish {
        let refund = requested.refund_id;
        assert!(h.store.write(move |sql| payments::finish_refund(sql, at(ms), refund, "provider-refund")).await.expect("refund done"));
    }
}

async fn scenario(h: &Harness) -> Scenario {
    let fx = h.fixture(1, PRICE, 100, 7).await;
    let owner: UserId = h.id_of(format!("SELECT owner_id FROM shops WHERE id = '{}'", fx.shop)).await;
    let c = fx.customers.clone();
    let (shop, product) = (fx.shop, ShareTarget::Product(fx.products[0]));
    let code = |seed: u8| ShareCode::from_random([seed; 16]);
    let codes = Codes {
        r: code(1),
        r2: code(2),
        a: code(3),
        b: code(4),
        a1: code(5),
        a1x: code(6),
        y: code(7),
        other_root: code(8),
        cross: code(9),
    };
    rename(h, owner, "店主").await;
    for (user, name) in [(c[0], "一号"), (c[1], "二号"), (c[2], "三号"), (c[3], "四号"), (c[4], "五号")] {
        rename(h, user, name).await;
    }

    // Another shop whose share leads into ours (y), and one of whose shares re-shares ours (cross).
    let other_shop = h.shop(&[]).await;
    let other_owner: UserId = h.id_of(format!("SELECT owner_id FROM shops WHERE id = '{other_shop}'")).await;
    share(h, &codes.other_root, other_shop, other_owner, None, ShareTarget::Shop, 0).await;

    share(h, &codes.r, shop, owner, None, product, 0).await;
    share(h, &codes.r2, shop, owner, None, ShareTarget::Shop, 1_000).await;
    share(h, &codes.a, shop, c[0], Some(&codes.r), product, 2_000).await;
    share(h, &codes.b, shop, c[1], Some(&codes.r), product, 3_000).await;
    share(h, &codes.a1, shop, c[2], Some(&codes.a), product, 4_000).await;
    share(h, &codes.a1x, shop, c[3], Some(&codes.a1), product, 5_000).await;
    share(h, &codes.y, shop, c[4], Some(&codes.other_root), ShareTarget::Shop, 6_000).await;
    share(h, &codes.cross, other_shop, c[1], Some(&codes.r), ShareTarget::Shop, 7_000).await;

    // Visits, in time order: c1 comes back to r, then moves on to a1 and r2 (its last touch).
    visit(h, &codes.r, u(c[0]), 10_000).await;
    visit(h, &codes.r, u(c[0]), 11_000).await;
    visit(h, &codes.r, "a:anonymous-1".into(), 12_000).await;
    visit(h, &codes.a, u(c[2]), 13_000).await;
    visit(h, &codes.a, u(c[2]), 14_000).await;
    visit(h, &codes.a1, u(c[3]), 15_000).await;
    visit(h, &codes.a1, u(c[0]), 16_000).await;
    visit(h, &codes.a1x, u(c[5]), 17_000).await;
    visit(h, &codes.r2, u(c[0]), 18_000).await;
    visit(h, &codes.y, u(c[6]), 19_000).await;
    visit(h, &codes.r, u(owner), 20_000).await;

    Scenario { fx, owner, codes, other_shop, sharers: [c[0], c[1], c[2], c[3], c[4]] }
}

/// Orders through the shares in every state that matters.
async fn orders_through_shares(h: &Harness, s: &Scenario) {
    let c = s.fx.customers.clone();
    // Through a: paid, 3,000 refunded of 10,000; and one never paid.
    let o1 = order(h, s, c[2], 2, 30_000).await;
    pay(h, o1, c[2], 30_100).await;
    refund(h, o1, 3_000, true, 30_200).await;
    order(h, s, c[2], 1, 31_000).await;
    // Through a1: paid.
    let o3 = order(h, s, c[3], 1, 32_000).await;
    pay(h, o3, c[3], 32_100).await;
    // Through a1x: one cancelled unpaid, one fully refunded, one paid.
    let o4 = order(h, s, c[5], 1, 33_000).await;
    let customer = c[5];
    assert!(h.store.write(move |sql| orders::cancel_order(sql, at(33_100), o4, CancelBy::Customer(customer))).await.expect("cancel"));
    let o5 = order(h, s, c[5], 1, 34_000).await;
    pay(h, o5, c[5], 34_100).await;
    refund(h, o5, 5_800, true, 34_200).await;
    let o6 = order(h, s, c[5], 1, 35_000).await;
    pay(h, o6, c[5], 35_100).await;
    // Through r2 (c1's last touch): paid, two units.
    let o7 = order(h, s, c[0], 2, 36_000).await;
    pay(h, o7, c[0], 36_100).await;
    // The owner through their own share r: self-referred, still a sale.
    let o8 = order(h, s, s.owner, 1, 37_000).await;
    pay(h, o8, s.owner, 37_100).await;
    // Through y: paid, a full refund asked for but not yet carried out.
    let o9 = order(h, s, c[6], 1, 38_000).await;
    pay(h, o9, c[6], 38_100).await;
    refund(h, o9, 5_800, false, 38_200).await;
}

fn counts(visits: i64, unique_visitors: i64, bound_customers: i64, orders: i64, gmv_fen: i64, reshares: i64) -> ShareCounts {
    ShareCounts { visits, unique_visitors, bound_customers, orders, gmv_fen, reshares }
}

async fn stats(h: &Harness, shop: ShopId, page: RootPage) -> ShopShareStats {
    h.store.read(move |sql| share_stats::shop_share_stats(sql, shop, page)).await.expect("share stats")
}

fn node<'a>(stats: &'a ShopShareStats, code: &ShareCode) -> &'a ShareNode {
    stats.tree.nodes.iter().find(|n| n.code == code.as_str()).unwrap_or_else(|| panic!("{} not in the tree", code.as_str()))
}

backend_test! {
    /// Every number of every share, sharer and the shop, and the tree's shape.
    async fn numbers_per_share_sharer_and_shop(h: Harness) {
        let s = scenario(&h).await;
        orders_through_shares(&h, &s).await;
        h.assert_consistent("orders through shares").await;
        let k = h.kind;
        let all = stats(&h, s.fx.shop, RootPage::new(None, None)).await;

        // The tree: pre-order, oldest first; y is a root because its parent is another shop's.
        let order: Vec<&str> = all.tree.nodes.iter().map(|n| n.code.as_str()).collect();
        let c = &s.codes;
        assert_eq!(order, [c.r.as_str(), c.a.as_str(), c.a1.as_str(), c.a1x.as_str(), c.b.as_str(), c.r2.as_str(), c.y.as_str()], "[{k:?}]");
        let depths: Vec<i64> = all.tree.nodes.iter().map(|n| n.depth).collect();
        assert_eq!(depths, [0, 1, 2, 3, 1, 0, 0], "[{k:?}]");
        let children: Vec<Vec<usize>> = all.tree.nodes.iter().map(|n| n.children.clone()).collect();
        assert_eq!(children, [vec![1, 4], vec![2], vec![3], vec![], vec![], vec![], vec![]], "[{k:?}]");
        assert_eq!((all.tree.size, all.tree.max_depth, all.tree.truncated), (7, 3, false), "[{k:?}]");
        assert_eq!(node(&all, &c.a1).parent_code.as_deref(), Some(c.a.as_str()));
        assert_eq!(node(&all, &c.y).parent_code, None, "[{k:?}] another shop's code is not shown");
        assert_eq!(node(&all, &c.r).parent_code, None);
        assert_eq!((node(&all, &c.r).sharer_name.as_str(), node(&all, &c.a1x).sharer_name.as_str()), ("店主", "四号"));
        assert_eq!(node(&all, &c.r).target_title.as_deref(), Some("Test product"));
        assert_eq!(node(&all, &c.r2).target_title.as_deref(), Some("Test shop"));
        assert_eq!((node(&all, &c.r2).target_kind.as_str(), node(&all, &c.r2).channel.as_str()), ("shop", "chat"));

        // Per share: visits, unique visitors, bound customers, orders, GMV, re-shares.
        let expected = [
            // c1 twice, an anonymous visitor, the owner; three bound; the owner's own paid order;
            // a and b under it (the other shop's re-share is not ours).
            (&c.r, counts(4, 3, 3, 1, 5_800, 2)),
            // c1 again, already bound; its last touch: a paid two-unit order.
            (&c.r2, counts(1, 1, 0, 1, 10_000, 0)),
            // c3 twice; 10,000 paid less 3,000 refunded; the unpaid order does not count.
            (&c.a, counts(2, 1, 1, 1, 7_000, 1)),
            (&c.b, counts(0, 0, 0, 0, 0, 0)),
            (&c.a1, counts(2, 2, 1, 1, 5_800, 1)),
            // Cancelled and fully refunded orders do not count; the paid one does.
            (&c.a1x, counts(1, 1, 1, 1, 5_800, 0)),
            // A full refund under way still counts until the money has gone back.
            (&c.y, counts(1, 1, 1, 1, 5_800, 0)),
        ];
        for (code, want) in expected {
            assert_eq!(node(&all, code).stats, want, "[{k:?}] share {}", code.as_str());
        }

        // Per shop: unique visitors are distinct over the shop (c1 visited three shares).
        assert_eq!((all.totals.shares, all.totals.roots), (7, 3), "[{k:?}]");
        assert_eq!(all.totals.stats, counts(11, 7, 7, 6, 40_200, 4), "[{k:?}]");
        assert!(!all.has_more);

        // Per sharer, best first; the owner's unique visitors are distinct over r and r2.
        let [c1, c2, c3, c4, c5] = s.sharers;
        let by_sharer = |user: UserId| all.sharers.iter().find(|r| r.sharer_id == user).unwrap_or_else(|| panic!("sharer {user}"));
        let first: Vec<UserId> = all.sharers.iter().take(2).map(|r| r.sharer_id).collect();
        assert_eq!(first, [s.owner, c1], "[{k:?}]");
        assert_eq!(all.sharers.last().map(|r| r.sharer_id), Some(c2), "[{k:?}] nothing sold through b");
        assert_eq!(all.sharers.len(), 6);
        let expected = [
            (s.owner, "店主", 2, counts(5, 3, 3, 2, 15_800, 2)),
            (c1, "一号", 1, counts(2, 1, 1, 1, 7_000, 1)),
            (c2, "二号", 1, counts(0, 0, 0, 0, 0, 0)),
            (c3, "三号", 1, counts(2, 2, 1, 1, 5_800, 1)),
            (c4, "四号", 1, counts(1, 1, 1, 1, 5_800, 0)),
            (c5, "五号", 1, counts(1, 1, 1, 1, 5_800, 0)),
        ];
        for (user, name, shares, want) in expected {
            let row = by_sharer(user);
            assert_eq!((row.sharer_name.as_str(), row.shares, row.stats), (name, shares, want), "[{k:?}] sharer {name}");
        }
    }
}

backend_test! {
    /// Roots come a page at a time with their whole subtrees; another shop's tree is its own.
    async fn pages_of_roots_and_other_shops(h: Harness) {
        let s = scenario(&h).await;
        let k = h.kind;
        let c = &s.codes;
        let codes = |stats: &ShopShareStats| stats.tree.nodes.iter().map(|n| n.code.clone()).collect::<Vec<_>>();

        let first = stats(&h, s.fx.shop, RootPage::new(Some(1), Some(1))).await;
        assert_eq!(codes(&first), [c.r.as_str(), c.a.as_str(), c.a1.as_str(), c.a1x.as_str(), c.b.as_str()], "[{k:?}]");
        assert_eq!((first.tree.size, first.tree.max_depth, first.has_more, first.per_page), (5, 3, true, 1), "[{k:?}]");
        // Totals and sharers are the whole shop's on every page.
        assert_eq!((first.totals.shares, first.totals.stats.visits, first.sharers.len()), (7, 11, 6));

        let second = stats(&h, s.fx.shop, RootPage::new(Some(2), Some(1))).await;
        assert_eq!((codes(&second), second.tree.max_depth, second.has_more), (vec![c.r2.as_str().to_string()], 0, true), "[{k:?}]");
        let third = stats(&h, s.fx.shop, RootPage::new(Some(3), Some(1))).await;
        assert_eq!((codes(&third), third.has_more), (vec![c.y.as_str().to_string()], false), "[{k:?}]");
        let beyond = stats(&h, s.fx.shop, RootPage::new(Some(4), Some(1))).await;
        assert_eq!((beyond.tree.size, beyond.has_more), (0, false), "[{k:?}]");

        // The other shop: its own root, and the re-share of our r as a root with no visible parent.
        let other = stats(&h, s.other_shop, RootPage::new(None, None)).await;
        assert_eq!(codes(&other), [c.other_root.as_str(), c.cross.as_str()], "[{k:?}]");
        assert!(other.tree.nodes.iter().all(|n| n.depth == 0 && n.parent_code.is_none() && n.stats == ShareCounts::default()));
        assert_eq!((other.totals.shares, other.totals.roots, other.totals.stats), (2, 2, ShareCounts::default()), "[{k:?}]");
        assert_eq!(other.sharers.len(), 2);

        // A shop with no shares at all.
        let empty = h.shop(&[]).await;
        let none = stats(&h, empty, RootPage::new(None, None)).await;
        assert_eq!((none.tree.size, none.totals, none.sharers.len(), none.has_more), (0, Default::default(), 0, false), "[{k:?}]");
    }
}

backend_test! {
    /// A page whose roots carry more than the tree's bound is cut to its shallowest levels, and
    /// says so; the totals still count everything.
    async fn a_huge_tree_is_cut(h: Harness) {
        let shop = h.shop(&[]).await;
        let sharer = h.user(sharemall_domain::account::Role::Customer).await;
        let extra = 5;
        h.store
            .write(move |sql| {
                let root = ShareCode::from_random([1; 16]);
                let mut parent = root.clone();
                let new = |code: &ShareCode, parent: Option<ShareCode>| NewShare {
                    code: code.clone(),
                    target: ShareTarget::Shop,
                    shop,
                    sharer,
                    parent,
                    channel: Channel::Link,
                    expires_at: None,
                };
                shares::create_share(sql, T0, &new(&root, None))?;
                // A chain of 10 under the root, then a fan of children under the root.
                for i in 0..10u32 {
                    let code = ShareCode::from_random(rand_bytes(1, i));
                    shares::create_share(sql, T0.plus_ms(i64::from(i) + 1), &new(&code, Some(parent.clone())))?;
                    parent = code;
                }
                let fan = u32::try_from(share_stats::MAX_TREE_NODES).expect("small") + extra;
                for i in 0..fan {
                    let code = ShareCode::from_random(rand_bytes(2, i));
                    shares::create_share(sql, T0.plus_ms(100 + i64::from(i)), &new(&code, Some(root.clone())))?;
                }
                Ok(())
            })
            .await
            .expect("shares");
        let stats = stats(&h, shop, RootPage::new(None, None)).await;
        let k = h.kind;
        assert_eq!((stats.tree.size, stats.tree.truncated), (share_stats::MAX_TREE_NODES, true), "[{k:?}]");
        assert_eq!(stats.tree.nodes.len(), share_stats::MAX_TREE_NODES);
        assert_eq!(stats.tree.nodes[0].depth, 0);
        // The walk is breadth first: the 2,006 shares right under the root fill the page before
        // the chain's second level is reached.
        assert_eq!(stats.tree.max_depth, 1, "[{k:?}]");
        // Every kept share's parent is kept.
        let codes: std::collections::HashSet<&str> = stats.tree.nodes.iter().map(|n| n.code.as_str()).collect();
        assert!(stats.tree.nodes.iter().filter_map(|n| n.parent_code.as_deref()).all(|p| codes.contains(p)), "[{k:?}]");
        let total = i64::try_from(share_stats::MAX_TREE_NODES).expect("small") + 11 + i64::from(extra);
        assert_eq!((stats.totals.shares, stats.totals.roots, stats.totals.stats.reshares), (total, 1, total - 1), "[{k:?}]");
    }
}

/// 16 code bytes from a kind and a counter: distinct codes without randomness.
fn rand_bytes(kind: u8, i: u32) -> [u8; 16] {
    let mut bytes = [kind; 16];
    bytes[..4].copy_from_slice(&i.to_be_bytes());
    bytes
}
