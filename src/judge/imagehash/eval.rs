//! The matching evaluation behind `knockoff eval-images`: recall per
//! counterfeiter edit, and false matches among unrelated photos, at every
//! threshold, on real photos.
//!
//! * **Recall**: every photo of the set is a reference. Each edit of the
//!   issue (resize, JPEG q30–50, crop, padding, mirror, overlay, rotation,
//!   colour shift, format change) is applied with random parameters to each
//!   photo, alone and in pairs; the copy is encoded (JPEG q85 unless the
//!   edit picks the format), decoded and hashed like a listing photo, and
//!   it counts as found at threshold `t` when its own original is the best
//!   reference and within `t`.
//! * **False matches**: non-overlapping tiles of the photos (each a distinct
//!   piece of a real photo) are indexed as references, with all variants,
//!   and every tile, JPEG-encoded, is looked up against every other tile.
//!   Tiles of one photo share lighting and texture, so this is harsher than
//!   pairs of unrelated product photos.
//!
//! Edits are drawn from a fixed-seed generator: runs are reproducible.

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use rayon::prelude::*;

use super::{decode, ReferenceIndex, MATCH_DETAIL, MATCH_SIMILARITY};
use crate::fetch::progress::Bars;
use crate::model::error::{Error, Result};

/// Recall target per edit and false-match ceiling from the issue.
pub const RECALL_TARGET: f64 = 0.95;
pub const FALSE_MATCH_CEILING: f64 = 1e-4;

/// How big an evaluation to run.
#[derive(Debug, Clone)]
pub struct EvalConfig {
    /// Random draws of each edit per photo.
    pub draws: usize,
    /// Also evaluate every pair of edits.
    pub pairs: bool,
    /// Tiles per side cut from each photo for the unrelated set.
    pub tiles_per_side: u32,
    /// Longest side photos are scaled to before editing (keeps runs fast;
    /// marketplace photos are 800–1000 px).
    pub max_side_px: u32,
    /// Progress of the trials and tile comparisons (hidden by default).
    pub progress: Bars,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            draws: 3,
            pairs: true,
            tiles_per_side: 3,
            max_side_px: 800,
            progress: Bars::hidden(),
        }
    }
}

/// Recall of one edit (or pair of edits).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TransformRecall {
    pub transform: String,
    pub trials: usize,
    /// Found at the chosen threshold.
    pub found: usize,
    pub recall: f64,
    /// Per trial: the right reference's score (`None`: not a candidate),
    /// and the scores of the other candidates.
    #[serde(skip)]
    pub scores: Vec<(Option<Score>, Vec<Score>)>,
    /// The photo each trial copied (parallel to `scores`).
    #[serde(skip)]
    pub photos: Vec<String>,
}

/// The second stage's numbers for one candidate (see
/// [`super::verify::Alignment`]); as a threshold, the least similarity
/// and detail that match (`independent_samples` unused; a textured
/// reference needs less detail or less similarity, see
/// [`super::scores_match`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Score {
    pub similarity: f32,
    pub detail: f32,
    #[serde(skip)]
    pub independent_samples: f32,
    /// Where the alignment started (see [`super::verify::Start`]).
    #[serde(skip)]
    pub start: super::verify::Start,
    /// Rotation of the aligned view, degrees (see [`super::plausible`]).
    #[serde(skip)]
    pub rotation_deg: f32,
}

impl Score {
    fn of(c: &super::Candidate) -> Score {
        Score {
            similarity: c.similarity.unwrap_or(0.0),
            detail: c.detail.unwrap_or(0.0),
            independent_samples: c.independent_samples.unwrap_or(0.0),
            start: c.start,
            rotation_deg: c.rotation_deg.unwrap_or(0.0),
        }
    }

    /// Whether this score matches at threshold `t`.
    pub fn passes(&self, t: Score) -> bool {
        let a = super::verify::Alignment {
            similarity: self.similarity,
            detail: self.detail,
            independent_samples: self.independent_samples,
            start: self.start,
            ..Default::default()
        };
        super::plausible(self.independent_samples, self.rotation_deg)
            && super::scores_match(&a, t.similarity, t.detail)
    }
}

