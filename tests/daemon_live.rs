//! The daemon crawling live over real loopback HTTP (the mock marketplace
//! serving a recording): cases open from the crawl, per-host metrics come
//! from the fetcher, and a submitted case's removal is verified by fetching
//! the listing's page at the configured base (the mock answers 404).

#[path = "fixtures/daemon/support.rs"]
mod support;

use chrono::{DateTime, Utc};
use knockoff::cases::book::CaseBook;
use knockoff::cases::deadline::Calendar;
use knockoff::cases::state::CaseState;
use knockoff::config::{Config, PlatformConfig};
use knockoff::cycle::PageSource;
use knockoff::daemon::clock::FakeClock;
use knockoff::daemon::metrics::{render, snapshot};
use knockoff::daemon::{Daemon, DaemonSettings};
use knockoff::listing::Platform;
use knockoff::mock::{Faults, MockMarket};
use knockoff::watchlist::Watchlist;
use std::sync::Arc;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_daemon_verifies_removal_against_the_configured_base() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = support::small_recording(&tmp.path().join("rec"));
    let mock = MockMarket::start(Some(&rec), Faults::none()).await.unwrap();
    let mut config = Config::default();
    config.crawl.requests_per_second = 200.0;
    config.crawl.concurrency_per_host = 4;
    config.crawl.backoff_base_millis = 5;
    config.crawl.max_pages_per_term = 2;
    config.platforms.insert(
        Platform::AliExpress.as_str().into(),
        PlatformConfig {
            base_url: Some(mock.base_url(Platform::AliExpress)),
            ..Default::default()
        },
    );
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let daemon = Daemon::open(
        &tmp.path().join("data"),
        DaemonSettings {
            watchlist: Watchlist::load(support::cup_watchlist(tmp.path())).unwrap(),
            source: PageSource::Live {
                config: Box::new(config),
                record: None,
            },
            gone_after: 3,
            calendar: Calendar::default(),
        },
        clock.clone(),
    )
    .unwrap();

    let c1 = daemon.cycle().await.unwrap();
    assert_eq!(
        c1.report.scan.findings.len(),
        36,
        "{:?}",
        c1.report.scan.problems
    );
    assert!(!c1.after.cases_opened.is_empty());
    let m = snapshot(&daemon.metrics());
    let fetched: u64 = m.pages_fetched.values().sum();
    assert!(fetched >= 2, "{}", render(&m));
    assert_eq!(m.cycles_ok, 1);

    let book = CaseBook::open(daemon.store()).unwrap();
    let case = book.all().unwrap().remove(0);
    book.move_case(
        &case.id,
        CaseState::Approved,
        t("2026-11-30T10:00:00Z"),
        None,
        "cli",
        None,
    )
    .unwrap();
    book.move_case(
        &case.id,
        CaseState::Submitted,
        t("2026-11-30T11:00:00Z"),
        None,
        "cli",
        None,
    )
    .unwrap();

    // The item page is not in the recording: the mock answers 404.
    clock.set(t("2026-12-01T09:00:00Z"));
    let c2 = daemon.cycle().await.unwrap();
    assert_eq!(c2.after.removals_verified, vec![case.id.clone()]);
    let removed = book.get(&case.id).unwrap().unwrap();
    assert_eq!(removed.state, CaseState::Removed);
    let proof = removed.removal_proof().unwrap();
    assert_eq!(proof.status, 404);
    // Evidence cites the marketplace URL, not the mock's.
    assert_eq!(proof.url, case.listing_url);
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.path.contains(&case.listing_id)),
        "the item page was asked of the mock"
    );
}
