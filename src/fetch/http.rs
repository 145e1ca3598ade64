//! The live fetcher: reqwest (rustls) behind the [`Fetcher`] seam, polite
//! by construction.
//!
//! Every request goes through its host's `Host` state, in this order:
//! back-off check → robots.txt (fetched once per host, RFC 9309) → the
//! host's semaphore (per-host concurrency) → any `Retry-After` still being
//! waited out → the host's GCRA limiter (governor, burst 1, so not even the
//! first second exceeds the rate; robots.txt `Crawl-delay` slows it) → the
//! global semaphore → one HTTP attempt with connect/read/whole-request
//! timeouts and body caps counted on the bytes received as they stream,
//! then on the decoded bytes.
//!
//! The body is kept as received (`Content-Encoding` and all) for the WARC
//! evidence and decoded here (gzip, bounded by the same cap, so a gzip bomb
//! is stopped); every request header is set here, so each hop's
//! [`Exchange`] holds the headers actually sent.
//!
//! Connection errors, timeouts, 408, 429 and 5xx are retried with
//! exponential backoff and jitter. `Retry-After` on a 429 or 503 (seconds
//! or HTTP date, capped at `max_retry_after`) pauses the whole host: every
//! request to it waits, checked again right before it is sent.
//!
//! A refusal (429, 503, or a block page at 200 as
//! [`marketplaces::classify_page`] sees it, the same judgement a scan
//! makes) halves the host's rate, down to [`MAX_SLOWDOWN`] times slower;
//! [`RECOVER_AFTER_SUCCESSES`] good answers in a row double it again. A
//! host is given up for the rest of the run only when it has refused
//! everything for `give_up_after` or served `give_up_block_pages` block
//! pages in a row; later requests then fail at once with
//! [`FetchError::HostBackedOff`], and [`HostStats`] names the pages that
//! were refused.
//!
//! Hosts are keyed by platform when a URL lies under a configured platform
//! base (so one loopback mock can stand in for several platforms, each with
//! its own limits). Any other host, including a host carried as a path
//! segment under a base (`/tmall/img.alicdn.com/...`, how a mock serves
//! photos), is a host of its own, keyed by its real name: photo CDN hosts
//! get `photo_requests_per_second`, other hosts of a platform that
//! platform's rate.

use super::{Capture, Exchange, FetchError, Fetcher, ResourceKind};
use crate::marketplaces::{self, block};
use crate::model::config::{BaseUrl, Config, MAX_SLOWDOWN, RECOVER_AFTER_SUCCESSES};
use crate::model::listing::Platform;
use chrono::Utc;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

/// The product token matched against robots.txt `User-agent` lines.
pub const ROBOTS_AGENT: &str = "knockoff";

/// Domains (and every host under them) that serve the platforms' listing
/// photos and static files. With the platforms' own domains
/// ([`Platform::from_host`]) they are the only hosts a redirect may lead
/// to and a listing photo may be fetched from (besides the configured base
/// URLs): see [`NetworkPolicy`].
pub const PHOTO_CDN_DOMAINS: &[&str] = &[
    "alicdn.com",
    "aliexpress-media.com",
    "tbcdn.cn",
    "taobaocdn.com",
    "aliimg.com",
    "alibabausercontent.com",
];

/// Is `host` a host of an Alibaba Group marketplace knockoff crawls, or of
/// one of their photo CDNs ([`PHOTO_CDN_DOMAINS`])? Host names only: an IP
/// literal is never one.
pub fn is_platform_or_cdn_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    Platform::from_host(&host).is_some()
        || PHOTO_CDN_DOMAINS
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// Why an address must not be fetched from, if it must not: loopback
/// (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), shared
/// (100.64/10), link-local (169.254/16 with the cloud metadata address
/// 169.254.169.254, fe80::/10), unspecified (0.0.0.0/8, ::), broadcast and
/// multicast; IPv4 inside IPv6 (`::ffff:a.b.c.d`, `64:ff9b::/96`) is
/// judged as the IPv4 address.
pub fn forbidden_ip(ip: std::net::IpAddr) -> Option<&'static str> {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4 == std::net::Ipv4Addr::new(169, 254, 169, 254) {
                Some("cloud metadata address")
            } else if o[0] == 127 {
                Some("loopback address")
            } else if o[0] == 0 {
                Some("unspecified address")
            } else if o[0] == 10
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
            {
                Some("private address")
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Some("shared (carrier-grade NAT) address")
            } else if o[0] == 169 && o[1] == 254 {
                Some("link-local address")
            } else if v4.is_broadcast() || v4.is_multicast() || o[0] >= 240 {
                Some("broadcast, multicast or reserved address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_ip(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return forbidden_ip(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            if v6.is_loopback() {
                Some("loopback address")
            } else if v6.is_unspecified() {
                Some("unspecified address")
            } else if (seg[0] & 0xfe00) == 0xfc00 {
                Some("private (unique local) address")
            } else if (seg[0] & 0xffc0) == 0xfe80 || (seg[0] & 0xffc0) == 0xfec0 {
                Some("link-local address")
            } else if v6.is_multicast() {
                Some("multicast address")
            } else {
                None
            }
        }
    }
}

/// Where the live fetcher may go. A URL is fetched only when it lies under
/// a configured platform base URL (a loopback mock included: the operator
/// chose it), or its host is a host of the platforms or their photo CDNs
/// ([`is_platform_or_cdn_host`]) that does not resolve to a loopback,
/// private, link-local or metadata address ([`forbidden_ip`]). It applies
/// to every hop of a redirect chain, so a page or photo answering `302` to
/// an internal service is refused before anything is sent there
/// ([`FetchError::Refused`]).
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    bases: Vec<BaseUrl>,
}

impl NetworkPolicy {
    pub fn new(bases: Vec<BaseUrl>) -> NetworkPolicy {
        NetworkPolicy { bases }
    }

    /// Why `url` may not be fetched, if it may not.
    pub fn refusal(&self, url: &Url) -> Option<String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Some(format!("scheme `{}` is not http(s)", url.scheme()));
        }
        if self.bases.iter().any(|b| b.contains(url)) {
            return None;
        }
        match url.host() {
            None => Some("no host".into()),
            Some(url::Host::Ipv4(ip)) => Some(ip_reason(ip.into())),
            Some(url::Host::Ipv6(ip)) => Some(ip_reason(ip.into())),
            Some(url::Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                if d == "localhost" || d.ends_with(".localhost") {
                    Some(format!(
                        "{d} is a loopback name and not a configured base URL"
                    ))
                } else if !is_platform_or_cdn_host(&d) {
                    Some(format!(
                        "{d} is not a host of the crawled platforms or their photo CDNs, nor a configured base URL"
                    ))
                } else {
                    None
                }
            }
        }
    }

    /// Host names of the configured bases: they may resolve to private
    /// addresses (a mock on `localhost`), no other name may.
    fn trusted_names(&self) -> std::collections::HashSet<String> {
        self.bases
            .iter()
            .filter_map(|b| b.configured.host_str())
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
            .collect()
    }
}

