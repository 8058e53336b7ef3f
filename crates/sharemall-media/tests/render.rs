//! The public API end to end: what a phone camera and a printer will get.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use sharemall_media::{
    CARD_HEIGHT, CARD_WIDTH, CjkFont, MAX_URL_BYTES, MediaError, POSTER_HEIGHT, POSTER_WIDTH, ParcelCard, Poster, qr_png, qr_svg,
    render_parcel_card, render_poster,
};

const URL: &str = "https://mall.example/s/Ab3dE5fG7hJ9";

fn font() -> CjkFont {
    CjkFont::load_first(&CjkFont::system_paths()).unwrap_or_else(|e| {
        panic!(
            "these tests need a CJK font; on Debian/Ubuntu run \
             `apt-get install fonts-wqy-microhei`. {e}"
        )
    })
}

fn poster() -> Poster<'static> {
    Poster {
        title: "云南高山新鲜大果草莓 当季现摘 礼盒装 顺丰冷链包邮",
        price: "¥39.90",
        shop_name: "小美的水果铺",
        sharer_line: "小美 推荐给你",
        hue: 350,
        url: URL,
        hint: "长按识别二维码",
    }
}

fn card() -> ParcelCard<'static> {
    ParcelCard {
        shop_name: "小美的水果铺",
        message: "感谢您的支持！草莓今早现摘，收到后请冷藏，两天内吃完最甜。坏果包赔，祝您生活甜甜蜜蜜！",
        offer: "扫码入会 领 5 元红包",
        url: URL,
        hue: 140,
    }
}

/// Every QR code rqrr finds anywhere in the PNG, decoded.
fn decode_all(png: &[u8]) -> Vec<String> {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("a readable PNG").to_luma8();
    let (w, h) = image.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| image.get_pixel(x as u32, y as u32).0[0]);
    prepared.detect_grids().into_iter().map(|grid| grid.decode().expect("a decodable grid").1).collect()
}

fn dimensions(png: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap();
    (image.width(), image.height())
}

/// The data of the PNG chunk named `kind`, found by walking the chunk list.
fn chunk<'a>(png: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut at = 8;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let name = &png[at + 4..at + 8];
        if name == kind {
            return Some(&png[at + 8..at + 8 + len]);
        }
        at += 12 + len;
    }
    None
}

#[test]
fn qr_png_decodes_to_the_exact_url() {
    let png = qr_png(URL, 8).unwrap();
    assert_eq!(decode_all(&png), [URL]);
    // Even at one pixel per module the code is exact enough to scan.
    assert_eq!(decode_all(&qr_png(URL, 1).unwrap()), [URL]);
}

#[test]
fn qr_svg_is_a_scalable_svg() {
    let svg = qr_svg(URL).unwrap();
    let open = svg.find("<svg").expect("an <svg> element");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    let tag = &svg[open..svg[open..].find('>').unwrap() + open];
    assert!(tag.contains("xmlns=\"http://www.w3.org/2000/svg\""), "{tag}");
    assert!(tag.contains("viewBox=\"0 0 "), "{tag}");
    assert!(tag.contains("shape-rendering=\"crispEdges\""), "{tag}");
    assert!(svg.contains("<path"), "no modules drawn");
}

#[test]
fn url_over_the_limit_is_refused() {
    let long = format!("https://mall.example/s/{}", "x".repeat(MAX_URL_BYTES));
    assert!(matches!(qr_svg(&long), Err(MediaError::TooLong("url"))));
    assert!(matches!(qr_png(&long, 4), Err(MediaError::TooLong("url"))));
    let mut p = poster();
    p.url = &long;
    assert!(matches!(render_poster(&font(), &p), Err(MediaError::TooLong("url"))));
}

#[test]
fn poster_is_750_by_1200_and_its_qr_scans() {
    let font = font();
    let started = Instant::now();
    let png = render_poster(&font, &poster()).unwrap();
    println!("poster rendered in {:?} ({} bytes)", started.elapsed(), png.len());
    assert_eq!(dimensions(&png), (POSTER_WIDTH, POSTER_HEIGHT));
    assert_eq!((POSTER_WIDTH, POSTER_HEIGHT), (750, 1200));
    assert_eq!(decode_all(&png), [URL]);
}

#[test]
fn parcel_card_is_a6_at_300_dpi_and_its_qr_scans() {
    let font = font();
    let started = Instant::now();
    let png = render_parcel_card(&font, &card()).unwrap();
    println!("parcel card rendered in {:?} ({} bytes)", started.elapsed(), png.len());
    assert_eq!(dimensions(&png), (CARD_WIDTH, CARD_HEIGHT));
    assert_eq!((CARD_WIDTH, CARD_HEIGHT), (1240, 1748));
    let phys = chunk(&png, b"pHYs").expect("a pHYs chunk");
    // 11811 px/m on both axes, unit 1 = metre.
    assert_eq!(phys, [0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1]);
    assert_eq!(decode_all(&png), [URL]);
}

#[test]
fn same_input_gives_identical_bytes() {
    let font = font();
    assert_eq!(render_poster(&font, &poster()).unwrap(), render_poster(&font, &poster()).unwrap());
    assert_eq!(render_parcel_card(&font, &card()).unwrap(), render_parcel_card(&font, &card()).unwrap());
    assert_eq!(qr_png(URL, 6).unwrap(), qr_png(URL, 6).unwrap());
    assert_eq!(qr_svg(URL).unwrap(), qr_svg(URL).unwrap());
}

#[test]
fn font_covers_chinese_and_not_private_use() {
    let font = font();
    assert!(font.covers("拼团好物包裹卡"));
    assert!(font.covers("长按识别二维码 ¥39.90"));
    assert!(!font.covers("\u{E000}"));
}

#[test]
fn missing_font_error_names_the_package() {
    let err = CjkFont::load_first(&["/nonexistent/font.ttc".into()]).unwrap_err();
    let MediaError::FontUnavailable(why) = &err else {
        panic!("expected FontUnavailable, got {err:?}");
    };
    assert!(why.contains("/nonexistent/font.ttc"), "{why}");
    assert!(why.contains("fonts-wqy-microhei"), "{why}");
}

#[test]
fn files_that_cannot_draw_chinese_are_skipped_for_the_next_path() {
    let junk = std::env::temp_dir().join(format!("sharemall-media-junk-{}.ttf", std::process::id()));
    std::fs::write(&junk, b"this is not a font").unwrap();
    let mut paths = vec![junk.clone()];
    // DejaVu is a real font without Chinese glyphs; most Debian images have it.
    let dejavu = std::path::PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if dejavu.exists() {
        paths.push(dejavu);
    }
    let err = CjkFont::load_first(&paths).unwrap_err().to_string();
    assert!(err.contains("not a font"), "{err}");
    if paths.len() > 1 {
        assert!(err.contains("DejaVuSans.ttf: has no Chinese glyphs"), "{err}");
    }
    paths.extend(CjkFont::system_paths());
    let font = CjkFont::load_first(&paths).unwrap();
    assert!(font.covers("包裹卡"));
    std::fs::remove_file(junk).unwrap();
}
