//! Matching throughput on one core: unrelated listing photos and edited
//! copies per second through `knockoff match --reference`, at 44 and at
//! 500 official photos (or the counts asked for), for one or more
//! `knockoff` binaries side by side (a build before a change and one
//! after, same inputs, same run).
//!
//! The inputs are 800×800 JPEGs made from a folder of real photos
//! (`benches/fetch_eval_photos.sh`): the photos are split in two halves by
//! name order. Official photos are random crops of the first half (so the
//! 500 are look-alikes of each other, the hard case of a catalogue of
//! studio shots); unrelated listing photos are random crops of the other
//! half; edited copies are official photos put through one random edit
//! of the evaluation (`imagehash::eval::edits`). Each binary runs under
//! `taskset -c 0` with `RAYON_NUM_THREADS=1`; a photo's cost is the CPU
//! time (user + system: on a machine shared with other builds, wall time
//! measures the neighbours) of the run's matching alone, which `knockoff
//! match` logs after loading the references (`knockoff::match` at info),
//! over the photos, the fastest of three runs. Loading 500 references is
//! 16-20 CPU-s and varies by ±2 s from run to run, more than 300 photos
//! cost, so a rate taken from whole runs is noise there. For a binary
//! that does not log it (an older build), the run's CPU time (from
//! `/usr/bin/time`) less that of a run on one photo, over the photos less
//! one; where that difference is within the timer's resolution, the table
//! says "within noise" rather than print a rate made of rounding.
//!
//! ```text
//! KNOCKOFF_EVAL_PHOTOS=/tmp/ko/evalphotos \
//! KNOCKOFF_BINARIES=/tmp/ko/knockoff-before:target/release/knockoff \
//!   cargo bench --bench match_throughput
//! ```
//!
//! `KNOCKOFF_BINARIES` defaults to the release binary next to this bench;
//! `KNOCKOFF_BENCH_DIR` keeps the generated inputs (else a temporary
//! folder, removed at the end); `KNOCKOFF_BENCH_PHOTOS=N` sets how many
//! photos of each kind are timed (default 100); `KNOCKOFF_BENCH_REFS`
//! the numbers of official photos, comma-separated (default `44,500`;
//! each count's set is the first that many of one list, so `44,100,200,500`
//! draws how a photo's cost grows with the references; the first 500 are
//! the same whatever the counts, and so are the listing photos).

use image::RgbImage;
use knockoff::judge::imagehash::eval::{edits, encode, photo_files, Encoding, Rng};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Side of every generated photo.
const SIDE: u32 = 800;

