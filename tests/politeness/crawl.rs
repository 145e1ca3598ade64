//! A live crawl of all five platforms over loopback, through the mock
//! marketplace serving a recording made of the real-shaped fixtures, with
//! the faults real marketplaces show: 429 with `Retry-After` in seconds,
//! 503 with `Retry-After` as an HTTP date, slow answers, an oversized
//! photo and a redirect loop. The crawl must get search → items → photos on
//! every platform, and the server's arrival log must show every host's
//! `Retry-After` waited out and its rate never exceeded.

use super::support;
use knockoff::fetch::crawl::Progress;
use knockoff::fetch::mock::{Fault, Faults, MockMarket, RequestLog, RetryAfter};
use knockoff::marketplaces::{self, PageOutcome};
use knockoff::model::config::{default_base_url, split_host_segment, Config, PlatformConfig};
use knockoff::model::listing::{Listing, Platform};
use knockoff::model::recording::{write_manifest, Manifest, RecordedPage};
use knockoff::model::watchlist::Watchlist;
use knockoff::run::cycle::{run_cycle, PageSource};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The search term every platform is crawled for.
const TERM: &str = "aurora";
/// Item pages per platform (the crawl's `max_items_per_term`).
const ITEMS: usize = 3;
/// Page hosts' rate in the test, and photo hosts' rate.
const PAGE_RPS: f64 = 8.0;
const PHOTO_RPS: f64 = 20.0;
/// How late the mock may stamp an arrival on a loaded machine.
const ARRIVAL_JITTER: Duration = Duration::from_millis(50);

/// One platform's search page and item page, as fixture files.
struct Pages {
    platform: Platform,
    search: &'static str,
    item: &'static str,
}

