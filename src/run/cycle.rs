//! One scan cycle over a source of pages (a recording, or a live crawl that
//! may record what it saw): the piece `knockoff scan` and the daemon share.
//!
//! A live cycle crawls the watchlist's search terms on the configured
//! platforms ([`crate::fetch::crawl`]), then hands the pages to the
//! [`Scanner`] under their real marketplace URLs. Listing photos are
//! fetched through the same polite fetcher, with their URLs mapped onto the
//! configured bases (so a crawl pointed at a loopback mock fetches its
//! photos from the mock too), and recorded when recording.

use crate::fetch::crawl::{crawl, CrawlPlan, Progress};
use crate::fetch::http::{is_platform_or_cdn_host, HostStats, HttpFetcher};
use crate::fetch::progress::Bars;
use crate::fetch::record::{RecordSummary, RecordingFetcher};
use crate::fetch::replay::ReplayFetcher;
use crate::fetch::{Capture, FetchError, Fetcher, ResourceKind};
use crate::judge::index::ListingIndex;
use crate::model::config::{real_url, BaseUrl, Config};
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::recording::Recording;
use crate::model::watchlist::Watchlist;
use crate::run::scan::{recorded_pages, Problem, ScanReport, Scanner};
use crate::store::Store;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

/// Where a cycle's pages come from.
#[derive(Debug, Clone)]
pub enum PageSource {
    /// Every page of a recording, in manifest order.
    Replay(PathBuf),
    /// A live crawl with this config, recorded into `record` when given.
    Live {
        config: Box<Config>,
        record: Option<PathBuf>,
    },
}

/// What one cycle did.
#[derive(Debug, Default)]
pub struct CycleReport {
    pub scan: ScanReport,
    /// Per-host fetch statistics (live cycles).
    pub hosts: BTreeMap<String, HostStats>,
    /// What the recording holds after a live `--record` cycle.
    pub recorded: Option<RecordSummary>,
    /// Responses received (any status). Zero means nothing could be
    /// fetched at all: the CLI exits non-zero.
    pub fetched: usize,
    /// Photos decoded and official photos hashed in this process while
    /// the cycle ran: what the store's caches ([`crate::store::hashcache`]) did
    /// not save.
    pub hashing: crate::judge::imagehash::HashingWork,
}

impl CycleReport {
    /// True when some page was parsed (not failed, blocked or drifted).
    pub fn parsed_any(&self) -> bool {
        self.scan
            .per_platform
            .values()
            .any(|s| s.pages > s.blocked + s.failed + s.drift)
    }
}

/// The platforms a live crawl covers: those named in `[platforms]`, or all.
pub fn live_platforms(config: &Config) -> Vec<Platform> {
    let named = config.configured_platforms();
    if named.is_empty() {
        Platform::ALL.to_vec()
    } else {
        named
    }
}

/// Runs one cycle: fetch, parse, examine photos, score, record in the store
/// and index.
pub async fn run_cycle(
    wl: &Watchlist,
    source: &PageSource,
    store: Option<&Store>,
    index: Option<&ListingIndex>,
    filing_date: NaiveDate,
    progress: &Arc<Progress>,
) -> Result<CycleReport> {
    let before = crate::judge::imagehash::hashing_work();
    let mut report = match source {
        PageSource::Replay(dir) => {
            replay_cycle(wl, dir, store, index, filing_date, progress.bars()).await
        }
        PageSource::Live { config, record } => {
            live_cycle(
                wl,
                config,
                record.as_deref(),
                store,
                index,
                filing_date,
                progress,
            )
            .await
        }
    }?;
    report.hashing = crate::judge::imagehash::hashing_work() - before;
    tracing::debug!(
        images_decoded = report.hashing.images_decoded,
        references_prepared = report.hashing.references_prepared,
        "hashing work of the cycle"
    );
    Ok(report)
}

async fn replay_cycle(
    wl: &Watchlist,
    dir: &Path,
    store: Option<&Store>,
    index: Option<&ListingIndex>,
    filing_date: NaiveDate,
    bars: Bars,
) -> Result<CycleReport> {
    let recording = Recording::open(dir)?;
    let fetcher = ReplayFetcher::new(recording.clone());
    let scanner = Scanner::with_store(wl, &fetcher, filing_date, store)?.with_progress(bars);
    let (pages, fetch_problems) = recorded_pages(&recording, &fetcher, bars).await;
    let fetched = pages.len();
    let mut scan = scanner.scan_pages(pages, store, index).await?;
    scan.problems.splice(0..0, fetch_problems);
    Ok(CycleReport {
        scan,
        fetched,
        ..CycleReport::default()
    })
}