/// Whether a trial counts as found at threshold `thr`: its own original
/// matches and no other reference matches better.
fn trial_found(right: Option<Score>, others: &[Score], thr: Score) -> bool {
    right.is_some_and(|r| {
        r.passes(thr)
            && others
                .iter()
                .all(|o| !o.passes(thr) || o.similarity <= r.similarity)
    })
}

/// Photo a tile was cut from ("brick.png#1,2" → "brick.png").
fn photo_of(tile: &str) -> &str {
    tile.rsplit_once('#').map_or(tile, |(p, _)| p)
}

/// One row of a threshold sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThresholdRow {
    pub threshold: f32,
    pub detail: f32,
    /// Lowest recall over all edits.
    pub min_recall: f64,
    /// Mean recall over all edits and pairs.
    pub mean_recall: f64,
    /// Edits and pairs at or above [`RECALL_TARGET`].
    pub on_target: usize,
    /// The edit with that recall.
    pub worst_transform: String,
    pub false_matches: usize,
    pub false_match_rate: f64,
    /// Matches between tiles of one photo (not counted as false).
    pub same_photo_matches: usize,
}

/// Everything the evaluation measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    pub photos: usize,
    pub threshold: f32,
    pub detail_threshold: f32,
    pub transforms: Vec<TransformRecall>,
    pub unrelated_images: usize,
    /// Ordered pairs of tiles cut from different photos.
    pub unrelated_pairs: usize,
    pub false_matches: usize,
    pub false_match_rate: f64,
    /// Each false match at the chosen thresholds: "tile ~ reference" and
    /// its scores.
    pub false_match_pairs: Vec<String>,
    /// Ordered pairs of distinct tiles of one photo, and how many of them
    /// matched: reported, not counted as false (tiles of one brick wall
    /// are the same pattern).
    pub same_photo_pairs: usize,
    pub same_photo_matches: usize,
    /// Similarity thresholds at the chosen detail threshold.
    pub sweep: Vec<ThresholdRow>,
    /// Detail thresholds at the chosen similarity threshold.
    pub detail_sweep: Vec<ThresholdRow>,
    /// A coarse grid of both thresholds around the chosen pair.
    pub grid: Vec<ThresholdRow>,
    /// Whether every edit reaches [`RECALL_TARGET`] and false matches stay
    /// under [`FALSE_MATCH_CEILING`] at the chosen threshold.
    pub meets_targets: bool,
}

/// A small deterministic generator (splitmix64): reproducible edits
/// without depending on a particular `rand` API.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// How an edited copy is written out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Encoding {
    Jpeg(u8),
    Png,
    WebP,
}

/// Encodes an RGB image.
pub fn encode(img: &RgbImage, enc: Encoding) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let res = match enc {
        Encoding::Jpeg(q) => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q).encode_image(img)
        }
        Encoding::Png => img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut buf)),
        Encoding::WebP => {
            img.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut buf))
        }
    };
    res.map_err(|e| Error::Other(format!("encoding {enc:?}: {e}")))?;
    Ok(buf)
}

/// A counterfeiter's edit: what it does to the pixels and, if it cares,
/// the format it saves in.
#[derive(Clone, Copy)]
pub struct Edit {
    pub name: &'static str,
    pub apply: fn(RgbImage, &mut Rng) -> RgbImage,
    pub encoding: fn(&mut Rng) -> Option<Encoding>,
}

fn no_encoding(_: &mut Rng) -> Option<Encoding> {
    None
}

/// Resize to 25–50% of the size.
pub fn edit_resize(img: RgbImage, rng: &mut Rng) -> RgbImage {
    let s = rng.range(0.25, 0.5);
    let w = ((img.width() as f64 * s).round() as u32).max(1);
    let h = ((img.height() as f64 * s).round() as u32).max(1);
    image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
}

/// Crop 0–10% from each side independently.
pub fn edit_crop(img: RgbImage, rng: &mut Rng) -> RgbImage {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let l = (rng.range(0.0, 0.10) * w) as u32;
    let r = (rng.range(0.0, 0.10) * w) as u32;
    let t = (rng.range(0.0, 0.10) * h) as u32;
    let b = (rng.range(0.0, 0.10) * h) as u32;
    let cw = img.width().saturating_sub(l + r).max(1);
    let ch = img.height().saturating_sub(t + b).max(1);
    image::imageops::crop_imm(&img, l, t, cw, ch).to_image()
}

