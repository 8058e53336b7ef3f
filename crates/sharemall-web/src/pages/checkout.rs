//! The one-shop cart and checkout: the price preview is the server's pricing pipeline, and the
//! order form carries a one-time token that becomes its `Idempotency-Key`.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use serde::Deserialize;
use sharemall_app::orders::{self, Checkout};
use sharemall_app::shops;
use sharemall_domain::pricing::{self, Adjustments, LineInput};
use sharemall_domain::{Error, ErrorCode, Money, ProductId, ShopId, SkuId};

use super::order_form::DeliveryFields;
use super::store::{ShopTile, remember_shop};
use super::{Ctx, Nav, PageResult, SHOP_COOKIE, cookie, form_key, form_token, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cart", get(cart_tab))
        .route("/shops/{id}/cart", get(cart_page).post(cart_add))
        .route("/shops/{id}/cart/set", axum::routing::post(cart_set))
        .route("/shops/{id}/checkout", get(checkout_page).post(checkout_submit))
}

pub struct CartRow {
    pub sku_id: String,
    pub product_href: String,
    pub product_id: String,
    pub title: String,
    pub attributes: String,
    pub unit: String,
    pub quantity: i64,
    pub subtotal: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    t: &'static Strings,
    nav: Nav,
    shop: Option<ShopTile>,
    rows: Vec<CartRow>,
    total: String,
}

/// The cart tab: the cart of the last shop visited.
async fn cart_tab(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> PageResult {
    if let Some(shop) = cookie(&headers, SHOP_COOKIE).and_then(|s| s.parse::<ShopId>().ok())
        && shops::shop(&state.app, shop).await.is_ok()
    {
        return Ok(see_other(&format!("/shops/{shop}/cart")));
    }
    render(&CartPage { t: ctx.t, nav: ctx.nav("cart"), shop: None, rows: Vec::new(), total: yuan(0) })
}

async fn cart_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.user()?;
    let shop_id: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let shop = shops::shop(&state.app, shop_id).await?;
    let lines = orders::cart(&state.app, user, shop_id).await?;
    let mut total = 0i64;
    let rows = lines
        .iter()
        .map(|l| {
            let sub = l.unit_fen.saturating_mul(l.quantity);
            total = total.saturating_add(sub);
            CartRow {
                sku_id: l.sku_id.to_string(),
                product_href: format!("/shops/{shop_id}/products/{}", l.product_id),
                product_id: l.product_id.to_string(),
                title: l.title.clone(),
                attributes: l.attributes.clone(),
                unit: yuan(l.unit_fen),
                quantity: l.quantity,
                subtotal: yuan(sub),
            }
        })
        .collect();
    let page = CartPage { t: ctx.t, nav: ctx.nav("cart"), shop: Some(ShopTile::of(&shop)), rows, total: yuan(total) };
    Ok(remember_shop(render(&page)?, shop_id, state.secure_cookies))
}

#[derive(Deserialize)]
struct CartForm {
    sku: Option<String>,
    #[serde(default)]
    qty: String,
    #[serde(default)]
    product: String,
}

fn parse_sku(text: Option<&str>) -> Result<SkuId, Error> {
    text.filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("choose an option first"))?
        .parse()
        .map_err(|_| Error::new(ErrorCode::SkuNotFound, "no such SKU"))
}

fn parse_qty(text: &str) -> Result<i64, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(1);
    }
    text.parse().map_err(|_| Error::new(ErrorCode::InvalidQuantity, "quantity must be a whole number"))
}

/// "加入购物车": adds the quantity to what is already in the cart.
async fn cart_add(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<CartForm>) -> PageResult {
    let user = ctx.user()?;
    let shop: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let sku = parse_sku(form.sku.as_deref())?;
    let add = parse_qty(&form.qty)?;
    let existing = orders::cart(&state.app, user, shop).await?.iter().find(|l| l.sku_id == sku).map_or(0, |l| l.quantity);
    orders::set_cart_line(&state.app, user, shop, sku, existing.saturating_add(add)).await?;
    match form.product.parse::<ProductId>() {
        Ok(product) => Ok(see_other(&format!("/shops/{shop}/products/{product}?added=1"))),
        Err(_) => Ok(see_other(&format!("/shops/{shop}/cart"))),
    }
}

/// Sets a cart line's quantity (0 removes it).
async fn cart_set(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<CartForm>) -> PageResult {
    let user = ctx.user()?;
    let shop: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let sku = parse_sku(form.sku.as_deref())?;
    orders::set_cart_line(&state.app, user, shop, sku, parse_qty(&form.qty)?).await?;
    Ok(see_other(&format!("/shops/{shop}/cart")))
}

// ---------------------------------------------------------------------------------------------

pub struct CheckoutLine {
    pub product_id: String,
    pub title: String,
    pub attributes: String,
    pub unit: String,
    pub quantity: i64,
    pub subtotal: String,
}

impl CheckoutLine {
    fn new(product_id: ProductId, title: String, attributes: String, unit_fen: i64, quantity: i64) -> CheckoutLine {
        CheckoutLine {
            product_id: product_id.to_string(),
            title,
            attributes,
            unit: yuan(unit_fen),
            quantity,
            subtotal: yuan(unit_fen.saturating_mul(quantity)),
        }
    }
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    t: &'static Strings,
    nav: Nav,
    shop: ShopTile,
    lines: Vec<CheckoutLine>,
    base: String,
    discount: String,
    has_discount: bool,
    goods: String,
    shipping: String,
    free_shipping: bool,
    free_over: String,
    payable: String,
    form_token: String,
    from_cart: bool,
    sku: String,
    qty: i64,
    recipient: String,
    phone: String,
}

