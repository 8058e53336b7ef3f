//! Shops: open one free, pick products, the public shop pages' data, the cart.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use sharemall_app::catalog::clamp_page;
use sharemall_app::{orders, shops};
use sharemall_domain::{ProductId, ShopId, SkuId};
use sharemall_store::model::{CartLine, Product, Shop};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::accounts::Done;
use crate::api::catalog::{Created, PageQuery};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, CurrentUser};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenShopRequest {
    pub name: String,
    #[serde(default)]
    pub intro: String,
    /// Business registration details, if the owner has them (E-commerce Law art. 10).
    pub registration: Option<String>,
}

#[utoipa::path(post, path = "/shops", tag = "shops", request_body = OpenShopRequest,
    responses((status = 200, body = Created), (status = 409, body = ErrorBody)))]
async fn open_shop(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<OpenShopRequest>,
) -> ApiResult<Created> {
    let id = shops::open_shop(&state.app, &user, &req.name, &req.intro, req.registration.as_deref()).await?;
    Ok(Json(Created { id: id.to_string() }))
}

#[utoipa::path(get, path = "/shops", tag = "shops", responses((status = 200, body = Vec<Shop>)))]
async fn list_shops(State(state): State<AppState>) -> ApiResult<Vec<Shop>> {
    Ok(Json(shops::shops(&state.app).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopHome {
    pub shop: Shop,
    /// The registration details, or the statutory statement that none is required.
    pub registration_statement: String,
    pub products: Vec<Product>,
}

/// The statement the homepage must show (E-commerce Law art. 10 and 76).
pub fn registration_statement(shop: &Shop) -> String {
    match sharemall_domain::shop::registration_statement(shop.registration.as_deref()) {
        sharemall_domain::shop::RegistrationStatement::Registered(details) => details.to_string(),
        sharemall_domain::shop::RegistrationStatement::ExemptIndividual => {
            "根据《电子商务法》第十条，本店经营者为个人销售自产农副产品、家庭手工业产品或从事零星小额交易活动，依法不需要办理市场主体登记。"
                .into()
        }
    }
}

#[utoipa::path(get, path = "/shops/{id}", tag = "shops", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = ShopHome), (status = 404, body = ErrorBody)))]
async fn shop_home(State(state): State<AppState>, Path(id): Path<ShopId>, Query(q): Query<PageQuery>) -> ApiResult<ShopHome> {
    let shop = shops::shop(&state.app, id).await?;
    let (page, per_page) = clamp_page(q.page, q.per_page);
    let products = shops::shop_products(&state.app, id, page, per_page).await?;
    Ok(Json(ShopHome { registration_statement: registration_statement(&shop), shop, products }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickRequest {
    pub product_id: String,
}

#[utoipa::path(post, path = "/shop/products", tag = "shops", request_body = PickRequest,
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pick(State(state): State<AppState>, CurrentUser(user): CurrentUser, ApiJson(req): ApiJson<PickRequest>) -> ApiResult<Done> {
    let product: ProductId = req.product_id.parse().map_err(|_| sharemall_domain::Error::not_found("product"))?;
    shops::pick_product(&state.app, &user, product).await?;
    Ok(Json(Done { ok: true }))
}

#[utoipa::path(delete, path = "/shop/products/{id}", tag = "shops", params(("id" = String, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
async fn unpick(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(id): Path<ProductId>) -> ApiResult<Done> {
    shops::remove_product(&state.app, &user, id).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartLineRequest {
    /// 0 removes the line.
    pub quantity: i64,
}

#[utoipa::path(put, path = "/shops/{shop_id}/cart/{sku_id}", tag = "orders", params(("shop_id" = String, Path), ("sku_id" = String, Path)),
    request_body = CartLineRequest, responses((status = 200, body = Vec<CartLine>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn set_cart_line(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((shop, sku)): Path<(ShopId, SkuId)>,
    ApiJson(req): ApiJson<CartLineRequest>,
) -> ApiResult<Vec<CartLine>> {
    orders::set_cart_line(&state.app, &user, shop, sku, req.quantity).await?;
    Ok(Json(orders::cart(&state.app, &user, shop).await?))
}

#[utoipa::path(get, path = "/shops/{shop_id}/cart", tag = "orders", params(("shop_id" = String, Path)), responses((status = 200, body = Vec<CartLine>)))]
async fn cart(State(state): State<AppState>, CurrentUser(user): CurrentUser, Path(shop): Path<ShopId>) -> ApiResult<Vec<CartLine>> {
    Ok(Json(orders::cart(&state.app, &user, shop).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_shop, list_shops))
        .routes(routes!(shop_home))
        .routes(routes!(pick))
        .routes(routes!(unpick))
        .routes(routes!(set_cart_line))
        .routes(routes!(cart))
}