fn ip_reason(ip: std::net::IpAddr) -> String {
    match forbidden_ip(ip) {
        Some(why) => format!("{ip} is a {why} and not a configured base URL"),
        None => format!(
            "{ip} is an IP address, not a host of the crawled platforms or their photo CDNs"
        ),
    }
}

/// A name the [`PolicyResolver`] refused to resolve to a forbidden address.
#[derive(Debug)]
struct PolicyRefusal(String);

impl std::fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyRefusal {}

/// The client's DNS resolver: the system's, then every answer is checked,
/// so a platform or CDN host name that resolves to a loopback, private,
/// link-local or metadata address is refused at connect time (a checked
/// name cannot be re-resolved to somewhere else between check and
/// connect). Names of configured bases are trusted.
struct PolicyResolver {
    trusted: std::collections::HashSet<String>,
}

impl PolicyResolver {
    async fn lookup(
        trusted: bool,
        host: String,
    ) -> Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let addrs: Vec<std::net::SocketAddr> =
            tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
        if !trusted {
            if let Some((ip, why)) = addrs
                .iter()
                .find_map(|a| forbidden_ip(a.ip()).map(|w| (a.ip(), w)))
            {
                return Err(Box::new(PolicyRefusal(format!(
                    "{host} resolves to {ip}, a {why}"
                ))));
            }
        }
        Ok(addrs)
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let trusted = self.trusted.contains(&host);
        Box::pin(async move {
            let addrs = PolicyResolver::lookup(trusted, host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The policy refusal behind a failed send, if that is why it failed.
fn policy_refusal(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<PolicyRefusal>() {
            return Some(r.0.clone());
        }
        source = s.source();
    }
    None
}

/// Everything the live fetcher needs; [`HttpSettings::from_config`] builds
/// it from a [`Config`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub timeout: Duration,
    /// Per host, unless a [`HostRule`] says otherwise.
    pub requests_per_second: f64,
    pub concurrency: usize,
    pub concurrency_per_host: usize,
    pub max_page_bytes: u64,
    pub max_image_bytes: u64,
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_retry_after: Duration,
    pub max_redirects: usize,
    /// A host that refused everything for this long is given up.
    pub give_up_after: Duration,
    /// A host that served this many block pages in a row is given up.
    pub give_up_block_pages: u32,
    /// Per photo CDN host.
    pub photo_requests_per_second: f64,
    pub obey_robots: bool,
    /// Platform hosts with their own key and limits.
    pub hosts: Vec<HostRule>,
}

/// A configured platform base: URLs under it share one host key, limiter,
/// semaphore and robots.txt (fetched at `<base>/robots.txt`).
#[derive(Debug, Clone)]
pub struct HostRule {
    pub key: String,
    pub base: BaseUrl,
    pub requests_per_second: f64,
    pub concurrency: usize,
}

impl HttpSettings {
    /// Settings from a config: one [`HostRule`] per platform, at its
    /// configured (or real) base URL.
    pub fn from_config(config: &Config) -> HttpSettings {
        let c = &config.crawl;
        HttpSettings {
            user_agent: c.user_agent.clone(),
            connect_timeout: Duration::from_secs(c.connect_timeout_secs),
            read_timeout: Duration::from_secs(c.read_timeout_secs),
            timeout: Duration::from_secs(c.timeout_secs),
            requests_per_second: c.requests_per_second,
            concurrency: c.concurrency,
            concurrency_per_host: c.concurrency_per_host,
            max_page_bytes: c.max_page_bytes,
            max_image_bytes: c.max_image_bytes,
            max_retries: c.max_retries,
            backoff_base: Duration::from_millis(c.backoff_base_millis),
            backoff_max: Duration::from_secs(c.backoff_max_secs),
            max_retry_after: Duration::from_secs(c.max_retry_after_secs),
            max_redirects: c.max_redirects,
            give_up_after: Duration::from_secs(c.give_up_after_refusing_secs),
            give_up_block_pages: c.give_up_after_block_pages,
            photo_requests_per_second: c.photo_requests_per_second,
            obey_robots: c.obey_robots,
            hosts: Platform::ALL
                .into_iter()
                .map(|p| HostRule {
                    key: p.as_str().to_string(),
                    base: config.base_url(p),
                    requests_per_second: config.requests_per_second(p),
                    concurrency: config.concurrency_per_host(p),
                })
                .collect(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings::from_config(&Config::default())
    }
}

/// What happened on one host during the run: for the summary and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HostStats {
    /// Responses received (any status), after retries.
    pub fetched: u64,
    /// Requests that ended without a usable response, or with an error
    /// status after all retries.
    pub failed: u64,
    /// Attempts repeated after an error, timeout, 408, 429 or 5xx.
    pub retried: u64,
    /// Block pages (captcha, punish, login wall) and 429 answers.
    pub blocked: u64,
    /// URLs robots.txt disallowed.
    pub disallowed: u64,
    /// Body bytes received (decompressed).
    pub bytes: u64,
    /// Times the host's rate was halved after a refusal.
    pub slowed: u64,
    /// The slowest the host was asked at, as a fraction of its configured
    /// rate (1 = never slowed).
    pub slowest_rate_fraction: f64,
    /// Longest single pause a `Retry-After` imposed on the host, seconds.
    pub longest_pause_secs: f64,
    /// Why the host was left alone for the rest of the run, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backed_off: Option<String>,
    /// The refused pages of the refusal streak that made the host be
    /// given up (the last [`MAX_REFUSED_URLS`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_urls: Vec<String>,
}

/// Refused URLs kept per host for the summary.
pub const MAX_REFUSED_URLS: usize = 10;

impl Default for HostStats {
    fn default() -> Self {
        HostStats {
            fetched: 0,
            failed: 0,
            retried: 0,
            blocked: 0,
            disallowed: 0,
            bytes: 0,
            slowed: 0,
            slowest_rate_fraction: 1.0,
            longest_pause_secs: 0.0,
            backed_off: None,
            refused_urls: Vec::new(),
        }
    }
}

/// robots.txt as fetched for a host.
enum Robots {
    /// No rules (404 and other 4xx: RFC 9309 says crawl freely).
    AllowAll,
    /// Unreachable (5xx, network error): RFC 9309 says assume disallow.
    DisallowAll(String),
    Rules(Box<texting_robots::Robot>),
}

/// One host's politeness state.
struct Host {
    key: String,
    base: Option<BaseUrl>,
    robots_url: Option<Url>,
    /// One request per this long when not slowed (robots.txt
    /// Crawl-delay may lengthen it).
    period: Mutex<Duration>,
    limiter: Mutex<Arc<DefaultDirectRateLimiter>>,
    semaphore: Semaphore,
    robots: OnceCell<Robots>,
    not_before: Mutex<Option<Instant>>,
    /// How many times slower than `period` the host is asked now.
    pace: Mutex<Pace>,
    /// When the last request to this host went out.
    last_send: Mutex<Option<Instant>>,
    /// The refusals since the last good answer.
    streak: Mutex<Streak>,
    stats: Mutex<HostStats>,
}

/// A host's current slow-down.
#[derive(Debug)]
struct Pace {
    /// 1, 2, 4, ... up to [`MAX_SLOWDOWN`].
    slowdown: u32,
    /// Good answers since the last change.
    successes: u32,
}

/// Refusals since the last good answer.
#[derive(Debug, Default)]
struct Streak {
    since: Option<Instant>,
    refusals: u32,
    block_pages: u32,
    urls: Vec<String>,
}

/// What a refusal was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// 429 or 503.
    Status(u16),
    /// A block page (captcha, punish, login wall).
    BlockPage,
}

impl Host {
    fn stats(&self) -> std::sync::MutexGuard<'_, HostStats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn backed_off(&self) -> Option<String> {
        self.stats().backed_off.clone()
    }

    fn back_off(&self, reason: String) {
        let mut s = self.stats();
        if s.backed_off.is_none() {
            tracing::warn!(host = %self.key, %reason, "host backed off for the rest of the run");
            s.backed_off = Some(reason);
        }
    }

    fn limiter(&self) -> Arc<DefaultDirectRateLimiter> {
        self.limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Slows the limiter to one request per `delay` (robots.txt
    /// Crawl-delay). The replacement starts with its cell taken, because
    /// the robots.txt request itself just went out.
    fn slow_down(&self, delay: Duration) {
        {
            let mut period = self.period.lock().unwrap_or_else(|e| e.into_inner());
            if delay <= *period {
                return;
            }
            *period = delay;
        }
        let slowdown = self.pace.lock().unwrap_or_else(|e| e.into_inner()).slowdown;
        self.set_slowdown(slowdown);
        tracing::info!(host = %self.key, delay_secs = delay.as_secs_f64(), "robots.txt crawl-delay applied");
    }

    fn wait_until(&self) -> Option<Instant> {
        let nb = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        nb.filter(|t| *t > Instant::now())
    }

    /// Claims the right to send now: `None` when at least the host's
    /// current period (its rate, slowed as it is) has passed since the
    /// last send (which becomes now), else how long is left.
    fn claim_send(&self) -> Option<Duration> {
        let slowdown = self.pace.lock().unwrap_or_else(|e| e.into_inner()).slowdown;
        let period = *self.period.lock().unwrap_or_else(|e| e.into_inner()) * slowdown;
        let mut last = self.last_send.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(t) = *last {
            let next = t + period;
            if next > now {
                return Some(next - now);
            }
        }
        *last = Some(now);
        None
    }

    /// Pauses the whole host until `now + wait` (Retry-After).
    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut nb = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
        drop(nb);
        let mut s = self.stats();
        s.longest_pause_secs = s.longest_pause_secs.max(wait.as_secs_f64());
    }

    /// Installs a limiter at `period × slowdown`, its first cell taken (a
    /// request just went out).
    fn set_slowdown(&self, slowdown: u32) {
        let period = *self.period.lock().unwrap_or_else(|e| e.into_inner());
        let limiter = Arc::new(limiter_for(period * slowdown));
        let _ = limiter.check();
        *self.limiter.lock().unwrap_or_else(|e| e.into_inner()) = limiter;
    }

    /// Records a refusal: halves the rate, and gives the host up when the
    /// streak is over budget. Returns the reason when it gave up.
    fn refused(&self, url: &Url, what: Refusal, settings: &HttpSettings) -> Option<String> {
        {
            let mut pace = self.pace.lock().unwrap_or_else(|e| e.into_inner());
            pace.successes = 0;
            if pace.slowdown < MAX_SLOWDOWN {
                pace.slowdown = (pace.slowdown * 2).min(MAX_SLOWDOWN);
                self.set_slowdown(pace.slowdown);
                let mut s = self.stats();
                s.slowed += 1;
                s.slowest_rate_fraction = s.slowest_rate_fraction.min(1.0 / pace.slowdown as f64);
                tracing::info!(host = %self.key, slowdown = pace.slowdown, "refused: host slowed down");
            }
        }
        let mut streak = self.streak.lock().unwrap_or_else(|e| e.into_inner());
        let since = *streak.since.get_or_insert_with(Instant::now);
        streak.refusals += 1;
        if what == Refusal::BlockPage {
            streak.block_pages += 1;
        }
        if streak.urls.len() >= MAX_REFUSED_URLS {
            streak.urls.remove(0);
        }
        streak.urls.push(url.to_string());
        let reason = if streak.block_pages >= settings.give_up_block_pages {
            Some(format!("{} block pages in a row", streak.block_pages))
        } else if since.elapsed() >= settings.give_up_after {
            Some(format!(
                "refused everything for {} s ({} refusals, last: {})",
                since.elapsed().as_secs(),
                streak.refusals,
                match what {
                    Refusal::Status(s) => format!("HTTP {s}"),
                    Refusal::BlockPage => "a block page".to_string(),
                }
            ))
        } else {
            None
        };
        if let Some(reason) = &reason {
            let urls = streak.urls.clone();
            drop(streak);
            self.stats().refused_urls = urls;
            self.back_off(reason.clone());
        }
        reason
    }

    /// Records a good answer: ends the refusal streak and, after enough of
    /// them, doubles a slowed host's rate again.
    fn answered(&self) {
        *self.streak.lock().unwrap_or_else(|e| e.into_inner()) = Streak::default();
        let mut pace = self.pace.lock().unwrap_or_else(|e| e.into_inner());
        if pace.slowdown > 1 {
            pace.successes += 1;
            if pace.successes >= RECOVER_AFTER_SUCCESSES {
                pace.successes = 0;
                pace.slowdown /= 2;
                self.set_slowdown(pace.slowdown);
                tracing::info!(host = %self.key, slowdown = pace.slowdown, "host recovering");
            }
        }
    }

    /// The URL as robots rules and block detection should see it: the real
    /// marketplace URL when the base is a stand-in.
    fn real_url(&self, url: &Url) -> Url {
        match &self.base {
            Some(b) => b.to_real(url),
            None => url.clone(),
        }
    }
}

/// A host's identity and limits, worked out from a URL.
struct HostPlan {
    key: String,
    base: Option<BaseUrl>,
    robots_url: Option<Url>,
    rps: f64,
    concurrency: usize,
}

fn limiter_for(period: Duration) -> DefaultDirectRateLimiter {
    let period = period.max(Duration::from_micros(1));
    let quota = Quota::with_period(period)
        .expect("period is non-zero")
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

/// One HTTP response, body read under its cap.
struct RawResponse {
    status: u16,
    headers: HeaderMap,
    /// Decoded (`Content-Encoding` undone).
    body: Vec<u8>,
    /// As received, when a content coding was undone (else `body`).
    wire: Option<Vec<u8>>,
    /// What was sent and received, `wire_body` not yet filled in.
    exchange: Exchange,
}

/// Why one attempt failed.
enum AttemptError {
    /// Worth retrying: connection refused/reset, timeout, broken body.
    Transient(String),
    /// Not worth retrying.
    Fatal(FetchError),
}

/// The live HTTP fetcher. Cheap to share behind an `Arc`.
pub struct HttpFetcher {
    client: reqwest::Client,
    user_agent: reqwest::header::HeaderValue,
    settings: HttpSettings,
    policy: NetworkPolicy,
    global: Semaphore,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl HttpFetcher {
    /// Builds the client. Fails only if the TLS backend cannot start.
    pub fn new(settings: HttpSettings) -> Result<HttpFetcher, FetchError> {
        let policy = NetworkPolicy::new(settings.hosts.iter().map(|r| r.base.clone()).collect());
        let user_agent =
            reqwest::header::HeaderValue::from_str(&settings.user_agent).map_err(|e| {
                FetchError::Invalid {
                    url: String::new(),
                    message: format!(
                        "user agent `{}` is not a valid header value: {e}",
                        settings.user_agent
                    ),
                }
            })?;
        let client = reqwest::Client::builder()
            .dns_resolver(PolicyResolver {
                trusted: policy.trusted_names(),
            })
            // Nothing decoded or added behind our back: the body is kept
            // as received (WARC evidence) and decoded here, under the cap.
            .no_gzip()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.timeout)
            // Redirects are followed by hand, so each hop is rate limited,
            // checked against robots.txt and kept in the chain.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Invalid {
                url: String::new(),
                message: format!("cannot build HTTP client: {e}"),
            })?;
        Ok(HttpFetcher {
            client,
            user_agent,
            policy,
            global: Semaphore::new(settings.concurrency.max(1)),
            settings,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// A fetcher for a config file's settings.
    pub fn from_config(config: &Config) -> Result<HttpFetcher, FetchError> {
        HttpFetcher::new(HttpSettings::from_config(config))
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Per-host statistics so far, by host key.
    pub fn stats(&self) -> BTreeMap<String, HostStats> {
        let hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .values()
            .map(|h| (h.key.clone(), h.stats().clone()))
            .collect()
    }

    /// The host key a URL is limited under: a platform name when the URL
    /// lies under that platform's base (its search host), else the real
    /// host's `host:port` (photo CDN hosts and other hosts carried as a
    /// path segment under a base included).
    pub fn host_key(&self, url: &Url) -> String {
        self.host_plan(url).key
    }

    fn rule_for(&self, url: &Url) -> Option<&HostRule> {
        self.settings
            .hosts
            .iter()
            .filter(|r| r.base.contains(url))
            .max_by_key(|r| r.base.configured.path().len())
    }

    /// Which host a URL belongs to, and that host's limits.
    fn host_plan(&self, url: &Url) -> HostPlan {
        let rule = self.rule_for(url);
        let real = rule.map_or_else(|| url.clone(), |r| r.base.to_real(url));
        let segment = rule.and_then(|r| {
            let prefix = r.base.configured.path().trim_end_matches('/');
            crate::model::config::split_host_segment(
                &url.path()[prefix.len().min(url.path().len())..],
            )
            .map(|(host, _)| (r, host.to_ascii_lowercase()))
        });
        let robots_under = |r: &HostRule, tail: &str| {
            let prefix = r.base.configured.path().trim_end_matches('/');
            r.base
                .configured
                .join(&format!("{prefix}{tail}/robots.txt"))
                .ok()
        };
        let platform_rule = |p: Platform| self.settings.hosts.iter().find(|r| r.base.platform == p);
        match (rule, segment) {
            // Another host carried under a base: its own host.
            (Some(r), Some((_, host))) => {
                let platform = Platform::from_host(&host);
                HostPlan {
                    key: host.clone(),
                    base: Some(r.base.clone()),
                    robots_url: robots_under(r, &format!("/{host}")),
                    rps: match platform.and_then(platform_rule) {
                        Some(pr) => pr.requests_per_second,
                        None => self.settings.photo_requests_per_second,
                    },
                    concurrency: platform
                        .and_then(platform_rule)
                        .map_or(self.settings.concurrency_per_host, |pr| pr.concurrency),
                }
            }
            (Some(r), None) => HostPlan {
                key: r.key.clone(),
                base: Some(r.base.clone()),
                robots_url: robots_under(r, ""),
                rps: r.requests_per_second,
                concurrency: r.concurrency,
            },
            (None, _) => {
                let platform = real.host_str().and_then(Platform::from_host);
                HostPlan {
                    key: authority(url),
                    base: None,
                    robots_url: url.join("/robots.txt").ok(),
                    rps: match platform.and_then(platform_rule) {
                        Some(pr) => pr.requests_per_second,
                        None => self.settings.photo_requests_per_second,
                    },
                    concurrency: platform
                        .and_then(platform_rule)
                        .map_or(self.settings.concurrency_per_host, |pr| pr.concurrency),
                }
            }
        }
    }

    fn host_for(&self, url: &Url) -> Arc<Host> {
        let plan = self.host_plan(url);
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(plan.key.clone())
            .or_insert_with(|| {
                let period = Duration::from_secs_f64(1.0 / plan.rps.max(1e-6));
                Arc::new(Host {
                    key: plan.key,
                    base: plan.base,
                    robots_url: plan.robots_url,
                    period: Mutex::new(period),
                    limiter: Mutex::new(Arc::new(limiter_for(period))),
                    semaphore: Semaphore::new(plan.concurrency.max(1)),
                    robots: OnceCell::new(),
                    not_before: Mutex::new(None),
                    last_send: Mutex::new(None),
                    pace: Mutex::new(Pace {
                        slowdown: 1,
                        successes: 0,
                    }),
                    streak: Mutex::new(Streak::default()),
                    stats: Mutex::new(HostStats::default()),
                })
            })
            .clone()
    }

    /// The real marketplace URL a fetched URL stands for.
    fn real_of(&self, url: &Url) -> Url {
        self.rule_for(url)
            .map_or_else(|| url.clone(), |r| r.base.to_real(url))
    }

    /// robots.txt for a host, fetched once, on first use (concurrent first
    /// requests wait for the same fetch).
    async fn robots<'a>(&'a self, host: &'a Arc<Host>) -> &'a Robots {
        host.robots
            .get_or_init(|| async {
                let Some(url) = host.robots_url.clone() else {
                    return Robots::AllowAll;
                };
                match self.request(host, &url, ResourceKind::Page).await {
                    Ok(r) if (200..300).contains(&r.status) => {
                        match texting_robots::Robot::new(ROBOTS_AGENT, &r.body) {
                            Ok(robot) => {
                                if let Some(delay) =
                                    robot.delay.filter(|d| d.is_finite() && *d > 0.0)
                                {
                                    host.slow_down(Duration::from_secs_f32(delay.min(3600.0)));
                                }
                                Robots::Rules(Box::new(robot))
                            }
                            Err(_) => Robots::AllowAll,
                        }
                    }
                    Ok(r) if (400..500).contains(&r.status) && r.status != 429 => Robots::AllowAll,
                    Ok(r) => Robots::DisallowAll(format!("robots.txt answered {}", r.status)),
                    Err(e) => Robots::DisallowAll(format!("robots.txt unreachable: {e}")),
                }
            })
            .await
    }

    /// One URL, without following redirects: robots, politeness, retries.
    async fn fetch_hop(&self, url: &Url, kind: ResourceKind) -> Result<RawResponse, FetchError> {
        let host = self.host_for(url);
        if let Some(reason) = host.backed_off() {
            return Err(backed_off(url, &host, reason));
        }
        if self.settings.obey_robots {
            let allowed = match self.robots(&host).await {
                Robots::AllowAll => true,
                Robots::DisallowAll(reason) => {
                    tracing::debug!(host = %host.key, url = %url, %reason, "robots.txt unavailable: not crawling");
                    false
                }
                Robots::Rules(robot) => {
                    let real = host.real_url(url);
                    let path = match real.query() {
                        Some(q) => format!("{}?{q}", real.path()),
                        None => real.path().to_string(),
                    };
                    robot.allowed(&path)
                }
            };
            if !allowed {
                host.stats().disallowed += 1;
                return Err(FetchError::Disallowed {
                    url: url.to_string(),
                });
            }
        }
        let raw = self.request(&host, url, kind).await?;
        let refusal = matches!(raw.status, 429 | 503);
        let redirect = (300..400).contains(&raw.status);
        // A page at 2xx is judged after its redirects, in `fetch`: it may
        // be a block page, which must not end a run of refusals.
        let judged_later = kind == ResourceKind::Page && (200..300).contains(&raw.status);
        if !refusal && !redirect && !judged_later {
            host.answered();
        }
        Ok(raw)
    }

    /// Judges a fetched page at 2xx the way a scan will
    /// ([`marketplaces::classify_page`]): a block page counts as a
    /// refusal of the host first asked, anything else as a good answer.
    /// The page itself is returned either way: it is evidence, and the scan
    /// reports it as blocked.
    fn judge_page(
        &self,
        asked: &Url,
        final_url: &Url,
        raw: &RawResponse,
    ) -> Result<(), FetchError> {
        let host = self.host_for(asked);
        let content_type = raw.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_text = content_type.is_none_or(|ct| ct.contains("html") || ct.starts_with("text/"));
        if !is_text {
            host.answered();
            return Ok(());
        }
        let real_asked = self.real_of(asked);
        let real_final = self.real_of(final_url);
        let facts = block::ResponseFacts {
            final_url: (real_final != real_asked).then_some(&real_final),
            status: Some(raw.status),
        };
        match marketplaces::classify_page(&real_asked, &raw.body, content_type, facts) {
            Some(hit) => {
                host.stats().blocked += 1;
                tracing::warn!(host = %host.key, url = %asked, marker = %hit.marker, found_in = ?hit.found_in, "block page");
                host.refused(asked, Refusal::BlockPage, &self.settings);
            }
            None => host.answered(),
        }
        Ok(())
    }

    /// Sends one request to a host with retries; holds the host's
    /// semaphore throughout so a host in trouble is not piled onto.
    async fn request(
        &self,
        host: &Arc<Host>,
        url: &Url,
        kind: ResourceKind,
    ) -> Result<RawResponse, FetchError> {
        let _host_permit = host.semaphore.acquire().await.map_err(|_| closed(url))?;
        let max_retries = self.settings.max_retries;
        let mut attempt = 0u32;
        loop {
            if let Some(reason) = host.backed_off() {
                return Err(backed_off(url, host, reason));
            }
            // Wait out a pause, take a cell of the (possibly slowed)
            // limiter and a global permit, then look at the pause again: a
            // Retry-After may have come in while this request waited, and
            // it binds every request not yet sent.
            let global = loop {
                if let Some(until) = host.wait_until() {
                    tokio::time::sleep_until(until.into()).await;
                }
                host.limiter().until_ready().await;
                let permit = self.global.acquire().await.map_err(|_| closed(url))?;
                if host.wait_until().is_some() {
                    continue;
                }
                // The limiter spaced the grants; a task scheduled late
                // could still send right behind the next one. The send
                // itself is spaced here, as the server sees it.
                match host.claim_send() {
                    None => break permit,
                    Some(wait) => {
                        drop(permit);
                        tokio::time::sleep(wait).await;
                    }
                }
            };
            let outcome = self.attempt(url, kind).await;
            drop(global);
            let retry_in = match outcome {
                Err(AttemptError::Fatal(e)) => {
                    host.stats().failed += 1;
                    return Err(e);
                }
                Err(AttemptError::Transient(message)) => {
                    if attempt >= max_retries {
                        host.stats().failed += 1;
                        return Err(FetchError::Network {
                            url: url.to_string(),
                            message: format!("{message} (after {} attempts)", attempt + 1),
                        });
                    }
                    tracing::debug!(host = %host.key, url = %url, %message, attempt, "retrying");
                    self.backoff(attempt)
                }
                Ok(raw) => {
                    let status = raw.status;
                    let retryable = matches!(status, 408 | 429) || (500..600).contains(&status);
                    let asked_to_wait = if retryable {
                        retry_after(&raw.headers, SystemTime::now())
                    } else {
                        None
                    };
                    if let Some(wait) = asked_to_wait {
                        // Every request to this host waits, not just this
                        // one; a longer wait than the cap is cut to it.
                        let wait = wait.min(self.settings.max_retry_after);
                        tracing::info!(host = %host.key, url = %url, status, wait_secs = wait.as_secs_f64(), "Retry-After: host paused");
                        host.pause(wait);
                    }
                    if matches!(status, 429 | 503) {
                        host.stats().blocked += 1;
                        if let Some(reason) =
                            host.refused(url, Refusal::Status(status), &self.settings)
                        {
                            host.stats().failed += 1;
                            return Err(backed_off(url, host, reason));
                        }
                    }
                    {
                        let mut s = host.stats();
                        s.bytes += raw.body.len() as u64;
                        if !retryable || attempt >= max_retries {
                            s.fetched += 1;
                            if retryable {
                                s.failed += 1;
                            }
                        }
                    }
                    if !retryable || attempt >= max_retries {
                        return Ok(raw);
                    }
                    if asked_to_wait.is_some() {
                        Duration::ZERO
                    } else {
                        self.backoff(attempt)
                    }
                }
            };
            host.stats().retried += 1;
            attempt += 1;
            if !retry_in.is_zero() {
                tokio::time::sleep(retry_in).await;
            }
        }
    }

    /// Exponential backoff with jitter: base·2^attempt, capped, then a
    /// random point in its upper half (so retries from many tasks spread).
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.backoff_base.as_secs_f64();
        let full =
            (base * 2f64.powi(attempt.min(20) as i32)).min(self.settings.backoff_max.as_secs_f64());
        let jitter: f64 = rand::random::<f64>();
        Duration::from_secs_f64(full * (0.5 + 0.5 * jitter))
    }

    /// One HTTP attempt: status, headers and the body under its cap, as
    /// received and decoded (each within the cap).
    async fn attempt(&self, url: &Url, kind: ResourceKind) -> Result<RawResponse, AttemptError> {
        let limit = match kind {
            ResourceKind::Page => self.settings.max_page_bytes,
            ResourceKind::Image => self.settings.max_image_bytes,
        };
        let accept = match kind {
            ResourceKind::Page => "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ResourceKind::Image => {
                "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5"
            }
        };
        let request = self.request_for(url, accept).map_err(AttemptError::Fatal)?;
        let request_line = request_line(url);
        let request_headers = header_pairs(request.headers());
        let work =
            async {
                let sent_at = Utc::now();
                let mut resp =
                    self.client
                        .execute(request)
                        .await
                        .map_err(|e| match policy_refusal(&e) {
                            Some(reason) => AttemptError::Fatal(FetchError::Refused {
                                url: url.to_string(),
                                reason,
                            }),
                            None => AttemptError::Transient(describe(&e)),
                        })?;
                // The status line and headers are in: the first bytes of the
                // response, the time its WARC record carries.
                let received_at = Utc::now();
                let remote_ip = resp.remote_addr().map(|a| a.ip().to_string());
                let status = resp.status().as_u16();
                let version = format!("{:?}", resp.version());
                let headers = resp.headers().clone();
                let too_large = || {
                    AttemptError::Fatal(FetchError::TooLarge {
                        url: url.to_string(),
                        limit_bytes: limit,
                    })
                };
                // Content-Length counts the bytes on the wire, which are
                // capped as well as the decoded ones.
                let declared = headers
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|n| n > limit) {
                    return Err(too_large());
                }
                let mut wire = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(|e| {
                    AttemptError::Transient(format!("reading body: {}", describe(&e)))
                })? {
                    if wire.len() as u64 + chunk.len() as u64 > limit {
                        return Err(too_large());
                    }
                    wire.extend_from_slice(&chunk);
                }
                let (body, wire) = match content_codings(&headers) {
                    None => (wire, None),
                    Some(codings) => {
                        let body = decode_body(url, &codings, &wire, limit)
                            .map_err(AttemptError::Fatal)?;
                        (body, Some(wire))
                    }
                };
                Ok(RawResponse {
                    status,
                    headers,
                    body,
                    wire,
                    exchange: Exchange {
                        url: url.to_string(),
                        request_line,
                        request_headers,
                        sent_at,
                        received_at,
                        remote_ip,
                        version,
                        status,
                        response_headers: Vec::new(),
                        wire_body: None,
                    },
                })
            };
        // reqwest's timeout covers the body too; this guards the whole
        // attempt, including a server that trickles bytes forever.
        match tokio::time::timeout(self.settings.timeout, work).await {
            Ok(r) => r.map(|mut raw| {
                raw.exchange.response_headers = header_pairs(&raw.headers);
                raw
            }),
            Err(_) => Err(AttemptError::Transient(format!(
                "timed out after {} s",
                self.settings.timeout.as_secs_f64()
            ))),
        }
    }

    /// The GET request for one attempt, every header set here so the
    /// request holds exactly the headers that go out (the WARC `request`
    /// record): `Host`, `User-Agent`, `Accept`, `Accept-Encoding`. The
    /// client adds none (no default headers, no automatic decompression,
    /// and `Host` is already there).
    fn request_for(&self, url: &Url, accept: &'static str) -> Result<reqwest::Request, FetchError> {
        use reqwest::header::{HeaderValue, ACCEPT, ACCEPT_ENCODING, HOST, USER_AGENT};
        let host = url
            .host_str()
            .map(|h| match url.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
            .and_then(|h| HeaderValue::from_str(&h).ok())
            .ok_or_else(|| FetchError::Invalid {
                url: url.to_string(),
                message: "no usable host".into(),
            })?;
        let mut headers = HeaderMap::new();
        headers.insert(HOST, host);
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        self.client
            .get(url.clone())
            .headers(headers)
            .build()
            .map_err(|e| FetchError::Invalid {
                url: url.to_string(),
                message: format!("cannot build the request: {e}"),
            })
    }
}

/// `GET <path>?<query> HTTP/1.1`, as the HTTP/1.1 client writes it.
fn request_line(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("GET {}?{q} HTTP/1.1", url.path()),
        None => format!("GET {} HTTP/1.1", url.path()),
    }
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
        .collect()
}

/// The content codings applied to a body, in the order applied; `None`
/// when there are none (`identity` only, or no `Content-Encoding`).
fn content_codings(headers: &HeaderMap) -> Option<Vec<String>> {
    let mut codings: Vec<String> = Vec::new();
    for value in headers.get_all(reqwest::header::CONTENT_ENCODING) {
        for coding in String::from_utf8_lossy(value.as_bytes()).split(',') {
            let coding = coding.trim().to_ascii_lowercase();
            if !coding.is_empty() && coding != "identity" {
                codings.push(coding);
            }
        }
    }
    (!codings.is_empty()).then_some(codings)
}

/// Most content codings stacked on one body that are undone.
const MAX_CONTENT_CODINGS: usize = 2;

/// Undoes `codings` (last applied first), each step bounded by `limit`
/// decoded bytes: a compression bomb stops at the limit.
fn decode_body(
    url: &Url,
    codings: &[String],
    wire: &[u8],
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    use flate2::read::{MultiGzDecoder, ZlibDecoder};
    use std::io::Read;
    if codings.len() > MAX_CONTENT_CODINGS {
        return Err(FetchError::Invalid {
            url: url.to_string(),
            message: format!("too many content codings: {}", codings.join(", ")),
        });
    }
    let mut body = wire.to_vec();
    for coding in codings.iter().rev() {
        let reader: Box<dyn Read + '_> = match coding.as_str() {
            "gzip" | "x-gzip" => Box::new(MultiGzDecoder::new(&body[..])),
            "deflate" => Box::new(ZlibDecoder::new(&body[..])),
            other => {
                return Err(FetchError::Invalid {
                    url: url.to_string(),
                    message: format!(
                        "unsupported Content-Encoding `{other}` (only gzip was asked for)"
                    ),
                })
            }
        };
        let mut decoded = Vec::new();
        reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut decoded)
            .map_err(|e| FetchError::Invalid {
                url: url.to_string(),
                message: format!("bad {coding} body: {e}"),
            })?;
        if decoded.len() as u64 > limit {
            return Err(FetchError::DecodedTooLarge {
                url: url.to_string(),
                encoding: coding.clone(),
                limit_bytes: limit,
            });
        }
        body = decoded;
    }
    Ok(body)
}

