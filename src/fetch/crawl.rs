//! Live crawl planning and execution: search pages per term and platform
//! (with pagination), then the item pages of the listings found.
//!
//! The crawl knows nothing of HTTP or of any site: URLs come from the
//! [`Marketplace`](crate::marketplaces::Marketplace) trait, bytes from a
//! [`Fetcher`] (live, replay or recording), listings from
//! [`marketplaces::parse_page`]. Politeness (rates, robots, retries) is the
//! fetcher's job; the crawl only bounds how many requests it keeps queued.
//!
//! Pagination stops at `max_pages_per_term`, at a page with no listings or
//! no new ones, and at a blocked or drifted page (a block is reported,
//! never taken for the end of the results). Item pages are fetched for at
//! most `max_items_per_term` new listings per term and platform; listing
//! photos are left to the scan, through the same fetcher
//! ([`CrawlResult::image_urls`] maps them onto the configured bases).

use crate::fetch::progress::{Bar, Bars};
use crate::fetch::{Capture, FetchError, Fetcher, ResourceKind};
use crate::marketplaces::{self, PageKind, PageOutcome};
use crate::model::config::{BaseUrl, Config};
use crate::model::listing::{Listing, Platform};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use url::Url;

/// Requests the crawl keeps in flight or waiting at the fetcher; the
/// fetcher's own limits decide how many actually go out.
pub const DEFAULT_CRAWL_TASKS: usize = 16;

/// What to crawl.
#[derive(Debug, Clone)]
pub struct CrawlPlan {
    pub terms: Vec<String>,
    /// Platforms and where to crawl them.
    pub bases: Vec<BaseUrl>,
    pub max_pages_per_term: u32,
    pub max_items_per_term: usize,
    /// Crawl tasks at once (see [`DEFAULT_CRAWL_TASKS`]).
    pub tasks: usize,
}

impl CrawlPlan {
    /// A plan for these terms on these platforms with a config's bases and
    /// limits.
    pub fn new(config: &Config, terms: &[String], platforms: &[Platform]) -> CrawlPlan {
        CrawlPlan {
            terms: terms.to_vec(),
            bases: platforms.iter().map(|p| config.base_url(*p)).collect(),
            max_pages_per_term: config.crawl.max_pages_per_term,
            max_items_per_term: config.crawl.max_items_per_term,
            tasks: DEFAULT_CRAWL_TASKS.max(config.crawl.concurrency),
        }
    }
}

/// One fetched page and what the parser made of it.
#[derive(Debug, Clone)]
pub struct CrawlPage {
    pub platform: Platform,
    pub kind: PageKind,
    /// The search term that led here.
    pub term: String,
    /// 1-based result page (search pages; 0 for item pages).
    pub page: u32,
    /// The URL fetched (on the configured base).
    pub url: String,
    /// The marketplace URL it stands for (what parsers and reports see).
    pub real_url: String,
    pub capture: Capture,
    /// `None` when the status was not 2xx (see the capture's status).
    pub outcome: Option<PageOutcome>,
}

/// A page the crawl could not use, and why.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlError {
    pub platform: Platform,
    pub url: String,
    pub kind: PageKind,
    pub message: String,
    /// The host gave up on us (backed off, blocked) rather than a single
    /// page failing.
    pub host_refused: bool,
}

/// Everything a crawl produced.
#[derive(Debug, Clone, Default)]
pub struct CrawlResult {
    /// Pages in the order they were fetched.
    pub pages: Vec<CrawlPage>,
    pub errors: Vec<CrawlError>,
    /// Per platform counts.
    pub per_platform: BTreeMap<Platform, PlatformCounts>,
}

/// Counts for the summary, per platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlatformCounts {
    pub search_pages: u64,
    pub item_pages: u64,
    pub listings: u64,
    pub blocked: u64,
    pub drift: u64,
    pub errors: u64,
}

