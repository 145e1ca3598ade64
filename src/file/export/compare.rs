//! The side-by-side comparison image of an evidence bundle: the official
//! photo on the left, the listing photo on the right, and a caption bar
//! with the Hamming distance, the transform and the matched region, drawn
//! with a small built-in bitmap font so the image needs no font files and
//! renders the same everywhere.
//!
//! The matched region is the whole official photo unless the match needed
//! a crop; then the listing photo is located inside the official one by a
//! coarse template search on small grey thumbnails, and the region is
//! framed in red. Encoding is PNG with fixed settings: same inputs, same
//! bytes.
//!
//! The caption is evidence too, so it reads true: names and URLs keep
//! their case (paths are case-sensitive; the font has lower case and the
//! URL punctuation), a long URL is wrapped over several lines (`↵` ends a
//! line that continues) and only past [`MAX_URL_LINES`] lines shortened in
//! the middle with `…` (its end stays visible; the full URL is in
//! `comparisons.json`), a character the font lacks is drawn as a hollow
//! box and the caption says so, and the listing photo's capture time is
//! shown in UTC and China time (UTC+8). Capture times are data, never the
//! clock.

use crate::judge::score::PhotoEvidence;
use chrono::{DateTime, FixedOffset, Utc};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, Rgb, RgbImage};
use serde::Serialize;

/// Largest size of each photo in the comparison, in pixels.
pub const PANEL_WIDTH_PX: u32 = 360;
pub const PANEL_HEIGHT_PX: u32 = 300;
const PAD_PX: u32 = 12;
const SCALE: u32 = 2;
const GLYPH_W: u32 = 5;
const GLYPH_H: u32 = 7;
const ADVANCE_PX: u32 = (GLYPH_W + 1) * SCALE;
const LINE_PX: u32 = (GLYPH_H + 3) * SCALE;
/// Width of the thumbnails the crop search runs on.
const SEARCH_WIDTH_PX: u32 = 32;
/// Characters a caption line holds at the comparison's width.
const CAPTION_CHARS: usize = ((PAD_PX * 3 + PANEL_WIDTH_PX * 2 - 2 * PAD_PX) / ADVANCE_PX) as usize;
/// Most caption lines one URL or name may take; longer ones are shortened
/// in the middle with `…` (the full text is in `comparisons.json`).
pub const MAX_URL_LINES: usize = 6;
/// Ends a caption line whose URL continues on the next line (a URL never
/// contains it, nor the spaces that indent the continuation).
const CONTINUES: char = '↵';
const ELLIPSIS: char = '…';
/// China Standard Time, the marketplaces' own clock.
const CHINA_OFFSET_SECS: i32 = crate::file::cases::deadline::CHINA_UTC_OFFSET_HOURS * 3600;

/// What the comparison shows, for the bundle's JSON and the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The official photo's name, exact.
    pub official: String,
    /// The listing photo's URL, exact and whole (the caption may wrap or
    /// shorten it; this never is).
    pub listing_photo: String,
    /// When the listing photo was captured (UTC, RFC 3339), as the caption
    /// shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_photo_captured_at: Option<String>,
    pub distance: u32,
    pub bits: u32,
    pub transform: Option<String>,
    /// The second stage's correlations after alignment (grey levels, fine
    /// detail), when the scan compared the photos' pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<f32>,
    /// Independent samples of the aligned official photo (textured at 8+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub independent_samples: Option<f32>,
    /// The matched region in the official photo's pixels: x, y, width,
    /// height.
    pub region: [u32; 4],
    /// True when the region was located by the crop search.
    pub region_located: bool,
}

