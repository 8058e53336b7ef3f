//! Group-buy campaigns: created only on sellable SKUs a shop campaign's shop carries; lists
//! filter by shop, product and the active window within a bounded page; ending is idempotent;
//! the schema never lets a campaign use more stock than its cap.

use sharemall_domain::account::Role;
use sharemall_domain::group_buy::{CampaignRequest, DEFAULT_HOURS};
use sharemall_domain::time::HOUR_MS;
use sharemall_domain::{CampaignId, ErrorCode, Money, ShopId, SkuId, UserId};
use sharemall_store::ops::group_campaigns::{self, CampaignFilter, MAX_PER_PAGE, NewCampaign};

use crate::harness::*;

/// A sound request for a SKU priced 100.00 (supply 60.00), open for a week from T0.
fn request() -> CampaignRequest {
    CampaignRequest {
        size: 3,
        group_price: Money::from_fen(8_000),
        hours: DEFAULT_HOURS,
        starts_at: T0,
        ends_at: T0.plus_ms(7 * 24 * HOUR_MS),
        stock_cap: 30,
        per_customer_limit: 2,
        new_customers_only: false,
        auto_complete_at: None,
    }
}

fn new(shop: Option<ShopId>, sku: SkuId, by: UserId, request: CampaignRequest) -> NewCampaign {
    NewCampaign { shop, sku, request, created_by: by }
}

async fn create(h: &Harness, campaign: NewCampaign) -> Result<CampaignId, sharemall_domain::Error> {
    h.store.write(move |sql| group_campaigns::create_campaign(sql, T0, &campaign)).await
}

backend_test! {
    /// A platform and a shop campaign are stored as asked; a broken rule, an unknown SKU, an
    /// unapproved product and a shop that does not carry the product are each refused.
    async fn campaigns_are_created_only_on_sellable_skus(h: Harness) {
        let f = h.fixture(1, 10_000, 1_000, 0).await;
        let operator = h.user(Role::Operator).await;
        let platform = create(&h, new(None, f.skus[0], operator, request())).await.expect("platform campaign");
        let loaded = h.store.read(move |sql| group_campaigns::load_campaign(sql, platform)).await.expect("load");
        assert_eq!((loaded.shop_id, loaded.product_id, loaded.size, loaded.group_price_fen), (None, f.products[0], 3, 8_000));
        assert_eq!((loaded.stock_used, loaded.ended_at, loaded.created_at), (0, None, T0.millis()));
        let in_shop = create(&h, new(Some(f.shop), f.skus[0], operator, request())).await.expect("shop campaign");
        let loaded = h.store.read(move |sql| group_campaigns::load_campaign(sql, in_shop)).await.expect("load");
        assert_eq!(loaded.shop_id, Some(f.shop));

        let below_supply = CampaignRequest { group_price: Money::from_fen(5_999), ..request() };
        assert_eq!(code(&create(&h, new(None, f.skus[0], operator, below_supply)).await), Some(ErrorCode::InvalidPrice));
        let too_small = CampaignRequest { size: 1, ..request() };
        assert_eq!(code(&create(&h, new(None, f.skus[0], operator, too_small)).await), Some(ErrorCode::InvalidInput));
        assert_eq!(code(&create(&h, new(None, SkuId::new(), operator, request())).await), Some(ErrorCode::SkuNotFound));

        let (_, unapproved_sku) = {
            let (_, supplier) = h.supplier().await;
            let (product, sku) = h.product(supplier, 10_000, 10).await;
            h.store
                .write(move |sql| {
                    sharemall_store::ops::catalog::set_product_approval(sql, T0, product, sharemall_domain::catalog::Approval::Pending)
                })
                .await
                .expect("withdraw approval");
            (product, sku)
        };
        assert_eq!(code(&create(&h, new(None, unapproved_sku, operator, request())).await), Some(ErrorCode::ProductNotApproved));
        let bare_shop = h.shop(&[]).await;
        assert_eq!(code(&create(&h, new(Some(bare_shop), f.skus[0], operator, request())).await), Some(ErrorCode::SkuNotOnSale));
        assert_eq!(code(&create(&h, new(Some(ShopId::new()), f.skus[0], operator, request())).await), Some(ErrorCode::NotFound));
        assert_eq!(h.count("SELECT COUNT(*) FROM group_campaigns").await, 2, "[{:?}] refusals store nothing", h.kind);
    }
}

