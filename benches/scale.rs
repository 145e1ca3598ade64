//! A big brand's data folder at 10k / 100k / 1M listings of history, and
//! what one daemon cycle, `search`, `cases list` and `export` cost on it
//! (issue #20): does a cycle's cost grow with what was ever seen?
//!
//! For each size, a fresh data folder gets a simulated year of history
//! written through the library's own calls (the ones a cycle makes):
//! [`Store::record`] of a listing and its [`Scanner::evaluate`] finding
//! (twice for a fifth of them, with a price and sometimes a title change),
//! the raw search pages they were read from, the index's upsert, the
//! tracker's records and checkpoint (1,460 cycles: four a day), synthetic
//! photo hash and match cache entries (one photo per ten listings), and
//! the case book: a case for every listing the scanner flags (about 5%:
//! the replicas, 1 in 100, and some cheap cups; at least 400), the newest
//! 300 still drafted (what an export files), the rest approved, submitted
//! and all but 20 removed. Then the built `knockoff` binary runs, each
//! in a child process whose wall and CPU time are read with `wait4` and
//! peak RSS from its `VmHWM` (polled every 10 ms; `wait4`'s figure is at
//! least this process's RSS at the spawn): a daemon cycle over a replay
//! recording of 34 AliExpress search pages × 60 cards (half of them listings of the
//! history, half new; 200 distinct real JPEGs plus the official cup photo
//! on flagged cards, so the cycle really decodes, hashes and matches), a
//! second cycle over the same pages (warm hash caches: the steady state),
//! four cycles in one daemon process a second apart (a long-lived
//! daemon's memory, and the mean own time of its cycles 2 to 4), `search`
//! and `cases list` (median of five runs), and `export` of the 300
//! drafted complaints (then, when asked, again into a new folder from a
//! cold file cache: the "cold s" column).
//!
//! `cargo bench --bench scale`. Environment:
//! - `KNOCKOFF_SCALE_SIZES=10000,100000` (default `10000,100000,1000000`;
//!   1M takes ~11 GiB of disk and about an hour to build on 2 cores, and
//!   this process holds hundreds of MiB while it builds; the
//!   daemon's own peak is in BENCHMARKS.md, "Scale")
//! - `KNOCKOFF_SCALE_REFS=N` official photos (default 500, the issue's
//!   setting: the cup and 499 generated ones; until stop 51 the default
//!   was 10, when matching 201 photos against 500 cost ~14 s whatever
//!   the history, BENCHMARKS.md "Sixth step (stop 33)")
//! - `KNOCKOFF_SCALE_BIN` the `knockoff` binary measured (default the one
//!   built with this bench), to compare two builds on the same history
//! - `KNOCKOFF_SCALE_COLD_EXPORT=1` also times an export from a cold file
//!   cache: `sync`, then `3` written to `/proc/sys/vm/drop_caches` (root
//!   only; it empties the whole machine's file cache, so only when asked).
//!   Without it, or when the cache cannot be dropped, the column is `NaN`
//! - `KNOCKOFF_SCALE_DIR` work folder (default `$TMPDIR/knockoff-scale`),
//!   each size's folder deleted after its row unless `KNOCKOFF_SCALE_KEEP`
//!   is set.
//!
//! Left out of the history, and so of its disk use: the bytes of the
//! history's listing photos (only their hash cache entries are written;
//! at ~60 KB a photo that would be ~6 GB at 1M listings) and search pages
//! captured more than once (one capture per 60 listings). Results in
//! BENCHMARKS.md, "Scale (issue #20)".

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use knockoff::fetch::replay::ReplayFetcher;
use knockoff::fetch::{sha256_hex, Capture};
use knockoff::file::cases::book::CaseBook;
use knockoff::file::cases::state::CaseState;
use knockoff::file::tracking::{Checkpoint, Gone, Tracker, Tracking};
use knockoff::judge::imagehash::eval::{encode, Encoding, Rng};
use knockoff::judge::index::ListingIndex;
use knockoff::judge::score::{Finding, Verdict};
use knockoff::judge::signal::PhotoEvidence;
use knockoff::model::listing::{Listing, Platform, Price, Seller};
use knockoff::model::recording::Recording;
use knockoff::model::watchlist::Watchlist;
use knockoff::run::scan::{reference_name, Scanner};
use knockoff::store::hashcache::{self, CachedHashes, CachedMatch};
use knockoff::store::{Source, Store};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/fixtures/daemon/support.rs"]
mod support;

