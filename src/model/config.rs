//! Crawl configuration (`--config knockoff.toml`): politeness limits,
//! timeouts, body caps and the platform base URLs.
//!
//! Every default is a named constant below (units in the name) and is used
//! by the config types, the live fetcher and the CLI alike, so there is one
//! source of defaults. Unknown fields are errors (a typo must not silently
//! fall back to a default); errors name the file, line, column and field.
//!
//! A platform's `base_url` may point somewhere other than the real site
//! (the loopback mock marketplace) and may carry a path prefix
//! (`http://127.0.0.1:8080/aliexpress`) that is kept when URLs are built.
//! [`BaseUrl`] maps real marketplace URLs (item pages, alicdn photos) onto
//! such a base and back; [`crate::fetch::mock`] understands the same mapping.

use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::recording::line_col;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// Requests per second per host: one page a second is what a human reader
/// with several tabs does; marketplaces tolerate it.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 1.0;
/// Requests in flight across all hosts.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Requests in flight per host.
pub const DEFAULT_CONCURRENCY_PER_HOST: usize = 2;
/// Whole-request timeout (headers and body).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// TCP + TLS connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Longest silence while reading a response.
pub const DEFAULT_READ_TIMEOUT_SECS: u64 = 15;
/// Body cap for pages, on the bytes received and on the decompressed bytes.
pub const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;
/// Body cap for images, on the bytes received and on the decompressed bytes.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// Retries after the first attempt, for connection errors, timeouts, 408,
/// 429 and 5xx.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// First backoff delay; doubles per retry, with jitter.
pub const DEFAULT_BACKOFF_BASE_MILLIS: u64 = 500;
/// Longest backoff delay between two attempts.
pub const DEFAULT_BACKOFF_MAX_SECS: u64 = 30;
/// Longest `Retry-After` knockoff waits out at a time: a host asking for
/// more is paused this long, then asked again (its refusals count towards
/// giving it up).
pub const MAX_RETRY_AFTER_SECS: u64 = 120;
/// Redirects followed per request.
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// Search result pages fetched per term and platform.
pub const DEFAULT_MAX_PAGES_PER_TERM: u32 = 3;
/// Item pages fetched per term and platform (listings found on search
/// pages; the rest are scored from their search cards).
pub const DEFAULT_MAX_ITEMS_PER_TERM: usize = 20;
/// A host that has refused every request (429, 503, block pages) for this
/// long is left alone for the rest of the run. Until then each refusal
/// halves its rate (to [`MAX_SLOWDOWN`] times slower) and good answers
/// bring the rate slowly back.
pub const DEFAULT_GIVE_UP_AFTER_REFUSING_SECS: u64 = 600;
/// Genuine block pages (captcha, punish, login wall) in a row after which
/// a host is left alone for the rest of the run.
pub const DEFAULT_GIVE_UP_AFTER_BLOCK_PAGES: u32 = 10;
/// How far refusals slow a host down: its rate is halved per refusal, to
/// at most this many times slower than configured.
pub const MAX_SLOWDOWN: u32 = 32;
/// Good answers in a row after which a slowed host's rate doubles again
/// (up to its configured rate): recovery is slower than the slow-down.
pub const RECOVER_AFTER_SUCCESSES: u32 = 8;
/// Requests per second per photo CDN host (`ae01.alicdn.com`,
/// `img.alicdn.com`, `cbu01.alicdn.com`, ...): each is a host of its own.
pub const DEFAULT_PHOTO_REQUESTS_PER_SECOND: f64 = 2.0;
/// The User-Agent: names knockoff and says how to reach its operator.
/// Operators should put their own contact in `[crawl] user_agent`.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "knockoff/",
    env!("CARGO_PKG_VERSION"),
    " (brand-protection crawler; +https://github.com/knockoff-rs/knockoff)"
);

/// The real site each platform's search pages live on.
pub fn default_base_url(platform: Platform) -> &'static str {
    match platform {
        Platform::AliExpress => "https://www.aliexpress.com",
        Platform::Alibaba => "https://www.alibaba.com",
        Platform::Taobao => "https://s.taobao.com",
        Platform::Tmall => "https://list.tmall.com",
        Platform::S1688 => "https://s.1688.com",
    }
}

