//! Loopback mock marketplace for tests and benchmarks: serves a recording
//! over HTTP by URL path, for any platform, with faults on demand.
//!
//! URL scheme (the inverse of [`crate::model::config::BaseUrl::to_configured`]):
//! - `/<platform>/<path>?<query>` answers the recorded page of that
//!   platform's search host with that path and query
//!   (`/aliexpress/w/wholesale-aurora.html` →
//!   `https://www.aliexpress.com/w/wholesale-aurora.html`), so a config with
//!   `base_url = "http://127.0.0.1:PORT/aliexpress"` crawls it;
//! - `/<platform>/<host>/<path>` and `/<host>/<path>` answer the page
//!   recorded for `https://<host>/<path>` (item pages, alicdn photos);
//! - `/<prefix>/robots.txt` answers the robots.txt configured for that
//!   prefix with [`Faults::robots`] (404 otherwise).
//!
//! Faults ([`Fault`]) apply to paths under a prefix, to the first N
//! matching requests or to all of them: 429 with `Retry-After` (seconds or
//! HTTP date), 5xx bursts, slow headers, slow bodies, oversized bodies, a
//! gzip bomb, redirects and redirect loops, punish pages at 200, and connections dropped
//! mid-response. robots.txt requests are exempt unless a rule names them.
//!
//! Every request is logged with its arrival [`Instant`], path and host key
//! (the first path segment, i.e. the platform base it came through) so
//! tests can check the crawl rate from the server's side; [`LOG_PATH`]
//! serves that log as JSON to clients in other processes.

use crate::model::config::split_host_segment;
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::recording::{normalize_url, Recording};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;

