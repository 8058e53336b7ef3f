//! The fission tree (裂变树) drawn as SVG on the server: plain string building, as in
//! [`crate::images`], so the page needs no script and the same tree always yields the same bytes.
//!
//! Layout, left to right: a share's column is its depth; leaves take consecutive rows in
//! pre-order and every parent sits centred on its first and last child. Subtrees therefore own
//! disjoint runs of rows, and two shares in one column are always at least a row apart.

use sharemall_store::ops::share_stats::ShareTree;
use std::fmt::Write;

use crate::images::escape;

/// Most shares drawn; the rest are counted in a note under the drawing.
pub const MAX_DRAWN: usize = 200;

const FONT_FAMILY: &str = "'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif";
const BOX_W: f64 = 140.0;
const BOX_H: f64 = 44.0;
/// Horizontal distance from one depth to the next (box plus the room the edges need).
const COLUMN: f64 = 168.0;
/// Vertical distance from one row to the next.
const ROW: f64 = 54.0;
const MARGIN: f64 = 8.0;
const NOTE_H: f64 = 24.0;
/// Longest sharer name shown in a box; longer names end in "…" (the tooltip has them whole).
const NAME_CHARS: usize = 8;

/// The words the drawing uses, in the page's language.
pub struct Labels<'a> {
    /// Accessible name of the whole drawing.
    pub title: &'a str,
    pub visits: &'a str,
    pub orders: &'a str,
    /// Follows "+N" when some shares are not drawn.
    pub more: &'a str,
    /// Shown when there are no shares at all.
    pub empty: &'a str,
}

/// Where a share is drawn: its column (depth) and its row, which is fractional for a parent
/// centred between its children.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub column: i64,
    pub row: f64,
}

/// Places the first `drawn` shares of the tree (a prefix of its pre-order, so every drawn share's
/// parent is drawn too). Returns one slot per drawn share and the number of rows used.
pub fn layout(tree: &ShareTree, drawn: usize) -> (Vec<Slot>, usize) {
    let nodes = &tree.nodes[..drawn.min(tree.nodes.len())];
    let n = nodes.len();
    let drawn_children = |i: usize| nodes[i].children.iter().copied().filter(move |&c| c < n);
    let mut slots: Vec<Slot> = nodes.iter().map(|node| Slot { column: node.depth, row: 0.0 }).collect();
    // Leaves first, top to bottom in pre-order.
    let mut rows = 0;
    for (i, slot) in slots.iter_mut().enumerate() {
        if drawn_children(i).next().is_none() {
            slot.row = rows as f64;
            rows += 1;
        }
    }
    // Then parents, bottom up: children always come after their parent in pre-order.
    for i in (0..n).rev() {
        let (first, last) = (drawn_children(i).next(), drawn_children(i).next_back());
        if let (Some(first), Some(last)) = (first, last) {
            slots[i].row = (slots[first].row + slots[last].row) / 2.0;
        }
    }
    (slots, rows)
}

