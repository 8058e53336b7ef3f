//! The one-shop cart: a customer's cart is per shop, and checkout turns it into one order.

use sharemall_domain::{Error, ErrorCode, ShopId, SkuId, Timestamp, UserId, order};

use crate::model::CartLine;
use crate::ops::orders::sku_for_sale;
use crate::params;
use crate::sql::Sql;

/// Sets the quantity of a SKU in the cart (0 removes it).
pub fn set_cart_line(sql: &mut dyn Sql, now: Timestamp, user: UserId, shop: ShopId, sku: SkuId, quantity: i64) -> Result<(), Error> {
    if quantity == 0 {
        sql.execute("DELETE FROM cart_items WHERE user_id = $1 AND shop_id = $2 AND sku_id = $3", params![user, shop, sku])?;
        return Ok(());
    }
    order::check_quantity(quantity)?;
    sku_for_sale(sql, shop, sku)?;
    let lines =
        sql.query_i64("SELECT COUNT(*) FROM cart_items WHERE user_id = $1 AND shop_id = $2 AND sku_id <> $3", params![user, shop, sku])?;
    if lines >= order::MAX_LINES_PER_ORDER as i64 {
        return Err(Error::new(ErrorCode::CartTooLarge, "the cart is full"));
    }
    sql.execute(
        "INSERT INTO cart_items (user_id, shop_id, sku_id, quantity, added_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, shop_id, sku_id) DO UPDATE SET quantity = excluded.quantity",
        params![user, shop, sku, quantity, now],
    )?;
    Ok(())
}

pub fn cart_lines(sql: &mut dyn Sql, user: UserId, shop: ShopId) -> Result<Vec<CartLine>, Error> {
    sql.query(
        "SELECT c.sku_id, p.id, p.title, s.attributes, s.retail_fen, c.quantity, p.image_hue FROM cart_items c \
         JOIN skus s ON s.id = c.sku_id JOIN products p ON p.id = s.product_id WHERE c.user_id = $1 AND c.shop_id = $2 ORDER BY c.added_at, c.sku_id",
        params![user, shop],
    )?
    .iter()
    .map(|r| {
        Ok(CartLine { sku_id: r.id(0)?, product_id: r.id(1)?, title: r.text(2)?, attributes: r.text(3)?, unit_fen: r.i64(4)?, quantity: r.i64(5)?, image_hue: r.i64(6)? })
    })
    .collect()
}
