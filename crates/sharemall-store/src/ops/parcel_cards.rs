//! Parcel insert cards (包裹卡): a share of a shop on the parcel-card channel plus the words
//! printed on the card. The card's QR code is the share's link, so a scan is an ordinary share
//! visit: it is recorded and binds the buyer to the shop.

use sharemall_domain::share::{Channel, ShareCode};
use sharemall_domain::{Error, ShopId, Timestamp};

use super::shares::{self, NewShare, ShareTarget};
use crate::params;
use crate::sql::{Row, Sql};

/// Most cards one listing returns.
pub const MAX_LISTED: i64 = 100;

/// A card to create: its share (of the shop, on the parcel-card channel) and its words, already
/// checked by `sharemall_domain::parcel_card`.
#[derive(Debug, Clone)]
pub struct NewParcelCard {
    pub share: NewShare,
    pub message: String,
    pub offer: String,
}

/// A card as it is printed and listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelCard {
    pub code: String,
    pub shop_id: ShopId,
    pub shop_name: String,
    pub message: String,
    pub offer: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Creates the card's share and the card in one command, so there is never a card without its
/// share or a parcel-card share missing its words.
pub fn create(sql: &mut dyn Sql, now: Timestamp, card: &NewParcelCard) -> Result<(), Error> {
    if card.share.target != ShareTarget::Shop || card.share.channel != Channel::ParcelCard {
        return Err(Error::internal("a parcel card is a share of its shop on the parcel-card channel"));
    }
    shares::create_share(sql, now, &card.share)?;
    sql.execute(
        "INSERT INTO parcel_cards (code, message, offer, created_at) VALUES ($1, $2, $3, $4)",
        params![card.share.code.as_str(), card.message.as_str(), card.offer.as_str(), now],
    )?;
    Ok(())
}

const CARD_COLUMNS: &str = "p.code, s.shop_id, sh.name, p.message, p.offer, p.created_at";
const CARD_TABLES: &str = "parcel_cards p JOIN shares s ON s.code = p.code JOIN shops sh ON sh.id = s.shop_id";

fn card_row(row: &Row) -> Result<ParcelCard, Error> {
    Ok(ParcelCard {
        code: row.text(0)?,
        shop_id: row.id(1)?,
        shop_name: row.text(2)?,
        message: row.text(3)?,
        offer: row.text(4)?,
        created_at: row.i64(5)?,
    })
}

/// A card by its code. Like any share, an unknown or expired one is "not found".
pub fn load(sql: &mut dyn Sql, now: Timestamp, code: &ShareCode) -> Result<ParcelCard, Error> {
    let row = sql
        .query_opt(
            &format!("SELECT {CARD_COLUMNS} FROM {CARD_TABLES} WHERE p.code = $1 AND (s.expires_at IS NULL OR s.expires_at > $2)"),
            params![code.as_str(), now],
        )?
        .ok_or_else(|| Error::not_found("parcel card"))?;
    card_row(&row)
}

/// A shop's cards, newest first, at most `limit` (clamped to 1..=[`MAX_LISTED`]).
pub fn list_for_shop(sql: &mut dyn Sql, shop: ShopId, limit: i64) -> Result<Vec<ParcelCard>, Error> {
    // `s.channel = 'parcel_card'` is spelled out so that both engines use the partial index
    // `shares_shop_parcel_cards` (migration 0005) instead of every share of the shop.
    let rows = sql.query(
        &format!(
            "SELECT {CARD_COLUMNS} FROM {CARD_TABLES} WHERE s.shop_id = $1 AND s.channel = 'parcel_card' \
             ORDER BY s.created_at DESC, s.code DESC LIMIT $2"
        ),
        params![shop, limit.clamp(1, MAX_LISTED)],
    )?;
    rows.iter().map(card_row).collect()
}
