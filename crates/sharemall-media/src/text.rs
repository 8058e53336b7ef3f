//! Text layout: measuring, wrapping, cutting with "…", and drawing glyph coverage.
//!
//! There is no shaping: Chinese needs none, and the Latin that appears in product titles
//! (brand names, model numbers) reads fine with plain advances.

use ab_glyph_rasterizer::{Point, Rasterizer, point};

use crate::canvas::{Canvas, Rgb};
use crate::font::{CjkFont, Segment, SizedFont};

const ELLIPSIS: &str = "…";

/// Punctuation that may not begin a line (it hangs on the previous character instead).
const NO_LINE_START: &str = "，。、！？；：）》」』】〕〉…—～·%,.!?;:)]}’”";
/// Punctuation that may not end a line (it moves down with the next character).
const NO_LINE_END: &str = "（《「『【〔〈([{‘“¥￥$";

/// The font at one size, with everything needed to lay out and draw a line.
pub(crate) struct Face<'f> {
    font: &'f CjkFont,
    sized: SizedFont,
    space: f32,
}

impl<'f> Face<'f> {
    pub(crate) fn new(font: &'f CjkFont, px: f32) -> Face<'f> {
        let sized = font.at_size(px);
        let space = font.glyph(' ').map_or(px * 0.3, |g| sized.advance(g));
        Face { font, sized, space }
    }

    pub(crate) fn ascent(&self) -> f32 {
        self.sized.ascent()
    }

    /// `text` with whitespace runs made single spaces and the characters the font can't draw
    /// removed, so that measuring, wrapping and drawing all see the same string.
    pub(crate) fn printable(&self, text: &str, keep_newlines: bool) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if keep_newlines && c == '\n' {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push('\n');
            } else if c.is_whitespace() || c.is_control() {
                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            } else if self.font.glyph(c).is_some() {
                out.push(c);
            }
        }
        out.trim().to_owned()
    }

    pub(crate) fn width(&self, text: &str) -> f32 {
        text.chars()
            .map(|c| match self.font.glyph(c) {
                _ if c.is_whitespace() => self.space,
                Some(g) => self.sized.advance(g),
                None => 0.0,
            })
            .sum()
    }

    /// Lays `text` out in lines no wider than `max_width`; past `max_lines` the text is cut and
    /// the last line ends with "…".
    pub(crate) fn wrap(&self, text: &str, max_width: f32, max_lines: usize) -> Vec<String> {
        let text = self.printable(text, true);
        let ellipsis = if self.font.covers(ELLIPSIS) { ELLIPSIS } else { "..." };
        wrap_with(&text, max_width, max_lines, ellipsis, |s| self.width(s))
    }

    /// One line of `text`, cut with "…" when it doesn't fit.
    pub(crate) fn fit(&self, text: &str, max_width: f32) -> String {
        self.wrap(&text.replace('\n', " "), max_width, 1).into_iter().next().unwrap_or_default()
    }

    /// Draws one line with its left edge at `x` and its baseline at `baseline`.
    pub(crate) fn draw(&self, canvas: &mut Canvas, text: &str, x: f32, baseline: f32, colour: Rgb, alpha: f32) {
        let mut pen = x;
        for c in text.chars() {
            if c.is_whitespace() {
                pen += self.space;
                continue;
            }
            let Some(glyph) = self.font.glyph(c) else {
                continue;
            };
            if let Some(coverage) = rasterize(&self.sized.outline(glyph), pen, baseline) {
                coverage.paint(canvas, colour, alpha);
            }
            pen += self.sized.advance(glyph);
        }
    }

    /// Draws one line centred in the span `x .. x + width`.
    pub(crate) fn draw_centred(&self, canvas: &mut Canvas, text: &str, (x, width): (f32, f32), baseline: f32, colour: Rgb) {
        let left = x + ((width - self.width(text)) / 2.0).max(0.0);
        self.draw(canvas, text, left, baseline, colour, 1.0);
    }

    /// Draws the character with the centre of its ink at `(cx, cy)`, for decorative initials
    /// where the visual centre matters more than the baseline.
    pub(crate) fn draw_centred_char(&self, canvas: &mut Canvas, c: char, cx: f32, cy: f32, colour: Rgb, alpha: f32) {
        let Some(glyph) = self.font.glyph(c) else {
            return;
        };
        let outline = self.sized.outline(glyph);
        let Some((min, max)) = bounds(&outline) else {
            return;
        };
        let origin_x = cx - (min.0 + max.0) / 2.0;
        let baseline = cy + (min.1 + max.1) / 2.0;
        if let Some(coverage) = rasterize(&outline, origin_x, baseline) {
            coverage.paint(canvas, colour, alpha);
        }
    }
}

/// Coverage of one glyph placed on the canvas: `alpha[row * w + col]` for the pixel at
/// `(x + col, y + row)`.
pub(crate) struct Coverage {
    pub x: i64,
    pub y: i64,
    pub w: usize,
    pub alpha: Vec<f32>,
}

