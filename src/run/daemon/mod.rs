//! The brand daemon: scheduled scan cycles over one data folder, with a
//! lock, graceful shutdown, metrics and crash-safe state.
//!
//! - [`Daemon`]: one data folder's store, index and settings; [`Daemon::cycle`]
//!   runs one scan cycle ([`crate::run::cycle::run_cycle`]) and the daemon's
//!   bookkeeping after it ([`tracker::after_cycle`]), under a checkpoint.
//! - [`run`]: the `knockoff daemon` command: lock, endpoint, schedule,
//!   signals.
//! - [`clock`]: the injected clock; [`schedule`]: durations and jitter;
//!   [`lock`]: one daemon per folder; [`metrics`]: `/metrics`, `/healthz`,
//!   `/cases`; [`access`]: who may use that endpoint (token, Host
//!   allow-list, same-origin JSON for state changes, body size limit);
//!   [`network`]: repeat offenders and seller networks.
//!
//! Exit status of [`run`]: 0 when stopped by a signal, or when `--cycles`
//! ran out and the last cycle succeeded; 1 when the last cycle of a
//! `--cycles` run failed, or `--give-up-after N` cycles failed in a row.
//!
//! Crash safety: every write is keyed (listings by `platform/id`, cases by
//! complaint key, tracking by listing) and multi-tree writes are sled
//! transactions. The checkpoint says `running` from a cycle's start until
//! everything it wrote is flushed; a restart that finds it `running` runs
//! the same cycle number again, which rewrites the same keys with the same
//! values. So `kill -9` at any point loses nothing committed and
//! duplicates nothing.

pub mod clock;
pub mod gauges;
pub mod metrics;
pub mod schedule;
pub mod tracker;

use crate::fetch::crawl::Progress;
use crate::fetch::http::HttpFetcher;
use crate::fetch::replay::ReplayFetcher;
use crate::fetch::{Capture, FetchError, Fetcher, ResourceKind};
use crate::file::cases::deadline::Calendar;
use crate::judge::index::ListingIndex;
use crate::judge::score::Verdict;
use crate::model::config::Config;
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::recording::Recording;
use crate::model::watchlist::Watchlist;
use crate::run::access;
use crate::run::cases::RemoteCases;
use crate::run::cycle::{run_cycle, CycleReport, PageSource};
use crate::run::exit::{CliError, CliResult, ExitCode};
use crate::store::lock;
use crate::store::Store;
use clock::{Clock, SystemClock};
use metrics::{Metrics, MetricsState};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracker::{after_cycle, AfterCycle, AfterCycleInput, Checkpoint, Tracker};

/// How often the daemon applies retention (`--keep-pages`): it reads every
/// page record and case, so not at every cycle.
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// How long a stop waits for the cycle in flight before abandoning it.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `knockoff daemon` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct DaemonArgs {
    /// Brand watchlist (TOML).
    #[arg(long)]
    pub watchlist: PathBuf,
    /// Data folder (store, index, lock); one daemon per folder.
    #[arg(long, env = "KNOCKOFF_DATA")]
    pub data: PathBuf,
    /// Configuration (knockoff.toml): live-crawl settings, and the
    /// schedule under `[daemon]` (`every`, `jitter`).
    #[arg(long, env = "KNOCKOFF_CONFIG")]
    pub config: Option<PathBuf>,
    /// Replay a recording each cycle instead of crawling live.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Time between cycles, e.g. `30s`, `15m`, `6h` (default 6h).
    #[arg(long)]
    pub every: Option<String>,
    /// Share of the interval each wait varies by, either way (0 to 0.9;
    /// default 0.1).
    #[arg(long)]
    pub jitter: Option<f64>,
    /// Retention: once a day, drop the stored bytes of captures older
    /// than this (`90d`), except evidence (`[daemon] keep_pages`; default:
    /// keep everything). See `knockoff prune`.
    #[arg(long)]
    pub keep_pages: Option<String>,
    /// Cycles a listing may be missing from its results before it counts
    /// as gone.
    #[arg(long, default_value_t = tracker::DEFAULT_GONE_AFTER_CYCLES)]
    pub gone_after: u32,
    /// Holiday list for working-day deadlines (TOML: `holidays = [...]`).
    #[arg(long)]
    pub holidays: Option<PathBuf>,
    /// Address of the /metrics, /healthz and /cases endpoint (port 0: any
    /// free port; the lock file names the one bound).
    #[arg(long, default_value = "127.0.0.1:9184")]
    pub listen: String,
    /// Allow `--listen` on an address other than loopback (the endpoint
    /// still needs the token in DATA/daemon.token; use TLS in front).
    #[arg(long)]
    pub allow_remote: bool,
    /// Log format: `human` or `json` (JSON lines).
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    pub log_format: String,
    /// Stop after this many cycles (default: run until stopped); the exit
    /// status is 1 when the last of them failed.
    #[arg(long)]
    pub cycles: Option<u64>,
    /// Stop with exit status 1 after this many cycles in a row failed
    /// (default: keep trying).
    #[arg(long)]
    pub give_up_after: Option<u64>,
    /// How long SIGINT/SIGTERM waits for the cycle in flight, e.g. `10s`.
    #[arg(long, default_value = "10s")]
    pub shutdown_grace: String,
}