backend_test! {
    /// The shop filter takes the shop's own campaigns and platform ones on products it carries;
    /// the product filter and the active window narrow further; pages are bounded.
    async fn lists_filter_by_shop_product_and_window(h: Harness) {
        let f = h.fixture(2, 10_000, 1_000, 0).await;
        let operator = h.user(Role::Operator).await;
        let other_shop = h.shop(&[f.products[1]]).await;
        let platform = create(&h, new(None, f.skus[0], operator, request())).await.expect("platform");
        let own = create(&h, new(Some(f.shop), f.skus[1], operator, request())).await.expect("own");
        let elsewhere = create(&h, new(Some(other_shop), f.skus[1], operator, request())).await.expect("elsewhere");
        let later = CampaignRequest { starts_at: T0.plus_ms(48 * HOUR_MS), ends_at: T0.plus_ms(96 * HOUR_MS), ..request() };
        let not_started = create(&h, new(None, f.skus[1], operator, later)).await.expect("not started");
        let ended = create(&h, new(None, f.skus[0], operator, request())).await.expect("to end");
        h.store.write(move |sql| group_campaigns::end_campaign(sql, T0, ended)).await.expect("end");

        let list = |filter: CampaignFilter, page: i64, per_page: i64| {
            let store = h.store.clone();
            async move {
                let mut ids: Vec<CampaignId> = store
                    .read(move |sql| group_campaigns::list_campaigns(sql, filter, page, per_page))
                    .await
                    .expect("list")
                    .into_iter()
                    .map(|c| c.id)
                    .collect();
                ids.sort();
                ids
            }
        };
        let sorted = |mut ids: Vec<CampaignId>| {
            ids.sort();
            ids
        };
        let all = CampaignFilter::default();
        assert_eq!(list(all, 1, 100).await.len(), 5, "[{:?}]", h.kind);
        let in_shop = CampaignFilter { shop: Some(f.shop), ..all };
        assert_eq!(list(in_shop, 1, 100).await, sorted(vec![platform, own, not_started, ended]), "[{:?}] in the shop", h.kind);
        let in_other = CampaignFilter { shop: Some(other_shop), ..all };
        assert_eq!(list(in_other, 1, 100).await, sorted(vec![elsewhere, not_started]), "[{:?}] in the other shop", h.kind);
        let of_product = CampaignFilter { product: Some(f.products[0]), ..all };
        assert_eq!(list(of_product, 1, 100).await, sorted(vec![platform, ended]), "[{:?}] by product", h.kind);
        let active = CampaignFilter { active_at: Some(T0.plus_ms(HOUR_MS)), ..all };
        assert_eq!(list(active, 1, 100).await, sorted(vec![platform, own, elsewhere]), "[{:?}] active now", h.kind);
        let active_later = CampaignFilter { active_at: Some(T0.plus_ms(50 * HOUR_MS)), ..in_shop };
        assert_eq!(list(active_later, 1, 100).await, sorted(vec![platform, own, not_started]), "[{:?}] active later", h.kind);

        assert_eq!(list(all, 1, 2).await.len(), 2);
        assert_eq!(list(all, 3, 2).await.len(), 1, "the last page holds the rest");
        assert_eq!(list(all, 0, 0).await.len(), 1, "page and per_page are clamped up to 1");
        assert_eq!(list(all, -5, 1_000_000).await.len(), 5, "per_page is clamped to {MAX_PER_PAGE}");
        assert!(list(all, i64::MAX, 100).await.is_empty(), "a huge page is clamped, not overflowed");
    }
}

backend_test! {
    /// Ending twice keeps the first end time.
    async fn ending_is_idempotent(h: Harness) {
        let f = h.fixture(1, 10_000, 1_000, 0).await;
        let operator = h.user(Role::Operator).await;
        let id = create(&h, new(None, f.skus[0], operator, request())).await.expect("campaign");
        let first = h.store.write(move |sql| group_campaigns::end_campaign(sql, T0.plus_ms(5), id)).await.expect("end");
        let again = h.store.write(move |sql| group_campaigns::end_campaign(sql, T0.plus_ms(9), id)).await.expect("end again");
        assert_eq!(first.ended_at, Some(T0.millis() + 5));
        assert_eq!(again, first, "[{:?}] ending again changes nothing", h.kind);
        let missing = h.store.write(move |sql| group_campaigns::end_campaign(sql, T0, CampaignId::new())).await;
        assert_eq!(code(&missing), Some(ErrorCode::NotFound));
    }
}

backend_test! {
    /// The schema refuses stock_used above stock_cap, whatever code tries it.
    async fn stock_used_never_exceeds_the_cap(h: Harness) {
        let f = h.fixture(1, 10_000, 1_000, 0).await;
        let operator = h.user(Role::Operator).await;
        let id = create(&h, new(None, f.skus[0], operator, request())).await.expect("campaign");
        let up_to_cap = h
            .store
            .write(move |sql| sql.execute("UPDATE group_campaigns SET stock_used = stock_cap WHERE id = $1", sharemall_store::params![id]))
            .await;
        assert_eq!(up_to_cap, Ok(1), "[{:?}] the cap itself is allowed", h.kind);
        let beyond = h
            .store
            .write(move |sql| sql.execute("UPDATE group_campaigns SET stock_used = stock_cap + 1 WHERE id = $1", sharemall_store::params![id]))
            .await;
        assert!(beyond.is_err(), "[{:?}] stock_used above the cap must be refused", h.kind);
        let used = h.store.read(move |sql| group_campaigns::load_campaign(sql, id)).await.expect("load").stock_used;
        assert_eq!(used, 30);
    }
}