/// A random square-ish crop of `img` covering `lo`–`hi` of its shorter
/// side, resized to SIDE×SIDE.
fn crop_800(img: &RgbImage, rng: &mut Rng, lo: f64, hi: f64) -> RgbImage {
    let (w, h) = (img.width(), img.height());
    let s = (w.min(h) as f64 * rng.range(lo, hi)).max(16.0) as u32;
    let cw = s.min(w);
    let ch = ((s as f64 * rng.range(0.85, 1.15)) as u32).clamp(8, h);
    let x = rng.below((w - cw + 1) as u64) as u32;
    let y = rng.below((h - ch + 1) as u64) as u32;
    let crop = image::imageops::crop_imm(img, x, y, cw, ch).to_image();
    image::imageops::resize(&crop, SIDE, SIDE, image::imageops::FilterType::Triangle)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

struct Inputs {
    /// Per count asked for, the folder of its first that many references.
    refs: Vec<(usize, PathBuf)>,
    unrelated: Vec<PathBuf>,
    /// Edited copies of the first 44 references, with the reference's name.
    edited: Vec<(PathBuf, String)>,
}

fn prepare(photos_dir: &Path, out: &Path, n: usize, counts: &[usize]) -> Inputs {
    let photos: Vec<RgbImage> = photo_files(photos_dir)
        .expect("photo folder")
        .iter()
        .map(|f| image::open(f).expect("photo").to_rgb8())
        .collect();
    assert!(photos.len() >= 4, "need at least 4 photos");
    let (official, other): (Vec<_>, Vec<_>) =
        photos.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let official: Vec<&RgbImage> = official.into_iter().map(|(_, p)| p).collect();
    let other: Vec<&RgbImage> = other.into_iter().map(|(_, p)| p).collect();
    let mut rng = Rng::new(0x7470_7574);
    // References past the 500th come from a stream of their own, so the
    // first 500 and the listing photos are the same whatever the counts.
    let mut more = Rng::new(0x6d6f_7265);
    let refs: Vec<(usize, PathBuf)> = counts
        .iter()
        .map(|&c| (c, out.join(format!("refs{c}"))))
        .collect();
    let unrelated_dir = out.join("unrelated");
    let edited_dir = out.join("edited");
    for d in refs
        .iter()
        .map(|(_, d)| d)
        .chain([&unrelated_dir, &edited_dir])
    {
        std::fs::create_dir_all(d).expect("create input folder");
    }
    let mut first44: Vec<(String, RgbImage)> = Vec::new();
    let most = counts.iter().copied().max().unwrap_or(0).max(500);
    for i in 0..most {
        let p = official[i % official.len()];
        let rng = if i < 500 { &mut rng } else { &mut more };
        // The first 44: mostly whole photos (a brand's main shots); the
        // rest: crops down to a third (detail shots, look-alikes).
        let img = if i < 44 {
            crop_800(p, rng, 0.6, 1.0)
        } else {
            crop_800(p, rng, 0.3, 1.0)
        };
        let name = format!("ref{i:03}.jpg");
        let bytes = encode(&img, Encoding::Jpeg(90)).expect("encode");
        for (_, dir) in refs.iter().filter(|(c, _)| i < *c) {
            write(&dir.join(&name), &bytes);
        }
        if i < 44 {
            first44.push((name, img));
        }
    }
    let mut unrelated = Vec::new();
    for i in 0..n {
        let p = other[i % other.len()];
        let img = crop_800(p, &mut rng, 0.4, 1.0);
        let path = unrelated_dir.join(format!("unrelated{i:03}.jpg"));
        write(&path, &encode(&img, Encoding::Jpeg(85)).expect("encode"));
        unrelated.push(path);
    }
    let all = edits();
    let mut edited = Vec::new();
    for i in 0..n {
        let (name, img) = &first44[i % first44.len()];
        let edit = all[rng.below(all.len() as u64) as usize];
        let copy = (edit.apply)(img.clone(), &mut rng);
        let enc = (edit.encoding)(&mut rng).unwrap_or(Encoding::Jpeg(85));
        let ext = match enc {
            Encoding::Jpeg(_) => "jpg",
            Encoding::Png => "png",
            Encoding::WebP => "webp",
        };
        let path = edited_dir.join(format!("edited{i:03}.{ext}"));
        write(&path, &encode(&copy, enc).expect("encode"));
        edited.push((path, name.clone()));
    }
    Inputs {
        refs,
        unrelated,
        edited,
    }
}

/// One run of `bin match` on one core: the run's CPU seconds (user +
/// system), the CPU seconds of its matching alone when the binary logs
/// them (its `knockoff::match` "photos matched" line; older binaries do
/// not), and the JSON lines.
struct Run {
    secs: f64,
    matching: Option<f64>,
    lines: Vec<serde_json::Value>,
}

/// Runs `bin match` on one core.
fn run(bin: &Path, refs: &Path, files: &[&PathBuf]) -> Run {
    let times = std::env::temp_dir().join(format!("knockoff-bench-time-{}", std::process::id()));
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S")
        .arg("-o")
        .arg(&times)
        .arg("taskset")
        .arg("-c")
        .arg("0")
        .arg(bin)
        .arg("match")
        .arg("--reference")
        .arg(refs)
        .args(files)
        .env("RAYON_NUM_THREADS", "1")
        .env("RUST_LOG", "knockoff::match=info")
        .env("NO_COLOR", "1")
        .output()
        .expect("run knockoff under /usr/bin/time");
    assert!(
        out.status.success(),
        "{}: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let secs = std::fs::read_to_string(&times)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    let _ = std::fs::remove_file(&times);
    let matching = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("photos matched"))
        .find_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("cpu_s="))
                .and_then(|v| v.parse::<f64>().ok())
        });
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Run {
        secs,
        matching,
        lines,
    }
}