/// Renders the comparison; an error naming the photo when either cannot
/// be decoded. `captured_at` is the capture time of the listing photo's
/// bytes (its page record), shown in the caption.
pub fn side_by_side(
    official_bytes: &[u8],
    listing_bytes: &[u8],
    photo: &PhotoEvidence,
    captured_at: Option<DateTime<Utc>>,
) -> Result<(Vec<u8>, Comparison), String> {
    let (official_name, listing_url) = (photo.reference.as_str(), photo.url.as_str());
    let (distance, bits) = (photo.distance, photo.bits);
    let transform = photo.transform.as_deref();
    let official = image::load_from_memory(official_bytes)
        .map_err(|e| format!("official photo {official_name}: {e}"))?;
    let listing = image::load_from_memory(listing_bytes)
        .map_err(|e| format!("listing photo {listing_url}: {e}"))?;
    let t = transform.unwrap_or("").to_ascii_lowercase();
    let (ow, oh) = (official.width().max(1), official.height().max(1));
    let (region, located) = if t.contains("crop") {
        match locate(&official, &listing, t.contains("mirror")) {
            Some(r) => (r, true),
            None => ([0, 0, ow, oh], false),
        }
    } else {
        ([0, 0, ow, oh], false)
    };

    let left = fit(&official);
    let right = fit(&listing);
    let caption = caption_lines(&CaptionFacts {
        photo,
        captured_at,
        region: located.then_some(region),
        official_size: (ow, oh),
    });
    let width = PAD_PX * 3 + PANEL_WIDTH_PX * 2;
    let top = PAD_PX + LINE_PX;
    let height = top + PANEL_HEIGHT_PX + PAD_PX + LINE_PX * caption.len() as u32 + PAD_PX;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    text(
        &mut canvas,
        PAD_PX,
        PAD_PX,
        "Official",
        Rgb([0, 0, 0]),
        PANEL_WIDTH_PX,
    );
    text(
        &mut canvas,
        PAD_PX * 2 + PANEL_WIDTH_PX,
        PAD_PX,
        "Listing",
        Rgb([0, 0, 0]),
        PANEL_WIDTH_PX,
    );
    let lx = PAD_PX + (PANEL_WIDTH_PX - left.width()) / 2;
    let rx = PAD_PX * 2 + PANEL_WIDTH_PX + (PANEL_WIDTH_PX - right.width()) / 2;
    image::imageops::overlay(&mut canvas, &left, i64::from(lx), i64::from(top));
    image::imageops::overlay(&mut canvas, &right, i64::from(rx), i64::from(top));
    if located {
        let sx = left.width() as f64 / ow as f64;
        let sy = left.height() as f64 / oh as f64;
        let r = [
            lx + (region[0] as f64 * sx) as u32,
            top + (region[1] as f64 * sy) as u32,
            ((region[2] as f64 * sx) as u32).max(4),
            ((region[3] as f64 * sy) as u32).max(4),
        ];
        frame(&mut canvas, r, Rgb([220, 0, 0]));
    }
    let bar_y = top + PANEL_HEIGHT_PX + PAD_PX;
    for y in bar_y - PAD_PX / 2..height {
        for x in 0..width {
            canvas.put_pixel(x, y, Rgb([32, 32, 32]));
        }
    }
    for (i, line) in caption.iter().enumerate() {
        text(
            &mut canvas,
            PAD_PX,
            bar_y + LINE_PX * i as u32,
            line,
            Rgb([255, 255, 255]),
            width - 2 * PAD_PX,
        );
    }
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    DynamicImage::ImageRgb8(canvas)
        .write_with_encoder(encoder)
        .map_err(|e| format!("encoding comparison: {e}"))?;
    Ok((
        png,
        Comparison {
            official: official_name.to_string(),
            listing_photo: listing_url.to_string(),
            listing_photo_captured_at: captured_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            distance,
            bits,
            transform: transform.map(str::to_string),
            similarity: photo.similarity,
            detail: photo.detail,
            independent_samples: photo.independent_samples,
            region,
            region_located: located,
        },
    ))
}

/// What the caption says, besides the photos.
struct CaptionFacts<'a> {
    photo: &'a PhotoEvidence,
    captured_at: Option<DateTime<Utc>>,
    /// The located region, when the crop search found one.
    region: Option<[u32; 4]>,
    official_size: (u32, u32),
}