/// What a daemon watches and how.
#[derive(Clone)]
pub struct DaemonSettings {
    pub watchlist: Watchlist,
    pub source: PageSource,
    pub gone_after: u32,
    pub calendar: Calendar,
}

/// What one cycle did.
#[derive(Debug)]
pub struct CycleOutcome {
    pub cycle: u64,
    /// True when this cycle number was started before and interrupted.
    pub resumed: bool,
    pub report: CycleReport,
    pub after: AfterCycle,
    pub duration: Duration,
}

/// One data folder under watch.
pub struct Daemon {
    settings: DaemonSettings,
    store: Store,
    index: ListingIndex,
    tracker: Tracker,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    /// The gauges of history, counted at open and kept from the store's
    /// changes since ([`gauges`]).
    gauges: std::sync::Mutex<gauges::HistoryGauges>,
}

impl Daemon {
    /// Opens the store and index of a data folder (the caller holds the
    /// lock: see [`lock::DataLock`]).
    pub fn open(data: &Path, settings: DaemonSettings, clock: Arc<dyn Clock>) -> Result<Daemon> {
        let store = Store::open(data)?;
        // sled reads its page table's snapshot whole, then drops it: that
        // room back to the system before the count's passes.
        crate::run::memory::give_back_free_memory();
        let index = ListingIndex::open(data)?;
        let tracker = Tracker::open(&store)?;
        // Counted with no write in between, and every write after it kept
        // for the next refresh.
        store.keep_changes();
        let counted = store
            .take_changes(|_| gauges::HistoryGauges::count(&store))
            .unwrap_or_else(|| gauges::HistoryGauges::count(&store))?;
        // The count's passes leave up to 16,384 of sled's nodes resident
        // (`store::settle`): evicted before the first cycle.
        store.settle_cache()?;
        crate::run::memory::give_back_free_memory();
        let daemon = Daemon {
            settings,
            store,
            index,
            tracker,
            clock,
            metrics: Metrics::default(),
            gauges: std::sync::Mutex::new(counted),
        };
        daemon.refresh_gauges()?;
        Ok(daemon)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    pub fn settings(&self) -> &DaemonSettings {
        &self.settings
    }

    /// Applies retention: drops the bytes of captures older than `keep`
    /// that are not evidence. A failure is logged; the daemon goes on.
    pub async fn prune(self: &Arc<Self>, keep: Duration) {
        let d = self.clone();
        let now = self.clock.now();
        let r = tokio::task::spawn_blocking(move || {
            crate::file::retention::prune(&d.store, keep, now, false)
        })
        .await;
        match r {
            Ok(Ok(r)) => tracing::info!(
                dropped = r.dropped,
                bytes = r.bytes_dropped,
                kept_as_evidence = r.kept_as_evidence,
                "retention: dropped the bytes of old captures"
            ),
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task ended abnormally"),
        }
    }

    /// Changes where the next cycles' pages come from.
    pub fn set_source(&mut self, source: PageSource) {
        self.settings.source = source;
    }

    pub fn checkpoint(&self) -> Result<Checkpoint> {
        self.tracker.checkpoint()
    }

    /// Runs one cycle: scan, then bookkeeping, under the checkpoint.
    pub async fn cycle(&self) -> Result<CycleOutcome> {
        let mut cp = self.tracker.checkpoint()?;
        let resumed = cp.running;
        if resumed {
            cp.resumed += 1;
            tracing::warn!(cycle = cp.cycle, "cycle was interrupted; running it again");
        } else {
            cp.cycle += 1;
            cp.running = true;
        }
        let started = self.clock.now();
        cp.started_at = Some(started);
        self.tracker.set_checkpoint(&cp)?;
        self.with_metrics(|m| {
            m.cycle = cp.cycle;
            m.cycle_running = true;
        });
        tracing::info!(cycle = cp.cycle, "cycle started");
        let timer = Instant::now();
        let result = self.cycle_inner(cp.cycle, started).await;
        let duration = timer.elapsed();
        self.with_metrics(|m| {
            m.cycle_running = false;
            m.cycle_duration_seconds = duration.as_secs_f64();
        });
        match result {
            Ok((report, after)) => {
                cp.running = false;
                let done = self.clock.now();
                cp.last_success = Some(done);
                self.tracker.set_checkpoint(&cp)?;
                self.count_pages(&report);
                self.with_metrics(|m| {
                    m.cycles_ok += 1;
                    m.last_success_unix = Some(done.timestamp_millis() as f64 / 1000.0);
                    m.last_error = None;
                });
                // The gauges' good-faith figures, as of the cycle's end,
                // are the ones warned about: the cases are read once.
                let gf = self.refresh_gauges_at(done)?;
                for w in gf.warnings() {
                    tracing::warn!(warning = %w, "good-faith standing");
                }
                tracing::info!(
                    cycle = cp.cycle,
                    pages = report.scan.pages_read,
                    listings = report.scan.findings.len(),
                    flagged = report.scan.count(Verdict::Flag),
                    problems = report.scan.problems.len(),
                    new_listings = after.new_listings,
                    gone = after.gone.len(),
                    cases_opened = after.cases_opened.len(),
                    removals_verified = after.removals_verified.len(),
                    relistings = after.relistings.len(),
                    images_decoded = report.hashing.images_decoded,
                    references_prepared = report.hashing.references_prepared,
                    seconds = duration.as_secs_f64(),
                    "cycle done"
                );
                // The nodes the cycle's reads left in sled's cache
                // (`store::settle`), and what the cycle's passes freed,
                // back to the system before the daemon waits for the next
                // one. Not settled, they stay into the next cycle: at 1M
                // listings a cycle that found 18,943 listings gone left
                // ~80 MB that the next cycle's peak stood on.
                self.store.settle_cache()?;
                crate::run::memory::give_back_free_memory();
                Ok(CycleOutcome {
                    cycle: cp.cycle,
                    resumed,
                    report,
                    after,
                    duration,
                })
            }
            Err(e) => {
                self.with_metrics(|m| {
                    m.cycles_failed += 1;
                    m.last_error = Some(e.to_string());
                });
                tracing::error!(cycle = cp.cycle, error = %e, "cycle failed");
                Err(e)
            }
        }
    }

    async fn cycle_inner(
        &self,
        cycle: u64,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<(CycleReport, AfterCycle)> {
        let report = run_cycle(
            &self.settings.watchlist,
            &self.settings.source,
            Some(&self.store),
            Some(&self.index),
            crate::file::cases::deadline::china_date(started),
            &Progress::silent(),
        )
        .await?;
        let verifier = Verifier::for_source(&self.settings.source)?;
        // The cases to verify and to check relistings against, from the
        // states the gauges keep: the case book is not read whole.
        self.update_gauges()?;
        let cases = self.lock_gauges().cases_at_work();
        let after = after_cycle(AfterCycleInput {
            store: &self.store,
            report: &report.scan,
            cycle,
            gone_after: self.settings.gone_after,
            verifier: &verifier,
            now: started,
            cases: Some(&cases),
        })
        .await?;
        Ok((report, after))
    }

    fn with_metrics(&self, f: impl FnOnce(&mut MetricsState)) {
        let mut m = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut m);
    }

    /// Adds a cycle's page counts per host to the counters.
    fn count_pages(&self, report: &CycleReport) {
        let host_of = |u: &str| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "(none)".into())
        };
        let mut fetched: Vec<(String, u64)> = Vec::new();
        let mut failed: Vec<(String, u64)> = Vec::new();
        let mut blocked: Vec<(String, u64)> = Vec::new();
        let mut blocked_hosts = std::collections::BTreeSet::new();
        if report.hosts.is_empty() {
            // Replay: every page of the recording was asked for once.
            if let PageSource::Replay(dir) = &self.settings.source {
                if let Ok(rec) = Recording::open(dir) {
                    for p in rec.pages() {
                        if !p.content_type.to_ascii_lowercase().starts_with("image/") {
                            fetched.push((host_of(&p.url), 1));
                        }
                    }
                }
            }
            for p in &report.scan.problems {
                match p.kind.as_str() {
                    "http" | "fetch" | "host" => failed.push((host_of(&p.url), 1)),
                    "blocked" => {
                        blocked.push((host_of(&p.url), 1));
                        blocked_hosts.insert(host_of(&p.url));
                    }
                    _ => {}
                }
            }
        } else {
            for (host, s) in &report.hosts {
                fetched.push((host.clone(), s.fetched));
                failed.push((host.clone(), s.failed));
                blocked.push((host.clone(), s.blocked));
                if s.blocked > 0 || s.backed_off.is_some() {
                    blocked_hosts.insert(host.clone());
                }
            }
        }
        self.with_metrics(|m| {
            for (h, n) in fetched {
                *m.pages_fetched.entry(h).or_default() += n;
            }
            for (h, n) in failed {
                *m.pages_failed.entry(h).or_default() += n;
            }
            for (h, n) in blocked {
                *m.pages_blocked.entry(h).or_default() += n;
            }
            m.blocked_hosts = blocked_hosts;
        });
    }

    /// Brings the gauges read from the store up to date: from what was
    /// written since the last refresh, not from all history.
    pub fn refresh_gauges(&self) -> Result<()> {
        self.refresh_gauges_at(self.clock.now()).map(|_| ())
    }

    /// Records the gauges have read to stay up to date since the daemon
    /// opened its folder (not counting the count at open): how the tests
    /// see that a cycle's gauges read what the cycle wrote.
    pub fn gauge_reads(&self) -> u64 {
        self.lock_gauges().reads()
    }

    /// The gauges' figures as the daemon keeps them, brought up to date.
    pub fn gauge_figures(&self) -> Result<gauges::Figures> {
        self.update_gauges()?;
        Ok(self
            .lock_gauges()
            .figures(self.clock.now(), &self.settings.calendar))
    }

    /// The same figures from a full count of the store (for tests).
    pub fn recount_gauge_figures(&self) -> Result<gauges::Figures> {
        Ok(gauges::HistoryGauges::count(&self.store)?
            .figures(self.clock.now(), &self.settings.calendar))
    }

    fn lock_gauges(&self) -> std::sync::MutexGuard<'_, gauges::HistoryGauges> {
        self.gauges.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the store's changes since the last update to the gauges; a
    /// failure counts everything again.
    fn update_gauges(&self) -> Result<()> {
        let mut g = self.lock_gauges();
        let applied = self
            .store
            .take_changes(|changes| g.apply(&self.store, &changes));
        match applied {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "gauges: counting the store again");
                *g = gauges::HistoryGauges::count(&self.store)?;
                Ok(())
            }
            None => {
                *g = gauges::HistoryGauges::count(&self.store)?;
                Ok(())
            }
        }
    }

    /// Brings the gauges up to date as of `now`; returns the good-faith
    /// figures they were taken from.
    fn refresh_gauges_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::file::cases::goodfaith::GoodFaith> {
        self.update_gauges()?;
        let f = self.lock_gauges().figures(now, &self.settings.calendar);
        let cp = self.tracker.checkpoint()?;
        let today = crate::file::cases::deadline::china_date(now);
        let expiring = self
            .settings
            .watchlist
            .expiring(today, crate::model::watchlist::EXPIRY_WARNING_DAYS);
        for e in &expiring {
            tracing::warn!(what = %e.what, expires = %e.expires, days_left = e.days_left, "right or authorization ending soon");
        }
        self.with_metrics(|m| {
            m.expiring_days = expiring
                .iter()
                .map(|e| (e.what.clone(), e.days_left))
                .collect();
            m.cycle = cp.cycle;
            m.listings_seen = f.listings;
            m.listings_gone = f.gone;
            m.relistings = f.relistings;
            m.findings = f.verdicts.clone();
            m.cases = f.cases.clone();
            m.cases_overdue = f.cases_overdue;
            m.repeat_offenders = f.repeat_offenders;
            m.seller_networks = f.seller_networks;
            m.good_faith_takedown_rate = f.good_faith.overall.takedown_rate;
            m.good_faith_counter_success_share = f.good_faith.overall.counter_success_share;
        });
        Ok(f.good_faith)
    }

    /// The HTTP endpoint: `/metrics`, `/healthz`, `/cases`, behind
    /// `access` (see [`access`]: token, Host allow-list, same-origin JSON
    /// for `POST /cases`, body size limit).
    pub fn router(self: &Arc<Self>, access: access::Access) -> axum::Router {
        use axum::routing::{get, post};
        // The analyst's desk on the same address: one process owns the
        // store, so the daemon serves it while it holds the folder.
        let desk = Arc::new(crate::run::desk::Desk::new(
            self.store.clone(),
            self.settings.calendar.clone(),
            &crate::run::desk::analyst_name(None),
            &access,
        ));
        let for_metrics = self.clone();
        let for_health = self.clone();
        let for_cases = self.clone();
        axum::Router::new()
            .route(
                "/metrics",
                get(move || {
                    let d = for_metrics.clone();
                    async move {
                        (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            metrics::render(&metrics::snapshot(&d.metrics)),
                        )
                    }
                }),
            )
            .route(
                "/healthz",
                get(move |authed: axum::Extension<access::Authenticated>| {
                    let d = for_health.clone();
                    async move {
                        let mut m = metrics::snapshot(&d.metrics);
                        if !authed.0 .0 {
                            // An error names files and values: only for
                            // token holders.
                            m.last_error = m
                                .last_error
                                .map(|_| "(hidden: send the access token)".to_string());
                        }
                        // The last cycle failed (store, recording, config):
                        // a monitor should page someone. Blocked pages are
                        // not failures; see /metrics for those.
                        let failing = m.last_error.is_some();
                        let code = if failing {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE
                        } else {
                            axum::http::StatusCode::OK
                        };
                        let body = serde_json::json!({
                            "status": if failing { "failing" } else { "ok" },
                            "cycle": m.cycle,
                            "cycle_running": m.cycle_running,
                            "cycles_ok": m.cycles_ok,
                            "cycles_failed": m.cycles_failed,
                            "last_success_unix": m.last_success_unix,
                            "last_error": m.last_error,
                        });
                        (code, axum::Json(body))
                    }
                }),
            )
            .route(
                "/cases",
                post(move |body: axum::body::Bytes| {
                    let d = for_cases.clone();
                    async move { d.serve_cases(&body) }
                }),
            )
            .merge(crate::run::desk::routes(desk))
            .layer(axum::extract::DefaultBodyLimit::max(
                access::MAX_REQUEST_BODY_BYTES,
            ))
            .layer(axum::middleware::from_fn_with_state(access, access::guard))
    }

    /// Runs a `knockoff cases` command sent by another process.
    fn serve_cases(&self, body: &[u8]) -> axum::response::Response {
        use axum::response::IntoResponse;
        let reply = |code: ExitCode, stdout: String, stderr: String| {
            let answer = crate::run::cases::RemoteAnswer {
                exit: code as i32,
                stdout,
                stderr,
            };
            (
                [
                    ("x-knockoff-exit", (code as i32).to_string()),
                    ("content-type", "application/json".to_string()),
                ],
                serde_json::to_string(&answer).unwrap_or_default(),
            )
                .into_response()
        };
        let req: RemoteCases = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                return reply(
                    ExitCode::Usage,
                    String::new(),
                    format!("error: bad request: {e}\n"),
                )
            }
        };
        // The daemon's own holiday list: a request carries no paths.
        let mut out = Vec::new();
        let result = crate::run::cases::run_action(
            &self.store,
            &req.action,
            &self.settings.calendar,
            self.clock.now(),
            &mut out,
        );
        let _ = self.refresh_gauges();
        let text = String::from_utf8_lossy(&out).into_owned();
        match result {
            Ok(code) => reply(code, text, String::new()),
            Err(CliError::BrokenPipe) => reply(ExitCode::Ok, text, String::new()),
            Err(CliError::Knockoff(e)) => reply(
                crate::run::exit::exit_code_for(&e),
                text,
                format!("error: {e}\n"),
            ),
        }
    }
}

