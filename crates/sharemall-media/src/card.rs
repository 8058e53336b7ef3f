//! The parcel card: an A6 card a shop prints and slips into each parcel, inviting the buyer
//! back through a QR code.

use crate::canvas::{Canvas, Rect, Rgb};
use crate::font::CjkFont;
use crate::qr::draw_qr;
use crate::text::Face;
use crate::{MAX_LINE_CHARS, MAX_MESSAGE_CHARS, MediaError, check_chars};

/// A6 (105 × 148 mm) at 300 dpi.
pub const CARD_WIDTH: u32 = 1240;
pub const CARD_HEIGHT: u32 = 1748;
/// 300 dpi in the unit PNG's pHYs chunk uses (300 / 0.0254, rounded).
pub const CARD_PIXELS_PER_METRE: u32 = 11811;

/// What a parcel card says.
#[derive(Clone, Debug)]
pub struct ParcelCard<'a> {
    pub shop_name: &'a str,
    /// A note to the buyer, up to about 80 characters fit; it is wrapped, and cut with "…" past
    /// five lines. Line breaks are kept.
    pub message: &'a str,
    /// The reason to scan, e.g. "扫码入会 领 5 元红包".
    pub offer: &'a str,
    pub url: &'a str,
    pub hue: u16,
}

const PRICE_RED: Rgb = Rgb(0xe4, 0x39, 0x3c);
const INK: Rgb = Rgb(0x33, 0x33, 0x33);
const CUT_LINE: Rgb = Rgb(0xbd, 0xbd, 0xbd);

/// Printers can't print to the edge and guillotines drift: everything sits inside a margin.
const CUT_INSET: f32 = 16.0;
const MARGIN: f32 = 56.0;
const INNER_WIDTH: f32 = CARD_WIDTH as f32 - 2.0 * MARGIN;
const BAND: Rect = Rect { x: MARGIN, y: MARGIN, w: INNER_WIDTH, h: 300.0 };
const SHOP_PX: f32 = 92.0;

const MESSAGE_PX: f32 = 50.0;
const MESSAGE_LINE_HEIGHT: f32 = 72.0;
const MESSAGE_MAX_LINES: usize = 5;
const MESSAGE_LEFT: f32 = 96.0;
const MESSAGE_WIDTH: f32 = CARD_WIDTH as f32 - 2.0 * MESSAGE_LEFT;
const MESSAGE_TOP: f32 = 396.0;
const MESSAGE_BOTTOM: f32 = 770.0;

const OFFER: Rect = Rect { x: MESSAGE_LEFT, y: 796.0, w: MESSAGE_WIDTH, h: 150.0 };
/// The offer is the card's call to action: as big as fits, down to this size, then cut.
const OFFER_SIZES: [f32; 4] = [80.0, 70.0, 62.0, 54.0];

const QR_TARGET: u32 = 600;
const QR_TOP: i64 = 990;
const CAPTION_PX: f32 = 34.0;

#[derive(Debug)]
pub(crate) struct CardText {
    pub shop_name: String,
    pub message: Vec<String>,
    pub offer: String,
    pub offer_px: f32,
    pub caption: String,
}

pub(crate) fn layout(font: &CjkFont, card: &ParcelCard) -> Result<CardText, MediaError> {
    check_chars(card.message, MAX_MESSAGE_CHARS, "message")?;
    check_chars(card.shop_name, MAX_LINE_CHARS, "shop_name")?;
    check_chars(card.offer, MAX_LINE_CHARS, "offer")?;
    let offer_width = OFFER.w - 60.0;
    let mut offer_px = OFFER_SIZES[OFFER_SIZES.len() - 1];
    for px in OFFER_SIZES {
        let face = Face::new(font, px);
        if face.width(&face.printable(card.offer, false)) <= offer_width {
            offer_px = px;
            break;
        }
    }
    Ok(CardText {
        shop_name: Face::new(font, SHOP_PX).fit(card.shop_name, BAND.w - 80.0),
        message: Face::new(font, MESSAGE_PX).wrap(card.message, MESSAGE_WIDTH, MESSAGE_MAX_LINES),
        offer: Face::new(font, offer_px).fit(card.offer, offer_width),
        offer_px,
        // The link itself, for the buyer whose camera won't scan a creased card.
        caption: Face::new(font, CAPTION_PX).fit(strip_scheme(card.url), INNER_WIDTH),
    })
}

fn strip_scheme(url: &str) -> &str {
    url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url)
}

/// Renders the card as a 1240×1748 PNG whose pHYs chunk says 300 dpi, so it prints at A6.
pub fn render_parcel_card(font: &CjkFont, card: &ParcelCard) -> Result<Vec<u8>, MediaError> {
    paint(font, card)?.encode_png(Some(CARD_PIXELS_PER_METRE))
}

