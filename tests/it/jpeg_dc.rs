//! The DC-only JPEG path against a full decoder (jpeg-decoder at 1/8 scale)
//! on real photos encoded every way marketplaces do: grey, each chroma
//! subsampling, progressive, restart intervals, odd sizes; and its refusals
//! and robustness on what it does not handle or is broken.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use knockoff::judge::imagehash::decode;
use knockoff::judge::imagehash::jpeg_dc::{luma_eighth, Limits, Unsupported};
use proptest::prelude::*;

const LIMITS: Limits = Limits {
    max_side: decode::MAX_DIMENSION_PX,
    max_pixels: decode::MAX_PIXELS,
    min_eighth_side: 64,
};

/// A seed photo resized to an odd size (edge MCUs are partly outside).
fn photo(name: &str, w: u32, h: u32) -> image::RgbImage {
    let path = format!("{}/seeds/photos/{name}", env!("CARGO_MANIFEST_DIR"));
    let img = image::open(&path).expect("seed photo").to_rgb8();
    image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
}

#[derive(Clone, Copy, Debug)]
struct Options {
    grey: bool,
    sampling: SamplingFactor,
    progressive: bool,
    restart: Option<u16>,
    optimized: bool,
    quality: u8,
}

const BASE: Options = Options {
    grey: false,
    sampling: SamplingFactor::F_2_2,
    progressive: false,
    restart: None,
    optimized: false,
    quality: 85,
};

fn encode(img: &image::RgbImage, o: Options) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, o.quality);
    enc.set_sampling_factor(o.sampling);
    enc.set_progressive(o.progressive);
    enc.set_optimized_huffman_tables(o.optimized);
    if let Some(r) = o.restart {
        enc.set_restart_interval(r);
    }
    let (w, h) = (img.width() as u16, img.height() as u16);
    if o.grey {
        let grey = image::DynamicImage::ImageRgb8(img.clone()).to_luma8();
        enc.encode(grey.as_raw(), w, h, ColorType::Luma)
            .expect("encode grey");
    } else {
        enc.encode(img.as_raw(), w, h, ColorType::Rgb)
            .expect("encode colour");
    }
    out
}

/// jpeg-decoder's 1/8-scale output, as grey levels (BT.601 luma for colour).
fn reference_eighth(bytes: &[u8]) -> (usize, usize, Vec<f32>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().expect("header");
    let (w, h) = d.scale(64, 64).expect("scale");
    let px = d.decode().expect("decode");
    let info = d.info().expect("info");
    let grey = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => px.iter().map(|&v| v as f32).collect(),
        jpeg_decoder::PixelFormat::RGB24 => px
            .chunks_exact(3)
            .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
            .collect(),
        other => panic!("unexpected pixel format {other:?}"),
    };
    (w as usize, h as usize, grey)
}

/// Mean and largest absolute difference between the DC path and the
/// reference decoder.
fn compare(bytes: &[u8]) -> (f32, f32) {
    let ours = luma_eighth(bytes, LIMITS).expect("DC path handles this file");
    let (w, h, reference) = reference_eighth(bytes);
    assert_eq!((ours.eighth_width, ours.eighth_height), (w, h));
    assert_eq!(ours.pixels.len(), reference.len());
    let diffs: Vec<f32> = ours
        .pixels
        .iter()
        .zip(&reference)
        .map(|(&a, &b)| (a as f32 - b).abs())
        .collect();
    let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
    let max = diffs.iter().cloned().fold(0.0, f32::max);
    (mean, max)
}

#[test]
fn grey_matches_the_full_decoder_to_rounding() {
    for name in ["coffee.png", "brick.png"] {
        let img = photo(name, 803, 611);
        let bytes = encode(&img, Options { grey: true, ..BASE });
        let (mean, max) = compare(&bytes);
        assert!(max <= 1.0, "{name}: grey differs by up to {max} levels");
        assert!(mean < 0.6, "{name}: mean difference {mean}");
    }
}

#[test]
fn every_colour_layout_matches_the_full_decoder() {
    let img = photo("chelsea.png", 811, 597);
    let cases = [
        ("4:2:0", BASE),
        (
            "4:4:4",
            Options {
                sampling: SamplingFactor::F_1_1,
                ..BASE
            },
        ),
        (
            "4:2:2",
            Options {
                sampling: SamplingFactor::F_2_1,
                ..BASE
            },
        ),
        (
            "4:4:0",
            Options {
                sampling: SamplingFactor::F_1_2,
                ..BASE
            },
        ),
        (
            "4:1:1",
            Options {
                sampling: SamplingFactor::F_4_1,
                ..BASE
            },
        ),
        (
            "progressive 4:2:0",
            Options {
                progressive: true,
                ..BASE
            },
        ),
        (
            "progressive 4:4:4",
            Options {
                progressive: true,
                sampling: SamplingFactor::F_1_1,
                ..BASE
            },
        ),
        (
            "restart every MCU",
            Options {
                restart: Some(1),
                ..BASE
            },
        ),
        (
            "restart every 7 MCUs",
            Options {
                restart: Some(7),
                ..BASE
            },
        ),
        (
            // (jpeg-encoder cannot combine optimised tables with restarts)
            "optimised Huffman tables",
            Options {
                optimized: true,
                ..BASE
            },
        ),
        (
            "progressive with restarts",
            Options {
                progressive: true,
                restart: Some(5),
                ..BASE
            },
        ),
        (
            "quality 30",
            Options {
                quality: 30,
                ..BASE
            },
        ),
        (
            "quality 97",
            Options {
                quality: 97,
                sampling: SamplingFactor::F_1_1,
                ..BASE
            },
        ),
    ];
    for (what, o) in cases {
        let bytes = encode(&img, o);
        let (mean, max) = compare(&bytes);
        // Luma from DC against luma recomputed from upsampled, clamped RGB:
        // the same picture up to rounding and the odd saturated pixel.
        assert!(mean < 1.0, "{what}: mean difference {mean} levels");
        assert!(max <= 12.0, "{what}: largest difference {max} levels");
    }
}