#[async_trait::async_trait]
impl Fetcher for HttpFetcher {
    async fn fetch(&self, url: &str, kind: ResourceKind) -> Result<Capture, FetchError> {
        let invalid = |message: String| FetchError::Invalid {
            url: url.to_string(),
            message,
        };
        let first = Url::parse(&crate::model::recording::normalize_url(url))
            .map_err(|e| invalid(e.to_string()))?;
        if !matches!(first.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme `{}` is not http(s)",
                first.scheme()
            )));
        }
        if let Some(reason) = self.policy.refusal(&first) {
            tracing::warn!(url = %first, %reason, "refused by the network policy");
            return Err(FetchError::Refused {
                url: first.to_string(),
                reason,
            });
        }
        let mut current = first.clone();
        let mut chain: Vec<String> = Vec::new();
        let mut exchanges: Vec<Exchange> = Vec::new();
        loop {
            let mut raw = self.fetch_hop(&current, kind).await?;
            let location = raw
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .filter(|_| matches!(raw.status, 301 | 302 | 303 | 307 | 308));
            if let Some(location) = location {
                let next = current.join(location).map_err(|e| FetchError::Invalid {
                    url: current.to_string(),
                    message: format!("bad redirect Location `{location}`: {e}"),
                })?;
                if let Some(reason) = self.policy.refusal(&next) {
                    tracing::warn!(url = %url, redirect = %next, %reason, "redirect refused by the network policy");
                    return Err(FetchError::Refused {
                        url: next.to_string(),
                        reason: format!("redirect from {current}: {reason}"),
                    });
                }
                chain.push(current.to_string());
                let mut hop = std::mem::take(&mut raw.exchange);
                hop.wire_body = Some(raw.wire.take().unwrap_or(raw.body));
                exchanges.push(hop);
                if chain.len() > self.settings.max_redirects {
                    return Err(FetchError::Network {
                        url: url.to_string(),
                        message: format!(
                            "more than {} redirects: {} -> {next}",
                            self.settings.max_redirects,
                            chain.join(" -> ")
                        ),
                    });
                }
                current = next;
                continue;
            }
            if kind == ResourceKind::Page && (200..300).contains(&raw.status) {
                self.judge_page(&first, &current, &raw)?;
            }
            let content_type = raw
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut answer = raw.exchange;
            // Held once: `None` means the capture's body is the wire body.
            answer.wire_body = raw.wire;
            let mut capture =
                Capture::new(url, raw.status, content_type, answer.received_at, raw.body);
            exchanges.push(answer);
            capture.exchanges = exchanges;
            capture.final_url = current.to_string();
            capture.redirects = chain;
            capture.headers = raw
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            tracing::debug!(url = %url, status = capture.status, bytes = capture.body.len(), "fetched");
            return Ok(capture);
        }
    }

    fn robots_policy(&self) -> &'static str {
        if self.settings.obey_robots {
            "obey"
        } else {
            "ignore"
        }
    }
}

