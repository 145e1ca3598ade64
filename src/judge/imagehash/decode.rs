//! Decoding untrusted image bytes into a small grey [`Plane`], fast and
//! under hard limits.
//!
//! * A hash needs about 64 pixels a side, so JPEG is decoded in the DCT
//!   domain at the smallest scale that keeps that many. At 1/8 scale (any
//!   photo of 512 px a side or more) [`jpeg_dc`] reads the luma DC
//!   coefficients and steps over the rest: no inverse DCT, no colour, about
//!   2.5× jpeg-decoder's rate (BENCHMARKS.md). What it declines (smaller
//!   photos, CMYK, arithmetic coding, damaged data) goes to libjpeg-turbo
//!   with the optional `turbojpeg` feature, and to `jpeg-decoder` with DCT
//!   scaling, which also words the error for a broken file.
//! * Everything else (PNG, WebP, GIF, BMP) goes through `image` with
//!   [`image::Limits`] set, then is area-reduced.
//! * Declared dimensions are checked before any pixel buffer is allocated
//!   (decompression bombs), and a decoder panic is caught and reported as an
//!   error naming the source, so one hostile file never takes a scan down.

use super::jpeg_dc;
use super::plane::{Plane, PLANE_MAX_SIDE_PX};
use crate::model::error::{Error, Result};

/// Largest accepted width or height, in pixels. Marketplace photos are a
/// few thousand pixels at most.
pub const MAX_DIMENSION_PX: u32 = 16_384;
/// Largest accepted pixel count (width × height): 64 megapixels.
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// Most a decoder may allocate for one image, in bytes (handed to the
/// decoders as their own allocation limit; equal to the budget below).
pub const MAX_ALLOC_BYTES: u64 = MAX_DECODE_MEMORY_BYTES;
/// Memory budget for decoding one image, in bytes: the decoded pixels
/// (width × height × bytes per pixel of the file's colour type), an 8-bit
/// copy when the colour type is not 8-bit grey/RGB(A), and the working
/// plane (4 bytes a pixel), all computed from the header and checked
/// before any pixel is decoded ([`check_memory`]). Listing and official
/// photos alike. 256 MiB: a 24-megapixel RGB photo fits (168 MiB), an
/// 8192×8192 RGBA16 PNG (512 MiB of pixels) does not.
pub const MAX_DECODE_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// JPEG is decoded at the smallest DCT scale that keeps at least this many
/// pixels on one side.
pub const JPEG_MIN_DECODED_SIDE_PX: u16 = 64;

/// A decoded image: its full declared size and the working plane.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub plane: Plane,
}

fn image_error(source_name: &str, message: impl Into<String>) -> Error {
    Error::Image {
        source_name: source_name.to_string(),
        message: message.into(),
    }
}

/// Checks declared dimensions against the limits.
pub fn check_dimensions(width: u32, height: u32, source_name: &str) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(image_error(
            source_name,
            format!("empty image ({width}x{height})"),
        ));
    }
    if width > MAX_DIMENSION_PX
        || height > MAX_DIMENSION_PX
        || width as u64 * height as u64 > MAX_PIXELS
    {
        return Err(image_error(
            source_name,
            format!(
                "declared size {width}x{height} exceeds the limit \
                 ({MAX_DIMENSION_PX} px a side, {MAX_PIXELS} pixels); refusing to decode"
            ),
        ));
    }
    Ok(())
}