/// Fetches a submitted listing's page to check whether it is gone: from
/// the recording in replay, from the network (at the configured bases)
/// live.
enum Verifier {
    Replay(ReplayFetcher),
    Live(Box<HttpFetcher>, Box<Config>),
}

impl Verifier {
    fn for_source(source: &PageSource) -> Result<Verifier> {
        match source {
            PageSource::Replay(dir) => {
                Ok(Verifier::Replay(ReplayFetcher::new(Recording::open(dir)?)))
            }
            PageSource::Live { config, .. } => {
                let http = HttpFetcher::from_config(config).map_err(|e| Error::Config {
                    path: PathBuf::from("[crawl]"),
                    message: e.to_string(),
                })?;
                Ok(Verifier::Live(Box::new(http), config.clone()))
            }
        }
    }
}

#[async_trait::async_trait]
impl Fetcher for Verifier {
    async fn fetch(
        &self,
        url: &str,
        kind: ResourceKind,
    ) -> std::result::Result<Capture, FetchError> {
        match self {
            Verifier::Replay(r) => r.fetch(url, kind).await,
            Verifier::Live(http, config) => {
                let platform = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().and_then(Platform::from_host));
                let target = platform
                    .map(|p| config.base_url(p).to_configured(url))
                    .unwrap_or_else(|| url.to_string());
                let mut c = http.fetch(&target, kind).await?;
                c.url = url.to_string();
                Ok(c)
            }
        }
    }
}

