//! Generates the demo brand's official photos and the listing photos of the
//! seed recording from the public-domain originals in `seeds/photos/`.
//!
//! Run from the crate root: `cargo run --release --example make_seed_images`.
//!
//! Writes:
//! - `watchlists/demo/official/{espresso-cup,rocket-launch,astronaut-poster}.jpg`:
//!   the "official" product photos (longest side 800 px, JPEG quality 90);
//! - `seeds/images/NAME-{half,q35,crop5,crop10,watermark,mirror,pad15,rot4}.jpg`,
//!   `NAME.webp` and `NAME.png`: the copies a counterfeiter (or the
//!   authorized store) would post, each made from the official JPEG as
//!   downloaded, because that is what a copier starts from;
//! - `seeds/images/other/*.jpg`: unrelated photos for unrelated listings;
//! - `seeds/images/broken.jpg`: the first 40% of a real JPEG, a photo that
//!   cannot be decoded.
//!
//! Every step is deterministic (no randomness, no timestamps), so running it
//! again reproduces the committed bytes. It ends with a check that prints
//! the perceptual-hash distance of every copy to its official photo, so a
//! change that makes a copy unrecognisable shows up here first.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage};
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Longest side of an official photo, in pixels.
const OFFICIAL_LONGEST_SIDE_PX: u32 = 800;
/// JPEG quality of the official photos.
const OFFICIAL_JPEG_QUALITY: u8 = 90;
/// JPEG quality of most copies: what marketplaces re-encode to.
const COPY_JPEG_QUALITY: u8 = 85;
/// JPEG quality of the heavily recompressed copy.
const LOW_JPEG_QUALITY: u8 = 35;
/// Longest side of the unrelated photos, in pixels.
const OTHER_LONGEST_SIDE_PX: u32 = 640;
/// How much of a real JPEG the broken photo keeps, in percent.
const BROKEN_KEEP_PERCENT: usize = 40;

/// Official photos: output name and source file in `seeds/photos/`.
const OFFICIAL: &[(&str, &str)] = &[
    ("espresso-cup", "coffee.png"),
    ("rocket-launch", "rocket.jpg"),
    ("astronaut-poster", "astronaut.png"),
];

/// Unrelated photos: output name and source file.
const OTHER: &[(&str, &str)] = &[
    ("chelsea", "chelsea.png"),
    ("hubble", "hubble_deep_field.jpg"),
    ("coins", "coins.png"),
    ("brick", "brick.png"),
    ("grass", "grass.png"),
    ("gravel", "gravel.png"),
    ("horse", "horse.png"),
];

fn main() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let photos = root.join("seeds/photos");
    let official_dir = root.join("watchlists/demo/official");
    let images = root.join("seeds/images");
    let other_dir = images.join("other");
    for dir in [&official_dir, &images, &other_dir] {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }

    for (name, source) in OFFICIAL {
        let original = open_rgb(&photos.join(source))?;
        let official = fit_longest(&original, OFFICIAL_LONGEST_SIDE_PX);
        let official_jpeg = encode_jpeg(&official, OFFICIAL_JPEG_QUALITY)?;
        write(&official_dir.join(format!("{name}.jpg")), &official_jpeg)?;

        // What a copier has: the official JPEG as published, decoded.
        let copy = image::load_from_memory(&official_jpeg)?.to_rgb8();
        let (w, h) = copy.dimensions();
        let variants: Vec<(&str, RgbImage, u8)> = vec![
            (
                "half",
                image::imageops::resize(&copy, w / 2, h / 2, FilterType::Lanczos3),
                COPY_JPEG_QUALITY,
            ),
            ("q35", copy.clone(), LOW_JPEG_QUALITY),
            ("crop5", crop_percent(&copy, 5), COPY_JPEG_QUALITY),
            ("crop10", crop_percent(&copy, 10), COPY_JPEG_QUALITY),
            ("watermark", watermark(&copy), COPY_JPEG_QUALITY),
            (
                "mirror",
                image::imageops::flip_horizontal(&copy),
                COPY_JPEG_QUALITY,
            ),
            ("pad15", pad_square(&copy, 15), COPY_JPEG_QUALITY),
            ("rot4", rotate_degrees(&copy, 4.0), COPY_JPEG_QUALITY),
        ];
        for (suffix, img, quality) in &variants {
            write(
                &images.join(format!("{name}-{suffix}.jpg")),
                &encode_jpeg(img, *quality)?,
            )?;
        }
        write(&images.join(format!("{name}.webp")), &encode_webp(&copy)?)?;
        write(&images.join(format!("{name}.png")), &encode_png(&copy)?)?;
    }

    for (name, source) in OTHER {
        let original = open_rgb(&photos.join(source))?;
        let img = fit_longest(&original, OTHER_LONGEST_SIDE_PX);
        write(
            &other_dir.join(format!("{name}.jpg")),
            &encode_jpeg(&img, COPY_JPEG_QUALITY)?,
        )?;
    }

    // A download cut short: the first 40% of a real listing photo.
    let whole = fs::read(other_dir.join("chelsea.jpg"))?;
    let broken = &whole[..whole.len() * BROKEN_KEEP_PERCENT / 100];
    write(&images.join("broken.jpg"), broken)?;

    report_distances(&official_dir, &images)?;
    Ok(())
}