/// Pad onto a plain background: either letterbox bars (two opposite
/// sides) or a square-ish frame, each side up to 20%.
pub fn edit_pad(img: RgbImage, rng: &mut Rng) -> RgbImage {
    let colours = [[255, 255, 255], [0, 0, 0], [240, 240, 240], [200, 30, 40]];
    let c = colours[rng.below(colours.len() as u64) as usize];
    let (w, h) = (img.width(), img.height());
    let frac = |rng: &mut Rng| rng.range(0.03, 0.20);
    let (l, r, t, b) = match rng.below(3) {
        0 => {
            let f = frac(rng);
            let p = (w as f64 * f) as u32;
            (p, p, 0, 0)
        }
        1 => {
            let f = frac(rng);
            let p = (h as f64 * f) as u32;
            (0, 0, p, p)
        }
        _ => (
            (w as f64 * frac(rng)) as u32,
            (w as f64 * frac(rng)) as u32,
            (h as f64 * frac(rng)) as u32,
            (h as f64 * frac(rng)) as u32,
        ),
    };
    let mut out = RgbImage::from_pixel(w + l + r, h + t + b, Rgb(c));
    image::imageops::replace(&mut out, &img, l as i64, t as i64);
    out
}

pub fn edit_mirror(img: RgbImage, _: &mut Rng) -> RgbImage {
    image::imageops::flip_horizontal(&img)
}

/// A shop-name banner with text-like strokes over 5–15% of the area.
pub fn edit_overlay(mut img: RgbImage, rng: &mut Rng) -> RgbImage {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let area = rng.range(0.05, 0.15);
    let bw = w * rng.range(0.4, 0.9);
    let bh = (area * w * h / bw).min(h * 0.5);
    let x0 = rng.range(0.0, w - bw) as u32;
    let y0 = rng.range(0.0, h - bh) as u32;
    let bg = [
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.below(256) as u8,
    ];
    let fg = [255 - bg[0], 255 - bg[1], 255 - bg[2]];
    let stroke = ((bh / 5.0) as u32).max(1);
    for y in y0..(y0 + bh as u32).min(img.height()) {
        for x in x0..(x0 + bw as u32).min(img.width()) {
            // "Letters": vertical strokes of random widths in the middle
            // band of the banner.
            let col = (x - x0) / stroke;
            let inside = y > y0 + stroke && y < y0 + bh as u32 - stroke;
            let on = inside && !(col.wrapping_mul(2_654_435_761) >> 7).is_multiple_of(3);
            img.put_pixel(x, y, Rgb(if on { fg } else { bg }));
        }
    }
    img
}

/// Rotate by 1–5° either way about the centre, same canvas, white corners.
pub fn edit_rotate(img: RgbImage, rng: &mut Rng) -> RgbImage {
    let deg = rng.range(1.0, 5.0) * if rng.below(2) == 0 { -1.0 } else { 1.0 };
    rotate(&img, deg, [255, 255, 255])
}

/// Bilinear rotation by `deg` about the centre, uncovered corners filled.
pub fn rotate(img: &RgbImage, deg: f64, fill: [u8; 3]) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let (s, c) = deg.to_radians().sin_cos();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let dx = x as f64 + 0.5 - cx;
        let dy = y as f64 + 0.5 - cy;
        let sx = c * dx + s * dy + cx - 0.5;
        let sy = -s * dx + c * dy + cy - 0.5;
        if sx < 0.0 || sy < 0.0 || sx > (w - 1) as f64 || sy > (h - 1) as f64 {
            return Rgb(fill);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
        let p = |x, y| img.get_pixel(x, y).0;
        let mut out = [0u8; 3];
        for (k, o) in out.iter_mut().enumerate() {
            let top = p(x0, y0)[k] as f64 * (1.0 - fx) + p(x1, y0)[k] as f64 * fx;
            let bot = p(x0, y1)[k] as f64 * (1.0 - fx) + p(x1, y1)[k] as f64 * fx;
            *o = (top * (1.0 - fy) + bot * fy).round().clamp(0.0, 255.0) as u8;
        }
        Rgb(out)
    })
}