/// The caption's lines, each at most [`CAPTION_CHARS`] characters: exact
/// names and URLs (wrapped, see [`value_lines`]), the capture time, the
/// distances and the region. Ends with a note when a character had to be
/// drawn as the font's replacement box.
fn caption_lines(f: &CaptionFacts<'_>) -> Vec<String> {
    let p = f.photo;
    let (ow, oh) = f.official_size;
    let mut lines = Vec::new();
    lines.extend(value_lines("Left, official photo: ", &p.reference));
    lines.extend(value_lines("Right, listing photo: ", &p.url));
    lines.push(match f.captured_at {
        Some(t) => capture_time(t),
        None => "capture time of the listing photo: not recorded".to_string(),
    });
    lines.extend(value_lines(
        &format!("Hamming distance {}/{}   transform: ", p.distance, p.bits),
        p.transform.as_deref().unwrap_or("none"),
    ));
    lines.push(match (p.similarity, p.detail) {
        (Some(s), Some(d)) => {
            format!("Aligned: grey levels {s:.3}  fine detail {d:.3}  (1 = same)")
        }
        _ => "Aligned: not compared pixel by pixel".to_string(),
    });
    if let Some(n) =
        crate::judge::score::textured_exception(p.similarity, p.detail, p.independent_samples)
    {
        // Why a correlation under the usual threshold still counted.
        lines.push(format!("Textured photo: {n:.0} independent samples"));
    }
    lines.push(match f.region {
        Some([x, y, w, h]) => {
            format!("Matched region (red): x={x} y={y} w={w} h={h} of {ow}x{oh}")
        }
        None => format!("Matched region: whole official photo {ow}x{oh}"),
    });
    if lines.iter().any(|l| l.chars().any(|c| !has_glyph(c))) {
        lines.push(format!(
            "{REPLACEMENT_MARK} = a character the caption font lacks (exact text: comparisons.json)"
        ));
    }
    lines
}

/// Where the caption draws a character the font lacks.
const REPLACEMENT_MARK: char = '\u{25AF}';

/// An image under a caption band: the lines drawn in the built-in font
/// (case kept, wrapped by the caller with [`value_lines`]), then the image.
/// Used for page screenshots; the band is as wide as the image.
pub(crate) fn captioned(img: &RgbImage, lines: &[String]) -> RgbImage {
    let (w, h) = img.dimensions();
    let band = PAD_PX * 2 + LINE_PX * lines.len() as u32;
    let mut canvas = RgbImage::from_pixel(w.max(1), h + band, Rgb([255, 255, 255]));
    for (i, line) in lines.iter().enumerate() {
        text(
            &mut canvas,
            PAD_PX,
            PAD_PX + i as u32 * LINE_PX,
            line,
            Rgb([0, 0, 0]),
            w.saturating_sub(2 * PAD_PX),
        );
    }
    image::imageops::overlay(&mut canvas, img, 0, i64::from(band));
    canvas
}

/// The caption lines of a page screenshot: its URL (exact, wrapped) and
/// its capture time in UTC and China time.
pub(crate) fn page_caption(url: &str, captured_at: Option<DateTime<Utc>>) -> Vec<String> {
    let mut lines = value_lines("Page: ", url);
    lines.push(match captured_at {
        Some(t) => capture_time(t),
        None => "capture time: not recorded".to_string(),
    });
    lines.push("Rendered from the bytes as captured, scripts and network off".to_string());
    if lines.iter().any(|l| l.chars().any(|c| !has_glyph(c))) {
        lines.push(format!(
            "{REPLACEMENT_MARK} = a character the caption font lacks (exact text: captures.json)"
        ));
    }
    lines
}

/// `captured 2026-03-01 04:12:09 UTC (2026-03-01 12:12:09 UTC+8)`.
fn capture_time(t: DateTime<Utc>) -> String {
    let china = FixedOffset::east_opt(CHINA_OFFSET_SECS).map(|o| t.with_timezone(&o));
    let fmt = "%Y-%m-%d %H:%M:%S";
    match china {
        Some(c) => format!("captured {} UTC ({} UTC+8)", t.format(fmt), c.format(fmt)),
        None => format!("captured {} UTC", t.format(fmt)),
    }
}