#[derive(Deserialize)]
struct CheckoutQuery {
    sku: Option<String>,
    #[serde(default)]
    qty: String,
    #[serde(default)]
    product: String,
    cart: Option<String>,
}

/// The lines being bought: one SKU ("buy now") or the cart.
async fn checkout_lines(
    state: &AppState,
    ctx: &Ctx,
    shop: ShopId,
    q: &CheckoutQuery,
) -> Result<Vec<(SkuId, CheckoutLine, LineInput)>, Error> {
    let user = ctx.user().map_err(|e| e.0)?;
    if q.cart.is_some() {
        let lines = orders::cart(&state.app, user, shop).await?;
        if lines.is_empty() {
            return Err(Error::new(ErrorCode::EmptyCart, "the cart is empty"));
        }
        return Ok(lines
            .into_iter()
            .map(|l| {
                let line = CheckoutLine::new(l.product_id, l.title, l.attributes, l.unit_fen, l.quantity);
                (l.sku_id, line, LineInput { sku_id: l.sku_id, quantity: l.quantity, unit_price: Money::from_fen(l.unit_fen) })
            })
            .collect());
    }
    let sku_id = parse_sku(q.sku.as_deref())?;
    let quantity = parse_qty(&q.qty)?;
    let product_id: ProductId = q.product.parse().map_err(|_| Error::not_found("product"))?;
    let (_, product) = shops::shop_product(&state.app, shop, product_id).await?;
    let sku = product.skus.iter().find(|s| s.id == sku_id).ok_or_else(|| Error::new(ErrorCode::SkuNotFound, "no such SKU"))?;
    let line = CheckoutLine::new(product.id, product.title.clone(), sku.attributes.clone(), sku.retail_fen, quantity);
    Ok(vec![(sku_id, line, LineInput { sku_id, quantity, unit_price: Money::from_fen(sku.retail_fen) })])
}

async fn checkout_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(q): Query<CheckoutQuery>) -> PageResult {
    let user = ctx.user()?.clone();
    let shop_id: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let shop = shops::shop(&state.app, shop_id).await?;
    let lines = checkout_lines(&state, &ctx, shop_id, &q).await?;
    let inputs: Vec<LineInput> = lines.iter().map(|(_, _, i)| i.clone()).collect();
    let shipping = state.app.config.shipping;
    let price = pricing::price(&inputs, &Adjustments { shipping, ..Adjustments::NONE })?;
    let discount = price.activity_discount_fen + price.member_discount_fen + price.coupon_discount_fen;
    let page = CheckoutPage {
        t: ctx.t,
        nav: ctx.nav("cart"),
        shop: ShopTile::of(&shop),
        base: yuan(price.base_fen),
        discount: yuan(discount),
        has_discount: discount > 0,
        goods: yuan(price.goods_fen),
        shipping: yuan(price.shipping_fen),
        free_shipping: price.shipping_fen == 0,
        free_over: yuan(shipping.free_at_or_above.fen()),
        payable: yuan(price.payable_fen),
        form_token: form_token(),
        from_cart: q.cart.is_some(),
        sku: q.sku.clone().unwrap_or_default(),
        qty: lines.first().map_or(1, |(_, l, _)| l.quantity),
        lines: lines.into_iter().map(|(_, l, _)| l).collect(),
        recipient: user.display_name.clone(),
        phone: if user.login.contains('@') { String::new() } else { user.login.clone() },
    };
    render(&page)
}

#[derive(Deserialize)]
struct CheckoutForm {
    #[serde(default)]
    form_token: String,
    sku: Option<String>,
    #[serde(default)]
    qty: String,
    cart: Option<String>,
    #[serde(flatten)]
    delivery: DeliveryFields,
}

/// "提交订单": places the order (the form token makes a double submit place it once) and goes
/// to the order page.
async fn checkout_submit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<CheckoutForm>) -> PageResult {
    let user = ctx.user()?.clone();
    let shop: ShopId = id.parse().map_err(|_| Error::not_found("shop"))?;
    let from_cart = form.cart.as_deref().is_some_and(|c| !c.is_empty());
    let lines = if from_cart {
        orders::cart(&state.app, &user, shop).await?.into_iter().map(|l| (l.sku_id, l.quantity)).collect()
    } else {
        vec![(parse_sku(form.sku.as_deref())?, parse_qty(&form.qty)?)]
    };
    let what = format!("POST /shops/{shop}/checkout\n{from_cart}\n{lines:?}\n{}", form.delivery.fingerprint());
    let key = form_key(&user, &form.form_token, &what)?;
    let DeliveryFields { recipient, phone, address, note } = form.delivery;
    let checkout = Checkout { shop, lines, recipient, phone, address, note, from_cart };
    let placed = orders::place_order(&state.app, &user, checkout, Some(key)).await?;
    Ok(see_other(&format!("/orders/{}", placed.order_id)))
}

// ---------------------------------------------------------------------------------------------
