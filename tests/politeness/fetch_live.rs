//! The live fetcher against the loopback mock marketplace, one fault at a
//! time: each is retried, capped, stopped or reported, never a panic, and
//! the server's own arrival log shows the rate and `Retry-After` were kept.
//! Also: recording what was fetched (manifest + WARC) and replaying it.

use crate::warc_reader::read_warc;
use knockoff::fetch::http::{HttpFetcher, HttpSettings};
use knockoff::fetch::mock::{Fault, Faults, MockMarket, RequestLog, RetryAfter};
use knockoff::fetch::record::RecordingFetcher;
use knockoff::fetch::replay::ReplayFetcher;
use knockoff::fetch::{FetchError, Fetcher, ResourceKind};
use knockoff::model::config::{BaseUrl, Config, PlatformConfig};
use knockoff::model::listing::Platform;
use knockoff::model::recording::{write_manifest, Manifest, RecordedPage, Recording};
use std::path::Path;
use std::time::{Duration, Instant};

const UA: &str = "knockoff-test/1 (mailto:test@example.invalid)";

/// A small recording: AliExpress search pages, an item page, a photo.
fn fixture(dir: &Path) {
    let mut m = Manifest::default();
    let mut add = |url: &str, file: &str, ct: &str, body: &[u8]| {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        m.page.push(RecordedPage {
            url: url.into(),
            file: file.into(),
            captured_at: "2026-11-03T09:12:41Z".parse().unwrap(),
            status: 200,
            content_type: ct.into(),
        });
    };
    for n in 1..=20 {
        add(
            &format!("https://www.aliexpress.com/w/wholesale-aurora.html?page={n}"),
            &format!("ae/search-{n}.html"),
            "text/html; charset=utf-8",
            format!("<html><body>results page {n}</body></html>").as_bytes(),
        );
    }
    add(
        "https://www.aliexpress.com/item/1005001.html",
        "ae/item-1005001.html",
        "text/html; charset=utf-8",
        b"<html><body>item 1005001</body></html>",
    );
    add(
        "https://ae01.alicdn.com/kf/S1.jpg",
        "ae/S1.jpg",
        "image/jpeg",
        &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9],
    );
    write_manifest(dir, &m).unwrap();
}

struct Env {
    _dir: tempfile::TempDir,
    mock: MockMarket,
}

async fn env(faults: Faults) -> Env {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let mock = MockMarket::start(Some(dir.path()), faults).await.unwrap();
    Env { _dir: dir, mock }
}

/// Fast settings for tests: high rate, short delays and timeouts.
fn settings(mock: &MockMarket, rps: f64) -> HttpSettings {
    let mut config = Config::default();
    config.crawl.user_agent = UA.into();
    config.crawl.requests_per_second = rps;
    config.crawl.concurrency_per_host = 4;
    config.platforms.insert(
        "aliexpress".into(),
        PlatformConfig {
            base_url: Some(mock.base_url(Platform::AliExpress)),
            ..Default::default()
        },
    );
    let mut s = HttpSettings::from_config(&config);
    s.backoff_base = Duration::from_millis(10);
    s.backoff_max = Duration::from_millis(100);
    s.timeout = Duration::from_millis(1500);
    s.read_timeout = Duration::from_millis(1000);
    s.connect_timeout = Duration::from_millis(1000);
    s.max_retry_after = Duration::from_secs(3);
    s.max_page_bytes = 256 * 1024;
    s.max_image_bytes = 512 * 1024;
    s
}

fn search(mock: &MockMarket, n: u32) -> String {
    format!(
        "{}/w/wholesale-aurora.html?page={n}",
        mock.base_url(Platform::AliExpress)
    )
}

fn not_robots(log: Vec<RequestLog>) -> Vec<RequestLog> {
    log.into_iter()
        .filter(|r| !r.path.ends_with("robots.txt"))
        .collect()
}

/// Server-side check: no two arrivals for a host closer than `period`
/// (less a clock tolerance), and the whole run no faster than the rate.
fn assert_rate(log: &[RequestLog], period: Duration) {
    let tolerance = Duration::from_millis(30);
    for pair in log.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap + tolerance >= period,
            "{} then {} only {gap:?} apart (period {period:?})",
            pair[0].path,
            pair[1].path
        );
    }
    if let (Some(first), Some(last)) = (log.first(), log.last()) {
        let span = last.at.duration_since(first.at);
        let min = period * (log.len() as u32 - 1);
        assert!(
            span + tolerance >= min,
            "{} requests in {span:?}",
            log.len()
        );
    }
}