/// A label and an exact value (a URL or a name) as caption lines: on the
/// label's line when it fits, else wrapped at [`CAPTION_CHARS`] with
/// [`CONTINUES`] ending every line but the last and two spaces indenting
/// the continuations (neither occurs in a URL, so the lines read back to
/// the exact value). A value needing more than [`MAX_URL_LINES`] lines is
/// shortened in the middle with [`ELLIPSIS`], keeping its start and its
/// end.
fn value_lines(label: &str, value: &str) -> Vec<String> {
    let label_chars = label.chars().count();
    // Hostile values are bounded: nothing past what the lines can show is
    // ever looked at twice.
    let n = value.chars().count();
    if label_chars + n <= CAPTION_CHARS {
        return vec![format!("{label}{value}")];
    }
    // The first line holds the label alone when it is long; the value
    // follows on lines of its own.
    let first = CAPTION_CHARS - 1;
    let rest = CAPTION_CHARS - 3;
    let capacity = first + rest * (MAX_URL_LINES - 1);
    let chars: Vec<char> = if n <= capacity {
        value.chars().collect()
    } else {
        let tail_n = capacity / 2;
        let head_n = capacity - tail_n - 1;
        let mut v: Vec<char> = value.chars().take(head_n).collect();
        v.push(ELLIPSIS);
        v.extend(value.chars().skip(n - tail_n));
        v
    };
    let mut lines = vec![label.trim_end().to_string()];
    let mut i = 0;
    let mut take = first;
    while i < chars.len() {
        let end = (i + take).min(chars.len());
        let mut line: String = if i == 0 {
            String::new()
        } else {
            "  ".to_string()
        };
        line.extend(&chars[i..end]);
        if end < chars.len() {
            line.push(CONTINUES);
        }
        lines.push(line);
        i = end;
        take = rest;
    }
    lines
}

/// Scales a photo to fit one panel.
fn fit(img: &DynamicImage) -> RgbImage {
    img.resize(PANEL_WIDTH_PX, PANEL_HEIGHT_PX, FilterType::Triangle)
        .to_rgb8()
}

fn frame(canvas: &mut RgbImage, [x, y, w, h]: [u32; 4], color: Rgb<u8>) {
    let (cw, ch) = canvas.dimensions();
    for t in 0..3 {
        for i in x..(x + w).min(cw) {
            for j in [y + t, (y + h).saturating_sub(1 + t)] {
                if j < ch {
                    canvas.put_pixel(i, j, color);
                }
            }
        }
        for j in y..(y + h).min(ch) {
            for i in [x + t, (x + w).saturating_sub(1 + t)] {
                if i < cw {
                    canvas.put_pixel(i, j, color);
                }
            }
        }
    }
}

/// Where in the official photo the (cropped) listing photo sits, in
/// official pixels: the placement with the least mean absolute grey
/// difference over scales from 100% down to 35%.
fn locate(official: &DynamicImage, listing: &DynamicImage, mirrored: bool) -> Option<[u32; 4]> {
    let (ow, oh) = (official.width(), official.height());
    let tw = SEARCH_WIDTH_PX;
    let th = ((oh as f64 / ow as f64) * tw as f64).round().max(1.0) as u32;
    let off: GrayImage =
        image::imageops::resize(&official.to_luma8(), tw, th, FilterType::Triangle);
    let mut list = listing.to_luma8();
    if mirrored {
        list = image::imageops::flip_horizontal(&list);
    }
    let aspect = list.height() as f64 / list.width().max(1) as f64;
    let mut best: Option<(f64, [u32; 4])> = None;
    for step in 0..=13u32 {
        let s = 1.0 - 0.05 * step as f64;
        let w = (tw as f64 * s).round() as u32;
        let h = (w as f64 * aspect).round() as u32;
        if w < 4 || h < 4 || h > th {
            continue;
        }
        let tpl = image::imageops::resize(&list, w, h, FilterType::Triangle);
        for y in 0..=(th - h) {
            for x in 0..=(tw - w) {
                let mut sum = 0u64;
                for (px, py, p) in tpl.enumerate_pixels() {
                    let o = off.get_pixel(x + px, y + py)[0];
                    sum += u64::from(o.abs_diff(p[0]));
                }
                let score = sum as f64 / f64::from(w * h);
                if best.as_ref().is_none_or(|(b, _)| score < *b) {
                    best = Some((score, [x, y, w, h]));
                }
            }
        }
    }
    let (_, [x, y, w, h]) = best?;
    let k = ow as f64 / tw as f64;
    let scale = |v: u32| (v as f64 * k).round() as u32;
    Some([scale(x), scale(y), scale(w).min(ow), scale(h).min(oh)])
}