/// Cycles in the simulated year (every six hours).
const YEAR_CYCLES: u64 = 4 * 365;
/// Search pages of the measured cycle, and cards per page.
const CYCLE_PAGES: usize = 34;
const CARDS_PER_PAGE: usize = 60;
/// Distinct generated photos on the cycle's cards.
const CYCLE_PHOTOS: usize = 200;
/// Cases still drafted: what the export files.
const DRAFTED_CASES: usize = 300;
/// Cases left submitted (each one's removal is checked every cycle).
const SUBMITTED_CASES: usize = 20;
/// Runs of `search` and `cases list` whose median is reported.
const RUNS: usize = 5;
/// Listings per index upsert while building.
const INDEX_BATCH: usize = 5_000;
const TERMS: [&str; 2] = ["aurora", "%E5%A5%A5%E7%BD%97%E6%8B%89"];
/// Search result pages per term in the history (the cycle reads the first
/// [`CYCLE_PAGES`] of the first term).
const HISTORY_PAGES_PER_TERM: usize = 60;
const CUP_IMG: &str = support::CUP_IMG;

fn year_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap()
}

fn cycle_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

fn cycle_of(t: DateTime<Utc>) -> u64 {
    (((t - year_start()).num_minutes() / (6 * 60)) as u64 + 1).min(YEAR_CYCLES)
}

fn search_url(term: usize, page: usize) -> String {
    format!(
        "https://www.aliexpress.com/w/wholesale-{}.html?page={page}",
        TERMS[term]
    )
}

fn photo_url(k: usize) -> String {
    format!("https://ae01.alicdn.com/kf/Sbench{k:06}.jpg")
}

/// The kinds of listing a brand's search brings up, by index: 1 in 100
/// is a replica of the cup (flagged; its photo is the cup), the rest are
/// genuine-looking cups, accessories and unrelated "aurora" goods.
fn title_of(i: usize) -> (String, bool) {
    match i % 100 {
        0 => (
            format!("AURORA Barista Espresso Cup 1:1 Replica Gift Box {i}"),
            true,
        ),
        1..=30 => (format!("Aurora Espresso Cup Ceramic 80ml {i}"), false),
        31..=60 => (
            format!("Silicone Sleeve for Aurora Espresso Cup {i}"),
            false,
        ),
        _ => (format!("Aurora Borealis Night Light Lamp {i}"), false),
    }
}

fn listing_id(i: usize) -> String {
    format!("{}", 1_005_000_000_000_000u64 + i as u64)
}

fn store_id(i: usize, stores: usize) -> u64 {
    1_180_000_000 + (i % stores) as u64
}

/// One history listing as a parser would have made it.
fn history_listing(i: usize, n: usize, source_url: &str) -> Listing {
    let id = listing_id(i);
    let (title, flagged) = title_of(i);
    let stores = (n / 50).max(10);
    let sid = store_id(i, stores);
    let photo = if flagged {
        CUP_IMG.to_string()
    } else {
        photo_url(i % (n / 10).max(1))
    };
    Listing {
        price: Some(Price {
            amount: if flagged { 4.99 } else { 9.9 + (i % 17) as f64 },
            max: None,
            currency: "USD".into(),
        }),
        seller: Seller {
            name: Some(format!("Store Number {}", i % stores)),
            id: Some(sid.to_string()),
            url: Some(format!("https://www.aliexpress.com/store/{sid}")),
            ..Seller::default()
        },
        images: vec![photo],
        ..Listing::new(
            Platform::AliExpress,
            format!("https://www.aliexpress.com/item/{id}.html"),
            id,
            title,
            source_url,
        )
    }
}

/// A card of a search page as `support::search_page` takes it.
fn card_of(l: &Listing) -> support::Card {
    (
        l.id.clone(),
        l.title.clone(),
        l.seller.name.clone().unwrap_or_default(),
        l.seller
            .id
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        l.images[0].trim_start_matches("https:").to_string(),
        l.price.as_ref().map_or(0.0, |p| p.amount),
    )
}

