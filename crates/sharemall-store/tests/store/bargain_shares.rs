//! A bargain as a share target (砍价分享): a share of a bargain is a product share of the
//! bargain's own shop that remembers the bargain, so its visits bind as usual and its link can
//! land on the bargain; a share naming another shop or an unknown bargain is refused and stores
//! nothing; `sharemall check` catches a bargain share that names another shop.

use sharemall_domain::account::Role;
use sharemall_domain::bargain::{BargainCampaignRequest, BuyRule, DEFAULT_HOURS};
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{BargainId, ErrorCode, Money};
use sharemall_store::ops::bargain_campaigns::{self, NewBargainCampaign};
use sharemall_store::ops::bargains::{self, NewBargain};
use sharemall_store::ops::check;
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, VisitCommand};

use crate::harness::*;

/// A running bargain of the fixture's first customer in the fixture's shop.
async fn bargain(h: &Harness, f: &Fixture) -> BargainId {
    let operator = h.user(Role::Operator).await;
    let request = BargainCampaignRequest {
        start: Money::from_fen(10_000),
        floor: Money::from_fen(6_000),
        helpers_needed: 3,
        hours: DEFAULT_HOURS,
        starts_at: T0,
        ends_at: T0.plus_ms(7 * 24 * HOUR_MS),
        stock_cap: 5,
        buy_rule: BuyRule::OnlyAtFloor,
    };
    let new = NewBargainCampaign { shop: None, sku: f.skus[0], request, created_by: operator };
    let campaign = h.store.write(move |sql| bargain_campaigns::create_campaign(sql, T0, &new)).await.expect("campaign");
    let new = NewBargain { campaign, shop: f.shop, starter: f.customers[0], seed: 7 };
    h.store.write(move |sql| bargains::start_bargain(sql, T0, &new)).await.expect("start").id
}

fn share_of(bargain: BargainId, shop: sharemall_domain::ShopId, sharer: sharemall_domain::UserId, seed: u8) -> NewShare {
    NewShare {
        code: ShareCode::from_random([seed; 16]),
        target: ShareTarget::Bargain(bargain),
        shop,
        sharer,
        parent: None,
        channel: Channel::Chat,
        expires_at: None,
    }
}

backend_test! {
    /// The starter shares the bargain: the share is a product share of the bargain's shop with
    /// the bargain recorded; a friend's visit (through the batched path and the one-at-a-time
    /// path alike) resolves to it and binds the friend to that shop.
    async fn a_bargain_share_records_the_bargain_and_binds_to_its_shop(h: Harness) {
        let f = h.fixture(1, 10_000, 100, 3).await;
        let id = bargain(&h, &f).await;
        let new = share_of(id, f.shop, f.customers[0], 1);
        let code = new.code.clone();
        h.store.write(move |sql| shares::create_share(sql, T0, &new)).await.expect("share the bargain");

        let lookup = code.clone();
        let resolved = h.store.read(move |sql| shares::resolve(sql, T0, &lookup)).await.expect("resolve");
        assert_eq!(resolved.bargain_id, Some(id.to_string()), "[{:?}] the share remembers the bargain", h.kind);
        assert_eq!(resolved.group_id, None);
        assert_eq!((resolved.target_kind.as_str(), resolved.target_id.clone()), ("product", f.products[0].to_string()), "[{:?}]", h.kind);
        assert_eq!(resolved.shop_id, f.shop);

        let friend = format!("u:{}", f.customers[1]);
        let visit = VisitCommand { now: T0, code: code.clone(), visitor: friend, device: "phone".into(), policy: BindingPolicy::DEFAULT };
        let batched = h.store.record_visit(visit).await.expect("batched visit");
        assert_eq!(batched.share.bargain_id, Some(id.to_string()), "[{:?}] the batched path reads the bargain", h.kind);
        assert!(batched.bound_now && batched.bound_shop == f.shop, "[{:?}] the friend is bound to the bargain's shop", h.kind);

        let other = format!("u:{}", f.customers[2]);
        let visit = VisitCommand { now: T0, code: code.clone(), visitor: other, device: "phone".into(), policy: BindingPolicy::DEFAULT };
        let single = h.store.write(move |sql| shares::record_visit(sql, &visit)).await.expect("visit");
        assert_eq!(single.share.bargain_id, Some(id.to_string()), "[{:?}] the single path reads the bargain", h.kind);

        let (mine, starter) = (code.clone(), f.customers[0]);
        let own = h.store.read(move |sql| shares::own_share(sql, &mine, starter)).await.expect("own share").expect("the starter's");
        assert_eq!(own.bargain_id, Some(id.to_string()));
        assert_eq!(h.count("SELECT COUNT(*) FROM share_visits").await, 2, "[{:?}]", h.kind);
        h.assert_consistent("after a bargain share and its visits").await;
    }
}

backend_test! {
    /// A share of the bargain in another shop, or of a bargain that does not exist, is refused
    /// and stores nothing; a bargain share moved to another shop by hand fails `check`.
    async fn a_bargain_share_belongs_to_the_bargains_shop(h: Harness) {
        let f = h.fixture(1, 10_000, 100, 1).await;
        let id = bargain(&h, &f).await;
        let elsewhere = h.shop(&f.products).await;

        let new = share_of(id, elsewhere, f.customers[0], 2);
        let refused = h.store.write(move |sql| shares::create_share(sql, T0, &new)).await;
        assert_eq!(code(&refused), Some(ErrorCode::NotFound), "[{:?}] another shop's share of the bargain", h.kind);
        let new = share_of(BargainId::new(), f.shop, f.customers[0], 3);
        let refused = h.store.write(move |sql| shares::create_share(sql, T0, &new)).await;
        assert_eq!(code(&refused), Some(ErrorCode::NotFound), "[{:?}] an unknown bargain", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM shares").await, 0, "[{:?}] nothing stored", h.kind);

        let new = share_of(id, f.shop, f.customers[0], 4);
        h.store.write(move |sql| shares::create_share(sql, T0, &new)).await.expect("share");
        h.assert_consistent("a sound bargain share").await;
        let moved = format!("UPDATE shares SET shop_id = '{elsewhere}'");
        h.store.write(move |sql| sql.execute(&moved, &[])).await.expect("corrupt");
        let results = h.store.read(check::check_all).await.expect("check");
        let broken: Vec<_> = results.iter().filter(|r| !r.violations.is_empty()).map(|r| r.name).collect();
        assert!(broken.iter().any(|n| n.contains("share of a bargain")), "[{:?}] {broken:?}", h.kind);
    }
}