impl CrawlResult {
    /// Listings from all pages, one per `(platform, id)`: search cards with
    /// their item page merged in.
    pub fn listings(&self) -> Vec<Listing> {
        let mut order = Vec::new();
        let mut by_key: HashMap<String, Listing> = HashMap::new();
        // Search cards first, so item pages fill in what cards lack.
        let mut pages: Vec<&CrawlPage> = self.pages.iter().collect();
        pages.sort_by_key(|p| p.kind == PageKind::Item);
        for page in pages {
            let Some(outcome) = &page.outcome else {
                continue;
            };
            for l in outcome.listings() {
                match by_key.get_mut(&l.key()) {
                    Some(existing) => existing.merge_from(l),
                    None => {
                        order.push(l.key());
                        by_key.insert(l.key(), l.clone());
                    }
                }
            }
        }
        order
            .into_iter()
            .filter_map(|k| by_key.remove(&k))
            .collect()
    }

    /// Photo URLs of a listing as the fetcher should ask for them (mapped
    /// onto the platform's configured base).
    pub fn image_urls(listing: &Listing, bases: &[BaseUrl]) -> Vec<String> {
        let base = bases.iter().find(|b| b.platform == listing.platform);
        listing
            .images
            .iter()
            .map(|u| base.map_or_else(|| u.clone(), |b| b.to_configured(u)))
            .collect()
    }

    /// True when nothing at all could be fetched (the CLI exits non-zero).
    pub fn fetched_nothing(&self) -> bool {
        self.pages.is_empty()
    }
}

/// Live progress counters of a crawl, by host. When drawn
/// ([`Progress::for_stderr`]), [`Progress::line`] is the message of a
/// spinner on stderr ([`crate::fetch::progress`]), kept on screen when the
/// crawl ends; otherwise they only count ([`Progress::snapshot`]).
#[derive(Debug, Default)]
pub struct Progress {
    bars: Bars,
    /// The crawl's spinner while [`crawl`] runs (hidden when not drawn).
    bar: Mutex<Option<Bar>>,
    hosts: Mutex<BTreeMap<String, HostProgress>>,
}

/// Progress of one host (platform) so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostProgress {
    pub fetched: u64,
    pub queued: u64,
    pub errors: u64,
}

impl Progress {
    /// Progress that draws only when stderr is a terminal and the output
    /// is not JSON ([`Bars::for_stderr`]).
    pub fn for_stderr(json: bool) -> Arc<Progress> {
        Arc::new(Progress {
            bars: Bars::for_stderr(json),
            ..Default::default()
        })
    }

    /// Progress that counts but never draws (tests, benches, the daemon).
    pub fn silent() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// Whether this progress is drawn: what the scan after the crawl draws
    /// its own bars with.
    pub fn bars(&self) -> Bars {
        self.bars
    }

    /// Counters so far, by host.
    pub fn snapshot(&self) -> BTreeMap<String, HostProgress> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, host: &str, f: impl FnOnce(&mut HostProgress)) {
        {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            f(hosts.entry(host.to_string()).or_default());
        }
        if self.bars.is_drawn() {
            if let Some(bar) = self.bar() {
                bar.set_message(self.line());
            }
        }
    }

    fn bar(&self) -> Option<Bar> {
        self.bar.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The line shown: `fetched 12 queued 3 errors 1 | aliexpress 8/2/0 ...`.
    pub fn line(&self) -> String {
        let hosts = self.snapshot();
        let total = hosts
            .values()
            .fold(HostProgress::default(), |a, h| HostProgress {
                fetched: a.fetched + h.fetched,
                queued: a.queued + h.queued,
                errors: a.errors + h.errors,
            });
        let per: Vec<String> = hosts
            .iter()
            .map(|(k, h)| format!("{k} {}/{}/{}", h.fetched, h.queued, h.errors))
            .collect();
        format!(
            "crawl: fetched {} queued {} errors {} | {} (fetched/queued/errors)",
            total.fetched,
            total.queued,
            total.errors,
            per.join(", ")
        )
    }

    /// Shows the spinner until [`Progress::finish`] (hidden when not drawn).
    fn start(&self) {
        let bar = self.bars.spinner(self.line());
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    /// Stops the spinner, leaving the final line on screen.
    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.set_message(self.line());
            bar.finish();
        }
    }
}

