//! Crawl benchmark (not a test): the live fetcher against the loopback mock
//! marketplace, at a fixed per-host rate and with no rate limit.
//!
//! Reports pages/s, the per-host rate the *server* saw (arrival times from
//! the mock's log) and its accuracy against the target, CPU-seconds per
//! 1000 pages and peak RSS of the crawling process (getrusage). The mock
//! runs in a child process (this same binary, `--serve-mock`), so its CPU
//! and memory are not counted against the crawler.
//!
//! ```text
//! cargo bench --bench crawl                       # spawn a mock, run both workloads
//! cargo bench --bench crawl -- --serve-mock 127.0.0.1:8099   # only serve the mock
//! cargo bench --bench crawl -- --against 127.0.0.1:8099      # crawl a running mock
//! ```
//! `benches/scrapy_compare.sh` runs the same workloads with Scrapy against
//! the same mock.
//!
//! Workload: 4 hosts (`/aliexpress`, `/alibaba`, `/taobao`, `/tmall`
//! prefixes, each its own host key), each serving the same recorded
//! AliExpress search page (from `seeds/`) under distinct URLs
//! `/<platform>/bench/<n>.html`; robots.txt is fetched and obeyed.

use futures_util::stream::{self, StreamExt};
use knockoff::fetch::http::HttpFetcher;
use knockoff::fetch::mock::{Faults, MockMarket, LOG_PATH};
use knockoff::fetch::{Fetcher, ResourceKind};
use knockoff::model::config::{Config, PlatformConfig};
use knockoff::model::listing::Platform;
use knockoff::model::recording::{write_manifest, Manifest, RecordedPage};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const HOSTS: [Platform; 4] = [
    Platform::AliExpress,
    Platform::Alibaba,
    Platform::Taobao,
    Platform::Tmall,
];
/// Pages per host served by the mock (the largest workload uses all).
const MOCK_PAGES_PER_HOST: usize = 1000;

struct Workload {
    name: &'static str,
    /// Per host; `None` = no limit (the config's maximum).
    rate: Option<f64>,
    pages_per_host: usize,
    concurrency: usize,
    concurrency_per_host: usize,
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        name: "rate-limited (20 req/s per host)",
        rate: Some(20.0),
        pages_per_host: 100,
        concurrency: 16,
        concurrency_per_host: 4,
    },
    Workload {
        name: "unlimited",
        rate: None,
        pages_per_host: 1000,
        concurrency: 32,
        concurrency_per_host: 8,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value_after = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    if let Some(addr) = value_after("--serve-mock") {
        rt.block_on(serve_mock(&addr));
        return;
    }
    let (addr, child) = match value_after("--against") {
        Some(a) => (a, None),
        None => {
            let (a, c) = spawn_mock();
            (a, Some(c))
        }
    };
    println!("knockoff crawl benchmark against mock at {addr}");
    for w in &WORKLOADS {
        rt.block_on(run(&addr, w));
    }
    let peak_rss_kib = rusage().1;
    println!(
        "peak RSS of the crawling process: {:.1} MiB",
        peak_rss_kib as f64 / 1024.0
    );
    if let Some(mut c) = child {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Writes the synthetic recording and serves it until killed.
async fn serve_mock(addr: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/aliexpress/search-aurora-p1.html");
    let body = std::fs::read(&seed).unwrap_or_else(|_| b"<html>bench page</html>".repeat(200));
    std::fs::write(dir.path().join("page.html"), &body).expect("write page");
    let mut m = Manifest::default();
    for p in HOSTS {
        for n in 0..MOCK_PAGES_PER_HOST {
            m.page.push(RecordedPage {
                url: format!(
                    "{}/bench/{n}.html",
                    knockoff::model::config::default_base_url(p)
                ),
                file: "page.html".into(),
                captured_at: chrono::Utc::now(),
                status: 200,
                content_type: "text/html; charset=utf-8".into(),
            });
        }
    }
    write_manifest(dir.path(), &m).expect("manifest");
    let addr: SocketAddr = addr.parse().expect("--serve-mock ADDR");
    let mock = MockMarket::start_on(Some(dir.path()), Faults::none(), addr)
        .await
        .expect("start mock");
    println!("listening {} page_bytes {}", mock.addr(), body.len());
    tokio::signal::ctrl_c().await.ok();
    // SIGKILL from the parent also ends us; the temp dir is then left in
    // /tmp, which is acceptable for a benchmark child.
}

fn spawn_mock() -> (String, std::process::Child) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .args(["--serve-mock", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mock");
    let out = child.stdout.take().expect("mock stdout");
    let mut line = String::new();
    BufReader::new(out)
        .read_line(&mut line)
        .expect("mock ready line");
    let addr = line
        .split_whitespace()
        .nth(1)
        .expect("listening ADDR")
        .to_string();
    (addr, child)
}

/// (user+system CPU seconds, peak RSS KiB) of this process.
fn rusage() -> (f64, i64) {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(u.ru_utime) + secs(u.ru_stime), u.ru_maxrss)
}

async fn mock_log(client: &reqwest::Client, addr: &str, clear: bool) -> Vec<serde_json::Value> {
    let url = format!("http://{addr}{LOG_PATH}");
    let req = if clear {
        client.delete(&url)
    } else {
        client.get(&url)
    };
    let text = req
        .send()
        .await
        .expect("mock log")
        .text()
        .await
        .expect("log body");
    serde_json::from_str::<Vec<serde_json::Value>>(&text).expect("log json")
}

async fn run(addr: &str, w: &Workload) {
    let control = reqwest::Client::new();
    mock_log(&control, addr, true).await;
    let mut config = Config::default();
    config.crawl.requests_per_second = w.rate.unwrap_or(10_000.0);
    config.crawl.concurrency = w.concurrency;
    config.crawl.concurrency_per_host = w.concurrency_per_host;
    for p in HOSTS {
        config.platforms.insert(
            p.as_str().into(),
            PlatformConfig {
                base_url: Some(format!("http://{addr}/{}", p.as_str())),
                ..Default::default()
            },
        );
    }
    let fetcher = HttpFetcher::from_config(&config).expect("fetcher");
    let urls: Vec<String> = (0..w.pages_per_host)
        .flat_map(|n| HOSTS.map(|p| format!("http://{addr}/{}/bench/{n}.html", p.as_str())))
        .collect();
    let (cpu0, _) = rusage();
    let started = Instant::now();
    let results: Vec<_> = stream::iter(urls.iter())
        .map(|u| fetcher.fetch(u, ResourceKind::Page))
        .buffer_unordered(w.concurrency * 4)
        .collect()
        .await;
    let wall = started.elapsed();
    let (cpu1, _) = rusage();
    let ok = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|c| c.status == 200))
        .count();
    let bytes: u64 = fetcher.stats().values().map(|s| s.bytes).sum();
    let log = mock_log(&control, addr, false).await;
    report(w, ok, urls.len(), bytes, wall, cpu1 - cpu0, &log);
}

