//! Fuzzing harness (not a test): mutates real-shaped inputs and feeds them
//! to every parser that reads bytes from outside, counting executions,
//! panics and slow inputs.
//!
//! Stable Rust has no `cargo fuzz` (libFuzzer needs nightly), so this is a
//! self-contained mutational fuzzer: a seeded RNG picks a seed input (the
//! fixtures under `tests/fixtures/real/`, `seeds/`, the example watchlist
//! and config) and applies byte flips, insertions, deletions, duplications
//! (how nesting bombs arise), dictionary tokens (`{`, `[`, `window.runParams=`,
//! `NaN`, `1e999`, `<meta charset=gbk>`, ...) and splices with other seeds.
//! Each input runs under `catch_unwind`; a panic is saved as
//! `target/fuzz/<target>/crash-<n>`, an input slower than 1 s as
//! `slow-<n>`. A stack overflow aborts the process: `benches/fuzz.sh` runs
//! every target in its own process and reports that, and `--replay N`
//! regenerates input N of a run (the RNG is seeded) to reproduce it.
//!
//! ```text
//! cargo bench --bench fuzz -- --list
//! cargo bench --bench fuzz -- --target parse_aliexpress --seconds 60
//! cargo bench --bench fuzz -- --target jsobject --execs 1000000
//! benches/fuzz.sh 120          # every target, 120 s each
//! ```

use knockoff::file::export::warcfind::WarcIndex;
use knockoff::judge::imagehash::{decode, jpeg_dc};
use knockoff::marketplaces::{self, charset, jsobject};
use knockoff::model::config::Config;
use knockoff::model::listing::Platform;
use knockoff::model::recording::Manifest;
use knockoff::model::watchlist::Watchlist;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Url;

/// An input slower than this is a hang.
const SLOW: Duration = Duration::from_secs(1);
/// Inputs grow no larger than this (bytes).
const MAX_INPUT_BYTES: usize = 512 * 1024;
/// Seeds are cut to this many bytes for speed (the page's structure is in
/// its first part: head scripts, embedded data).
const MAX_SEED_BYTES: usize = 48 * 1024;

/// Tokens mutations insert: structure breakers and data markers.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "`",
    "\\",
    "\\u",
    "\\x",
    ":",
    ",",
    "/*",
    "*/",
    "//",
    "<",
    ">",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "window.runParams=",
    "window.runParams = {data:",
    "window._dida_config_._init_data_=",
    "g_page_config = ",
    "window.context=",
    "TShop.Setup(",
    "window.__page__data__config=",
    "var pageConfig = ",
    "_____tmd_____/punish?x5secdata=",
    "window._config_ = {\"action\":\"captcha\"}",
    "<meta charset=\"gbk\">",
    "NaN",
    "Infinity",
    "-1",
    "1e999",
    "0.0",
    "\"minPrice\":",
    "\"price\":",
    "99999999999999999999999999999",
    "\u{feff}",
    "\u{fffd}",
    "奥罗拉",
    "\u{0}",
    "\r\n",
    "&#x",
    "%",
    "[[page]]",
    "url = ",
    "WARC/1.0\r\n",
    "Content-Length: ",
    "\r\n\r\n",
    "\u{1F600}",
];

struct Target {
    name: &'static str,
    /// Seed inputs.
    seeds: fn() -> Vec<Vec<u8>>,
    run: fn(&[u8]),
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose name ends with one of `exts`, cut to
/// [`MAX_SEED_BYTES`].
fn files(dir: &str, exts: &[&str]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                stack.push(p);
            } else if exts
                .iter()
                .any(|e| p.to_string_lossy().to_ascii_lowercase().ends_with(e))
            {
                if let Ok(mut b) = std::fs::read(&p) {
                    b.truncate(MAX_SEED_BYTES);
                    out.push(b);
                }
            }
        }
    }
    out
}

fn pages(platform_dir: &'static str) -> Vec<Vec<u8>> {
    let mut v = files(&format!("tests/fixtures/real/{platform_dir}"), &[".html"]);
    v.extend(files(&format!("seeds/{platform_dir}"), &[".html"]));
    v.extend(files("tests/fixtures/real/blocks", &[".html"]));
    v
}

fn parse_as(platform: Platform, urls: &[&str], input: &[u8]) {
    let pick = input.first().copied().unwrap_or(0) as usize % urls.len();
    let url = Url::parse(urls[pick]).unwrap();
    let _ = marketplaces::parse_page(platform, &url, input, None);
}

