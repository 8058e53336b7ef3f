//! Shares and customer binding: a first visit binds, a race binds once, protection expires with
//! the clock, permanent bindings stay, and an anonymous binding carries over to the account.

use sharemall_domain::account::Role;
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::time::DAY_MS;
use sharemall_domain::{ErrorCode, ShopId, Timestamp, UserId};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, VisitCommand};
use sharemall_store::params;

use crate::harness::*;

/// Two shops, each with one shop share by its owner.
async fn two_shops(h: &Harness) -> [(ShopId, ShareCode); 2] {
    let mut out = Vec::new();
    for seed in [1u8, 2] {
        let shop = h.shop(&[]).await;
        let sharer = h.user(Role::Customer).await;
        let code = ShareCode::from_random([seed; 16]);
        let new = NewShare {
            code: code.clone(),
            target: ShareTarget::Shop,
            shop,
            sharer,
            parent: None,
            channel: Channel::Chat,
            expires_at: None,
        };
        h.store.write(move |sql| shares::create_share(sql, T0, &new)).await.expect("share");
        out.push((shop, code));
    }
    [out[0].clone(), out[1].clone()]
}

/// A visit through `code` by `who` at `at`, as the share link records it.
fn visit_at(at: Timestamp, code: &ShareCode, who: &str, policy: BindingPolicy) -> VisitCommand {
    VisitCommand { now: at, code: code.clone(), visitor: who.to_string(), device: "phone".into(), policy }
}

fn visitor(user: UserId) -> String {
    format!("u:{user}")
}

backend_test! {
    /// The same customer visits two shops' shares at the same instant, many times over: exactly
    /// one binding, to one of the two shops, and every visit is recorded.
    async fn concurrent_visits_bind_once(h: Harness) {
        let [(shop_a, code_a), (shop_b, code_b)] = two_shops(&h).await;
        for round in 0..10 {
            let customer = visitor(h.user(Role::Customer).await);
            let mut handles = Vec::new();
            for i in 0..20 {
                let (store, who) = (h.store.clone(), customer.clone());
                let code = if i % 2 == 0 { code_a.clone() } else { code_b.clone() };
                handles.push(tokio::spawn(async move {
                    store.record_visit(visit_at(T0, &code, &who, BindingPolicy::DEFAULT)).await
                }));
            }
            let mut made = 0;
            let mut shops = std::collections::HashSet::new();
            for handle in handles {
                let visit = handle.await.expect("task").expect("visit");
                made += usize::from(visit.bound_now);
                shops.insert(visit.bound_shop);
            }
            assert_eq!(made, 1, "[{:?}] round {round}: exactly one visit binds", h.kind);
            assert_eq!(shops.len(), 1, "[{:?}] round {round}: every visit sees the same binding", h.kind);
            let bound = shops.into_iter().next().expect("a binding");
            assert!(bound == shop_a || bound == shop_b);
        }
        assert_eq!(h.count("SELECT COUNT(*) FROM share_visits").await, 200, "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM customer_bindings").await, 10, "[{:?}]", h.kind);
    }
}

backend_test! {
    /// First binding wins for 15 days; after that the next share visit rebinds. In permanent
    /// mode it never does.
    async fn protection_expires_unless_permanent(h: Harness) {
        let [(shop_a, code_a), (shop_b, code_b)] = two_shops(&h).await;
        let visit = |who: String, code: ShareCode, at: i64, policy: BindingPolicy| {
            let store = h.store.clone();
            async move { store.record_visit(visit_at(T0.plus_ms(at), &code, &who, policy)).await.expect("visit") }
        };
        let protected = visitor(h.user(Role::Customer).await);
        assert_eq!(visit(protected.clone(), code_a.clone(), 0, BindingPolicy::DEFAULT).await.bound_shop, shop_a);
        let during = visit(protected.clone(), code_b.clone(), 15 * DAY_MS - 1, BindingPolicy::DEFAULT).await;
        assert_eq!((during.bound_shop, during.bound_now), (shop_a, false), "[{:?}] protection holds", h.kind);
        let after = visit(protected.clone(), code_b.clone(), 15 * DAY_MS, BindingPolicy::DEFAULT).await;
        assert_eq!((after.bound_shop, after.bound_now), (shop_b, true), "[{:?}] protection lapsed", h.kind);

        let permanent = visitor(h.user(Role::Customer).await);
        assert_eq!(visit(permanent.clone(), code_a.clone(), 0, BindingPolicy::Permanent).await.bound_shop, shop_a);
        let much_later = visit(permanent.clone(), code_b.clone(), 400 * DAY_MS, BindingPolicy::DEFAULT).await;
        assert_eq!((much_later.bound_shop, much_later.bound_now), (shop_a, false), "[{:?}] permanent stays", h.kind);

        // Each share keeps credit for the customers it bound: a, a, and b's takeover.
        let bound = |code: ShareCode| {
            let store = h.store.clone();
            async move {
                store.read(move |sql| sql.query_i64("SELECT COUNT(*) FROM share_visits WHERE code = $1 AND bound", params![code.as_str()])).await.unwrap()
            }
        };
        assert_eq!((bound(code_a.clone()).await, bound(code_b.clone()).await), (2, 1), "[{:?}]", h.kind);
    }
}

