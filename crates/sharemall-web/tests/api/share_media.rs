//! A share's QR codes and poster, and parcel cards, over HTTP: every image is decoded the way a
//! phone camera would (rqrr) back to the share's exact link; a card's link, once scanned, binds
//! the scanner to the card's shop; unknown codes are `not_found` and feed the guessing throttle;
//! only a shop owner makes cards; without a font, posters and cards are `media_unavailable` while
//! QR codes keep working.

use std::time::Instant;

use serde_json::{Value, json};
use sharemall_web::pages::url_encode;

use crate::helpers::{Actor, TestApp, spawn_app, spawn_app_with};

/// An image response read whole.
struct Image {
    status: u16,
    content_type: String,
    cache_control: String,
    disposition: String,
    bytes: Vec<u8>,
}

async fn fetch(app: &TestApp, path: &str) -> Image {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (content_type, cache_control, disposition) = (header("content-type"), header("cache-control"), header("content-disposition"));
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap().to_vec();
    Image { status, content_type, cache_control, disposition, bytes }
}

/// A PNG that must be there, with the headers every share image carries.
async fn png(app: &TestApp, path: &str) -> Image {
    let image = fetch(app, path).await;
    assert_eq!(image.status, 200, "{path}: {}", String::from_utf8_lossy(&image.bytes));
    assert_eq!(image.content_type, "image/png", "{path}");
    assert_eq!(image.cache_control, "public, max-age=86400", "{path}");
    image
}

/// Width and height of a PNG, and every QR code found anywhere in it, decoded.
fn scan(png: &[u8]) -> ((u32, u32), Vec<String>) {
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png).expect("a PNG").to_luma8();
    let (w, h) = image.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| image.get_pixel(x as u32, y as u32).0[0]);
    let found = prepared.detect_grids().into_iter().map(|grid| grid.decode().expect("a readable QR code").1).collect();
    ((w, h), found)
}

/// An `application/x-www-form-urlencoded` body, as a browser posts a form.
fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", url_encode(v))).collect::<Vec<_>>().join("&")
}

async fn share(app: &TestApp, token: &str, body: Value) -> String {
    app.share_code(token, &body).await
}

