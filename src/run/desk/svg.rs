//! Small inline SVG charts for the desk's dashboard (bars with labelled
//! axes), drawn on the server: no chart service, no script, no network.

use std::fmt::Write;

/// Escapes text for SVG (XML) content and attributes: the report's HTML
/// escaping, without the control characters XML does not allow.
fn esc(s: &str) -> String {
    let visible: String = s.chars().filter(|c| !c.is_control()).collect();
    crate::file::export::report::esc(&visible)
}

/// A bar chart of `(label, value)` pairs, with a title, the largest value
/// on the axis and every value on its bar (a reader never has to guess a
/// height). An empty series draws "no data".
pub fn bars(title: &str, unit: &str, series: &[(String, f64)]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 220.0;
    const LEFT: f64 = 48.0;
    const BOTTOM: f64 = 44.0;
    const TOP: f64 = 28.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><text x="4" y="16" class="ct">{t}</text>"#,
        t = esc(title)
    );
    let values: Vec<f64> = series
        .iter()
        .map(|(_, v)| if v.is_finite() { v.max(0.0) } else { 0.0 })
        .collect();
    let max = values.iter().cloned().fold(0.0, f64::max);
    if series.is_empty() || max <= 0.0 {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" class="cl">no data yet</text></svg>"#,
            W / 2.0 - 30.0,
            H / 2.0
        );
        return svg;
    }
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{y}" class="ax"/><line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" class="ax"/><text x="{lx}" y="{ty}" class="cl" text-anchor="end">{m}</text><text x="{lx}" y="{y}" class="cl" text-anchor="end">0</text>"#,
        y = TOP + plot_h,
        x2 = LEFT + plot_w,
        lx = LEFT - 4.0,
        ty = TOP + 8.0,
        m = esc(&format!("{} {unit}", fmt_num(max)))
    );
    let n = series.len() as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).max(1.0);
    // Label at most ~12 bars on the axis so labels do not overlap.
    let every = (series.len() / 12).max(1);
    for (i, ((label, _), v)) in series.iter().zip(&values).enumerate() {
        let h = plot_h * v / max;
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let y = TOP + plot_h - h;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}" class="bar"><title>{l}: {v}</title></rect>"#,
            l = esc(label),
            v = esc(&fmt_num(*v))
        );
        if series.len() <= 31 {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty:.1}" class="cv" text-anchor="middle">{v}</text>"#,
                cx = x + bar / 2.0,
                ty = (y - 3.0).max(TOP - 2.0),
                v = esc(&fmt_num(*v))
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ly}" class="cl" text-anchor="middle">{l}</text>"#,
                cx = x + bar / 2.0,
                ly = TOP + plot_h + 16.0,
                l = esc(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_values_shown() {
        let svg = bars(
            "per <day>",
            "",
            &[("<script>".to_string(), 3.0), ("b".to_string(), 1.5)],
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(">1.5<"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(bars("t", "", &[]).contains("no data"));
        assert!(bars("t", "", &[("a".into(), f64::NAN)]).contains("no data"));
    }
}
