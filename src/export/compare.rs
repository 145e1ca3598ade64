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

use crate::score::PhotoEvidence;
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

/// What the comparison shows, for the bundle's JSON and the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub official: String,
    pub listing_photo: String,
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

/// Renders the comparison; `None` when either photo cannot be decoded.
pub fn side_by_side(
    official_bytes: &[u8],
    listing_bytes: &[u8],
    photo: &PhotoEvidence,
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
    let mut caption = vec![
        format!("LEFT: OFFICIAL {official_name}"),
        format!("RIGHT: LISTING {listing_url}"),
        format!(
            "HAMMING DISTANCE {distance}/{bits}   TRANSFORM: {}",
            transform.unwrap_or("none")
        ),
        match (photo.similarity, photo.detail) {
            (Some(s), Some(d)) => {
                format!("ALIGNED: GREY LEVELS {s:.3}  FINE DETAIL {d:.3}  (1 = SAME)")
            }
            _ => "ALIGNED: NOT COMPARED PIXEL BY PIXEL".to_string(),
        },
        if located {
            format!(
                "MATCHED REGION (RED): X={} Y={} W={} H={} OF {}X{}",
                region[0], region[1], region[2], region[3], ow, oh
            )
        } else {
            format!("MATCHED REGION: WHOLE OFFICIAL PHOTO {ow}X{oh}")
        },
    ];
    if let Some(n) =
        crate::score::textured_exception(photo.similarity, photo.detail, photo.independent_samples)
    {
        // Why a correlation under the usual threshold still counted (the
        // caption holds 61 characters a line at this width).
        caption.insert(4, format!("TEXTURED PHOTO: {n:.0} INDEPENDENT SAMPLES"));
    }
    let width = PAD_PX * 3 + PANEL_WIDTH_PX * 2;
    let top = PAD_PX + LINE_PX;
    let height = top + PANEL_HEIGHT_PX + PAD_PX + LINE_PX * caption.len() as u32 + PAD_PX;
    let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    text(
        &mut canvas,
        PAD_PX,
        PAD_PX,
        "OFFICIAL",
        Rgb([0, 0, 0]),
        PANEL_WIDTH_PX,
    );
    text(
        &mut canvas,
        PAD_PX * 2 + PANEL_WIDTH_PX,
        PAD_PX,
        "LISTING",
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
        image::codecs::png::CompressionType::Default,
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

/// Draws text in the built-in font (upper case; unknown characters as `?`),
/// cut to `max_width` pixels.
fn text(canvas: &mut RgbImage, x: u32, y: u32, s: &str, color: Rgb<u8>, max_width: u32) {
    let max_chars = (max_width / ADVANCE_PX) as usize;
    let (cw, ch) = canvas.dimensions();
    for (i, c) in s.chars().take(max_chars).enumerate() {
        let rows = glyph(c.to_ascii_uppercase());
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

/// 5×7 glyphs, one row per byte, leftmost pixel in bit 4.
fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        'A' => [
            0b01110, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'B' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110,
        ],
        'C' => [
            0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110,
        ],
        'D' => [
            0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100,
        ],
        'E' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111,
        ],
        'F' => [
            0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'G' => [
            0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111,
        ],
        'H' => [
            0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001,
        ],
        'I' => [
            0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        'J' => [
            0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100,
        ],
        'K' => [
            0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001,
        ],
        'L' => [
            0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111,
        ],
        'M' => [
            0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001,
        ],
        'N' => [
            0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001,
        ],
        'O' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'P' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000,
        ],
        'Q' => [
            0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101,
        ],
        'R' => [
            0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001,
        ],
        'S' => [
            0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110,
        ],
        'T' => [
            0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100,
        ],
        'U' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110,
        ],
        'V' => [
            0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100,
        ],
        'W' => [
            0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010,
        ],
        'X' => [
            0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001,
        ],
        'Y' => [
            0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100,
        ],
        'Z' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111,
        ],
        ' ' => [0; 7],
        '.' => [0, 0, 0, 0, 0, 0b01100, 0b01100],
        ':' => [0, 0b01100, 0b01100, 0, 0b01100, 0b01100, 0],
        '/' => [
            0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000,
        ],
        '-' => [0, 0, 0, 0b11111, 0, 0, 0],
        '_' => [0, 0, 0, 0, 0, 0, 0b11111],
        '(' => [
            0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010,
        ],
        ')' => [
            0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000,
        ],
        '%' => [
            0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011,
        ],
        '=' => [0, 0, 0b11111, 0, 0b11111, 0, 0],
        ',' => [0, 0, 0, 0, 0b01100, 0b00100, 0b01000],
        '+' => [0, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0],
        '#' => [
            0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010,
        ],
        '&' => [
            0b01100, 0b10010, 0b10100, 0b01000, 0b10101, 0b10010, 0b01101,
        ],
        '?' => [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0, 0b00100],
        _ => glyph('?'),
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
            side_by_side(&a, &a, &evidence("cup.jpg", "https://x/1.jpg", None)).unwrap();
        let (two, _) = side_by_side(&a, &a, &evidence("cup.jpg", "https://x/1.jpg", None)).unwrap();
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
            let (png, info) = side_by_side(&a, &a, p).unwrap();
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
        )
        .unwrap_err();
        assert!(err.contains("https://x/bad.jpg"), "{err}");
    }

    #[test]
    fn every_caption_character_has_a_glyph() {
        for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ .:/-_()%=,+#&".chars() {
            assert!(c == '?' || glyph(c) != glyph('?'), "{c}");
        }
    }
}