/// Per host key: requests, achieved rate over the run, smallest gap.
pub fn server_rates(log: &[serde_json::Value]) -> BTreeMap<String, (usize, f64, f64)> {
    let mut by_host: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for e in log {
        let host = e["host_key"].as_str().unwrap_or_default().to_string();
        by_host
            .entry(host)
            .or_default()
            .push(e["t"].as_f64().unwrap_or(0.0));
    }
    by_host
        .into_iter()
        .map(|(h, mut t)| {
            t.sort_by(f64::total_cmp);
            let span = t.last().copied().unwrap_or(0.0) - t.first().copied().unwrap_or(0.0);
            let rate = if span > 0.0 {
                (t.len() - 1) as f64 / span
            } else {
                0.0
            };
            let min_gap = t
                .windows(2)
                .map(|p| p[1] - p[0])
                .fold(f64::INFINITY, f64::min);
            (h, (t.len(), rate, min_gap))
        })
        .collect()
}

fn report(
    w: &Workload,
    ok: usize,
    total: usize,
    bytes: u64,
    wall: Duration,
    cpu_secs: f64,
    log: &[serde_json::Value],
) {
    let secs = wall.as_secs_f64();
    println!("\n== {} ==", w.name);
    println!(
        "pages {ok}/{total} ok, {:.1} MiB, wall {secs:.2} s, {:.0} pages/s",
        bytes as f64 / (1 << 20) as f64,
        ok as f64 / secs
    );
    println!(
        "CPU {cpu_secs:.2} s = {:.2} CPU-s per 1000 pages",
        cpu_secs * 1000.0 / ok.max(1) as f64
    );
    for (host, (n, rate, min_gap)) in server_rates(log) {
        match w.rate {
            Some(target) => println!(
                "  server saw {host}: {n} requests, {rate:.2} req/s (target {target}, accuracy {:.1}%), min gap {:.1} ms (period {:.1} ms)",
                100.0 * rate / target,
                min_gap * 1000.0,
                1000.0 / target
            ),
            None => println!("  server saw {host}: {n} requests, {rate:.1} req/s"),
        }
    }
}
