//! Shops: opening (free, one step), picking catalogue products, the homepage.

use sharemall_domain::account::Role;
use sharemall_domain::{Error, ErrorCode, ProductId, ShopId, Timestamp, UserId};

use crate::model::Shop;
use crate::ops::accounts::grant_role;
use crate::params;
use crate::sql::{Row, Sql};

/// Maximum products one shop may carry, bounding the homepage and every per-shop query.
pub const MAX_PRODUCTS_PER_SHOP: i64 = 2_000;

/// Opens a shop for `owner`. Never charges: the schema itself refuses an opening charge.
pub fn open_shop(
    sql: &mut dyn Sql,
    now: Timestamp,
    owner: UserId,
    name: &str,
    intro: &str,
    registration: Option<&str>,
) -> Result<ShopId, Error> {
    let id = ShopId::new();
    // The invite tree (SPEC 3.8): whoever owns the shop the new owner is bound to invited them.
    // Opening is free either way; with an acknowledged depth-2 policy the inviter earns a share
    // of the new owner's sales, never a reward for the invitation itself.
    let inserted = sql.execute(
        "INSERT INTO shops (id, owner_id, name, intro, registration, opened_at, invited_by) \
         SELECT $1, $2, $3, $4, $5, $6, (SELECT s.owner_id FROM customer_bindings b JOIN shops s ON s.id = b.shop_id \
                                          WHERE b.visitor = $7 AND s.owner_id <> $2) \
         WHERE 1 = 1 ON CONFLICT (owner_id) DO NOTHING",
        params![id, owner, name, intro, registration, now, format!("u:{owner}")],
    )?;
    if inserted == 0 {
        return Err(Error::new(ErrorCode::ShopAlreadyOpen, "you already have a shop"));
    }
    grant_role(sql, owner, Role::ShopOwner)?;
    Ok(id)
}

const SHOP_COLUMNS: &str = "id, owner_id, name, intro, registration, opened_at";

fn shop_row(row: &Row) -> Result<Shop, Error> {
    Ok(Shop {
        id: row.id(0)?,
        owner_id: row.id(1)?,
        name: row.text(2)?,
        intro: row.text(3)?,
        registration: row.opt_text(4)?,
        opened_at: row.i64(5)?,
    })
}

pub fn load_shop(sql: &mut dyn Sql, id: ShopId) -> Result<Shop, Error> {
    let row =
        sql.query_opt(&format!("SELECT {SHOP_COLUMNS} FROM shops WHERE id = $1"), params![id])?.ok_or_else(|| Error::not_found("shop"))?;
    shop_row(&row)
}

pub fn list_shops(sql: &mut dyn Sql, limit: i64) -> Result<Vec<Shop>, Error> {
    sql.query(&format!("SELECT {SHOP_COLUMNS} FROM shops ORDER BY opened_at LIMIT $1"), params![limit])?.iter().map(shop_row).collect()
}

/// Picks an approved product into the shop (上架). Picking twice is a no-op.
pub fn pick_product(sql: &mut dyn Sql, now: Timestamp, shop: ShopId, product: ProductId) -> Result<(), Error> {
    let sellable = sql.query_opt(
        "SELECT p.approval, s.approval FROM products p JOIN suppliers s ON s.id = p.supplier_id WHERE p.id = $1",
        params![product],
    )?;
    match sellable {
        None => return Err(Error::not_found("product")),
        Some(row) if row.text(0)? != "approved" => {
            return Err(Error::new(ErrorCode::ProductNotApproved, "this product is not approved for sale yet"));
        }
        Some(row) if row.text(1)? != "approved" => {
            return Err(Error::new(ErrorCode::SupplierNotApproved, "this product's supplier is not approved"));
        }
        Some(_) => {}
    }
    let count = sql.query_i64("SELECT COUNT(*) FROM shop_products WHERE shop_id = $1", params![shop])?;
    if count >= MAX_PRODUCTS_PER_SHOP {
        return Err(Error::invalid(format!("a shop carries at most {MAX_PRODUCTS_PER_SHOP} products")));
    }
    sql.execute(
        "INSERT INTO shop_products (shop_id, product_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        params![shop, product, now],
    )?;
    Ok(())
}

/// Removes a product from the shop (下架). Existing orders are unaffected.
pub fn remove_product(sql: &mut dyn Sql, shop: ShopId, product: ProductId) -> Result<(), Error> {
    let removed = sql.execute("DELETE FROM shop_products WHERE shop_id = $1 AND product_id = $2", params![shop, product])?;
    if removed == 0 {
        return Err(Error::not_found("product in this shop"));
    }
    Ok(())
}

/// Whether the shop carries the product (picked and not removed).
pub fn carries(sql: &mut dyn Sql, shop: ShopId, product: ProductId) -> Result<bool, Error> {
    Ok(sql.query_opt("SELECT 1 FROM shop_products WHERE shop_id = $1 AND product_id = $2", params![shop, product])?.is_some())
}

/// The shop that sells `product` to a visitor buying through the platform rather than a shop:
/// the shop they are bound to when it carries the product, otherwise the shop that has carried it
/// longest. `None` when no shop carries it.
pub fn seller_for(sql: &mut dyn Sql, product: ProductId, bound: Option<ShopId>) -> Result<Option<ShopId>, Error> {
    if let Some(shop) = bound
        && carries(sql, shop, product)?
    {
        return Ok(Some(shop));
    }
    sql.query_opt("SELECT shop_id FROM shop_products WHERE product_id = $1 ORDER BY added_at, shop_id LIMIT 1", params![product])?
        .map(|r| r.id(0))
        .transpose()
}
