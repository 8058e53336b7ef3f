//! Supply catalogue: suppliers, products, SKUs, approval, stock.

use sharemall_domain::account::Role;
use sharemall_domain::catalog::{Approval, MAX_SKUS_PER_PRODUCT, MAX_STOCK, NewSku};
use sharemall_domain::{Error, ErrorCode, ProductId, ShopId, SkuId, SupplierId, Timestamp, UserId};

use crate::model::{Product, Sku, Supplier};
use crate::ops::accounts::grant_role;
use crate::params;
use crate::sql::{Row, Sql, Value};

pub fn create_supplier(sql: &mut dyn Sql, now: Timestamp, owner: UserId, name: &str, contact: &str) -> Result<SupplierId, Error> {
    let id = SupplierId::new();
    let inserted = sql.execute(
        "INSERT INTO suppliers (id, owner_id, name, contact, approval, created_at) VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (owner_id) DO NOTHING",
        params![id, owner, name, contact, now],
    )?;
    if inserted == 0 {
        return Err(Error::new(ErrorCode::AccountExists, "this account already has a supplier"));
    }
    grant_role(sql, owner, Role::Supplier)?;
    Ok(id)
}

pub fn set_supplier_approval(sql: &mut dyn Sql, id: SupplierId, approval: Approval) -> Result<(), Error> {
    let changed = sql.execute("UPDATE suppliers SET approval = $2 WHERE id = $1", params![id, approval.as_str()])?;
    if changed == 0 {
        return Err(Error::not_found("supplier"));
    }
    Ok(())
}

fn supplier_row(row: &Row) -> Result<Supplier, Error> {
    Ok(Supplier { id: row.id(0)?, name: row.text(1)?, contact: row.text(2)?, approval: row.text(3)?, created_at: row.i64(4)? })
}

pub fn list_suppliers(sql: &mut dyn Sql, approval: Option<Approval>) -> Result<Vec<Supplier>, Error> {
    sql.query(
        "SELECT id, name, contact, approval, created_at FROM suppliers WHERE (CAST($1 AS TEXT) IS NULL OR approval = $1) ORDER BY created_at DESC LIMIT 200",
        params![approval.map(Approval::as_str)],
    )?
    .iter()
    .map(supplier_row)
    .collect()
}

pub struct NewProduct {
    pub title: String,
    pub description: String,
    pub category: String,
    pub image_hue: i64,
    pub skus: Vec<NewSku>,
}

/// Adds a product with its SKUs, pending approval.
pub fn create_product(sql: &mut dyn Sql, now: Timestamp, supplier: SupplierId, product: NewProduct) -> Result<ProductId, Error> {
    if product.skus.is_empty() || product.skus.len() > MAX_SKUS_PER_PRODUCT {
        return Err(Error::invalid(format!("a product needs 1 to {MAX_SKUS_PER_PRODUCT} SKUs")));
    }
    let id = ProductId::new();
    sql.execute(
        "INSERT INTO products (id, supplier_id, title, description, category, image_hue, approval, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)",
        params![id, supplier, product.title, product.description, product.category, product.image_hue.rem_euclid(360), now],
    )?;
    for sku in product.skus {
        sql.execute(
            "INSERT INTO skus (id, product_id, attributes, supply_fen, retail_fen, commission_bps, returnable, stock_total, stock_available, stock_reserved, stock_sold, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 0, 0, $9)",
            params![SkuId::new(), id, sku.attributes, sku.supply_price, sku.retail_price, sku.commission_bps, sku.returnable, sku.stock, now],
        )?;
    }
    Ok(id)
}

pub fn set_product_approval(sql: &mut dyn Sql, now: Timestamp, id: ProductId, approval: Approval) -> Result<(), Error> {
    let changed = sql.execute("UPDATE products SET approval = $2, updated_at = $3 WHERE id = $1", params![id, approval.as_str(), now])?;
    if changed == 0 {
        return Err(Error::not_found("product"));
    }
    Ok(())
}

