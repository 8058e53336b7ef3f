//! Finding and reading a font that can draw Chinese.
//!
//! Fonts are read with skrifa: ab_glyph's parser, ttf-parser, is flagged unmaintained
//! (RUSTSEC-2026-0192) and the project's stack avoids it.

use std::fmt;
use std::path::{Path, PathBuf};

use skrifa::{DrawMemory, Font, GlyphId, PathSink, ScalerFont};

use crate::MediaError;

/// A font that can draw CJK text, loaded once and shared by every render.
#[derive(Clone)]
pub struct CjkFont {
    font: Font,
    path: PathBuf,
}

impl fmt::Debug for CjkFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CjkFont").field("path", &self.path).finish()
    }
}

/// A character every Chinese font has; a font without it is not the font we were looking for
/// (a Latin-only file at a CJK font's path would otherwise print every title as blanks).
const PROBE: char = '中';

impl CjkFont {
    /// Loads the first readable font among `paths` (TrueType/OpenType or a .ttc collection,
    /// face 0) that has Chinese glyphs.
    pub fn load_first(paths: &[PathBuf]) -> Result<CjkFont, MediaError> {
        let mut tried = Vec::new();
        for path in paths {
            match Self::load(path) {
                Ok(font) => return Ok(font),
                Err(why) => tried.push(format!("{}: {why}", path.display())),
            }
        }
        let tried = if tried.is_empty() { "no paths given".to_owned() } else { tried.join("; ") };
        Err(MediaError::FontUnavailable(format!("{tried} (on Debian/Ubuntu: apt-get install fonts-wqy-microhei)")))
    }

    fn load(path: &Path) -> Result<CjkFont, String> {
        let data = std::fs::read(path).map_err(|e| e.to_string())?;
        let font = Font::new(data, 0).ok_or("not a font this reader understands")?;
        let loaded = CjkFont { font, path: path.to_owned() };
        if loaded.glyph(PROBE).is_none() {
            return Err("has no Chinese glyphs".to_owned());
        }
        Ok(loaded)
    }

    /// Well-known system locations of a CJK font on Debian/Ubuntu, Fedora/Arch, Alpine and
    /// macOS, best first.
    pub fn system_paths() -> Vec<PathBuf> {
        [
            // Debian/Ubuntu: fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk,
            // fonts-droid-fallback, fonts-arphic-uming.
            "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
            "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
            "/usr/share/fonts/truetype/arphic/uming.ttc",
            // Fedora, Arch.
            "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
            "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
            "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
            // Alpine: font-wqy-zenhei, font-noto-cjk, font-droid-nonlatin.
            "/usr/share/fonts/wenquanyi/wqy-zenhei.ttc",
            "/usr/share/fonts/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/droid-nonlatin/DroidSansFallbackFull.ttf",
            "/usr/share/fonts/droid/DroidSansFallbackFull.ttf",
            // macOS.
            "/System/Library/Fonts/PingFang.ttc",
            "/System/Library/Fonts/STHeiti Medium.ttc",
            "/System/Library/Fonts/STHeiti Light.ttc",
            "/System/Library/Fonts/Hiragino Sans GB.ttc",
            "/Library/Fonts/Arial Unicode.ttf",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect()
    }

    /// True when the font has a real glyph (not .notdef) for every non-whitespace char.
    pub fn covers(&self, text: &str) -> bool {
        text.chars().filter(|c| !c.is_whitespace()).all(|c| self.glyph(c).is_some())
    }

    /// The file the font was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The glyph for `c`, or `None` where the font would draw .notdef.
    pub(crate) fn glyph(&self, c: char) -> Option<GlyphId> {
        self.font.charmap().map_unicode(c)
    }

    pub(crate) fn at_size(&self, px: f32) -> SizedFont {
        SizedFont { scaler: ScalerFont::unhinted(self.font.clone(), Some(px)), px }
    }
}

/// The font scaled to one pixel size.
pub(crate) struct SizedFont {
    scaler: ScalerFont,
    px: f32,
}

impl SizedFont {
    pub(crate) fn advance(&self, glyph: GlyphId) -> f32 {
        self.scaler.linear_glyph_metrics().h_advance(glyph)
    }

    /// Distance from the baseline to the top of the tallest glyphs, in pixels.
    pub(crate) fn ascent(&self) -> f32 {
        self.scaler.metrics().h_line().map_or(self.px * 0.88, |line| line.ascender)
    }

    /// The glyph's outline in pixels, y pointing up from the baseline; empty for blank glyphs.
    pub(crate) fn outline(&self, glyph: GlyphId) -> Vec<Segment> {
        let mut path = Recorder(Vec::new());
        if let Some(outline) = self.scaler.outline(glyph) {
            // A glyph that fails to draw is left blank rather than failing the whole poster.
            if outline.draw(DrawMemory::Scratch, &mut path).is_err() {
                path.0.clear();
            }
        }
        path.0
    }
}

/// One drawing command of a glyph outline; points are `(x, y)` in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Segment {
    Move((f32, f32)),
    Line((f32, f32)),
    Quad((f32, f32), (f32, f32)),
    Cubic((f32, f32), (f32, f32), (f32, f32)),
    Close,
}

struct Recorder(Vec<Segment>);

impl PathSink for Recorder {
    fn move_to(&mut self, x: f32, y: f32) {
        self.0.push(Segment::Move((x, y)));
    }

    fn line_to(&mut self, x: f32, y: f32) {
        self.0.push(Segment::Line((x, y)));
    }

    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        self.0.push(Segment::Quad((cx0, cy0), (x, y)));
    }

    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        self.0.push(Segment::Cubic((cx0, cy0), (cx1, cy1), (x, y)));
    }

    fn close(&mut self) {
        self.0.push(Segment::Close);
    }
}
