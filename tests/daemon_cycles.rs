//! The daemon over several cycles of changing recordings, with a fake
//! clock: a listing appears and is flagged (a case opens), its case is
//! submitted, the listing answers 404 (removal verified with the capture),
//! then relistings appear under new ids from other sellers (by photo and
//! by title), and a listing missing for N cycles counts as gone. The store
//! and index are real, in a temp folder; `/metrics` is scraped over real
//! HTTP on 127.0.0.1 and parsed. A second cycle over unchanged pages
//! hashes no photo again (counted with [`hashing_work`]), until an
//! official photo changes.

use chrono::{DateTime, Utc};
use knockoff::file::cases::book::CaseBook;
use knockoff::file::cases::deadline::{Calendar, DeadlineKind};
use knockoff::file::cases::state::CaseState;
use knockoff::judge::imagehash::{hashing_work, HashingWork};
use knockoff::model::watchlist::Watchlist;
use knockoff::run::cycle::PageSource;
use knockoff::run::daemon::clock::FakeClock;
use knockoff::run::daemon::tracker::Tracker;
use knockoff::run::daemon::{Daemon, DaemonSettings};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[path = "fixtures/daemon/support.rs"]
mod support;
use support::root;

/// The hashing-work counter is one per process: a test that counts it
/// holds this for writing, every other test of the file (they all hash
/// photos) for reading, so no other test's work lands in a count.
static HASHING: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The demo watchlist cut down to its espresso cup (see the support module).
fn cup_watchlist(dir: &std::path::Path) -> Watchlist {
    Watchlist::load(support::cup_watchlist(dir)).unwrap()
}

/// One AliExpress search result card (the `itemList.content[]` shape).
struct Item<'a> {
    id: &'a str,
    title: &'a str,
    store: &'a str,
    store_id: u64,
    img: &'a str,
    price: f64,
}

fn search_page(items: &[Item]) -> String {
    let cards: Vec<String> = items
        .iter()
        .map(|i| {
            serde_json::json!({
                "productId": i.id,
                "productType": "natural",
                "image": {"imgUrl": i.img},
                "title": {"displayTitle": i.title},
                "prices": {"salePrice": {"currencyCode": "USD", "minPrice": i.price,
                    "formattedPrice": format!("US ${:.2}", i.price)}},
                "trade": {"tradeDesc": "100+ sold"},
                "store": {"storeUrl": format!("//www.aliexpress.com/store/{}", i.store_id),
                    "storeName": i.store, "storeId": i.store_id},
            })
            .to_string()
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>aurora</title></head><body>\n<script>\nwindow._dida_config_ = window._dida_config_ || {{}};\nwindow._dida_config_._init_data_= {{ data: {{\"success\":true,\"data\":{{\"root\":{{\"fields\":{{\"pageInfo\":{{\"page\":1,\"pageSize\":60,\"totalResults\":{},\"totalPage\":1}},\"mods\":{{\"itemList\":{{\"content\":[{}]}}}}}}}}}}}} }}\n</script>\n</body></html>\n",
        items.len(),
        cards.join(",")
    )
}

/// A recording folder under construction.
struct Rec {
    dir: PathBuf,
    manifest: String,
    n: usize,
}

impl Rec {
    fn new(dir: PathBuf) -> Rec {
        std::fs::create_dir_all(&dir).unwrap();
        Rec {
            dir,
            manifest: String::new(),
            n: 0,
        }
    }

    fn add(&mut self, url: &str, body: &[u8], status: u16, ct: &str, at: &str) -> &mut Self {
        self.n += 1;
        let file = format!("f{}.bin", self.n);
        std::fs::write(self.dir.join(&file), body).unwrap();
        self.manifest.push_str(&format!(
            "[[page]]\nurl = \"{url}\"\nfile = \"{file}\"\ncaptured_at = \"{at}\"\nstatus = {status}\ncontent_type = \"{ct}\"\n\n"
        ));
        self
    }

    fn search(&mut self, items: &[Item], at: &str) -> &mut Self {
        self.add(
            SEARCH_URL,
            search_page(items).as_bytes(),
            200,
            "text/html; charset=utf-8",
            at,
        )
    }

    fn image(&mut self, url: &str, seed_file: &str, at: &str) -> &mut Self {
        let bytes = std::fs::read(root().join("seeds/images").join(seed_file)).unwrap();
        self.add(url, &bytes, 200, "image/jpeg", at)
    }

    /// AliExpress's punish page (a block at HTTP 200) as page 2.
    fn blocked(&mut self, at: &str) -> &mut Self {
        let bytes = std::fs::read(root().join("seeds/aliexpress/punish-aurora-p3.html")).unwrap();
        self.add(
            "https://www.aliexpress.com/w/wholesale-aurora.html?page=2",
            &bytes,
            200,
            "text/html; charset=utf-8",
            at,
        )
    }

    fn finish(&mut self) -> PathBuf {
        std::fs::write(self.dir.join("manifest.toml"), &self.manifest).unwrap();
        self.dir.clone()
    }
}

const SEARCH_URL: &str = "https://www.aliexpress.com/w/wholesale-aurora.html?page=1";
const CUP_IMG: &str = "https://ae01.alicdn.com/kf/S27f237e6b7f96587b6202ff3607ad88aQ.jpg";
const POSTER_IMG: &str = "https://ae01.alicdn.com/kf/Sbe523bdcc111d8113eb54f747d89d4d7B.jpg";
/// The cup photo again, resized and uploaded under a new URL by the relister.
const RELIST_IMG: &str = "https://ae01.alicdn.com/kf/Srelist0000000000000000000000001A.jpg";

const X_ID: &str = "1005006123456789";
const X_TITLE: &str = "AURORA Barista Espresso Cup 1:1 Ceramic Double Wall 80ml with Gift Box";

fn x() -> Item<'static> {
    Item {
        id: X_ID,
        title: X_TITLE,
        store: "Best Coffee Gear Store",
        store_id: 1103456789,
        img: "//ae01.alicdn.com/kf/S27f237e6b7f96587b6202ff3607ad88aQ.jpg",
        price: 4.99,
    }
}

fn w() -> Item<'static> {
    w_at(3.2)
}

/// W at another price.
fn w_at(price: f64) -> Item<'static> {
    Item {
        id: "1005006789012345",
        title: "AAA Quality Aurora Astronaut Poster Replica Print Unframed",
        store: "Poster Planet Store",
        store_id: 1108901234,
        img: "//ae01.alicdn.com/kf/Sbe523bdcc111d8113eb54f747d89d4d7B.jpg",
        price,
    }
}

/// Relists X's photo under a new id, another seller, another title.
fn y() -> Item<'static> {
    Item {
        id: "1005009000000001",
        title: "Espresso Cup AURORA Barista 1:1 Replica Double Wall",
        store: "Brand New Cups Store",
        store_id: 1190000001,
        img: "//ae01.alicdn.com/kf/Srelist0000000000000000000000001A.jpg",
        price: 5.49,
    }
}

/// Relists X's title (punctuation and case aside), another photo.
fn z() -> Item<'static> {
    Item {
        id: "1005009000000002",
        title: "aurora barista espresso cup 1:1 ceramic double-wall 80ml, with GIFT BOX!",
        store: "Third Time Lucky Store",
        store_id: 1190000002,
        img: "//ae01.alicdn.com/kf/Sbe523bdcc111d8113eb54f747d89d4d7B.jpg",
        price: 6.0,
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf[9..12].parse().unwrap();
    let body = buf.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_string())
}

