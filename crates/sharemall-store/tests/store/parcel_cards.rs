//! Parcel cards: a card and its share are written together; a shop lists only its own cards,
//! newest first, within the limit; an unknown or expired card is not found.

use sharemall_domain::share::{Channel, ShareCode};
use sharemall_domain::{ErrorCode, ShopId, Timestamp, UserId};
use sharemall_store::ops::parcel_cards::{self, MAX_LISTED, NewParcelCard};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget};

use crate::harness::*;

fn card(seed: u32, shop: ShopId, sharer: UserId, expires_at: Option<Timestamp>) -> NewParcelCard {
    let mut bytes = [7u8; 16];
    bytes[..4].copy_from_slice(&seed.to_be_bytes());
    NewParcelCard {
        share: NewShare {
            code: ShareCode::from_random(bytes),
            target: ShareTarget::Shop,
            shop,
            sharer,
            parent: None,
            channel: Channel::ParcelCard,
            expires_at,
        },
        message: format!("谢谢惠顾 {seed}"),
        offer: "扫码入会 领红包".into(),
    }
}

/// A shop and its owner.
async fn shop_with_owner(h: &Harness) -> (ShopId, UserId) {
    let shop = h.shop(&[]).await;
    let owner: UserId = h.id_of(format!("SELECT owner_id FROM shops WHERE id = '{shop}'")).await;
    (shop, owner)
}

backend_test! {
    /// Three cards a millisecond apart come back newest first; the limit is honoured and clamped;
    /// another shop's cards and a plain parcel-card share stay out of the list.
    async fn cards_list_newest_first_within_the_limit(h: Harness) {
        let (shop, owner) = shop_with_owner(&h).await;
        let (other_shop, other_owner) = shop_with_owner(&h).await;
        let mut codes = Vec::new();
        for i in 0..3u32 {
            let new = card(i, shop, owner, None);
            codes.push(new.share.code.as_str().to_string());
            let at = T0.plus_ms(i64::from(i));
            h.store.write(move |sql| parcel_cards::create(sql, at, &new)).await.expect("create card");
        }
        let elsewhere = card(99, other_shop, other_owner, None);
        h.store.write(move |sql| parcel_cards::create(sql, T0, &elsewhere)).await.expect("other shop's card");
        let plain = card(98, shop, owner, None).share;
        h.store.write(move |sql| shares::create_share(sql, T0.plus_ms(9), &plain)).await.expect("plain share");

        let list = |limit: i64| {
            let store = h.store.clone();
            async move { store.read(move |sql| parcel_cards::list_for_shop(sql, shop, limit)).await.expect("list") }
        };
        let all = list(10).await;
        let listed: Vec<&str> = all.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(listed, [codes[2].as_str(), codes[1].as_str(), codes[0].as_str()], "[{:?}]", h.kind);
        assert_eq!((all[0].shop_id, all[0].shop_name.as_str()), (shop, "Test shop"));
        assert_eq!((all[0].message.as_str(), all[0].offer.as_str(), all[0].created_at), ("谢谢惠顾 2", "扫码入会 领红包", T0.millis() + 2));
        assert_eq!(list(2).await.len(), 2, "[{:?}]", h.kind);
        assert_eq!(list(0).await.len(), 1, "[{:?}] a limit below one is one", h.kind);
        assert_eq!(list(-5).await.len(), 1, "[{:?}]", h.kind);
    }
}

backend_test! {
    /// However many cards a shop has, one listing returns at most `MAX_LISTED`.
    async fn listing_is_capped(h: Harness) {
        let (shop, owner) = shop_with_owner(&h).await;
        let made = MAX_LISTED as u32 + 5;
        h.store
            .write(move |sql| {
                for i in 0..made {
                    parcel_cards::create(sql, T0.plus_ms(i64::from(i)), &card(i, shop, owner, None))?;
                }
                Ok(())
            })
            .await
            .expect("create cards");
        let listed = h.store.read(move |sql| parcel_cards::list_for_shop(sql, shop, 10_000)).await.expect("list");
        assert_eq!(listed.len() as i64, MAX_LISTED, "[{:?}]", h.kind);
        assert_eq!(listed[0].message, format!("谢谢惠顾 {}", made - 1), "[{:?}] newest first", h.kind);
    }
}

backend_test! {
    /// A card loads by its code until its share expires; an unknown code is not found; a card
    /// must be a shop share on the parcel-card channel, else nothing is written.
    async fn cards_load_until_expiry_and_must_be_shop_shares(h: Harness) {
        let (shop, owner) = shop_with_owner(&h).await;
        let expiring = card(1, shop, owner, Some(T0.plus_ms(1_000)));
        let card_code = expiring.share.code.clone();
        h.store.write(move |sql| parcel_cards::create(sql, T0, &expiring)).await.expect("create card");
        let load = |at: Timestamp, code: ShareCode| {
            let store = h.store.clone();
            async move { store.read(move |sql| parcel_cards::load(sql, at, &code)).await }
        };
        assert_eq!(load(T0, card_code.clone()).await.expect("live card").message, "谢谢惠顾 1");
        assert_eq!(code(&load(T0.plus_ms(1_000), card_code).await), Some(ErrorCode::NotFound), "[{:?}] expired", h.kind);
        let unknown = ShareCode::from_random([42; 16]);
        assert_eq!(code(&load(T0, unknown).await), Some(ErrorCode::NotFound), "[{:?}]", h.kind);

        let mut wrong_channel = card(2, shop, owner, None);
        wrong_channel.share.channel = Channel::Chat;
        let refused = h.store.write(move |sql| parcel_cards::create(sql, T0, &wrong_channel)).await;
        assert_eq!(code(&refused), Some(ErrorCode::Internal), "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM parcel_cards").await, 1, "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM shares").await, 1, "[{:?}]", h.kind);
    }
}