/// A photo nobody else has: smooth random waves and a few blocks.
fn photo(seed: u64, size: u32) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let waves: Vec<[f64; 4]> = (0..3)
        .map(|_| {
            [
                rng.range(0.005, 0.05),
                rng.range(0.005, 0.05),
                rng.range(0.0, 6.3),
                rng.range(40.0, 110.0),
            ]
        })
        .collect();
    let blocks: Vec<[u32; 5]> = (0..6)
        .map(|_| {
            [
                rng.below(size as u64) as u32,
                rng.below(size as u64) as u32,
                20 + rng.below(size as u64 / 3) as u32,
                20 + rng.below(size as u64 / 3) as u32,
                rng.below(256) as u32,
            ]
        })
        .collect();
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let (xf, yf) = (x as f64, y as f64);
        let mut c = [0f64; 3];
        for (k, w) in waves.iter().enumerate() {
            let v = w[3] * (1.0 + (w[0] * xf + w[1] * yf + w[2]).sin()) / 2.0;
            c[k] += v;
            c[(k + 1) % 3] += v / 2.0;
        }
        for b in &blocks {
            if x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + b[3] {
                c = [b[4] as f64, (255 - b[4]) as f64, (b[4] / 2) as f64];
            }
        }
        image::Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
    });
    encode(&img, Encoding::Jpeg(85)).expect("encode a generated photo")
}

/// The recording folder of the measured cycle.
struct RecordingWriter {
    dir: PathBuf,
    manifest: String,
    n: usize,
}

impl RecordingWriter {
    fn new(dir: PathBuf) -> RecordingWriter {
        std::fs::create_dir_all(&dir).unwrap();
        RecordingWriter {
            dir,
            manifest: String::new(),
            n: 0,
        }
    }

