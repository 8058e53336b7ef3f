//! Generated product images and shop logos as SVG: plain string building, no image crates.
//!
//! The same input always yields the same bytes, so responses can be cached by ETag. Gradient ids
//! carry a hash of the input: several inline SVGs on one page share one id namespace, and
//! a fixed id would make every image paint with the first image's gradient.

use std::fmt::Write;

const FONT_FAMILY: &str = "'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif";
/// Every product image is drawn on this canvas and scaled to the requested size.
const CANVAS: u32 = 400;

/// Escapes text for XML content and attribute values, and drops characters XML 1.0 cannot
/// carry at all (control characters other than tab and line breaks, U+FFFE, U+FFFF).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The kind of goods, which picks the motif drawn behind the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Motif {
    Fruit,
    Snack,
    Cosmetics,
    Drink,
    Household,
    Baby,
    Clothing,
    Digital,
    Other,
}

impl Motif {
    fn for_category(category: &str) -> Motif {
        let has = |words: &[&str]| words.iter().any(|w| category.contains(w));
        if has(&["水果", "生鲜", "果蔬", "蔬菜"]) {
            Motif::Fruit
        } else if has(&["零食", "食品", "糕点", "坚果", "粮油"]) {
            Motif::Snack
        } else if has(&["美妆", "个护", "护肤", "彩妆", "洗护"]) {
            Motif::Cosmetics
        } else if has(&["茶", "酒", "饮", "咖啡"]) {
            Motif::Drink
        } else if has(&["母婴", "婴", "童", "玩具"]) {
            Motif::Baby
        } else if has(&["服", "鞋", "包", "衣", "饰"]) {
            Motif::Clothing
        } else if has(&["数码", "电子", "手机", "电器", "配件"]) {
            Motif::Digital
        } else if has(&["家居", "日用", "家纺", "厨", "清洁", "收纳"]) {
            Motif::Household
        } else {
            Motif::Other
        }
    }
}