#[tokio::test]
async fn per_host_rate_is_never_exceeded_and_user_agent_is_sent() {
    let e = env(Faults::none()).await;
    let f = HttpFetcher::new(settings(&e.mock, 20.0)).unwrap();
    let urls: Vec<String> = (1..=12).map(|n| search(&e.mock, n)).collect();
    let started = Instant::now();
    let results =
        futures_util::future::join_all(urls.iter().map(|u| f.fetch(u, ResourceKind::Page))).await;
    for (u, r) in urls.iter().zip(&results) {
        let c = r.as_ref().unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(c.status, 200);
        assert!(String::from_utf8_lossy(&c.body).contains("results page"));
    }
    let log = e.mock.requests_under("/aliexpress/");
    // robots.txt + 12 pages, all through one limiter.
    assert_eq!(log.len(), 13);
    assert_eq!(log[0].path, "/aliexpress/robots.txt");
    assert!(log
        .iter()
        .all(|r| r.user_agent == UA && r.host_key == "aliexpress"));
    assert_rate(&log, Duration::from_millis(50));
    assert!(started.elapsed() >= Duration::from_millis(12 * 50 - 30));
    let stats = f.stats();
    assert_eq!(stats["aliexpress"].fetched, 13);
    assert_eq!(stats["aliexpress"].failed, 0);
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out() {
    let faults = Faults::none().first(
        "/aliexpress/w/",
        1,
        Fault::TooManyRequests(RetryAfter::Seconds(1)),
    );
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.status, 200);
    let log = not_robots(e.mock.requests());
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, 429);
    let waited = log[1].at.duration_since(log[0].at);
    assert!(
        waited >= Duration::from_millis(990),
        "retried after {waited:?}"
    );
    assert_eq!(f.stats()["aliexpress"].retried, 1);
}

#[tokio::test]
async fn retry_after_as_http_date_is_waited_out() {
    let faults = Faults::none().first(
        "/aliexpress/w/",
        1,
        Fault::TooManyRequests(RetryAfter::Date(Duration::from_secs(1))),
    );
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.status, 200);
    let log = not_robots(e.mock.requests());
    assert_eq!(log.len(), 2);
    // The date has whole seconds and is at least 1 s ahead when sent.
    let waited = log[1].at.duration_since(log[0].at);
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}"
    );
}

/// A Retry-After beyond the cap is cut to the cap: the host is paused that
/// long, asked again, and not given up (issue: a live crawl abandoned every
/// host within seconds).
#[tokio::test]
async fn retry_after_beyond_the_cap_pauses_the_host_for_the_cap() {
    let faults = Faults::none().always(
        "/aliexpress/w/",
        Fault::TooManyRequests(RetryAfter::Seconds(3600)),
    );
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.max_retry_after = Duration::from_secs(1);
    s.max_retries = 1;
    let f = HttpFetcher::new(s).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.status, 429);
    let log = not_robots(e.mock.requests());
    assert_eq!(log.len(), 2);
    let waited = log[1].at.duration_since(log[0].at);
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(5),
        "asked again after {waited:?}"
    );
    let stats = &f.stats()["aliexpress"];
    assert!(stats.backed_off.is_none());
    assert!(stats.longest_pause_secs >= 0.99 && stats.longest_pause_secs <= 1.01);
}

/// Refusals slow the host (its rate halves per refusal) instead of ending
/// the crawl; the host is given up only when the refusal budget is spent,
/// and the stats name the refused pages.
#[tokio::test]
async fn persistent_429_slows_the_host_then_gives_it_up_after_the_budget() {
    let faults =
        Faults::none().always("/aliexpress/w/", Fault::TooManyRequests(RetryAfter::Absent));
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.max_retries = 0;
    s.give_up_after = Duration::from_millis(1500);
    let f = HttpFetcher::new(s).unwrap();
    let started = Instant::now();
    let mut n = 0;
    let err = loop {
        n += 1;
        assert!(n < 100, "never given up");
        match f.fetch(&search(&e.mock, n), ResourceKind::Page).await {
            Ok(c) => assert_eq!(c.status, 429),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, FetchError::HostBackedOff { .. }), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let log = not_robots(e.mock.requests());
    // The gaps between requests grow: 20 ms at first, 32 times that at most.
    let gaps: Vec<Duration> = log
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect();
    assert!(gaps.len() >= 4, "{gaps:?}");
    assert!(gaps[gaps.len() - 1] >= gaps[0] * 8, "{gaps:?}");
    let stats = &f.stats()["aliexpress"];
    assert!(stats.slowed >= 4);
    assert!(stats.slowest_rate_fraction <= 1.0 / 16.0);
    assert!(!stats.refused_urls.is_empty());
    assert!(stats
        .backed_off
        .as_deref()
        .unwrap_or_default()
        .contains("HTTP 429"));
    // Later requests fail at once, without reaching the host.
    let before = e.mock.requests().len();
    let err = f
        .fetch(&search(&e.mock, 99), ResourceKind::Page)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::HostBackedOff { .. }));
    assert_eq!(e.mock.requests().len(), before);
}

