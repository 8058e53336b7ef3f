//! The platform home, shop homes, product pages, and the generated images.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::catalog;
use sharemall_app::shops;
use sharemall_domain::{Error, ErrorCode, ProductId, ShopId};
use sharemall_store::model::{Product, Shop};

use super::bargains::{self, BargainOffer};
use super::groups::{GroupOffer, JoinRow, product_offer};
use super::share_sheet::ShareSheet;
use super::{Ctx, Nav, PageResult, SHOP_COOKIE, hue_of, render, see_other, set_cookie, yuan};
use crate::AppState;
use crate::i18n::Strings;
use crate::images;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/shops/{id}", get(shop_home))
        .route("/shops/{shop_id}/products/{product_id}", get(product_page))
}

/// A product tile.
pub struct Card {
    pub id: String,
    pub href: String,
    pub title: String,
    pub category: String,
    pub price: String,
    pub returnable: bool,
    pub in_stock: bool,
}

impl Card {
    pub(super) fn of(p: &Product, shop: Option<ShopId>) -> Card {
        Card {
            id: p.id.to_string(),
            // Without a shop the platform picks the seller (the visitor's bound shop first).
            href: shop.map_or_else(|| format!("/products/{}", p.id), |s| format!("/shops/{s}/products/{}", p.id)),
            title: p.title.clone(),
            category: p.category.clone(),
            price: yuan(p.price_from_fen),
            returnable: p.skus.iter().any(|s| s.returnable),
            in_stock: p.skus.iter().any(|s| s.stock_available > 0),
        }
    }
}

pub struct ShopTile {
    pub id: String,
    pub name: String,
    pub intro: String,
}