const TARGETS: &[Target] = &[
    Target {
        name: "parse_aliexpress",
        seeds: || pages("aliexpress"),
        run: |b| {
            parse_as(
                Platform::AliExpress,
                &[
                    "https://www.aliexpress.com/w/wholesale-aurora.html?page=1",
                    "https://de.aliexpress.com/item/1005006123456789.html",
                ],
                b,
            )
        },
    },
    Target {
        name: "parse_alibaba",
        seeds: || pages("alibaba"),
        run: |b| {
            parse_as(
                Platform::Alibaba,
                &[
                    "https://www.alibaba.com/trade/search?SearchText=aurora",
                    "https://www.alibaba.com/product-detail/Aurora-Cup_1600123456789.html",
                ],
                b,
            )
        },
    },
    Target {
        name: "parse_taobao",
        seeds: || pages("taobao"),
        run: |b| {
            parse_as(
                Platform::Taobao,
                &[
                    "https://s.taobao.com/search?q=aurora",
                    "https://item.taobao.com/item.htm?id=681234567001",
                ],
                b,
            )
        },
    },
    Target {
        name: "parse_tmall",
        seeds: || pages("tmall"),
        run: |b| {
            parse_as(
                Platform::Tmall,
                &[
                    "https://list.tmall.com/search_product.htm?q=aurora",
                    "https://detail.tmall.com/item.htm?id=652345678101",
                ],
                b,
            )
        },
    },
    Target {
        name: "parse_1688",
        seeds: || pages("1688"),
        run: |b| {
            parse_as(
                Platform::S1688,
                &[
                    "https://s.1688.com/selloffer/offer_search.htm?keywords=aurora",
                    "https://detail.1688.com/offer/612345678902.html",
                ],
                b,
            )
        },
    },
    Target {
        name: "gone",
        seeds: || {
            let mut v = files("tests/fixtures/real/gone", &[".html"]);
            v.extend(files("tests/fixtures/real/blocks", &[".html"]));
            v
        },
        run: |b| {
            let urls = [
                "https://item.taobao.com/item.htm?id=681234567001",
                "https://detail.tmall.com/item.htm?id=652345678101",
                "https://detail.1688.com/offer/612345678902.html",
                "https://www.aliexpress.com/item/1005006123456789.html",
                "https://www.alibaba.com/product-detail/Aurora-Cup_1600123456789.html",
            ];
            let pick = b.first().copied().unwrap_or(0) as usize % urls.len();
            let url = Url::parse(urls[pick]).unwrap();
            let facts = marketplaces::block::ResponseFacts {
                final_url: None,
                status: Some(200),
            };
            let _ = marketplaces::classify_gone_page(&url, b, None, facts);
        },
    },
    Target {
        name: "charset",
        seeds: || files("tests/fixtures/real", &[".html"]),
        run: |b| {
            let _ = charset::decode(b, None);
            let _ = charset::decode(b, Some("text/html; charset=gbk"));
        },
    },
    Target {
        name: "jsobject",
        seeds: || files("tests/fixtures/real", &[".html"]),
        run: |b| {
            let text = String::from_utf8_lossy(b);
            for marker in [
                "window.runParams",
                "_init_data_",
                "g_page_config",
                "window.context",
            ] {
                let _ = jsobject::value_after(&text, marker);
            }
        },
    },
    Target {
        name: "jpeg_dc",
        seeds: || files("seeds/images", &[".jpg"]),
        run: |b| {
            let limits = jpeg_dc::Limits {
                max_side: 20_000,
                max_pixels: 100_000_000,
                min_eighth_side: 8,
            };
            let _ = jpeg_dc::luma_eighth(b, limits);
        },
    },
    Target {
        name: "image_decode",
        seeds: || {
            let mut v = files("seeds/images", &[".jpg", ".png", ".webp"]);
            v.retain(|b| b.len() < MAX_SEED_BYTES);
            v
        },
        run: |b| {
            let _ = decode::decode(b, "fuzz");
        },
    },
    Target {
        name: "manifest",
        seeds: || files("seeds", &["manifest.toml"]),
        run: |b| {
            let text = String::from_utf8_lossy(b);
            let _ = toml::from_str::<Manifest>(&text);
        },
    },
    Target {
        name: "warc",
        seeds: || {
            let mut v = files("tests/fixtures", &[".warc"]);
            v.push(
                b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://www.aliexpress.com/item/1.html\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2026-11-02T08:15:00Z\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: 45\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nhi\r\n\r\n"
                    .to_vec(),
            );
            v
        },
        run: |b| {
            let _ = WarcIndex::default().add_file(Path::new("fuzz.warc"), b);
        },
    },
    Target {
        name: "watchlist",
        seeds: || files("watchlists", &[".toml"]),
        run: |b| {
            let text = String::from_utf8_lossy(b);
            let _ = Watchlist::from_str(Path::new("fuzz.toml"), &text);
        },
    },
    Target {
        name: "config",
        seeds: || files(".", &["knockoff.example.toml"]),
        run: |b| {
            let text = String::from_utf8_lossy(b);
            let _ = Config::from_toml(Path::new("fuzz.toml"), &text);
        },
    },
];

