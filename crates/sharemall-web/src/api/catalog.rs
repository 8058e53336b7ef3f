//! Catalogue: suppliers submit products, operators approve, everyone browses what is on sale.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use sharemall_app::catalog::{self, ProductDraft, clamp_page};
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::{Money, ProductId, SkuId, SupplierId};
use sharemall_store::model::{Product, Supplier};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::accounts::Done;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, CurrentUser};

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    pub page: Option<i64>,
    /// 1–100, default 20.
    pub per_page: Option<i64>,
    /// Title contains.
    pub q: Option<String>,
    /// pending | approved | rejected
    pub approval: Option<String>,
}

fn approval_param(text: Option<&str>) -> Result<Option<Approval>, sharemall_domain::Error> {
    text.map(|t| Approval::parse(t).map_err(|_| sharemall_domain::Error::invalid("approval must be pending, approved or rejected")))
        .transpose()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierApplication {
    pub name: String,
    pub contact: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: String,
}

#[utoipa::path(post, path = "/suppliers", tag = "catalogue", request_body = SupplierApplication,
    responses((status = 200, body = Created), (status = 409, body = ErrorBody)))]
async fn apply_supplier(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<SupplierApplication>,
) -> ApiResult<Created> {
    let id = catalog::apply_as_supplier(&state.app, &user, &req.name, &req.contact).await?;
    Ok(Json(Created { id: id.to_string() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    /// approved | rejected | pending
    #[schema(value_type = String)]
    pub approval: Approval,
}

#[utoipa::path(get, path = "/operator/suppliers", tag = "operator", params(PageQuery), responses((status = 200, body = Vec<Supplier>), (status = 403, body = ErrorBody)))]
async fn list_suppliers(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Vec<Supplier>> {
    Ok(Json(catalog::list_suppliers(&state.app, &user, approval_param(q.approval.as_deref())?).await?))
}

#[utoipa::path(post, path = "/operator/suppliers/{id}/approval", tag = "operator", params(("id" = String, Path)), request_body = ApprovalDecision,
    responses((status = 200, body = Done), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn decide_supplier(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<SupplierId>,
    ApiJson(req): ApiJson<ApprovalDecision>,
) -> ApiResult<Done> {
    catalog::set_supplier_approval(&state.app, &user, id, req.approval).await?;
    Ok(Json(Done { ok: true }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuInput {
    /// e.g. `颜色:红色; 尺码:XL`
    pub attributes: String,
    pub supply_fen: i64,
    pub retail_fen: i64,
    pub commission_bps: i64,
    pub stock: i64,
    pub returnable: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub title: String,
    pub description: String,
    pub category: String,
    /// Hue 0–359 of the generated image.
    pub image_hue: Option<i64>,
    pub skus: Vec<SkuInput>,
}

#[utoipa::path(post, path = "/supplier/products", tag = "supplier", request_body = ProductInput,
    responses((status = 200, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(req): ApiJson<ProductInput>,
) -> ApiResult<Created> {
    let draft = ProductDraft {
        title: req.title,
        description: req.description,
        category: req.category,
        image_hue: req.image_hue.unwrap_or(20),
        skus: req
            .skus
            .into_iter()
            .map(|s| NewSku {
                attributes: s.attributes,
                supply_price: Money::from_fen(s.supply_fen),
                retail_price: Money::from_fen(s.retail_fen),
                commission_bps: s.commission_bps,
                stock: s.stock,
                returnable: s.returnable,
            })
            .collect(),
    };
    let id = catalog::add_product(&state.app, &user, draft).await?;
    Ok(Json(Created { id: id.to_string() }))
}

#[utoipa::path(get, path = "/supplier/products", tag = "supplier", params(PageQuery), responses((status = 200, body = Vec<Product>), (status = 403, body = ErrorBody)))]
async fn supplier_products(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Vec<Product>> {
    let (page, per_page) = clamp_page(q.page, q.per_page);
    Ok(Json(catalog::supplier_products(&state.app, &user, page, per_page).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockRequest {
    pub add: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockLevel {
    pub stock_available: i64,
}

#[utoipa::path(post, path = "/supplier/skus/{id}/restock", tag = "supplier", params(("id" = String, Path)), request_body = RestockRequest,
    responses((status = 200, body = StockLevel), (status = 404, body = ErrorBody)))]
async fn restock(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<SkuId>,
    ApiJson(req): ApiJson<RestockRequest>,
) -> ApiResult<StockLevel> {
    Ok(Json(StockLevel { stock_available: catalog::restock(&state.app, &user, id, req.add).await? }))
}

#[utoipa::path(get, path = "/operator/products", tag = "operator", params(PageQuery), responses((status = 200, body = Vec<Product>), (status = 403, body = ErrorBody)))]
async fn review_products(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Vec<Product>> {
    let (page, per_page) = clamp_page(q.page, q.per_page);
    Ok(Json(catalog::products_for_review(&state.app, &user, approval_param(q.approval.as_deref())?, page, per_page).await?))
}

#[utoipa::path(post, path = "/operator/products/{id}/approval", tag = "operator", params(("id" = String, Path)), request_body = ApprovalDecision,
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
async fn decide_product(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ProductId>,
    ApiJson(req): ApiJson<ApprovalDecision>,
) -> ApiResult<Done> {
    catalog::set_product_approval(&state.app, &user, id, req.approval).await?;
    Ok(Json(Done { ok: true }))
}

#[utoipa::path(get, path = "/catalogue", tag = "catalogue", params(PageQuery), responses((status = 200, body = Vec<Product>)))]
async fn browse(State(state): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Vec<Product>> {
    let (page, per_page) = clamp_page(q.page, q.per_page);
    Ok(Json(catalog::catalogue(&state.app, q.q, page, per_page).await?))
}

#[utoipa::path(get, path = "/products/{id}", tag = "catalogue", params(("id" = String, Path)), responses((status = 200, body = Product), (status = 404, body = ErrorBody)))]
async fn product(State(state): State<AppState>, Path(id): Path<ProductId>) -> ApiResult<Product> {
    Ok(Json(catalog::public_product(&state.app, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply_supplier))
        .routes(routes!(list_suppliers))
        .routes(routes!(decide_supplier))
        .routes(routes!(add_product, supplier_products))
        .routes(routes!(restock))
        .routes(routes!(review_products))
        .routes(routes!(decide_product))
        .routes(routes!(browse))
        .routes(routes!(product))
}
