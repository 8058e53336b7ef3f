//! An opaque RGB raster with the few shapes the poster and card need, and PNG output.
//!
//! Shapes are anti-aliased by computing each pixel's coverage analytically; QR modules use
//! [`Canvas::fill_rect`], which is exact on the pixel grid so scanners see hard edges.

use crate::MediaError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub(crate) const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
    pub(crate) const BLACK: Rgb = Rgb(0x00, 0x00, 0x00);

    /// Colour from hue (degrees), saturation and lightness (0..=1).
    pub(crate) fn hsl(hue: u16, saturation: f32, lightness: f32) -> Rgb {
        let h = f32::from(hue % 360) / 60.0;
        let s = saturation.clamp(0.0, 1.0);
        let l = lightness.clamp(0.0, 1.0);
        let chroma = (1.0 - (2.0 * l - 1.0).abs()) * s;
        let x = chroma * (1.0 - (h % 2.0 - 1.0).abs());
        let (r, g, b) = match h as u32 {
            0 => (chroma, x, 0.0),
            1 => (x, chroma, 0.0),
            2 => (0.0, chroma, x),
            3 => (0.0, x, chroma),
            4 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        let m = l - chroma / 2.0;
        Rgb(to_u8(r + m), to_u8(g + m), to_u8(b + m))
    }

    pub(crate) fn mix(self, other: Rgb, t: f32) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let lerp = |a: u8, b: u8| to_u8((f32::from(a) * (1.0 - t) + f32::from(b) * t) / 255.0);
        Rgb(lerp(self.0, other.0), lerp(self.1, other.1), lerp(self.2, other.2))
    }
}

fn to_u8(unit: f32) -> u8 {
    (unit.clamp(0.0, 1.0) * 255.0).round() as u8
}

