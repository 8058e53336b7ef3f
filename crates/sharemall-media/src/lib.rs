//! Printable and shareable forms of a share.
//!
//! A share link leaves the app in three shapes: a bare QR code ([`qr_svg`], [`qr_png`]), a share
//! poster that a buyer saves and posts in a chat ([`render_poster`]), and an A6 card a shop slips
//! into a parcel ([`render_parcel_card`]). Everything here is pure rendering: no I/O beyond
//! reading a font file, no clock, and the same input always gives the same bytes.
//!
//! Chinese text needs a CJK font. [`CjkFont::load_first`] takes the first usable one from a list
//! of paths, so a deployment can ship its own font and fall back to [`CjkFont::system_paths`].
//! Characters the font lacks are left out rather than printed as empty boxes.
//!
//! The art on a poster is generated (a hue gradient and the title's first character): there
//! are no product photos yet, and nothing here pretends to be one.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod canvas;
mod card;
mod error;
mod font;
mod poster;
mod qr;
mod text;

pub use card::{CARD_HEIGHT, CARD_PIXELS_PER_METRE, CARD_WIDTH, ParcelCard, render_parcel_card};
pub use error::MediaError;
pub use font::CjkFont;
pub use poster::{POSTER_HEIGHT, POSTER_WIDTH, Poster, render_poster};
pub use qr::{MAX_URL_BYTES, qr_png, qr_svg};

/// Longest product title accepted, in characters; longer titles are refused, shorter ones that
/// don't fit are wrapped and cut with "…".
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest parcel-card message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 200;
/// Longest one-line field (shop name, sharer line, price, hint, offer) accepted, in characters.
/// Each is drawn on a single line and cut with "…"; the limit only keeps absurd input from
/// costing time.
pub const MAX_LINE_CHARS: usize = 200;

/// Refuses `value` when it has more than `max` characters.
fn check_chars(value: &str, max: usize, field: &'static str) -> Result<(), MediaError> {
    if value.chars().count() > max {
        return Err(MediaError::TooLong(field));
    }
    Ok(())
}
