//! `complaints.csv` and the self-contained `report.html`.
//!
//! The HTML has its CSS inline and references images by paths relative to
//! the export folder, so it opens offline and moves with the folder. Every
//! text from a page is escaped; CSV cells that a spreadsheet would run as a
//! formula are prefixed with `'`.

use super::compare::Comparison;
use super::{BatchSummary, Complaint, KeywordVariant, NeedsRight, ReviewItem};
use crate::model::watchlist::WatchlistFile;

const CSV_COLUMNS: &[&str] = &[
    "id",
    "platform",
    "listing_id",
    "listing_url",
    "title",
    "seller",
    "price",
    "score",
    "right_id",
    "right_kind",
    "jurisdiction",
    "registration_number",
    "reason_code",
    "reason",
    "batch",
    "evidence_dir",
    "details_en",
    "details_zh",
    "alternatives",
];

/// Columns of a batch's per-URL table.
const TABLE_COLUMNS: &[&str] = &[
    "listing_url",
    "complaint_id",
    "mark_as_written",
    "listing_photo",
    "official_photo",
    "official_photo_published_at",
    "price",
    "retail_price",
    "below_retail_pct",
    "counterfeit_terms",
    "details_en",
    "details_zh",
];

/// The per-URL table of one batch: each listing's own facts, in the
/// batch's URL order.
pub fn batch_table(members: &[&Complaint]) -> String {
    let mut out = TABLE_COLUMNS.join(",");
    out.push_str("\r\n");
    for c in members {
        let f = &c.facts;
        let gap = f.price_gap.as_ref();
        let row = [
            c.listing_url.clone(),
            c.id.clone(),
            f.mark_as_written.join(" | "),
            f.photo_url.clone().unwrap_or_default(),
            f.official_photo.clone().unwrap_or_default(),
            f.published_at.join(" | "),
            gap.map(|g| format!("{:.2} {}", g.price, g.currency))
                .unwrap_or_default(),
            gap.map(|g| format!("{:.2} {}", g.msrp, g.msrp_currency))
                .unwrap_or_default(),
            gap.map(|g| format!("{:.0}", g.below_pct))
                .unwrap_or_default(),
            f.counterfeit_terms.join(" | "),
            c.details_en.clone(),
            c.details_zh.clone(),
        ];
        push_row(&mut out, &row);
    }
    out
}

/// RFC 4180 CSV of every complaint, one row each, in id order.
pub fn csv(complaints: &[Complaint]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for c in complaints {
        let row = [
            c.id.clone(),
            c.platform.as_str().to_string(),
            c.listing_id.clone(),
            c.listing_url.clone(),
            c.title.clone(),
            c.seller.clone().unwrap_or_default(),
            c.price.clone().unwrap_or_default(),
            c.score.to_string(),
            c.right_id.clone(),
            c.right_kind.as_str().to_string(),
            c.jurisdiction.clone(),
            c.registration_number.clone(),
            c.reason_code.as_str().to_string(),
            c.reason_label.clone(),
            c.batch.clone(),
            c.evidence_dir.clone(),
            c.details_en.clone(),
            c.details_zh.clone(),
            c.alternatives
                .iter()
                .map(|a| {
                    format!(
                        "{} {} {}",
                        a.right_kind.as_str(),
                        a.jurisdiction,
                        a.registration_number
                    )
                })
                .collect::<Vec<_>>()
                .join(" | "),
        ];
        push_row(&mut out, &row);
    }
    out
}

/// `keyword_blocking.csv`: the mark's spellings found in titles, for a
/// keyword-blocking request.
pub fn keyword_csv(items: &[KeywordVariant]) -> String {
    let mut out = "mark,variant,rule,listings,platforms,examples\r\n".to_string();
    for k in items {
        let row = [
            k.mark.clone(),
            k.variant.clone(),
            k.rule.clone(),
            k.listings.to_string(),
            k.platforms.join(" | "),
            k.examples.join(" | "),
        ];
        push_row(&mut out, &row);
    }
    out
}