/// Adds stock to a SKU of the supplier's own product (another supplier's SKU is not found).
pub fn restock(sql: &mut dyn Sql, supplier: SupplierId, sku: SkuId, add: i64) -> Result<i64, Error> {
    if !(1..=MAX_STOCK).contains(&add) {
        return Err(Error::new(ErrorCode::InvalidQuantity, "add 1 to 100,000,000 units"));
    }
    let row = sql
        .query_opt(
            "UPDATE skus SET stock_total = stock_total + $3, stock_available = stock_available + $3 \
             WHERE id = $1 AND stock_total + $3 <= $4 AND product_id IN (SELECT id FROM products WHERE supplier_id = $2) RETURNING stock_available",
            params![sku, supplier, add, MAX_STOCK],
        )?
        .ok_or_else(|| Error::new(ErrorCode::SkuNotFound, "no such SKU among your products, or stock would exceed the limit"))?;
    row.i64(0)
}

/// Who is looking at a product decides whether supply prices are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Public,
    Trade,
}

const PRODUCT_COLUMNS: &str = "p.id, p.supplier_id, s.name, p.title, p.description, p.category, p.image_hue, p.approval";

fn product_row(sql: &mut dyn Sql, row: &Row, viewer: Viewer) -> Result<Product, Error> {
    let id: ProductId = row.id(0)?;
    let skus = sql
        .query(
            "SELECT id, attributes, retail_fen, supply_fen, commission_bps, returnable, stock_available FROM skus WHERE product_id = $1 ORDER BY retail_fen, id",
            params![id],
        )?
        .iter()
        .map(|r| {
            Ok(Sku {
                id: r.id(0)?,
                attributes: r.text(1)?,
                retail_fen: r.i64(2)?,
                supply_fen: (viewer == Viewer::Trade).then(|| r.i64(3)).transpose()?,
                commission_bps: r.i64(4)?,
                returnable: r.bool(5)?,
                stock_available: r.i64(6)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Product {
        id,
        supplier_id: row.id(1)?,
        supplier_name: row.text(2)?,
        title: row.text(3)?,
        description: row.text(4)?,
        category: row.text(5)?,
        image_hue: row.i64(6)?,
        approval: row.text(7)?,
        price_from_fen: skus.iter().map(|s| s.retail_fen).min().unwrap_or(0),
        skus,
    })
}

pub fn load_product(sql: &mut dyn Sql, id: ProductId, viewer: Viewer) -> Result<Product, Error> {
    let row = sql
        .query_opt(
            &format!("SELECT {PRODUCT_COLUMNS} FROM products p JOIN suppliers s ON s.id = p.supplier_id WHERE p.id = $1"),
            params![id],
        )?
        .ok_or_else(|| Error::not_found("product"))?;
    product_row(sql, &row, viewer)
}

/// Which products a list shows.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub approval: Option<Approval>,
    pub supplier: Option<SupplierId>,
    /// Only products picked into this shop.
    pub shop: Option<ShopId>,
    /// Only sellable products: approved, from an approved supplier.
    pub on_sale: bool,
    /// Title contains this text.
    pub search: Option<String>,
}

pub fn list_products(sql: &mut dyn Sql, filter: &ProductFilter, viewer: Viewer, page: i64, per_page: i64) -> Result<Vec<Product>, Error> {
    let search = filter.search.as_ref().map(|s| format!("%{}%", s.replace(['%', '_'], "")));
    let on_sale: Value = if filter.on_sale { Value::Int(1) } else { Value::Null };
    let rows = sql.query(
        &format!(
            "SELECT {PRODUCT_COLUMNS} FROM products p JOIN suppliers s ON s.id = p.supplier_id \
             WHERE (CAST($1 AS TEXT) IS NULL OR p.approval = $1) AND (CAST($2 AS TEXT) IS NULL OR p.supplier_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM shop_products sp WHERE sp.shop_id = $3 AND sp.product_id = p.id)) \
             AND (CAST($4 AS BIGINT) IS NULL OR (p.approval = 'approved' AND s.approval = 'approved')) AND (CAST($5 AS TEXT) IS NULL OR p.title LIKE $5) \
             ORDER BY p.created_at DESC, p.id LIMIT $6 OFFSET $7"
        ),
        &[
            filter.approval.map(Approval::as_str).into(),
            filter.supplier.into(),
            filter.shop.into(),
            on_sale,
            search.into(),
            per_page.into(),
            (page.saturating_sub(1).saturating_mul(per_page)).into(),
        ],
    )?;
    rows.iter().map(|row| product_row(sql, row, viewer)).collect()
}