#[tokio::test]
async fn a_5xx_burst_is_retried_until_it_passes() {
    let faults = Faults::none().first("/aliexpress/w/", 2, Fault::ServerError(503));
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.status, 200);
    let statuses: Vec<u16> = not_robots(e.mock.requests())
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![503, 503, 200]);
    assert_eq!(f.stats()["aliexpress"].retried, 2);
}

#[tokio::test]
async fn a_lasting_5xx_is_returned_after_bounded_retries() {
    let faults = Faults::none().always("/aliexpress/w/", Fault::ServerError(500));
    let e = env(faults).await;
    let s = settings(&e.mock, 50.0);
    let attempts = s.max_retries as usize + 1;
    let f = HttpFetcher::new(s).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.status, 500);
    assert_eq!(not_robots(e.mock.requests()).len(), attempts);
    let stats = &f.stats()["aliexpress"];
    assert_eq!(stats.failed, 1);
    assert!(stats.backed_off.is_none());
}

#[tokio::test]
async fn slow_headers_time_out_and_are_reported() {
    let faults =
        Faults::none().always("/aliexpress/w/", Fault::SlowHeaders(Duration::from_secs(5)));
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.timeout = Duration::from_millis(300);
    s.max_retries = 1;
    let f = HttpFetcher::new(s).unwrap();
    let started = Instant::now();
    let err = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(not_robots(e.mock.requests()).len(), 2);
}

#[tokio::test]
async fn a_slow_but_steady_body_arrives_whole_and_a_stalled_one_times_out() {
    let faults = Faults::none()
        .always(
            "/aliexpress/w/wholesale-aurora.html",
            Fault::SlowBody {
                delay: Duration::from_millis(40),
                chunks: 4,
            },
        )
        .always(
            "/aliexpress/item/",
            Fault::SlowBody {
                delay: Duration::from_millis(700),
                chunks: 3,
            },
        );
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.timeout = Duration::from_millis(1000);
    s.read_timeout = Duration::from_millis(500);
    s.max_retries = 0;
    let f = HttpFetcher::new(s).unwrap();
    let c = f
        .fetch(&search(&e.mock, 3), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.body, b"<html><body>results page 3</body></html>");
    let item = format!(
        "{}/item/1005001.html",
        e.mock.base_url(Platform::AliExpress)
    );
    let err = f.fetch(&item, ResourceKind::Page).await.unwrap_err();
    assert!(
        err.to_string().contains("timed out") || err.to_string().contains("body"),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_capped_declared_or_streamed_and_not_retried() {
    let faults = Faults::none()
        .always(
            "/aliexpress/w/wholesale-aurora.html",
            Fault::Oversized {
                bytes: 1 << 20,
                declared: true,
            },
        )
        .always(
            "/aliexpress/ae01.alicdn.com/",
            Fault::Oversized {
                bytes: 1 << 20,
                declared: false,
            },
        );
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let err = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FetchError::TooLarge {
            url: search(&e.mock, 1),
            limit_bytes: 256 * 1024
        }
    );
    let img = format!(
        "{}/ae01.alicdn.com/kf/S1.jpg",
        e.mock.base_url(Platform::AliExpress)
    );
    let err = f.fetch(&img, ResourceKind::Image).await.unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit_bytes, .. } if limit_bytes == 512 * 1024),
        "{err}"
    );
    assert_eq!(not_robots(e.mock.requests()).len(), 2);
}

