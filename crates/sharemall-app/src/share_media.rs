//! The shareable media of a share: its QR code (SVG or PNG) and its poster (a PNG a buyer saves
//! and posts in a chat), and the renderer posters and parcel cards share.
//!
//! Posters and cards print Chinese, so they need a CJK font. It is loaded once when the app
//! starts; without one the app still runs, QR codes still work (they draw no text), and posters
//! and cards answer `media_unavailable` until an operator installs a font.
//!
//! A poster or card costs 15–25 ms of CPU. Rendering runs on the blocking pool, at most
//! [`RENDER_CONCURRENCY`] at a time, so a burst of poster requests never stalls the async
//! threads that serve everything else.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use sharemall_domain::share::ShareCode;
use sharemall_domain::shop::brand_hue;
use sharemall_domain::{Error, ErrorCode, Money, ProductId, Timestamp};
use sharemall_media::{CjkFont, MediaError, Poster, qr_png, qr_svg, render_poster};
use sharemall_store::Sql;
use sharemall_store::ops::shares::{self, ResolvedShare};
use sharemall_store::ops::{accounts, catalog, shops};
use tokio::sync::Semaphore;

use crate::App;
use crate::shares::{count_miss, guard};

/// Posters and cards rendered at once; each keeps one core busy for its 15–25 ms.
pub const RENDER_CONCURRENCY: usize = 2;
/// Renders allowed to wait for a slot; beyond that a request is refused with `overloaded`
/// rather than queued behind seconds of work.
pub const RENDER_QUEUE_MAX: usize = 32;
/// Pixels per QR module in the PNG: about 300 px for a share link, sharp on any phone.
pub const QR_PNG_MODULE_PX: u32 = 8;

/// The line under the QR code on a poster.
const POSTER_HINT: &str = "长按识别二维码";
/// A shop poster's price line: a shop has no one price, so it invites the buyer in instead.
const SHOP_POSTER_LINE: &str = "进店逛逛";

/// The font, loaded once, and the slots that bound concurrent renders.
pub(crate) struct Renderer {
    font: Option<CjkFont>,
    /// Held by a render from before it waits until it finishes: the waiting line.
    admitted: Arc<Semaphore>,
    /// Held while a render runs on the blocking pool.
    running: Arc<Semaphore>,
}

impl Renderer {
    /// Loads the first usable font among `paths` (the system's well-known locations when empty).
    /// A missing font is logged once, here, and is not an error: only posters and cards need it.
    pub(crate) fn load(paths: &[PathBuf]) -> Renderer {
        let paths = if paths.is_empty() { CjkFont::system_paths() } else { paths.to_vec() };
        let font = match CjkFont::load_first(&paths) {
            Ok(font) => {
                tracing::info!(font = %font.path().display(), "font for posters and parcel cards loaded");
                Some(font)
            }
            Err(why) => {
                tracing::warn!(
                    error = %why,
                    "no CJK font: posters and parcel cards answer media_unavailable (QR codes still work). \
                     Install the Debian package fonts-wqy-microhei, or point the media.font setting \
                     (SHAREMALL__MEDIA__FONT) at a font file"
                );
                None
            }
        };
        Renderer {
            font,
            admitted: Arc::new(Semaphore::new(RENDER_CONCURRENCY + RENDER_QUEUE_MAX)),
            running: Arc::new(Semaphore::new(RENDER_CONCURRENCY)),
        }
    }

    pub(crate) fn available(&self) -> bool {
        self.font.is_some()
    }

    /// Runs `paint` with the font on the blocking pool, within the concurrency bound.
    pub(crate) async fn render<F>(&self, what: &'static str, paint: F) -> Result<Vec<u8>, Error>
    where
        F: FnOnce(&CjkFont) -> Result<Vec<u8>, MediaError> + Send + 'static,
    {
        let font = self.font.clone().ok_or_else(unavailable)?;
        let queued = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| Error::new(ErrorCode::Overloaded, "too many images are being drawn; try again in a moment"))?;
        let slot = Arc::clone(&self.running).acquire_owned().await.map_err(|_| Error::internal("render slots closed"))?;
        let task = tokio::task::spawn_blocking(move || {
            // The permits live in the task, not in the request: a client that hangs up mid-render
            // must not free a slot while its render still occupies a core.
            let _held = (queued, slot);
            let started = Instant::now();
            let result = paint(&font);
            (result, started.elapsed())
        });
        let (result, took) = task.await.map_err(|e| Error::internal(format!("{what} render task: {e}")))?;
        tracing::debug!(what, ms = took.as_secs_f64() * 1_000.0, "rendered");
        result.map_err(media_error)
    }
}