/// What a daemon starts with, once its arguments and config are checked.
struct Start {
    every: Duration,
    jitter: f64,
    keep_pages: Option<Duration>,
    grace: Duration,
    listen: std::net::SocketAddr,
    watchlist: Watchlist,
    calendar: Calendar,
    source: PageSource,
}

/// Reads the config and checks every argument, before anything is
/// started or locked: a typo stops the start, naming the flag or the
/// config field.
fn start(args: &DaemonArgs) -> Result<Start, CliError> {
    let usage = |field: &str, m: String| -> CliError {
        Error::Config {
            path: PathBuf::from(field),
            message: m,
        }
        .into()
    };
    // The config file (live settings, and the schedule under `[daemon]`)
    // is read first: a typo there stops the start, with file and field.
    let config = args
        .config
        .as_deref()
        .map(Config::load)
        .transpose()?
        .unwrap_or_default();
    let every = match (&args.every, &config.daemon.every) {
        (Some(t), _) => schedule::parse_duration(t).map_err(|m| usage("--every", m))?,
        (None, Some(t)) => schedule::parse_duration(t).map_err(|m| usage("[daemon] every", m))?,
        (None, None) => schedule::DEFAULT_EVERY,
    };
    let jitter = args
        .jitter
        .or(config.daemon.jitter)
        .unwrap_or(schedule::DEFAULT_JITTER_FRACTION);
    let keep_pages = match (&args.keep_pages, &config.daemon.keep_pages) {
        (Some(t), _) => Some(schedule::parse_duration(t).map_err(|m| usage("--keep-pages", m))?),
        (None, Some(t)) => {
            Some(schedule::parse_duration(t).map_err(|m| usage("[daemon] keep_pages", m))?)
        }
        (None, None) => None,
    };
    if every < schedule::MIN_EVERY {
        return Err(usage(
            "--every",
            format!(
                "{every:?} is too short (at least {:?})",
                schedule::MIN_EVERY
            ),
        ));
    }
    if !(0.0..=0.9).contains(&jitter) {
        return Err(usage(
            "--jitter",
            format!("{jitter} is out of range (0 to 0.9)"),
        ));
    }
    if args.gone_after == 0 {
        return Err(usage("--gone-after", "must be at least 1".into()));
    }
    let grace =
        schedule::parse_duration(&args.shutdown_grace).map_err(|m| usage("--shutdown-grace", m))?;
    let listen: std::net::SocketAddr = args
        .listen
        .parse()
        .map_err(|e| usage("--listen", format!("`{}`: {e}", args.listen)))?;
    if !listen.ip().is_loopback() {
        if !args.allow_remote {
            return Err(usage(
                "--listen",
                format!("{listen} is not a loopback address: the endpoint can move cases; add --allow-remote to expose it anyway"),
            ));
        }
        tracing::warn!(%listen, "the endpoint is not on loopback (--allow-remote): anyone who can reach it and has the token can move cases; put TLS in front of it");
        eprintln!("knockoff daemon: warning: the endpoint listens on {listen}, not on loopback (--allow-remote); the token is all that protects /cases, and it travels without TLS");
    }
    if args.give_up_after == Some(0) {
        return Err(usage("--give-up-after", "must be at least 1".into()));
    }
    let watchlist = Watchlist::load(&args.watchlist)?;
    let calendar = crate::run::cases::load_calendar(args.holidays.as_deref())?;
    let source = match &args.replay {
        Some(dir) => {
            Recording::open(dir)?;
            PageSource::Replay(dir.clone())
        }
        None => PageSource::Live {
            config: Box::new(config),
            record: None,
        },
    };
    Ok(Start {
        every,
        jitter,
        keep_pages,
        grace,
        listen,
        watchlist,
        calendar,
        source,
    })
}