/// A square product "photo" placeholder: a soft gradient in `hue`, a motif chosen by
/// `category`, the first few characters of `title` large in the middle and the category on a
/// label at the bottom. `size` is the width and height in pixels.
pub fn product_svg(title: &str, category: &str, hue: i64, size: u32) -> String {
    let h = hue.rem_euclid(360);
    let size = size.clamp(16, 4096);
    let id = format!("p{:08x}", fnv1a(&[title, category, &h.to_string()]) as u32);
    let label = headline(title);
    let label_chars = label.chars().count().max(1);
    // CJK glyphs are about 1em wide; leave a margin on either side.
    let font_size = (300 / label_chars as u32).min(120);
    let category_text = category.trim();

    let mut svg = String::with_capacity(2048);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {CANVAS} {CANVAS}" role="img" aria-label="{aria}">"##,
        aria = escape(title.trim()),
    );
    let _ = write!(
        svg,
        concat!(
            r##"<defs><linearGradient id="{id}-bg" x1="0" y1="0" x2="1" y2="1">"##,
            r##"<stop offset="0" stop-color="hsl({h},80%,95%)"/><stop offset="0.55" stop-color="hsl({h},72%,87%)"/>"##,
            r##"<stop offset="1" stop-color="hsl({h2},62%,76%)"/></linearGradient>"##,
            r##"<radialGradient id="{id}-glow" cx="0.3" cy="0.22" r="0.75">"##,
            r##"<stop offset="0" stop-color="#fff" stop-opacity="0.75"/><stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs>"##,
            r##"<rect width="{c}" height="{c}" fill="url(#{id}-bg)"/>"##,
        ),
        id = id,
        h = h,
        h2 = (h + 20) % 360,
        c = CANVAS,
    );
    svg.push_str(&motif(Motif::for_category(category), h));
    let _ = write!(svg, r##"<rect width="{CANVAS}" height="{CANVAS}" fill="url(#{id}-glow)"/>"##);
    if !label.is_empty() {
        let _ = write!(
            svg,
            concat!(
                r##"<text x="200" y="196" text-anchor="middle" dominant-baseline="central" font-family="{font}" "##,
                r##"font-size="{fs}" font-weight="700" fill="hsl({h},60%,24%)" stroke="#fff" stroke-opacity="0.55" "##,
                r##"stroke-width="{sw}" paint-order="stroke" letter-spacing="2">{text}</text>"##,
            ),
            font = FONT_FAMILY,
            fs = font_size,
            h = h,
            sw = (font_size / 12).max(2),
            text = escape(&label),
        );
    }
    if !category_text.is_empty() {
        let shown: String = category_text.chars().take(8).collect();
        let width = 28 + 20 * shown.chars().count() as u32;
        let _ = write!(
            svg,
            concat!(
                r##"<rect x="{x}" y="330" width="{w}" height="36" rx="18" fill="#fff" fill-opacity="0.72"/>"##,
                r##"<text x="200" y="348" text-anchor="middle" dominant-baseline="central" font-family="{font}" font-size="18" "##,
                r##"fill="hsl({h},45%,32%)">{text}</text>"##,
            ),
            x = 200 - width / 2,
            w = width,
            font = FONT_FAMILY,
            h = h,
            text = escape(&shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A round badge with the first character of the shop's name, 96×96.
pub fn shop_logo_svg(name: &str, hue: i64) -> String {
    let h = hue.rem_euclid(360);
    let id = format!("s{:08x}", fnv1a(&[name, &h.to_string()]) as u32);
    let first: String = name.trim().chars().next().map_or_else(|| "店".to_string(), |c| c.to_string());
    let mut svg = String::with_capacity(1024);
    let _ = write!(
        svg,
        concat!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" role="img" aria-label="{aria}">"##,
            r##"<defs><linearGradient id="{id}-bg" x1="0" y1="0" x2="1" y2="1">"##,
            r##"<stop offset="0" stop-color="hsl({h},70%,62%)"/><stop offset="1" stop-color="hsl({h2},68%,42%)"/></linearGradient></defs>"##,
            r##"<circle cx="48" cy="48" r="46" fill="url(#{id}-bg)"/>"##,
            r##"<circle cx="48" cy="48" r="40" fill="none" stroke="#fff" stroke-opacity="0.6" stroke-width="2"/>"##,
            r##"<text x="48" y="50" text-anchor="middle" dominant-baseline="central" font-family="{font}" font-size="42" "##,
            r##"font-weight="700" fill="#fff">{text}</text></svg>"##,
        ),
        aria = escape(name.trim()),
        id = id,
        h = h,
        h2 = (h + 25) % 360,
        font = FONT_FAMILY,
        text = escape(&first),
    );
    svg
}

/// The 2–6 characters shown large on the image: the title's first word (a title such as
/// `赣南脐橙 5斤装 新鲜现摘` starts with the name of the goods), cut to six characters; when that
/// word is a single character, the next characters join it.
fn headline(title: &str) -> String {
    let title = title.trim_start_matches(|c: char| c.is_whitespace() || is_separator(c));
    let first_word: String = title.chars().take_while(|c| !c.is_whitespace() && !is_separator(*c)).take(6).collect();
    if first_word.chars().count() >= 2 {
        return first_word;
    }
    title.chars().filter(|c| !c.is_whitespace() && !is_separator(*c)).take(6).collect()
}

fn is_separator(c: char) -> bool {
    matches!(c, '|' | '/' | ',' | '，' | '、' | '【' | '】' | '[' | ']' | '(' | ')' | '（' | '）' | '·' | '-' | '—')
}

/// Shapes behind the title, in the 400×400 canvas, tinted with the image's hue.
fn motif(motif: Motif, h: i64) -> String {
    let main = format!("hsl({h},62%,62%)");
    let light = format!("hsl({},70%,72%)", (h + 35) % 360);
    let deep = format!("hsl({},55%,45%)", (h + 345) % 360);
    match motif {
        Motif::Fruit => format!(
            concat!(
                r##"<g fill-opacity="0.5"><circle cx="300" cy="96" r="74" fill="{m}"/><circle cx="96" cy="296" r="58" fill="{l}"/>"##,
                r##"<circle cx="330" cy="318" r="40" fill="{m}"/><circle cx="70" cy="80" r="26" fill="{l}"/></g>"##,
                r##"<path d="M300 22 C318 2 350 4 360 14 C342 30 318 32 300 22Z" fill="hsl(110,45%,45%)" fill-opacity="0.6"/>"##,
                r##"<circle cx="276" cy="72" r="16" fill="#fff" fill-opacity="0.35"/>"##,
            ),
            m = main,
            l = light,
        ),
        Motif::Snack => format!(
            concat!(
                r##"<g fill-opacity="0.45"><rect x="262" y="36" width="104" height="132" rx="14" fill="{m}" transform="rotate(12 314 102)"/>"##,
                r##"<path d="M262 62 h104" stroke="{d}" stroke-width="6" transform="rotate(12 314 102)"/>"##,
                r##"<rect x="40" y="250" width="96" height="118" rx="14" fill="{l}" transform="rotate(-10 88 309)"/></g>"##,
                r##"<g fill="{d}" fill-opacity="0.35"><circle cx="82" cy="82" r="12"/><circle cx="116" cy="58" r="8"/><circle cx="330" cy="306" r="14"/>"##,
                r##"<circle cx="300" cy="346" r="9"/></g>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Cosmetics => format!(
            concat!(
                r##"<g fill-opacity="0.5"><rect x="286" y="40" width="30" height="26" rx="5" fill="{d}"/>"##,
                r##"<rect x="293" y="62" width="16" height="18" fill="{d}"/><rect x="262" y="78" width="78" height="128" rx="22" fill="{m}"/>"##,
                r##"<rect x="48" y="280" width="86" height="58" rx="12" fill="{l}"/><rect x="44" y="262" width="94" height="22" rx="8" fill="{d}"/></g>"##,
                r##"<rect x="276" y="96" width="12" height="80" rx="6" fill="#fff" fill-opacity="0.45"/>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Drink => format!(
            concat!(
                r##"<g fill-opacity="0.5"><path d="M252 112 h112 v44 a56 56 0 0 1 -112 0Z" fill="{m}"/>"##,
                r##"<path d="M364 126 a18 18 0 0 1 0 36" fill="none" stroke="{m}" stroke-width="9"/>"##,
                r##"<ellipse cx="308" cy="222" rx="78" ry="12" fill="{d}"/></g>"##,
                r##"<g fill="none" stroke="{d}" stroke-opacity="0.4" stroke-width="6" stroke-linecap="round">"##,
                r##"<path d="M284 96 c-12 -16 12 -26 0 -44"/><path d="M310 96 c-12 -16 12 -26 0 -44"/><path d="M336 96 c-12 -16 12 -26 0 -44"/></g>"##,
                r##"<circle cx="84" cy="312" r="44" fill="{l}" fill-opacity="0.45"/>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Household => format!(
            concat!(
                r##"<g fill-opacity="0.5"><path d="M310 40 l64 32 v76 l-64 32 l-64 -32 v-76Z" fill="{m}"/>"##,
                r##"<path d="M310 40 l64 32 l-64 32 l-64 -32Z" fill="{l}"/><path d="M310 104 v76" stroke="{d}" stroke-width="4"/>"##,
                r##"<path d="M90 262 l44 22 v52 l-44 22 l-44 -22 v-52Z" fill="{l}"/></g>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Baby => format!(
            concat!(
                r##"<g fill-opacity="0.5"><path d="M312 150 C250 106 262 52 294 52 C306 52 312 62 312 70 C312 62 318 52 330 52 C362 52 374 106 312 150Z" fill="{m}"/>"##,
                r##"<circle cx="86" cy="304" r="46" fill="{l}"/><circle cx="130" cy="340" r="24" fill="{l}"/></g>"##,
                r##"<path d="M78 58 l8 16 l18 3 l-13 12 l3 18 l-16 -8 l-16 8 l3 -18 l-13 -12 l18 -3Z" fill="{d}" fill-opacity="0.35"/>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Clothing => format!(
            concat!(
                r##"<path d="M282 44 l-50 26 l18 40 l22 -10 v92 h100 v-92 l22 10 l18 -40 l-50 -26 c-6 18 -20 26 -40 26 s-34 -8 -40 -26Z" "##,
                r##"transform="translate(-24 0)" fill="{m}" fill-opacity="0.5"/>"##,
                r##"<path d="M60 270 h60 l24 24 v70 h-84Z" fill="{l}" fill-opacity="0.45"/><circle cx="128" cy="300" r="6" fill="#fff" fill-opacity="0.7"/>"##,
            ),
            m = main,
            l = light,
        ),
        Motif::Digital => format!(
            concat!(
                r##"<g fill-opacity="0.5"><rect x="274" y="36" width="84" height="150" rx="14" fill="{m}"/>"##,
                r##"<rect x="282" y="50" width="68" height="114" rx="4" fill="{l}"/></g>"##,
                r##"<g fill="none" stroke="{d}" stroke-opacity="0.4" stroke-width="7" stroke-linecap="round">"##,
                r##"<path d="M54 318 a40 40 0 0 1 56 -56"/><path d="M38 334 a64 64 0 0 1 88 -88"/></g>"##,
                r##"<circle cx="70" cy="302" r="9" fill="{d}" fill-opacity="0.45"/>"##,
            ),
            m = main,
            l = light,
            d = deep,
        ),
        Motif::Other => format!(
            concat!(
                r##"<g fill-opacity="0.45"><rect x="270" y="50" width="90" height="90" rx="10" fill="{m}" transform="rotate(45 315 95)"/>"##,
                r##"<rect x="60" y="270" width="64" height="64" rx="8" fill="{l}" transform="rotate(45 92 302)"/></g>"##,
            ),
            m = main,
            l = light,
        ),
    }
}

/// FNV-1a (64 bit) over the parts, with a separator so that ("ab","c") and ("a","bc") differ.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape(r##"<&"'>"##), "&lt;&amp;&quot;&apos;&gt;");
        assert_eq!(escape("赣南脐橙 5斤"), "赣南脐橙 5斤");
        assert_eq!(escape("a\u{0}b\u{1b}c\td"), "abc\td");
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn product_image_is_well_formed_and_deterministic() {
        let svg = product_svg("赣南脐橙 5斤装 新鲜现摘 单果200g+", "生鲜水果", 30, 480);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"480\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(">赣南脐橙</text>"));
        assert!(svg.contains("hsl(30,"));
        assert!(svg.contains("WenQuanYi Micro Hei"));
        assert!(svg.contains(">生鲜水果</text>"));
        assert_eq!(svg, product_svg("赣南脐橙 5斤装 新鲜现摘 单果200g+", "生鲜水果", 30, 480));
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
        // Another product gets other gradient ids.
        let other = product_svg("纯棉T恤", "服饰鞋包", 210, 480);
        let id = |s: &str| s.split("id=\"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_string);
        assert_ne!(id(&svg), id(&other));
        assert_ne!(svg, other);
    }

    #[test]
    fn product_image_escapes_everything() {
        let svg = product_svg("<b>&\"'x", "<script>", -30, 100);
        assert!(svg.contains("hsl(330,"));
        assert!(svg.contains("&lt;b&gt;&amp;&quot;&apos;"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn headline_takes_two_to_six_characters() {
        assert_eq!(headline("赣南脐橙 5斤装"), "赣南脐橙");
        assert_eq!(headline("  重磅纯棉圆领短袖T恤 男女同款"), "重磅纯棉圆领");
        assert_eq!(headline("【新品】蓝牙耳机"), "新品");
        assert_eq!(headline("茶 特级"), "茶特级");
        assert_eq!(headline("20W PD快充充电器"), "20W");
        assert_eq!(headline(""), "");
        assert!(product_svg("", "", 0, 64).starts_with("<svg"));
    }

    #[test]
    fn every_category_has_a_motif() {
        let cases = [
            ("生鲜水果", Motif::Fruit),
            ("休闲零食", Motif::Snack),
            ("美妆个护", Motif::Cosmetics),
            ("茶酒冲饮", Motif::Drink),
            ("家居日用", Motif::Household),
            ("母婴用品", Motif::Baby),
            ("服饰鞋包", Motif::Clothing),
            ("数码配件", Motif::Digital),
            ("其他", Motif::Other),
        ];
        for (category, expected) in cases {
            assert_eq!(Motif::for_category(category), expected, "{category}");
            let svg = product_svg("测试商品", category, 200, 200);
            assert_eq!(svg.matches('<').count(), svg.matches('>').count(), "{category}");
        }
    }

    #[test]
    fn shop_logo() {
        let svg = shop_logo_svg("  小美的好物铺", 320);
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(">小</text>"));
        assert!(svg.contains("<circle"));
        assert_eq!(svg, shop_logo_svg("  小美的好物铺", 320));
        assert!(shop_logo_svg("", 0).contains(">店</text>"));
        assert!(shop_logo_svg("<店>", 0).contains(">&lt;</text>"));
    }
}