/// One mutation of `input` (in place).
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let len = input.len();
    match rng.random_range(0..8u32) {
        0 if len > 0 => {
            let i = rng.random_range(0..len);
            input[i] ^= 1 << rng.random_range(0..8u32);
        }
        1 => {
            let i = rng.random_range(0..=len);
            input.insert(i, rng.random());
        }
        2 if len > 1 => {
            let a = rng.random_range(0..len);
            let n = rng.random_range(1..=(len - a).min(256));
            input.drain(a..a + n);
        }
        3 if len > 1 => {
            // Duplicate a run many times: nesting and repetition bombs.
            let a = rng.random_range(0..len);
            let n = rng.random_range(1..=(len - a).min(16));
            let run = input[a..a + n].to_vec();
            let times = 1usize << rng.random_range(0..14u32);
            let mut rep = Vec::with_capacity(run.len() * times);
            for _ in 0..times {
                rep.extend_from_slice(&run);
            }
            input.splice(a..a, rep);
        }
        4 | 5 => {
            let tok = DICTIONARY[rng.random_range(0..DICTIONARY.len())].as_bytes();
            let i = rng.random_range(0..=len);
            let times = if rng.random_bool(0.1) {
                rng.random_range(1..5000)
            } else {
                1
            };
            let mut rep = Vec::new();
            for _ in 0..times {
                rep.extend_from_slice(tok);
            }
            input.splice(i..i, rep);
        }
        6 if !seeds.is_empty() => {
            let other = &seeds[rng.random_range(0..seeds.len())];
            if !other.is_empty() {
                let a = rng.random_range(0..other.len());
                let n = rng.random_range(1..=(other.len() - a).min(4096));
                let i = rng.random_range(0..=len);
                input.splice(i..i, other[a..a + n].iter().copied());
            }
        }
        _ if len > 0 => {
            // Overwrite a byte with an interesting one.
            let i = rng.random_range(0..len);
            input[i] = *[0u8, 0xff, b'{', b'[', b'"', b'<', 0x80, 0xc3]
                .get(rng.random_range(0..8))
                .unwrap_or(&0);
        }
        _ => input.push(rng.random()),
    }
    input.truncate(MAX_INPUT_BYTES);
}

/// Input `n` of a run with `seed`: reproducible.
fn input_for(seed: u64, n: u64, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut input = if seeds.is_empty() {
        Vec::new()
    } else {
        seeds[rng.random_range(0..seeds.len())].clone()
    };
    let rounds = rng.random_range(1..=8);
    for _ in 0..rounds {
        mutate(&mut rng, &mut input, seeds);
    }
    input
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.iter().any(|a| a == "--list") {
        for t in TARGETS {
            println!("{}", t.name);
        }
        return;
    }
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let seconds: f64 = arg("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let max_execs: u64 = arg("--execs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let names: Vec<String> = match arg("--target") {
        Some(t) => vec![t],
        None => TARGETS.iter().map(|t| t.name.to_string()).collect(),
    };
    // Panics are counted, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));
    for name in names {
        let Some(target) = TARGETS.iter().find(|t| t.name == name) else {
            eprintln!("unknown target {name} (--list)");
            std::process::exit(2);
        };
        let seeds = (target.seeds)();
        let out_dir = root().join("target/fuzz").join(target.name);
        if let Some(n) = arg("--replay").and_then(|s| s.parse::<u64>().ok()) {
            let input = input_for(seed, n, &seeds);
            std::fs::create_dir_all(&out_dir).ok();
            let path = out_dir.join(format!("replay-{n}"));
            std::fs::write(&path, &input).ok();
            println!(
                "input {n} written to {} ({} bytes)",
                path.display(),
                input.len()
            );
            (target.run)(&input);
            return;
        }
        let started = Instant::now();
        let budget = Duration::from_secs_f64(seconds);
        let (mut execs, mut crashes, mut slow) = (0u64, 0u64, 0u64);
        let mut slowest = Duration::ZERO;
        let mut slowest_input = (0u64, 0usize);
        let mut bytes = 0u64;
        while started.elapsed() < budget && execs < max_execs {
            let input = input_for(seed, execs, &seeds);
            bytes += input.len() as u64;
            let t0 = Instant::now();
            let ok = catch_unwind(AssertUnwindSafe(|| (target.run)(&input))).is_ok();
            let took = t0.elapsed();
            if took > slowest {
                slowest = took;
                slowest_input = (execs, input.len());
            }
            if !ok {
                crashes += 1;
                std::fs::create_dir_all(&out_dir).ok();
                std::fs::write(out_dir.join(format!("crash-{execs}")), &input).ok();
            }
            if took > SLOW {
                slow += 1;
                std::fs::create_dir_all(&out_dir).ok();
                std::fs::write(out_dir.join(format!("slow-{execs}")), &input).ok();
            }
            execs += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{{\"target\":\"{}\",\"seed\":{seed},\"seeds\":{},\"execs\":{execs},\"seconds\":{secs:.1},\"execs_per_sec\":{:.0},\"mean_input_bytes\":{},\"crashes\":{crashes},\"slow_over_1s\":{slow},\"slowest_ms\":{:.1},\"slowest_input\":{},\"slowest_bytes\":{}}}",
            target.name,
            seeds.len(),
            execs as f64 / secs.max(1e-9),
            bytes / execs.max(1),
            slowest.as_secs_f64() * 1000.0,
            slowest_input.0,
            slowest_input.1
        );
    }
}
