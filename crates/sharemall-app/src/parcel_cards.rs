//! Parcel insert cards (包裹卡): a shop owner makes a card, a printable A6 PNG whose QR code is a
//! new share of their shop on the parcel-card channel. A buyer who scans it lands on `/s/{code}`
//! like any share visitor: the visit is recorded and the buyer is bound to the shop.

use serde::Serialize;
use sharemall_domain::Error;
use sharemall_domain::parcel_card::{check_message, check_offer};
use sharemall_domain::share::Channel;
use sharemall_domain::shop::brand_hue;
use sharemall_media::{ParcelCard as CardArt, render_parcel_card};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::parcel_cards::{self, NewParcelCard, ParcelCard};
use sharemall_store::ops::shares::{NewShare, ShareTarget};
use utoipa::ToSchema;

use crate::App;
use crate::share_media::{ensure_available, lookup, share_url};
use crate::shares::new_code;
use crate::shops::own_shop;

/// Cards the owner's list shows, newest first.
pub const CARDS_LISTED: i64 = 50;

/// A card as its owner gets it back: where it leads and where its printable image is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParcelCardView {
    pub code: String,
    /// The share link the card's QR code encodes, `{public_url}/s/{code}`.
    pub url: String,
    /// The printable card, `/api/v1/parcel-cards/{code}.png` (1240×1748, A6 at 300 dpi).
    pub card_png: String,
    pub message: String,
    pub offer: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl ParcelCardView {
    fn of(app: &App, card: ParcelCard) -> ParcelCardView {
        ParcelCardView {
            url: share_url(app, &card.code),
            card_png: png_path(&card.code),
            code: card.code,
            message: card.message,
            offer: card.offer,
            created_at: card.created_at,
        }
    }
}

/// The card's image, relative to the site.
pub fn png_path(code: &str) -> String {
    format!("/api/v1/parcel-cards/{code}.png")
}

/// Makes a card for the caller's own shop: a new shop share on the parcel-card channel and the
/// card's words, in one write. Only the shop's owner may (`forbidden` otherwise, `no_shop`
/// before they open one).
pub async fn create(app: &App, user: &SessionUser, message: &str, offer: &str) -> Result<ParcelCardView, Error> {
    let shop = own_shop(user)?;
    let message = check_message(message)?;
    let offer = check_offer(offer)?;
    let share = NewShare {
        code: new_code(),
        target: ShareTarget::Shop,
        shop,
        sharer: user.user_id,
        parent: None,
        channel: Channel::ParcelCard,
        expires_at: None,
    };
    let code = share.code.clone();
    let card = NewParcelCard { share, message, offer };
    let now = app.now();
    app.store.write(move |sql| parcel_cards::create(sql, now, &card)).await?;
    let card = app.store.read(move |sql| parcel_cards::load(sql, now, &code)).await?;
    Ok(ParcelCardView::of(app, card))
}

/// The caller's own shop's cards, newest first, at most [`CARDS_LISTED`].
pub async fn mine(app: &App, user: &SessionUser) -> Result<Vec<ParcelCardView>, Error> {
    let shop = own_shop(user)?;
    let cards = app.store.read(move |sql| parcel_cards::list_for_shop(sql, shop, CARDS_LISTED)).await?;
    Ok(cards.into_iter().map(|card| ParcelCardView::of(app, card)).collect())
}

/// The printable card: a 1240×1748 PNG (A6 at 300 dpi). Public, as the card is printed anyway;
/// unknown codes count against the address like every other share lookup.
pub async fn card_png(app: &App, code: &str, client_addr: &str) -> Result<Vec<u8>, Error> {
    ensure_available(app)?;
    let card = lookup(app, code, client_addr, parcel_cards::load).await?;
    let url = share_url(app, &card.code);
    let hue = brand_hue(&card.shop_id.to_string());
    app.media
        .render("parcel card", move |font| {
            let art = CardArt { shop_name: &card.shop_name, message: &card.message, offer: &card.offer, url: &url, hue };
            render_parcel_card(font, &art)
        })
        .await
}