/// `knockoff.toml` as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub crawl: CrawlConfig,
    /// Per-platform settings, keyed by platform name (`aliexpress`,
    /// `alibaba`, `taobao`, `tmall`, `1688`).
    #[serde(default)]
    pub platforms: BTreeMap<String, PlatformConfig>,
    /// `[daemon]`: the schedule of `knockoff daemon`.
    #[serde(default)]
    pub daemon: DaemonConfig,
}

/// `[daemon]`: how often the daemon rescans (the `--every` and `--jitter`
/// flags win over these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Time between cycles: `30s`, `15m`, `6h`, `1d`, `1h30m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// Share of the interval each wait varies by, either way (0 to 0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    /// Retention: drop the stored bytes of captures older than this
    /// (`90d`), except evidence; unset keeps everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_pages: Option<String>,
}

/// `[crawl]`: limits for the whole live crawl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlConfig {
    /// Per host.
    pub requests_per_second: f64,
    /// All hosts together.
    pub concurrency: usize,
    pub concurrency_per_host: usize,
    pub timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub read_timeout_secs: u64,
    pub user_agent: String,
    pub max_pages_per_term: u32,
    pub max_items_per_term: usize,
    pub max_page_bytes: u64,
    pub max_image_bytes: u64,
    pub max_retries: u32,
    pub backoff_base_millis: u64,
    pub backoff_max_secs: u64,
    pub max_retry_after_secs: u64,
    pub max_redirects: usize,
    /// Seconds of nothing but refusals before a host is given up.
    pub give_up_after_refusing_secs: u64,
    /// Genuine block pages in a row before a host is given up.
    pub give_up_after_block_pages: u32,
    /// Per photo CDN host.
    pub photo_requests_per_second: f64,
    /// Obey robots.txt (only ever turned off against one's own mock).
    pub obey_robots: bool,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            concurrency: DEFAULT_CONCURRENCY,
            concurrency_per_host: DEFAULT_CONCURRENCY_PER_HOST,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            connect_timeout_secs: DEFAULT_CONNECT_TIMEOUT_SECS,
            read_timeout_secs: DEFAULT_READ_TIMEOUT_SECS,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            max_pages_per_term: DEFAULT_MAX_PAGES_PER_TERM,
            max_items_per_term: DEFAULT_MAX_ITEMS_PER_TERM,
            max_page_bytes: MAX_PAGE_BYTES,
            max_image_bytes: MAX_IMAGE_BYTES,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff_base_millis: DEFAULT_BACKOFF_BASE_MILLIS,
            backoff_max_secs: DEFAULT_BACKOFF_MAX_SECS,
            max_retry_after_secs: MAX_RETRY_AFTER_SECS,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            give_up_after_refusing_secs: DEFAULT_GIVE_UP_AFTER_REFUSING_SECS,
            give_up_after_block_pages: DEFAULT_GIVE_UP_AFTER_BLOCK_PAGES,
            photo_requests_per_second: DEFAULT_PHOTO_REQUESTS_PER_SECOND,
            obey_robots: true,
        }
    }
}

/// `[platforms.<name>]`: where a platform is crawled and its own limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Where search pages are built from; defaults to the real site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Overrides `[crawl] requests_per_second` for this platform's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Overrides `[crawl] concurrency_per_host` for this platform's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_per_host: Option<usize>,
}

