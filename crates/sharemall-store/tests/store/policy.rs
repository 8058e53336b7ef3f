//! The commission policy in the store: a direct store call is refused by the guard exactly as
//! the API and the file are (TESTING T13), the table refuses what slips past, and an
//! acknowledged depth-2 policy pays the inviter of the selling shop's owner.

use sharemall_domain::account::Role;
use sharemall_domain::compliance::{CommissionPolicy, Rule};
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::{ErrorCode, UserId};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, VisitCommand};
use sharemall_store::ops::shops;
use sharemall_store::ops::{compliance, policy};
use sharemall_store::params;

use crate::harness::*;
use crate::ledger::{balances, owner_of, pay};

fn with(f: impl FnOnce(&mut CommissionPolicy)) -> CommissionPolicy {
    let mut p = CommissionPolicy::DEFAULT;
    f(&mut p);
    p
}

backend_test! {
    async fn the_store_refuses_forbidden_policies(h: Harness) {
        let operator = h.user(Role::Operator).await;
        let forbidden = [
            (with(|p| p.depth = 3), Rule::MaxDepth),
            (with(|p| p.rate_bps = 3_001), Rule::CommissionCap),
            (with(|p| { p.depth = 2; p.acknowledge_second_level_risk = true; p.rate_bps = 2_000; p.second_level_rate_bps = 1_001; }), Rule::CommissionCap),
            (with(|p| p.settle_buffer_days = -1), Rule::NoEarlyWithdrawal),
            (with(|p| { p.depth = 2; p.second_level_rate_bps = 500; }), Rule::SecondLevelAcknowledged),
        ];
        for (p, rule) in forbidden {
            let saved = h.store.write(move |sql| policy::save(sql, T0, Some(operator), &p)).await;
            let e = saved.expect_err("refused");
            assert_eq!(e.code, ErrorCode::PolicyForbidden);
            assert!(e.message.contains(rule.code()), "{e}");
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM commission_policy").await, 0, "refused policies change nothing");
        assert_eq!(h.store.read(policy::load).await.expect("load"), CommissionPolicy::DEFAULT);

        // Past the guard (a hand-written statement), the table itself refuses depth 3.
        let raw = h.store.write(|sql| sql.execute(
            "INSERT INTO commission_policy (id, depth, rate_bps, second_level_rate_bps, acknowledge_second_level_risk, settle_buffer_days, binding, protection_days, updated_at) \
             VALUES (1, 3, 1000, 0, 1, 0, 'protected', 15, 0)", params![])).await;
        assert!(raw.is_err(), "depth 3 cannot be stored");

        let ok = with(|p| { p.rate_bps = 2_000; p.settle_buffer_days = 2; });
        let risks = h.store.write(move |sql| policy::save(sql, T0, Some(operator), &ok)).await.expect("save");
        assert!(risks.is_empty());
        assert_eq!(h.store.read(policy::load).await.expect("load").rate_bps, 2_000);
    }
}

backend_test! {
    async fn acknowledged_depth_two_pays_the_inviter_on_other_peoples_purchases(h: Harness) {
        let fx = h.fixture(1, 3_000, 20, 1).await;
        let inviter = owner_of(&h, fx.shop).await;
        // The new owner arrives through the inviter's shop link and opens a shop: the inviter
        // becomes their inviter. Opening costs nothing.
        let new_owner = h.user(Role::Customer).await;
        let code = ShareCode::from_random([7; 16]);
        let share = NewShare { code: code.clone(), target: ShareTarget::Shop, shop: fx.shop, sharer: inviter, parent: None, channel: Channel::Chat, expires_at: None };
        h.store.write(move |sql| shares::create_share(sql, T0, &share)).await.expect("share");
        let visit = VisitCommand { now: T0, code, visitor: format!("u:{new_owner}"), device: "phone".into(), policy: BindingPolicy::DEFAULT };
        h.store.record_visit(visit).await.expect("visit");
        let product = fx.products[0];
        let shop = h.store.write(move |sql| {
            let shop = shops::open_shop(sql, T0, new_owner, "小李的店", "", None)?;
            shops::pick_product(sql, T0, shop, product)?;
            Ok(shop)
        }).await.expect("open shop");
        let invited_by: UserId = h.id_of(format!("SELECT invited_by FROM shops WHERE id = '{shop}'")).await;
        assert_eq!(invited_by, inviter);

        let operator = h.user(Role::Operator).await;
        let depth_two = with(|p| { p.depth = 2; p.acknowledge_second_level_risk = true; p.rate_bps = 2_000; p.second_level_rate_bps = 500; });
        let risks = h.store.write(move |sql| policy::save(sql, T0, Some(operator), &depth_two)).await.expect("save");
        assert_eq!(risks.iter().map(|r| r.rule).collect::<Vec<_>>(), vec![Rule::SecondLevelAcknowledged]);

        // A customer buys two units (¥60.00) in the new shop: its owner earns the SKU's 10%,
        // the inviter 5%; the platform keeps the rest of the margin.
        let customer = fx.customers[0];
        let mut order = fx.order(customer, vec![(fx.skus[0], 2)], order_no("D2", 0));
        order.shop = shop;
        let id = h.place(T0, order).await.order_id;
        pay(&h, T0, id, customer).await;
        assert_eq!(balances(&h, new_owner).await.pending_fen, 600);
        assert_eq!(balances(&h, inviter).await.pending_fen, 300);
        assert_eq!(h.count("SELECT COUNT(*) FROM commissions WHERE level = 2").await, 1);
        h.assert_consistent("depth two").await;

        // The new owner's own purchase earns them nothing, and pays no second level: the new
        // owner is still a customer bound to the inviter's shop, so it is that shop's sale at
        // depth 1 (SPEC 3.3 attribution), not a reward on a downline.
        let mut own = fx.order(new_owner, vec![(fx.skus[0], 1)], order_no("D2", 1));
        own.shop = shop;
        let own_id = h.place(T0, own).await.order_id;
        pay(&h, T0, own_id, new_owner).await;
        assert_eq!(balances(&h, new_owner).await.pending_fen, 600);
        let own_lines = h.store.read(move |sql| {
            let rows = sql.query("SELECT beneficiary_id, level FROM commissions WHERE order_id = $1", params![own_id])?;
            rows.iter().map(|r| Ok((r.id::<UserId>(0)?, r.i64(1)?))).collect::<Result<Vec<_>, sharemall_domain::Error>>()
        }).await.expect("own order's commissions");
        assert_eq!(own_lines, vec![(inviter, 1)]);

        // The audit counts the invite tree (the inviter's shop, then the new one) and finds
        // every commission tied to an order line and no charge without goods.
        let facts = h.store.read(|sql| compliance::audit_facts(sql, T0)).await.expect("audit facts");
        assert_eq!((facts.invite_tree_max_depth, facts.invite_tree_largest_size), (2, 2));
        assert_eq!((facts.transfers_not_tied_to_order_line, facts.charges_without_goods, facts.policy.depth), (0, 0, 2));
        let report = sharemall_domain::compliance::audit(facts);
        assert!(report.is_clean(), "{}", report.render_text());
        assert_eq!(report.risks.len(), 1);
        h.assert_consistent("self-referral at depth two").await;
    }
}
