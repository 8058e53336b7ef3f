//! The shop owner's, supplier's and operator's consoles.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use sharemall_app::catalog::{self, ProductDraft};
use sharemall_app::orders::{self, Perspective};
use sharemall_app::{import, shops};
use sharemall_domain::account::Role;
use sharemall_domain::catalog::{Approval, NewSku};
use sharemall_domain::order::OrderStatus;
use sharemall_domain::{Error, Money, OrderId, ProductId, SkuId, SupplierId};
use sharemall_store::model::Product;

use super::orders::OrderRow;
use super::{Ctx, Nav, PageResult, render, see_other, yuan};
use crate::AppState;
use crate::i18n::Strings;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/shop", get(shop_console))
        .route("/console/shop/open", post(open_shop))
        .route("/console/shop/pick", get(pick_page))
        .route("/console/shop/pick/{id}", post(pick))
        .route("/console/shop/unpick/{id}", post(unpick))
        .route("/console/supplier", get(supplier_console))
        .route("/console/supplier/apply", post(apply_supplier))
        .route("/console/supplier/products", post(new_product))
        .route("/console/supplier/skus/{id}/restock", post(restock))
        .route("/console/supplier/orders/{id}/ship", post(ship))
        .route("/console/supplier/import", post(import_csv))
        .route("/console/operator", get(operator_console))
        .route("/console/operator/suppliers/{id}/{decision}", post(decide_supplier))
        .route("/console/operator/products/{id}/{decision}", post(decide_product))
}

fn decision(text: &str) -> Result<Approval, Error> {
    match text {
        "approve" => Ok(Approval::Approved),
        "reject" => Ok(Approval::Rejected),
        _ => Err(Error::not_found("page")),
    }
}

/// A product with its SKUs as the consoles list them.
pub struct ProductRow {
    pub id: String,
    pub title: String,
    pub category: String,
    pub supplier: String,
    pub approval: String,
    pub approval_label: &'static str,
    pub price: String,
    pub commission: String,
    pub skus: Vec<SkuRow>,
    pub picked: bool,
}

pub struct SkuRow {
    pub id: String,
    pub attributes: String,
    pub retail: String,
    pub supply: String,
    pub stock: i64,
}