/// Shortens a name to [`NAME_CHARS`] characters.
fn short_name(name: &str) -> String {
    let name = name.trim();
    if name.chars().count() > NAME_CHARS {
        let mut short: String = name.chars().take(NAME_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        name.to_string()
    }
}

fn centre_y(row: f64) -> f64 {
    MARGIN + row * ROW + ROW / 2.0
}

fn left_x(column: i64) -> f64 {
    MARGIN + column as f64 * COLUMN
}

/// The tree as an `<svg>` element with `id`, sized to its layout: at most [`MAX_DRAWN`] shares,
/// then a "+N" note.
pub fn tree_svg(tree: &ShareTree, id: &str, labels: &Labels) -> String {
    let drawn = tree.nodes.len().min(MAX_DRAWN);
    let hidden = tree.nodes.len() - drawn;
    let (slots, rows) = layout(tree, drawn);
    let columns = slots.iter().map(|s| s.column).max().map_or(1, |deepest| deepest + 1);
    let width = if slots.is_empty() { 240.0 } else { 2.0 * MARGIN + (columns - 1) as f64 * COLUMN + BOX_W };
    let body_h = if slots.is_empty() { 48.0 } else { 2.0 * MARGIN + rows as f64 * ROW };
    let height = body_h + if hidden > 0 { NOTE_H } else { 0.0 };

    let mut svg = String::with_capacity(512 + drawn * 640);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" id="{id}" class="fission-tree" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-label="{title}" font-family="{FONT_FAMILY}">"##,
        id = escape(id),
        title = escape(labels.title),
    );
    if slots.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="120" y="28" text-anchor="middle" font-size="13" fill="#8a9099">{}</text></svg>"##,
            escape(labels.empty)
        );
        return svg;
    }

    // Edges under the boxes: from a parent's right edge to each drawn child's left edge.
    svg.push_str(r##"<g fill="none" stroke="#f3a3a4" stroke-width="1.5">"##);
    for (i, node) in tree.nodes[..drawn].iter().enumerate() {
        for &child in node.children.iter().filter(|&&c| c < drawn) {
            let (x1, y1) = (left_x(slots[i].column) + BOX_W, centre_y(slots[i].row));
            let (x2, y2) = (left_x(slots[child].column), centre_y(slots[child].row));
            let xm = (x1 + x2) / 2.0;
            let _ = write!(svg, r##"<path d="M{x1:.1} {y1:.1} C{xm:.1} {y1:.1} {xm:.1} {y2:.1} {x2:.1} {y2:.1}"/>"##);
        }
    }
    svg.push_str("</g>");

    for (node, slot) in tree.nodes[..drawn].iter().zip(&slots) {
        let (x, top) = (left_x(slot.column), centre_y(slot.row) - BOX_H / 2.0);
        let (fill, stroke) = if node.depth == 0 { ("#fff0f0", "#e4393c") } else { ("#ffffff", "#d9dce1") };
        let numbers = format!("{} {} · {} {}", labels.visits, node.stats.visits, labels.orders, node.stats.orders);
        let _ = write!(
            svg,
            concat!(
                r##"<g class="share-node"><title>{name} · {code} · {numbers}</title>"##,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{box_w:.0}" height="{box_h:.0}" rx="8" fill="{fill}" stroke="{stroke}"/>"##,
                r##"<text x="{tx:.1}" y="{ty1:.1}" font-size="13" fill="#1f2329">{short}</text>"##,
                r##"<text x="{tx:.1}" y="{ty2:.1}" font-size="11" fill="#8a9099">{numbers}</text></g>"##,
            ),
            name = escape(node.sharer_name.trim()),
            code = escape(&node.code),
            numbers = escape(&numbers),
            short = escape(&short_name(&node.sharer_name)),
            tx = x + 10.0,
            ty1 = top + 18.0,
            ty2 = top + 35.0,
            x = x,
            top = top,
            fill = fill,
            stroke = stroke,
            box_w = BOX_W,
            box_h = BOX_H,
        );
    }
    if hidden > 0 {
        let _ = write!(
            svg,
            r##"<text class="more" x="{MARGIN:.0}" y="{y:.1}" font-size="12" fill="#8a9099">+{hidden} {more}</text>"##,
            y = body_h + 14.0,
            more = escape(labels.more),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use sharemall_domain::UserId;
    use sharemall_store::ops::share_stats::{ShareCounts, ShareNode};

    const LABELS: Labels<'static> =
        Labels { title: "裂变树", visits: "访问", orders: "订单", more: "个分享未画出", empty: "还没有分享" };

    /// A tree from (depth, children) in pre-order.
    fn tree(shape: &[(i64, &[usize])]) -> ShareTree {
        let nodes: Vec<ShareNode> = shape
            .iter()
            .enumerate()
            .map(|(i, &(depth, children))| ShareNode {
                code: format!("code{i}"),
                parent_code: None,
                depth,
                target_kind: "shop".into(),
                target_id: String::new(),
                target_title: None,
                channel: "chat".into(),
                sharer_id: UserId::new(),
                sharer_name: format!("分享者{i}"),
                created_at: i as i64,
                stats: ShareCounts { visits: 10 + i as i64, orders: i as i64, ..ShareCounts::default() },
                children: children.to_vec(),
            })
            .collect();
        ShareTree { size: nodes.len(), max_depth: nodes.iter().map(|n| n.depth).max().unwrap_or(0), truncated: false, nodes }
    }

    /// root ─┬─ a ─┬─ a1 ── a1x
    ///       │     └─ a2
    ///       └─ b
    /// root2
    fn sample() -> ShareTree {
        tree(&[(0, &[1, 5]), (1, &[2, 4]), (2, &[3]), (3, &[]), (2, &[]), (1, &[]), (0, &[])])
    }

    #[test]
    fn columns_are_depths_and_leaves_take_consecutive_rows() {
        let t = sample();
        let (slots, rows) = layout(&t, MAX_DRAWN);
        assert_eq!(slots.iter().map(|s| s.column).collect::<Vec<_>>(), [0, 1, 2, 3, 2, 1, 0]);
        // Leaves a1x, a2, b, root2 in pre-order.
        assert_eq!(rows, 4);
        assert_eq!([slots[3].row, slots[4].row, slots[5].row, slots[6].row], [0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn parents_are_centred_on_their_children() {
        let t = sample();
        let (slots, _) = layout(&t, MAX_DRAWN);
        for (i, node) in t.nodes.iter().enumerate() {
            if let (Some(&first), Some(&last)) = (node.children.first(), node.children.last()) {
                assert_eq!(slots[i].row, (slots[first].row + slots[last].row) / 2.0, "node {i}");
            }
        }
        assert_eq!((slots[2].row, slots[1].row, slots[0].row), (0.0, 0.5, 1.25));
    }

    #[test]
    fn no_two_shares_in_a_column_overlap() {
        // A bushier tree: three roots with uneven subtrees.
        let t = tree(&[
            (0, &[1, 4, 8]),
            (1, &[2, 3]),
            (2, &[]),
            (2, &[]),
            (1, &[5]),
            (2, &[6, 7]),
            (3, &[]),
            (3, &[]),
            (1, &[]),
            (0, &[]),
            (0, &[11]),
            (1, &[12]),
            (2, &[]),
        ]);
        let (slots, _) = layout(&t, MAX_DRAWN);
        for a in 0..slots.len() {
            for b in a + 1..slots.len() {
                if slots[a].column == slots[b].column {
                    assert!((slots[a].row - slots[b].row).abs() >= 1.0, "{a} and {b} overlap: {:?} {:?}", slots[a], slots[b]);
                }
            }
        }
    }

    #[test]
    fn big_trees_are_cut_with_a_note() {
        // One root with 249 re-shares.
        let children: Vec<usize> = (1..250).collect();
        let mut shape: Vec<(i64, &[usize])> = vec![(0, children.as_slice())];
        shape.extend(std::iter::repeat_n((1, &[] as &[usize]), 249));
        let t = tree(&shape);
        let svg = tree_svg(&t, "fission-tree", &LABELS);
        assert_eq!(svg.matches("<rect").count(), MAX_DRAWN);
        assert_eq!(svg.matches("<path").count(), MAX_DRAWN - 1);
        assert!(svg.contains(">+50 个分享未画出</text>"), "{svg}");
        // The root is centred on the 199 drawn children: rows 0..=198.
        let (slots, rows) = layout(&t, MAX_DRAWN);
        assert_eq!((rows, slots[0].row), (199, 99.0));
        assert!(svg.contains(&format!(r#"height="{}""#, 2 * 8 + 199 * 54 + 24)));
    }

    #[test]
    fn drawing_is_sized_escaped_and_deterministic() {
        let mut t = sample();
        t.nodes[0].sharer_name = r#"<b>&"张'三</b>"#.into();
        t.nodes[1].sharer_name = "一个名字非常非常长的分享者".into();
        let svg = tree_svg(&t, "fission-tree", &LABELS);
        assert!(
            svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" id="fission-tree" class="fission-tree" width="660" height="232""#),
            "{svg}"
        );
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&amp;&quot;张&apos;三&lt;/b&gt;"));
        assert!(svg.contains(">一个名字非常非…</text>"));
        assert!(svg.contains(">访问 10 · 订单 0</text>"));
        assert_eq!(svg.matches("<rect").count(), 7);
        assert_eq!(svg.matches("<path").count(), 5, "one edge per share that is not a root");
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
        assert_eq!(svg, tree_svg(&t, "fission-tree", &LABELS));
        assert!(!svg.contains("class=\"more\""));
    }

    #[test]
    fn an_empty_tree_says_so() {
        let svg = tree_svg(&ShareTree::default(), "fission-tree", &LABELS);
        assert!(svg.contains(r#"id="fission-tree""#));
        assert!(svg.contains(">还没有分享</text>"));
        assert!(svg.ends_with("</svg>"));
    }
}