impl ShopTile {
    pub(super) fn of(s: &Shop) -> ShopTile {
        ShopTile { id: s.id.to_string(), name: s.name.clone(), intro: s.intro.clone() }
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    t: &'static Strings,
    nav: Nav,
    shops: Vec<ShopTile>,
    products: Vec<Card>,
    has_shop: bool,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let shops = shops::shops(&state.app).await?;
    let products = catalog::catalogue(&state.app, None, 1, 12).await?;
    render(&HomePage {
        t: ctx.t,
        nav: ctx.nav("home"),
        shops: shops.iter().map(ShopTile::of).collect(),
        products: products.iter().map(|p| Card::of(p, None)).collect(),
        has_shop: ctx.user.as_ref().is_some_and(|u| u.shop_id.is_some()),
    })
}

// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "shop.html")]
struct ShopPage {
    t: &'static Strings,
    nav: Nav,
    shop: ShopTile,
    products: Vec<Card>,
    registration: String,
    sheet: ShareSheet,
}

pub(super) fn remember_shop(mut response: Response, shop: ShopId, secure: bool) -> Response {
    if let Some(value) = set_cookie(SHOP_COOKIE, &shop.to_string(), Some(30 * 24 * 3600), true, secure) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct ShopQuery {
    share: Option<String>,
}

async fn shop_home(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(q): Query<ShopQuery>) -> PageResult {
    let id: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let shop = shops::shop(&state.app, id).await?;
    let products = shops::shop_products(&state.app, id, 1, 100).await?;
    let page = ShopPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        registration: crate::api::shops::registration_statement(&shop),
        shop: ShopTile::of(&shop),
        products: products.iter().map(|p| Card::of(p, Some(id))).collect(),
        sheet: ShareSheet::build(&state, &ctx, id, None, q.share.as_deref()).await?,
    };
    Ok(remember_shop(render(&page)?, id, state.secure_cookies))
}

// ---------------------------------------------------------------------------------------------

pub struct SkuChoice {
    pub id: String,
    pub attributes: String,
    pub price: String,
    pub stock: i64,
    pub returnable: bool,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    t: &'static Strings,
    nav: Nav,
    shop: ShopTile,
    product_id: String,
    title: String,
    description: String,
    category: String,
    supplier: String,
    price: String,
    returnable: bool,
    skus: Vec<SkuChoice>,
    any_in_stock: bool,
    added: bool,
    sheet: ShareSheet,
    /// The group-buy campaign running for this product in this shop, if any.
    offer: Option<GroupOffer>,
    /// Groups a customer could join now (凑团), fewest seats missing first.
    joinable: Vec<JoinRow>,
    /// The bargain campaign running for this product in this shop, if any.
    bargain: Option<BargainOffer>,
}

#[derive(Deserialize)]
struct ProductQuery {
    added: Option<String>,
    share: Option<String>,
}

async fn product_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((shop_id, product_id)): Path<(String, String)>,
    Query(q): Query<ProductQuery>,
) -> PageResult {
    let shop_id: ShopId = shop_id.parse().map_err(|_| Error::not_found("shop"))?;
    let product_id: ProductId = product_id.parse().map_err(|_| Error::not_found("product"))?;
    let (shop, product) = match shops::shop_product(&state.app, shop_id, product_id).await {
        Ok(found) => found,
        // An old link (a share, a bookmark) to a product the shop no longer sells: the shop's
        // other goods beat a dead end.
        Err(e) if e.code == ErrorCode::NotFound && shops::shop(&state.app, shop_id).await.is_ok() => {
            return Ok(see_other(&format!("/shops/{shop_id}")));
        }
        Err(e) => return Err(e.into()),
    };
    let (offer, joinable) = product_offer(&state, shop_id, &product).await?;
    let bargain = bargains::product_offer(&state, &ctx, shop_id, &product).await?;
    let first_in_stock = product.skus.iter().position(|s| s.stock_available > 0);
    let skus: Vec<SkuChoice> = product
        .skus
        .iter()
        .enumerate()
        .map(|(i, s)| SkuChoice {
            id: s.id.to_string(),
            attributes: if s.attributes.trim().is_empty() { "—".into() } else { s.attributes.clone() },
            price: yuan(s.retail_fen),
            stock: s.stock_available,
            returnable: s.returnable,
            checked: Some(i) == first_in_stock,
        })
        .collect();
    let page = ProductPage {
        t: ctx.t,
        nav: ctx.nav("home"),
        shop: ShopTile::of(&shop),
        product_id: product.id.to_string(),
        title: product.title.clone(),
        description: product.description.clone(),
        category: product.category.clone(),
        supplier: product.supplier_name.clone(),
        price: yuan(product.price_from_fen),
        returnable: product.skus.iter().all(|s| s.returnable),
        any_in_stock: first_in_stock.is_some(),
        skus,
        added: q.added.is_some(),
        sheet: ShareSheet::build(&state, &ctx, shop_id, Some(product_id), q.share.as_deref()).await?,
        offer,
        joinable,
        bargain,
    };
    Ok(remember_shop(render(&page)?, shop_id, state.secure_cookies))
}

// Images

fn svg(body: String) -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=604800")], body).into_response()
}

/// `/images/products/{id}.svg`: the generated product picture.
pub async fn product_image(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let product = match file.strip_suffix(".svg").and_then(|id| id.parse::<ProductId>().ok()) {
        Some(id) => catalog::public_product(&state.app, id).await.ok(),
        None => None,
    };
    match product {
        Some(p) => svg(images::product_svg(&p.title, &p.category, p.image_hue, 400)),
        None => svg(images::product_svg("", "", 0, 400)),
    }
}

/// `/images/shops/{id}.svg`: the shop's round logo.
pub async fn shop_logo(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let shop = match file.strip_suffix(".svg").and_then(|id| id.parse::<ShopId>().ok()) {
        Some(id) => shops::shop(&state.app, id).await.ok(),
        None => None,
    };
    match shop {
        Some(s) => svg(images::shop_logo_svg(&s.name, hue_of(&s.id.to_string()))),
        None => svg(images::shop_logo_svg("店", 0)),
    }
}
