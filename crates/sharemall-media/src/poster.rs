//! The share poster: a phone-sized picture a buyer saves and posts in a chat.

use crate::canvas::{Canvas, Rect, Rgb};
use crate::font::CjkFont;
use crate::qr::draw_qr;
use crate::text::Face;
use crate::{MAX_LINE_CHARS, MAX_TITLE_CHARS, MediaError, check_chars};

pub const POSTER_WIDTH: u32 = 750;
pub const POSTER_HEIGHT: u32 = 1200;

/// What a share poster says.
#[derive(Clone, Debug)]
pub struct Poster<'a> {
    pub title: &'a str,
    /// Already formatted, e.g. "¥39.90".
    pub price: &'a str,
    pub shop_name: &'a str,
    /// e.g. "小美 推荐给你".
    pub sharer_line: &'a str,
    /// 0..360, the colour of the product panel.
    pub hue: u16,
    /// Encoded in the QR code.
    pub url: &'a str,
    /// Under the QR code, e.g. "长按识别二维码".
    pub hint: &'a str,
}

const PRICE_RED: Rgb = Rgb(0xe4, 0x39, 0x3c);
const INK: Rgb = Rgb(0x1f, 0x1f, 0x1f);
const MUTED: Rgb = Rgb(0x88, 0x88, 0x88);

const MARGIN: f32 = 30.0;
const PANEL: Rect = Rect { x: MARGIN, y: MARGIN, w: POSTER_WIDTH as f32 - 2.0 * MARGIN, h: 670.0 };
const TEXT_LEFT: f32 = 40.0;
const TEXT_WIDTH: f32 = POSTER_WIDTH as f32 - 2.0 * TEXT_LEFT;

const TITLE_PX: f32 = 36.0;
const TITLE_MAX_LINES: usize = 2;
const TITLE_FIRST_BASELINE: f32 = 752.0;
const TITLE_LINE_HEIGHT: f32 = 48.0;
/// Where the title's ink can land; tests look here.
#[cfg(test)]
const TITLE_BOX: Rect = Rect { x: TEXT_LEFT, y: 708.0, w: TEXT_WIDTH, h: 108.0 };

const PRICE_PX: f32 = 60.0;
const PRICE_BASELINE: f32 = 880.0;
const DIVIDER_Y: i64 = 912;

const QR_TARGET: u32 = 220;
const QR_CENTRE_X: i64 = 600;
const QR_TOP: i64 = 932;
const HINT_PX: f32 = 22.0;

const AVATAR_CENTRE: (f32, f32) = (TEXT_LEFT + 36.0, 990.0);
const AVATAR_RADIUS: f32 = 36.0;
const SHOP_LEFT: f32 = TEXT_LEFT + 88.0;
/// The column left of the QR code, for the shop and sharer.
const SIDE_RIGHT: f32 = 470.0;

/// The poster's text as it will be drawn: cleaned, wrapped and cut to fit.
#[derive(Debug)]
pub(crate) struct PosterText {
    pub title: Vec<String>,
    pub price: String,
    pub shop_name: String,
    pub sharer_line: String,
    pub hint: String,
    /// The character drawn large on the panel, standing in for a product photo.
    pub initial: Option<char>,
}

pub(crate) fn layout(font: &CjkFont, poster: &Poster) -> Result<PosterText, MediaError> {
    check_chars(poster.title, MAX_TITLE_CHARS, "title")?;
    for (value, field) in
        [(poster.price, "price"), (poster.shop_name, "shop_name"), (poster.sharer_line, "sharer_line"), (poster.hint, "hint")]
    {
        check_chars(value, MAX_LINE_CHARS, field)?;
    }
    let title = Face::new(font, TITLE_PX);
    let lines = title.wrap(poster.title, TEXT_WIDTH, TITLE_MAX_LINES);
    // Brackets and symbols ("【包邮】") make a poor emblem: take the first letter or character.
    let initial = title.printable(poster.title, false).chars().find(|c| c.is_alphanumeric());
    Ok(PosterText {
        title: lines,
        price: Face::new(font, PRICE_PX).fit(poster.price, SIDE_RIGHT - TEXT_LEFT),
        shop_name: Face::new(font, 30.0).fit(poster.shop_name, SIDE_RIGHT - SHOP_LEFT),
        sharer_line: Face::new(font, 26.0).fit(poster.sharer_line, SIDE_RIGHT - TEXT_LEFT - 40.0),
        hint: Face::new(font, HINT_PX).fit(poster.hint, 2.0 * (POSTER_WIDTH as f32 - 600.0)),
        initial,
    })
}

/// Renders the poster as a 750×1200 PNG.
pub fn render_poster(font: &CjkFont, poster: &Poster) -> Result<Vec<u8>, MediaError> {
    paint(font, poster)?.encode_png(None)
}