/// Per-channel gain of ±10% and a brightness shift of ±20 levels.
pub fn edit_colour(mut img: RgbImage, rng: &mut Rng) -> RgbImage {
    let gains = [
        rng.range(0.9, 1.1),
        rng.range(0.9, 1.1),
        rng.range(0.9, 1.1),
    ];
    let offset = rng.range(-20.0, 20.0);
    for p in img.pixels_mut() {
        for (c, g) in p.0.iter_mut().zip(gains) {
            *c = (*c as f64 * g + offset).round().clamp(0.0, 255.0) as u8;
        }
    }
    img
}

fn identity(img: RgbImage, _: &mut Rng) -> RgbImage {
    img
}

fn low_quality_jpeg(rng: &mut Rng) -> Option<Encoding> {
    Some(Encoding::Jpeg(30 + rng.below(21) as u8))
}

fn other_format(rng: &mut Rng) -> Option<Encoding> {
    Some(if rng.below(2) == 0 {
        Encoding::Png
    } else {
        Encoding::WebP
    })
}

/// Every edit the issue names.
pub fn edits() -> Vec<Edit> {
    vec![
        Edit {
            name: "resize 25-50%",
            apply: edit_resize,
            encoding: no_encoding,
        },
        Edit {
            name: "jpeg q30-50",
            apply: identity,
            encoding: low_quality_jpeg,
        },
        Edit {
            name: "crop <=10%/side",
            apply: edit_crop,
            encoding: no_encoding,
        },
        Edit {
            name: "pad <=20%/side",
            apply: edit_pad,
            encoding: no_encoding,
        },
        Edit {
            name: "mirror",
            apply: edit_mirror,
            encoding: no_encoding,
        },
        Edit {
            name: "overlay 5-15%",
            apply: edit_overlay,
            encoding: no_encoding,
        },
        Edit {
            name: "rotate 1-5deg",
            apply: edit_rotate,
            encoding: no_encoding,
        },
        Edit {
            name: "colour/brightness",
            apply: edit_colour,
            encoding: no_encoding,
        },
        Edit {
            name: "format png/webp",
            apply: identity,
            encoding: other_format,
        },
    ]
}

/// Applies edits in order and encodes the copy (the last edit that picks a
/// format wins; JPEG q85 otherwise, what marketplaces serve).
pub fn make_copy(img: &RgbImage, chain: &[Edit], rng: &mut Rng) -> Result<Vec<u8>> {
    let mut out = img.clone();
    let mut enc = Encoding::Jpeg(85);
    for e in chain {
        out = (e.apply)(out, rng);
        if let Some(x) = (e.encoding)(rng) {
            enc = x;
        }
    }
    encode(&out, enc)
}

/// Image files in a directory, sorted.
pub fn photo_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().and_then(|x| x.to_str()).is_some_and(|x| {
                matches!(
                    x.to_ascii_lowercase().as_str(),
                    "jpg" | "jpeg" | "png" | "webp"
                )
            })
        })
        .collect();
    files.sort();
    Ok(files)
}

