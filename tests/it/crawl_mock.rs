//! A crawl over real loopback HTTP against the mock serving `seeds/` finds
//! exactly what a crawl of the same recording by replay finds; recording
//! that live crawl and replaying the new recording finds it again; faults
//! end up as errors in the result, not as missing listings or panics.

use knockoff::fetch::crawl::{crawl, CrawlPlan, CrawlResult, Progress};
use knockoff::fetch::http::HttpFetcher;
use knockoff::fetch::mock::{Fault, Faults, MockMarket};
use knockoff::fetch::record::RecordingFetcher;
use knockoff::fetch::replay::ReplayFetcher;
use knockoff::marketplaces::PageKind;
use knockoff::model::config::{Config, PlatformConfig};
use knockoff::model::listing::{Listing, Platform};
use knockoff::model::recording::Recording;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

const PLATFORMS: [Platform; 2] = [Platform::AliExpress, Platform::Alibaba];

fn mock_config(mock: &MockMarket) -> Config {
    let mut config = Config::default();
    config.crawl.requests_per_second = 200.0;
    config.crawl.concurrency_per_host = 4;
    config.crawl.backoff_base_millis = 5;
    config.crawl.max_pages_per_term = 5;
    for p in PLATFORMS {
        config.platforms.insert(
            p.as_str().into(),
            PlatformConfig {
                base_url: Some(mock.base_url(p)),
                ..Default::default()
            },
        );
    }
    config
}

fn replay_config() -> Config {
    let mut config = Config::default();
    config.crawl.max_pages_per_term = 5;
    config
}

fn keyed(r: &CrawlResult) -> Vec<(String, Listing)> {
    let mut v: Vec<(String, Listing)> = r.listings().into_iter().map(|l| (l.key(), l)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

async fn replay_crawl(dir: &Path) -> CrawlResult {
    let fetcher = ReplayFetcher::new(Recording::open(dir).unwrap());
    let plan = CrawlPlan::new(&replay_config(), &["aurora".into()], &PLATFORMS);
    crawl(&plan, &fetcher, &Progress::silent()).await
}

#[tokio::test]
async fn live_crawl_of_the_mock_finds_what_replay_finds_and_records_it() {
    let replayed = replay_crawl(&seeds()).await;
    let expected = keyed(&replayed);
    assert!(
        expected.iter().any(|(k, _)| k.starts_with("aliexpress/")),
        "seeds should hold AliExpress listings for `aurora`"
    );

    let mock = MockMarket::start(Some(&seeds()), Faults::none())
        .await
        .unwrap();
    let config = mock_config(&mock);
    let plan = CrawlPlan::new(&config, &["aurora".into()], &PLATFORMS);
    let out = tempfile::tempdir().unwrap();
    let live = HttpFetcher::from_config(&config).unwrap();
    let recorder = RecordingFetcher::create(live, out.path(), &config.crawl.user_agent)
        .unwrap()
        .with_bases(plan.bases.clone());
    let crawled = tokio::time::timeout(
        Duration::from_secs(30),
        crawl(&plan, &recorder, &Progress::silent()),
    )
    .await
    .expect("crawl finishes");
    recorder.finish().await.unwrap();

    let got = keyed(&crawled);
    assert_eq!(
        got.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        expected.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert_eq!(got, expected, "same listings, field by field");
    assert_eq!(crawled.per_platform, replayed.per_platform);
    assert_eq!(crawled.errors.len(), replayed.errors.len());
    // The punish page on AliExpress page 3 is reported, not silently empty.
    assert!(crawled
        .errors
        .iter()
        .any(|e| e.platform == Platform::AliExpress && e.message.starts_with("blocked")));
    // Item pages were fetched for listings found on search pages.
    assert!(crawled
        .pages
        .iter()
        .any(|p| p.kind == PageKind::Item && p.outcome.is_some()));

    // Replaying what the live crawl recorded finds the same again.
    let again = replay_crawl(out.path()).await;
    assert_eq!(keyed(&again), expected);
}

#[tokio::test]
async fn a_host_that_refuses_everything_is_reported_and_the_rest_goes_on() {
    let faults = Faults::none().always("/alibaba/", Fault::ServerError(503));
    let mock = MockMarket::start(Some(&seeds()), faults).await.unwrap();
    let mut config = mock_config(&mock);
    config.crawl.max_retries = 1;
    let plan = CrawlPlan::new(&config, &["aurora".into()], &PLATFORMS);
    let fetcher = HttpFetcher::from_config(&config).unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        crawl(&plan, &fetcher, &Progress::silent()),
    )
    .await
    .expect("crawl finishes");
    // robots.txt is exempt from the fault, so the search page is what fails.
    assert!(result
        .errors
        .iter()
        .any(|e| e.platform == Platform::Alibaba && e.message.contains("503")));
    assert!(result
        .listings()
        .iter()
        .any(|l| l.platform == Platform::AliExpress));
    assert!(!result.fetched_nothing());
    let stats = fetcher.stats();
    assert_eq!(stats["alibaba"].failed, 1);
    assert_eq!(stats["alibaba"].retried, 1);
}

#[tokio::test]
async fn a_crawl_that_reaches_nothing_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::default();
    config.crawl.max_retries = 0;
    config.crawl.obey_robots = false;
    config.platforms.insert(
        "aliexpress".into(),
        PlatformConfig {
            base_url: Some(format!("http://127.0.0.1:{port}/aliexpress")),
            ..Default::default()
        },
    );
    let plan = CrawlPlan::new(&config, &["aurora".into()], &[Platform::AliExpress]);
    let fetcher = HttpFetcher::from_config(&config).unwrap();
    let result = crawl(&plan, &fetcher, &Progress::silent()).await;
    assert!(result.fetched_nothing());
    assert_eq!(result.errors.len(), 1);
    assert!(!result.errors[0].host_refused);
}