pub(crate) fn paint(font: &CjkFont, poster: &Poster) -> Result<Canvas, MediaError> {
    let text = layout(font, poster)?;
    let mut canvas = Canvas::new(POSTER_WIDTH, POSTER_HEIGHT, Rgb::WHITE);
    paint_panel(&mut canvas, font, poster.hue, text.initial);

    let title = Face::new(font, TITLE_PX);
    for (i, line) in text.title.iter().enumerate() {
        let baseline = TITLE_FIRST_BASELINE + i as f32 * TITLE_LINE_HEIGHT;
        title.draw(&mut canvas, line, TEXT_LEFT, baseline, INK, 1.0);
    }
    Face::new(font, PRICE_PX).draw(&mut canvas, &text.price, TEXT_LEFT, PRICE_BASELINE, PRICE_RED, 1.0);
    canvas.fill_rect(TEXT_LEFT as i64, DIVIDER_Y, TEXT_WIDTH as u32, 2, Rgb(0xee, 0xee, 0xee));

    paint_shop(&mut canvas, font, poster.hue, &text);

    let side = draw_qr(&mut canvas, poster.url, QR_CENTRE_X, QR_TOP, QR_TARGET)?;
    let hint_baseline = (QR_TOP + i64::from(side)) as f32 + 26.0;
    Face::new(font, HINT_PX).draw_centred(&mut canvas, &text.hint, (QR_CENTRE_X as f32 - 150.0, 300.0), hint_baseline, MUTED);
    Ok(canvas)
}

/// The product panel: a soft gradient in the product's hue, two faint discs for depth, and the
/// title's first character drawn huge and translucent. Generated art, never a fake photo.
fn paint_panel(canvas: &mut Canvas, font: &CjkFont, hue: u16, initial: Option<char>) {
    let top = Rgb::hsl(hue, 0.70, 0.88);
    let bottom = Rgb::hsl(hue, 0.55, 0.66);
    canvas.fill_rounded_gradient(PANEL, 0.0, top, bottom, 1.0);
    canvas.fill_circle(PANEL.x + PANEL.w - 90.0, PANEL.y + 120.0, 170.0, Rgb::WHITE, 0.18);
    canvas.fill_circle(PANEL.x + 90.0, PANEL.y + PANEL.h - 70.0, 120.0, Rgb::hsl(hue, 0.6, 0.5), 0.16);
    let around = Rect::new(0.0, 0.0, POSTER_WIDTH as f32, PANEL.y + PANEL.h + 120.0);
    canvas.clip_to_rounded(PANEL, 28.0, around, Rgb::WHITE);
    if let Some(c) = initial {
        Face::new(font, 420.0).draw_centred_char(canvas, c, PANEL.x + PANEL.w / 2.0, PANEL.y + PANEL.h / 2.0, Rgb::WHITE, 0.62);
    }
}