/// Draws text in the built-in font, case kept; a character the font lacks
/// is drawn as a hollow box ([`REPLACEMENT_MARK`]), never as another
/// character. Callers fit lines to `max_width` ([`caption_lines`] does);
/// anything beyond is not drawn, which the bound below only guards.
fn text(canvas: &mut RgbImage, x: u32, y: u32, s: &str, color: Rgb<u8>, max_width: u32) {
    let max_chars = (max_width / ADVANCE_PX) as usize;
    let (cw, ch) = canvas.dimensions();
    for (i, c) in s.chars().take(max_chars).enumerate() {
        let rows = glyph(c).unwrap_or(REPLACEMENT_GLYPH);
        let gx = x + i as u32 * ADVANCE_PX;
        for (r, bits) in rows.iter().enumerate() {
            for col in 0..GLYPH_W {
                if bits & (1 << (GLYPH_W - 1 - col)) == 0 {
                    continue;
                }
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        let px = gx + col * SCALE + dx;
                        let py = y + r as u32 * SCALE + dy;
                        if px < cw && py < ch {
                            canvas.put_pixel(px, py, color);
                        }
                    }
                }
            }
        }
    }
}

/// A hollow box: what a character the font lacks looks like.
const REPLACEMENT_GLYPH: [u8; 7] = [
    0b11111, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11111,
];

fn has_glyph(c: char) -> bool {
    glyph(c).is_some()
}

/// 5×7 glyphs, one row per byte, leftmost pixel in bit 4; `None` for a
/// character the font lacks (drawn as [`REPLACEMENT_GLYPH`]). Every glyph
/// differs from every other: a caption is read as evidence.
fn glyph(c: char) -> Option<[u8; 7]> {
    more_glyph(c).or_else(|| base_glyph(c))
}

/// Lower case, the rest of the URL punctuation, `…` and `↵`.
#[rustfmt::skip]
fn more_glyph(c: char) -> Option<[u8; 7]> {
    match c {
        'a' => Some([0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111]),
        'b' => Some([0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110]),
        'c' => Some([0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110]),
        'd' => Some([0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111]),
        'e' => Some([0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110]),
        'f' => Some([0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b01000]),
        'g' => Some([0b00000, 0b01111, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110]),
        'h' => Some([0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001]),
        'i' => Some([0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110]),
        'j' => Some([0b00010, 0b00000, 0b00110, 0b00010, 0b00010, 0b10010, 0b01100]),
        'k' => Some([0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010]),
        'l' => Some([0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110]),
        'm' => Some([0b00000, 0b00000, 0b11010, 0b10101, 0b10101, 0b10001, 0b10001]),
        'n' => Some([0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001]),
        'o' => Some([0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110]),
        'p' => Some([0b00000, 0b00000, 0b11110, 0b10001, 0b11110, 0b10000, 0b10000]),
        'q' => Some([0b00000, 0b00000, 0b01101, 0b10011, 0b01111, 0b00001, 0b00001]),
        'r' => Some([0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000]),
        's' => Some([0b00000, 0b00000, 0b01110, 0b10000, 0b01110, 0b00001, 0b11110]),
        't' => Some([0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110]),
        'u' => Some([0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101]),
        'v' => Some([0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100]),
        'w' => Some([0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010]),
        'x' => Some([0b00000, 0b00000, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001]),
        'y' => Some([0b00000, 0b00000, 0b10001, 0b10001, 0b01111, 0b00001, 0b01110]),
        'z' => Some([0b00000, 0b00000, 0b11111, 0b00010, 0b00100, 0b01000, 0b11111]),
        '~' => Some([0b00000, 0b00000, 0b01000, 0b10101, 0b00010, 0b00000, 0b00000]),
        '!' => Some([0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100]),
        '@' => Some([0b01110, 0b10001, 0b10111, 0b10101, 0b10111, 0b10000, 0b01110]),
        '$' => Some([0b00100, 0b01111, 0b10100, 0b01110, 0b00101, 0b11110, 0b00100]),
        '*' => Some([0b00000, 0b00100, 0b10101, 0b01110, 0b10101, 0b00100, 0b00000]),
        ';' => Some([0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b00100, 0b01000]),
        '\'' => Some([0b00100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000]),
        '"' => Some([0b01010, 0b01010, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000]),
        '[' => Some([0b01110, 0b01000, 0b01000, 0b01000, 0b01000, 0b01000, 0b01110]),
        ']' => Some([0b01110, 0b00010, 0b00010, 0b00010, 0b00010, 0b00010, 0b01110]),
        '<' => Some([0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010]),
        '>' => Some([0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000]),
        '|' => Some([0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100]),
        '\\' => Some([0b10000, 0b01000, 0b01000, 0b00100, 0b00010, 0b00010, 0b00001]),
        '^' => Some([0b00100, 0b01010, 0b10001, 0b00000, 0b00000, 0b00000, 0b00000]),
        '`' => Some([0b01000, 0b00100, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000]),
        '{' => Some([0b00010, 0b00100, 0b00100, 0b01000, 0b00100, 0b00100, 0b00010]),
        '}' => Some([0b01000, 0b00100, 0b00100, 0b00010, 0b00100, 0b00100, 0b01000]),
        '…' => Some([0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b10101]),
        '↵' => Some([0b00001, 0b00001, 0b00101, 0b01001, 0b11111, 0b01000, 0b00100]),
        _ => None,
    }
}