async fn live_cycle(
    wl: &Watchlist,
    config: &Config,
    record: Option<&Path>,
    store: Option<&Store>,
    index: Option<&ListingIndex>,
    filing_date: NaiveDate,
    progress: &Arc<Progress>,
) -> Result<CycleReport> {
    let platforms = live_platforms(config);
    let plan = CrawlPlan::new(config, &wl.search_terms(), &platforms);
    let http = HttpFetcher::from_config(config).map_err(|e| Error::Config {
        path: PathBuf::from("[crawl]"),
        message: e.to_string(),
    })?;
    match record {
        Some(dir) => {
            let recorder = RecordingFetcher::create(http, dir, &config.crawl.user_agent)?
                .with_bases(plan.bases.clone());
            let result =
                crawl_and_scan(wl, &plan, &recorder, store, index, filing_date, progress).await;
            // The recording is finished even when the scan failed: what was
            // fetched is evidence.
            let summary = recorder.finish().await?;
            let mut report = result?;
            report.hosts = recorder.inner().stats();
            report.recorded = Some(summary);
            Ok(report)
        }
        None => {
            let mut report =
                crawl_and_scan(wl, &plan, &http, store, index, filing_date, progress).await?;
            report.hosts = http.stats();
            Ok(report)
        }
    }
}

async fn crawl_and_scan(
    wl: &Watchlist,
    plan: &CrawlPlan,
    fetcher: &dyn Fetcher,
    store: Option<&Store>,
    index: Option<&ListingIndex>,
    filing_date: NaiveDate,
    progress: &Arc<Progress>,
) -> Result<CycleReport> {
    let mapped = MappedFetcher {
        inner: fetcher,
        bases: &plan.bases,
    };
    // Official photos are hashed before anything is fetched: a broken
    // watchlist fails fast, not after a long crawl.
    let scanner =
        Scanner::with_store(wl, &mapped, filing_date, store)?.with_progress(progress.bars());
    let result = crawl(plan, fetcher, progress).await;
    let fetched = result.pages.len();
    let page_urls: std::collections::HashSet<&str> =
        result.pages.iter().map(|p| p.url.as_str()).collect();
    // Failures with no response at all; pages that answered (blocked,
    // drifted, HTTP errors) are reported by the scan from their capture.
    let crawl_problems: Vec<Problem> = result
        .errors
        .iter()
        .filter(|e| !page_urls.contains(e.url.as_str()))
        .map(|e| Problem {
            kind: if e.host_refused { "host" } else { "fetch" }.into(),
            url: e.url.clone(),
            message: e.message.clone(),
        })
        .collect();
    let pages: Vec<Capture> = result
        .pages
        .iter()
        .map(|p| {
            let mut c = p.capture.clone();
            c.final_url = real_url(&plan.bases, &c.final_url);
            c.redirects = c
                .redirects
                .iter()
                .map(|u| real_url(&plan.bases, u))
                .collect();
            c.url = p.real_url.clone();
            c
        })
        .collect();
    let mut scan = scanner.scan_pages(pages, store, index).await?;
    scan.problems.splice(0..0, crawl_problems);
    Ok(CycleReport {
        scan,
        fetched,
        ..CycleReport::default()
    })
}

/// Asks a fetcher for real marketplace URLs at their configured bases, and
/// answers with captures under the real URLs (what evidence cites).
struct MappedFetcher<'a> {
    inner: &'a dyn Fetcher,
    bases: &'a [BaseUrl],
}

#[async_trait::async_trait]
impl Fetcher for MappedFetcher<'_> {
    async fn fetch(
        &self,
        url: &str,
        kind: ResourceKind,
    ) -> std::result::Result<Capture, FetchError> {
        let platform = Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().and_then(Platform::from_host));
        self.fetch_through(url, kind, platform).await
    }

    /// A listing's photo is fetched only from a host of the platforms or
    /// their photo CDNs ([`is_platform_or_cdn_host`]), judged on the URL the
    /// page gave, before it is mapped onto a configured base: a listing
    /// cannot send the crawler to an internal address, live or mocked.
    async fn fetch_photo(
        &self,
        url: &str,
        platform: Platform,
    ) -> std::result::Result<Capture, FetchError> {
        let parsed = Url::parse(&crate::model::recording::normalize_url(url)).map_err(|e| {
            FetchError::Invalid {
                url: url.to_string(),
                message: e.to_string(),
            }
        })?;
        let host = parsed.host_str().unwrap_or_default();
        if !is_platform_or_cdn_host(host) {
            return Err(FetchError::Refused {
                url: url.to_string(),
                reason: format!(
                    "photo host `{host}` is not a host of the crawled platforms or their photo CDNs"
                ),
            });
        }
        self.fetch_through(url, ResourceKind::Image, Some(platform))
            .await
    }
}

impl MappedFetcher<'_> {
    /// Fetches a real URL through the configured base of `platform` (the
    /// URL's own platform, or for a photo the listing's).
    async fn fetch_through(
        &self,
        url: &str,
        kind: ResourceKind,
        platform: Option<Platform>,
    ) -> std::result::Result<Capture, FetchError> {
        let target = match platform.and_then(|p| self.bases.iter().find(|b| b.platform == p)) {
            Some(base) => base.to_configured(url),
            // A host no platform claims, with no listing to say whose it
            // is: the first redirected base carries it as a host segment.
            None => self
                .bases
                .iter()
                .find(|b| b.is_redirected())
                .map(|b| b.to_configured(url))
                .unwrap_or_else(|| url.to_string()),
        };
        let mut capture = self.inner.fetch(&target, kind).await?;
        capture.final_url = real_url(self.bases, &capture.final_url);
        capture.url = url.to_string();
        Ok(capture)
    }
}
