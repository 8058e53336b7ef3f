//! "Parcel cards" (包裹卡) in the shop owner's console: write the card's words, see the card as it
//! will print, download or print it, and find earlier cards again.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::parcel_cards::{self, ParcelCardView};
use sharemall_app::share_media;

use super::{Ctx, Nav, PageResult, fmt_time, render, see_other, url_encode};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/shop/card", get(card_page).post(create_card))
}

struct CardRow {
    code: String,
    url: String,
    png: String,
    message: String,
    offer: String,
    created: String,
    selected: bool,
}

impl CardRow {
    fn of(card: &ParcelCardView, selected: Option<&str>) -> CardRow {
        CardRow {
            code: card.code.clone(),
            url: card.url.clone(),
            png: card.card_png.clone(),
            message: card.message.clone(),
            offer: card.offer.clone(),
            created: fmt_time(card.created_at),
            selected: selected == Some(card.code.as_str()),
        }
    }
}

#[derive(Template)]
#[template(path = "console_card.html")]
struct CardPage {
    t: &'static Strings,
    nav: Nav,
    /// Whether the server can draw cards (it has a CJK font).
    available: bool,
    /// The form's words: the chosen card's, so a variant is one edit away, else the defaults.
    message: String,
    offer: String,
    /// The card just made or picked from the list, shown large.
    chosen: Option<CardRow>,
    cards: Vec<CardRow>,
}

#[derive(Deserialize)]
struct CardQuery {
    card: Option<String>,
}

async fn card_page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<CardQuery>) -> PageResult {
    let user = ctx.user()?;
    let cards = parcel_cards::mine(&state.app, user).await?;
    let picked = q.card.as_deref();
    let t = ctx.t;
    // Only the owner's own cards can be chosen: the list is already scoped to their shop.
    let chosen = cards.iter().find(|c| picked == Some(c.code.as_str())).map(|c| CardRow::of(c, picked));
    let (message, offer) = match &chosen {
        Some(card) => (card.message.clone(), card.offer.clone()),
        None => (t.card_message_default.to_string(), t.card_offer_default.to_string()),
    };
    render(&CardPage {
        t,
        nav: ctx.nav("me"),
        available: share_media::available(&state.app),
        message,
        offer,
        chosen,
        cards: cards.iter().map(|c| CardRow::of(c, picked)).collect(),
    })
}

#[derive(Deserialize)]
struct CardForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    offer: String,
}

async fn create_card(State(state): State<AppState>, ctx: Ctx, Form(form): Form<CardForm>) -> PageResult {
    let user = ctx.user()?;
    let card = parcel_cards::create(&state.app, user, &form.message, &form.offer).await?;
    Ok(see_other(&format!("/console/shop/card?card={}", url_encode(&card.code))))
}