    fn add(&mut self, url: &str, body: &[u8], ct: &str, at: DateTime<Utc>) {
        self.n += 1;
        let file = format!("f{}.bin", self.n);
        std::fs::write(self.dir.join(&file), body).unwrap();
        self.manifest.push_str(&format!(
            "[[page]]\nurl = \"{url}\"\nfile = \"{file}\"\ncaptured_at = \"{}\"\nstatus = 200\ncontent_type = \"{ct}\"\n\n",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }

    fn finish(self) -> PathBuf {
        std::fs::write(self.dir.join("manifest.toml"), &self.manifest).unwrap();
        self.dir
    }
}

/// History listings that show up again in the cycle: spread over the
/// whole history, ids `i` with `i % step == 0` (about half the cycle).
fn in_cycle(i: usize, n: usize) -> bool {
    i.is_multiple_of(cycle_step(n))
}

fn cycle_step(n: usize) -> usize {
    (n / (CYCLE_PAGES * CARDS_PER_PAGE / 2)).max(2)
}

/// The cycle's recording: history listings (some at a new price) and new
/// ones, 60 to a page; every generated photo and the cup photo.
fn cycle_recording(dir: &Path, n: usize) -> PathBuf {
    let total = CYCLE_PAGES * CARDS_PER_PAGE;
    let mut listings: Vec<Listing> = (0..n)
        .filter(|&i| in_cycle(i, n))
        .take(total / 2)
        .map(|i| {
            let mut l = history_listing(i, n, "");
            if i % 3 == 0 {
                if let Some(p) = &mut l.price {
                    p.amount += 0.5;
                }
            }
            if !l.images[0].starts_with(CUP_IMG) {
                l.images = vec![photo_url(1_000_000 + i % CYCLE_PHOTOS)];
            }
            l
        })
        .collect();
    let mut j = n;
    while listings.len() < total {
        let mut l = history_listing(j, n.max(total), "");
        if l.images[0] != CUP_IMG {
            l.images = vec![photo_url(1_000_000 + j % CYCLE_PHOTOS)];
        }
        listings.push(l);
        j += 1;
    }
    let mut rec = RecordingWriter::new(dir.to_path_buf());
    for (p, page) in listings.chunks(CARDS_PER_PAGE).enumerate() {
        let cards: Vec<support::Card> = page.iter().map(card_of).collect();
        rec.add(
            &search_url(0, p + 1),
            support::search_page(&cards).as_bytes(),
            "text/html; charset=utf-8",
            cycle_at(),
        );
    }
    for k in 0..CYCLE_PHOTOS {
        rec.add(
            &photo_url(1_000_000 + k),
            &photo(1_000 + k as u64, 400),
            "image/jpeg",
            cycle_at(),
        );
    }
    let cup = std::fs::read(support::root().join("seeds/images/espresso-cup-q35.jpg")).unwrap();
    rec.add(CUP_IMG, &cup, "image/jpeg", cycle_at());
    rec.finish()
}

/// The cup watchlist with `refs - 1` generated official photos added to
/// the cup's images.
fn watchlist(dir: &Path, refs: usize) -> PathBuf {
    let path = support::cup_watchlist(dir);
    let text = std::fs::read_to_string(&path).unwrap();
    let cup = support::root().join("watchlists/demo/official/espresso-cup.jpg");
    let mut images = vec![format!("\"{}\"", cup.display())];
    for r in 1..refs {
        let file = dir.join(format!("official-{r:03}.jpg"));
        std::fs::write(&file, photo(500_000 + r as u64, 800)).unwrap();
        images.push(format!("\"{}\"", file.display()));
    }
    let line = format!("images = [\"{}\"]", cup.display());
    assert!(text.contains(&line), "the cup watchlist's images line");
    std::fs::write(
        &path,
        text.replace(&line, &format!("images = [{}]", images.join(", "))),
    )
    .unwrap();
    path
}

/// What building the history did.
struct Built {
    seconds: f64,
    flagged: usize,
    cases: usize,
    changed: usize,
}

/// Writes `n` listings of history into `data`.
fn build_history(data: &Path, wl: &Watchlist, recording: &Path, n: usize) -> Built {
    let timer = Instant::now();
    let store = Store::open(data).expect("store");
    let index = ListingIndex::open(data).expect("index");
    let tracker = Tracker::open(&store).expect("tracker");
    let book = CaseBook::open(&store).expect("case book");
    let fetcher = ReplayFetcher::new(Recording::open(recording).expect("recording"));
    let scanner = Scanner::with_store(
        wl,
        &fetcher,
        knockoff::file::cases::deadline::china_date(cycle_at()),
        Some(&store),
    )
    .expect("scanner");
    // The official set's fingerprint, as the scanner computes it: the
    // history's photos were matched against this set.
    let officials: Vec<(String, String)> = wl
        .products
        .iter()
        .flat_map(|p| &p.images)
        .map(|img| {
            let bytes = std::fs::read(wl.image_path(img)).unwrap();
            (reference_name(img), sha256_hex(&bytes))
        })
        .collect();
    let fingerprint =
        hashcache::official_fingerprint(officials.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let cup_bytes =
        std::fs::read(support::root().join("seeds/images/espresso-cup-q35.jpg")).unwrap();
    let cup_capture = capture(CUP_IMG, cup_bytes, "image/jpeg", year_start());
    store.put_page(&cup_capture).unwrap();
    let cup_ref = officials[0].0.clone();
    // The cup photo's match, as the scanner records it for a flagged card.
    let cup_evidence = PhotoEvidence {
        url: CUP_IMG.into(),
        sha256: cup_capture.sha256.clone(),
        reference: cup_ref.clone(),
        distance: 6,
        bits: 128,
        transform: None,
        similarity: Some(0.97),
        detail: Some(0.93),
        independent_samples: Some(40.0),
    };

    let mut rng = Rng::new(n as u64);
    let year = cycle_at() - year_start() - Days::hours(8);
    let mut pending: Vec<Listing> = Vec::with_capacity(INDEX_BATCH);
    let mut flagged_keys: Vec<(String, DateTime<Utc>)> = Vec::new();
    let mut changed = 0;
    let report_every = (n / 10).max(1);
    for (g, group) in (0..n)
        .collect::<Vec<_>>()
        .chunks(CARDS_PER_PAGE)
        .enumerate()
    {
        let page_at = year_start() + Days::seconds(year.num_seconds() * group[0] as i64 / n as i64);
        let url = search_url(
            g % TERMS.len(),
            1 + (g / TERMS.len()) % HISTORY_PAGES_PER_TERM,
        );
        let listings: Vec<Listing> = group.iter().map(|&i| history_listing(i, n, &url)).collect();
        let cards: Vec<support::Card> = listings.iter().map(card_of).collect();
        let page = capture(
            &url,
            support::search_page(&cards).into_bytes(),
            "text/html; charset=utf-8",
            page_at,
        );
        store.put_page(&page).unwrap();
        let sources = [Source {
            url: url.clone(),
            sha256: page.sha256.clone(),
            captured_at: page_at,
        }];
        for (&i, listing) in group.iter().zip(&listings) {
            let first_seen = page_at + Days::minutes(rng.below(60) as i64);
            let photos = if listing.images[0] == CUP_IMG {
                vec![cup_evidence.clone()]
            } else {
                let sha = sha256_hex(listing.images[0].as_bytes());
                hashcache::keep_photo_hashes(
                    &store,
                    &sha,
                    &CachedHashes::Hashed {
                        width: 800,
                        height: 800,
                        whole: [rng.next_u64(), rng.next_u64()],
                        trimmed: None,
                    },
                );
                hashcache::keep_match(&store, &fingerprint, &sha, &CachedMatch::NoMatch);
                Vec::new()
            };
            let finding: Finding = scanner.evaluate(listing, photos.clone(), &sources);
            let mut record = store
                .record(listing, &sources, first_seen, &finding)
                .unwrap();
            let mut last_seen = first_seen + Days::hours(6 * rng.below(120) as i64);
            let mut latest = listing.clone();
            if i % 5 == 0 {
                // A fifth change price, and half of those their title, later on.
                changed += 1;
                last_seen = first_seen + Days::days(1 + rng.below(120) as i64);
                if let Some(p) = &mut latest.price {
                    p.amount = (p.amount * 0.9 * 100.0).round() / 100.0;
                }
                if i % 10 == 0 {
                    latest.title.push_str(" New Arrival");
                }
            }
            if in_cycle(i, n) {
                last_seen = cycle_at() - Days::hours(6);
            }
            last_seen = last_seen.min(cycle_at() - Days::hours(6));
            let finding = if last_seen > first_seen {
                let f = scanner.evaluate(&latest, photos, &sources);
                record = store.record(&latest, &sources, last_seen, &f).unwrap();
                f
            } else {
                finding
            };
            let (first_cycle, last_cycle) = (cycle_of(first_seen), cycle_of(last_seen));
            let gone = last_cycle + 3 <= YEAR_CYCLES;
            tracker
                .put(
                    &listing.key(),
                    &Tracking {
                        first_cycle,
                        last_seen_cycle: last_cycle,
                        missed: if gone { 3 } else { 0 },
                        missed_through_cycle: if gone { last_cycle + 3 } else { last_cycle },
                        gone: gone.then(|| Gone {
                            at: last_seen + Days::hours(18),
                            why: "missing from its results for 3 cycles".into(),
                            proof: None,
                        }),
                        relisting_checked: true,
                        ..Tracking::default()
                    },
                )
                .unwrap();
            if gone {
                // What the daemon's cycle does when it finds a listing gone.
                store.settle_listing(&record).unwrap();
            }
            if finding.verdict == Verdict::Flag {
                flagged_keys.push((listing.key(), first_seen));
                book.open_cases(&finding, first_seen, None, "bench")
                    .unwrap();
            }
            pending.push(latest);
            if pending.len() >= INDEX_BATCH {
                index.upsert(&pending).unwrap();
                pending.clear();
            }
            if (i + 1) % report_every == 0 {
                eprintln!(
                    "  built {} of {n} listings in {:.0} s",
                    i + 1,
                    timer.elapsed().as_secs_f64()
                );
            }
        }
    }
    index.upsert(&pending).unwrap();
    // Extra flagged listings at small sizes, so that 300 cases stay drafted
    // and some are filed.
    let cases_wanted = DRAFTED_CASES + SUBMITTED_CASES + 80;
    let mut k = 0;
    while flagged_keys.len() < cases_wanted {
        let i = 100 * (n + k) + 10_000_000;
        k += 1;
        let at = year_start() + Days::seconds(year.num_seconds() * k as i64 / cases_wanted as i64);
        let url = search_url(1, HISTORY_PAGES_PER_TERM + k);
        let listing = history_listing(i, n, &url);
        let page = capture(
            &url,
            support::search_page(&[card_of(&listing)]).into_bytes(),
            "text/html; charset=utf-8",
            at,
        );
        store.put_page(&page).unwrap();
        let sources = [Source {
            url,
            sha256: page.sha256.clone(),
            captured_at: at,
        }];
        let photos = vec![cup_evidence.clone()];
        let finding = scanner.evaluate(&listing, photos, &sources);
        assert_eq!(finding.verdict, Verdict::Flag, "a replica of the cup");
        store.record(&listing, &sources, at, &finding).unwrap();
        book.open_cases(&finding, at, None, "bench").unwrap();
        index.upsert(std::slice::from_ref(&listing)).unwrap();
        flagged_keys.push((listing.key(), at));
    }
    // The oldest cases were filed: approved, submitted, and all but the
    // last few removed; the newest 300 wait to be exported.
    let mut cases = book.all().unwrap();
    cases.sort_by_key(|c| c.number);
    let filed = cases.len().saturating_sub(DRAFTED_CASES);
    for (j, c) in cases.iter().take(filed).enumerate() {
        let at = c.since();
        book.move_case(&c.id, CaseState::Approved, at, None, "bench", None)
            .unwrap();
        book.move_case(
            &c.id,
            CaseState::Submitted,
            at + Days::hours(2),
            None,
            "bench",
            None,
        )
        .unwrap();
        if j + SUBMITTED_CASES < filed {
            book.move_case(
                &c.id,
                CaseState::Removed,
                at + Days::days(3),
                None,
                "bench",
                None,
            )
            .unwrap();
        }
    }
    tracker
        .set_checkpoint(&Checkpoint {
            cycle: YEAR_CYCLES,
            running: false,
            started_at: Some(cycle_at() - Days::hours(6)),
            last_success: Some(cycle_at() - Days::hours(6)),
            resumed: 0,
        })
        .unwrap();
    store.flush().unwrap();
    Built {
        seconds: timer.elapsed().as_secs_f64(),
        flagged: flagged_keys.len(),
        cases: cases.len(),
        changed,
    }
}

fn capture(url: &str, body: Vec<u8>, ct: &str, at: DateTime<Utc>) -> Capture {
    Capture {
        url: url.into(),
        final_url: url.into(),
        redirects: Vec::new(),
        status: 200,
        content_type: Some(ct.into()),
        captured_at: at,
        sha256: sha256_hex(&body),
        headers: Vec::new(),
        body,
        exchanges: Vec::new(),
    }
}

/// The `VmHWM` (peak resident set) of a `/proc/PID/status`, in KiB; `None`
/// once the process has exited (a zombie has no memory).
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A child process's cost: wall and CPU time from `wait4`, peak RSS from
/// its `VmHWM` while it ran.
struct Run {
    wall: Duration,
    cpu: Duration,
    peak_rss_mib: f64,
    stdout: String,
    stderr: String,
    ok: bool,
}

fn run(args: &[&str]) -> Run {
    let started = Instant::now();
    let bin = std::env::var_os("KNOCKOFF_SCALE_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_knockoff").into());
    let child = Command::new(bin)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run knockoff");
    let pid = child.id() as libc::pid_t;
    // Read the pipes on threads so a chatty child never blocks on them.
    let mut child = child;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    // The child's own peak RSS, from /proc while it runs: `wait4`'s
    // `ru_maxrss` is at least the RSS of this process when it spawned the
    // child (Linux keeps the larger of the old and new memory's high-water
    // marks across exec), and this process holds the history it built.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hwm = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak_kib = 0u64;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
                if let Some(kib) = status.ok().as_deref().and_then(vm_hwm_kib) {
                    peak_kib = peak_kib.max(kib);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            peak_kib
        })
    };
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; both pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Release);
    let hwm_kib = hwm.join().unwrap_or(0);
    assert_eq!(waited, pid, "wait4");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        peak_rss_mib: if hwm_kib > 0 {
            hwm_kib as f64 / 1024.0
        } else {
            usage.ru_maxrss as f64 / 1024.0
        },
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