/// Opens an image as RGB; transparent pixels (horse.png) become white, as a
/// marketplace shows them.
fn open_rgb(path: &Path) -> Result<RgbImage> {
    let img = image::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (x, y, p) in rgba.enumerate_pixels() {
        let a = p[3] as u32;
        let blend = |c: u8| ((c as u32 * a + 255 * (255 - a)) / 255) as u8;
        out.put_pixel(x, y, Rgb([blend(p[0]), blend(p[1]), blend(p[2])]));
    }
    Ok(out)
}

/// Scales so the longest side is `longest` pixels (up or down).
fn fit_longest(img: &RgbImage, longest: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let scale = longest as f64 / w.max(h) as f64;
    let nw = ((w as f64 * scale).round() as u32).max(1);
    let nh = ((h as f64 * scale).round() as u32).max(1);
    image::imageops::resize(img, nw, nh, FilterType::Lanczos3)
}

/// Cuts `percent` of the width and height off every side.
fn crop_percent(img: &RgbImage, percent: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let dx = w * percent / 100;
    let dy = h * percent / 100;
    image::imageops::crop_imm(img, dx, dy, w - 2 * dx, h - 2 * dy).to_image()
}

/// A reseller's banner across the lower part of the photo: a semi-opaque
/// dark band covering about 12% of the area with blocky light "letters"
/// standing for a shop name and a URL, drawn with rectangles only.
fn watermark(img: &RgbImage) -> RgbImage {
    let mut out = img.clone();
    let (w, h) = out.dimensions();
    let band_h = h * 12 / 100;
    let top = h - band_h - h * 6 / 100;
    blend_rect(&mut out, 0, top, w, band_h, Rgb([20, 20, 30]), 0.72);
    // Shop name: blocks of letter-like shapes of varying width.
    let letter_h = band_h * 55 / 100;
    let letter_top = top + (band_h - letter_h) / 2;
    let mut x = w / 20;
    let widths = [3u32, 2, 3, 3, 1, 3, 2, 0, 3, 3, 2, 3, 1, 3];
    for (i, units) in widths.iter().enumerate() {
        let unit = (w / 90).max(2);
        if *units == 0 {
            x += unit * 3; // a space between words
            continue;
        }
        let lw = unit * units;
        if x + lw >= w {
            break;
        }
        // Letters are hollow-ish: a frame with a bar, like a block font.
        let stroke = (unit / 2).max(1);
        fill_rect(&mut out, x, letter_top, lw, stroke, Rgb([245, 245, 245]));
        fill_rect(
            &mut out,
            x,
            letter_top + letter_h - stroke,
            lw,
            stroke,
            Rgb([245, 245, 245]),
        );
        fill_rect(
            &mut out,
            x,
            letter_top,
            stroke,
            letter_h,
            Rgb([245, 245, 245]),
        );
        if i % 2 == 0 {
            fill_rect(
                &mut out,
                x,
                letter_top + letter_h / 2,
                lw,
                stroke,
                Rgb([245, 245, 245]),
            );
        }
        x += lw + unit;
    }
    // A logo square at the right end of the band.
    let logo = band_h * 70 / 100;
    fill_rect(
        &mut out,
        w - logo - w / 20,
        top + (band_h - logo) / 2,
        logo,
        logo,
        Rgb([230, 60, 40]),
    );
    out
}