impl ProductRow {
    fn of(p: &Product, t: &Strings) -> ProductRow {
        let max_bps = p.skus.iter().map(|s| s.commission_bps).max().unwrap_or(0);
        ProductRow {
            id: p.id.to_string(),
            title: p.title.clone(),
            category: p.category.clone(),
            supplier: p.supplier_name.clone(),
            approval: p.approval.clone(),
            approval_label: t.approval(&p.approval),
            price: yuan(p.price_from_fen),
            commission: format!("{}.{}%", max_bps / 100, (max_bps % 100) / 10),
            skus: p
                .skus
                .iter()
                .map(|s| SkuRow {
                    id: s.id.to_string(),
                    attributes: s.attributes.clone(),
                    retail: yuan(s.retail_fen),
                    supply: s.supply_fen.map(yuan).unwrap_or_default(),
                    stock: s.stock_available,
                })
                .collect(),
            picked: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shop owner

#[derive(Template)]
#[template(path = "console_shop.html")]
struct ShopConsole {
    t: &'static Strings,
    nav: Nav,
    shop: Option<(String, String)>,
    orders: Vec<OrderRow>,
}

async fn shop_console(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let (shop, orders) = match user.shop_id {
        Some(id) => {
            let shop = shops::shop(&state.app, id).await?;
            let list = orders::list_for(&state.app, user, Perspective::ShopOwner, None, Some(1), Some(50)).await?;
            (Some((shop.id.to_string(), shop.name)), list.iter().map(|o| OrderRow::of(o, ctx.t)).collect())
        }
        None => (None, Vec::new()),
    };
    render(&ShopConsole { t: ctx.t, nav: ctx.nav("me"), shop, orders })
}

#[derive(Deserialize)]
struct OpenShopForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    registration: String,
}

async fn open_shop(State(state): State<AppState>, ctx: Ctx, Form(form): Form<OpenShopForm>) -> PageResult {
    let user = ctx.user()?;
    let registration = Some(form.registration.trim()).filter(|r| !r.is_empty());
    shops::open_shop(&state.app, user, &form.name, &form.intro, registration).await?;
    Ok(see_other("/console/shop"))
}

#[derive(Template)]
#[template(path = "console_pick.html")]
struct PickPage {
    t: &'static Strings,
    nav: Nav,
    shop_id: String,
    q: String,
    products: Vec<ProductRow>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn pick_page(State(state): State<AppState>, ctx: Ctx, Query(q): Query<SearchQuery>) -> PageResult {
    let user = ctx.user()?;
    let shop = shops::own_shop(user)?;
    let on_sale: Vec<ProductId> = shops::shop_products(&state.app, shop, 1, 100).await?.iter().map(|p| p.id).collect();
    let list = catalog::catalogue(&state.app, q.q.clone(), 1, 50).await?;
    let products = list
        .iter()
        .map(|p| {
            let mut row = ProductRow::of(p, ctx.t);
            row.picked = on_sale.contains(&p.id);
            row
        })
        .collect();
    render(&PickPage { t: ctx.t, nav: ctx.nav("me"), shop_id: shop.to_string(), q: q.q.unwrap_or_default(), products })
}

async fn pick(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id: ProductId = id.parse().map_err(|_| Error::not_found("product"))?;
    shops::pick_product(&state.app, ctx.user()?, id).await?;
    Ok(see_other("/console/shop/pick"))
}

async fn unpick(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let id: ProductId = id.parse().map_err(|_| Error::not_found("product"))?;
    shops::remove_product(&state.app, ctx.user()?, id).await?;
    Ok(see_other("/console/shop/pick"))
}

// ---------------------------------------------------------------------------------------------
// Supplier

pub struct ImportError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

pub struct ShipRow {
    pub order: OrderRow,
    pub lines: Vec<String>,
    pub recipient: String,
    pub address: String,
}

#[derive(Template)]
#[template(path = "console_supplier.html")]
struct SupplierConsole {
    t: &'static Strings,
    nav: Nav,
    applied: bool,
    approved: bool,
    products: Vec<ProductRow>,
    to_ship: Vec<ShipRow>,
    imported: Option<usize>,
    import_errors: Vec<ImportError>,
    csv: String,
}

async fn supplier_page(state: &AppState, ctx: &Ctx, imported: Option<usize>, import_errors: Vec<ImportError>, csv: String) -> PageResult {
    let user = ctx.user()?;
    let applied = user.supplier_id.is_some();
    let approved = applied && user.has(Role::Supplier);
    let (products, to_ship) = if approved {
        let products = catalog::supplier_products(&state.app, user, 1, 50).await?;
        let list = orders::list_for(&state.app, user, Perspective::Supplier, Some(OrderStatus::ToShip), Some(1), Some(50)).await?;
        let to_ship = list
            .iter()
            .map(|o| ShipRow {
                order: OrderRow::of(o, ctx.t),
                lines: o.items.iter().map(|i| format!("{} {} × {}", i.title, i.attributes, i.quantity)).collect(),
                recipient: format!("{} {}", o.recipient, o.phone),
                address: o.address.clone(),
            })
            .collect();
        (products.iter().map(|p| ProductRow::of(p, ctx.t)).collect(), to_ship)
    } else {
        (Vec::new(), Vec::new())
    };
    render(&SupplierConsole { t: ctx.t, nav: ctx.nav("me"), applied, approved, products, to_ship, imported, import_errors, csv })
}

async fn supplier_console(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    supplier_page(&state, &ctx, None, Vec::new(), String::new()).await
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact: String,
}

async fn apply_supplier(State(state): State<AppState>, ctx: Ctx, Form(form): Form<ApplyForm>) -> PageResult {
    catalog::apply_as_supplier(&state.app, ctx.user()?, &form.name, &form.contact).await?;
    Ok(see_other("/console/supplier"))
}

#[derive(Deserialize)]
struct ProductForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    attributes: String,
    #[serde(default)]
    supply_yuan: String,
    #[serde(default)]
    retail_yuan: String,
    #[serde(default)]
    commission_bps: String,
    #[serde(default)]
    stock: String,
    returnable: Option<String>,
}

fn int(name: &str, text: &str) -> Result<i64, Error> {
    text.trim().parse().map_err(|_| Error::invalid(format!("{name} must be a whole number")))
}

async fn new_product(State(state): State<AppState>, ctx: Ctx, Form(form): Form<ProductForm>) -> PageResult {
    let user = ctx.user()?;
    let sku = NewSku {
        attributes: form.attributes,
        supply_price: Money::parse_yuan(&form.supply_yuan)?,
        retail_price: Money::parse_yuan(&form.retail_yuan)?,
        commission_bps: int("commission", &form.commission_bps)?,
        stock: int("stock", &form.stock)?,
        returnable: form.returnable.is_some(),
    };
    let hue = super::hue_of(&form.title);
    let draft = ProductDraft { title: form.title, description: form.description, category: form.category, image_hue: hue, skus: vec![sku] };
    catalog::add_product(&state.app, user, draft).await?;
    Ok(see_other("/console/supplier"))
}

#[derive(Deserialize)]
struct RestockForm {
    #[serde(default)]
    add: String,
}

async fn restock(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<RestockForm>) -> PageResult {
    let id: SkuId = id.parse().map_err(|_| Error::not_found("SKU"))?;
    catalog::restock(&state.app, ctx.user()?, id, int("stock", &form.add)?).await?;
    Ok(see_other("/console/supplier"))
}

#[derive(Deserialize)]
struct ShipForm {
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
}

async fn ship(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Form(form): Form<ShipForm>) -> PageResult {
    let id: OrderId = id.parse().map_err(|_| Error::not_found("order"))?;
    orders::ship(&state.app, ctx.user()?, id, &form.carrier, &form.tracking_no).await?;
    Ok(see_other("/console/supplier"))
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csv: String,
}

/// CSV pasted into a textarea (uploads are not enabled). All or nothing: any row error imports
/// nothing, so fixing and re-pasting never duplicates products.
async fn import_csv(State(state): State<AppState>, ctx: Ctx, Form(form): Form<ImportForm>) -> PageResult {
    let user = ctx.user()?;
    let supplier: SupplierId = match (user.supplier_id, user.has(Role::Supplier)) {
        (Some(s), true) => s,
        _ => return Err(Error::new(sharemall_domain::ErrorCode::Forbidden, "you are not an approved supplier").into()),
    };
    let report = import::parse_products_csv(form.csv.as_bytes(), &mut |_| {});
    let errors: Vec<ImportError> = report
        .errors
        .iter()
        .map(|e| ImportError { line: e.line, column: e.column.clone().unwrap_or_default(), message: e.message.clone() })
        .collect();
    if !errors.is_empty() {
        return supplier_page(&state, &ctx, Some(0), errors, form.csv).await;
    }
    let ids = catalog::add_products(&state.app, supplier, report.products).await?;
    supplier_page(&state, &ctx, Some(ids.len()), Vec::new(), String::new()).await
}

// ---------------------------------------------------------------------------------------------
// Operator

pub struct SupplierRow {
    pub id: String,
    pub name: String,
    pub contact: String,
}

#[derive(Template)]
#[template(path = "console_operator.html")]
struct OperatorConsole {
    t: &'static Strings,
    nav: Nav,
    suppliers: Vec<SupplierRow>,
    products: Vec<ProductRow>,
    orders: Vec<OrderRow>,
}

async fn operator_console(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let user = ctx.user()?;
    let suppliers = catalog::list_suppliers(&state.app, user, Some(Approval::Pending)).await?;
    let products = catalog::products_for_review(&state.app, user, Some(Approval::Pending), 1, 50).await?;
    let list = orders::list_for(&state.app, user, Perspective::Operator, None, Some(1), Some(20)).await?;
    render(&OperatorConsole {
        t: ctx.t,
        nav: ctx.nav("me"),
        suppliers: suppliers
            .iter()
            .map(|s| SupplierRow { id: s.id.to_string(), name: s.name.clone(), contact: s.contact.clone() })
            .collect(),
        products: products.iter().map(|p| ProductRow::of(p, ctx.t)).collect(),
        orders: list.iter().map(|o| OrderRow::of(o, ctx.t)).collect(),
    })
}

async fn decide_supplier(State(state): State<AppState>, ctx: Ctx, Path((id, what)): Path<(String, String)>) -> PageResult {
    let id: SupplierId = id.parse().map_err(|_| Error::not_found("supplier"))?;
    catalog::set_supplier_approval(&state.app, ctx.user()?, id, decision(&what)?).await?;
    Ok(see_other("/console/operator"))
}

async fn decide_product(State(state): State<AppState>, ctx: Ctx, Path((id, what)): Path<(String, String)>) -> PageResult {
    let id: ProductId = id.parse().map_err(|_| Error::not_found("product"))?;
    catalog::set_product_approval(&state.app, ctx.user()?, id, decision(&what)?).await?;
    Ok(see_other("/console/operator"))
}