fn median_wall(args: &[&str]) -> (f64, Run) {
    let mut runs: Vec<Run> = (0..RUNS).map(|_| run(args)).collect();
    runs.sort_by_key(|r| r.wall);
    let mid = runs.swap_remove(RUNS / 2);
    (mid.wall.as_secs_f64() * 1000.0, mid)
}

fn disk_use(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += disk_use(&e.path()),
                Ok(m) => total += std::os::unix::fs::MetadataExt::blocks(&m) * 512,
                Err(_) => {}
            }
        }
    }
    total
}

/// The cycle's own seconds, from the daemon's JSON "cycle done" line.
/// The `seconds` of each "cycle done" log line, in order.
fn cycle_seconds_all(stderr: &str) -> Vec<f64> {
    stderr
        .lines()
        .filter(|l| l.contains("cycle done"))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["seconds"].as_f64().or(v["fields"]["seconds"].as_f64()))
        .collect()
}

/// One daemon process running `cycles` cycles over the recording, a
/// second apart: its run, and each cycle's own seconds.
fn daemon_cycles(wl: &Path, data: &Path, recording: &Path, cycles: usize) -> (Run, Vec<f64>) {
    let cycles = cycles.to_string();
    let r = run(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--replay",
        recording.to_str().unwrap(),
        "--cycles",
        &cycles,
        "--every",
        "1s",
        "--jitter",
        "0",
        "--listen",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ]);
    if !r.ok {
        eprintln!("daemon cycles failed:\n{}", r.stderr);
    }
    if let Some(done) = r.stderr.lines().rfind(|l| l.contains("cycle done")) {
        eprintln!("  {done}");
    }
    let secs = cycle_seconds_all(&r.stderr);
    (r, secs)
}

