//! Shares and customer binding: a first visit binds, a race binds once, protection expires with
//! the clock, permanent bindings stay, and an anonymous binding carries over to the account.

use sharemall_domain::account::Role;
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::time::DAY_MS;
use sharemall_domain::{ErrorCode, ShopId, UserId};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget};

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
                    store.write(move |sql| shares::record_visit(sql, T0, &code, &who, "phone", BindingPolicy::DEFAULT)).await
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
            async move { store.write(move |sql| shares::record_visit(sql, T0.plus_ms(at), &code, &who, "phone", policy)).await.expect("visit") }
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
    }
}

backend_test! {
    /// An anonymous visitor's binding becomes the account's when they sign in, unless the account
    /// is already bound.
    async fn anonymous_binding_carries_over(h: Harness) {
        let [(shop_a, code_a), (shop_b, code_b)] = two_shops(&h).await;
        let record = |who: &str, code: &ShareCode| {
            let (store, who, code) = (h.store.clone(), who.to_string(), code.clone());
            async move { store.write(move |sql| shares::record_visit(sql, T0, &code, &who, "phone", BindingPolicy::DEFAULT)).await.expect("visit") }
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