/// How a 429 says when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// No `Retry-After` header.
    Absent,
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>` this far in the future (whole seconds
    /// on the wire, rounded up).
    Date(Duration),
}

/// A misbehaviour the mock can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests.
    TooManyRequests(RetryAfter),
    /// 503 Service Unavailable, with or without `Retry-After`.
    Unavailable(RetryAfter),
    /// A 5xx status (a burst when limited by [`FaultRule::times`]).
    ServerError(u16),
    /// Wait this long before sending headers.
    SlowHeaders(Duration),
    /// Send the recorded body in `chunks` pieces with `delay` between.
    SlowBody { delay: Duration, chunks: usize },
    /// 200 with this many bytes; `declared` sends Content-Length, else the
    /// body is chunked so only streaming counting can catch it.
    Oversized { bytes: u64, declared: bool },
    /// `Content-Encoding: gzip`: small on the wire, this big decompressed.
    GzipBomb { decompressed_bytes: u64 },
    /// 302 back to the same URL, forever.
    RedirectLoop,
    /// 302 to this path (or URL).
    RedirectTo(String),
    /// An AliExpress punish (captcha) page at HTTP 200.
    Punish,
    /// Headers, then the connection is dropped mid-body.
    Reset,
}

/// A fault on every path starting with `prefix`, for the first `times`
/// matching requests (`None`: all of them).
#[derive(Debug)]
pub struct FaultRule {
    pub prefix: String,
    pub fault: Fault,
    pub times: Option<u32>,
    hits: AtomicU32,
}

/// The faults a mock shows, and its robots.txt files.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
    robots: HashMap<String, String>,
}

impl Faults {
    /// No faults, no robots.txt.
    pub fn none() -> Faults {
        Faults::default()
    }

    /// Adds a fault on every request under `prefix` (`"/"` for all).
    pub fn always(mut self, prefix: &str, fault: Fault) -> Faults {
        self.rules.push(FaultRule {
            prefix: prefix.to_string(),
            fault,
            times: None,
            hits: AtomicU32::new(0),
        });
        self
    }

    /// Adds a fault on the first `times` requests under `prefix`.
    pub fn first(mut self, prefix: &str, times: u32, fault: Fault) -> Faults {
        self.rules.push(FaultRule {
            prefix: prefix.to_string(),
            fault,
            times: Some(times),
            hits: AtomicU32::new(0),
        });
        self
    }

    /// Serves `body` at `<prefix>/robots.txt` (`prefix` like `/aliexpress`,
    /// or `""` for the root).
    pub fn robots(mut self, prefix: &str, body: &str) -> Faults {
        self.robots
            .insert(prefix.trim_end_matches('/').to_string(), body.to_string());
        self
    }

    /// The fault for this request, if any (counts the hit).
    fn pick(&self, path: &str) -> Option<Fault> {
        let is_robots = path.ends_with("/robots.txt");
        for rule in &self.rules {
            if !path.starts_with(&rule.prefix)
                || (is_robots && !rule.prefix.ends_with("robots.txt"))
            {
                continue;
            }
            let n = rule.hits.fetch_add(1, Ordering::SeqCst);
            if rule.times.is_none_or(|t| n < t) {
                return Some(rule.fault.clone());
            }
        }
        None
    }
}

/// One request as the mock saw it.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// When the request's headers arrived.
    pub at: Instant,
    /// Path and query.
    pub path: String,
    /// First path segment (the platform base it came through), or "".
    pub host_key: String,
    /// The `User-Agent` sent.
    pub user_agent: String,
    /// The status answered (before any body fault played out); 0 while
    /// the answer is still being prepared.
    pub status: u16,
    /// How long the answer's `Retry-After` asked the client to wait, from
    /// this request's arrival (an HTTP date is counted to its whole second).
    pub retry_after: Option<Duration>,
}

struct MockState {
    recording: Option<Recording>,
    /// `host/path?query` → manifest index.
    by_host: HashMap<String, usize>,
    /// `platform/path?query` → manifest index.
    by_platform: HashMap<String, usize>,
    faults: Faults,
    log: Mutex<Vec<RequestLog>>,
    started: Instant,
}

/// A running mock; stops when dropped.
pub struct MockMarket {
    addr: SocketAddr,
    state: Arc<MockState>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl MockMarket {
    /// Serves `recording` (if any) on an ephemeral loopback port.
    pub async fn start(recording: Option<&Path>, faults: Faults) -> Result<MockMarket> {
        MockMarket::start_on(recording, faults, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on a chosen address.
    pub async fn start_on(
        recording: Option<&Path>,
        faults: Faults,
        addr: SocketAddr,
    ) -> Result<MockMarket> {
        let state = Arc::new(MockState::new(recording, faults)?);
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| Error::Other(format!("mock market: cannot listen on {addr}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Other(format!("mock market: {e}")))?;
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        // The market runs on a thread and runtime of its own, as a real
        // server would: the client's work (parsing, hashing on the caller's
        // runtime) never delays when a request is stamped as arrived.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Other(format!("mock market: runtime: {e}")))?;
        std::thread::Builder::new()
            .name("mock-market".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .map_err(|e| Error::Other(format!("mock market: thread: {e}")))?;
        Ok(MockMarket {
            addr,
            state,
            shutdown: Some(tx),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL to configure for a platform: `http://127.0.0.1:PORT/<name>`.
    pub fn base_url(&self, platform: Platform) -> String {
        format!("http://{}/{}", self.addr, platform.as_str())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.state
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_under(&self, prefix: &str) -> Vec<RequestLog> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

impl Drop for MockMarket {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs the mock until Ctrl-C: `knockoff mock-market --recording DIR
/// --addr 127.0.0.1:PORT`.
pub async fn run_mock_market(recording: &Path, addr: SocketAddr) -> Result<()> {
    let mock = MockMarket::start_on(Some(recording), Faults::none(), addr).await?;
    eprintln!(
        "mock market serving {} on {} (platform bases: {}/aliexpress, {}/alibaba, ...); Ctrl-C stops",
        recording.display(),
        mock.url(),
        mock.url(),
        mock.url()
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Error::Other(format!("mock market: waiting for Ctrl-C: {e}")))?;
    drop(mock);
    Ok(())
}

impl MockState {
    fn new(recording: Option<&Path>, faults: Faults) -> Result<MockState> {
        let recording = recording.map(Recording::open).transpose()?;
        let mut by_host = HashMap::new();
        let mut by_platform = HashMap::new();
        if let Some(rec) = &recording {
            for (i, page) in rec.pages().iter().enumerate() {
                let Ok(u) = url::Url::parse(&normalize_url(&page.url)) else {
                    continue;
                };
                let Some(host) = u.host_str() else { continue };
                let rest = path_and_query(&u);
                by_host.insert(format!("{}{rest}", host.to_ascii_lowercase()), i);
                if let Some(p) = Platform::from_host(host) {
                    // Only the platform's search host answers the short form,
                    // so an item on another host cannot shadow a search page.
                    let search_host = url::Url::parse(crate::model::config::default_base_url(p))
                        .ok()
                        .and_then(|b| b.host_str().map(str::to_string));
                    if search_host.as_deref() == Some(&host.to_ascii_lowercase()) {
                        by_platform.insert(format!("{}{rest}", p.as_str()), i);
                    }
                }
            }
        }
        Ok(MockState {
            recording,
            by_host,
            by_platform,
            faults,
            log: Mutex::new(Vec::new()),
            started: Instant::now(),
        })
    }

    /// The manifest entry a request path stands for.
    fn lookup(&self, path: &str, query: Option<&str>) -> Option<usize> {
        let canon = |p: &str| {
            let raw = match query {
                Some(q) => format!("http://x{p}?{q}"),
                None => format!("http://x{p}"),
            };
            url::Url::parse(&raw)
                .map(|u| path_and_query(&u))
                .unwrap_or_else(|_| p.to_string())
        };
        let by_host = |p: &str| {
            split_host_segment(p).and_then(|(host, rest)| {
                self.by_host
                    .get(&format!("{}{}", host.to_ascii_lowercase(), canon(rest)))
                    .copied()
            })
        };
        if let Some(i) = by_host(path) {
            return Some(i);
        }
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let (first, rest) = match trimmed.find('/') {
            Some(i) => (&trimmed[..i], &trimmed[i..]),
            None => (trimmed, "/"),
        };
        if let Some(platform) = Platform::from_name(first) {
            if let Some(i) = by_host(rest) {
                return Some(i);
            }
            return self
                .by_platform
                .get(&format!("{}{}", platform.as_str(), canon(rest)))
                .copied();
        }
        // A mock at the root standing in for one platform.
        Platform::ALL
            .into_iter()
            .find_map(|p| {
                self.by_platform
                    .get(&format!("{}{}", p.as_str(), canon(path)))
            })
            .copied()
    }
}

/// `GET` returns the request log as JSON (arrival seconds since the mock
/// started, host key, path, status) so an out-of-process client (the
/// Scrapy comparison) can be measured from the server's side too;
/// `DELETE` clears it. Not logged itself.
pub const LOG_PATH: &str = "/__mock__/log";

fn log_json(state: &MockState, clear: bool) -> Response {
    let mut log = state.log.lock().unwrap_or_else(|e| e.into_inner());
    let entries: Vec<serde_json::Value> = log
        .iter()
        .map(|r| {
            serde_json::json!({
                "t": r.at.duration_since(state.started).as_secs_f64(),
                "host_key": r.host_key,
                "path": r.path,
                "status": r.status,
            })
        })
        .collect();
    if clear {
        log.clear();
    }
    let mut r = Response::new(Body::from(serde_json::Value::Array(entries).to_string()));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn path_and_query(u: &url::Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

async fn serve(State(state): State<Arc<MockState>>, req: Request) -> Response {
    let at = Instant::now();
    let path = req.uri().path().to_string();
    if path == LOG_PATH {
        return log_json(&state, req.method() == axum::http::Method::DELETE);
    }
    let query = req.uri().query().map(str::to_string);
    let full = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let host_key = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .filter(|s| !s.is_empty() && !s.contains('.'))
        .unwrap_or_default()
        .to_string();
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // Logged on arrival, so a request whose answer never completes (slow
    // headers, client timeout) is still seen; the status is filled in later.
    let index = {
        let mut log = state.log.lock().unwrap_or_else(|e| e.into_inner());
        log.push(RequestLog {
            at,
            path: full.clone(),
            host_key,
            user_agent,
            status: 0,
            retry_after: None,
        });
        log.len() - 1
    };
    let fault = state.faults.pick(&path);
    let response = respond(&state, &path, query.as_deref(), &full, fault).await;
    if let Some(entry) = state
        .log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(index)
    {
        entry.status = response.status().as_u16();
        entry.retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| asked_wait(v, at));
    }
    response
}

async fn respond(
    state: &MockState,
    path: &str,
    query: Option<&str>,
    full: &str,
    fault: Option<Fault>,
) -> Response {
    match fault {
        Some(Fault::TooManyRequests(after)) => {
            return with_retry_after(text(StatusCode::TOO_MANY_REQUESTS, "slow down"), after);
        }
        Some(Fault::Unavailable(after)) => {
            return with_retry_after(
                text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
                after,
            );
        }
        Some(Fault::ServerError(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return text(status, "server error");
        }
        Some(Fault::Oversized { bytes, declared }) => {
            return oversized(bytes, declared);
        }
        Some(Fault::GzipBomb { decompressed_bytes }) => {
            let mut r = Response::new(Body::from(gzip_zeros(decompressed_bytes)));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return r;
        }
        Some(Fault::RedirectLoop) => {
            let mut r = text(StatusCode::FOUND, "");
            if let Ok(v) = HeaderValue::from_str(full) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        Some(Fault::RedirectTo(to)) => {
            let mut r = text(StatusCode::FOUND, "");
            if let Ok(v) = HeaderValue::from_str(&to) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        Some(Fault::Punish) => {
            let mut r = Response::new(Body::from(PUNISH_PAGE));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return r;
        }
        Some(Fault::SlowHeaders(delay)) => {
            tokio::time::sleep(delay).await;
        }
        _ => {}
    }
    let mut response = page(state, path, query);
    match fault {
        Some(Fault::SlowBody { delay, chunks }) => {
            response = slow_body(response, delay, chunks).await;
        }
        Some(Fault::Reset) => {
            response = reset_body(response).await;
        }
        _ => {}
    }
    response
}

/// The recorded answer for a path, robots.txt, or a 404.
fn page(state: &MockState, path: &str, query: Option<&str>) -> Response {
    if let Some(prefix) = path.strip_suffix("/robots.txt") {
        return match state.faults.robots.get(prefix) {
            Some(body) => {
                let mut r = Response::new(Body::from(body.clone()));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                r
            }
            None => text(StatusCode::NOT_FOUND, "no robots.txt"),
        };
    }
    let (Some(rec), Some(i)) = (&state.recording, state.lookup(path, query)) else {
        return text(StatusCode::NOT_FOUND, "not in recording");
    };
    let entry = &rec.pages()[i];
    let body = match rec.read_body(entry) {
        Ok(b) => b,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(entry.status).unwrap_or(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&entry.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn text(status: StatusCode, body: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

fn oversized(bytes: u64, declared: bool) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunk = Bytes::from(vec![b'a'; CHUNK]);
    let n = bytes.div_ceil(CHUNK as u64);
    let stream =
        futures_util::stream::iter((0..n).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())));
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    if declared {
        if let Ok(v) = HeaderValue::from_str(&(n * CHUNK as u64).to_string()) {
            r.headers_mut().insert(header::CONTENT_LENGTH, v);
        }
    }
    r
}

/// A gzip stream of zeros, compressed once per size and cached.
fn gzip_zeros(decompressed: u64) -> Bytes {
    static CACHE: OnceLock<Mutex<HashMap<u64, Bytes>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(decompressed)
        .or_insert_with(|| {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            let zeros = vec![0u8; 1 << 20];
            let mut left = decompressed;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                let _ = gz.write_all(&zeros[..n]);
                left -= n as u64;
            }
            Bytes::from(gz.finish().unwrap_or_default())
        })
        .clone()
}

async fn collect(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

async fn slow_body(response: Response, delay: Duration, chunks: usize) -> Response {
    let (parts, bytes) = collect(response).await;
    let chunks = chunks.max(1);
    let size = bytes.len().div_ceil(chunks).max(1);
    let pieces: Vec<Bytes> = bytes.chunks(size).map(Bytes::copy_from_slice).collect();
    let stream = futures_util::stream::unfold(pieces.into_iter(), move |mut it| async move {
        let next = it.next()?;
        tokio::time::sleep(delay).await;
        Some((Ok::<Bytes, std::io::Error>(next), it))
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// Sends the headers and half the body, then fails the stream: hyper
/// drops the connection, and the client sees it die mid-response.
async fn reset_body(response: Response) -> Response {
    let (mut parts, bytes) = collect(response).await;
    let half = bytes.slice(..bytes.len() / 2);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().max(1).to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    let items: Vec<std::result::Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "mock: connection reset",
        )),
    ];
    Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(items)))
}

/// Adds a `Retry-After` header in the form asked for.
fn with_retry_after(mut r: Response, after: RetryAfter) -> Response {
    let value = match after {
        RetryAfter::Absent => None,
        RetryAfter::Seconds(s) => Some(s.to_string()),
        RetryAfter::Date(d) => {
            // HTTP dates have whole seconds: round up so the wait asked for
            // is at least `d`.
            let when = SystemTime::now() + d + Duration::from_millis(999);
            Some(httpdate::fmt_http_date(when))
        }
    };
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The wait a `Retry-After` value asks for, counted from `arrived`.
fn asked_wait(value: &str, arrived: Instant) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value.trim()).ok()?;
    let now_wall = SystemTime::now();
    let elapsed = arrived.elapsed();
    let arrived_wall = now_wall.checked_sub(elapsed)?;
    Some(when.duration_since(arrived_wall).unwrap_or(Duration::ZERO))
}

/// What AliExpress serves an anonymous crawler it has flagged (HTTP 200).
const PUNISH_PAGE: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Captcha Interception</title></head>
<body><script>window._config_ = {"action": "captcha", "url": "https://www.aliexpress.com//_____tmd_____/punish?x5secdata=mock&x5step=1"};</script>
<div id="nocaptcha"></div></body></html>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rules_count_hits_and_skip_robots() {
        let f = Faults::none().first("/a/", 2, Fault::ServerError(503));
        assert_eq!(f.pick("/a/robots.txt"), None);
        assert_eq!(f.pick("/a/x"), Some(Fault::ServerError(503)));
        assert_eq!(f.pick("/b/x"), None);
        assert_eq!(f.pick("/a/y"), Some(Fault::ServerError(503)));
        assert_eq!(f.pick("/a/z"), None);
    }

    #[test]
    fn gzip_bomb_is_small_on_the_wire() {
        let b = gzip_zeros(4 << 20);
        assert!(b.len() < 64 * 1024, "{}", b.len());
    }
}