impl Coverage {
    fn paint(&self, canvas: &mut Canvas, colour: Rgb, alpha: f32) {
        for (i, a) in self.alpha.iter().enumerate() {
            if *a > 0.0 {
                let col = (i % self.w) as i64;
                let row = (i / self.w) as i64;
                canvas.blend(self.x + col, self.y + row, colour, a * alpha);
            }
        }
    }
}

/// The glyph `c` maps to, or .notdef where the font has none: lets tests see what a missing
/// character would look like if it were drawn.
#[cfg(test)]
pub(crate) fn glyph_coverage(font: &CjkFont, c: char, px: f32) -> Option<Coverage> {
    let glyph = font.glyph(c).unwrap_or(skrifa::GlyphId::NOTDEF);
    rasterize(&font.at_size(px).outline(glyph), 0.0, px)
}

fn bounds(outline: &[Segment]) -> Option<((f32, f32), (f32, f32))> {
    let mut points = outline.iter().flat_map(|s| {
        let pts: [Option<(f32, f32)>; 3] = match *s {
            Segment::Move(p) | Segment::Line(p) => [Some(p), None, None],
            Segment::Quad(c, p) => [Some(c), Some(p), None],
            Segment::Cubic(c0, c1, p) => [Some(c0), Some(c1), Some(p)],
            Segment::Close => [None, None, None],
        };
        pts.into_iter().flatten()
    });
    let first = points.next()?;
    Some(points.fold((first, first), |(min, max), p| ((min.0.min(p.0), min.1.min(p.1)), (max.0.max(p.0), max.1.max(p.1)))))
}

/// Rasterises an outline whose origin sits at `(origin_x, baseline)` on the canvas. Control
/// points bound the curves, so their box is a safe raster size.
fn rasterize(outline: &[Segment], origin_x: f32, baseline: f32) -> Option<Coverage> {
    let (min, max) = bounds(outline)?;
    let x0 = (origin_x + min.0).floor();
    let y0 = (baseline - max.1).floor();
    let w = ((origin_x + max.0).ceil() - x0) as usize + 1;
    let h = ((baseline - min.1).ceil() - y0) as usize + 1;
    // Font outlines are y-up around the origin; the canvas is y-down from its corner.
    let at = |(x, y): (f32, f32)| point(origin_x + x - x0, baseline - y - y0);

    let mut raster = Rasterizer::new(w, h);
    let mut start: Point = point(0.0, 0.0);
    let mut current = start;
    let mut open = false;
    for segment in outline {
        match *segment {
            Segment::Move(p) => {
                // Rasterising by winding needs every contour closed, even if the font left it open.
                if open && current != start {
                    raster.draw_line(current, start);
                }
                start = at(p);
                current = start;
                open = true;
            }
            Segment::Line(p) => {
                let p = at(p);
                raster.draw_line(current, p);
                current = p;
            }
            Segment::Quad(c, p) => {
                let p = at(p);
                raster.draw_quad(current, at(c), p);
                current = p;
            }
            Segment::Cubic(c0, c1, p) => {
                let p = at(p);
                raster.draw_cubic(current, at(c0), at(c1), p);
                current = p;
            }
            Segment::Close => {
                if current != start {
                    raster.draw_line(current, start);
                }
                current = start;
                open = false;
            }
        }
    }
    if open && current != start {
        raster.draw_line(current, start);
    }
    let mut alpha = vec![0.0; w * h];
    raster.for_each_pixel(|i, a| alpha[i] = a.min(1.0));
    Some(Coverage { x: x0 as i64, y: y0 as i64, w, alpha })
}

/// Characters that break anywhere: Han, kana, Hangul, CJK punctuation and fullwidth forms.
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x1100..=0x11FF
            | 0x2E80..=0x2FFF
            | 0x3000..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7AF
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFFEF
            | 0x20000..=0x3FFFF
    )
}

/// A piece of text that is never split across lines if it can be helped.
#[derive(Debug)]
struct Atom {
    text: String,
    space_before: bool,
}

/// Splits a paragraph into break opportunities: each CJK character on its own, each run of
/// other non-space characters (a Latin word, a number, a price) whole, with punctuation glued
/// to its neighbour so that no line starts with "，" or ends with "（".
fn atoms(paragraph: &str) -> Vec<Atom> {
    let mut atoms: Vec<Atom> = Vec::new();
    let mut pending_space = false;
    let mut in_word = false;
    for c in paragraph.chars() {
        if c.is_whitespace() {
            pending_space = true;
            in_word = false;
            continue;
        }
        let glue = match atoms.last() {
            Some(last) if !pending_space => {
                NO_LINE_START.contains(c) || last.text.ends_with(|e| NO_LINE_END.contains(e)) || (in_word && !is_cjk(c))
            }
            _ => false,
        };
        match atoms.last_mut() {
            Some(last) if glue => last.text.push(c),
            _ => atoms.push(Atom { text: c.to_string(), space_before: pending_space }),
        }
        in_word = !is_cjk(c);
        pending_space = false;
    }
    atoms
}