#[tokio::test]
async fn a_gzip_bomb_is_stopped_at_the_cap_on_decompressed_bytes() {
    let faults = Faults::none().always(
        "/aliexpress/w/",
        Fault::GzipBomb {
            decompressed_bytes: 8 << 20,
        },
    );
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let err = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        FetchError::DecodedTooLarge {
            url: search(&e.mock, 1),
            encoding: "gzip".into(),
            limit_bytes: 256 * 1024
        }
    );
    assert!(
        err.to_string().starts_with(&format!(
            "{}: gzip-encoded body decodes to more than 262144 bytes",
            search(&e.mock, 1)
        )),
        "{err}"
    );
    // Only the small robots.txt 404 was counted; the bomb never was.
    assert!(f.stats()["aliexpress"].bytes < 1024);
}

#[tokio::test]
async fn redirects_are_followed_and_kept_and_loops_are_cut() {
    let item = "/aliexpress/item/1005001.html";
    let faults = Faults::none()
        .first(
            "/aliexpress/w/wholesale-aurora.html",
            1,
            Fault::RedirectTo(item.into()),
        )
        .always("/aliexpress/loop", Fault::RedirectLoop);
    let e = env(faults).await;
    let s = settings(&e.mock, 50.0);
    let limit = s.max_redirects;
    let f = HttpFetcher::new(s).unwrap();
    let url = search(&e.mock, 1);
    let c = f.fetch(&url, ResourceKind::Page).await.unwrap();
    assert_eq!(c.url, url);
    assert_eq!(c.redirects, vec![url.clone()]);
    assert_eq!(c.final_url, format!("{}{item}", e.mock.url()));
    assert!(String::from_utf8_lossy(&c.body).contains("item 1005001"));
    let looping = format!("{}/aliexpress/loop", e.mock.url());
    let err = f.fetch(&looping, ResourceKind::Page).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("more than {limit} redirects")),
        "{err}"
    );
    let hits = e.mock.requests_under("/aliexpress/loop").len();
    assert_eq!(hits, limit + 1);
}

#[tokio::test]
async fn robots_txt_is_fetched_once_and_obeyed() {
    let faults = Faults::none().robots("/aliexpress", "User-agent: *\nDisallow: /item/\n");
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    for n in 1..=3 {
        let c = f
            .fetch(&search(&e.mock, n), ResourceKind::Page)
            .await
            .unwrap();
        assert_eq!(c.status, 200);
    }
    let item = format!(
        "{}/item/1005001.html",
        e.mock.base_url(Platform::AliExpress)
    );
    let err = f.fetch(&item, ResourceKind::Page).await.unwrap_err();
    assert!(matches!(err, FetchError::Disallowed { .. }), "{err}");
    assert_eq!(e.mock.requests_under("/aliexpress/robots.txt").len(), 1);
    assert!(e.mock.requests_under("/aliexpress/item/").is_empty());
    assert_eq!(f.stats()["aliexpress"].disallowed, 1);
}

#[tokio::test]
async fn robots_txt_crawl_delay_slows_the_host() {
    let faults = Faults::none().robots(
        "/aliexpress",
        "User-agent: knockoff\nCrawl-delay: 0.25\nAllow: /\n",
    );
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 100.0)).unwrap();
    let urls: Vec<String> = (1..=4).map(|n| search(&e.mock, n)).collect();
    let results =
        futures_util::future::join_all(urls.iter().map(|u| f.fetch(u, ResourceKind::Page))).await;
    assert!(results.iter().all(|r| r.is_ok()));
    let log = e.mock.requests_under("/aliexpress/");
    assert_eq!(log.len(), 5);
    // The delay holds from the robots.txt request on.
    assert_rate(&log, Duration::from_millis(250));
}

#[tokio::test]
async fn unreachable_robots_txt_means_do_not_crawl() {
    let faults = Faults::none().always("/aliexpress/robots.txt", Fault::ServerError(500));
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.max_retries = 1;
    let f = HttpFetcher::new(s).unwrap();
    let err = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Disallowed { .. }), "{err}");
    assert!(e.mock.requests_under("/aliexpress/w/").is_empty());
}

