//! Lookup cost against the number of references: an index of N official
//! photos (random 30–60% crops of the photos in a folder, so that many are
//! look-alikes of each other and of the queries, the hard case of a
//! catalogue of studio shots), then each original photo looked up: the
//! first stage alone (hash radius search) and the whole lookup (with the
//! second stage), per photo, against a plain loop over every variant's
//! key; and the first stage at the tight radius of hash-only references
//! (22 bits), where the multi-index tables are probed.
//! `cargo bench --bench index_scale`; `KNOCKOFF_EVAL_PHOTOS=DIR` for
//! another folder than seeds/photos. Results in BENCHMARKS.md.

use knockoff::judge::imagehash::eval::{encode, photo_files, Encoding, Rng};
use knockoff::judge::imagehash::{hash_image, ReferenceIndex, SEARCH_RADIUS};
use std::time::Instant;

fn main() {
    let dir = std::env::var_os("KNOCKOFF_EVAL_PHOTOS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos"));
    let photos: Vec<image::RgbImage> = photo_files(&dir)
        .expect("photo folder")
        .iter()
        .map(|f| image::open(f).expect("photo").to_rgb8())
        .collect();
    let queries: Vec<Vec<u8>> = photos
        .iter()
        .map(|p| encode(p, Encoding::Jpeg(85)).expect("encode"))
        .collect();
    let hashes: Vec<_> = queries
        .iter()
        .map(|q| hash_image(q, "query").expect("hash"))
        .collect();
    let mut rng = Rng::new(7);
    let mut index = ReferenceIndex::new();
    let mut keys: Vec<u128> = Vec::new();
    println!(
        "references  variants  build s  first stage ms/lookup  linear scan ms/lookup  \
         radius 22 ms/lookup  whole lookup ms/photo"
    );
    for target in [50usize, 200, 500] {
        let t0 = Instant::now();
        while index.len() < target {
            let p = &photos[rng.below(photos.len() as u64) as usize];
            let (w, h) = (p.width(), p.height());
            let cw = (w as f64 * rng.range(0.3, 0.6)) as u32;
            let ch = (h as f64 * rng.range(0.3, 0.6)) as u32;
            let x = rng.below((w - cw) as u64) as u32;
            let y = rng.below((h - ch) as u64) as u32;
            let crop = image::imageops::crop_imm(p, x, y, cw, ch).to_image();
            let bytes = encode(&crop, Encoding::Jpeg(90)).expect("encode");
            index
                .add_bytes(&format!("ref{}", index.len()), &bytes)
                .expect("add reference");
        }
        let build = t0.elapsed().as_secs_f64();
        keys.clear();
        keys.extend(index.variant_keys());
        let t1 = Instant::now();
        let mut found = 0;
        for h in &hashes {
            found += index.matches_within(h, SEARCH_RADIUS).len();
        }
        let lookups = hashes
            .iter()
            .map(|h| 1 + h.trimmed.is_some() as usize)
            .sum::<usize>() as f64;
        let first = t1.elapsed().as_secs_f64() * 1e3 / lookups;
        let t2 = Instant::now();
        let mut near = 0usize;
        for h in &hashes {
            let q = h.whole.as_u128();
            near += keys
                .iter()
                .filter(|&&k| (k ^ q).count_ones() <= SEARCH_RADIUS)
                .count();
        }
        let linear = t2.elapsed().as_secs_f64() * 1e3 / hashes.len() as f64;
        let t4 = Instant::now();
        for h in &hashes {
            found += index.matches_within(h, 22).len();
        }
        let tight = t4.elapsed().as_secs_f64() * 1e3 / lookups;
        let t3 = Instant::now();
        for q in &queries {
            std::hint::black_box(index.candidates_bytes(q, "query").expect("lookup"));
        }
        let whole = t3.elapsed().as_secs_f64() * 1e3 / queries.len() as f64;
        println!(
            "{:>10}  {:>8}  {build:>7.1}  {first:>21.2}  {linear:>21.2}  {tight:>19.2}  {whole:>21.1}",
            index.len(),
            index.variant_count(),
        );
        std::hint::black_box((found, near));
    }
}
