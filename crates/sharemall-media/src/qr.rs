//! QR codes for share links, as SVG, as PNG, and painted onto a poster or card.

use qrcode::{Color, EcLevel, QrCode};

use crate::MediaError;
use crate::canvas::{Canvas, Rgb};

/// Longest URL put in a QR code. Longer links make dense codes that phone cameras struggle
/// with on a small poster; share links are far shorter.
pub const MAX_URL_BYTES: usize = 512;

/// Light modules around the code that scanners need to find it.
const QUIET_MODULES: u32 = 4;

/// Level M survives about 15% damage, enough for a screen or a printed card, while keeping the
/// modules large.
const EC_LEVEL: EcLevel = EcLevel::M;

/// The module matrix of a URL's QR code, without the quiet zone.
struct Matrix {
    width: u32,
    dark: Vec<bool>,
}

impl Matrix {
    fn encode(url: &str) -> Result<(QrCode, Matrix), MediaError> {
        if url.len() > MAX_URL_BYTES {
            return Err(MediaError::TooLong("url"));
        }
        let code = QrCode::with_error_correction_level(url.as_bytes(), EC_LEVEL).map_err(|e| MediaError::Qr(e.to_string()))?;
        let matrix = Matrix { width: code.width() as u32, dark: code.to_colors().into_iter().map(|c| c == Color::Dark).collect() };
        Ok((code, matrix))
    }

    /// Modules across, quiet zone included.
    fn span(&self) -> u32 {
        self.width + 2 * QUIET_MODULES
    }
}

/// A standalone SVG of the URL's QR code with a quiet zone; it has a `viewBox`, so it scales
/// to any size, and `shape-rendering="crispEdges"` keeps module edges sharp.
pub fn qr_svg(url: &str) -> Result<String, MediaError> {
    let (code, _) = Matrix::encode(url)?;
    Ok(code.render::<qrcode::render::svg::Color>().quiet_zone(true).module_dimensions(8, 8).build())
}

/// A PNG of the URL's QR code, `module_px` pixels per module (clamped to 1..=32) with a
/// 4-module quiet zone.
pub fn qr_png(url: &str, module_px: u32) -> Result<Vec<u8>, MediaError> {
    let (_, matrix) = Matrix::encode(url)?;
    let module = module_px.clamp(1, 32);
    let side = matrix.span() * module;
    let mut canvas = Canvas::new(side, side, Rgb::WHITE);
    paint(&mut canvas, &matrix, 0, 0, module);
    canvas.encode_png(None)
}

/// Paints the URL's QR code, quiet zone included, about `target_px` wide, centred on `cx`
/// with its top at `top`. Modules are whole pixels so every edge is sharp; the side actually
/// drawn is returned so callers can put a caption under it.
pub(crate) fn draw_qr(canvas: &mut Canvas, url: &str, cx: i64, top: i64, target_px: u32) -> Result<u32, MediaError> {
    let (_, matrix) = Matrix::encode(url)?;
    let module = ((target_px as f32 / matrix.span() as f32).round() as u32).max(1);
    let side = matrix.span() * module;
    paint(canvas, &matrix, cx - i64::from(side / 2), top, module);
    Ok(side)
}

fn paint(canvas: &mut Canvas, matrix: &Matrix, x: i64, y: i64, module: u32) {
    let side = matrix.span() * module;
    canvas.fill_rect(x, y, side, side, Rgb::WHITE);
    let origin = i64::from(QUIET_MODULES * module);
    for (i, dark) in matrix.dark.iter().enumerate() {
        if *dark {
            let col = i as u32 % matrix.width;
            let row = i as u32 / matrix.width;
            canvas.fill_rect(x + origin + i64::from(col * module), y + origin + i64::from(row * module), module, module, Rgb::BLACK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_size_is_clamped() {
        let url = "https://mall.example/s/x";
        let (_, matrix) = Matrix::encode(url).unwrap();
        let side = |png: Vec<u8>| u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        assert_eq!(side(qr_png(url, 0).unwrap()), matrix.span());
        assert_eq!(side(qr_png(url, 1000).unwrap()), matrix.span() * 32);
    }

    #[test]
    fn url_at_the_limit_is_accepted() {
        let url = format!("https://mall.example/s/{}", "a".repeat(MAX_URL_BYTES - 23));
        assert_eq!(url.len(), MAX_URL_BYTES);
        assert!(qr_svg(&url).is_ok());
    }

    #[test]
    fn drawn_code_is_near_its_target_with_whole_pixel_modules() {
        let mut canvas = Canvas::new(300, 300, Rgb(200, 0, 0));
        let side = draw_qr(&mut canvas, "https://mall.example/s/x", 150, 20, 220).unwrap();
        assert!((190..=250).contains(&side), "{side}");
        // Every pixel inside the code is pure black or pure white: no blending at module edges.
        let left = 150 - side / 2;
        for y in 20..20 + side {
            for x in left..left + side {
                let p = canvas.pixel(x, y);
                assert!(p == Rgb::BLACK || p == Rgb::WHITE, "({x},{y}) is {p:?}");
            }
        }
        assert_eq!(canvas.pixel(left - 1, 20), Rgb(200, 0, 0));
    }
}