/// Runs the daemon until SIGINT/SIGTERM (or `--cycles`): checks its
/// arguments, takes the data folder, opens the endpoint, then runs cycles
/// on schedule.
pub async fn run(args: DaemonArgs) -> CliResult {
    let Start {
        every,
        jitter,
        keep_pages,
        grace,
        listen,
        watchlist,
        calendar,
        source,
    } = start(&args)?;

    // Signal handlers are installed before the lock file names the
    // endpoint: whoever sees the endpoint may already stop us with SIGTERM.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signals = wait_for_signal();
    tokio::spawn(async move {
        signals.await;
        let _ = stop_tx.send(true);
    });
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut lock = lock::DataLock::acquire(&args.data, clock.now())?;
    if let Some(old) = &lock.took_over {
        tracing::warn!(holder = %old, "took over the lock of a daemon that is gone");
    }
    let token = access::load_or_create_token(&args.data)?;
    let daemon = Arc::new(Daemon::open(
        &args.data,
        DaemonSettings {
            watchlist,
            source,
            gone_after: args.gone_after,
            calendar,
        },
        clock,
    )?);
    let server = serve(&daemon, &args, listen, &token, &mut lock, stop_rx.clone()).await?;
    tracing::info!(data = %args.data.display(), every = ?every, "daemon started");

    let end = run_cycles(
        &daemon,
        Schedule {
            every,
            jitter,
            keep_pages,
            grace,
            cycles: args.cycles,
            give_up_after: args.give_up_after,
        },
        stop_rx,
    )
    .await;
    tracing::info!("stopping: flushing the store");
    daemon.store.flush()?;
    server.abort();
    drop(lock);
    eprintln!("knockoff daemon: stopped");
    // A run that ends on a failed cycle (`--cycles` used up, or
    // `--give-up-after`) failed: a monitor or cron must see it. A stop by
    // signal is a clean stop whatever the last cycle did (/healthz told).
    if (end.ran_out || end.gave_up) && end.failed_in_a_row > 0 {
        eprintln!(
            "error: the daemon's last {} cycle(s) failed; the last error: {}",
            end.failed_in_a_row,
            end.last_error.as_deref().unwrap_or("(unknown)")
        );
        return Ok(ExitCode::Failure);
    }
    if end.abandoned {
        // The abandoned cycle may be inside CPU-bound work that does not
        // yield, and the runtime would wait for it on the way out. Nothing
        // it writes from now on matters: the checkpoint still says
        // `running`, so the next start runs that cycle again.
        std::process::exit(ExitCode::Ok as i32);
    }
    Ok(ExitCode::Ok)
}