/// `needs_review.csv`: the listings an analyst decides on, by priority.
pub fn review_csv(items: &[ReviewItem]) -> String {
    let mut out = [
        "platform",
        "listing_id",
        "listing_url",
        "title",
        "seller",
        "price",
        "score",
        "priority",
        "reasons",
        "photo",
        "photo_url",
        "matched_official",
    ]
    .join(",");
    out.push_str("\r\n");
    for r in items {
        let row = [
            r.platform.as_str().to_string(),
            r.listing_id.clone(),
            r.url.clone(),
            r.title.clone(),
            r.seller.clone().unwrap_or_default(),
            r.price.clone().unwrap_or_default(),
            r.score.to_string(),
            r.priority.to_string(),
            r.reasons.join(" | "),
            r.photo.clone().unwrap_or_default(),
            r.photo_url.clone().unwrap_or_default(),
            r.matched_official.clone().unwrap_or_default(),
        ];
        push_row(&mut out, &row);
    }
    out
}

/// Appends one CSV record (cells quoted and defused) and its CRLF.
fn push_row(out: &mut String, row: &[String]) {
    let cells: Vec<String> = row.iter().map(|v| csv_cell(v)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An `href` for a link from a page: only http(s) URLs are links.
fn href(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| esc(url.trim()))
}

pub struct ReportInput<'a> {
    pub watchlist: Option<&'a WatchlistFile>,
    pub complaints: &'a [Complaint],
    /// Per complaint: (path relative to the export, comparison).
    pub comparisons: &'a [Vec<(String, Comparison)>],
    pub batches: &'a [BatchSummary],
    pub needs_right: &'a [NeedsRight],
    pub needs_review: &'a [ReviewItem],
    pub flagged: usize,
    /// The analyst's decisions (the desk's), by listing.
    pub decisions: &'a [crate::file::decisions::Decision],
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.complaint{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1.2em 0;page-break-inside:avoid}\
.complaint h3{margin:.1em 0 .5em}.reason{background:#fafafa;border-left:4px solid #888;padding:.4em .8em;white-space:pre-wrap}\
img{max-width:100%;border:1px solid #ddd}.fail{color:#a00}.muted{color:#666}code{font-size:.92em}";

/// The report: a summary, the batches, each complaint with its
/// comparisons, reasons and evidence links, then the findings that need a
/// right.
pub fn html(r: &ReportInput<'_>) -> String {
    let mut h = String::new();
    let brand = r
        .watchlist
        .map(|w| w.brand.name.as_str())
        .unwrap_or("(brand)");
    let holder = r
        .watchlist
        .map(|w| w.brand.rights_holder.as_str())
        .unwrap_or("");
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>knockoff complaints: {}</title>",
        esc(brand)
    ));
    h.push_str(&format!("<style>{CSS}</style></head><body>\n"));
    h.push_str(&format!(
        "<h1>Complaints for {} <span class=\"muted\">({})</span></h1>\n",
        esc(brand),
        esc(holder)
    ));
    h.push_str("<p class=\"muted\">Every file of this folder is listed with its SHA-256 in <a href=\"manifest.json\">manifest.json</a>; check it with <code>knockoff verify DIR</code>.</p>\n");
    h.push_str("<h2>Summary</h2>\n<table>");
    h.push_str(&format!(
        "<tr><th>flagged listings</th><td>{}</td></tr>",
        r.flagged
    ));
    h.push_str(&format!(
        "<tr><th>complaints</th><td>{}</td></tr>",
        r.complaints.len()
    ));
    h.push_str(&format!(
        "<tr><th>batches</th><td>{}</td></tr>",
        r.batches.len()
    ));
    h.push_str(&format!(
        "<tr><th>needs_right (no right can carry a complaint)</th><td>{}</td></tr>",
        r.needs_right.len()
    ));
    h.push_str(&format!(
        "<tr><th>needs review (an analyst decides)</th><td>{}</td></tr>",
        r.needs_review.len()
    ));
    h.push_str("</table>\n<p>Data: <a href=\"complaints.csv\">complaints.csv</a>, <a href=\"complaints.json\">complaints.json</a>, <a href=\"needs_right.json\">needs_right.json</a>.</p>\n");

    h.push_str("<h2>Batches</h2>\n<p>One complaint per listing: each listing is in one batch only, filed on the right that fits it best; other rights that would also hold are named with it, not filed.</p>\n<table><tr><th>file</th><th>platform</th><th>right</th><th>reason</th><th>URLs</th><th>per-URL table</th></tr>");
    for b in r.batches {
        h.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
            esc(&b.file),
            esc(&b.file),
            b.platform.as_str(),
            esc(&b.right_id),
            esc(&b.reason_label),
            b.urls,
            esc(&b.table),
            esc(&b.table),
        ));
    }
    h.push_str("</table>\n");
    for b in r.batches {
        h.push_str(&format!(
            "<h3>{}</h3><div class=\"reason\">{}</div><div class=\"reason\" lang=\"zh\">{}</div>\n",
            esc(&b.file),
            esc(&b.reason_en),
            esc(&b.reason_zh)
        ));
    }
    h.push_str("<h2>Complaints</h2>\n");
    for (i, c) in r.complaints.iter().enumerate() {
        h.push_str(&format!("<div class=\"complaint\" id=\"{}\">", esc(&c.id)));
        let link = href(&c.listing_url)
            .map(|u| format!("<a href=\"{u}\">{}</a>", esc(&c.listing_url)))
            .unwrap_or_else(|| esc(&c.listing_url));
        h.push_str(&format!(
            "<h3>{} · {} · {}</h3><p>{link}<br>{}</p>",
            esc(&c.id),
            c.platform.as_str(),
            esc(&c.listing_id),
            esc(&c.title)
        ));
        h.push_str(&format!(
            "<table><tr><th>right</th><td>{} ({}, {}, registration {})</td></tr><tr><th>reason</th><td>{}</td></tr><tr><th>seller</th><td>{}</td></tr><tr><th>price</th><td>{}</td></tr><tr><th>score</th><td>{}</td></tr><tr><th>batch</th><td><a href=\"{}\">{}</a></td></tr><tr><th>case</th><td>{}</td></tr><tr><th>captured</th><td>{} UTC</td></tr></table>",
            esc(&c.right_id),
            c.right_kind.as_str(),
            esc(&c.jurisdiction),
            esc(&c.registration_number),
            esc(&c.reason_label),
            esc(c.seller.as_deref().unwrap_or("")),
            esc(c.price.as_deref().unwrap_or("")),
            c.score,
            esc(&c.batch),
            esc(&c.batch),
            esc(&c.case_state),
            esc(&c.captured_at),
        ));
        for (path, cmp) in r.comparisons.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            h.push_str(&format!(
                "<p><img src=\"{}\" alt=\"official {} (left) beside listing photo (right)\"><br><span class=\"muted\">official {} vs listing photo, Hamming distance {}/{}{}{}</span></p>",
                esc(path),
                esc(&cmp.official),
                esc(&cmp.official),
                cmp.distance,
                cmp.bits,
                cmp.transform.as_deref().map(|t| format!(", {}", esc(t))).unwrap_or_default(),
                esc(&crate::judge::score::alignment_note(
                    cmp.similarity,
                    cmp.detail,
                    cmp.independent_samples
                )),
            ));
        }
        h.push_str(&format!(
            "<div class=\"reason\">{}</div><div class=\"reason\" lang=\"zh\">{}</div>",
            esc(&c.details_en),
            esc(&c.details_zh)
        ));
        if !c.alternatives.is_empty() {
            h.push_str("<p>Also possible, not filed:</p><ul>");
            for a in &c.alternatives {
                h.push_str(&format!(
                    "<li>{} {} {} ({}): {}</li>",
                    a.right_kind.as_str(),
                    esc(&a.jurisdiction),
                    esc(&a.registration_number),
                    esc(&a.right_id),
                    esc(a.reason_code.label().0)
                ));
            }
            h.push_str("</ul>");
        }
        if !c.attachments.is_empty() {
            h.push_str("<p>Attachments:</p><ul>");
            for a in &c.attachments {
                h.push_str(&format!("<li>{}</li>", esc(a)));
            }
            h.push_str("</ul>");
        }
        let d = esc(&c.evidence_dir);
        h.push_str(&format!(
            "<p>Evidence: <a href=\"{d}/\">{d}/</a> — <a href=\"{d}/captures.json\">captures (URLs, UTC times)</a>, <a href=\"{d}/listing.json\">listing</a>, <a href=\"{d}/score.json\">score breakdown</a>, <a href=\"{d}/manifest.json\">manifest</a></p></div>\n"
        ));
    }
    if !r.needs_right.is_empty() {
        h.push_str("<h2>Flagged, but no right can carry a complaint (needs_right)</h2>\n");
        for n in r.needs_right {
            h.push_str(&format!(
                "<div class=\"complaint\"><h3>{} · {}</h3><p>{}<br>{}</p><ul>",
                n.platform.as_str(),
                esc(&n.listing_id),
                href(&n.url)
                    .map(|u| format!("<a href=\"{u}\">{}</a>", esc(&n.url)))
                    .unwrap_or_else(|| esc(&n.url)),
                esc(&n.title)
            ));
            for f in &n.failures {
                h.push_str(&format!(
                    "<li class=\"fail\"><code>{}</code> {}</li>",
                    f.rule.as_str(),
                    esc(&f.message)
                ));
            }
            h.push_str("</ul></div>\n");
        }
    }
    if !r.needs_review.is_empty() {
        h.push_str("<h2 id=\"needs-review\">Needs review: an analyst decides</h2>\n<p>Listings whose score is under the flag threshold but asks for a look, by priority (also in <a href=\"needs_review.csv\">needs_review.csv</a>). Nothing here is filed.</p>\n");
        for item in r.needs_review {
            h.push_str(&format!(
                "<div class=\"complaint\"><h3>{} · {} · score {} · priority {}</h3><p>{}<br>{}<br>seller {} · price {}</p>",
                item.platform.as_str(),
                esc(&item.listing_id),
                item.score,
                item.priority,
                href(&item.url)
                    .map(|u| format!("<a href=\"{u}\">{}</a>", esc(&item.url)))
                    .unwrap_or_else(|| esc(&item.url)),
                esc(&item.title),
                esc(item.seller.as_deref().unwrap_or("")),
                esc(item.price.as_deref().unwrap_or("")),
            ));
            if let Some(p) = &item.photo {
                h.push_str(&format!(
                    "<p><img src=\"{}\" alt=\"listing photo\" style=\"max-width:320px\"><br><span class=\"muted\">{}{}</span></p>",
                    esc(p),
                    esc(item.photo_url.as_deref().unwrap_or("")),
                    item.matched_official
                        .as_deref()
                        .map(|o| format!(" — matches official photo {}", esc(o)))
                        .unwrap_or_default()
                ));
            }
            h.push_str("<ul>");
            for reason in &item.reasons {
                h.push_str(&format!("<li>{}</li>", esc(reason)));
            }
            h.push_str("</ul></div>\n");
        }
    }
    if !r.decisions.is_empty() {
        h.push_str("<h2 id=\"decisions\">Analyst decisions</h2>\n<p>Made in the desk (<code>knockoff ui</code>); a dismissal holds while the listing's title, photos, price and seller stay as they were.</p>\n<table><tr><th>listing</th><th>decision</th><th>earlier</th></tr>");
        for d in r.decisions {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.key),
                esc(&d.summary()),
                d.earlier
                    .iter()
                    .map(|e| esc(&e.summary()))
                    .collect::<Vec<_>>()
                    .join("<br>")
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn html_escapes_and_only_links_http() {
        assert_eq!(esc("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
        assert_eq!(href("javascript:alert(1)"), None);
        assert_eq!(
            href("https://a.com/?q=<x>").as_deref(),
            Some("https://a.com/?q=&lt;x&gt;")
        );
    }
}