/// Digits, upper case and the first punctuation.
fn base_glyph(c: char) -> Option<[u8; 7]> {
    match c {
        '0' => Some([
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ]),
        '1' => Some([
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ]),
        '2' => Some([
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ]),
        '3' => Some([
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ]),
        '4' => Some([
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ]),
        '5' => Some([
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ]),
        '6' => Some([
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ]),
        '7' => Some([
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ]),
        '8' => Some([
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ]),
        '9' => Some([
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ]),
        'A' => Some([
            0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ]),
        'B' => Some([
            0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110,
        ]),
        'C' => Some([
            0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110,
        ]),
        'D' => Some([
            0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100,
        ]),
        'E' => Some([
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111,
        ]),
        'F' => Some([
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000,
        ]),
        'G' => Some([
            0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111,
        ]),
        'H' => Some([
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ]),
        'I' => Some([
            0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ]),
        'J' => Some([
            0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100,
        ]),
        'K' => Some([
            0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001,
        ]),
        'L' => Some([
            0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111,
        ]),
        'M' => Some([
            0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001,
        ]),
        'N' => Some([
            0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001,
        ]),
        'O' => Some([
            0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ]),
        'P' => Some([
            0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000,
        ]),
        'Q' => Some([
            0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101,
        ]),
        'R' => Some([
            0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001,
        ]),
        'S' => Some([
            0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110,
        ]),
        'T' => Some([
            0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100,
        ]),
        'U' => Some([
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ]),
        'V' => Some([
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100,
        ]),
        'W' => Some([
            0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010,
        ]),
        'X' => Some([
            0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001,
        ]),
        'Y' => Some([
            0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100,
        ]),
        'Z' => Some([
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111,
        ]),
        ' ' => Some([0; 7]),
        '.' => Some([0, 0, 0, 0, 0, 0b01100, 0b01100]),
        ':' => Some([0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0]),
        '/' => Some([
            0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000,
        ]),
        '-' => Some([0, 0, 0, 0b11111, 0, 0, 0]),
        '_' => Some([0, 0, 0, 0, 0, 0, 0b11111]),
        '(' => Some([
            0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010,
        ]),
        ')' => Some([
            0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000,
        ]),
        '%' => Some([
            0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011,
        ]),
        '=' => Some([0, 0, 0b11111, 0, 0b11111, 0, 0]),
        ',' => Some([0, 0, 0, 0, 0b01100, 0b00100, 0b01000]),
        '+' => Some([0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0]),
        '#' => Some([
            0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010,
        ]),
        '&' => Some([
            0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101,
        ]),
        '?' => Some([0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img.clone())
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    /// A picture with structure: a gradient and a dark square.
    fn picture(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let dark = (40..90).contains(&x) && (30..70).contains(&y);
            let v = if dark { 10 } else { ((x * 2 + y) % 256) as u8 };
            Rgb([v, v / 2, 255 - v])
        })
    }

    fn evidence(official: &str, url: &str, transform: Option<&str>) -> PhotoEvidence {
        PhotoEvidence {
            url: url.into(),
            sha256: "ab".repeat(32),
            reference: official.into(),
            distance: 3,
            bits: 128,
            transform: transform.map(str::to_string),
            similarity: Some(0.987),
            detail: Some(0.941),
            independent_samples: None,
        }
    }

    #[test]
    fn whole_image_region_and_stable_bytes() {
        let a = png(&picture(160, 120));
        let (one, info) =
            side_by_side(&a, &a, &evidence("cup.jpg", "https://x/1.jpg", None), None).unwrap();
        let (two, _) =
            side_by_side(&a, &a, &evidence("cup.jpg", "https://x/1.jpg", None), None).unwrap();
        assert_eq!(one, two, "same inputs, same PNG bytes");
        assert_eq!(info.region, [0, 0, 160, 120]);
        assert!(!info.region_located);
        let img = image::load_from_memory(&one).unwrap();
        assert_eq!(img.width(), PAD_PX * 3 + PANEL_WIDTH_PX * 2);
    }

    #[test]
    fn a_textured_match_under_the_usual_threshold_gets_a_caption_line() {
        let a = png(&picture(160, 120));
        let height = |p: &PhotoEvidence| {
            let (png, info) = side_by_side(&a, &a, p, None).unwrap();
            assert_eq!(info.independent_samples, p.independent_samples);
            image::load_from_memory(&png).unwrap().height()
        };
        let usual = evidence("cup.jpg", "https://x/1.jpg", None);
        let textured_but_usual = PhotoEvidence {
            independent_samples: Some(200.0),
            ..usual.clone()
        };
        let textured_exception = PhotoEvidence {
            similarity: Some(0.85),
            detail: Some(0.96),
            ..textured_but_usual.clone()
        };
        assert_eq!(height(&usual), height(&textured_but_usual));
        assert_eq!(height(&textured_exception), height(&usual) + LINE_PX);
    }

    #[test]
    fn crop_is_located_in_the_official_photo() {
        let full = picture(160, 120);
        let crop = image::imageops::crop_imm(&full, 30, 20, 80, 60).to_image();
        let (_, info) = side_by_side(
            &png(&full),
            &png(&crop),
            &evidence("o.png", "l", Some("cropped")),
            None,
        )
        .unwrap();
        assert!(info.region_located);
        let [x, y, w, _] = info.region;
        assert!(
            x.abs_diff(30) <= 10 && y.abs_diff(20) <= 10 && w.abs_diff(80) <= 15,
            "{:?}",
            info.region
        );
    }

    #[test]
    fn undecodable_photo_is_an_error_naming_it() {
        let a = png(&picture(20, 20));
        let err = side_by_side(
            &a,
            b"not an image",
            &evidence("o", "https://x/bad.jpg", None),
            None,
        )
        .unwrap_err();
        assert!(err.contains("https://x/bad.jpg"), "{err}");
    }

    /// Every character a URL or a caption uses has a glyph, and no two
    /// glyphs (nor the replacement box) look the same: `l`, `1` and `I`,
    /// `O`, `0` and `o` are told apart in evidence.
    #[test]
    fn glyphs_cover_urls_and_are_all_distinct() {
        let url_chars =
            "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/:._-?=&%~+#";
        let others = " ()[],;!@$*'\"<>|\\^`{}…↵";
        let mut seen: Vec<(char, [u8; 7])> = vec![(REPLACEMENT_MARK, REPLACEMENT_GLYPH)];
        for c in url_chars.chars().chain(others.chars()) {
            let g = glyph(c).unwrap_or_else(|| panic!("no glyph for {c:?}"));
            if c != ' ' {
                if let Some((o, _)) = seen.iter().find(|(_, h)| *h == g) {
                    panic!("{c:?} looks like {o:?}");
                }
            }
            seen.push((c, g));
        }
        assert_eq!(glyph('中'), None);
    }

    /// The caption region of a rendered comparison, as raw pixels.
    fn caption_pixels(png: &[u8]) -> Vec<u8> {
        let img = image::load_from_memory(png).unwrap().to_rgb8();
        let bar_y = PAD_PX + LINE_PX + PANEL_HEIGHT_PX + PAD_PX;
        image::imageops::crop_imm(&img, 0, bar_y, img.width(), img.height() - bar_y)
            .to_image()
            .into_raw()
    }

    /// Regression: the caption upper-cased the URL
    /// (`HTTPS://CBU01.ALICDN.COM/IMG/IBANK/O1CN01YW3FX`), so two photo URLs
    /// differing only in case (different files: paths are case-sensitive)
    /// rendered the same caption.
    #[test]
    fn urls_differing_only_in_case_caption_differently() {
        let a = png(&picture(160, 120));
        let lower = "https://cbu01.alicdn.com/img/ibank/O1CN01yw3fx.jpg";
        let upper = "https://cbu01.alicdn.com/img/ibank/O1CN01YW3FX.jpg";
        let (one, c1) = side_by_side(&a, &a, &evidence("cup.jpg", lower, None), None).unwrap();
        let (two, c2) = side_by_side(&a, &a, &evidence("cup.jpg", upper, None), None).unwrap();
        assert_eq!(
            (c1.listing_photo.as_str(), c2.listing_photo.as_str()),
            (lower, upper)
        );
        assert_ne!(caption_pixels(&one), caption_pixels(&two));
        let lines = caption_lines(&CaptionFacts {
            photo: &evidence("cup.jpg", lower, None),
            captured_at: None,
            region: None,
            official_size: (1, 1),
        });
        assert!(lines.iter().any(|l| l.ends_with(lower)), "{lines:?}");
    }

    /// Regression: a long URL was cut at the caption's width with nothing
    /// to say so. It is wrapped (the lines read back to the exact URL, its
    /// end visible), or beyond six lines shortened in the middle with `…`;
    /// the comparison's JSON keeps it whole.
    #[test]
    fn long_urls_wrap_or_shorten_in_the_middle_never_cut() {
        let long = format!(
            "https://ae01.alicdn.com/kf/{}/Aurora-Cup.jpg_640x640.jpg?x=Tail_END",
            "Sa1B2c3D4e5F6g7H8".repeat(8)
        );
        let lines = value_lines("Right, listing photo: ", &long);
        assert!(
            lines.len() > 2 && lines.len() <= MAX_URL_LINES + 1,
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| l.chars().count() <= CAPTION_CHARS));
        let joined: String = lines[1..]
            .iter()
            .map(|l| l.trim_start_matches("  ").trim_end_matches(CONTINUES))
            .collect();
        assert_eq!(joined, long);
        assert!(lines.last().unwrap().ends_with("Tail_END"));

        let huge = format!("https://x.example/{}END", "a".repeat(100_000));
        let lines = value_lines("Right, listing photo: ", &huge);
        assert_eq!(lines.len(), MAX_URL_LINES + 1);
        assert!(lines.iter().any(|l| l.contains(ELLIPSIS)), "{lines:?}");
        assert!(lines[1].starts_with("https://x.example/"));
        assert!(lines.last().unwrap().ends_with("aEND"));

        let a = png(&picture(40, 30));
        let (short_png, _) =
            side_by_side(&a, &a, &evidence("o.png", "https://x/1.jpg", None), None).unwrap();
        let (long_png, info) = side_by_side(&a, &a, &evidence("o.png", &huge, None), None).unwrap();
        assert_eq!(info.listing_photo, huge, "the JSON keeps the whole URL");
        let json = serde_json::to_string(&info).unwrap();
        assert!(json.contains(&huge));
        let h = |p: &[u8]| image::load_from_memory(p).unwrap().height();
        assert_eq!(h(&long_png), h(&short_png) + LINE_PX * MAX_URL_LINES as u32);
    }

    #[test]
    fn capture_time_is_shown_in_utc_and_china_time() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T04:12:09Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            capture_time(t),
            "captured 2026-03-01 04:12:09 UTC (2026-03-01 12:12:09 UTC+8)"
        );
        // Across midnight the China date is the next day.
        let late = DateTime::parse_from_rfc3339("2026-12-31T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(capture_time(late).contains("(2027-01-01 04:00:00 UTC+8)"));
        let a = png(&picture(40, 30));
        let p = evidence("o.png", "https://x/1.jpg", None);
        let (with, info) = side_by_side(&a, &a, &p, Some(t)).unwrap();
        let (without, none) = side_by_side(&a, &a, &p, None).unwrap();
        assert_eq!(
            info.listing_photo_captured_at.as_deref(),
            Some("2026-03-01T04:12:09Z")
        );
        assert_eq!(none.listing_photo_captured_at, None);
        assert_ne!(caption_pixels(&with), caption_pixels(&without));
    }

    /// A name the font cannot draw is drawn as boxes, and the caption says
    /// what the boxes mean; nothing is silently changed to another letter.
    #[test]
    fn missing_glyphs_are_boxes_with_a_note() {
        let lines = caption_lines(&CaptionFacts {
            photo: &evidence("杯子-official.jpg", "https://x/1.jpg", None),
            captured_at: None,
            region: None,
            official_size: (1, 1),
        });
        assert!(lines[0].contains("杯子-official.jpg"));
        assert!(
            lines.last().unwrap().starts_with(REPLACEMENT_MARK),
            "{lines:?}"
        );
    }
}
