//! The group-buy campaign console (`/console/groups`): operators (every campaign) and shop owners
//! (their own shop's, when the operator allows it) create campaigns, read their results and end them.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::group_campaigns::{self, CampaignDraft};
use sharemall_app::{catalog, groups, shops};
use sharemall_domain::account::Role;
use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::{Error, ErrorCode, Money, ProductId, ShopId, SkuId};
use sharemall_store::model::{Product, SessionUser};
use std::collections::HashMap;

use super::groups::{DAY_MS, attributes_of, campaign_id};
use super::{Ctx, Nav, PageResult, fmt_time, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/groups", get(console).post(create_campaign)).route("/console/groups/{id}/end", post(end_campaign))
}

pub struct SkuOption {
    pub id: String,
    pub label: String,
}

pub struct ShopOption {
    pub id: String,
    pub name: String,
}

pub struct CampaignRow {
    pub id: String,
    pub title: String,
    pub attributes: String,
    pub shop: String,
    pub group_price: String,
    pub size: i64,
    pub hours: i64,
    pub window: String,
    pub stock: String,
    pub running: bool,
    pub ended: bool,
    pub open: i64,
    pub succeeded: i64,
    pub platform_completed: i64,
    pub failed: i64,
    pub rate: String,
    pub refunds: i64,
    pub refunded: String,
}

#[derive(Template)]
#[template(path = "console_groups.html")]
struct ConsolePage {
    t: &'static Strings,
    nav: Nav,
    may_create: bool,
    operator: bool,
    skus: Vec<SkuOption>,
    shops: Vec<ShopOption>,
    campaigns: Vec<CampaignRow>,
}

/// Who is at the console: an operator (every campaign) or a shop owner (their shop's). The
/// bargain console seats people the same way.
pub(super) enum Seat {
    Operator,
    Owner(ShopId),
}

pub(super) fn seat(user: &SessionUser) -> Result<Seat, Error> {
    if user.has(Role::Operator) {
        return Ok(Seat::Operator);
    }
    user.shop_id.map(Seat::Owner).ok_or_else(|| Error::new(ErrorCode::Forbidden, "campaigns are for operators and shop owners"))
}

pub(super) fn sku_options(products: &[Product]) -> Vec<SkuOption> {
    products
        .iter()
        .flat_map(|p| {
            p.skus.iter().map(move |s| SkuOption {
                id: s.id.to_string(),
                label: format!("{} · {} · ¥{}", p.title, s.attributes, yuan(s.retail_fen)),
            })
        })
        .collect()
}

/// What a console seat may run campaigns on: the SKUs offered (the catalogue for the operator,
/// the shop's own goods for an owner), the shops (the operator's choice), whether the form is
/// shown, and every product a listed campaign names, for its title.
pub(super) struct Choices {
    pub products: Vec<Product>,
    pub shops: Vec<ShopOption>,
    pub may_create: bool,
    shop_names: HashMap<ShopId, String>,
    known: HashMap<ProductId, Product>,
}

impl Choices {
    pub async fn load(app: &sharemall_app::App, seat: &Seat) -> Result<Choices, Error> {
        let (products, shops, may_create) = match seat {
            Seat::Operator => (catalog::catalogue(app, None, 1, 50).await?, shops::shops(app).await?, true),
            Seat::Owner(shop) => (shops::shop_products(app, *shop, 1, 100).await?, Vec::new(), app.config.shop_owners_may_run_groups),
        };
        Ok(Choices {
            known: products.iter().map(|p| (p.id, p.clone())).collect(),
            shop_names: shops.iter().map(|s| (s.id, s.name.clone())).collect(),
            shops: shops.iter().map(|s| ShopOption { id: s.id.to_string(), name: s.name.clone() }).collect(),
            products,
            may_create,
        })
    }

    /// The product a campaign names (a product the seat does not offer is looked up once).
    pub async fn product(&mut self, app: &sharemall_app::App, id: ProductId) -> Option<&Product> {
        if !self.known.contains_key(&id)
            && let Ok(product) = catalog::public_product(app, id).await
        {
            self.known.insert(product.id, product);
        }
        self.known.get(&id)
    }

    /// Where a campaign runs, as the list says it.
    pub fn shop_label(&self, t: &Strings, shop: Option<ShopId>) -> String {
        match shop {
            None => t.campaign_platform.to_string(),
            Some(id) => self.shop_names.get(&id).cloned().unwrap_or_else(|| t.campaign_shop.to_string()),
        }
    }
}

