//! The bargain campaign console (`/console/bargains`): operators (every campaign) and shop owners
//! (their own shop's, when the operator's switch allows; the app checks it) create campaigns,
//! read how their bargains did and end them. Seats and choices are the group console's.
//!
//! A refused campaign comes back as the console with the reason above the form and what was
//! typed still in it, so a wrong price is fixed rather than retyped.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::bargains::{self, BargainCampaignDraft};
use sharemall_domain::bargain::{BargainCampaignRequest, BuyRule};
use sharemall_domain::{BargainCampaignId, Error, ErrorCode, Money, ShopId, SkuId};
use sharemall_store::model::{BargainCampaign, SessionUser};

use super::console_groups::{Choices, Seat, ShopOption, SkuOption, int, seat, sku_options};
use super::groups::{DAY_MS, attributes_of};
use super::{Ctx, Nav, PageError, PageResult, fmt_time, render, see_other, yuan};
use crate::AppState;
use crate::error::{public_message, status_of};
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/bargains", get(console).post(create_campaign)).route("/console/bargains/{id}/end", post(end_campaign))
}

pub struct CampaignRow {
    pub id: String,
    pub title: String,
    pub attributes: String,
    pub shop: String,
    pub start: String,
    pub floor: String,
    pub helpers_needed: i64,
    pub hours: i64,
    pub floor_only: bool,
    pub window: String,
    pub stock: String,
    pub running: bool,
    pub ended: bool,
    pub started: i64,
    pub reached_floor: i64,
    pub bought: i64,
    pub expired: i64,
    /// Bought over started, in whole per-cent.
    pub conversion: i64,
}

/// What the form holds: the defaults, or what was submitted when it was refused.
#[derive(Deserialize)]
struct CampaignForm {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    shop: String,
    #[serde(default)]
    start_yuan: String,
    #[serde(default)]
    floor_yuan: String,
    #[serde(default)]
    helpers: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    stock: String,
    #[serde(default)]
    buy_rule: String,
}

impl Default for CampaignForm {
    fn default() -> Self {
        CampaignForm {
            sku: String::new(),
            shop: String::new(),
            start_yuan: String::new(),
            floor_yuan: String::new(),
            helpers: "5".into(),
            hours: "24".into(),
            days: "7".into(),
            stock: "100".into(),
            buy_rule: BuyRule::AtCurrentPrice.as_str().into(),
        }
    }
}

/// A refusal shown above the form: the words for its code, and the rule it broke.
struct FormError {
    headline: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "console_bargains.html")]
struct ConsolePage {
    t: &'static Strings,
    nav: Nav,
    may_create: bool,
    operator: bool,
    skus: Vec<SkuOption>,
    shops: Vec<ShopOption>,
    form: CampaignForm,
    error: Option<FormError>,
    campaigns: Vec<CampaignRow>,
}

/// Bought over started in whole per-cent (0 when none started).
fn conversion(bought: i64, started: i64) -> i64 {
    if started <= 0 { 0 } else { bought * 100 / started }
}

async fn row(state: &AppState, ctx: &Ctx, user: &SessionUser, choices: &mut Choices, c: &BargainCampaign) -> Result<CampaignRow, Error> {
    let app = &state.app;
    let results = bargains::campaign_results(app, user, c.id).await?;
    let now = app.now().millis();
    let product = choices.product(app, c.product_id).await;
    Ok(CampaignRow {
        id: c.id.to_string(),
        title: product.map(|p| p.title.clone()).unwrap_or_default(),
        attributes: product.map(|p| attributes_of(p, c.sku_id)).unwrap_or_default(),
        shop: choices.shop_label(ctx.t, c.shop_id),
        start: yuan(c.start_fen),
        floor: yuan(c.floor_fen),
        helpers_needed: c.helpers_needed,
        hours: c.bargain_hours,
        floor_only: c.buy_rule == BuyRule::OnlyAtFloor.as_str(),
        window: format!("{} – {}", fmt_time(c.starts_at), fmt_time(c.ends_at)),
        stock: format!("{}/{}", c.stock_used, c.stock_cap),
        running: c.ended_at.is_none() && c.starts_at <= now && now < c.ends_at,
        ended: c.ended_at.is_some() || c.ends_at <= now,
        started: results.started,
        reached_floor: results.reached_floor,
        bought: results.bought,
        expired: results.expired,
        conversion: conversion(results.bought, results.started),
    })
}

