//! Fetching: the [`Fetcher`] seam between the pipeline and the network.
//!
//! The scan asks a `Fetcher` for URLs and gets back a [`Capture`]: raw bytes
//! plus what evidence needs (final URL, UTC time, status, headers, SHA-256).
//! [`replay::ReplayFetcher`] answers from a recording; the live HTTP fetcher
//! answers from the network. Site quirks never live here.

pub mod crawl;
pub mod http;
pub mod mock;
pub mod progress;
pub mod record;
pub mod replay;
pub mod warc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What kind of resource is asked for; live fetching caps bodies per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Page,
    Image,
}

/// One response, exactly as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Capture {
    /// The URL asked for.
    pub url: String,
    /// The URL that answered, after redirects.
    pub final_url: String,
    /// Redirect chain: every URL that answered with a redirect, the
    /// requested URL first (empty without redirects); `final_url` answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// When the response was captured (UTC): live, when the answering
    /// response's status and headers arrived.
    pub captured_at: DateTime<Utc>,
    /// SHA-256 of `body`, lowercase hex.
    pub sha256: String,
    /// Response headers as received, in order (empty for replayed
    /// captures, whose recordings keep only the content type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// Body bytes as parsers use them: transfer framing removed and any
    /// `Content-Encoding` (gzip) decoded. What went over the wire is in
    /// `exchanges`.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The HTTP exchanges behind a live capture, one per hop of the
    /// redirect chain, the answering one last (empty for replayed
    /// captures): what the WARC records.
    #[serde(skip)]
    pub exchanges: Vec<Exchange>,
}

/// One HTTP request and its response as they went over the wire, for a
/// WARC `request`/`response` pair.
///
/// Header names are as the HTTP client holds them (lowercase; names are
/// case-insensitive in HTTP) and the status line's reason phrase is the
/// canonical one; values and body bytes are as received.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The URL this hop asked for.
    pub url: String,
    /// Request line as sent (`GET /path?q HTTP/1.1`), without CRLF.
    pub request_line: String,
    /// Request headers exactly as sent, in order (`Host` included).
    pub request_headers: Vec<(String, Vec<u8>)>,
    /// Just before the request was sent (UTC).
    pub sent_at: DateTime<Utc>,
    /// When the response's first bytes (status and headers) came in (UTC).
    pub received_at: DateTime<Utc>,
    /// The server's IP address, when the client knows it.
    pub remote_ip: Option<String>,
    /// `HTTP/1.1`, `HTTP/1.0`, ...
    pub version: String,
    pub status: u16,
    /// Response headers as received, in order.
    pub response_headers: Vec<(String, Vec<u8>)>,
    /// The response body as received, `Content-Encoding` kept (transfer
    /// framing, such as chunks, removed by the HTTP client). `None` when
    /// it is byte for byte the capture's `body` (the answering hop without
    /// content coding), so a page is not held twice.
    pub wire_body: Option<Vec<u8>>,
}

impl Capture {
    /// Builds a capture, computing the body's SHA-256.
    pub fn new(
        url: impl Into<String>,
        status: u16,
        content_type: Option<String>,
        captured_at: DateTime<Utc>,
        body: Vec<u8>,
    ) -> Capture {
        let url = url.into();
        Capture {
            final_url: url.clone(),
            url,
            redirects: Vec::new(),
            status,
            content_type,
            captured_at,
            sha256: sha256_hex(&body),
            headers: Vec::new(),
            body,
            exchanges: Vec::new(),
        }
    }

    /// True for 2xx responses.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of `exchange` (one of `exchanges`) as it went over the wire.
    pub fn wire_body<'a>(&'a self, exchange: &'a Exchange) -> &'a [u8] {
        exchange.wire_body.as_deref().unwrap_or(&self.body)
    }
}

/// Why a fetch produced no capture at all (network-level failures; HTTP
/// error statuses are captures).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{url}: body larger than {limit_bytes} bytes")]
    TooLarge { url: String, limit_bytes: u64 },
    #[error("{url}: disallowed by robots.txt")]
    Disallowed { url: String },
    #[error("{url}: host {host} backed off for the rest of the run ({reason})")]
    HostBackedOff {
        url: String,
        host: String,
        reason: String,
    },
    /// A compressed body that decodes to more than the body-size limit
    /// (a compression bomb, or just too big a page).
    #[error("{url}: {encoding}-encoded body decodes to more than {limit_bytes} bytes")]
    DecodedTooLarge {
        url: String,
        encoding: String,
        limit_bytes: u64,
    },
    #[error("{url}: {message}")]
    Invalid { url: String, message: String },
    /// The network policy refused the URL (a host outside the crawled
    /// platforms and their photo CDNs, or a loopback, private, link-local
    /// or metadata address that is not a configured base URL); nothing was
    /// sent to it.
    #[error("{url}: refused by the network policy: {reason}")]
    Refused { url: String, reason: String },
}

/// The seam: anything that can turn a URL into a [`Capture`].
#[async_trait::async_trait]
pub trait Fetcher: Send + Sync {
    /// Fetches one URL. HTTP error statuses (404, 500) are `Ok` captures;
    /// `Err` means no response was had.
    async fn fetch(&self, url: &str, kind: ResourceKind) -> Result<Capture, FetchError>;

    /// Fetches a listing's photo. `platform` is the platform of the listing
    /// that shows it: photo CDN hosts (`img.alicdn.com`) serve several
    /// platforms, and a crawl pointed at stand-in bases fetches the photo
    /// through the base of the listing's platform.
    async fn fetch_photo(
        &self,
        url: &str,
        platform: crate::model::listing::Platform,
    ) -> Result<Capture, FetchError> {
        let _ = platform;
        self.fetch(url, ResourceKind::Image).await
    }

    /// How this fetcher treats robots.txt, for the WARC `warcinfo`
    /// record: `obey`, `ignore`, or `none` when it does not go to the
    /// network.
    fn robots_policy(&self) -> &'static str {
        "none"
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