/// Greedy line filling over [`atoms`]; `measure` gives a string's width. Paragraphs are
/// separated by `'\n'`.
fn wrap_with(text: &str, max_width: f32, max_lines: usize, ellipsis: &str, measure: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for atom in atoms(paragraph) {
            let mut candidate = line.clone();
            if !candidate.is_empty() && atom.space_before {
                candidate.push(' ');
            }
            candidate.push_str(&atom.text);
            if measure(&candidate) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if measure(&atom.text) <= max_width {
                line = atom.text;
                continue;
            }
            // A word wider than the whole line: break it where it overflows.
            for c in atom.text.chars() {
                line.push(c);
                if measure(&line) > max_width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    if lines.len() <= max_lines {
        return lines;
    }
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        loop {
            let candidate = format!("{}{ellipsis}", last.trim_end());
            if measure(&candidate) <= max_width || last.is_empty() {
                *last = candidate;
                break;
            }
            last.pop();
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CJK characters one unit wide, everything else half a unit: close to a real CJK font.
    fn units(s: &str) -> f32 {
        s.chars().map(|c| if is_cjk(c) { 1.0 } else { 0.5 }).sum()
    }

    fn test_font() -> CjkFont {
        CjkFont::load_first(&CjkFont::system_paths())
            .unwrap_or_else(|e| panic!("a CJK font is needed (apt-get install fonts-wqy-microhei): {e}"))
    }

    #[test]
    fn chinese_wraps_per_character() {
        let lines = wrap_with("新鲜草莓大果礼盒装", 4.0, 5, "…", units);
        assert_eq!(lines, ["新鲜草莓", "大果礼盒", "装"]);
    }

    #[test]
    fn overflow_is_cut_with_an_ellipsis_that_still_fits() {
        let lines = wrap_with("新鲜草莓大果礼盒装顺丰包邮", 4.0, 2, "…", units);
        assert_eq!(lines, ["新鲜草莓", "大果礼…"]);
        assert!(lines.iter().all(|l| units(l) <= 4.0));
    }

    #[test]
    fn latin_words_move_to_the_next_line_whole() {
        let lines = wrap_with("手机壳 iPhone Pro Max", 7.0, 5, "…", units);
        assert_eq!(lines, ["手机壳 iPhone", "Pro Max"]);
    }

    #[test]
    fn a_word_longer_than_a_line_is_broken() {
        let lines = wrap_with("ABCDEFGHIJ", 2.0, 5, "…", units);
        assert_eq!(lines, ["ABCD", "EFGH", "IJ"]);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        let lines = wrap_with("好吃不贵，快来", 4.0, 5, "…", units);
        assert!(lines.iter().skip(1).all(|l| !l.starts_with('，')), "{lines:?}");
        let lines = wrap_with("包邮（限时）", 3.0, 5, "…", units);
        assert!(lines.iter().all(|l| !l.ends_with('（')), "{lines:?}");
    }

    #[test]
    fn newlines_start_paragraphs_and_count_against_the_limit() {
        let lines = wrap_with("谢谢\n\n再来", 4.0, 5, "…", units);
        assert_eq!(lines, ["谢谢", "", "再来"]);
        let lines = wrap_with("谢谢\n再来\n好评", 4.0, 2, "…", units);
        assert_eq!(lines, ["谢谢", "再来…"]);
    }

    #[test]
    fn real_font_keeps_latin_words_whole() {
        let font = test_font();
        let face = Face::new(&font, 36.0);
        let title = "Apple iPhone 15 Pro Max 液态硅胶手机壳 MagSafe magnetic protective case";
        let lines = face.wrap(title, 300.0, 10);
        assert!(lines.len() > 2, "{lines:?}");
        for line in &lines {
            assert!(face.width(line) <= 300.0, "{line:?} is too wide");
        }
        let rejoined: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
        for word in ["Apple", "iPhone", "MagSafe", "magnetic", "protective"] {
            assert!(rejoined.contains(&word), "{word} was split: {lines:?}");
        }
    }

    #[test]
    fn uncovered_characters_are_left_out_not_boxed() {
        let font = test_font();
        let face = Face::new(&font, 30.0);
        assert_eq!(face.printable("草莓\u{E000}  礼盒\t🍓", false), "草莓 礼盒");
        assert_eq!(face.printable(" 第一行 \n 第二行", true), "第一行\n第二行");
    }

    #[test]
    fn missing_glyph_differs_from_a_real_one() {
        let font = test_font();
        assert!(font.covers("拼团好物包裹卡"));
        assert!(!font.covers("\u{E000}"));
        let real = glyph_coverage(&font, '草', 64.0).expect("草 has an outline");
        let ink: f32 = real.alpha.iter().sum();
        assert!(ink > 200.0, "草 drew almost nothing: {ink}");
        match glyph_coverage(&font, '\u{E000}', 64.0) {
            // An empty .notdef is plainly different from 草.
            None => {}
            Some(tofu) => {
                let same = tofu.w == real.w && tofu.alpha == real.alpha;
                assert!(!same, "the missing glyph drew exactly like 草");
            }
        }
        let other = glyph_coverage(&font, '莓', 64.0).expect("莓 has an outline");
        assert_ne!(real.alpha, other.alpha, "two different characters drew the same");
    }
}