/// The console page, with the form as given and the refusal, if any.
async fn page(state: &AppState, ctx: &Ctx, form: CampaignForm, error: Option<FormError>) -> Result<ConsolePage, Error> {
    let user = ctx.user().map_err(|e| e.0)?;
    let seat = seat(user)?;
    let app = &state.app;
    let list = match seat {
        Seat::Operator => bargains::campaigns(app, None, None, false, 1, 50).await?,
        // Platform campaigns running in the shop are the operator's to watch.
        Seat::Owner(shop) => {
            bargains::campaigns(app, Some(shop), None, false, 1, 50).await?.into_iter().filter(|c| c.shop_id == Some(shop)).collect()
        }
    };
    let mut choices = Choices::load(app, &seat).await?;
    let mut campaigns = Vec::with_capacity(list.len());
    for c in &list {
        campaigns.push(row(state, ctx, user, &mut choices, c).await?);
    }
    Ok(ConsolePage {
        t: ctx.t,
        nav: ctx.nav("me"),
        may_create: choices.may_create,
        operator: matches!(seat, Seat::Operator),
        skus: sku_options(&choices.products),
        shops: choices.shops,
        form,
        error,
        campaigns,
    })
}

async fn console(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    render(&page(&state, &ctx, CampaignForm::default(), None).await?)
}

impl CampaignForm {
    /// The draft this form describes, for a console seat; a field that does not parse is
    /// refused here with what it must be.
    fn draft(&self, seat: &Seat, now: sharemall_domain::Timestamp) -> Result<BargainCampaignDraft, Error> {
        let shop = match seat {
            Seat::Operator if self.shop.trim().is_empty() => None,
            Seat::Operator => Some(self.shop.trim().parse::<ShopId>().map_err(|_| Error::not_found("shop"))?),
            Seat::Owner(own) => Some(*own),
        };
        let sku: SkuId = self.sku.trim().parse().map_err(|_| Error::new(ErrorCode::SkuNotFound, "choose a product option"))?;
        let days = int("days", &self.days)?;
        if !(1..=366).contains(&days) {
            return Err(Error::invalid("a campaign runs 1 to 366 days"));
        }
        let request = BargainCampaignRequest {
            start: Money::parse_yuan(&self.start_yuan)?,
            floor: Money::parse_yuan(&self.floor_yuan)?,
            helpers_needed: int("helps", &self.helpers)?,
            hours: int("hours", &self.hours)?,
            starts_at: now,
            ends_at: now.plus_ms(days * DAY_MS),
            stock_cap: int("stock", &self.stock)?,
            buy_rule: BuyRule::parse(self.buy_rule.trim())?,
        };
        Ok(BargainCampaignDraft { shop, sku, request })
    }
}

async fn create_campaign(State(state): State<AppState>, ctx: Ctx, Form(form): Form<CampaignForm>) -> PageResult {
    let user = ctx.user()?;
    let seat = seat(user)?;
    let created = match form.draft(&seat, state.app.now()) {
        Ok(draft) => bargains::create_campaign(&state.app, user, draft).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(see_other("/console/bargains")),
        // Not allowed at all: the error page, as for any refused page.
        Err(e) if matches!(e.code, ErrorCode::Forbidden | ErrorCode::NoShop) => Err(PageError(e)),
        Err(e) => refused(&state, &ctx, form, e).await,
    }
}

/// The console again, in the refusal's status, with the reason above the form as typed.
async fn refused(state: &AppState, ctx: &Ctx, form: CampaignForm, e: Error) -> PageResult {
    let error = FormError { headline: ctx.t.error_headline(e.code).unwrap_or(ctx.t.error_title), detail: public_message(&e) };
    let mut response: Response = render(&page(state, ctx, form, Some(error)).await?)?;
    *response.status_mut() = status_of(e.code);
    Ok(response)
}

async fn end_campaign(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id: BargainCampaignId = id.parse().map_err(|_| Error::not_found("bargain campaign"))?;
    bargains::end_campaign(&state.app, ctx.user()?, id).await?;
    Ok(see_other("/console/bargains"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_whole_per_cent_of_started() {
        assert_eq!(conversion(0, 0), 0);
        assert_eq!(conversion(1, 3), 33);
        assert_eq!(conversion(2, 3), 66);
        assert_eq!(conversion(4, 4), 100);
    }
}
