//! Hostile and broken images: decompression bombs (huge declared
//! dimensions), truncated and corrupt files fail with an error naming the
//! source, under the limits, without a crash or a huge allocation.

use knockoff::imagehash::{self, decode::MAX_DIMENSION_PX, ReferenceIndex};

fn seed_jpeg() -> Vec<u8> {
    let img = image::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/seeds/photos/coffee.png"
    ))
    .expect("seed photo")
    .to_rgb8();
    imagehash::eval::encode(&img, imagehash::eval::Encoding::Jpeg(85)).expect("encode")
}

/// Rewrites the SOF0/SOF2 frame size of a JPEG.
fn jpeg_with_size(mut bytes: Vec<u8>, w: u16, h: u16) -> Vec<u8> {
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] == 0xFF && matches!(bytes[i + 1], 0xC0..=0xC2) {
            bytes[i + 5..i + 7].copy_from_slice(&h.to_be_bytes());
            bytes[i + 7..i + 9].copy_from_slice(&w.to_be_bytes());
            return bytes;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        i += 2 + len;
    }
    panic!("no SOF marker in the test JPEG");
}

/// A PNG with a valid IHDR (CRC included) declaring `w`×`h`, and one tiny
/// IDAT: the classic bomb header.
fn png_with_size(w: u32, h: u32) -> Vec<u8> {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        out
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // zlib stream of a few zero bytes.
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn assert_image_error(bytes: &[u8], what: &str) -> String {
    match imagehash::hash_image(bytes, what) {
        Ok(h) => panic!("{what}: expected an error, got {h:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains(what), "error should name the source: {msg}");
            msg
        }
    }
}

#[test]
fn jpeg_bomb_with_huge_declared_size_is_refused_before_decoding() {
    let bomb = jpeg_with_size(seed_jpeg(), 65_000, 65_000);
    let msg = assert_image_error(&bomb, "bomb.jpg");
    assert!(msg.contains("exceeds the limit"), "{msg}");
}

#[test]
fn png_bomb_with_huge_declared_size_is_refused() {
    let msg = assert_image_error(&png_with_size(100_000, 100_000), "bomb.png");
    assert!(msg.contains("exceeds the limit"), "{msg}");
    // Just over the per-side limit, with a pixel count a decoder could
    // otherwise try to allocate.
    let msg = assert_image_error(&png_with_size(MAX_DIMENSION_PX + 1, 2), "wide.png");
    assert!(msg.contains("exceeds the limit"), "{msg}");
}

#[test]
fn png_within_limits_but_truncated_data_is_an_error() {
    assert_image_error(&png_with_size(4000, 4000), "short.png");
}

#[test]
fn truncated_and_corrupt_files_are_errors() {
    let jpeg = seed_jpeg();
    assert_image_error(&jpeg[..jpeg.len() / 3], "truncated.jpg");
    assert_image_error(&jpeg[..20], "header-only.jpg");
    let mut garbled = jpeg.clone();
    for b in garbled.iter_mut().skip(600).step_by(7) {
        *b = 0xFF;
    }
    // Garbled entropy data may decode to noise or fail; it must not panic.
    let _ = imagehash::hash_image(&garbled, "garbled.jpg");
    assert_image_error(b"", "empty.jpg");
    assert_image_error(b"<html>not an image</html>", "page.html");
    assert_image_error(&[0xFF, 0xD8, 0xFF], "stub.jpg");
}

#[test]
fn reference_index_reports_bad_reference_and_bad_photo() {
    let mut idx = ReferenceIndex::new();
    assert!(idx.add_bytes("broken.jpg", b"nope").is_err());
    assert!(idx.is_empty());
    idx.add_bytes("coffee.jpg", &seed_jpeg())
        .expect("good reference");
    assert!(idx
        .best_match_bytes(b"\x89PNG\r\n\x1a\n", "listing.png")
        .is_err());
}