/// A search fixture and an item fixture per platform, each mirroring a
/// real captured page (see the platform's own test module for which).
const PAGES: &[Pages] = &[
    Pages {
        platform: Platform::AliExpress,
        search: "aliexpress/search_2024_www_dida.html",
        item: "aliexpress/item_2023_de_components.html",
    },
    Pages {
        platform: Platform::Alibaba,
        search: "alibaba/search_2022_page_data_config.html",
        item: "alibaba/product_2026_saved_dom.html",
    },
    Pages {
        platform: Platform::Taobao,
        search: "taobao/search-2018-server.html",
        item: "taobao/item-2026-ssr.html",
    },
    Pages {
        platform: Platform::Tmall,
        search: "tmall/list-2019-gbk.html",
        item: "tmall/item-2026-ssr.html",
    },
    Pages {
        platform: Platform::S1688,
        search: "1688/p4psearch_2024_pageconfig.html",
        item: "1688/offer_2026_window_context.html",
    },
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The listings of a page, or a panic naming the fixture.
fn parsed(platform: Platform, url: &str, body: &[u8], what: &str) -> Vec<Listing> {
    let u = Url::parse(url).unwrap();
    match marketplaces::parse_page(platform, &u, body, None) {
        PageOutcome::Ok { listings, .. } if !listings.is_empty() => listings,
        other => panic!("{what} under {url}: {other:?}"),
    }
}

/// What the recording holds, for the assertions.
#[derive(Default)]
struct Plan {
    /// Per platform: the item URLs the crawl should fetch.
    items: BTreeMap<Platform, Vec<String>>,
}

/// Builds a recording: per platform, the search page for [`TERM`], an
/// item page for each of the first [`ITEMS`] listings (the item fixture
/// with its own id replaced by the listing's), and a real JPEG for every
/// photo URL the pages name.
fn build_recording(dir: &Path) -> Plan {
    let photos: Vec<PathBuf> = std::fs::read_dir(root().join("seeds/images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg") && !p.ends_with("broken.jpg"))
        .collect();
    assert!(!photos.is_empty());
    let mut manifest = Manifest::default();
    let mut plan = Plan::default();
    let mut photo_urls: BTreeSet<String> = BTreeSet::new();
    let mut n = 0usize;
    let mut add = |manifest: &mut Manifest, url: &str, bytes: &[u8], ct: &str| {
        n += 1;
        let file = format!("f{n:04}");
        std::fs::write(dir.join(&file), bytes).unwrap();
        manifest.page.push(RecordedPage {
            url: url.to_string(),
            file,
            captured_at: chrono::Utc::now(),
            status: 200,
            content_type: ct.to_string(),
        });
    };
    for pages in PAGES {
        let p = pages.platform;
        let market = marketplaces::for_platform(p);
        let base = Url::parse(default_base_url(p)).unwrap();
        let search_url = market.search_url(&base, TERM, 1).to_string();
        let search = support::fixture(pages.search);
        let listings = parsed(p, &search_url, &search, pages.search);
        add(&mut manifest, &search_url, &search, "text/html");
        let item_template = support::fixture(pages.item);
        let mut items = Vec::new();
        for l in listings.iter().take(ITEMS) {
            // The item fixture says its own id; give it this listing's.
            let own = parsed(p, &l.url, &item_template, pages.item)[0].id.clone();
            let body = replace_bytes(&item_template, own.as_bytes(), l.id.as_bytes());
            let item = parsed(p, &l.url, &body, pages.item);
            assert_eq!(item[0].id, l.id, "{}: id not rewritten", pages.item);
            photo_urls.extend(item.iter().flat_map(|i| i.images.iter().cloned()));
            add(&mut manifest, &l.url, &body, "text/html");
            items.push(l.url.clone());
        }
        photo_urls.extend(listings.iter().flat_map(|l| l.images.iter().cloned()));
        plan.items.insert(p, items);
    }
    for (i, url) in photo_urls.iter().enumerate() {
        let bytes = std::fs::read(&photos[i % photos.len()]).unwrap();
        add(&mut manifest, url, &bytes, "image/jpeg");
    }
    write_manifest(dir, &manifest).unwrap();
    plan
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() || from == to {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// The real host a logged request went to: a host segment under a
/// platform's base (`/tmall/img.alicdn.com/...`), else the platform's
/// search host (its base).
fn host_of(r: &RequestLog) -> String {
    let rest = r.path[1 + r.host_key.len()..].to_string();
    match split_host_segment(rest.split('?').next().unwrap_or_default()) {
        Some((host, _)) => host.to_string(),
        None => r.host_key.clone(),
    }
}

fn is_photo_host(host: &str) -> bool {
    host.contains("alicdn") || host.contains("aliexpress-media") || host.contains("tbcdn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_crawl_reaches_items_and_photos_on_every_platform_politely() {
    let rec = tempfile::tempdir().unwrap();
    let plan = build_recording(rec.path());
    let faults = Faults::none()
        // AliExpress search: two 429s asking for 1 s each.
        .first(
            "/aliexpress/w/",
            2,
            Fault::TooManyRequests(RetryAfter::Seconds(1)),
        )
        // Alibaba.com search: a 503 asking for an HTTP date 1 s ahead.
        .first(
            "/alibaba/trade/",
            1,
            Fault::Unavailable(RetryAfter::Date(Duration::from_secs(1))),
        )
        // Alibaba.com item pages: a redirect loop for the first one.
        .first("/alibaba/product-detail/", 8, Fault::RedirectLoop)
        // Taobao item pages answer slowly; Tmall's search trickles.
        .always(
            "/taobao/item.taobao.com/",
            Fault::SlowHeaders(Duration::from_millis(300)),
        )
        .first(
            "/tmall/search_product.htm",
            1,
            Fault::SlowBody {
                delay: Duration::from_millis(100),
                chunks: 4,
            },
        )
        // One 1688 photo is far over the image cap.
        .first(
            "/1688/cbu01.alicdn.com/",
            1,
            Fault::Oversized {
                bytes: 3 << 20,
                declared: false,
            },
        );
    let mock = MockMarket::start(Some(rec.path()), faults).await.unwrap();

    let mut config = Config::default();
    config.crawl.requests_per_second = PAGE_RPS;
    config.crawl.photo_requests_per_second = PHOTO_RPS;
    config.crawl.concurrency_per_host = 2;
    config.crawl.max_pages_per_term = 1;
    config.crawl.max_items_per_term = ITEMS;
    config.crawl.max_image_bytes = 1 << 20;
    config.crawl.backoff_base_millis = 50;
    config.crawl.timeout_secs = 5;
    for p in Platform::ALL {
        config.platforms.insert(
            p.as_str().into(),
            PlatformConfig {
                base_url: Some(mock.base_url(p)),
                ..Default::default()
            },
        );
    }
    let mut wl = Watchlist::load(root().join("watchlists/demo.toml")).unwrap();
    wl.file.terms = vec![TERM.to_string()];
    let data = tempfile::tempdir().unwrap();
    let store = knockoff::store::Store::open(data.path()).unwrap();
    let index = knockoff::judge::index::ListingIndex::open(data.path()).unwrap();
    let report = run_cycle(
        &wl,
        &PageSource::Live {
            config: Box::new(config),
            record: None,
        },
        Some(&store),
        Some(&index),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        &Progress::silent(),
    )
    .await
    .unwrap();
    let log = mock.requests();

    // No host was given up.
    for (host, s) in &report.hosts {
        assert!(s.backed_off.is_none(), "{host} given up: {s:?}");
    }
    // Search, items and photos on every platform.
    for p in Platform::ALL {
        let stats = &report.scan.per_platform[&p];
        assert!(stats.listings > 0, "{p:?}: no listing");
        let ok = |r: &&RequestLog| r.host_key == p.as_str() && r.status == 200;
        let items_ok = plan.items[&p]
            .iter()
            .filter(|item| {
                let real = Url::parse(item).unwrap();
                log.iter().filter(ok).any(|r| {
                    r.path.ends_with(&format!(
                        "{}{}",
                        real.path(),
                        real.query().map(|q| format!("?{q}")).unwrap_or_default()
                    ))
                })
            })
            .count();
        assert!(items_ok >= 2, "{p:?}: {items_ok} item pages reached");
        let photos_ok = log
            .iter()
            .filter(ok)
            .filter(|r| is_photo_host(&host_of(r)))
            .count();
        assert!(photos_ok > 0, "{p:?}: no photo fetched");
    }
    // The faults were met.
    assert!(log.iter().any(|r| r.status == 429));
    assert!(log.iter().any(|r| r.status == 503));

    // From the server's side: per host, no request before a Retry-After
    // passed, and never faster than the host's rate.
    let mut by_host: BTreeMap<String, Vec<&RequestLog>> = BTreeMap::new();
    for r in &log {
        by_host.entry(host_of(r)).or_default().push(r);
    }
    let mut waits_checked = 0;
    for (host, reqs) in &by_host {
        let period = Duration::from_secs_f64(
            1.0 / if is_photo_host(host) {
                PHOTO_RPS
            } else {
                PAGE_RPS
            },
        );
        // The fetcher spaces its sends by the period; the server stamps
        // arrivals when its handler runs, which on a loaded 2-core machine
        // can be late by a few milliseconds. So: any k requests in a row
        // span at least (k-1) periods, less that jitter once (a late stamp
        // shortens one gap and lengthens the one before; it never adds up).
        for (i, a) in reqs.iter().enumerate() {
            for (k, b) in reqs[i + 1..].iter().enumerate().take(8) {
                let span = b.at.duration_since(a.at);
                let least = period * (k as u32 + 1);
                assert!(
                    span + ARRIVAL_JITTER >= least,
                    "{host}: {} then {} ({} requests on) after {span:?} (period {period:?})",
                    a.path,
                    b.path,
                    k + 1
                );
            }
        }
        for (i, r) in reqs.iter().enumerate() {
            let Some(wait) = r.retry_after else { continue };
            waits_checked += 1;
            for later in &reqs[i + 1..] {
                let after = later.at.duration_since(r.at);
                assert!(
                    after + Duration::from_millis(5) >= wait,
                    "{host}: {} came {after:?} after a Retry-After of {wait:?}",
                    later.path
                );
            }
        }
    }
    assert!(waits_checked >= 3, "{waits_checked} Retry-After answers");
}