fn value(
    samples: &[knockoff::run::daemon::metrics::Sample],
    name: &str,
    label: Option<(&str, &str)>,
) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
        })
        .map(|s| s.2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycles_follow_a_listing_from_flag_to_removal_and_catch_relistings() {
    let _counting = HASHING.write().await;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let wl = cup_watchlist(tmp.path());

    // Cycle 1: X (flagged) and W.
    let r1 = Rec::new(tmp.path().join("r1"))
        .search(&[x(), w()], "2026-11-30T08:00:00Z")
        .blocked("2026-11-30T08:00:01Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-11-30T08:00:05Z")
        .image(
            POSTER_IMG,
            "astronaut-poster-half.jpg",
            "2026-11-30T08:00:06Z",
        )
        .finish();
    // Cycle 2: X is gone from the results and its page answers 404.
    let r2 = Rec::new(tmp.path().join("r2"))
        .search(&[w()], "2026-12-01T08:00:00Z")
        .add(
            &format!("https://www.aliexpress.com/item/{X_ID}.html"),
            b"<html><body>Sorry, this item is no longer available.</body></html>",
            404,
            "text/html; charset=utf-8",
            "2026-12-01T08:00:03Z",
        )
        .image(
            POSTER_IMG,
            "astronaut-poster-half.jpg",
            "2026-12-01T08:00:06Z",
        )
        .finish();
    // Cycle 3: two relistings from other sellers.
    let r3 = Rec::new(tmp.path().join("r3"))
        .search(&[w_at(2.9), y(), z()], "2026-12-02T08:00:00Z")
        .image(RELIST_IMG, "espresso-cup-half.jpg", "2026-12-02T08:00:05Z")
        .image(
            POSTER_IMG,
            "astronaut-poster-half.jpg",
            "2026-12-02T08:00:06Z",
        )
        .finish();
    // Cycles 4 and 5: W is missing (the platform answers, without it).
    let r4 = Rec::new(tmp.path().join("r4"))
        .search(&[y(), z()], "2026-12-03T08:00:00Z")
        .blocked("2026-12-03T08:00:01Z")
        .image(RELIST_IMG, "espresso-cup-half.jpg", "2026-12-03T08:00:05Z")
        .image(
            POSTER_IMG,
            "astronaut-poster-half.jpg",
            "2026-12-03T08:00:06Z",
        )
        .finish();

    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let settings = DaemonSettings {
        watchlist: wl,
        source: PageSource::Replay(r1.clone()),
        gone_after: 2,
        calendar: Calendar::default(),
    };
    let mut daemon = Daemon::open(&data, settings, clock.clone()).unwrap();

    // --- cycle 1
    let c1 = daemon.cycle().await.unwrap();
    assert_eq!(c1.cycle, 1);
    assert!(!c1.resumed);
    assert_eq!(
        c1.report.scan.findings.len(),
        2,
        "{:?}",
        c1.report.scan.problems
    );
    assert!(
        !c1.after.cases_opened.is_empty(),
        "X is flagged and drafted"
    );
    let book = CaseBook::open(daemon.store()).unwrap();
    let x_cases: Vec<_> = book
        .all()
        .unwrap()
        .into_iter()
        .filter(|c| c.listing_id == X_ID)
        .collect();
    assert!(!x_cases.is_empty());
    for c in &x_cases {
        assert_eq!(c.state, CaseState::Drafted);
        // Data time, not the clock: the capture of the search page.
        assert_eq!(c.history[0].at, t("2026-11-30T08:00:00Z"));
    }
    let cases_after_1 = book.all().unwrap().len();

    // The same recording again opens nothing new (keyed cases).
    let again = daemon.cycle().await.unwrap();
    assert_eq!(again.cycle, 2);
    assert!(again.after.cases_opened.is_empty());
    assert_eq!(book.all().unwrap().len(), cases_after_1);

    // The analyst approves and submits X's first case (Monday).
    let xc = &x_cases[0];
    book.move_case(
        &xc.id,
        CaseState::Submitted,
        t("2026-11-30T11:00:00Z"),
        None,
        "cli",
        None,
    )
    .expect_err("drafted cannot jump to submitted");
    book.move_case(
        &xc.id,
        CaseState::Approved,
        t("2026-11-30T10:00:00Z"),
        None,
        "cli",
        None,
    )
    .unwrap();
    let submitted = book
        .move_case(
            &xc.id,
            CaseState::Submitted,
            t("2026-11-30T11:00:00Z"),
            None,
            "cli",
            None,
        )
        .unwrap();
    let d = submitted.deadline(&Calendar::default()).unwrap();
    assert_eq!(d.kind, DeadlineKind::SellerAnswer);
    assert_eq!(d.due.to_string(), "2026-12-03"); // Mon + 3 working days

    // --- cycle 3 over r2: X answers 404: removal verified with the capture.
    clock.set(t("2026-12-01T09:00:00Z"));
    daemon.set_source(PageSource::Replay(r2));
    let c3 = daemon.cycle().await.unwrap();
    assert_eq!(c3.after.removals_verified, vec![xc.id.clone()]);
    assert!(c3.after.gone.contains(&format!("aliexpress/{X_ID}")));
    let removed = book.get(&xc.id).unwrap().unwrap();
    assert_eq!(removed.state, CaseState::Removed);
    let proof = removed.removal_proof().expect("proof of removal");
    assert_eq!(proof.status, 404);
    assert_eq!(
        proof.url,
        format!("https://www.aliexpress.com/item/{X_ID}.html")
    );
    assert_eq!(proof.captured_at, t("2026-12-01T08:00:03Z"));
    assert_eq!(
        daemon.store().page(&proof.sha256).unwrap().unwrap().status,
        404,
        "the proof's capture is kept in the store"
    );
    let states: Vec<CaseState> = removed.history.iter().map(|h| h.to).collect();
    assert_eq!(
        states,
        vec![
            CaseState::Drafted,
            CaseState::Approved,
            CaseState::Submitted,
            CaseState::Removed
        ]
    );
    // Now the late counter-notice window runs: 27 business days.
    assert_eq!(
        removed.deadline(&Calendar::default()).unwrap().kind,
        DeadlineKind::LateCounterNotice
    );

    // --- cycle 4 over r3: relistings under new ids from other sellers.
    clock.set(t("2026-12-02T09:00:00Z"));
    daemon.set_source(PageSource::Replay(r3));
    let (work, c4) = counted_cycle(&daemon).await;
    // Hashed once: Y's new photo, matched by the scan, whose hashes the
    // relisting check reuses; X's photo (taken down, in the store) and
    // W's come from the caches.
    assert_eq!(
        work,
        HashingWork {
            images_decoded: 1,
            references_prepared: 0
        }
    );
    let relisted: std::collections::BTreeMap<String, _> =
        c4.after.relistings.iter().cloned().collect();
    let by_photo = relisted
        .get("aliexpress/1005009000000001")
        .unwrap_or_else(|| panic!("Y relists X's photo: {:#?}", c4.after));
    assert_eq!(by_photo.by, "photo");
    assert!(
        by_photo.detail.contains("hash distance"),
        "{}",
        by_photo.detail
    );
    // The taken-down photo is named (read again from X's record).
    assert!(
        by_photo.detail.contains(&format!("matches {CUP_IMG}")),
        "{}",
        by_photo.detail
    );
    assert_eq!(by_photo.case_id, xc.id);
    assert_eq!(by_photo.listing, format!("aliexpress/{X_ID}"));
    let by_title = relisted
        .get("aliexpress/1005009000000002")
        .expect("Z relists X's title");
    assert_eq!(by_title.by, "title");
    assert_eq!(by_title.case_id, xc.id);
    assert!(
        !relisted.contains_key("aliexpress/1005006789012345"),
        "W is no relisting"
    );
    // W's price change is in its history, at the capture time.
    let w_rec = daemon
        .store()
        .listing("aliexpress/1005006789012345")
        .unwrap()
        .unwrap();
    assert_eq!(w_rec.first_seen, t("2026-11-30T08:00:00Z"));
    assert_eq!(w_rec.last_seen, t("2026-12-02T08:00:00Z"));
    let change = w_rec.history.iter().find(|c| c.field == "price").unwrap();
    assert_eq!(
        (change.old.as_str(), change.new.as_str()),
        ("3.20 USD", "2.90 USD")
    );
    assert_eq!(change.at, t("2026-12-02T08:00:00Z"));
    // Y is flagged in its own right: its cases carry the link.
    let y_cases: Vec<_> = book
        .all()
        .unwrap()
        .into_iter()
        .filter(|c| c.listing_id == "1005009000000001")
        .collect();
    assert!(!y_cases.is_empty(), "Y is flagged and drafted");
    for c in &y_cases {
        assert_eq!(c.relisting_of.as_ref().unwrap().case_id, xc.id);
    }

    // --- cycles 5 and 6 over r4: W missing twice → gone (gone_after = 2).
    clock.set(t("2026-12-03T09:00:00Z"));
    daemon.set_source(PageSource::Replay(r4));
    let (work, c5) = counted_cycle(&daemon).await;
    assert_eq!(work, NOTHING);
    assert!(c5.after.gone.is_empty());
    let c6 = daemon.cycle().await.unwrap();
    assert_eq!(
        c6.after.gone,
        vec!["aliexpress/1005006789012345".to_string()]
    );
    let tracker = Tracker::open(daemon.store()).unwrap();
    let wt = tracker.get("aliexpress/1005006789012345").unwrap().unwrap();
    assert!(wt.gone.unwrap().why.contains("2 cycles"));
    assert_eq!(wt.last_seen_cycle, 4);

    // Nothing duplicated: one case per complaint key.
    let all = book.all().unwrap();
    let keys: std::collections::BTreeSet<_> = all.iter().map(|c| c.key.clone()).collect();
    assert_eq!(keys.len(), all.len());
    let numbers: Vec<u64> = all.iter().map(|c| c.number).collect();
    assert_eq!(numbers, (1..=all.len() as u64).collect::<Vec<_>>());

    // --- /metrics and /healthz over HTTP.
    let daemon = Arc::new(daemon);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let token = "ab".repeat(knockoff::run::access::TOKEN_BYTES);
    let app = daemon.router(knockoff::run::access::Access::new(
        &token,
        addr,
        &addr.to_string(),
    ));
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let (status, text) = tokio::task::spawn_blocking(move || http_get(addr, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let samples = knockoff::run::daemon::metrics::parse(&text).unwrap();
    assert_eq!(value(&samples, "knockoff_cycle", None), Some(6.0));
    assert_eq!(
        value(&samples, "knockoff_cycles_total", Some(("outcome", "ok"))),
        Some(6.0)
    );
    assert_eq!(
        value(
            &samples,
            "knockoff_cycles_total",
            Some(("outcome", "failed"))
        ),
        Some(0.0)
    );
    assert_eq!(value(&samples, "knockoff_listings_seen", None), Some(4.0));
    assert_eq!(value(&samples, "knockoff_listings_gone", None), Some(2.0));
    assert_eq!(value(&samples, "knockoff_relistings", None), Some(2.0));
    assert_eq!(
        value(&samples, "knockoff_cases", Some(("state", "removed"))),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "knockoff_cases", Some(("state", "drafted"))),
        Some((all.len() - 1) as f64)
    );
    assert_eq!(
        value(&samples, "knockoff_cases", Some(("state", "withdrawn"))),
        Some(0.0)
    );
    let flagged = daemon
        .store()
        .findings()
        .unwrap()
        .iter()
        .filter(|f| f.verdict == knockoff::judge::score::Verdict::Flag)
        .count();
    assert_eq!(
        value(&samples, "knockoff_findings", Some(("verdict", "flag"))),
        Some(flagged as f64)
    );
    // Six cycles, one search page each, the 404 item page once, and the
    // punish page in four cycles (blocked, also in the last one).
    assert_eq!(
        value(
            &samples,
            "knockoff_pages_fetched_total",
            Some(("host", "www.aliexpress.com"))
        ),
        Some(11.0)
    );
    assert_eq!(
        value(
            &samples,
            "knockoff_pages_blocked_total",
            Some(("host", "www.aliexpress.com"))
        ),
        Some(4.0)
    );
    assert_eq!(
        value(
            &samples,
            "knockoff_host_blocked",
            Some(("host", "www.aliexpress.com"))
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "knockoff_pages_failed_total",
            Some(("host", "www.aliexpress.com"))
        ),
        Some(1.0)
    );
    let last = value(&samples, "knockoff_last_success_timestamp_seconds", None).unwrap();
    assert_eq!(last, t("2026-12-03T09:00:00Z").timestamp() as f64);
    assert!(value(&samples, "knockoff_cycle_duration_seconds", None).unwrap() > 0.0);
    assert_eq!(
        value(&samples, "knockoff_good_faith_takedown_rate", None),
        Some(1.0)
    );
    let (status, health) = tokio::task::spawn_blocking(move || http_get(addr, "/healthz"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_cycle_runs_again_under_the_same_number() {
    let _counting = HASHING.read().await;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let r1 = Rec::new(tmp.path().join("r1"))
        .search(&[x()], "2026-11-30T08:00:00Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-11-30T08:00:05Z")
        .finish();
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let settings = DaemonSettings {
        watchlist: cup_watchlist(tmp.path()),
        source: PageSource::Replay(r1),
        gone_after: 3,
        calendar: Calendar::default(),
    };
    {
        let daemon = Daemon::open(&data, settings.clone(), clock.clone()).unwrap();
        daemon.cycle().await.unwrap();
        // Simulate a crash right after cycle 2 started.
        let tracker = Tracker::open(daemon.store()).unwrap();
        let mut cp = tracker.checkpoint().unwrap();
        cp.cycle = 2;
        cp.running = true;
        tracker.set_checkpoint(&cp).unwrap();
    }
    let daemon = Daemon::open(&data, settings, clock).unwrap();
    let before = CaseBook::open(daemon.store()).unwrap().all().unwrap();
    let out = daemon.cycle().await.unwrap();
    assert_eq!(out.cycle, 2);
    assert!(out.resumed);
    assert_eq!(
        CaseBook::open(daemon.store()).unwrap().all().unwrap(),
        before
    );
    let cp = daemon.checkpoint().unwrap();
    assert!(!cp.running);
    assert_eq!(cp.resumed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_results_page_makes_nothing_look_gone() {
    let _counting = HASHING.read().await;
    let tmp = tempfile::tempdir().unwrap();
    let page2 = "https://www.aliexpress.com/w/wholesale-aurora.html?page=2";
    let html = |items: &[Item]| search_page(items).into_bytes();
    let ct = "text/html; charset=utf-8";
    // W is on page 2.
    let r1 = Rec::new(tmp.path().join("r1"))
        .search(&[x()], "2026-11-30T08:00:00Z")
        .add(page2, &html(&[w()]), 200, ct, "2026-11-30T08:00:01Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-11-30T08:00:05Z")
        .finish();
    // Page 2 is blocked: W's absence says nothing.
    let r2 = Rec::new(tmp.path().join("r2"))
        .search(&[x()], "2026-12-01T08:00:00Z")
        .blocked("2026-12-01T08:00:01Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-12-01T08:00:05Z")
        .finish();
    // Page 2 answers with another listing and without W.
    let r3 = Rec::new(tmp.path().join("r3"))
        .search(&[x()], "2026-12-02T08:00:00Z")
        .add(page2, &html(&[y()]), 200, ct, "2026-12-02T08:00:01Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-12-02T08:00:05Z")
        .finish();
    let mut daemon = replay_daemon(tmp.path(), r1, 1);
    let w_key = "aliexpress/1005006789012345";
    daemon.cycle().await.unwrap();
    daemon.set_source(PageSource::Replay(r2));
    for _ in 0..2 {
        let out = daemon.cycle().await.unwrap();
        assert!(out.after.gone.is_empty(), "{:?}", out.after.gone);
    }
    let tracker = Tracker::open(daemon.store()).unwrap();
    assert_eq!(tracker.get(w_key).unwrap().unwrap().missed, 0);
    daemon.set_source(PageSource::Replay(r3));
    let out = daemon.cycle().await.unwrap();
    assert_eq!(out.after.gone, vec![w_key.to_string()]);
    let gone = tracker.get(w_key).unwrap().unwrap().gone.unwrap();
    assert_eq!(gone.at, t("2026-12-02T08:00:01Z"));
}

/// A listing whose results page is blocked but whose item page answers
/// 404 is found gone by the 404: the store finds it, live, by its item
/// page (`live_on_page`), not only by the results it was read from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_page_answering_404_finds_its_listing_gone_while_its_results_are_blocked() {
    let _counting = HASHING.read().await;
    let tmp = tempfile::tempdir().unwrap();
    let ct = "text/html; charset=utf-8";
    let r1 = Rec::new(tmp.path().join("r1"))
        .search(&[x(), w()], "2026-11-30T08:00:00Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-11-30T08:00:05Z")
        .finish();
    // The results page answers AliExpress's punish page; X's item page
    // answers 404.
    let punish = std::fs::read(root().join("seeds/aliexpress/punish-aurora-p3.html")).unwrap();
    let r2 = Rec::new(tmp.path().join("r2"))
        .add(SEARCH_URL, &punish, 200, ct, "2026-12-01T08:00:00Z")
        .add(
            &format!("https://www.aliexpress.com/item/{X_ID}.html"),
            b"<html><body>Not found</body></html>",
            404,
            ct,
            "2026-12-01T08:00:03Z",
        )
        .finish();
    let mut daemon = replay_daemon(tmp.path(), r1, 1);
    daemon.cycle().await.unwrap();
    daemon.set_source(PageSource::Replay(r2));
    let reads = daemon.store().listing_reads();
    let out = daemon.cycle().await.unwrap();
    let x_key = format!("aliexpress/{X_ID}");
    assert_eq!(out.after.gone, vec![x_key.clone()]);
    let gone = Tracker::open(daemon.store())
        .unwrap()
        .get(&x_key)
        .unwrap()
        .unwrap()
        .gone
        .unwrap();
    assert_eq!(gone.why, "item page answered HTTP 404");
    assert_eq!(gone.at, t("2026-12-01T08:00:03Z"));
    // W, on the blocked page only, is neither gone nor missed.
    let w = Tracker::open(daemon.store())
        .unwrap()
        .get("aliexpress/1005006789012345")
        .unwrap()
        .unwrap();
    assert_eq!((w.missed, w.gone.is_none()), (0, true));
    assert!(daemon.store().listing_reads() > reads);
    // Gone, it is settled: its item page concerns it no more.
    let item = format!("https://www.aliexpress.com/item/{X_ID}.html");
    assert!(daemon.store().live_keys_on_page(&item).unwrap().is_empty());
}

/// A daemon over `dir/data` replaying `recording`, on a fake clock at
/// 2026-11-30 09:00 UTC, finding a listing gone after `gone_after` missed
/// cycles.
fn replay_daemon(dir: &std::path::Path, recording: PathBuf, gone_after: u32) -> Daemon {
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    Daemon::open(
        &dir.join("data"),
        DaemonSettings {
            watchlist: cup_watchlist(dir),
            source: PageSource::Replay(recording),
            gone_after,
            calendar: Calendar::default(),
        },
        clock,
    )
    .unwrap()
}

/// Hashing work done by one daemon cycle, with its outcome.
async fn counted_cycle(daemon: &Daemon) -> (HashingWork, knockoff::run::daemon::CycleOutcome) {
    let before = hashing_work();
    let out = daemon.cycle().await.unwrap();
    (hashing_work() - before, out)
}

const NOTHING: HashingWork = HashingWork {
    images_decoded: 0,
    references_prepared: 0,
};

/// Issue 20: a second cycle on unchanged pages (the demo recording, its
/// three official photos, 20-odd listing photos, one of them truncated)
/// decodes and hashes no official photo and no stored photo again, and
/// finds exactly what the first found. Counted, not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cycle_on_unchanged_pages_hashes_nothing_again() {
    let _counting = HASHING.write().await;
    let tmp = tempfile::tempdir().unwrap();
    let watchlist = Watchlist::load(root().join("watchlists/demo.toml")).unwrap();
    let officials = watchlist
        .products
        .iter()
        .map(|p| p.images.len())
        .sum::<usize>() as u64;
    let daemon = Daemon::open(
        &tmp.path().join("data"),
        DaemonSettings {
            watchlist,
            source: PageSource::Replay(root().join("seeds")),
            gone_after: 3,
            calendar: Calendar::default(),
        },
        Arc::new(FakeClock::new(t("2026-12-03T09:00:00Z"))),
    )
    .unwrap();
    let (first, one) = counted_cycle(&daemon).await;
    assert_eq!(first.references_prepared, officials);
    assert!(
        first.images_decoded > officials + 10,
        "the demo's listing photos were matched: {first:?}"
    );
    assert!(
        one.report.scan.problems.iter().any(|p| p.kind == "image"),
        "the demo has a photo that does not decode (cached as such too)"
    );
    let (second, two) = counted_cycle(&daemon).await;
    assert_eq!(second, NOTHING);
    assert_eq!(two.report.scan.findings, one.report.scan.findings);
    assert_eq!(two.report.scan.problems, one.report.scan.problems);
    assert!(one
        .report
        .scan
        .findings
        .iter()
        .any(|f| !f.photos.is_empty()));

    // A scan of another process (`knockoff scan` on the same folder) reads
    // the same caches: a new daemon on the folder hashes nothing either.
    drop(daemon);
    let daemon = Daemon::open(
        &tmp.path().join("data"),
        DaemonSettings {
            watchlist: Watchlist::load(root().join("watchlists/demo.toml")).unwrap(),
            source: PageSource::Replay(root().join("seeds")),
            gone_after: 3,
            calendar: Calendar::default(),
        },
        Arc::new(FakeClock::new(t("2026-12-04T09:00:00Z"))),
    )
    .unwrap();
    let (third, three) = counted_cycle(&daemon).await;
    assert_eq!(third, NOTHING);
    assert_eq!(three.report.scan.findings, one.report.scan.findings);
}

/// Changing one official photo's bytes hashes that photo again (and only
/// it), and matches every listing photo again against the new set; the
/// cycle after hashes nothing. A damaged cache entry is computed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_official_photo_is_hashed_again() {
    let _counting = HASHING.write().await;
    let tmp = tempfile::tempdir().unwrap();
    // The cup watchlist with its official photo copied where the test can
    // change it, and a second official photo (the poster) kept as is.
    let official = tmp.path().join("official-cup.jpg");
    let demo = root().join("watchlists/demo/official");
    std::fs::copy(demo.join("espresso-cup.jpg"), &official).unwrap();
    let path = support::cup_watchlist(tmp.path());
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("[\"{}\"]", demo.join("espresso-cup.jpg").display()),
        &format!(
            "[\"{}\", \"{}\"]",
            official.display(),
            demo.join("astronaut-poster.jpg").display()
        ),
    );
    assert!(text.contains("official-cup.jpg"), "{text}");
    std::fs::write(&path, text).unwrap();
    let rec = Rec::new(tmp.path().join("r1"))
        .search(&[x(), w()], "2026-11-30T08:00:00Z")
        .image(CUP_IMG, "espresso-cup-q35.jpg", "2026-11-30T08:00:05Z")
        .image(
            POSTER_IMG,
            "astronaut-poster-half.jpg",
            "2026-11-30T08:00:06Z",
        )
        .finish();
    let settings = DaemonSettings {
        watchlist: Watchlist::load(&path).unwrap(),
        source: PageSource::Replay(rec),
        gone_after: 3,
        calendar: Calendar::default(),
    };
    let data = tmp.path().join("data");
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let daemon = Daemon::open(&data, settings.clone(), clock.clone()).unwrap();
    let (first, one) = counted_cycle(&daemon).await;
    assert_eq!(
        first,
        HashingWork {
            images_decoded: 2 + 2,
            references_prepared: 2
        }
    );
    let x_photos = |out: &knockoff::run::daemon::CycleOutcome| {
        let x = out
            .report
            .scan
            .findings
            .iter()
            .find(|f| f.listing_id == X_ID);
        x.unwrap()
            .photos
            .iter()
            .map(|p| p.reference.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(x_photos(&one), ["official-cup.jpg"]);
    assert_eq!(counted_cycle(&daemon).await.0, NOTHING);

    // The official photo is re-encoded (new bytes, same picture).
    let reencoded = std::fs::read(root().join("seeds/images/espresso-cup-q35.jpg")).unwrap();
    std::fs::write(&official, &reencoded).unwrap();
    let (changed, two) = counted_cycle(&daemon).await;
    assert_eq!(
        changed,
        HashingWork {
            images_decoded: 1 + 2,
            references_prepared: 1
        },
        "the changed official photo, and both listing photos against the new set"
    );
    assert_eq!(x_photos(&two), ["official-cup.jpg"]);
    let sha = knockoff::fetch::sha256_hex(&reencoded);
    let cached = daemon.store().dump_tree("hash_references").unwrap();
    assert!(
        cached.iter().any(|(k, _)| k.ends_with(&sha)),
        "{:?}",
        cached.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    // The old set's match results are dropped: one fingerprint is left.
    let sets: std::collections::BTreeSet<String> = daemon
        .store()
        .dump_tree("hash_matches")
        .unwrap()
        .into_iter()
        .filter(|(k, _)| !k.starts_with('!'))
        .filter_map(|(k, _)| Some(k.split_once('/')?.0.to_string()))
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(counted_cycle(&daemon).await.0, NOTHING);

    // Every cache entry damaged: each is a miss, computed again, never an
    // error; then written over.
    drop(daemon);
    damage_caches(&data);
    let daemon = Daemon::open(&data, settings, clock).unwrap();
    let (repaired, three) = counted_cycle(&daemon).await;
    assert_eq!(
        repaired,
        HashingWork {
            images_decoded: 2 + 2,
            references_prepared: 2
        }
    );
    assert_eq!(three.report.scan.findings, two.report.scan.findings);
    assert_eq!(counted_cycle(&daemon).await.0, NOTHING);
}

/// Overwrites every entry of the hashing caches of a data folder's store
/// (no daemon on it) with bytes no cache reads.
fn damage_caches(data: &std::path::Path) {
    // sled lets go of its lock shortly after the last handle is dropped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match sled::open(data.join("store")) {
            Ok(db) => break db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            Err(e) => panic!("{e}"),
        }
    };
    for tree in ["hash_references", "hash_matches", "hash_photos"] {
        let t = db.open_tree(tree).unwrap();
        let keys: Vec<_> = t.iter().keys().map(Result::unwrap).collect();
        assert!(!keys.is_empty(), "{tree}");
        for k in keys {
            t.insert(k, &b"\xff damaged"[..]).unwrap();
        }
    }
    db.flush().unwrap();
}

/// Opens the demo watchlist's daemon on `dir`'s data folder over the
/// recorded seeds, its clock at `now`.
fn open_demo_daemon(dir: &std::path::Path, now: &str) -> Daemon {
    Daemon::open(
        &dir.join("data"),
        DaemonSettings {
            watchlist: Watchlist::load(root().join("watchlists/demo.toml")).unwrap(),
            source: PageSource::Replay(root().join("seeds")),
            gone_after: 3,
            calendar: Calendar::default(),
        },
        Arc::new(FakeClock::new(t(now))),
    )
    .unwrap()
}

/// A daemon on the demo recording after one cycle, in `dir`.
async fn demo_daemon_after_one_cycle(dir: &std::path::Path) -> Daemon {
    let daemon = open_demo_daemon(dir, "2026-12-03T09:00:00Z");
    daemon.cycle().await.unwrap();
    daemon
}

/// Two demo daemons after the same first cycle (in `a` and `b`), and the
/// first finding of the second: the model of the old listings a test adds
/// to the "grown" folder.
async fn plain_and_grown(
    a: &std::path::Path,
    b: &std::path::Path,
) -> (Daemon, Daemon, knockoff::judge::score::Finding) {
    let plain = demo_daemon_after_one_cycle(a).await;
    let grown = demo_daemon_after_one_cycle(b).await;
    let model = grown
        .store()
        .findings()
        .unwrap()
        .into_iter()
        .next()
        .expect("the demo has findings");
    (plain, grown, model)
}

/// Issue 20: a cycle reads the listings it concerns, not every listing
/// ever stored. Two data folders after the same first cycle; one also
/// holds 2,000 old listings (cleared, read from a results page that is no
/// longer fetched) never seen again. The second cycle reads exactly as
/// many listing records in both, and does the same. Counted, not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_reads_no_listing_it_does_not_concern() {
    const OLD_LISTINGS: usize = 2_000;
    let _counting = HASHING.read().await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (plain, grown, model) = plain_and_grown(a_dir.path(), b_dir.path()).await;
    let store = grown.store();
    let rec = store.listing(&model.key()).unwrap().unwrap();
    let old_page = "https://www.aliexpress.com/w/wholesale-aurora-2025.html?page=1";
    let before = store.listing_count();
    for i in 0..OLD_LISTINGS {
        let mut listing = rec.listing.clone();
        listing.id = format!("9{i:015}");
        listing.url = format!("https://www.aliexpress.com/item/{}.html", listing.id);
        listing.source_url = old_page.to_string();
        let mut finding = model.clone();
        finding.listing_id = listing.id.clone();
        finding.url = listing.url.clone();
        finding.verdict = knockoff::judge::score::Verdict::Clear;
        finding.drafts.clear();
        let source = knockoff::store::Source {
            url: old_page.to_string(),
            sha256: "0".repeat(64),
            captured_at: t("2025-06-01T09:00:00Z"),
        };
        store
            .record(&listing, &[source], t("2025-06-01T09:00:00Z"), &finding)
            .unwrap();
    }
    assert_eq!(store.listing_count(), before + OLD_LISTINGS);

    let counted = |d: &Daemon| d.store().listing_reads();
    let (a0, b0) = (counted(&plain), counted(&grown));
    let a = plain.cycle().await.unwrap();
    let b = grown.cycle().await.unwrap();
    let (a_reads, b_reads) = (counted(&plain) - a0, counted(&grown) - b0);
    assert!(a_reads > 0, "the cycle read the listings it saw");
    assert_eq!(
        b_reads, a_reads,
        "{OLD_LISTINGS} old listings changed how many listing records a cycle reads"
    );
    assert!(
        a_reads <= 4 * a.report.scan.findings.len() as u64,
        "{a_reads} reads for {} listings seen",
        a.report.scan.findings.len()
    );
    assert_eq!(b.after, a.after);
    assert_eq!(b.report.scan.findings, a.report.scan.findings);
    // The old listings were left as they were: not tracked, not gone.
    let tracker = Tracker::open(store).unwrap();
    let first_old = format!("{}/9{:015}", rec.listing.platform.as_str(), 0);
    assert!(store.listing(&first_old).unwrap().is_some());
    assert!(tracker.get(&first_old).unwrap().is_none());
}

/// Issue 20: over a year a results page lists far more listings than it
/// shows in any one cycle. Those missing from it are counted missed, found
/// gone, and then not read again: after that, a cycle reads as many
/// listing records as in a folder that never had them. Two folders after
/// the same first cycle; one also holds 500 listings read long ago from a
/// results page the demo's cycles still fetch. Counted, not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_found_gone_are_not_read_again() {
    const OLD_LISTINGS: usize = 500;
    let _counting = HASHING.read().await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (plain, grown, model) = plain_and_grown(a_dir.path(), b_dir.path()).await;
    let store = grown.store();
    let page = model.source_urls[0].clone();
    let rec = store.listing(&model.key()).unwrap().unwrap();
    let old_key = |i: usize| format!("{}/8{i:015}", rec.listing.platform.as_str());
    for i in 0..OLD_LISTINGS {
        let mut listing = rec.listing.clone();
        listing.id = format!("8{i:015}");
        listing.url = format!("https://www.aliexpress.com/item/{}.html", listing.id);
        let mut finding = model.clone();
        finding.listing_id = listing.id.clone();
        finding.url = listing.url.clone();
        finding.verdict = knockoff::judge::score::Verdict::Clear;
        finding.drafts.clear();
        let source = knockoff::store::Source {
            url: page.clone(),
            sha256: "0".repeat(64),
            captured_at: t("2025-06-01T09:00:00Z"),
        };
        store
            .record(&listing, &[source], t("2025-06-01T09:00:00Z"), &finding)
            .unwrap();
    }
    // Live, each is found by its item page (a 404 there concerns it).
    let item_page = |i: usize| format!("https://www.aliexpress.com/item/8{i:015}.html");
    for i in 0..OLD_LISTINGS {
        assert_eq!(
            store.live_keys_on_page(&item_page(i)).unwrap(),
            [old_key(i)]
        );
    }

    let counted = |d: &Daemon| d.store().listing_reads();
    let cycle_pair = || async {
        let (a0, b0) = (counted(&plain), counted(&grown));
        let a = plain.cycle().await.unwrap();
        let b = grown.cycle().await.unwrap();
        let (a_reads, b_reads) = (counted(&plain) - a0, counted(&grown) - b0);
        (a, b, a_reads, b_reads)
    };
    // Three cycles miss them (the page answers without them): each reads
    // them, and the third finds them gone.
    for missed in 1..=3u32 {
        let (a, b, a_reads, b_reads) = cycle_pair().await;
        assert!(
            b_reads >= a_reads + OLD_LISTINGS as u64,
            "cycle {missed} of missing them read {b_reads} listings, {a_reads} without them"
        );
        let t0 = Tracker::open(store)
            .unwrap()
            .get(&old_key(0))
            .unwrap()
            .unwrap();
        assert_eq!(t0.missed, missed);
        let newly_gone = b.after.gone.len() - a.after.gone.len();
        assert_eq!(newly_gone, if missed == 3 { OLD_LISTINGS } else { 0 });
    }
    // Found gone: later cycles read what the plain folder's do, and leave
    // the gone listings as they are.
    let tracker = Tracker::open(store).unwrap();
    let gone_before = tracker.get(&old_key(7)).unwrap().unwrap();
    assert!(gone_before.gone.is_some());
    for _ in 0..2 {
        let (a, b, a_reads, b_reads) = cycle_pair().await;
        assert_eq!(
            b_reads, a_reads,
            "{OLD_LISTINGS} listings found gone changed how many listing records a cycle reads"
        );
        assert_eq!(b.after, a.after);
    }
    assert_eq!(tracker.get(&old_key(7)).unwrap().unwrap(), gone_before);
    let live = store.live_keys_on_page(&page).unwrap();
    assert!((0..OLD_LISTINGS).all(|i| !live.contains(&old_key(i))));
    // Nor by their item pages: a listing found gone stays gone whatever
    // its item page answers, so a 404 there concerns it no more.
    for i in 0..OLD_LISTINGS {
        let url = item_page(i);
        assert!(store.live_keys_on_page(&url).unwrap().is_empty(), "{url}");
    }
}

/// Opens the daemon of a folder [`demo_daemon_after_one_cycle`] made.
fn reopen_demo_daemon(dir: &std::path::Path) -> Daemon {
    open_demo_daemon(dir, "2026-12-03T15:00:00Z")
}

/// Writes `n` old listings into a closed data folder: suspects (review)
/// from sellers fifteen of whom share a store id, each tracked and
/// gone, a third relisting another, and every fifth with a case taken
/// down (three a seller). None is on a page the demo's cycles read.
fn add_old_suspects(data: &std::path::Path, n: usize) {
    use knockoff::run::daemon::tracker::{Gone, Tracking};
    let store = knockoff::store::Store::open(data).unwrap();
    let model = store
        .findings()
        .unwrap()
        .into_iter()
        .find(|f| f.filing_draft().is_some())
        .expect("the demo flags a listing");
    let rec = store.listing(&model.key()).unwrap().unwrap();
    let tracker = Tracker::open(&store).unwrap();
    let book = CaseBook::open(&store).unwrap();
    let old_page = "https://www.aliexpress.com/w/wholesale-gadget-2025.html?page=1";
    let at = t("2025-06-01T09:00:00Z");
    for i in 0..n {
        let mut listing = rec.listing.clone();
        listing.id = format!("9{i:015}");
        listing.url = format!("https://www.aliexpress.com/item/{}.html", listing.id);
        listing.source_url = old_page.to_string();
        listing.title = format!("old gadget number {i} of a kind");
        listing.seller.name = Some(format!("Old Shop {i}"));
        listing.seller.id = Some(format!("{}", 700_000 + i / 15));
        listing.images = vec![format!("https://ae01.example.com/old/{i}.jpg")];
        let mut finding = model.clone();
        finding.listing_id = listing.id.clone();
        finding.url = listing.url.clone();
        finding.title = listing.title.clone();
        finding.seller = listing.seller.name.clone();
        finding.seller_id = listing.seller.id.clone();
        let taken_down = i % 5 == 0;
        if taken_down {
            // Three takedowns a seller: repeat offenders.
            listing.seller.name = Some(format!("Old Offender {}", i / 15));
            finding.seller = listing.seller.name.clone();
        } else {
            finding.verdict = knockoff::judge::score::Verdict::Review;
            finding.drafts.clear();
        }
        let source = knockoff::store::Source {
            url: old_page.to_string(),
            sha256: "0".repeat(64),
            captured_at: at,
        };
        store.record(&listing, &[source], at, &finding).unwrap();
        let key = listing.key();
        let tracking = Tracking {
            first_cycle: 1,
            last_seen_cycle: 1,
            gone: Some(Gone {
                at,
                why: "missing".into(),
                proof: None,
            }),
            relisting_of: (i % 3 == 1).then(|| knockoff::file::cases::book::RelistingLink {
                case_id: "C-000001".into(),
                listing: "aliexpress/1".into(),
                by: "title".into(),
                detail: "old".into(),
            }),
            ..Default::default()
        };
        tracker.put(&key, &tracking).unwrap();
        if taken_down {
            let case = book
                .open_cases(&finding, at, None, "daemon")
                .unwrap()
                .remove(0);
            for to in [
                CaseState::Approved,
                CaseState::Submitted,
                CaseState::Removed,
            ] {
                book.move_case(&case.id, to, at, None, "cli", None).unwrap();
            }
        }
    }
    store.flush().unwrap();
}

/// Issue 20: after a cycle, the daemon's gauges read the records the cycle
/// wrote, not the history: two folders after the same first cycle, one
/// with 2,000 old suspect listings (tracked, gone, some relisting, some
/// with cases taken down) added; the next cycle's gauge refresh reads as
/// many records in both, and every gauge equals a full recount of the
/// store, after the cycle and after a case is moved by hand; the cycle
/// reads as many cases in both (not the old ones taken down). Counted,
/// not timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycles_gauges_read_only_what_it_wrote() {
    const OLD_LISTINGS: usize = 2_000;
    let _counting = HASHING.read().await;
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    drop(demo_daemon_after_one_cycle(a_dir.path()).await);
    drop(demo_daemon_after_one_cycle(b_dir.path()).await);
    add_old_suspects(&b_dir.path().join("data"), OLD_LISTINGS);
    let plain = reopen_demo_daemon(a_dir.path());
    let grown = reopen_demo_daemon(b_dir.path());
    // The count at open takes each suspect's seller links from its brief:
    // no listing record is read.
    assert_eq!(grown.store().listing_reads(), 0);

    let before = grown.gauge_figures().unwrap();
    assert_eq!(before, grown.recount_gauge_figures().unwrap());
    // The verdicts are the counts kept with the findings (no pass at
    // open): they equal a pass over every finding's verdict.
    assert_eq!(before.verdicts, verdicts_by_pass(grown.store()));
    assert_eq!(
        before.listings,
        verdicts_by_pass(grown.store()).values().sum::<u64>()
    );
    // The count of networks is that of the networks the desk lists.
    let suspects = knockoff::file::network::suspect_listings(grown.store()).unwrap();
    let pages = knockoff::file::network::photo_pages(grown.store(), &suspects).unwrap();
    assert_eq!(
        before.seller_networks,
        knockoff::file::network::networks(&suspects, &pages).len() as u64
    );
    let plain_before = plain.gauge_figures().unwrap();
    assert_eq!(before.listings, plain_before.listings + OLD_LISTINGS as u64);
    assert_eq!(before.gone, plain_before.gone + OLD_LISTINGS as u64);
    assert!(before.seller_networks >= plain_before.seller_networks + 100);
    assert!(before.repeat_offenders > plain_before.repeat_offenders);

    let (a0, b0) = (plain.gauge_reads(), grown.gauge_reads());
    let (al0, bl0) = (plain.store().listing_reads(), grown.store().listing_reads());
    let (ac0, bc0) = (plain.store().case_reads(), grown.store().case_reads());
    let a = plain.cycle().await.unwrap();
    let b = grown.cycle().await.unwrap();
    assert_eq!(b.after, a.after);
    let (a_reads, b_reads) = (plain.gauge_reads() - a0, grown.gauge_reads() - b0);
    assert!(a_reads > 0, "the gauges read what the cycle wrote");
    assert_eq!(
        b_reads, a_reads,
        "{OLD_LISTINGS} old listings changed how many records the gauges read"
    );
    assert!(
        a_reads <= 8 * a.report.scan.findings.len() as u64 + 8,
        "{a_reads} gauge reads for {} listings seen",
        a.report.scan.findings.len()
    );
    assert_eq!(
        grown.store().listing_reads() - bl0,
        plain.store().listing_reads() - al0
    );
    // Nor the cases it reads: the submitted ones it verifies, and those the
    // cycle wrote (the old cases taken down are not read).
    assert_eq!(
        grown.store().case_reads() - bc0,
        plain.store().case_reads() - ac0,
        "{} cases taken down changed how many cases a cycle reads",
        OLD_LISTINGS / 5
    );
    for d in [&plain, &grown] {
        assert_eq!(
            d.gauge_figures().unwrap(),
            d.recount_gauge_figures().unwrap()
        );
    }

    // A case moved by hand, and a finding decided, between cycles.
    let book = CaseBook::open(grown.store()).unwrap();
    let drafted = book
        .all()
        .unwrap()
        .into_iter()
        .find(|c| c.state == CaseState::Drafted)
        .expect("a drafted case");
    book.move_case(
        &drafted.id,
        CaseState::Withdrawn,
        t("2026-12-03T16:00:00Z"),
        Some("authorized reseller"),
        "cli",
        None,
    )
    .unwrap();
    let mut f = grown
        .store()
        .finding(&drafted.listing_key())
        .unwrap()
        .unwrap();
    f.verdict = knockoff::judge::score::Verdict::Clear;
    grown.store().put_finding(&f).unwrap();
    // A clear finding put in review by a decision: its brief takes the
    // seller links of the listing in the finding's own entry, so a count
    // reads no listing.
    let mut clear = None;
    grown
        .store()
        .for_each_verdict(|k, v| {
            if v == knockoff::judge::score::Verdict::Clear && clear.is_none() {
                clear = Some(k.to_string());
            }
        })
        .unwrap();
    let mut f = grown
        .store()
        .finding(&clear.expect("a clear finding"))
        .unwrap()
        .unwrap();
    f.verdict = knockoff::judge::score::Verdict::Review;
    grown.store().put_finding(&f).unwrap();
    let after = grown.gauge_figures().unwrap();
    let reads = grown.store().listing_reads();
    assert_eq!(after, grown.recount_gauge_figures().unwrap());
    assert_eq!(grown.store().listing_reads() - reads, 0);
    assert_ne!(after.cases, before.cases);
    assert_eq!(after.verdicts, verdicts_by_pass(grown.store()));
    grown.cycle().await.unwrap();
    assert_eq!(
        grown.gauge_figures().unwrap(),
        grown.recount_gauge_figures().unwrap()
    );
    assert_eq!(
        grown.gauge_figures().unwrap().verdicts,
        verdicts_by_pass(grown.store())
    );
}

/// Findings by verdict, from a pass over every finding's verdict.
fn verdicts_by_pass(store: &knockoff::store::Store) -> std::collections::BTreeMap<String, u64> {
    let mut out: std::collections::BTreeMap<String, u64> = ["flag", "review", "clear"]
        .iter()
        .map(|v| (v.to_string(), 0))
        .collect();
    store
        .for_each_verdict(|_, v| *out.entry(v.as_str().to_string()).or_default() += 1)
        .unwrap();
    out
}