/// Shared crawl state.
struct Ctx<'a> {
    plan: &'a CrawlPlan,
    fetcher: &'a dyn Fetcher,
    progress: &'a Progress,
    result: Mutex<CrawlResult>,
    /// Listing keys whose item page is queued or fetched (across terms).
    items_seen: Mutex<HashSet<String>>,
    fetch_count: AtomicU64,
}

/// Crawls the plan with a fetcher. Never fails as a whole: failed pages
/// and refusing hosts are in [`CrawlResult::errors`].
pub async fn crawl(
    plan: &CrawlPlan,
    fetcher: &dyn Fetcher,
    progress: &Arc<Progress>,
) -> CrawlResult {
    progress.start();
    let ctx = Ctx {
        plan,
        fetcher,
        progress,
        result: Mutex::new(CrawlResult::default()),
        items_seen: Mutex::new(HashSet::new()),
        fetch_count: AtomicU64::new(0),
    };
    let jobs: Vec<(&BaseUrl, &String)> = plan
        .bases
        .iter()
        .flat_map(|b| plan.terms.iter().map(move |t| (b, t)))
        .collect();
    for (base, _) in &jobs {
        ctx.progress
            .update(base.platform.as_str(), |h| h.queued += 1);
    }
    // Term jobs run side by side; each paginates in order, then fans out
    // over its item pages.
    let tasks = plan.tasks.max(1);
    stream::iter(jobs)
        .for_each_concurrent(tasks, |(base, term)| crawl_term(&ctx, base, term))
        .await;
    progress.finish();
    tracing::info!(
        fetches = ctx.fetch_count.load(Ordering::SeqCst),
        "crawl done"
    );
    ctx.result.into_inner().unwrap_or_else(|e| e.into_inner())
}

async fn crawl_term(ctx: &Ctx<'_>, base: &BaseUrl, term: &str) {
    let platform = base.platform;
    let market = marketplaces::for_platform(platform);
    let mut found: Vec<Listing> = Vec::new();
    let mut keys: HashSet<String> = HashSet::new();
    for page_no in 1..=ctx.plan.max_pages_per_term.max(1) {
        let url = market
            .search_url(&base.configured, term, page_no)
            .to_string();
        if page_no > 1 {
            ctx.progress.update(platform.as_str(), |h| h.queued += 1);
        }
        let Some(page) = fetch_page(ctx, base, &url, PageKind::Search, term, page_no).await else {
            break;
        };
        let listings: Vec<Listing> = match &page.outcome {
            Some(PageOutcome::Ok { listings, .. }) => listings.clone(),
            _ => Vec::new(),
        };
        let stop = !matches!(page.outcome, Some(PageOutcome::Ok { .. }));
        ctx.result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pages
            .push(page);
        if stop {
            break;
        }
        let before = keys.len();
        for l in listings {
            if keys.insert(l.key()) {
                found.push(l);
            }
        }
        // No listings, or only ones already seen: the results ran out.
        if keys.len() == before {
            break;
        }
    }
    let items: Vec<String> = {
        let mut seen = ctx.items_seen.lock().unwrap_or_else(|e| e.into_inner());
        found
            .iter()
            .filter(|l| seen.insert(l.key()))
            .take(ctx.plan.max_items_per_term)
            .map(|l| base.to_configured(&l.url))
            .collect()
    };
    ctx.progress
        .update(platform.as_str(), |h| h.queued += items.len() as u64);
    let tasks = ctx.plan.tasks.max(1);
    stream::iter(items)
        .for_each_concurrent(tasks, |url| async move {
            if let Some(page) = fetch_page(ctx, base, &url, PageKind::Item, term, 0).await {
                ctx.result
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pages
                    .push(page);
            }
        })
        .await;
}