impl Config {
    /// Loads and validates a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        Config::from_toml(path, &text)
    }

    /// Parses and validates config text; `path` is only used in errors.
    pub fn from_toml(path: &Path, text: &str) -> Result<Config> {
        let err = |line: usize, column: usize, field: &str, message: &str| Error::Config {
            path: path.to_path_buf(),
            message: format!("line {line}, column {column}: field `{field}`: {message}"),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            err(line, column, "(syntax)", e.message())
        })?;
        let config: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let (line, column) = inner
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or((1, 1));
            err(line, column, &field, inner.message())
        })?;
        if let Err((field, message)) = config.validate() {
            let (line, column) = locate_field(text, &field);
            return Err(err(line, column, &field, &message));
        }
        Ok(config)
    }

    /// Checks values serde cannot: ranges, platform names, URLs. Returns the
    /// offending field's dotted path and what is wrong.
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        let c = &self.crawl;
        let positive_rate = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 10_000.0 {
                Ok(())
            } else {
                Err((
                    field.to_string(),
                    format!("must be a number of requests per second in (0, 10000], got {v}"),
                ))
            }
        };
        positive_rate("crawl.requests_per_second", c.requests_per_second)?;
        let at_least_one = |field: &str, v: u64| {
            if v >= 1 {
                Ok(())
            } else {
                Err((field.to_string(), "must be at least 1".to_string()))
            }
        };
        at_least_one("crawl.concurrency", c.concurrency as u64)?;
        at_least_one("crawl.concurrency_per_host", c.concurrency_per_host as u64)?;
        at_least_one("crawl.timeout_secs", c.timeout_secs)?;
        at_least_one("crawl.connect_timeout_secs", c.connect_timeout_secs)?;
        at_least_one("crawl.read_timeout_secs", c.read_timeout_secs)?;
        at_least_one("crawl.max_pages_per_term", c.max_pages_per_term as u64)?;
        at_least_one("crawl.max_page_bytes", c.max_page_bytes)?;
        at_least_one("crawl.max_image_bytes", c.max_image_bytes)?;
        positive_rate(
            "crawl.photo_requests_per_second",
            c.photo_requests_per_second,
        )?;
        at_least_one(
            "crawl.give_up_after_refusing_secs",
            c.give_up_after_refusing_secs,
        )?;
        at_least_one(
            "crawl.give_up_after_block_pages",
            c.give_up_after_block_pages as u64,
        )?;
        if c.user_agent.trim().is_empty() || !c.user_agent.is_ascii() {
            return Err((
                "crawl.user_agent".into(),
                "must be non-empty ASCII naming knockoff and a contact".into(),
            ));
        }
        for (name, p) in &self.platforms {
            if Platform::from_name(name).is_none() {
                return Err((
                    format!("platforms.{name}"),
                    "unknown platform (known: aliexpress, alibaba, taobao, tmall, 1688)".into(),
                ));
            }
            if let Some(base) = &p.base_url {
                let parsed = Url::parse(base).map_err(|e| {
                    (
                        format!("platforms.{name}.base_url"),
                        format!("`{base}`: {e}"),
                    )
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err((
                        format!("platforms.{name}.base_url"),
                        format!("`{base}` must be an http(s) URL with a host"),
                    ));
                }
            }
            if let Some(rate) = p.requests_per_second {
                positive_rate(&format!("platforms.{name}.requests_per_second"), rate)?;
            }
            if p.concurrency_per_host == Some(0) {
                return Err((
                    format!("platforms.{name}.concurrency_per_host"),
                    "must be at least 1".into(),
                ));
            }
        }
        if let Some(every) = &self.daemon.every {
            let d = parse_duration(every).map_err(|m| ("daemon.every".to_string(), m))?;
            if d < MIN_EVERY {
                return Err((
                    "daemon.every".into(),
                    format!("{d:?} is too short (at least {:?})", MIN_EVERY),
                ));
            }
        }
        if let Some(keep) = &self.daemon.keep_pages {
            parse_duration(keep).map_err(|m| ("daemon.keep_pages".to_string(), m))?;
        }
        if let Some(j) = self.daemon.jitter {
            if !(0.0..=0.9).contains(&j) {
                return Err((
                    "daemon.jitter".into(),
                    format!("{j} is out of range (0 to 0.9)"),
                ));
            }
        }
        Ok(())
    }

    /// The base URL a platform is crawled at (configured or real).
    pub fn base_url(&self, platform: Platform) -> BaseUrl {
        let configured = self
            .platforms
            .get(platform.as_str())
            .and_then(|p| p.base_url.as_deref())
            .and_then(|b| Url::parse(b).ok());
        BaseUrl::new(platform, configured)
    }

    /// Requests per second for a platform's host.
    pub fn requests_per_second(&self, platform: Platform) -> f64 {
        self.platforms
            .get(platform.as_str())
            .and_then(|p| p.requests_per_second)
            .unwrap_or(self.crawl.requests_per_second)
    }

    /// Requests in flight for a platform's host.
    pub fn concurrency_per_host(&self, platform: Platform) -> usize {
        self.platforms
            .get(platform.as_str())
            .and_then(|p| p.concurrency_per_host)
            .unwrap_or(self.crawl.concurrency_per_host)
    }

    /// The platforms named in `[platforms]`, in report order.
    pub fn configured_platforms(&self) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| self.platforms.contains_key(p.as_str()))
            .collect()
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.crawl.timeout_secs)
    }
}