backend_test! {
    /// An anonymous visitor's binding becomes the account's when they sign in, unless the account
    /// is already bound.
    async fn anonymous_binding_carries_over(h: Harness) {
        let [(shop_a, code_a), (shop_b, code_b)] = two_shops(&h).await;
        let record = |who: &str, code: &ShareCode| {
            let (store, who, code) = (h.store.clone(), who.to_string(), code.clone());
            async move { store.record_visit(visit_at(T0, &code, &who, BindingPolicy::DEFAULT)).await.expect("visit") }
        };
        record("a:cookie-1", &code_a).await;
        let fresh = visitor(h.user(Role::Customer).await);
        let carried = h.store.write(move |sql| shares::carry_over(sql, "a:cookie-1", &fresh)).await.expect("carry over");
        assert_eq!(carried, Some(shop_a), "[{:?}]", h.kind);

        let bound = visitor(h.user(Role::Customer).await);
        record(&bound, &code_b).await;
        record("a:cookie-2", &code_a).await;
        let kept = h.store.write(move |sql| shares::carry_over(sql, "a:cookie-2", &bound)).await.expect("carry over");
        assert_eq!(kept, Some(shop_b), "[{:?}] an existing binding is kept", h.kind);
        // The person counts once: no anonymous binding is left behind.
        assert_eq!(h.count("SELECT COUNT(*) FROM customer_bindings WHERE visitor LIKE 'a:%'").await, 0, "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM customer_bindings").await, 2, "[{:?}]", h.kind);
    }
}

backend_test! {
    /// Unknown, malformed and expired codes are "not found"; shares must point at what the shop
    /// sells, and a parent must exist.
    async fn codes_resolve_only_when_live(h: Harness) {
        let [(shop, root), _] = two_shops(&h).await;
        let unknown = ShareCode::from_random([9; 16]);
        let missing = h.store.read(move |sql| shares::resolve(sql, T0, &unknown)).await;
        assert_eq!(code(&missing), Some(ErrorCode::NotFound));
        assert_eq!(ShareCode::parse("not-a-code").map_err(|e| e.code).err(), Some(ErrorCode::NotFound));

        let sharer = h.user(Role::Customer).await;
        let expiring = ShareCode::from_random([10; 16]);
        let new = NewShare {
            code: expiring.clone(),
            target: ShareTarget::Shop,
            shop,
            sharer,
            parent: Some(root.clone()),
            channel: Channel::Poster,
            expires_at: Some(T0.plus_ms(DAY_MS)),
        };
        h.store.write(move |sql| shares::create_share(sql, T0, &new)).await.expect("child share");
        let live = expiring.clone();
        assert!(h.store.read(move |sql| shares::resolve(sql, T0, &live)).await.is_ok());
        let expired = h.store.read(move |sql| shares::resolve(sql, T0.plus_ms(DAY_MS), &expiring)).await;
        assert_eq!(code(&expired), Some(ErrorCode::NotFound), "[{:?}]", h.kind);

        let (_, supplier) = h.supplier().await;
        let (product, _) = h.product(supplier, 1_000, 5).await;
        let not_carried = NewShare {
            code: ShareCode::from_random([11; 16]),
            target: ShareTarget::Product(product),
            shop,
            sharer,
            parent: None,
            channel: Channel::Link,
            expires_at: None,
        };
        let refused = h.store.write(move |sql| shares::create_share(sql, T0, &not_carried)).await;
        assert_eq!(code(&refused), Some(ErrorCode::NotFound), "[{:?}] the shop does not carry it", h.kind);
        let orphan = NewShare {
            code: ShareCode::from_random([12; 16]),
            target: ShareTarget::Shop,
            shop,
            sharer,
            parent: Some(ShareCode::from_random([13; 16])),
            channel: Channel::Link,
            expires_at: None,
        };
        let refused = h.store.write(move |sql| shares::create_share(sql, T0, &orphan)).await;
        assert_eq!(code(&refused), Some(ErrorCode::NotFound), "[{:?}] the parent must exist", h.kind);
    }
}