#[tokio::test]
async fn punish_pages_at_200_are_returned_then_the_host_is_left_alone() {
    let faults = Faults::none().always("/aliexpress/w/", Fault::Punish);
    let e = env(faults).await;
    let mut s = settings(&e.mock, 50.0);
    s.give_up_block_pages = 3;
    let threshold = s.give_up_block_pages;
    let f = HttpFetcher::new(s).unwrap();
    for n in 1..=threshold {
        // Each punish page is evidence: returned, counted, not retried.
        let c = f
            .fetch(&search(&e.mock, n), ResourceKind::Page)
            .await
            .unwrap();
        assert_eq!(c.status, 200);
        assert!(String::from_utf8_lossy(&c.body).contains("_____tmd_____/punish"));
    }
    let err = f
        .fetch(&search(&e.mock, 9), ResourceKind::Page)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::HostBackedOff { .. }), "{err}");
    assert_eq!(not_robots(e.mock.requests()).len(), threshold as usize);
    let stats = &f.stats()["aliexpress"];
    assert_eq!(stats.blocked, threshold as u64);
    assert!(stats
        .backed_off
        .as_deref()
        .unwrap_or_default()
        .contains("block pages in a row"));
    assert_eq!(stats.refused_urls.len(), threshold as usize);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_and_a_dead_one_reported() {
    let faults = Faults::none()
        .first("/aliexpress/w/wholesale-aurora.html", 1, Fault::Reset)
        .always("/aliexpress/item/", Fault::Reset);
    let e = env(faults).await;
    let f = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let c = f
        .fetch(&search(&e.mock, 1), ResourceKind::Page)
        .await
        .unwrap();
    assert_eq!(c.body, b"<html><body>results page 1</body></html>");
    assert_eq!(f.stats()["aliexpress"].retried, 1);
    let item = format!(
        "{}/item/1005001.html",
        e.mock.base_url(Platform::AliExpress)
    );
    let err = f.fetch(&item, ResourceKind::Page).await.unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error_not_a_panic() {
    // Bind then drop a listener: the port is (very likely) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::default();
    config.platforms.insert(
        "aliexpress".into(),
        PlatformConfig {
            base_url: Some(format!("http://127.0.0.1:{port}/aliexpress")),
            ..Default::default()
        },
    );
    let s = HttpSettings {
        backoff_base: Duration::from_millis(5),
        max_retries: 1,
        obey_robots: false,
        ..HttpSettings::from_config(&config)
    };
    let f = HttpFetcher::new(s).unwrap();
    let err = f
        .fetch(
            &format!("http://127.0.0.1:{port}/aliexpress/x"),
            ResourceKind::Page,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
    let err = f
        .fetch("ftp://127.0.0.1/x", ResourceKind::Page)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Invalid { .. }), "{err}");
}