fn unavailable() -> Error {
    Error::new(ErrorCode::MediaUnavailable, "posters and cards are unavailable: the server has no font for Chinese text")
}

fn media_error(e: MediaError) -> Error {
    match e {
        MediaError::FontUnavailable(_) => unavailable(),
        MediaError::TooLong(field) => Error::invalid(format!("{field} is too long to print")),
        other => Error::internal(other.to_string()),
    }
}

/// Whether posters and parcel cards can be drawn (a CJK font was found at start).
pub fn available(app: &App) -> bool {
    app.media.available()
}

/// The share's short link, `{public_url}/s/{code}`: what every QR code encodes.
pub fn share_url(app: &App, code: &str) -> String {
    format!("{}/s/{code}", app.config.public_url)
}

/// Reads what a media request needs about the share `code`. Unknown and expired codes are
/// `not_found` and count against the address like any other share lookup, so media URLs can't
/// be used to enumerate codes.
pub(crate) async fn lookup<T, F>(app: &App, code: &str, client_addr: &str, read: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Sql, Timestamp, &ShareCode) -> Result<T, Error> + Send + 'static,
{
    guard(app, client_addr)?;
    let now = app.now();
    let result = match ShareCode::parse(code) {
        Ok(code) => app.store.read(move |sql| read(sql, now, &code)).await,
        Err(e) => Err(e),
    };
    count_miss(app, client_addr, &result);
    result
}

/// Refuses a poster or card up front when there is no font to draw it with.
pub(crate) fn ensure_available(app: &App) -> Result<(), Error> {
    if app.media.available() { Ok(()) } else { Err(unavailable()) }
}

/// The format of a QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrFormat {
    Svg,
    Png,
}

/// The QR code of a share's link. Needs no font, and a few thousand modules are cheap enough to
/// draw inline rather than on the render pool.
pub async fn qr(app: &App, code: &str, format: QrFormat, client_addr: &str) -> Result<Vec<u8>, Error> {
    let share = lookup(app, code, client_addr, shares::resolve).await?;
    let url = share_url(app, &share.code);
    match format {
        QrFormat::Svg => qr_svg(&url).map(String::into_bytes),
        QrFormat::Png => qr_png(&url, QR_PNG_MODULE_PX),
    }
    .map_err(media_error)
}

/// What a poster says, read in one hop.
struct PosterText {
    code: String,
    title: String,
    price: String,
    shop_name: String,
    sharer_line: String,
    hue: u16,
}

fn poster_text(sql: &mut dyn Sql, share: ResolvedShare) -> Result<PosterText, Error> {
    let shop = shops::load_shop(sql, share.shop_id)?;
    let sharer = accounts::load_user(sql, share.sharer_id)?;
    let sharer_line = format!("{} 推荐给你", sharer.display_name.trim());
    let product = match share.target_kind.as_str() {
        "product" => {
            let id: ProductId = share.target_id.parse().map_err(|_| Error::internal(format!("share {} names no product", share.code)))?;
            Some(catalog::load_product(sql, id, catalog::Viewer::Public)?)
        }
        // Shops, and kinds still to come, get the shop's poster.
        _ => None,
    };
    Ok(match product {
        Some(product) => PosterText {
            code: share.code,
            title: product.title,
            // The cheapest SKU's price, formatted from fen ("¥39.90").
            price: Money::from_fen(product.price_from_fen).to_string(),
            shop_name: shop.name,
            sharer_line,
            hue: u16::try_from(product.image_hue.rem_euclid(360)).unwrap_or(0),
        },
        None => PosterText {
            code: share.code,
            title: shop.name.clone(),
            price: SHOP_POSTER_LINE.to_string(),
            shop_name: shop.name,
            sharer_line,
            hue: brand_hue(&share.shop_id.to_string()),
        },
    })
}

/// The share's poster: a 750×1200 PNG with the product (or shop), the sharer, and the QR code
/// of the share's link.
pub async fn poster(app: &App, code: &str, client_addr: &str) -> Result<Vec<u8>, Error> {
    ensure_available(app)?;
    let text = lookup(app, code, client_addr, |sql, now, code| {
        let share = shares::resolve(sql, now, code)?;
        poster_text(sql, share)
    })
    .await?;
    let url = share_url(app, &text.code);
    app.media
        .render("poster", move |font| {
            let poster = Poster {
                title: &text.title,
                price: &text.price,
                shop_name: &text.shop_name,
                sharer_line: &text.sharer_line,
                hue: text.hue,
                url: &url,
                hint: POSTER_HINT,
            };
            render_poster(font, &poster)
        })
        .await
}