/// The shop's avatar (its initial on a disc of the product hue) and name, and the sharer's
/// line in a pill beneath them.
fn paint_shop(canvas: &mut Canvas, font: &CjkFont, hue: u16, text: &PosterText) {
    let (cx, cy) = AVATAR_CENTRE;
    canvas.fill_circle(cx, cy, AVATAR_RADIUS, Rgb::hsl(hue, 0.55, 0.50), 1.0);
    if let Some(c) = text.shop_name.chars().next() {
        Face::new(font, 36.0).draw_centred_char(canvas, c, cx, cy, Rgb::WHITE, 1.0);
    }
    let shop = Face::new(font, 30.0);
    shop.draw(canvas, &text.shop_name, SHOP_LEFT, cy + 11.0, INK, 1.0);

    if text.sharer_line.is_empty() {
        return;
    }
    let sharer = Face::new(font, 26.0);
    let width = sharer.width(&text.sharer_line) + 40.0;
    let pill = Rect::new(TEXT_LEFT, 1062.0, width, 56.0);
    canvas.fill_rounded_rect(pill, 28.0, Rgb::hsl(hue, 0.70, 0.94), 1.0);
    sharer.draw(canvas, &text.sharer_line, TEXT_LEFT + 20.0, pill.y + 37.0, Rgb::hsl(hue, 0.55, 0.30), 1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> CjkFont {
        CjkFont::load_first(&CjkFont::system_paths())
            .unwrap_or_else(|e| panic!("a CJK font is needed (apt-get install fonts-wqy-microhei): {e}"))
    }

    fn poster(title: &str) -> Poster<'_> {
        Poster {
            title,
            price: "¥39.90",
            shop_name: "小美的水果铺",
            sharer_line: "小美 推荐给你",
            hue: 350,
            url: "https://mall.example/s/Ab3dE5fG7hJ9",
            hint: "长按识别二维码",
        }
    }

    /// Dark pixels (luminance under half) inside `rect`.
    fn ink(canvas: &Canvas, rect: Rect) -> usize {
        let mut dark = 0;
        for y in rect.y as u32..(rect.y + rect.h) as u32 {
            for x in rect.x as u32..(rect.x + rect.w) as u32 {
                let Rgb(r, g, b) = canvas.pixel(x, y);
                let luma = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
                if luma < 128_000 {
                    dark += 1;
                }
            }
        }
        dark
    }

    /// Pixels inside `rect` that differ between two canvases.
    fn differing(a: &Canvas, b: &Canvas, rect: Rect) -> usize {
        let mut n = 0;
        for y in rect.y as u32..(rect.y + rect.h) as u32 {
            for x in rect.x as u32..(rect.x + rect.w) as u32 {
                if a.pixel(x, y) != b.pixel(x, y) {
                    n += 1;
                }
            }
        }
        n
    }

    #[test]
    fn titles_are_drawn_in_real_chinese_glyphs() {
        let font = font();
        let strawberry = paint(&font, &poster("草莓")).unwrap();
        let apple = paint(&font, &poster("苹果")).unwrap();
        // Two 36 px characters fill at most 2 × 36 × 36 = 2592 pixels; real strokes cover about
        // a third of that. None would be blank, a solid block or a filled box would be most.
        let full = (2.0 * TITLE_PX * TITLE_PX) as usize;
        for (name, canvas) in [("草莓", &strawberry), ("苹果", &apple)] {
            let dark = ink(canvas, TITLE_BOX);
            assert!((full / 8..full * 6 / 10).contains(&dark), "{name}: {dark} dark pixels in the title box, expected a third of {full}");
        }
        let changed = differing(&strawberry, &apple, TITLE_BOX);
        assert!(changed > 300, "only {changed} pixels differ between 草莓 and 苹果");
        // Nothing outside the title and the panel's initial depends on the title.
        let below = Rect::new(0.0, 830.0, POSTER_WIDTH as f32, 370.0);
        assert_eq!(differing(&strawberry, &apple, below), 0);
    }

    #[test]
    fn long_chinese_title_is_cut_to_two_lines_with_an_ellipsis() {
        let font = font();
        let title = "云南高山新鲜大果草莓当季现摘孕妇宝宝水果礼盒装顺丰冷链包邮坏果包赔一斤装两斤装";
        let text = layout(&font, &poster(title)).unwrap();
        assert_eq!(text.title.len(), 2, "{:?}", text.title);
        assert!(text.title[1].ends_with('…'), "{:?}", text.title);
        let face = Face::new(&font, TITLE_PX);
        assert!(text.title.iter().all(|l| face.width(l) <= TEXT_WIDTH));
        assert_eq!(text.initial, Some('云'));
        let text = layout(&font, &poster("【包邮】草莓")).unwrap();
        assert_eq!(text.initial, Some('包'));
    }

    #[test]
    fn mixed_title_breaks_between_words() {
        let font = font();
        let title = "Apple iPhone 15 Pro Max 液态硅胶手机壳 MagSafe magnetic protective case";
        let text = layout(&font, &poster(title)).unwrap();
        assert_eq!(text.title.len(), 2, "{:?}", text.title);
        let words: Vec<&str> = title.split(' ').collect();
        let last_line = text.title.len() - 1;
        for (i, line) in text.title.iter().enumerate() {
            let chunks: Vec<&str> = line.split(' ').collect();
            for (j, chunk) in chunks.iter().enumerate() {
                // Only the very end of a cut title may be a word shortened by the "…".
                if i == last_line && j == chunks.len() - 1 && chunk.ends_with('…') {
                    continue;
                }
                if chunk.is_ascii() {
                    assert!(words.contains(chunk), "{chunk:?} is a broken word: {:?}", text.title);
                }
            }
        }
    }

    #[test]
    fn over_long_title_is_refused() {
        let font = font();
        let title = "草".repeat(MAX_TITLE_CHARS + 1);
        assert!(matches!(layout(&font, &poster(&title)), Err(MediaError::TooLong("title"))));
        let title = "草".repeat(MAX_TITLE_CHARS);
        assert!(layout(&font, &poster(&title)).is_ok());
    }

    #[test]
    fn qr_area_holds_only_black_and_white() {
        let font = font();
        let canvas = paint(&font, &poster("草莓")).unwrap();
        let mut seen_black = false;
        for y in QR_TOP as u32 + 4..QR_TOP as u32 + 180 {
            for x in QR_CENTRE_X as u32 - 90..QR_CENTRE_X as u32 + 90 {
                let p = canvas.pixel(x, y);
                assert!(p == Rgb::WHITE || p == Rgb::BLACK, "({x},{y}) is {p:?}");
                seen_black |= p == Rgb::BLACK;
            }
        }
        assert!(seen_black);
    }
}