/// Runs of each timing; the fastest is kept (a neighbour on the machine
/// only ever adds time).
const RUNS: usize = 3;

/// Photos per second over `files`, from the fastest of [`RUNS`] runs:
/// the CPU time of the matching alone, as the binary logs it; for a
/// binary that does not, the run's time less a one-photo run's (loading
/// the references), over the photos less one. `None` when that
/// difference is within `/usr/bin/time`'s 10 ms resolution per run: the
/// photos cost too little next to loading the references to be timed so.
fn per_second(
    bin: &Path,
    refs: &Path,
    files: &[&PathBuf],
) -> (Option<f64>, Vec<serde_json::Value>) {
    let runs: Vec<Run> = (0..RUNS).map(|_| run(bin, refs, files)).collect();
    let lines = runs[0].lines.clone();
    if let Some(fastest) = runs
        .iter()
        .map(|r| r.matching)
        .collect::<Option<Vec<f64>>>()
        .and_then(|m| m.into_iter().min_by(f64::total_cmp))
    {
        return ((fastest > 0.0).then(|| files.len() as f64 / fastest), lines);
    }
    let fastest = |runs: &[Run]| runs.iter().map(|r| r.secs).fold(f64::INFINITY, f64::min);
    let one: Vec<Run> = (0..RUNS).map(|_| run(bin, refs, &files[..1])).collect();
    let (one, all) = (fastest(&one), fastest(&runs));
    let photos = (all - one) / (files.len() - 1) as f64;
    ((all - one > 0.02).then(|| 1.0 / photos), lines)
}

/// A rate for the table, or why there is none.
fn rate(r: Option<f64>) -> String {
    r.map_or("within noise".into(), |r| format!("{r:.1}"))
}

fn main() {
    let photos = std::env::var_os("KNOCKOFF_EVAL_PHOTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos"));
    let n: usize = std::env::var("KNOCKOFF_BENCH_PHOTOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
        .max(2);
    let default_bin = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("knockoff")))
        .unwrap_or_else(|| PathBuf::from("target/release/knockoff"));
    let bins: Vec<PathBuf> = std::env::var("KNOCKOFF_BINARIES")
        .map(|v| v.split(':').map(PathBuf::from).collect())
        .unwrap_or_else(|_| vec![default_bin]);
    let (dir, temporary) = match std::env::var_os("KNOCKOFF_BENCH_DIR") {
        Some(d) => (PathBuf::from(d), false),
        None => (
            std::env::temp_dir().join(format!("knockoff-match-bench-{}", std::process::id())),
            true,
        ),
    };
    let counts: Vec<usize> = std::env::var("KNOCKOFF_BENCH_REFS")
        .unwrap_or_else(|_| "44,500".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .filter(|&c| c > 0)
        .collect();
    assert!(
        !counts.is_empty(),
        "KNOCKOFF_BENCH_REFS: no count of references"
    );
    let inputs = prepare(&photos, &dir, n, &counts);
    let unrelated: Vec<&PathBuf> = inputs.unrelated.iter().collect();
    let edited: Vec<&PathBuf> = inputs.edited.iter().map(|(p, _)| p).collect();
    println!(
        "{n} unrelated photos and {n} edited copies, 800x800, one core (taskset -c 0)\n\
         binary | references | unrelated photos/s | false matches | edited copies/s | copies matched to their original"
    );
    for (_, refs) in &inputs.refs {
        for bin in &bins {
            let count = std::fs::read_dir(refs).map(|d| d.count()).unwrap_or(0);
            let (u_rate, u_lines) = per_second(bin, refs, &unrelated);
            let false_matches = u_lines.iter().filter(|l| l["match"] == true).count();
            let (e_rate, e_lines) = per_second(bin, refs, &edited);
            let right = e_lines
                .iter()
                .zip(&inputs.edited)
                .filter(|(l, (_, name))| l["match"] == true && l["reference"] == name.as_str())
                .count();
            println!(
                "{} | {count} | {} | {false_matches}/{n} | {} | {right}/{n}",
                bin.display(),
                rate(u_rate),
                rate(e_rate)
            );
        }
    }
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