/// Binds the endpoint (API, desk, metrics), names it in the lock file,
/// says where it is, and serves it until a stop.
async fn serve(
    daemon: &Arc<Daemon>,
    args: &DaemonArgs,
    listen: std::net::SocketAddr,
    token: &str,
    lock: &mut lock::DataLock,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Other(format!("--listen {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Other(format!("--listen {listen}: {e}")))?;
    lock.set_listen(&bound.to_string())?;
    tracing::info!(endpoint = %bound, "endpoint open");
    let token_file = access::token_path(&args.data);
    // The token itself only on a terminal: logs (journald, files) are
    // read by more people than the data folder's owner.
    let token_shown = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        format!("token {token} (from {})", token_file.display())
    } else {
        format!("token in {}", token_file.display())
    };
    eprintln!(
        "knockoff daemon: watching {} in {}; endpoint http://{bound}/ ({token_shown}), the analyst's desk at the same address; metrics at http://{bound}/metrics",
        daemon.settings.watchlist.brand.name,
        args.data.display()
    );
    let app = daemon.router(access::Access::new(token, bound, &args.listen));
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    }))
}

/// When cycles run and when the daemon stops running them.
struct Schedule {
    every: Duration,
    jitter: f64,
    /// Retention: captures older than this lose their bytes (not evidence).
    keep_pages: Option<Duration>,
    /// How long a stop waits for the cycle in flight.
    grace: Duration,
    /// `--cycles`: stop after this many.
    cycles: Option<u64>,
    /// `--give-up-after`: stop after this many failed cycles in a row.
    give_up_after: Option<u64>,
}