backend_test! {
    /// An order's attribution: the binding in force, the last share of the order's shop visited
    /// within the window (not another shop's, not a stale one), and self-referral when the buyer
    /// is the sharer or the owner who would earn.
    async fn attribution_names_binding_last_touch_and_self_referral(h: Harness) {
        let [(shop_a, code_a), (shop_b, code_b)] = two_shops(&h).await;
        let attribution = |customer: UserId, shop: ShopId, at: i64| {
            let store = h.store.clone();
            async move { store.read(move |sql| shares::attribution_for(sql, T0.plus_ms(at), customer, shop)).await.expect("attribution") }
        };
        let visit = |who: UserId, code: ShareCode, at: i64| {
            let store = h.store.clone();
            async move {
                store.record_visit(visit_at(T0.plus_ms(at), &code, &visitor(who), BindingPolicy::DEFAULT)).await
            }
        };

        let stranger = h.user(Role::Customer).await;
        assert_eq!(attribution(stranger, shop_a, 0).await, shares::Attribution::default(), "[{:?}] no visit, no attribution", h.kind);

        let buyer = h.user(Role::Customer).await;
        visit(buyer, code_a.clone(), 0).await.expect("visit a");
        visit(buyer, code_b.clone(), 1_000).await.expect("visit b");
        let in_a = attribution(buyer, shop_a, 2_000).await;
        assert_eq!(in_a.bound_shop, Some(shop_a), "[{:?}] the first visit bound", h.kind);
        assert_eq!(in_a.share_code.as_deref(), Some(code_a.as_str()), "[{:?}] shop b's later share is not shop a's last touch", h.kind);
        assert!(!in_a.self_referral);
        let in_b = attribution(buyer, shop_b, 2_000).await;
        assert_eq!((in_b.bound_shop, in_b.share_code.as_deref()), (Some(shop_a), Some(code_b.as_str())), "[{:?}]", h.kind);

        let stale = attribution(buyer, shop_a, 1 + shares::LAST_TOUCH_WINDOW_MS).await;
        assert_eq!(stale.share_code, None, "[{:?}] a visit older than the window is no last touch", h.kind);

        let sharer: UserId = h.id_of(format!("SELECT sharer_id FROM shares WHERE code = '{}'", code_a.as_str())).await;
        visit(sharer, code_a.clone(), 0).await.expect("own visit");
        assert!(attribution(sharer, shop_a, 1_000).await.self_referral, "[{:?}] buying through one's own share", h.kind);
        let owner: UserId = h.id_of(format!("SELECT owner_id FROM shops WHERE id = '{shop_a}'")).await;
        assert!(attribution(owner, shop_a, 1_000).await.self_referral, "[{:?}] the owner buying in the shop they earn from", h.kind);
    }
}

backend_test! {
    /// Signing in moves an anonymous visitor's visits to the account, so the share that brought
    /// them is the last touch of their first order.
    async fn carried_over_visits_attribute_the_first_order(h: Harness) {
        let [(shop_a, code_a), _] = two_shops(&h).await;
        let anonymous = "a:00112233445566778899aabbccddeeff".to_string();
        let code = code_a.clone();
        let who = anonymous.clone();
        h.store.record_visit(visit_at(T0, &code, &who, BindingPolicy::DEFAULT)).await.expect("visit");
        let customer = h.user(Role::Customer).await;
        let account = visitor(customer);
        h.store.write(move |sql| shares::carry_over(sql, &anonymous, &account)).await.expect("carry over");
        let attribution = h.store.read(move |sql| shares::attribution_for(sql, T0.plus_ms(60_000), customer, shop_a)).await.expect("attribution");
        assert_eq!(attribution.bound_shop, Some(shop_a), "[{:?}]", h.kind);
        assert_eq!(attribution.share_code.as_deref(), Some(code_a.as_str()), "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM share_visits WHERE visitor LIKE 'a:%'").await, 0, "[{:?}]", h.kind);
    }
}

backend_test! {
    /// `sharemall check` sees a binding to another shop than its share's, and an order whose
    /// last-touch share is another shop's (neither can happen through the use cases).
    async fn check_catches_broken_sharing_rows(h: Harness) {
        let [(shop_a, code_a), (shop_b, _)] = two_shops(&h).await;
        h.store.record_visit(visit_at(T0, &code_a, "a:broken", BindingPolicy::DEFAULT)).await.expect("visit");
        h.assert_consistent("before").await;
        h.store
            .write(move |sql| sql.execute("UPDATE customer_bindings SET shop_id = $1 WHERE visitor = 'a:broken'", params![shop_b]))
            .await
            .expect("corrupt");
        let broken = |name: &'static str| {
            let store = h.store.clone();
            async move {
                let results = store.read(sharemall_store::ops::check::check_all).await.expect("check");
                results.iter().find(|r| r.name == name).map_or(0, |r| r.violations.len())
            }
        };
        assert_eq!(broken("every binding is to the shop of the share that made it").await, 1, "[{:?}]", h.kind);

        let fx = h.fixture(1, 1_000, 10, 1).await;
        let placed = h.place(T0, fx.order(fx.customers[0], vec![(fx.skus[0], 1)], order_no("CK", 1))).await;
        let (order, code) = (placed.order_id, code_a.as_str().to_string());
        h.store
            .write(move |sql| sql.execute("UPDATE orders SET share_code = $2 WHERE id = $1", params![order, code.as_str()]))
            .await
            .expect("corrupt");
        assert_ne!(fx.shop, shop_a);
        assert_eq!(broken("an order's last-touch share is a share of the order's own shop").await, 1, "[{:?}]", h.kind);
    }
}
