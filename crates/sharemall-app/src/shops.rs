//! Shop use cases: open a shop, pick products, the shop homepage.

use sharemall_domain::account::Role;
use sharemall_domain::catalog::check_text;
use sharemall_domain::shop::check_shop_name;
use sharemall_domain::{Error, ErrorCode, ProductId, ShopId};
use sharemall_store::model::{Product, SessionUser, Shop};
use sharemall_store::ops::catalog::{self, ProductFilter, Viewer};
use sharemall_store::ops::shops;

use crate::{App, require};

/// Opens a shop in one step, free of charge.
pub async fn open_shop(app: &App, user: &SessionUser, name: &str, intro: &str, registration: Option<&str>) -> Result<ShopId, Error> {
    let name = check_shop_name(name)?;
    let intro = check_text("intro", intro, 200)?;
    let registration = registration.map(|r| check_text("registration", r, 200)).transpose()?.filter(|r| !r.is_empty());
    let (now, owner) = (app.now(), user.user_id);
    let shop = app.store.write(move |sql| shops::open_shop(sql, now, owner, &name, &intro, registration.as_deref())).await?;
    app.sessions.forget_user(owner);
    Ok(shop)
}

/// The caller's own shop, or `no_shop`.
pub fn own_shop(user: &SessionUser) -> Result<ShopId, Error> {
    require(user, Role::ShopOwner)?;
    user.shop_id.ok_or_else(|| Error::new(ErrorCode::NoShop, "open your shop first"))
}

pub async fn pick_product(app: &App, user: &SessionUser, product: ProductId) -> Result<(), Error> {
    let shop = own_shop(user)?;
    let now = app.now();
    app.store.write(move |sql| shops::pick_product(sql, now, shop, product)).await
}

pub async fn remove_product(app: &App, user: &SessionUser, product: ProductId) -> Result<(), Error> {
    let shop = own_shop(user)?;
    app.store.write(move |sql| shops::remove_product(sql, shop, product)).await
}

pub async fn shop(app: &App, id: ShopId) -> Result<Shop, Error> {
    app.store.read(move |sql| shops::load_shop(sql, id)).await
}

pub async fn shops(app: &App) -> Result<Vec<Shop>, Error> {
    app.store.read(move |sql| shops::list_shops(sql, 100)).await
}

/// Products on sale in a shop.
pub async fn shop_products(app: &App, id: ShopId, page: i64, per_page: i64) -> Result<Vec<Product>, Error> {
    let filter = ProductFilter { shop: Some(id), on_sale: true, ..ProductFilter::default() };
    app.store.read(move |sql| catalog::list_products(sql, &filter, Viewer::Public, page, per_page)).await
}

/// A product as sold in a shop: not found unless the shop carries it and it is on sale.
pub async fn shop_product(app: &App, shop: ShopId, product: ProductId) -> Result<(Shop, Product), Error> {
    let (shop, carried) = app.store.read(move |sql| Ok((shops::load_shop(sql, shop)?, shops::carries(sql, shop, product)?))).await?;
    if !carried {
        return Err(Error::not_found("product"));
    }
    Ok((shop, crate::catalog::public_product(app, product).await?))
}