pub(crate) struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(width: u32, height: u32, background: Rgb) -> Canvas {
        let pixels = width as usize * height as usize;
        let mut rgb = Vec::with_capacity(pixels * 3);
        for _ in 0..pixels {
            rgb.extend_from_slice(&[background.0, background.1, background.2]);
        }
        Canvas { width, height, rgb }
    }

    #[cfg(test)]
    pub(crate) fn pixel(&self, x: u32, y: u32) -> Rgb {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        Rgb(self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
    }

    /// Paints `colour` over the pixel with opacity `alpha`; pixels off the canvas are ignored so
    /// callers can draw shapes that overhang the edge.
    pub(crate) fn blend(&mut self, x: i64, y: i64, colour: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let a = alpha.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        for (channel, src) in [colour.0, colour.1, colour.2].into_iter().enumerate() {
            let dst = f32::from(self.rgb[i + channel]);
            self.rgb[i + channel] = (f32::from(src) * a + dst * (1.0 - a)).round() as u8;
        }
    }

    /// Opaque axis-aligned rectangle on whole pixels, clipped to the canvas.
    pub(crate) fn fill_rect(&mut self, x: i64, y: i64, w: u32, h: u32, colour: Rgb) {
        let x0 = x.clamp(0, i64::from(self.width)) as usize;
        let x1 = (x + i64::from(w)).clamp(0, i64::from(self.width)) as usize;
        let y0 = y.clamp(0, i64::from(self.height)) as usize;
        let y1 = (y + i64::from(h)).clamp(0, i64::from(self.height)) as usize;
        for row in y0..y1 {
            let start = (row * self.width as usize + x0) * 3;
            let end = (row * self.width as usize + x1) * 3;
            for px in self.rgb[start..end].chunks_exact_mut(3) {
                px.copy_from_slice(&[colour.0, colour.1, colour.2]);
            }
        }
    }

    /// Rounded rectangle filled with a vertical gradient from `top` to `bottom`.
    pub(crate) fn fill_rounded_gradient(&mut self, rect: Rect, radius: f32, top: Rgb, bottom: Rgb, alpha: f32) {
        let span = (rect.h - 1.0).max(1.0);
        self.fill_coverage(rect.x, rect.y, rect.w, rect.h, |px, py| {
            let coverage = rounded_rect_coverage(rect, radius, px, py);
            let t = (py - rect.y) / span;
            (coverage * alpha, top.mix(bottom, t))
        });
    }

    pub(crate) fn fill_rounded_rect(&mut self, rect: Rect, radius: f32, colour: Rgb, alpha: f32) {
        self.fill_rounded_gradient(rect, radius, colour, colour, alpha);
    }

    pub(crate) fn fill_circle(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb, alpha: f32) {
        self.fill_coverage(cx - r, cy - r, 2.0 * r, 2.0 * r, |px, py| {
            let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            ((r - d + 0.5).clamp(0.0, 1.0) * alpha, colour)
        });
    }

    /// Repaints everything in `region` that lies outside the rounded rectangle `keep` with
    /// `background`, anti-aliased along the edge. Lets decorations overhang a panel while they
    /// are drawn and be trimmed to its rounded corners afterwards.
    pub(crate) fn clip_to_rounded(&mut self, keep: Rect, radius: f32, region: Rect, background: Rgb) {
        self.fill_coverage(region.x, region.y, region.w, region.h, |px, py| {
            (1.0 - rounded_rect_coverage(keep, radius, px, py), background)
        });
    }

    /// Dashed outline just inside `rect`, the kind of line people cut along with scissors.
    pub(crate) fn dashed_rect(&mut self, rect: Rect, thickness: u32, dash: u32, gap: u32, c: Rgb) {
        let (x0, y0) = (rect.x as i64, rect.y as i64);
        let (w, h) = (rect.w as i64, rect.h as i64);
        let t = i64::from(thickness);
        let period = i64::from(dash + gap).max(1);
        let mut along = 0;
        while along < w {
            let len = i64::from(dash).min(w - along) as u32;
            self.fill_rect(x0 + along, y0, len, thickness, c);
            self.fill_rect(x0 + along, y0 + h - t, len, thickness, c);
            along += period;
        }
        along = 0;
        while along < h {
            let len = i64::from(dash).min(h - along) as u32;
            self.fill_rect(x0, y0 + along, thickness, len, c);
            self.fill_rect(x0 + w - t, y0 + along, thickness, len, c);
            along += period;
        }
    }

    /// Visits every pixel whose centre may fall in the box and blends the colour the closure
    /// returns with the coverage it returns.
    fn fill_coverage(&mut self, x: f32, y: f32, w: f32, h: f32, mut shade: impl FnMut(f32, f32) -> (f32, Rgb)) {
        let x0 = (x.floor() as i64).max(0);
        let y0 = (y.floor() as i64).max(0);
        let x1 = ((x + w).ceil() as i64).min(i64::from(self.width));
        let y1 = ((y + h).ceil() as i64).min(i64::from(self.height));
        for py in y0..y1 {
            for px in x0..x1 {
                let (coverage, colour) = shade(px as f32 + 0.5, py as f32 + 0.5);
                self.blend(px, py, colour, coverage);
            }
        }
    }

    /// PNG bytes; `pixels_per_metre` adds a pHYs chunk so printers know the physical size.
    pub(crate) fn encode_png(&self, pixels_per_metre: Option<u32>) -> Result<Vec<u8>, MediaError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_pixel_dims(pixels_per_metre.map(|ppm| png::PixelDimensions { xppu: ppm, yppu: ppm, unit: png::Unit::Meter }));
        let encode = |e: png::EncodingError| MediaError::Encode(e.to_string());
        let mut writer = encoder.write_header().map_err(encode)?;
        writer.write_image_data(&self.rgb).map_err(encode)?;
        writer.finish().map_err(encode)?;
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub(crate) fn new(x: f32, y: f32, w: f32, h: f32) -> Rect {
        Rect { x, y, w, h }
    }
}