/// Draws the image centred on a white square whose margins are `percent`
/// of the side on every edge.
fn pad_square(img: &RgbImage, percent: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let inner = w.max(h);
    let side = inner * 100 / (100 - 2 * percent);
    let mut out = RgbImage::from_pixel(side, side, Rgb([255, 255, 255]));
    let x = (side - w) / 2;
    let y = (side - h) / 2;
    image::imageops::replace(&mut out, img, x as i64, y as i64);
    out
}

/// Rotates about the centre by `degrees` (counter-clockwise), same canvas,
/// corners filled white, bilinear sampling.
fn rotate_degrees(img: &RgbImage, degrees: f64) -> RgbImage {
    let (w, h) = img.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let cx = (w as f64 - 1.0) / 2.0;
    let cy = (h as f64 - 1.0) / 2.0;
    let mut out = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for y in 0..h {
        for x in 0..w {
            // Inverse mapping: where in the source does this pixel come from.
            let dx = x as f64 - cx;
            let dy = y as f64 - cy;
            let sx = cos * dx - sin * dy + cx;
            let sy = sin * dx + cos * dy + cy;
            if let Some(p) = bilinear(img, sx, sy) {
                out.put_pixel(x, y, p);
            }
        }
    }
    out
}

fn bilinear(img: &RgbImage, x: f64, y: f64) -> Option<Rgb<u8>> {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f64 || y > (h - 1) as f64 {
        return None;
    }
    let x0 = x.floor() as u32;
    let y0 = y.floor() as u32;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = x - x0 as f64;
    let fy = y - y0 as f64;
    let mut px = [0u8; 3];
    for (c, out) in px.iter_mut().enumerate() {
        let v = img.get_pixel(x0, y0)[c] as f64 * (1.0 - fx) * (1.0 - fy)
            + img.get_pixel(x1, y0)[c] as f64 * fx * (1.0 - fy)
            + img.get_pixel(x0, y1)[c] as f64 * (1.0 - fx) * fy
            + img.get_pixel(x1, y1)[c] as f64 * fx * fy;
        *out = v.round().clamp(0.0, 255.0) as u8;
    }
    Some(Rgb(px))
}

fn fill_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>) {
    blend_rect(img, x, y, w, h, color, 1.0);
}

fn blend_rect(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, color: Rgb<u8>, alpha: f64) {
    let (iw, ih) = img.dimensions();
    for yy in y..(y + h).min(ih) {
        for xx in x..(x + w).min(iw) {
            let p = img.get_pixel_mut(xx, yy);
            for c in 0..3 {
                let v = p[c] as f64 * (1.0 - alpha) + color[c] as f64 * alpha;
                p[c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality).encode_image(img)?;
    Ok(out)
}

fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

fn encode_webp(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
    Ok(())
}

/// Prints the gradient-hash distance (8x8, image_hasher's default) of every
/// seed image to every official photo, and whether the broken photo fails
/// to decode, as it must.
fn report_distances(official_dir: &Path, images: &Path) -> Result<()> {
    let hasher = image_hasher::HasherConfig::new().to_hasher();
    let mut officials = Vec::new();
    for (name, _) in OFFICIAL {
        let img = image::open(official_dir.join(format!("{name}.jpg")))?;
        officials.push((*name, hasher.hash_image(&img)));
    }
    let mut files: Vec<PathBuf> = fs::read_dir(images)?
        .chain(fs::read_dir(images.join("other"))?)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    println!("\ndistance (bits of 64) to the nearest official photo:");
    for path in files {
        let shown = path.strip_prefix(images).unwrap_or(&path).display();
        match image::open(&path) {
            Ok(img) => {
                let img: DynamicImage = img;
                let hash = hasher.hash_image(&img);
                let best = officials
                    .iter()
                    .map(|(name, h)| (hash.dist(h), *name))
                    .min();
                if let Some((dist, name)) = best {
                    println!("  {shown:<36} {name:<18} {dist:>2}");
                }
            }
            Err(e) => println!("  {shown:<36} does not decode: {e}"),
        }
    }
    Ok(())
}