fn daemon_cycle(wl: &Path, data: &Path, recording: &Path) -> (Run, Option<f64>) {
    let (r, secs) = daemon_cycles(wl, data, recording, 1);
    (r, secs.last().copied())
}

/// Cycles of the long-lived daemon's run.
const LONG_CYCLES: usize = 4;

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("KNOCKOFF_SCALE_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let refs: usize = std::env::var("KNOCKOFF_SCALE_REFS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
        .max(1);
    let work = std::env::var_os("KNOCKOFF_SCALE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("knockoff-scale"));
    let keep = std::env::var_os("KNOCKOFF_SCALE_KEEP").is_some();
    println!(
        "scale: {refs} official photo(s) (the issue's setting is 500); \
         cycle of {CYCLE_PAGES} pages x {CARDS_PER_PAGE} cards, {CYCLE_PHOTOS} generated photos + the cup"
    );
    let mut rows = Vec::new();
    for &n in &sizes {
        let dir = work.join(format!("n{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("data");
        let wl_path = watchlist(&dir, refs);
        let wl = Watchlist::load(&wl_path).expect("watchlist");
        let recording = cycle_recording(&dir.join("recording"), n);
        eprintln!("{n} listings: building the history in {}", data.display());
        let built = build_history(&data, &wl, &recording, n);
        let disk_before = disk_use(&data);
        eprintln!(
            "  built in {:.0} s ({:.0} listings/s), {:.0} MiB; {} flagged, {} cases, {} changed; cycles...",
            built.seconds,
            n as f64 / built.seconds,
            mib(disk_before),
            built.flagged,
            built.cases,
            built.changed
        );
        let (cold, cold_s) = daemon_cycle(&wl_path, &data, &recording);
        let (warm, warm_s) = daemon_cycle(&wl_path, &data, &recording);
        // A long-lived daemon: four cycles in one process. Its memory is
        // what it holds after several cycles, more than one cycle's
        // (BENCHMARKS.md "Stop 35"); the cycles after the first show a
        // running daemon's cycle cost.
        let (long, long_s) = daemon_cycles(&wl_path, &data, &recording, LONG_CYCLES);
        let long_later = if long_s.len() > 1 {
            long_s[1..].iter().sum::<f64>() / (long_s.len() - 1) as f64
        } else {
            f64::NAN
        };
        let data_s = data.to_str().unwrap();
        let (search_ms, search) = median_wall(&[
            "search",
            "--data",
            data_s,
            "--limit",
            "20",
            "aurora replica cup",
        ]);
        let (cases_ms, cases) = median_wall(&["cases", "--data", data_s, "list"]);
        let out = dir.join("export");
        let export = run(&["export", "--data", data_s, "--out", out.to_str().unwrap()]);
        let complaints = std::fs::read_to_string(out.join("complaints.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v.as_array().map(Vec::len))
            .unwrap_or(0);
        if !export.ok {
            eprintln!("export failed:\n{}", export.stderr);
        }
        let cold_export = if std::env::var_os("KNOCKOFF_SCALE_COLD_EXPORT").is_some() {
            cold_export_seconds(&data, &dir.join("export-cold"))
        } else {
            f64::NAN
        };
        for (what, r) in [("search", &search), ("cases list", &cases)] {
            if !r.ok {
                eprintln!("{what} failed:\n{}", r.stderr);
            }
        }
        let disk_after = disk_use(&data);
        let row = format!(
            "{n:>9} {:>7.0} {:>8.1} {:>8.1} {:>8.1} {:>8.0} | {:>8.1} {:>8.1} {:>8.1} {:>8.0} | {:>8.2} {:>8.0} | {:>8.0} {:>8.0} {:>9.0} {:>9.0} {:>7.1} {:>7.1} {:>7.0} {:>6}",
            built.seconds,
            cold.wall.as_secs_f64(),
            cold_s.unwrap_or(f64::NAN),
            cold.cpu.as_secs_f64(),
            cold.peak_rss_mib,
            warm.wall.as_secs_f64(),
            warm_s.unwrap_or(f64::NAN),
            warm.cpu.as_secs_f64(),
            warm.peak_rss_mib,
            long_later,
            long.peak_rss_mib,
            mib(disk_before),
            mib(disk_after),
            search_ms,
            cases_ms,
            export.wall.as_secs_f64(),
            cold_export,
            export.peak_rss_mib,
            complaints,
        );
        eprintln!(
            "  {} cases listed; search printed {} lines",
            cases.stdout.lines().count(),
            search.stdout.lines().count()
        );
        println!("{}", header());
        println!("{row}");
        rows.push(row);
        if !keep {
            std::fs::remove_dir_all(&dir).ok();
        }
    }
    println!("\n{}", header());
    for r in &rows {
        println!("{r}");
    }
}

/// Wall seconds of an export into `out` from a cold file cache: NaN, with
/// the reason on stderr, when the cache cannot be dropped (not root) or
/// the export fails.
fn cold_export_seconds(data: &Path, out: &Path) -> f64 {
    // SAFETY: `sync` takes no arguments and cannot fail.
    unsafe { libc::sync() };
    if let Err(e) = std::fs::write("/proc/sys/vm/drop_caches", "3") {
        eprintln!("  cold export skipped: cannot drop the file cache ({e})");
        return f64::NAN;
    }
    let r = run(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    if !r.ok {
        eprintln!("cold export failed:\n{}", r.stderr);
        return f64::NAN;
    }
    r.wall.as_secs_f64()
}

fn header() -> String {
    format!(
        "{:>9} {:>7} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7} {:>6}\n{:>9} {:>7} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7} {:>6}",
        "listings", "build", "cycle1", "cycle1", "cycle1", "cycle1", "cycle2", "cycle2", "cycle2",
        "cycle2", "4 cycles", "4 cycles", "disk", "disk", "search", "cases", "export", "export", "export", "compl.",
        "", "s", "wall s", "own s", "cpu s", "rss MiB", "wall s", "own s", "cpu s", "rss MiB",
        "own 2-4 s", "rss MiB", "MiB", "MiB after", "ms", "list ms", "s", "cold s", "rss MiB", "",
    )
}