/// Best-effort line and column of a dotted field path (`platforms.x.base_url`)
/// in TOML text, for validation errors found after parsing.
fn locate_field(text: &str, field: &str) -> (usize, usize) {
    let parts: Vec<&str> = field.split('.').collect();
    let key = parts.last().copied().unwrap_or_default();
    let table = parts[..parts.len().saturating_sub(1)].join(".");
    let mut in_table = table.is_empty();
    let mut table_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t.trim_matches(|c| c == '[' || c == ']').trim();
            let name = name.replace('"', "");
            in_table = name == table;
            if in_table {
                table_line = Some(i + 1);
            }
            // A table header that is itself the offending field.
            if name == field {
                return (i + 1, 1);
            }
            continue;
        }
        if in_table {
            let k = t
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('"');
            if k == key {
                let col = line.len() - line.trim_start().len() + 1;
                return (i + 1, col);
            }
        }
    }
    (table_line.unwrap_or(1), 1)
}

/// Where one platform is crawled: its real site and the configured base.
///
/// When the configured base is not the real site (a mock on loopback),
/// URLs found on pages (item pages, photos on alicdn) are mapped onto it:
/// a URL on the platform's own search host keeps its path under the base
/// (`https://www.aliexpress.com/item/1.html` →
/// `http://127.0.0.1:8080/aliexpress/item/1.html`), any other host becomes
/// a path segment (`https://ae01.alicdn.com/kf/a.jpg` →
/// `http://127.0.0.1:8080/aliexpress/ae01.alicdn.com/kf/a.jpg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub platform: Platform,
    /// The real site (`https://www.aliexpress.com`).
    pub real: Url,
    /// Where requests go; equal to `real` unless configured otherwise.
    pub configured: Url,
}

impl BaseUrl {
    /// `configured: None` means the real site.
    pub fn new(platform: Platform, configured: Option<Url>) -> BaseUrl {
        let real = Url::parse(default_base_url(platform)).expect("built-in base URLs parse");
        BaseUrl {
            platform,
            configured: configured.unwrap_or_else(|| real.clone()),
            real,
        }
    }

    /// True when requests go somewhere other than the platform's own
    /// hosts, so page URLs must be mapped.
    pub fn is_redirected(&self) -> bool {
        self.configured
            .host_str()
            .and_then(Platform::from_host)
            .is_none()
    }

    /// The configured base's path without a trailing slash ("" for none).
    fn prefix(&self) -> &str {
        self.configured.path().trim_end_matches('/')
    }

    /// Is `url` already on the configured base (same origin, under its path)?
    pub fn contains(&self, url: &Url) -> bool {
        url.origin() == self.configured.origin()
            && (self.prefix().is_empty()
                || url.path() == self.prefix()
                || url.path().starts_with(&format!("{}/", self.prefix())))
    }

    /// Maps a URL found on a page onto the configured base. URLs that are
    /// already there, and every URL when the base is the real site, are
    /// returned as they are; unparseable strings too.
    pub fn to_configured(&self, url: &str) -> String {
        if !self.is_redirected() {
            return url.to_string();
        }
        let Ok(parsed) = Url::parse(&crate::model::recording::normalize_url(url)) else {
            return url.to_string();
        };
        if self.contains(&parsed) || !matches!(parsed.scheme(), "http" | "https") {
            return url.to_string();
        }
        let Some(host) = parsed.host_str() else {
            return url.to_string();
        };
        let mut path = if host.eq_ignore_ascii_case(self.real.host_str().unwrap_or_default()) {
            format!("{}{}", self.prefix(), parsed.path())
        } else {
            format!(
                "{}/{}{}",
                self.prefix(),
                host.to_ascii_lowercase(),
                parsed.path()
            )
        };
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        let mut out = self.configured.clone();
        out.set_query(None);
        out.set_fragment(None);
        // `path` may hold a query; joining keeps scheme, host and port.
        match out.join(&path) {
            Ok(u) => u.to_string(),
            Err(_) => url.to_string(),
        }
    }

    /// The real marketplace URL a configured URL stands for (the inverse of
    /// [`BaseUrl::to_configured`]); URLs not under the base are returned
    /// as they are. Parsers and robots rules see real URLs.
    pub fn to_real(&self, url: &Url) -> Url {
        if !self.is_redirected() || !self.contains(url) {
            return url.clone();
        }
        let rest = &url.path()[self.prefix().len()..];
        let real = match split_host_segment(rest) {
            Some((host, path)) => Url::parse(&format!("https://{host}{path}")),
            None => self.real.join(if rest.is_empty() { "/" } else { rest }),
        };
        match real {
            Ok(mut u) => {
                u.set_query(url.query());
                u
            }
            Err(_) => url.clone(),
        }
    }
}

