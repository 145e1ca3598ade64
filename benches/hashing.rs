//! Hashing throughput: images per second per core through read + decode +
//! hash for an 800×800 photo (JPEG q85, PNG, WebP), per hash kind, against
//! decode-only and the `image` + `image_hasher` baseline; and a batch on
//! all cores. Run with `cargo bench --bench hashing`; results in
//! BENCHMARKS.md.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use knockoff::judge::imagehash::{self, decode, hash, plane::View};

/// Writes the benchmark inputs (an 800×800 crop-and-resize of a seed photo)
/// into target/, so the timed path includes reading a real file.
fn inputs() -> Vec<(&'static str, PathBuf)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos/astronaut.png");
    let img = image::open(&src).expect("seed photo").to_rgb8();
    let img = image::imageops::resize(&img, 800, 800, image::imageops::FilterType::Triangle);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-inputs");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut out = Vec::new();
    for (kind, enc) in [
        ("jpeg_q85", imagehash::eval::Encoding::Jpeg(85)),
        ("png", imagehash::eval::Encoding::Png),
        ("webp", imagehash::eval::Encoding::WebP),
    ] {
        let bytes = imagehash::eval::encode(&img, enc).expect("encode");
        let ext = match enc {
            imagehash::eval::Encoding::Jpeg(_) => "jpg",
            imagehash::eval::Encoding::Png => "png",
            imagehash::eval::Encoding::WebP => "webp",
        };
        let path = dir.join(format!("astronaut-800.{ext}"));
        std::fs::write(&path, bytes).expect("write input");
        out.push((kind, path));
    }
    out
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read input")
}

fn phash_only(bytes: &[u8]) -> u64 {
    let d = decode::decode(bytes, "bench").expect("decode");
    let thumb = d.plane.sample(&View::of(d.plane.full_rect()), 32, 32);
    hash::phash_of_thumb(&thumb)
}

fn dhash_only(bytes: &[u8]) -> u64 {
    let d = decode::decode(bytes, "bench").expect("decode");
    let grid = d.plane.sample(&View::of(d.plane.full_rect()), 9, 8);
    hash::dhash_of_grid(&grid)
}

fn bench(c: &mut Criterion) {
    let files = inputs();
    for (kind, path) in &files {
        let mut g = c.benchmark_group(*kind);
        g.throughput(Throughput::Elements(1));
        g.bench_function("decode_only", |b| {
            b.iter(|| black_box(decode::decode(&read(path), "bench").expect("decode")))
        });
        g.bench_function("read_decode_phash", |b| {
            b.iter(|| black_box(phash_only(&read(path))))
        });
        g.bench_function("read_decode_dhash", |b| {
            b.iter(|| black_box(dhash_only(&read(path))))
        });
        g.bench_function("read_decode_hash_all", |b| {
            b.iter(|| black_box(imagehash::hash_image(&read(path), "bench").expect("hash")))
        });
        g.bench_function("image_hasher_baseline", |b| {
            let hasher = image_hasher::HasherConfig::new().to_hasher();
            b.iter(|| {
                let img = image::load_from_memory(&read(path)).expect("decode");
                black_box(hasher.hash_image(&img))
            })
        });
        g.finish();
    }
    // A batch on every core: elements are images, so the figure is the
    // machine's throughput, not per core.
    let (_, jpeg) = &files[0];
    let batch: Vec<(String, Vec<u8>)> = (0..64).map(|i| (format!("img{i}"), read(jpeg))).collect();
    let mut g = c.benchmark_group("jpeg_q85_batch_all_cores");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("hash_images_parallel", |b| {
        b.iter(|| black_box(imagehash::hash_images_parallel(&batch)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