/// Fetches and parses one page, counting it; `None` (with the error
/// recorded) when nothing usable came back.
async fn fetch_page(
    ctx: &Ctx<'_>,
    base: &BaseUrl,
    url: &str,
    kind: PageKind,
    term: &str,
    page_no: u32,
) -> Option<CrawlPage> {
    let platform = base.platform;
    let host = platform.as_str();
    ctx.fetch_count.fetch_add(1, Ordering::SeqCst);
    let fetched = ctx.fetcher.fetch(url, ResourceKind::Page).await;
    ctx.progress.update(host, |h| {
        h.queued = h.queued.saturating_sub(1);
        if fetched.is_ok() {
            h.fetched += 1;
        } else {
            h.errors += 1;
        }
    });
    let error = |message: String, host_refused: bool| CrawlError {
        platform,
        url: url.to_string(),
        kind,
        message,
        host_refused,
    };
    let capture = match fetched {
        Ok(c) => c,
        Err(e) => {
            let refused = matches!(e, FetchError::HostBackedOff { .. });
            let mut r = ctx.result.lock().unwrap_or_else(|e| e.into_inner());
            r.errors.push(error(e.to_string(), refused));
            r.per_platform.entry(platform).or_default().errors += 1;
            return None;
        }
    };
    let final_url = Url::parse(&capture.final_url)
        .or_else(|_| Url::parse(url))
        .ok()?;
    let real = base.to_real(&final_url);
    let outcome = capture.is_success().then(|| {
        marketplaces::parse_page(
            platform,
            &real,
            &capture.body,
            capture.content_type.as_deref(),
        )
    });
    {
        let mut r = ctx.result.lock().unwrap_or_else(|e| e.into_inner());
        let counts = r.per_platform.entry(platform).or_default();
        match kind {
            PageKind::Search => counts.search_pages += 1,
            PageKind::Item => counts.item_pages += 1,
        }
        match &outcome {
            None => {
                counts.errors += 1;
                let e = error(format!("HTTP {}", capture.status), capture.status == 429);
                r.errors.push(e);
            }
            Some(PageOutcome::Ok { listings, .. }) => counts.listings += listings.len() as u64,
            Some(PageOutcome::Blocked { reason, marker, .. }) => {
                counts.blocked += 1;
                let e = error(format!("blocked: {reason} (marker `{marker}`)"), true);
                r.errors.push(e);
            }
            Some(PageOutcome::Drift { detail, .. }) => {
                counts.drift += 1;
                let e = error(format!("parser drift: {detail}"), false);
                r.errors.push(e);
            }
        }
    }
    Some(CrawlPage {
        platform,
        kind,
        term: term.to_string(),
        page: page_no,
        url: url.to_string(),
        real_url: real.to_string(),
        capture,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Capture;
    use chrono::Utc;

    /// Answers every URL with a fixed status; counts calls.
    struct Fixed {
        status: u16,
        calls: AtomicU64,
    }

    #[async_trait::async_trait]
    impl Fetcher for Fixed {
        async fn fetch(&self, url: &str, _kind: ResourceKind) -> Result<Capture, FetchError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Capture::new(
                url,
                self.status,
                Some("text/html".into()),
                Utc::now(),
                b"<html></html>".to_vec(),
            ))
        }
    }

    #[tokio::test]
    async fn failed_search_page_is_an_error_and_stops_the_term() {
        let config = Config::default();
        let plan = CrawlPlan::new(&config, &["aurora".into()], &[Platform::AliExpress]);
        let f = Fixed {
            status: 503,
            calls: AtomicU64::new(0),
        };
        let progress = Progress::silent();
        let r = crawl(&plan, &f, &progress).await;
        assert_eq!(f.calls.load(Ordering::SeqCst), 1);
        // Silent progress still counts (the daemon reads it), and its
        // spinner was hidden and is gone.
        let counted = progress.snapshot();
        assert_eq!(
            counted.get("aliexpress").copied(),
            Some(HostProgress {
                fetched: 1,
                queued: 0,
                errors: 0
            })
        );
        assert!(!progress.bars().is_drawn());
        assert!(progress.bar().is_none());
        assert_eq!(r.pages.len(), 1);
        assert_eq!(r.errors.len(), 1);
        assert!(r.errors[0].message.contains("503"));
        assert!(!r.fetched_nothing());
    }

    #[test]
    fn progress_line_totals_hosts() {
        let p = Progress::default();
        p.update("aliexpress", |h| {
            h.fetched = 3;
            h.queued = 2;
        });
        p.update("alibaba", |h| h.errors = 1);
        let line = p.line();
        assert!(
            line.starts_with("crawl: fetched 3 queued 2 errors 1"),
            "{line}"
        );
        assert!(line.contains("aliexpress 3/2/0"));
    }
}