/// The real marketplace URL a fetched URL stands for, under whichever of
/// `bases` holds it (the longest configured path wins); other URLs, and
/// unparseable ones, are returned as they are.
pub fn real_url(bases: &[BaseUrl], url: &str) -> String {
    let Ok(parsed) = Url::parse(url) else {
        return url.to_string();
    };
    bases
        .iter()
        .filter(|b| b.is_redirected() && b.contains(&parsed))
        .max_by_key(|b| b.configured.path().len())
        .map(|b| b.to_real(&parsed).to_string())
        .unwrap_or_else(|| url.to_string())
}

/// File extensions that look like a top-level domain in a path segment
/// (`wholesale-aurora.html`) but are not one.
const NOT_TLDS: &[&str] = &[
    "html", "htm", "php", "jsp", "asp", "aspx", "js", "css", "json", "xml", "txt", "jpg", "jpeg",
    "png", "gif", "webp", "avif", "svg", "ico", "bmp",
];

/// Splits `/ae01.alicdn.com/kf/a.jpg` into (`ae01.alicdn.com`, `/kf/a.jpg`)
/// when the first segment is a host name written by
/// [`BaseUrl::to_configured`]; `None` for an ordinary path.
pub fn split_host_segment(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (seg, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let labels: Vec<&str> = seg.split('.').collect();
    let tld = labels.last()?;
    let is_host = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && !NOT_TLDS.contains(&tld.to_ascii_lowercase().as_str());
    is_host.then_some((seg, tail))
}

/// Shortest daemon interval accepted (a replay demo may go fast; a live
/// crawl is limited per host by the fetcher anyway).
pub const MIN_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Parses a duration: `500ms`, `30s`, `15m`, `6h`, `1d`, or combinations
/// (`1h30m`, `1h 30m`), with `humantime`; the error says what was wrong
/// and names the input.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration (expected e.g. 30s, 15m, 6h, 1d)".into());
    }
    humantime::parse_duration(t).map_err(|e| format!("`{t}`: {e} (expected e.g. 30s, 15m, 6h, 1d)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_base() -> BaseUrl {
        BaseUrl::new(
            Platform::AliExpress,
            Some(Url::parse("http://127.0.0.1:8080/aliexpress").unwrap()),
        )
    }

    #[test]
    fn defaults_load_from_empty_text() {
        let c = Config::from_toml(Path::new("k.toml"), "").unwrap();
        assert_eq!(c.crawl.requests_per_second, DEFAULT_REQUESTS_PER_SECOND);
        assert_eq!(c.crawl.max_page_bytes, MAX_PAGE_BYTES);
        assert!(c.crawl.user_agent.starts_with("knockoff/"));
    }

    #[test]
    fn example_config_loads_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("knockoff.example.toml");
        let c = Config::load(&path).unwrap();
        let d = CrawlConfig::default();
        // The example documents the defaults; only the contact differs.
        assert_eq!(
            CrawlConfig {
                user_agent: d.user_agent.clone(),
                ..c.crawl.clone()
            },
            d
        );
        assert!(c.crawl.user_agent.contains("knockoff") && c.crawl.user_agent.contains("mailto:"));
        assert_eq!(c.configured_platforms(), Platform::ALL.to_vec());
        for p in Platform::ALL {
            assert!(!c.base_url(p).is_redirected(), "{p}");
        }
        assert_eq!(c.requests_per_second(Platform::Alibaba), 0.5);
        assert_eq!(c.daemon.every.as_deref(), Some("6h"));
        assert_eq!(c.daemon.jitter, Some(0.1));
        assert_eq!(c.daemon.keep_pages.as_deref(), Some("180d"));
    }

    #[test]
    fn daemon_schedule_is_checked_with_its_field() {
        let path = Path::new("k.toml");
        let ok = Config::from_toml(path, "[daemon]\nevery = \"30s\"\njitter = 0.2\n").unwrap();
        assert_eq!(ok.daemon.every.as_deref(), Some("30s"));
        for bad in [
            "[daemon]\nevery = \"soon\"\n",
            "[daemon]\nevery = \"1ms\"\n",
            "[daemon]\njitter = 2.0\n",
            "[daemon]\nkeep_pages = \"forever\"\n",
            "[daemon]\nevry = \"1h\"\n",
        ] {
            let err = Config::from_toml(path, bad).unwrap_err().to_string();
            assert!(
                err.contains("k.toml") && err.contains("daemon"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let text = "[crawl]\nrequests_per_second = 2.0\nconcurency = 4\n";
        let e = Config::from_toml(Path::new("k.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("k.toml: line 3"), "{e}");
        assert!(e.contains("concurency"), "{e}");
    }

    #[test]
    fn wrong_type_names_field() {
        let text = "[platforms.aliexpress]\nbase_url = 7\n";
        let e = Config::from_toml(Path::new("k.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(e.contains("platforms.aliexpress.base_url"), "{e}");
    }

    #[test]
    fn validation_errors_are_located() {
        let text = "[crawl]\nconcurrency = 2\nrequests_per_second = 0\n";
        let e = Config::from_toml(Path::new("k.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("crawl.requests_per_second"), "{e}");
        let text = "[platforms.ebay]\nbase_url = \"http://x\"\n";
        let e = Config::from_toml(Path::new("k.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1") && e.contains("unknown platform"),
            "{e}"
        );
        let text = "[platforms.tmall]\nbase_url = \"ftp://x/y\"\n";
        let e = Config::from_toml(Path::new("k.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("base_url"), "{e}");
    }

    #[test]
    fn platform_overrides_apply() {
        let text = "[crawl]\nrequests_per_second = 2.0\n[platforms.alibaba]\nrequests_per_second = 0.5\nconcurrency_per_host = 1\n";
        let c = Config::from_toml(Path::new("k.toml"), text).unwrap();
        assert_eq!(c.requests_per_second(Platform::Alibaba), 0.5);
        assert_eq!(c.requests_per_second(Platform::AliExpress), 2.0);
        assert_eq!(c.concurrency_per_host(Platform::Alibaba), 1);
        assert_eq!(c.configured_platforms(), vec![Platform::Alibaba]);
    }

    #[test]
    fn real_base_leaves_urls_alone() {
        let b = BaseUrl::new(Platform::AliExpress, None);
        assert!(!b.is_redirected());
        let u = "https://ae01.alicdn.com/kf/a.jpg";
        assert_eq!(b.to_configured(u), u);
    }

    #[test]
    fn maps_item_and_image_urls_onto_a_prefixed_base_and_back() {
        let b = mock_base();
        let item = b.to_configured("https://www.aliexpress.com/item/1005.html?spm=x");
        assert_eq!(
            item,
            "http://127.0.0.1:8080/aliexpress/item/1005.html?spm=x"
        );
        let img = b.to_configured("//ae01.alicdn.com/kf/S1.jpg_480x480.jpg");
        assert_eq!(
            img,
            "http://127.0.0.1:8080/aliexpress/ae01.alicdn.com/kf/S1.jpg_480x480.jpg"
        );
        // Idempotent.
        assert_eq!(b.to_configured(&img), img);
        let back = b.to_real(&Url::parse(&img).unwrap());
        assert_eq!(
            back.as_str(),
            "https://ae01.alicdn.com/kf/S1.jpg_480x480.jpg"
        );
        let back = b.to_real(&Url::parse(&item).unwrap());
        assert_eq!(
            back.as_str(),
            "https://www.aliexpress.com/item/1005.html?spm=x"
        );
    }

    #[test]
    fn search_paths_with_dots_are_not_hosts() {
        assert_eq!(split_host_segment("/wholesale-aurora.html"), None);
        assert_eq!(split_host_segment("/w/wholesale-aurora.html"), None);
        assert_eq!(split_host_segment("/search_product.htm"), None);
        assert_eq!(
            split_host_segment("/detail.tmall.com/item.htm"),
            Some(("detail.tmall.com", "/item.htm"))
        );
        let b = mock_base();
        let u =
            Url::parse("http://127.0.0.1:8080/aliexpress/w/wholesale-aurora.html?page=2").unwrap();
        assert_eq!(
            b.to_real(&u).as_str(),
            "https://www.aliexpress.com/w/wholesale-aurora.html?page=2"
        );
    }

    #[test]
    fn urls_outside_the_base_are_not_unmapped() {
        let b = mock_base();
        let u = Url::parse("http://127.0.0.1:8080/alibaba/x.html").unwrap();
        assert_eq!(b.to_real(&u), u);
    }
}