#[test]
fn the_image_crate_encoder_output_matches_too() {
    // What the benchmark, the evaluation and many tools write.
    let img = photo("horse.png", 800, 800);
    let bytes = knockoff::judge::imagehash::eval::encode(
        &img,
        knockoff::judge::imagehash::eval::Encoding::Jpeg(85),
    )
    .expect("encode");
    let (mean, max) = compare(&bytes);
    assert!(mean < 1.0 && max <= 12.0, "mean {mean}, max {max}");
}

#[test]
fn declines_what_it_does_not_handle() {
    let small = photo("coins.png", 400, 400);
    assert_eq!(
        luma_eighth(&encode(&small, BASE), LIMITS),
        Err(Unsupported("too small for 1/8 scale"))
    );
    let img = photo("coins.png", 640, 640);
    let mut cmyk = Vec::new();
    let rgba: Vec<u8> = img.pixels().flat_map(|p| [p[0], p[1], p[2], 0]).collect();
    Encoder::new(&mut cmyk, 85)
        .encode(&rgba, 640, 640, ColorType::Cmyk)
        .expect("encode cmyk");
    assert!(luma_eighth(&cmyk, LIMITS).is_err(), "CMYK is declined");
    // The full path still decodes both (through the fallback).
    decode::decode(&encode(&small, BASE), "small.jpg").expect("small photo decodes");
    decode::decode(&cmyk, "cmyk.jpg").expect("CMYK photo decodes");
    assert!(luma_eighth(b"\x89PNG\r\n", LIMITS).is_err());
}

#[test]
fn a_truncated_scan_is_declined_and_then_reported() {
    let bytes = encode(&photo("gravel.png", 800, 800), BASE);
    let cut = &bytes[..bytes.len() * 2 / 3];
    assert_eq!(
        luma_eighth(cut, LIMITS),
        Err(Unsupported("entropy data ended early"))
    );
    let err = decode::decode(cut, "cut.jpg").expect_err("truncated photo is an error");
    assert!(err.to_string().contains("cut.jpg"), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn full_decode_goes_through_the_dc_path_with_the_same_plane() {
    // decode() on a large JPEG gives the DC path's plane, reduced.
    let bytes = encode(&photo("astronaut.png", 800, 800), BASE);
    let d = decode::decode(&bytes, "a.jpg").expect("decode");
    assert_eq!((d.width, d.height), (800, 800));
    let luma = luma_eighth(&bytes, LIMITS).expect("DC path");
    let expected =
        knockoff::judge::imagehash::plane::Plane::from_interleaved(100, 100, 1, &luma.pixels)
            .reduced(knockoff::judge::imagehash::plane::PLANE_MAX_SIDE_PX);
    assert_eq!(d.plane, expected);
}

fn sample_jpeg() -> &'static [u8] {
    use std::sync::OnceLock;
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        encode(
            &photo("grass.png", 520, 520),
            Options {
                restart: Some(3),
                ..BASE
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Damaged files never panic the DC path, and when it accepts one the
    /// output has the declared 1/8 size.
    #[test]
    fn damaged_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = sample_jpeg().to_vec();
        for (at, value) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        let keep = bytes.len() / 2 + cut.index(bytes.len() / 2 + 1);
        bytes.truncate(keep);
        if let Ok(luma) = luma_eighth(&bytes, LIMITS) {
            prop_assert_eq!(luma.pixels.len(), luma.eighth_width * luma.eighth_height);
            prop_assert_eq!(luma.eighth_width, luma.width.div_ceil(8) as usize);
        }
        let _ = decode::decode(&bytes, "damaged.jpg");
    }
}

#[test]
fn real_jpegs_in_seeds_agree_with_the_full_decoder() {
    // JPEGs written by other encoders than ours (the public-domain photos
    // of seeds/photos, the listing photos of seeds/images): every one the
    // DC path accepts must agree with jpeg-decoder.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut accepted = Vec::new();
    for sub in ["photos", "images"] {
        for entry in std::fs::read_dir(root.join(sub)).expect("seed folder") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("jpg") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read seed");
            if luma_eighth(&bytes, LIMITS).is_err() {
                continue;
            }
            let (mean, max) = compare(&bytes);
            assert!(
                mean < 1.0 && max <= 12.0,
                "{}: mean {mean}, max {max}",
                path.display()
            );
            accepted.push(path);
        }
    }
    assert!(
        accepted.len() >= 5,
        "the DC path took too few seed JPEGs: {accepted:?}"
    );
}
