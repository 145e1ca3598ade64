//! Hostile and broken images: decompression bombs (huge declared
//! dimensions), truncated and corrupt files fail with an error naming the
//! source, under the limits, without a crash or a huge allocation.

use knockoff::judge::imagehash::{self, decode::MAX_DIMENSION_PX, ReferenceIndex};

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

/// A valid 8192×8192 RGBA16 PNG of transparent black: about half a
/// megabyte on disk, 512 MiB of pixels decoded.
fn rgba16_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write;
        const SIDE: u32 = 8192;
        let mut ihdr = SIDE.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&SIDE.to_be_bytes());
        ihdr.extend_from_slice(&[16, 6, 0, 0, 0]); // 16-bit RGBA
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let row = vec![0u8; 1 + SIDE as usize * 8]; // filter byte + pixels
        for _ in 0..SIDE {
            z.write_all(&row).unwrap();
        }
        let idat = z.finish().unwrap();
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let mut out = (data.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let mut crc_input = kind.to_vec();
            crc_input.extend_from_slice(data);
            out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
            out
        };
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &ihdr));
        png.extend(chunk(b"IDAT", &idat));
        png.extend(chunk(b"IEND", &[]));
        png
    })
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Issue 19, finding 8: an 8192×8192 RGBA16 PNG (64 megapixels, within the
/// pixel-count limit, but 512 MiB of pixels) is refused from its header
/// against the memory budget, as a listing photo and as an official photo,
/// with an error naming it; nothing near its decoded size is allocated.
#[test]
fn regression_issue19_rgba16_png_over_the_memory_budget_is_refused() {
    let bomb = rgba16_bomb();
    assert!(bomb.len() < 2 * 1024 * 1024, "{} bytes", bomb.len());
    let msg = assert_image_error(bomb, "https://ae01.alicdn.com/kf/bomb16.png");
    assert!(msg.contains("exceeds the limit"), "{msg}");
    assert!(msg.contains("MAX_DECODE_MEMORY_BYTES"), "{msg}");
    assert!(msg.contains("8192x8192"), "{msg}");
    // The official side: a reference photo goes through the same decoder.
    let mut idx = ReferenceIndex::new();
    let err = idx
        .add_bytes("demo/official/bomb16.png", bomb)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("demo/official/bomb16.png") && err.contains("exceeds the limit"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb16.png");
    std::fs::write(&file, bomb).unwrap();
    let err = match imagehash::load_reference_dir(dir.path()) {
        Ok(_) => panic!("a reference folder with the bomb loaded"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("bomb16.png") && err.contains("exceeds the limit"),
        "{err}"
    );
    if let Some(peak) = peak_rss_mib() {
        assert!(peak < 256, "peak RSS {peak} MiB");
    }
}

/// Issue 19, finding 8, through the binary: a replayed listing photo that
/// is the RGBA16 bomb is reported as a problem naming its URL, the scan
/// goes on (exit 0, other findings still made), and the process stays far
/// below the bomb's decoded size.
#[test]
fn regression_issue19_scan_refuses_an_image_over_the_memory_budget() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path().join("seeds");
    let mut stack = vec![(root.join("seeds"), rec.clone())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push((e.path(), to.join(e.file_name())));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    // The photo recorded for this URL becomes the bomb.
    let url = "https://ae01.alicdn.com/kf/S27f237e6b7f96587b6202ff3607ad88aQ.jpg";
    std::fs::write(rec.join("images/espresso-cup-q35.jpg"), rgba16_bomb()).unwrap();
    let data = tmp.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(["scan", "--replay"])
        .arg(&rec)
        .arg("--data")
        .arg(&data)
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("[image]") && l.contains(url))
        .unwrap_or_else(|| panic!("no problem for {url} in {stdout}"));
    assert!(line.contains("exceeds the limit"), "{line}");
    assert!(stdout.contains("FLAG"), "{stdout}");
    // Peak RSS of the finished child (Linux: kilobytes).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0 {
        let peak_mib = usage.ru_maxrss as u64 / 1024;
        assert!(peak_mib < 400, "scan peaked at {peak_mib} MiB");
    }
}