fn rounded_rect_coverage(rect: Rect, radius: f32, px: f32, py: f32) -> f32 {
    let r = radius.min(rect.w / 2.0).min(rect.h / 2.0).max(0.0);
    // Distance from the pixel centre to the inner rectangle that the corner arcs are centred on.
    let dx = (rect.x + r - px).max(px - (rect.x + rect.w - r)).max(0.0);
    let dy = (rect.y + r - py).max(py - (rect.y + rect.h - r)).max(0.0);
    let edge_x = (px - rect.x).min(rect.x + rect.w - px) + 0.5;
    let edge_y = (py - rect.y).min(rect.y + rect.h - py) + 0.5;
    let straight = edge_x.min(edge_y).clamp(0.0, 1.0);
    if dx > 0.0 && dy > 0.0 {
        let d = (dx * dx + dy * dy).sqrt();
        (r - d + 0.5).clamp(0.0, 1.0).min(straight)
    } else {
        straight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsl_hits_the_primaries_and_greys() {
        assert_eq!(Rgb::hsl(0, 1.0, 0.5), Rgb(255, 0, 0));
        assert_eq!(Rgb::hsl(120, 1.0, 0.5), Rgb(0, 255, 0));
        assert_eq!(Rgb::hsl(240, 1.0, 0.5), Rgb(0, 0, 255));
        assert_eq!(Rgb::hsl(360, 1.0, 0.5), Rgb(255, 0, 0));
        assert_eq!(Rgb::hsl(77, 0.0, 1.0), Rgb::WHITE);
    }

    #[test]
    fn fill_rect_is_exact_and_clipped() {
        let mut c = Canvas::new(10, 10, Rgb::WHITE);
        c.fill_rect(-2, 8, 4, 5, Rgb::BLACK);
        assert_eq!(c.pixel(0, 8), Rgb::BLACK);
        assert_eq!(c.pixel(1, 9), Rgb::BLACK);
        assert_eq!(c.pixel(2, 9), Rgb::WHITE);
        assert_eq!(c.pixel(0, 7), Rgb::WHITE);
    }

    #[test]
    fn rounded_rect_leaves_its_corners_alone() {
        let mut c = Canvas::new(40, 40, Rgb::WHITE);
        c.fill_rounded_rect(Rect::new(0.0, 0.0, 40.0, 40.0), 12.0, Rgb::BLACK, 1.0);
        assert_eq!(c.pixel(0, 0), Rgb::WHITE);
        assert_eq!(c.pixel(20, 20), Rgb::BLACK);
        assert_eq!(c.pixel(20, 0), Rgb::BLACK);
    }

    #[test]
    fn clipping_trims_overhang_to_the_rounded_corner() {
        let mut c = Canvas::new(60, 60, Rgb::WHITE);
        let panel = Rect::new(10.0, 10.0, 40.0, 40.0);
        c.fill_rounded_gradient(panel, 0.0, Rgb::BLACK, Rgb::BLACK, 1.0);
        c.fill_circle(50.0, 10.0, 15.0, Rgb(255, 0, 0), 1.0);
        c.clip_to_rounded(panel, 12.0, Rect::new(0.0, 0.0, 60.0, 60.0), Rgb::WHITE);
        assert_eq!(c.pixel(49, 10), Rgb::WHITE, "outside the rounded corner");
        assert_eq!(c.pixel(58, 10), Rgb::WHITE, "outside the panel");
        assert_eq!(c.pixel(45, 16), Rgb(255, 0, 0), "inside both");
        assert_eq!(c.pixel(20, 40), Rgb::BLACK);
    }

    #[test]
    fn png_carries_phys_only_when_asked() {
        let c = Canvas::new(3, 2, Rgb::WHITE);
        let with = c.encode_png(Some(11811)).unwrap();
        let without = c.encode_png(None).unwrap();
        let needle = b"pHYs";
        assert!(with.windows(4).any(|w| w == needle));
        assert!(!without.windows(4).any(|w| w == needle));
    }
}