fn load_rgb(path: &Path, max_side: u32) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // Same limits as listing photos: the evaluation reads files too.
    decode::decode(&bytes, &path.display().to_string())?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| Error::Image {
            source_name: path.display().to_string(),
            message: e.to_string(),
        })?
        .to_rgb8();
    let longest = img.width().max(img.height());
    Ok(if longest > max_side {
        let s = max_side as f64 / longest as f64;
        image::imageops::resize(
            &img,
            ((img.width() as f64 * s).round() as u32).max(1),
            ((img.height() as f64 * s).round() as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    })
}

/// Runs the evaluation on every photo in `photos_dir` with the default
/// (full) configuration, its progress on `progress`, and prints the
/// tables.
pub fn run_eval(photos_dir: &Path, progress: Bars, out: &mut dyn Write) -> Result<EvalReport> {
    let config = EvalConfig {
        progress,
        ..EvalConfig::default()
    };
    let report = evaluate(photos_dir, &config)?;
    print_report(&report, out)?;
    Ok(report)
}

/// Runs the evaluation with a given configuration.
pub fn evaluate(photos_dir: &Path, config: &EvalConfig) -> Result<EvalReport> {
    let files = photo_files(photos_dir)?;
    if files.len() < 2 {
        return Err(Error::Other(format!(
            "{}: the evaluation needs at least 2 photos (found {})",
            photos_dir.display(),
            files.len()
        )));
    }
    let photos: Vec<(String, RgbImage)> = files
        .iter()
        .map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            load_rgb(f, config.max_side_px).map(|img| (name, img))
        })
        .collect::<Result<_>>()?;

    // References: every photo, encoded as an official JPEG would be.
    let mut index = ReferenceIndex::new();
    for (name, img) in &photos {
        let bytes = encode(img, Encoding::Jpeg(92))?;
        index.add_bytes(name, &bytes)?;
    }

    let all = edits();
    let mut chains: Vec<Vec<Edit>> = all.iter().map(|e| vec![*e]).collect();
    if config.pairs {
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                chains.push(vec![all[i], all[j]]);
            }
        }
    }
    let trials = chains.len() * photos.len() * config.draws;
    let bar = config
        .progress
        .counter("eval-images: trials", trials as u64);
    let mut transforms: Vec<TransformRecall> = chains
        .par_iter()
        .enumerate()
        .map(|(ci, chain)| {
            let name = chain.iter().map(|e| e.name).collect::<Vec<_>>().join(" + ");
            let mut rng = Rng::new(0x5EED ^ (ci as u64) << 20);
            let mut scores = Vec::new();
            let mut trial_photos = Vec::new();
            for (pname, img) in &photos {
                for _ in 0..config.draws {
                    let bytes = make_copy(img, chain, &mut rng)?;
                    let cands = index.candidates_bytes(&bytes, pname)?;
                    let right = cands.iter().find(|c| &c.reference == pname).map(Score::of);
                    let others = cands
                        .iter()
                        .filter(|c| &c.reference != pname)
                        .map(Score::of)
                        .collect();
                    scores.push((right, others));
                    trial_photos.push(pname.clone());
                    bar.inc(1);
                }
            }
            Ok(TransformRecall {
                transform: name,
                trials: scores.len(),
                found: 0,
                recall: 0.0,
                scores,
                photos: trial_photos,
            })
        })
        .collect::<Result<_>>()?;
    bar.finish();

    // Unrelated set: non-overlapping tiles.
    let mut tiles: Vec<(String, RgbImage)> = Vec::new();
    for (name, img) in &photos {
        let g = config.tiles_per_side.max(1);
        let (tw, th) = (img.width() / g, img.height() / g);
        if tw < 32 || th < 32 {
            continue;
        }
        for ty in 0..g {
            for tx in 0..g {
                let tile = image::imageops::crop_imm(img, tx * tw, ty * th, tw, th).to_image();
                tiles.push((format!("{name}#{tx},{ty}"), tile));
            }
        }
    }
    let mut tile_index = ReferenceIndex::new();
    let tile_bytes: Vec<Vec<u8>> = tiles
        .par_iter()
        .map(|(_, t)| encode(t, Encoding::Jpeg(85)))
        .collect::<Result<_>>()?;
    for ((name, _), bytes) in tiles.iter().zip(&tile_bytes) {
        tile_index.add_bytes(name, bytes)?;
    }
    // (both tiles from one photo, score, "tile ~ reference") of every pair
    // that reached the second stage.
    let bar = config
        .progress
        .counter("eval-images: tiles compared", tiles.len() as u64);
    let near: Vec<(bool, Score, String)> = tiles
        .par_iter()
        .zip(tile_bytes.par_iter())
        .map(|((name, _), bytes)| {
            let photo = photo_of(name);
            bar.inc(1);
            Ok(tile_index
                .all_candidates_bytes_except(bytes, name, name)?
                .iter()
                .filter(|m| &m.reference != name)
                .map(|m| {
                    (
                        photo_of(&m.reference) == photo,
                        Score::of(m),
                        format!("{name} ~ {}", m.reference),
                    )
                })
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    bar.finish();
    // Ordered pairs of tiles of different photos; pairs of tiles of one
    // photo (the same wall, the same sky) are counted apart.
    let mut per_photo: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (name, _) in &tiles {
        *per_photo.entry(photo_of(name)).or_default() += 1;
    }
    let same_photo_pairs: usize = per_photo.values().map(|n| n * n.saturating_sub(1)).sum();
    let pairs = tiles.len() * tiles.len().saturating_sub(1) - same_photo_pairs;

    let found_at = |t: &TransformRecall, thr: Score| {
        t.scores
            .iter()
            .filter(|(right, others)| trial_found(*right, others, thr))
            .count()
    };
    let false_at = |thr: Score, same: bool| {
        near.iter()
            .filter(|(s, score, _)| *s == same && score.passes(thr))
            .count()
    };
    let row = |thr: Score| {
        let recalls: Vec<(String, f64)> = transforms
            .iter()
            .map(|t| {
                (
                    t.transform.clone(),
                    found_at(t, thr) as f64 / t.trials.max(1) as f64,
                )
            })
            .collect();
        let (worst, min_recall) = recalls
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .cloned()
            .unwrap_or_default();
        let mean_recall = recalls.iter().map(|r| r.1).sum::<f64>() / recalls.len().max(1) as f64;
        let on_target = recalls.iter().filter(|r| r.1 >= RECALL_TARGET).count();
        let fm = false_at(thr, false);
        ThresholdRow {
            threshold: thr.similarity,
            detail: thr.detail,
            min_recall,
            mean_recall,
            on_target,
            worst_transform: worst,
            false_matches: fm,
            false_match_rate: fm as f64 / pairs.max(1) as f64,
            same_photo_matches: false_at(thr, true),
        }
    };
    let chosen = Score {
        similarity: MATCH_SIMILARITY,
        detail: MATCH_DETAIL,
        independent_samples: 0.0,
        start: super::verify::Start::Variant,
        rotation_deg: 0.0,
    };
    let sweep: Vec<ThresholdRow> = (70..=99)
        .map(|pct| {
            row(Score {
                similarity: pct as f32 / 100.0,
                ..chosen
            })
        })
        .collect();
    let detail_sweep: Vec<ThresholdRow> = (0..=19)
        .map(|twentieths| {
            row(Score {
                detail: twentieths as f32 / 20.0,
                ..chosen
            })
        })
        .collect();
    let grid: Vec<ThresholdRow> = [0.85f32, 0.90, 0.93, 0.95, 0.97]
        .iter()
        .flat_map(|&similarity| {
            [0.80f32, 0.85, 0.90, 0.95].map(|detail| {
                row(Score {
                    similarity,
                    detail,
                    independent_samples: 0.0,
                    start: super::verify::Start::Variant,
                    rotation_deg: 0.0,
                })
            })
        })
        .collect();
    for t in &mut transforms {
        t.found = found_at(t, chosen);
        t.recall = t.found as f64 / t.trials.max(1) as f64;
    }
    let false_matches = false_at(chosen, false);
    let false_match_rate = false_matches as f64 / pairs.max(1) as f64;
    let meets_targets = transforms.iter().all(|t| t.recall >= RECALL_TARGET)
        && false_match_rate <= FALSE_MATCH_CEILING;
    Ok(EvalReport {
        photos: photos.len(),
        threshold: MATCH_SIMILARITY,
        detail_threshold: MATCH_DETAIL,
        transforms,
        unrelated_images: tiles.len(),
        unrelated_pairs: pairs,
        false_matches,
        false_match_rate,
        same_photo_pairs,
        same_photo_matches: false_at(chosen, true),
        false_match_pairs: near
            .iter()
            .filter(|(same, score, _)| !same && score.passes(chosen))
            .map(|(_, score, pair)| {
                format!(
                    "{pair}: similarity {:.3}, detail {:.3}, {:.1} independent samples",
                    score.similarity, score.detail, score.independent_samples
                )
            })
            .collect(),
        sweep,
        detail_sweep,
        grid,
        meets_targets,
    })
}

/// Prints the report as plain-text tables.
pub fn print_report(r: &EvalReport, out: &mut dyn Write) -> Result<()> {
    let mut s = String::new();
    s.push_str(&format!(
        "photos: {}   thresholds: similarity >= {:.2}, detail >= {:.2}\n\
         unrelated: {} tiles, {} ordered pairs of tiles of different photos\n\n",
        r.photos, r.threshold, r.detail_threshold, r.unrelated_images, r.unrelated_pairs
    ));
    s.push_str(&format!(
        "{:<44} {:>6} {:>6} {:>8} {:>11} {:>10}\n",
        "transform", "trials", "found", "recall", "not in hash", "median sim"
    ));
    for t in &r.transforms {
        // Misses of the first stage (the right photo was not within the
        // hash radius) versus the second (it was, but correlated too low).
        let not_candidate = t.scores.iter().filter(|(r, _)| r.is_none()).count();
        let mut sims: Vec<f32> = t
            .scores
            .iter()
            .filter_map(|(r, _)| r.map(|r| r.similarity))
            .collect();
        sims.sort_by(|a, b| a.total_cmp(b));
        let median = sims.get(sims.len() / 2).copied().unwrap_or(0.0);
        s.push_str(&format!(
            "{:<44} {:>6} {:>6} {:>7.1}% {:>11} {:>10.3}\n",
            t.transform,
            t.trials,
            t.found,
            t.recall * 100.0,
            not_candidate,
            median
        ));
    }
    let chosen = Score {
        similarity: r.threshold,
        detail: r.detail_threshold,
        independent_samples: 0.0,
        start: super::verify::Start::Variant,
        rotation_deg: 0.0,
    };
    let below: Vec<&TransformRecall> = r
        .transforms
        .iter()
        .filter(|t| t.recall < RECALL_TARGET)
        .collect();
    if !below.is_empty() {
        s.push_str("\nmisses of the transforms under target (photo: why):\n");
    }
    for t in below {
        s.push_str(&format!("  {}\n", t.transform));
        for ((right, others), photo) in t.scores.iter().zip(&t.photos) {
            if trial_found(*right, others, chosen) {
                continue;
            }
            let why = match right {
                None => "not within the hash radius".to_string(),
                Some(r) if r.passes(chosen) => {
                    format!("another reference scored higher than {:.3}", r.similarity)
                }
                Some(r) => format!(
                    "similarity {:.3}, detail {:.3}, {:.1} independent samples",
                    r.similarity, r.detail, r.independent_samples
                ),
            };
            s.push_str(&format!("    {photo}: {why}\n"));
        }
    }
    s.push_str(&format!(
        "\nfalse matches: {} of {} unrelated pairs ({:.2e})\n\
         (tiles of one photo matched: {} of {} pairs; not counted as false)\n",
        r.false_matches,
        r.unrelated_pairs,
        r.false_match_rate,
        r.same_photo_matches,
        r.same_photo_pairs
    ));
    for pair in &r.false_match_pairs {
        s.push_str(&format!("  false match: {pair}\n"));
    }
    let table = |title: &str, rows: &[ThresholdRow], s: &mut String| {
        s.push_str(&format!("\n{title}:\n"));
        s.push_str(&format!(
            "{:>10} {:>7} {:>11} {:>11} {:>9} {:>14} {:>11} {:>11}  worst transform\n",
            "similarity",
            "detail",
            "mean recall",
            "min recall",
            "on target",
            "false matches",
            "rate",
            "same photo"
        ));
        for row in rows {
            s.push_str(&format!(
                "{:>10.2} {:>7.2} {:>10.1}% {:>10.1}% {:>6}/{:<2} {:>14} {:>11.2e} {:>11}  {}\n",
                row.threshold,
                row.detail,
                row.mean_recall * 100.0,
                row.min_recall * 100.0,
                row.on_target,
                r.transforms.len(),
                row.false_matches,
                row.false_match_rate,
                row.same_photo_matches,
                row.worst_transform
            ));
        }
    };
    table("similarity sweep (detail fixed)", &r.sweep, &mut s);
    table("detail sweep (similarity fixed)", &r.detail_sweep, &mut s);
    table("both thresholds", &r.grid, &mut s);
    s.push_str(&format!(
        "\ntargets (recall >= {:.0}% per transform, false matches <= {:.0e}): {}\n",
        RECALL_TARGET * 100.0,
        FALSE_MATCH_CEILING,
        if r.meets_targets { "met" } else { "NOT met" }
    ));
    out.write_all(s.as_bytes())
        .map_err(|e| Error::io("<stdout>", e))
}