/// Checks what decoding a `width`×`height` image of `bytes_per_pixel`
/// would take against [`MAX_DECODE_MEMORY_BYTES`]: the pixels, an 8-bit
/// copy when `converted`, and the working plane.
pub fn check_memory(
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    converted: bool,
    source_name: &str,
) -> Result<()> {
    let pixels = width as u64 * height as u64;
    let per_pixel = bytes_per_pixel + if converted { 4 } else { 0 } + 4;
    let need = pixels.saturating_mul(per_pixel);
    if need > MAX_DECODE_MEMORY_BYTES {
        return Err(image_error(
            source_name,
            format!(
                "decoding {width}x{height} at {bytes_per_pixel} bytes per pixel needs {} MiB, \
                 which exceeds the limit of {} MiB (MAX_DECODE_MEMORY_BYTES); refusing to decode",
                need.div_ceil(1024 * 1024),
                MAX_DECODE_MEMORY_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// Decodes image bytes (JPEG, PNG, WebP, GIF, BMP) into a working plane.
pub fn decode(bytes: &[u8], source_name: &str) -> Result<Decoded> {
    super::cache::count_decode();
    if bytes.is_empty() {
        return Err(image_error(source_name, "empty file"));
    }
    let result = std::panic::catch_unwind(|| {
        if bytes.starts_with(&[0xFF, 0xD8]) {
            if let Some(d) = decode_jpeg_dc(bytes, source_name) {
                return d;
            }
            #[cfg(feature = "turbojpeg")]
            match decode_jpeg_turbo(bytes, source_name) {
                Ok(d) => return Ok(d),
                Err(e) if is_limit_error(&e) => return Err(e),
                // CMYK, lossless or otherwise unsupported: the default
                // path below gets its try.
                Err(_) => {}
            }
            match decode_jpeg(bytes, source_name) {
                Ok(d) => Ok(d),
                // jpeg-decoder lacks a few rare features (e.g. arithmetic
                // coding); `image` (zune-jpeg) gets a second try, still
                // under limits. Size-limit and truncation errors are final.
                Err(e) if is_limit_error(&e) => Err(e),
                Err(e) => decode_generic(bytes, source_name).map_err(|_| e),
            }
        } else {
            decode_generic(bytes, source_name)
        }
    });
    match result {
        Ok(r) => r,
        Err(_) => Err(image_error(
            source_name,
            "decoder panicked on malformed data",
        )),
    }
}

fn is_limit_error(e: &Error) -> bool {
    matches!(e, Error::Image { message, .. } if message.contains("exceeds the limit") || message.contains("truncated"))
}

/// jpeg-decoder fills a truncated scan with grey and succeeds; a hash of
/// half a photo is wrong evidence, so a missing end-of-image marker after
/// the last scan is an error. (Entropy-coded data escapes 0xFF, so FF D9
/// there is the real marker.)
fn check_not_truncated(bytes: &[u8], source_name: &str) -> Result<()> {
    // Fast path: an end-of-image marker in the last bytes with no scan
    // header after it (the usual file ends in FF D9, maybe with padding).
    let tail_start = bytes.len().saturating_sub(64);
    let tail = &bytes[tail_start..];
    if let Some(eoi) = tail.windows(2).rposition(|w| w == [0xFF, 0xD9]) {
        if !tail[eoi..].windows(2).any(|w| w == [0xFF, 0xDA]) {
            return Ok(());
        }
    }
    let last_scan = bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .unwrap_or(0);
    if !bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(image_error(
            source_name,
            "JPEG data truncated (no end-of-image marker after the last scan)",
        ));
    }
    Ok(())
}

/// The DC-only path ([`jpeg_dc`]) for the photos it handles (most
/// marketplace JPEGs of 512 px a side or more); `None` when it declines, and
/// a full decoder takes over (and words any error).
fn decode_jpeg_dc(bytes: &[u8], source_name: &str) -> Option<Result<Decoded>> {
    let limits = jpeg_dc::Limits {
        max_side: MAX_DIMENSION_PX,
        max_pixels: MAX_PIXELS,
        min_eighth_side: JPEG_MIN_DECODED_SIDE_PX as u32,
    };
    let luma = jpeg_dc::luma_eighth(bytes, limits).ok()?;
    if let Err(e) = check_not_truncated(bytes, source_name) {
        return Some(Err(e));
    }
    let plane = Plane::from_interleaved(luma.eighth_width, luma.eighth_height, 1, &luma.pixels);
    Some(Ok(Decoded {
        width: luma.width,
        height: luma.height,
        plane: plane.reduced(PLANE_MAX_SIDE_PX),
    }))
}

/// Most progressive scans libjpeg-turbo will decode (a file with
/// thousands of tiny scans is a known denial of service).
#[cfg(feature = "turbojpeg")]
pub const JPEG_MAX_SCANS: u32 = 500;

#[cfg(feature = "turbojpeg")]
fn decode_jpeg_turbo(bytes: &[u8], source_name: &str) -> Result<Decoded> {
    let turbo = |what: &str, e: turbojpeg::Error| image_error(source_name, format!("{what}: {e}"));
    let mut d = turbojpeg::Decompressor::new().map_err(|e| turbo("JPEG decoder", e))?;
    let header = d.read_header(bytes).map_err(|e| turbo("JPEG header", e))?;
    let (width, height) = (header.width as u32, header.height as u32);
    check_dimensions(width, height, source_name)?;
    check_not_truncated(bytes, source_name)?;
    // The smallest DCT scale that keeps JPEG_MIN_DECODED_SIDE_PX a side.
    let min = JPEG_MIN_DECODED_SIDE_PX as usize;
    let scale = [8, 4, 2]
        .into_iter()
        .map(|denom| turbojpeg::ScalingFactor::new(1, denom))
        .find(|&f| {
            let s = header.scaled(f);
            s.width >= min && s.height >= min
        })
        .unwrap_or(turbojpeg::ScalingFactor::ONE);
    d.set_scaling_factor(scale)
        .map_err(|e| turbo("JPEG scaling", e))?;
    d.set_scan_limit(JPEG_MAX_SCANS)
        .map_err(|e| turbo("JPEG scan limit", e))?;
    let scaled = header.scaled(scale);
    let (w, h) = (scaled.width, scaled.height);
    let mut pixels = vec![0u8; w * h];
    d.decompress(
        bytes,
        turbojpeg::Image {
            pixels: &mut pixels[..],
            width: w,
            pitch: w,
            height: h,
            format: turbojpeg::PixelFormat::GRAY,
        },
    )
    .map_err(|e| turbo("JPEG data", e))?;
    Ok(Decoded {
        width,
        height,
        plane: Plane::from_interleaved(w, h, 1, &pixels).reduced(PLANE_MAX_SIDE_PX),
    })
}

fn decode_jpeg(bytes: &[u8], source_name: &str) -> Result<Decoded> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(MAX_ALLOC_BYTES as usize);
    decoder
        .read_info()
        .map_err(|e| image_error(source_name, format!("JPEG header: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| image_error(source_name, "JPEG header without a frame"))?;
    let (width, height) = (info.width as u32, info.height as u32);
    check_dimensions(width, height, source_name)?;
    // A progressive JPEG keeps every coefficient (2 bytes a sample) of
    // every component at full size, whatever the output scale.
    if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive {
        let components = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 | jpeg_decoder::PixelFormat::L16 => 1,
            jpeg_decoder::PixelFormat::RGB24 => 3,
            jpeg_decoder::PixelFormat::CMYK32 => 4,
        };
        check_memory(width, height, components * 2, false, source_name)?;
    }
    check_not_truncated(bytes, source_name)?;
    let (sw, sh) = decoder
        .scale(JPEG_MIN_DECODED_SIDE_PX, JPEG_MIN_DECODED_SIDE_PX)
        .map_err(|e| image_error(source_name, format!("JPEG scaling: {e}")))?;
    let pixels = decoder
        .decode()
        .map_err(|e| image_error(source_name, format!("JPEG data: {e}")))?;
    let (sw, sh) = (sw as usize, sh as usize);
    let plane = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => Plane::from_interleaved(sw, sh, 1, &pixels),
        jpeg_decoder::PixelFormat::L16 => {
            // Big-endian 16-bit grey: keep the high byte.
            let px: Vec<u8> = pixels.chunks_exact(2).map(|p| p[0]).collect();
            Plane::from_interleaved(sw, sh, 1, &px)
        }
        jpeg_decoder::PixelFormat::RGB24 => Plane::from_interleaved(sw, sh, 3, &pixels),
        jpeg_decoder::PixelFormat::CMYK32 => {
            // Adobe CMYK JPEGs are stored inverted; jpeg-decoder hands the
            // inverted values over, so white is 255 in every channel.
            let px: Vec<u8> = pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = p[3] as u32;
                    [p[0], p[1], p[2]].map(|c| (c as u32 * k / 255) as u8)
                })
                .collect();
            Plane::from_interleaved(sw, sh, 3, &px)
        }
    };
    Ok(Decoded {
        width,
        height,
        plane: plane.reduced(PLANE_MAX_SIDE_PX),
    })
}

fn decode_generic(bytes: &[u8], source_name: &str) -> Result<Decoded> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| image_error(source_name, format!("reading: {e}")))
    };
    let reader = reader()?;
    if reader.format().is_none() {
        return Err(image_error(source_name, "not a known image format"));
    }
    // The header only: dimensions and colour type, so a bomb is refused
    // (in this module's words) before any pixel buffer is allocated.
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_error(source_name, format!("header: {e}")))?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    check_dimensions(width, height, source_name)?;
    let color = image::ImageDecoder::color_type(&decoder);
    let converted = !matches!(
        color,
        image::ColorType::L8
            | image::ColorType::La8
            | image::ColorType::Rgb8
            | image::ColorType::Rgba8
    );
    check_memory(
        width,
        height,
        color.bytes_per_pixel() as u64,
        converted,
        source_name,
    )?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION_PX);
    limits.max_image_height = Some(MAX_DIMENSION_PX);
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    image::ImageDecoder::set_limits(&mut decoder, limits)
        .map_err(|e| image_error(source_name, e.to_string()))?;
    let img = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| image_error(source_name, e.to_string()))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane = match img {
        image::DynamicImage::ImageLuma8(b) => Plane::from_interleaved(w, h, 1, b.as_raw()),
        image::DynamicImage::ImageLumaA8(b) => Plane::from_interleaved(w, h, 2, b.as_raw()),
        image::DynamicImage::ImageRgb8(b) => Plane::from_interleaved(w, h, 3, b.as_raw()),
        image::DynamicImage::ImageRgba8(b) => Plane::from_interleaved(w, h, 4, b.as_raw()),
        other => Plane::from_interleaved(w, h, 4, other.to_rgba8().as_raw()),
    };
    Ok(Decoded {
        width,
        height,
        plane: plane.reduced(PLANE_MAX_SIDE_PX),
    })
}