async fn new_card(app: &TestApp, owner: &Actor, message: &str, offer: &str) -> Value {
    app.post("/shop/parcel-cards", Some(&owner.token), &json!({"message": message, "offer": offer})).await.ok().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_codes_decode_to_the_share_link() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    let code =
        share(&app, &f.customer.token, json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "qr"})).await;
    let link = format!("{}/s/{code}", app.address);

    let qr = png(&app, &format!("/api/v1/shares/{code}/qr.png")).await;
    assert_eq!(scan(&qr.bytes).1, [link.as_str()]);
    assert_eq!(qr.disposition, format!("inline; filename=\"qr-{code}.png\""));

    let svg = fetch(&app, &format!("/api/v1/shares/{code}/qr.svg")).await;
    assert_eq!((svg.status, svg.content_type.as_str()), (200, "image/svg+xml"));
    assert_eq!(svg.cache_control, "public, max-age=86400");
    let svg = String::from_utf8(svg.bytes).unwrap();
    assert!(svg.contains("<svg") && svg.contains("viewBox") && svg.trim_end().ends_with("</svg>"), "{svg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posters_are_750_by_1200_and_scan_to_the_share() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    let product_share =
        share(&app, &f.customer.token, json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "poster"})).await;
    let shop_share = share(&app, &f.shop.actor.token, json!({"shop_id": f.shop.shop_id, "channel": "poster"})).await;

    for code in [&product_share, &shop_share] {
        let started = Instant::now();
        let poster = png(&app, &format!("/api/v1/shares/{code}/poster.png")).await;
        println!("[{}] poster {code} served in {:?} ({} bytes)", app.backend, started.elapsed(), poster.bytes.len());
        assert_eq!(poster.disposition, format!("inline; filename=\"poster-{code}.png\""));
        let (size, found) = scan(&poster.bytes);
        assert_eq!(size, (750, 1200));
        assert_eq!(found, [format!("{}/s/{code}", app.address)]);
    }
    // Fetching media records no visit: only a scan does.
    assert_eq!(app.count("SELECT COUNT(*) FROM share_visits").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parcel_card_scans_to_its_share_and_binds_the_scanner() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    let owner = &f.shop.actor;

    let card = new_card(&app, owner, "  感谢您的支持！\n扫码加入会员，下次购物更优惠。 ", "扫码入会 领红包").await;
    let code = card["code"].as_str().unwrap().to_string();
    let link = format!("{}/s/{code}", app.address);
    assert_eq!(card["url"], link.as_str());
    assert_eq!(card["card_png"], format!("/api/v1/parcel-cards/{code}.png").as_str());
    assert_eq!(card["message"], "感谢您的支持！\n扫码加入会员，下次购物更优惠。", "stored trimmed");

    // The card is a share of the shop, by its owner, on the parcel-card channel.
    assert_eq!(app.count("SELECT COUNT(*) FROM shares WHERE channel = 'parcel_card' AND target_kind = 'shop'").await, 1);

    let started = Instant::now();
    let image = png(&app, card["card_png"].as_str().unwrap()).await;
    println!("[{}] parcel card served in {:?} ({} bytes)", app.backend, started.elapsed(), image.bytes.len());
    assert_eq!(image.disposition, format!("inline; filename=\"parcel-card-{code}.png\""));
    let (size, found) = scan(&image.bytes);
    assert_eq!(size, (1240, 1748));
    assert_eq!(found, [link.as_str()]);
    let download = png(&app, &format!("/api/v1/parcel-cards/{code}.png?download=1")).await;
    assert_eq!(download.disposition, format!("attachment; filename=\"parcel-card-{code}.png\""));

    // A buyer scans the card: the visit is recorded and they are bound to the card's shop.
    let scanned = app.client.get(&link).header("user-agent", "Mozilla/5.0 (iPhone) MicroMessenger/8.0").send().await.unwrap();
    assert_eq!(scanned.status().as_u16(), 303);
    assert_eq!(scanned.headers()["location"].to_str().unwrap(), format!("/shops/{}", f.shop.shop_id));
    let shop_id = f.shop.shop_id.clone();
    let bindings = app
        .app
        .store
        .read(move |sql| {
            sql.query_i64(
                "SELECT COUNT(*) FROM customer_bindings WHERE visitor LIKE 'a:%' AND shop_id = $1 AND share_code = $2",
                sharemall_store::params![shop_id.as_str(), code.as_str()],
            )
        })
        .await
        .unwrap();
    assert_eq!(bindings, 1, "the scanner is bound to the card's shop through the card");

    // The owner's list has the card, newest first.
    app.advance_ms(1);
    let second = new_card(&app, owner, "谢谢惠顾", "领 5 元红包").await;
    let listed = app.get("/shop/parcel-cards", Some(&owner.token)).await;
    let listed = listed.ok().as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["code"], second["code"]);
    assert_eq!(listed[1]["code"], card["code"]);
    assert_eq!(listed[1]["offer"], "扫码入会 领红包");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_codes_are_not_found_and_bad_cards_are_refused() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    for path in [
        "/shares/AAAAAAAAAAAA/qr.png",
        "/shares/AAAAAAAAAAAA/qr.svg",
        "/shares/AAAAAAAAAAAA/poster.png",
        "/shares/not-a-code/poster.png",
        "/parcel-cards/AAAAAAAAAAAA.png",
        "/parcel-cards/AAAAAAAAAAAA",
    ] {
        app.get(path, None).await.assert_error(404, "not_found");
    }
    // A share that is not a card has no card.
    let plain = share(&app, &f.customer.token, json!({"shop_id": f.shop.shop_id, "channel": "parcel_card"})).await;
    app.get(&format!("/parcel-cards/{plain}.png"), None).await.assert_error(404, "not_found");

    let owner = Some(f.shop.actor.token.as_str());
    let post = |token: Option<&str>, body: Value| {
        let (app, token) = (&app, token.map(str::to_string));
        async move { app.post("/shop/parcel-cards", token.as_deref(), &body).await }
    };
    let offer = "扫码入会 领红包";
    post(owner, json!({"message": "", "offer": offer})).await.assert_error(422, "invalid_input");
    post(owner, json!({"message": "   ", "offer": offer})).await.assert_error(422, "invalid_input");
    post(owner, json!({"message": "谢".repeat(81), "offer": offer})).await.assert_error(422, "invalid_input");
    post(owner, json!({"message": "谢谢", "offer": "领".repeat(25)})).await.assert_error(422, "invalid_input");
    post(owner, json!({"message": "谢谢", "offer": "扫码\n入会"})).await.assert_error(422, "invalid_input");
    post(owner, json!({"message": "谢谢", "offer": offer, "shop_id": f.shop.shop_id})).await.assert_error(422, "unknown_field");
    // Limits count characters, not bytes: 80 Chinese characters (240 bytes) and 24 are fine.
    post(owner, json!({"message": "谢".repeat(80), "offer": "领".repeat(24)})).await.ok();

    post(Some(&f.customer.token), json!({"message": "谢谢", "offer": offer})).await.assert_error(403, "forbidden");
    post(None, json!({"message": "谢谢", "offer": offer})).await.assert_error(401, "unauthenticated");
    app.get("/shop/parcel-cards", Some(&f.customer.token)).await.assert_error(403, "forbidden");
    assert_eq!(app.count("SELECT COUNT(*) FROM parcel_cards").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM shares WHERE channel = 'parcel_card'").await, 2, "the plain share and one card");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_codes_through_media_urls_is_throttled() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    let code = share(&app, &f.customer.token, json!({"shop_id": f.shop.shop_id, "channel": "qr"})).await;
    let mut refused = 0;
    for i in 0..40 {
        let guess = format!("{i:0>12}");
        let path = if i % 2 == 0 { format!("/shares/{guess}/qr.svg") } else { format!("/parcel-cards/{guess}.png") };
        let resp = app.get(&path, None).await;
        if resp.status == 429 {
            assert_eq!(resp.code(), "rate_limited");
            refused += 1;
        } else {
            resp.assert_error(404, "not_found");
        }
    }
    assert_eq!(refused, 10, "30 misses are allowed, the rest refused");
    // The same throttle guards every share lookup from that address, real codes included.
    app.get(&format!("/shares/{code}/qr.png"), None).await.assert_error(429, "rate_limited");
    app.post("/shares/resolve", None, &json!({"text": format!("￥{code}￥")})).await.assert_error(429, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_font_posters_and_cards_are_unavailable_but_qr_codes_work() {
    let app = spawn_app_with(|config| config.font_paths = vec!["/nonexistent/sharemall-test-font.ttc".into()]).await;
    let f = app.fixture(3_990, 10).await;
    let code =
        share(&app, &f.customer.token, json!({"shop_id": f.shop.shop_id, "product_id": f.product.product_id, "channel": "qr"})).await;
    app.get(&format!("/shares/{code}/poster.png"), None).await.assert_error(503, "media_unavailable");

    // A card can still be made (it is data); only its image waits for a font.
    let card = new_card(&app, &f.shop.actor, "谢谢惠顾", "扫码入会 领红包").await;
    app.get(&format!("/parcel-cards/{}.png", card["code"].as_str().unwrap()), None).await.assert_error(503, "media_unavailable");

    let qr = png(&app, &format!("/api/v1/shares/{code}/qr.png")).await;
    assert_eq!(scan(&qr.bytes).1, [format!("{}/s/{code}", app.address)]);
    let page = app.client.get(app.url("/console/shop/card")).bearer_auth(&f.shop.actor.token).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("id=\"card-unavailable\""), "the designer page says why there is no image");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_designs_previews_and_lists_cards() {
    let app = spawn_app().await;
    let f = app.fixture(3_990, 10).await;
    let owner = &f.shop.actor.token;
    let page = |path: String, token: String| {
        let app = &app;
        async move {
            let response = app.client.get(app.url(&path)).bearer_auth(token).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (status, console) = page("/console/shop".into(), owner.clone()).await;
    assert_eq!(status, 200);
    assert!(console.contains("href=\"/console/shop/card\""), "the shop console links to the card designer");
    let (status, empty) = page("/console/shop/card".into(), owner.clone()).await;
    assert_eq!(status, 200);
    assert!(
        empty.contains("感谢您的支持！扫码加入会员，下次购物更优惠。") && empty.contains("value=\"扫码入会 领红包\""),
        "defaults filled in"
    );
    assert!(!empty.contains("id=\"card-preview\""));

    let created = app
        .client
        .post(app.url("/console/shop/card"))
        .bearer_auth(owner)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("message", "草莓今早现摘，收到请冷藏。"), ("offer", "扫码入会 领 5 元红包")]))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let code = location.strip_prefix("/console/shop/card?card=").expect("back to the designer with the card").to_string();
    assert_eq!(code.len(), 12);

    let (status, preview) = page(location, owner.clone()).await;
    assert_eq!(status, 200);
    assert!(preview.contains(&format!("<img id=\"card-preview\" src=\"/api/v1/parcel-cards/{code}.png\"")), "{preview}");
    assert!(preview.contains(&format!("id=\"card-download\" href=\"/api/v1/parcel-cards/{code}.png?download=1\"")), "{preview}");
    assert!(preview.contains("id=\"card-print\"") && preview.contains("@page { size: A6"));
    assert!(preview.contains("草莓今早现摘，收到请冷藏。") && preview.contains(&format!("?card={code}")), "the card is listed");
    png(&app, &format!("/api/v1/parcel-cards/{code}.png")).await;

    // Bad words come back as a page with the reason, and make nothing.
    let refused = app
        .client
        .post(app.url("/console/shop/card"))
        .bearer_auth(owner)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("message", ""), ("offer", "扫码入会")]))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    // A customer without a shop has no designer.
    let (status, _) = page("/console/shop/card".into(), f.customer.token.clone()).await;
    assert_eq!(status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM parcel_cards").await, 1);
}