/// `host:port` (port only when not the scheme's default).
pub fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// How long a `Retry-After` header asks to wait: delta-seconds or an
/// HTTP date (a date in the past means now).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "broken body"
    } else {
        "request failed"
    };
    let mut message = kind.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

fn backed_off(url: &Url, host: &Host, reason: String) -> FetchError {
    FetchError::HostBackedOff {
        url: url.to_string(),
        host: host.key.clone(),
        reason,
    }
}

fn closed(url: &Url) -> FetchError {
    FetchError::Network {
        url: url.to_string(),
        message: "fetcher shut down".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    /// Bodies are decoded here, not by the client: gzip and deflate,
    /// stacked codings, each under the cap; a bomb, an unknown coding or a
    /// corrupt body is an error naming the URL, never a panic.
    #[test]
    fn bodies_are_decoded_under_the_cap_and_bombs_are_named() {
        use std::io::Write;
        let url = Url::parse("https://www.aliexpress.com/item/1.html").unwrap();
        let gzip = |b: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b).unwrap();
            e.finish().unwrap()
        };
        let page = b"<html>item</html>";
        let codings = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            decode_body(&url, &codings(&["gzip"]), &gzip(page), 1024).unwrap(),
            page
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(page).unwrap();
        let deflated = z.finish().unwrap();
        assert_eq!(
            decode_body(&url, &codings(&["deflate"]), &deflated, 1024).unwrap(),
            page
        );
        // Applied in order gzip then gzip: undone last first.
        assert_eq!(
            decode_body(&url, &codings(&["gzip", "gzip"]), &gzip(&gzip(page)), 1024).unwrap(),
            page
        );
        let bomb = gzip(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        let err = decode_body(&url, &codings(&["gzip"]), &bomb, 64 * 1024).unwrap_err();
        assert_eq!(
            err.to_string(),
            "https://www.aliexpress.com/item/1.html: gzip-encoded body decodes to more than 65536 bytes"
        );
        for (c, body, why) in [
            ("br", &b"x"[..], "unsupported Content-Encoding `br`"),
            ("gzip", &b"not gzip at all"[..], "bad gzip body"),
        ] {
            let err = decode_body(&url, &codings(&[c]), body, 1024).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(url.as_str()) && text.contains(why),
                "{text}"
            );
        }
        let err = decode_body(&url, &codings(&["gzip"; 3]), b"", 1024).unwrap_err();
        assert!(
            err.to_string().contains("too many content codings"),
            "{err}"
        );
        let mut h = HeaderMap::new();
        assert_eq!(content_codings(&h), None);
        h.insert(
            reqwest::header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert_eq!(content_codings(&h), None);
        h.insert(
            reqwest::header::CONTENT_ENCODING,
            HeaderValue::from_static("GZIP, identity"),
        );
        assert_eq!(content_codings(&h), Some(codings(&["gzip"])));
    }

    #[test]
    fn forbidden_ranges_are_named() {
        let f = |s: &str| forbidden_ip(s.parse().unwrap());
        for ip in [
            "127.0.0.1",
            "127.5.5.5",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(f(ip).is_some(), "{ip} allowed");
        }
        assert_eq!(f("169.254.169.254"), Some("cloud metadata address"));
        for ip in ["8.8.8.8", "172.32.0.1", "47.246.1.1", "2001:db8::1"] {
            assert_eq!(f(ip), None, "{ip}");
        }
    }

    #[test]
    fn policy_allows_platforms_cdns_and_configured_bases_only() {
        let base = BaseUrl::new(
            Platform::AliExpress,
            Some(Url::parse("http://127.0.0.1:9/aliexpress").unwrap()),
        );
        let policy = NetworkPolicy::new(vec![base, BaseUrl::new(Platform::Tmall, None)]);
        let ok = |u: &str| policy.refusal(&Url::parse(u).unwrap());
        for u in [
            "http://127.0.0.1:9/aliexpress/w/x.html",
            "http://127.0.0.1:9/aliexpress/ae01.alicdn.com/kf/a.jpg",
            "https://ae01.alicdn.com/kf/a.jpg",
            "https://ae-pic-a1.aliexpress-media.com/kf/a.jpg",
            "https://img.tbcdn.cn/a.jpg",
            "https://login.taobao.com/x",
            "https://www.tmall.com/",
        ] {
            assert_eq!(ok(u), None, "{u}");
        }
        for (u, why) in [
            ("http://127.0.0.1:10/secret.txt", "loopback"),
            ("http://127.0.0.1:9/other", "loopback"),
            ("http://169.254.169.254/latest/meta-data/", "metadata"),
            ("http://10.0.0.1/", "private"),
            ("http://[::1]:9/aliexpress/x", "loopback"),
            ("http://[fe80::1]/", "link-local"),
            ("http://0.0.0.0:9/", "unspecified"),
            ("http://localhost:9/aliexpress/x", "loopback name"),
            (
                "http://evil.example/a.jpg",
                "not a host of the crawled platforms",
            ),
            ("https://alicdn.com.evil.example/a.jpg", "not a host"),
            ("http://8.8.8.8/", "IP address"),
        ] {
            let r = ok(u).unwrap_or_else(|| panic!("{u} allowed"));
            assert!(r.contains(why), "{u}: {r}");
        }
    }

    /// A name that resolves to a loopback address is refused at resolution
    /// unless it is the host of a configured base.
    #[tokio::test]
    async fn resolver_refuses_names_resolving_to_private_addresses() {
        let err = PolicyResolver::lookup(false, "localhost".into())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("localhost resolves to"), "{err}");
        assert!(err.downcast_ref::<PolicyRefusal>().is_some());
        assert!(!PolicyResolver::lookup(true, "localhost".into())
            .await
            .unwrap()
            .is_empty());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let s = HttpSettings {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1000),
            ..HttpSettings::default()
        };
        let f = HttpFetcher::new(s).unwrap();
        for attempt in 0..10 {
            let d = f.backoff(attempt);
            let full = (0.1 * 2f64.powi(attempt as i32)).min(1.0);
            assert!(d.as_secs_f64() >= full / 2.0 - 1e-9 && d.as_secs_f64() <= full + 1e-9);
        }
    }

    #[test]
    fn host_keys_follow_platform_bases() {
        let mut config = Config::default();
        config.platforms.insert(
            "aliexpress".into(),
            crate::model::config::PlatformConfig {
                base_url: Some("http://127.0.0.1:9/aliexpress".into()),
                ..Default::default()
            },
        );
        let f = HttpFetcher::from_config(&config).unwrap();
        let k = |u: &str| f.host_key(&Url::parse(u).unwrap());
        assert_eq!(k("http://127.0.0.1:9/aliexpress/w/x.html"), "aliexpress");
        assert_eq!(k("http://127.0.0.1:9/other/x"), "127.0.0.1:9");
        assert_eq!(k("https://www.alibaba.com/trade/search?x=1"), "alibaba");
        assert_eq!(k("https://ae01.alicdn.com/kf/a.jpg"), "ae01.alicdn.com");
    }

    /// Photo CDN hosts carried under a stand-in base are hosts of their
    /// own (one per CDN host, whichever platform's base carried them), at
    /// the photo rate; another host of the platform keeps its platform's
    /// rate.
    #[test]
    fn cdn_hosts_under_a_base_are_hosts_of_their_own() {
        let mut config = Config::default();
        config.crawl.photo_requests_per_second = 3.0;
        for (name, rps) in [("aliexpress", 1.0), ("tmall", 0.5)] {
            config.platforms.insert(
                name.into(),
                crate::model::config::PlatformConfig {
                    base_url: Some(format!("http://127.0.0.1:9/{name}")),
                    requests_per_second: Some(rps),
                    ..Default::default()
                },
            );
        }
        let f = HttpFetcher::from_config(&config).unwrap();
        let plan = |u: &str| f.host_plan(&Url::parse(u).unwrap());
        let tmall_photo = plan("http://127.0.0.1:9/tmall/img.alicdn.com/imgextra/a.jpg");
        assert_eq!(tmall_photo.key, "img.alicdn.com");
        assert_eq!(tmall_photo.rps, 3.0);
        assert_eq!(
            tmall_photo.robots_url.unwrap().as_str(),
            "http://127.0.0.1:9/tmall/img.alicdn.com/robots.txt"
        );
        let ae_photo = plan("http://127.0.0.1:9/aliexpress/ae01.alicdn.com/kf/S1.jpg");
        assert_eq!(ae_photo.key, "ae01.alicdn.com");
        let item = plan("http://127.0.0.1:9/tmall/detail.tmall.com/item.htm?id=1");
        assert_eq!(item.key, "detail.tmall.com");
        assert_eq!(item.rps, 0.5);
        let search = plan("http://127.0.0.1:9/tmall/search_product.htm?q=x");
        assert_eq!(search.key, "tmall");
        // Live, a photo host is keyed by its name too.
        let live = HttpFetcher::from_config(&Config::default()).unwrap();
        assert_eq!(
            live.host_key(&Url::parse("https://img.alicdn.com/imgextra/a.jpg").unwrap()),
            "img.alicdn.com"
        );
    }

    /// A refusal halves the rate and good answers bring it back; a streak
    /// of block pages over the budget gives the host up.
    #[test]
    fn refusals_slow_the_host_and_answers_recover_it() {
        let s = HttpSettings {
            give_up_block_pages: 3,
            ..HttpSettings::default()
        };
        let f = HttpFetcher::new(s.clone()).unwrap();
        let url = Url::parse("https://www.aliexpress.com/w/x.html").unwrap();
        let host = f.host_for(&url);
        let slowdown = || host.pace.lock().unwrap().slowdown;
        assert_eq!(host.refused(&url, Refusal::Status(429), &s), None);
        assert_eq!(host.refused(&url, Refusal::Status(503), &s), None);
        assert_eq!(slowdown(), 4);
        for _ in 0..RECOVER_AFTER_SUCCESSES {
            host.answered();
        }
        assert_eq!(slowdown(), 2);
        for _ in 0..2 {
            assert_eq!(host.refused(&url, Refusal::BlockPage, &s), None);
        }
        let why = host.refused(&url, Refusal::BlockPage, &s).unwrap();
        assert!(why.contains("3 block pages"), "{why}");
        assert!(host.backed_off().is_some());
        assert_eq!(host.stats().refused_urls.len(), 3);
        assert_eq!(host.stats().slowest_rate_fraction, 1.0 / 16.0);
    }
}
