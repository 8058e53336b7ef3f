//! Supply catalogue use cases: suppliers apply, list products; operators approve.

use sharemall_domain::account::Role;
use sharemall_domain::catalog::{Approval, NewSku, check_text, check_title};
use sharemall_domain::{Error, ProductId, SkuId, SupplierId};
use sharemall_store::model::{Product, SessionUser, Supplier};
use sharemall_store::ops::catalog::{self, NewProduct, ProductFilter, Viewer};

use crate::{App, require};

/// Largest page any list returns.
pub const MAX_PER_PAGE: i64 = 100;

pub fn clamp_page(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (page.unwrap_or(1).clamp(1, 10_000), per_page.unwrap_or(20).clamp(1, MAX_PER_PAGE))
}

/// A user applies to become a supplier; an operator approves.
pub async fn apply_as_supplier(app: &App, user: &SessionUser, name: &str, contact: &str) -> Result<SupplierId, Error> {
    let name = check_text("supplier name", name, 40)?;
    let contact = check_text("contact", contact, 60)?;
    if name.is_empty() {
        return Err(Error::invalid("supplier name is required"));
    }
    let (now, owner) = (app.now(), user.user_id);
    let supplier = app.store.write(move |sql| catalog::create_supplier(sql, now, owner, &name, &contact)).await?;
    app.sessions.forget_user(owner);
    Ok(supplier)
}

pub async fn set_supplier_approval(app: &App, operator: &SessionUser, id: SupplierId, approval: Approval) -> Result<(), Error> {
    require(operator, Role::Operator)?;
    app.store.write(move |sql| catalog::set_supplier_approval(sql, id, approval)).await
}

pub async fn list_suppliers(app: &App, operator: &SessionUser, approval: Option<Approval>) -> Result<Vec<Supplier>, Error> {
    require(operator, Role::Operator)?;
    app.store.read(move |sql| catalog::list_suppliers(sql, approval)).await
}

fn supplier_of(user: &SessionUser) -> Result<SupplierId, Error> {
    require(user, Role::Supplier)?;
    user.supplier_id.ok_or_else(|| Error::new(sharemall_domain::ErrorCode::Forbidden, "you are not a supplier"))
}

/// A product as a supplier submits it (API or import), before validation.
#[derive(Debug, Clone)]
pub struct ProductDraft {
    pub title: String,
    pub description: String,
    pub category: String,
    pub image_hue: i64,
    pub skus: Vec<NewSku>,
}

pub fn validate_draft(draft: ProductDraft) -> Result<NewProduct, Error> {
    Ok(NewProduct {
        title: check_title(&draft.title)?,
        description: check_text("description", &draft.description, 2_000)?,
        category: check_text("category", &draft.category, 20)?,
        image_hue: draft.image_hue,
        skus: draft.skus.into_iter().map(NewSku::validate).collect::<Result<_, _>>()?,
    })
}

pub async fn add_product(app: &App, user: &SessionUser, draft: ProductDraft) -> Result<ProductId, Error> {
    let supplier = supplier_of(user)?;
    let product = validate_draft(draft)?;
    let now = app.now();
    app.store.write(move |sql| catalog::create_product(sql, now, supplier, product)).await
}

/// Adds validated products in one command each (an import): returns the new ids.
pub async fn add_products(app: &App, supplier: SupplierId, products: Vec<NewProduct>) -> Result<Vec<ProductId>, Error> {
    let mut ids = Vec::with_capacity(products.len());
    for product in products {
        let now = app.now();
        ids.push(app.store.write(move |sql| catalog::create_product(sql, now, supplier, product)).await?);
    }
    Ok(ids)
}

pub async fn restock(app: &App, user: &SessionUser, sku: SkuId, add: i64) -> Result<i64, Error> {
    let supplier = supplier_of(user)?;
    app.store.write(move |sql| catalog::restock(sql, supplier, sku, add)).await
}

pub async fn supplier_products(app: &App, user: &SessionUser, page: i64, per_page: i64) -> Result<Vec<Product>, Error> {
    let supplier = supplier_of(user)?;
    let filter = ProductFilter { supplier: Some(supplier), ..ProductFilter::default() };
    app.store.read(move |sql| catalog::list_products(sql, &filter, Viewer::Trade, page, per_page)).await
}

pub async fn set_product_approval(app: &App, operator: &SessionUser, id: ProductId, approval: Approval) -> Result<(), Error> {
    require(operator, Role::Operator)?;
    let now = app.now();
    app.store.write(move |sql| catalog::set_product_approval(sql, now, id, approval)).await
}

pub async fn products_for_review(
    app: &App,
    operator: &SessionUser,
    approval: Option<Approval>,
    page: i64,
    per_page: i64,
) -> Result<Vec<Product>, Error> {
    require(operator, Role::Operator)?;
    let filter = ProductFilter { approval, ..ProductFilter::default() };
    app.store.read(move |sql| catalog::list_products(sql, &filter, Viewer::Trade, page, per_page)).await
}

/// The sellable catalogue shop owners pick from.
pub async fn catalogue(app: &App, search: Option<String>, page: i64, per_page: i64) -> Result<Vec<Product>, Error> {
    let filter = ProductFilter {
        on_sale: true,
        search: search.filter(|s| !s.trim().is_empty()).map(|s| s.trim().chars().take(40).collect()),
        ..ProductFilter::default()
    };
    app.store.read(move |sql| catalog::list_products(sql, &filter, Viewer::Public, page, per_page)).await
}

/// A product as customers see it. Unapproved products are not found.
pub async fn public_product(app: &App, id: ProductId) -> Result<Product, Error> {
    let product = app.store.read(move |sql| catalog::load_product(sql, id, Viewer::Public)).await?;
    if product.approval != Approval::Approved.as_str() {
        return Err(Error::not_found("product"));
    }
    Ok(product)
}