/// How the cycles ended.
#[derive(Debug, Default)]
struct CyclesEnd {
    failed_in_a_row: u64,
    last_error: Option<String>,
    /// `--cycles` were all run.
    ran_out: bool,
    /// `--give-up-after` failed cycles in a row.
    gave_up: bool,
    /// A stop came and the cycle in flight passed the grace limit.
    abandoned: bool,
}

/// Runs a cycle, waits the jittered interval, and again, until a stop,
/// `--cycles` or `--give-up-after`. A stop lets the cycle in flight
/// finish within the grace limit.
async fn run_cycles(
    daemon: &Arc<Daemon>,
    schedule: Schedule,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> CyclesEnd {
    let mut end = CyclesEnd::default();
    let mut done_cycles = 0u64;
    let mut pruned_at: Option<Instant> = None;
    let all_done = |done: u64| schedule.cycles.is_some_and(|n| done >= n);
    loop {
        if all_done(done_cycles) || *stop.borrow() {
            break;
        }
        // The cycle runs as its own task: much of it is CPU-bound (photo
        // hashing, store writes), and a stop must be seen while it runs.
        let d = daemon.clone();
        let mut cycle = tokio::spawn(async move { d.cycle().await });
        let finished = tokio::select! {
            r = &mut cycle => r,
            _ = stop.wait_for(|s| *s) => {
                tracing::info!(grace = ?schedule.grace, "stop asked: letting the cycle in flight finish");
                if tokio::time::timeout(schedule.grace, &mut cycle).await.is_err() {
                    tracing::warn!(
                        "cycle abandoned at the grace limit; it runs again at the next start"
                    );
                    cycle.abort();
                    end.abandoned = true;
                }
                break;
            }
        };
        match finished {
            Ok(Ok(_)) => {
                end.failed_in_a_row = 0;
                end.last_error = None;
                if let Some(keep) = schedule.keep_pages {
                    if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                        pruned_at = Some(Instant::now());
                        daemon.prune(keep).await;
                    }
                }
            }
            Ok(Err(e)) => {
                end.failed_in_a_row += 1;
                end.last_error = Some(e.to_string());
            }
            Err(e) => {
                end.failed_in_a_row += 1;
                end.last_error = Some(format!("the cycle task ended abnormally: {e}"));
            }
        }
        done_cycles += 1;
        if all_done(done_cycles) {
            break;
        }
        if schedule
            .give_up_after
            .is_some_and(|n| end.failed_in_a_row >= n)
        {
            tracing::error!(
                failed = end.failed_in_a_row,
                "giving up: every one of the last cycles failed"
            );
            end.gave_up = true;
            break;
        }
        let wait = schedule::jittered(schedule.every, schedule.jitter, rand::random::<f64>());
        tracing::info!(wait = ?wait, "next cycle scheduled");
        let stopped = tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        if stopped {
            break;
        }
    }
    end.ran_out = all_done(done_cycles);
    end
}

/// Installs the SIGINT/SIGTERM handlers now (not at the first poll) and
/// returns a future that completes at the first of them.
fn wait_for_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