pub(crate) fn paint(font: &CjkFont, card: &ParcelCard) -> Result<Canvas, MediaError> {
    let text = layout(font, card)?;
    let mut canvas = Canvas::new(CARD_WIDTH, CARD_HEIGHT, Rgb::WHITE);
    let cut = Rect::new(CUT_INSET, CUT_INSET, CARD_WIDTH as f32 - 2.0 * CUT_INSET, CARD_HEIGHT as f32 - 2.0 * CUT_INSET);
    canvas.dashed_rect(cut, 3, 24, 16, CUT_LINE);

    canvas.fill_rounded_gradient(BAND, 0.0, Rgb::hsl(card.hue, 0.60, 0.52), Rgb::hsl(card.hue, 0.62, 0.42), 1.0);
    canvas.fill_circle(BAND.x + BAND.w - 120.0, BAND.y + 40.0, 150.0, Rgb::WHITE, 0.12);
    canvas.fill_circle(BAND.x + 70.0, BAND.y + BAND.h - 20.0, 90.0, Rgb::WHITE, 0.10);
    let around = Rect::new(CUT_INSET + 4.0, CUT_INSET + 4.0, CARD_WIDTH as f32 - 2.0 * CUT_INSET - 8.0, BAND.y + BAND.h + 80.0);
    canvas.clip_to_rounded(BAND, 36.0, around, Rgb::WHITE);
    let shop = Face::new(font, SHOP_PX);
    let shop_baseline = BAND.y + BAND.h / 2.0 + shop.ascent() * 0.38;
    shop.draw_centred(&mut canvas, &text.shop_name, (BAND.x, BAND.w), shop_baseline, Rgb::WHITE);

    let message = Face::new(font, MESSAGE_PX);
    let block = text.message.len() as f32 * MESSAGE_LINE_HEIGHT;
    let first_baseline = MESSAGE_TOP + ((MESSAGE_BOTTOM - MESSAGE_TOP) - block) / 2.0 + message.ascent();
    for (i, line) in text.message.iter().enumerate() {
        message.draw_centred(&mut canvas, line, (MESSAGE_LEFT, MESSAGE_WIDTH), first_baseline + i as f32 * MESSAGE_LINE_HEIGHT, INK);
    }

    if !text.offer.is_empty() {
        canvas.fill_rounded_rect(OFFER, OFFER.h / 2.0, Rgb::hsl(card.hue, 0.75, 0.95), 1.0);
        let offer = Face::new(font, text.offer_px);
        offer.draw_centred(&mut canvas, &text.offer, (OFFER.x, OFFER.w), OFFER.y + OFFER.h / 2.0 + offer.ascent() * 0.38, PRICE_RED);
    }

    let centre = i64::from(CARD_WIDTH / 2);
    let side = draw_qr(&mut canvas, card.url, centre, QR_TOP, QR_TARGET)?;
    let caption_baseline = (QR_TOP + i64::from(side)) as f32 + 48.0;
    Face::new(font, CAPTION_PX).draw_centred(&mut canvas, &text.caption, (MARGIN, INNER_WIDTH), caption_baseline, Rgb(0x77, 0x77, 0x77));
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> CjkFont {
        CjkFont::load_first(&CjkFont::system_paths())
            .unwrap_or_else(|e| panic!("a CJK font is needed (apt-get install fonts-wqy-microhei): {e}"))
    }

    fn card(message: &str) -> ParcelCard<'_> {
        ParcelCard {
            shop_name: "小美的水果铺",
            message,
            offer: "扫码入会 领 5 元红包",
            url: "https://mall.example/s/Ab3dE5fG7hJ9",
            hue: 140,
        }
    }

    #[test]
    fn eighty_characters_fit_without_cutting() {
        let font = font();
        let message = "感谢您选择小美的水果铺！每一颗草莓都是今早现摘的，收到后请尽快冷藏，两天内吃完最甜。\
                       如有坏果请拍照联系客服，我们包赔。祝您生活甜甜蜜蜜，天天开心，欢迎再次光临！";
        assert_eq!(message.chars().count(), 80);
        let text = layout(&font, &card(message)).unwrap();
        assert!(text.message.len() <= MESSAGE_MAX_LINES, "{:?}", text.message);
        assert!(!text.message.concat().contains('…'), "{:?}", text.message);
    }

    #[test]
    fn longer_message_is_cut_with_an_ellipsis() {
        let font = font();
        let message = "草莓".repeat(100);
        let text = layout(&font, &card(&message)).unwrap();
        assert_eq!(text.message.len(), MESSAGE_MAX_LINES);
        assert!(text.message[MESSAGE_MAX_LINES - 1].ends_with('…'));
        let over = "草".repeat(MAX_MESSAGE_CHARS + 1);
        assert!(matches!(layout(&font, &card(&over)), Err(MediaError::TooLong("message"))));
    }

    #[test]
    fn long_offer_shrinks_before_it_is_cut() {
        let font = font();
        let short = layout(&font, &card("谢谢")).unwrap();
        assert_eq!(short.offer_px, OFFER_SIZES[0]);
        let mut long = card("谢谢");
        long.offer = "扫码入会领五元无门槛红包，下单再享第二件半价";
        let text = layout(&font, &long).unwrap();
        assert!(text.offer_px < OFFER_SIZES[0]);
        assert_eq!(text.caption, "mall.example/s/Ab3dE5fG7hJ9");
    }

    #[test]
    fn header_band_is_in_the_shops_hue_with_white_text() {
        let font = font();
        let canvas = paint(&font, &card("谢谢")).unwrap();
        let Rgb(r, g, b) = canvas.pixel((BAND.x + 30.0) as u32, (BAND.y + 150.0) as u32);
        assert!(g > r && g > b, "hue 140 should be green, got {r},{g},{b}");
        let mut white = 0;
        for y in BAND.y as u32..(BAND.y + BAND.h) as u32 {
            for x in BAND.x as u32..(BAND.x + BAND.w) as u32 {
                let p = canvas.pixel(x, y);
                if p.0 > 240 && p.1 > 240 && p.2 > 240 {
                    white += 1;
                }
            }
        }
        assert!(white > 5_000, "the shop name left only {white} white pixels in the band");
    }
}