async fn console(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let seat = seat(user)?;
    let app = &state.app;
    let list = match seat {
        Seat::Operator => group_campaigns::campaigns(app, None, None, false, 1, 50).await?,
        // Platform campaigns running in the shop are the operator's to watch.
        Seat::Owner(shop) => {
            group_campaigns::campaigns(app, Some(shop), None, false, 1, 50).await?.into_iter().filter(|c| c.shop_id == Some(shop)).collect()
        }
    };
    let mut choices = Choices::load(app, &seat).await?;
    let now = app.now().millis();
    let mut campaigns = Vec::with_capacity(list.len());
    for c in &list {
        let results = groups::campaign_results(app, user, c.id).await?;
        let product = choices.product(app, c.product_id).await;
        campaigns.push(CampaignRow {
            id: c.id.to_string(),
            title: product.map(|p| p.title.clone()).unwrap_or_default(),
            attributes: product.map(|p| attributes_of(p, c.sku_id)).unwrap_or_default(),
            shop: choices.shop_label(ctx.t, c.shop_id),
            group_price: yuan(c.group_price_fen),
            size: c.size,
            hours: c.group_hours,
            window: format!("{} – {}", fmt_time(c.starts_at), fmt_time(c.ends_at)),
            stock: format!("{}/{}", c.stock_used, c.stock_cap),
            running: c.ended_at.is_none() && c.starts_at <= now && now < c.ends_at,
            ended: c.ended_at.is_some() || c.ends_at <= now,
            open: results.open,
            succeeded: results.succeeded,
            platform_completed: results.platform_completed,
            failed: results.failed,
            rate: format!("{}.{}%", results.success_rate_bps / 100, (results.success_rate_bps % 100) / 10),
            refunds: results.refunds,
            refunded: yuan(results.refunded_fen),
        });
    }
    let operator = matches!(seat, Seat::Operator);
    render(&ConsolePage {
        t: ctx.t,
        nav: ctx.nav("me"),
        may_create: choices.may_create,
        operator,
        skus: sku_options(&choices.products),
        shops: choices.shops,
        campaigns,
    })
}

#[derive(Deserialize)]
struct CampaignForm {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    shop: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    price_yuan: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    stock: String,
    #[serde(default)]
    limit: String,
    new_only: Option<String>,
    #[serde(default)]
    auto_complete: String,
}

pub(super) fn int(name: &str, text: &str) -> Result<i64, Error> {
    text.trim().parse().map_err(|_| Error::invalid(format!("{name} must be a whole number")))
}

async fn create_campaign(State(state): State<AppState>, ctx: Ctx, Form(form): Form<CampaignForm>) -> PageResult {
    let user = ctx.user()?;
    let shop = match seat(user)? {
        Seat::Operator if form.shop.trim().is_empty() => None,
        Seat::Operator => Some(form.shop.trim().parse::<ShopId>().map_err(|_| Error::not_found("shop"))?),
        Seat::Owner(own) => Some(own),
    };
    let sku: SkuId = form.sku.trim().parse().map_err(|_| Error::new(ErrorCode::SkuNotFound, "choose a product option"))?;
    let now = state.app.now();
    let days = int("days", &form.days)?;
    if !(1..=366).contains(&days) {
        return Err(Error::invalid("a campaign runs 1 to 366 days").into());
    }
    let auto = form.auto_complete.trim();
    let request = CampaignRequest {
        size: int("size", &form.size)?,
        group_price: Money::parse_yuan(&form.price_yuan)?,
        hours: int("hours", &form.hours)?,
        starts_at: now,
        ends_at: now.plus_ms(days * DAY_MS),
        stock_cap: int("stock", &form.stock)?,
        per_customer_limit: int("limit", &form.limit)?,
        new_customers_only: form.new_only.is_some(),
        auto_complete_at: if auto.is_empty() { None } else { Some(int("auto-complete", auto)?) },
    };
    group_campaigns::create_campaign(&state.app, user, CampaignDraft { shop, sku, request }).await?;
    Ok(see_other("/console/groups"))
}

async fn end_campaign(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    group_campaigns::end_campaign(&state.app, ctx.user()?, campaign_id(&id)?).await?;
    Ok(see_other("/console/groups"))
}
