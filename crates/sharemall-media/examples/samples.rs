//! Writes a sample poster, parcel card and QR code to a folder, to look at or test-print:
//! `cargo run -p sharemall-media --example samples -- /tmp/media-samples`

use std::error::Error;
use std::path::PathBuf;

use sharemall_media::{CjkFont, ParcelCard, Poster, qr_png, qr_svg, render_parcel_card, render_poster};

fn main() -> Result<(), Box<dyn Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "media-samples".into()));
    std::fs::create_dir_all(&out)?;
    let font = CjkFont::load_first(&CjkFont::system_paths())?;
    let url = "https://mall.example/s/Ab3dE5fG7hJ9";
    let poster = Poster {
        title: "云南高山新鲜大果草莓 当季现摘 礼盒装 顺丰冷链包邮 坏果包赔 Premium Strawberry",
        price: "¥39.90",
        shop_name: "小美的水果铺",
        sharer_line: "小美 推荐给你",
        hue: 350,
        url,
        hint: "长按识别二维码",
    };
    std::fs::write(out.join("poster.png"), render_poster(&font, &poster)?)?;
    let card = ParcelCard {
        shop_name: "小美的水果铺",
        message: "感谢您选择小美的水果铺！每一颗草莓都是今早现摘的，收到后请尽快冷藏，两天内吃完最甜。如有坏果请拍照联系客服，我们包赔。",
        offer: "扫码入会 领 5 元红包",
        url,
        hue: 140,
    };
    std::fs::write(out.join("parcel-card.png"), render_parcel_card(&font, &card)?)?;
    std::fs::write(out.join("qr.png"), qr_png(url, 8)?)?;
    std::fs::write(out.join("qr.svg"), qr_svg(url)?)?;
    println!("wrote samples to {} using {}", out.display(), font.path().display());
    Ok(())
}