/// Issue 19, finding 7: only configured bases may be on loopback; a
/// redirect off the base to another loopback port, a link-local metadata
/// address or a foreign host is refused with the URL and the reason, and
/// nothing is sent there.
#[tokio::test]
async fn regression_issue19_redirects_and_addresses_outside_the_policy_are_refused() {
    let internal = MockMarket::start(None, Faults::none()).await.unwrap();
    let secret = format!("{}/secret.txt", internal.base_url(Platform::Alibaba));
    let e = env(Faults::none()
        .always("/aliexpress/internal", Fault::RedirectTo(secret.clone()))
        .always(
            "/aliexpress/metadata",
            Fault::RedirectTo("http://169.254.169.254/latest/meta-data/".into()),
        )
        .always(
            "/aliexpress/foreign",
            Fault::RedirectTo("https://evil.example/x.jpg".into()),
        )
        .always(
            "/aliexpress/cdn",
            Fault::RedirectTo("/aliexpress/ae01.alicdn.com/kf/S1.jpg".into()),
        ))
    .await;
    let f = HttpFetcher::new(settings(&e.mock, 100.0)).unwrap();
    let base = e.mock.base_url(Platform::AliExpress);
    for (path, why) in [
        ("internal", "loopback address"),
        ("metadata", "cloud metadata address"),
        ("foreign", "evil.example is not a host"),
    ] {
        let err = f
            .fetch(&format!("{base}/{path}/a.jpg"), ResourceKind::Image)
            .await
            .unwrap_err();
        match &err {
            FetchError::Refused { url, reason } => {
                assert!(reason.contains(why), "{err}");
                assert!(
                    reason.contains(&format!("redirect from {base}/{path}/a.jpg")),
                    "{err}"
                );
                assert!(!url.contains(&base), "{err}");
            }
            other => panic!("{path}: {other}"),
        }
    }
    // A redirect that stays under the base is followed.
    let c = f
        .fetch(&format!("{base}/cdn/a.jpg"), ResourceKind::Image)
        .await
        .unwrap();
    assert_eq!(c.status, 200);
    // Asked directly: an address outside the bases is refused unsent.
    for url in [
        secret.clone(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[::1]:1/x".to_string(),
        "http://localhost:1/x".to_string(),
    ] {
        let err = f.fetch(&url, ResourceKind::Page).await.unwrap_err();
        assert!(matches!(err, FetchError::Refused { .. }), "{url}: {err}");
        assert!(
            err.to_string().contains("refused by the network policy"),
            "{err}"
        );
    }
    assert!(internal.requests().is_empty(), "{:?}", internal.requests());
}

fn sha256(bytes: &[u8]) -> String {
    knockoff::fetch::sha256_hex(bytes)
}

#[tokio::test]
async fn recording_writes_manifest_and_warc_and_replays_the_same_bytes() {
    let e = env(Faults::none()).await;
    let out = tempfile::tempdir().unwrap();
    let base = BaseUrl::new(
        Platform::AliExpress,
        Some(url::Url::parse(&e.mock.base_url(Platform::AliExpress)).unwrap()),
    );
    let live = HttpFetcher::new(settings(&e.mock, 50.0)).unwrap();
    let rec = RecordingFetcher::create(live, out.path(), UA)
        .unwrap()
        .with_bases(vec![base.clone()]);
    let item_real = "https://www.aliexpress.com/item/1005001.html";
    let img_real = "https://ae01.alicdn.com/kf/S1.jpg";
    let wanted = [
        (search(&e.mock, 1), ResourceKind::Page),
        (search(&e.mock, 2), ResourceKind::Page),
        (base.to_configured(item_real), ResourceKind::Page),
        (base.to_configured(img_real), ResourceKind::Image),
    ];
    let mut live_bodies = Vec::new();
    for (url, kind) in &wanted {
        live_bodies.push(rec.fetch(url, *kind).await.unwrap());
    }
    let summary = rec.finish().await.unwrap();
    assert_eq!(summary.pages, 4);

    // The recording opens, holds real URLs, and replays the same bytes.
    let recording = Recording::open(out.path()).unwrap();
    let replay = ReplayFetcher::new(recording.clone());
    let real_urls = [
        "https://www.aliexpress.com/w/wholesale-aurora.html?page=1",
        "https://www.aliexpress.com/w/wholesale-aurora.html?page=2",
        item_real,
        img_real,
    ];
    for (real, live) in real_urls.iter().zip(&live_bodies) {
        let again = replay.fetch(real, ResourceKind::Page).await.unwrap();
        assert_eq!(again.status, 200, "{real}");
        assert_eq!(again.body, live.body, "{real}");
        assert_eq!(again.sha256, live.sha256);
    }
    for page in recording.pages() {
        assert!(!page.file.contains(".."));
    }
    assert!(recording.pages()[3].file.ends_with(".jpg"));

    // The WARC parses back: warcinfo, then request/response pairs.
    let records = read_warc(&summary.warc);
    assert_eq!(records.len(), 1 + 2 * 4);
    assert_eq!(records[0].header("WARC-Type"), Some("warcinfo"));
    for (i, pair) in records[1..].chunks(2).enumerate() {
        let (req, resp) = (&pair[0], &pair[1]);
        assert_eq!(req.header("WARC-Type"), Some("request"));
        assert_eq!(resp.header("WARC-Type"), Some("response"));
        assert_eq!(
            req.header("WARC-Concurrent-To"),
            resp.header("WARC-Record-ID")
        );
        assert_eq!(resp.header("WARC-Target-URI"), Some(real_urls[i]));
        assert!(resp.header("WARC-Date").unwrap().ends_with('Z'));
        for r in [req, resp] {
            let id = r.header("WARC-Record-ID").unwrap();
            assert!(id.starts_with("<urn:uuid:") && id.ends_with('>'));
            assert_eq!(
                r.header("WARC-Block-Digest").unwrap(),
                knockoff::fetch::warc::sha1_base32(&r.block)
            );
        }
        let block = &resp.block;
        let split = block.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert!(block.starts_with(b"HTTP/1.1 200 OK\r\n"));
        let payload = &block[split + 4..];
        assert_eq!(payload, &live_bodies[i].body[..]);
        assert_eq!(
            resp.header("WARC-Payload-Digest").unwrap(),
            knockoff::fetch::warc::sha1_base32(payload)
        );
        assert_eq!(
            resp.header("X-Knockoff-Payload-SHA256").unwrap(),
            sha256(payload)
        );
        assert_eq!(
            resp.header("X-Knockoff-Body-SHA256").unwrap(),
            live_bodies[i].sha256
        );
        assert!(String::from_utf8_lossy(&req.block).contains(&format!("user-agent: {UA}\r\n")));
    }
}
