//! WARC/1.1 writer (ISO 28500:2017) for live-crawl captures.
//!
//! A `.warc.gz` file is a series of records, each compressed as its own
//! gzip member so that tools can seek to any record. Every file starts with
//! a `warcinfo` record (software and version, operator, robots policy, the
//! User-Agent). Each HTTP exchange of a capture, every hop of a redirect
//! chain included, adds a `request` record holding the request line and
//! headers actually sent, and a `response` record (`application/http`)
//! holding the response as received; the request names the response in
//! `WARC-Concurrent-To`.
//!
//! The response payload is the body as it came over the wire:
//! `Content-Encoding` kept (gzip bytes stay gzip), only the transfer
//! framing (chunks) removed by the HTTP client, so its `Transfer-Encoding`
//! header is written as `X-Knockoff-Orig-Transfer-Encoding`. `WARC-Date` of
//! a response is when its first bytes (status and headers) came in; of a
//! request, when it was sent.
//!
//! Digests are what archive tools check: `WARC-Block-Digest` and
//! `WARC-Payload-Digest` as `sha1:` + base32 (RFC 4648). SHA-256, the hash
//! the rest of knockoff names evidence by, rides along in lowercase hex:
//! `X-Knockoff-Payload-SHA256` (the payload as stored) and, on the record
//! that answered a capture, `X-Knockoff-Body-SHA256` (the body as parsed,
//! content coding undone: the capture's `sha256`, what the store, cases and
//! exports refer to; the export's `warcfind` finds records by it). Its
//! earlier redirect hops are named, in order, by `X-Knockoff-Redirect-Hop`.
//!
//! Files written before this layout (payload stored decoded, one
//! request/response pair per capture, `sha256:`-hex digests) are still
//! read by replay and `warcfind`.

use crate::fetch::{sha256_hex, Capture, Exchange};
use crate::model::error::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha1::{Digest, Sha1};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The WARC version line written on every record.
pub const WARC_VERSION: &str = "WARC/1.1";

/// `name/version` of this build, for `warcinfo`.
pub const SOFTWARE: &str = concat!("knockoff/", env!("CARGO_PKG_VERSION"));

/// Custom field: SHA-256 (hex) of the payload as stored.
pub const PAYLOAD_SHA256_FIELD: &str = "X-Knockoff-Payload-SHA256";
/// Custom field: SHA-256 (hex) of the capture's decoded body.
pub const BODY_SHA256_FIELD: &str = "X-Knockoff-Body-SHA256";
/// Custom field: record id of an earlier redirect hop's response.
pub const REDIRECT_HOP_FIELD: &str = "X-Knockoff-Redirect-Hop";
/// Custom field: the URL actually fetched, when the target URI is the real
/// marketplace URL a stand-in (loopback mock) base stood for.
pub const FETCHED_FROM_FIELD: &str = "X-Knockoff-Fetched-From";

/// What the `warcinfo` record says about the crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcInfo {
    /// `name/version`.
    pub software: String,
    /// Who ran the crawl: the contact given in the User-Agent.
    pub operator: String,
    /// `obey`, `ignore`, or `none` (nothing fetched from the network).
    pub robots: String,
    pub user_agent: String,
}

impl WarcInfo {
    /// This build's software name, the operator taken from the contact in
    /// `user_agent` (what `[crawl] user_agent` is for), and a robots
    /// policy.
    pub fn new(user_agent: &str, robots: &str) -> WarcInfo {
        WarcInfo {
            software: SOFTWARE.to_string(),
            operator: operator_of(user_agent),
            robots: robots.to_string(),
            user_agent: user_agent.to_string(),
        }
    }
}

/// The contact in a User-Agent: its `mailto:`/`http(s)` tokens (a leading
/// `+` dropped), else the comment in parentheses, else the whole string.
pub fn operator_of(user_agent: &str) -> String {
    let contacts: Vec<&str> = user_agent
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ';')
        .map(|t| t.trim_start_matches('+'))
        .filter(|t| {
            t.starts_with("mailto:") || t.starts_with("http://") || t.starts_with("https://")
        })
        .collect();
    if !contacts.is_empty() {
        return contacts.join(" ");
    }
    match (user_agent.find('('), user_agent.rfind(')')) {
        (Some(a), Some(b)) if a < b => user_agent[a + 1..b].trim().to_string(),
        _ => user_agent.trim().to_string(),
    }
}

/// Writes WARC records, one gzip member each.
pub struct WarcWriter<W: Write> {
    out: W,
    /// For error messages.
    path: PathBuf,
}

impl WarcWriter<std::io::BufWriter<std::fs::File>> {
    /// Creates (truncates) a `.warc.gz` file and writes its `warcinfo`.
    pub fn create(path: &Path, info: &WarcInfo) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = WarcWriter::new(std::io::BufWriter::new(file), path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        w.write_warcinfo(&name, info, Utc::now())?;
        Ok(w)
    }
}

impl<W: Write> WarcWriter<W> {
    /// Wraps any writer; `path` names it in errors.
    pub fn new(out: W, path: &Path) -> Self {
        WarcWriter {
            out,
            path: path.to_path_buf(),
        }
    }

    /// The `warcinfo` record that opens a file.
    pub fn write_warcinfo(
        &mut self,
        filename: &str,
        info: &WarcInfo,
        date: DateTime<Utc>,
    ) -> Result<String> {
        let fields = [
            ("software", info.software.as_str()),
            ("format", "WARC File Format 1.1"),
            (
                "conformsTo",
                "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            ),
            ("operator", info.operator.as_str()),
            ("robots", info.robots.as_str()),
            ("http-header-user-agent", info.user_agent.as_str()),
        ];
        let mut block = String::new();
        for (name, value) in fields {
            block.push_str(&format!("{name}: {}\r\n", one_line(value)));
        }
        let id = record_id();
        self.write_record(
            &[
                ("WARC-Type", "warcinfo".to_string()),
                ("WARC-Record-ID", id.clone()),
                ("WARC-Date", warc_date(date)),
                ("WARC-Filename", filename.to_string()),
                ("Content-Type", "application/warc-fields".to_string()),
                ("WARC-Block-Digest", sha1_base32(block.as_bytes())),
            ],
            block.as_bytes(),
        )?;
        Ok(id)
    }

    /// Every exchange of a live capture, in order: a `request` and a
    /// `response` record per hop. `target` maps a fetched URL to the URI
    /// recorded (the real marketplace URL behind a stand-in base).
    /// Returns the id of the answering response record.
    pub fn write_capture(
        &mut self,
        capture: &Capture,
        target: impl Fn(&str) -> String,
    ) -> Result<Option<String>> {
        let mut hops: Vec<String> = Vec::new();
        let last = capture.exchanges.len().saturating_sub(1);
        for (i, exchange) in capture.exchanges.iter().enumerate() {
            let response_id = record_id();
            let uri = target(&exchange.url);
            let fetched_from = (uri != exchange.url).then_some(exchange.url.as_str());
            self.write_sent_request(&uri, exchange, &response_id, fetched_from)?;
            let answer = (i == last).then_some((capture.sha256.as_str(), hops.as_slice()));
            self.write_received_response(
                &uri,
                exchange,
                capture.wire_body(exchange),
                &response_id,
                fetched_from,
                answer,
            )?;
            hops.push(response_id);
        }
        Ok(hops.pop())
    }

    /// The `request` record of one exchange: the request line and headers
    /// as sent.
    fn write_sent_request(
        &mut self,
        target_uri: &str,
        exchange: &Exchange,
        response_id: &str,
        fetched_from: Option<&str>,
    ) -> Result<String> {
        let mut block = Vec::with_capacity(512);
        block.extend_from_slice(exchange.request_line.as_bytes());
        block.extend_from_slice(b"\r\n");
        push_headers(&mut block, &exchange.request_headers, false);
        block.extend_from_slice(b"\r\n");
        let id = record_id();
        let mut headers = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", id.clone()),
            ("WARC-Date", warc_date(exchange.sent_at)),
            ("WARC-Target-URI", target_uri.to_string()),
            ("WARC-Concurrent-To", response_id.to_string()),
            (
                "Content-Type",
                "application/http;msgtype=request".to_string(),
            ),
            ("WARC-Block-Digest", sha1_base32(&block)),
        ];
        if let Some(url) = fetched_from {
            headers.push((FETCHED_FROM_FIELD, url.to_string()));
        }
        self.write_record(&headers, &block)?;
        Ok(id)
    }

    /// The `response` record of one exchange: status line, headers and the
    /// body as received. `answer` is set on the response that answered
    /// the capture: the decoded body's SHA-256 and the earlier hops'
    /// response ids.
    fn write_received_response(
        &mut self,
        target_uri: &str,
        exchange: &Exchange,
        payload: &[u8],
        id: &str,
        fetched_from: Option<&str>,
        answer: Option<(&str, &[String])>,
    ) -> Result<()> {
        let mut block = Vec::with_capacity(payload.len() + 1024);
        block.extend_from_slice(
            format!(
                "{} {} {}\r\n",
                exchange.version,
                exchange.status,
                reason_phrase(exchange.status)
            )
            .as_bytes(),
        );
        push_headers(&mut block, &exchange.response_headers, true);
        block.extend_from_slice(b"\r\n");
        block.extend_from_slice(payload);
        let mut headers = vec![
            ("WARC-Type", "response".to_string()),
            ("WARC-Record-ID", id.to_string()),
            ("WARC-Date", warc_date(exchange.received_at)),
            ("WARC-Target-URI", target_uri.to_string()),
        ];
        if let Some(ip) = &exchange.remote_ip {
            headers.push(("WARC-IP-Address", ip.clone()));
        }
        headers.extend([
            (
                "Content-Type",
                "application/http;msgtype=response".to_string(),
            ),
            ("WARC-Payload-Digest", sha1_base32(payload)),
            ("WARC-Block-Digest", sha1_base32(&block)),
            (PAYLOAD_SHA256_FIELD, sha256_hex(payload)),
        ]);
        if let Some((body_sha256, hops)) = answer {
            headers.push((BODY_SHA256_FIELD, body_sha256.to_string()));
            for hop in hops {
                headers.push((REDIRECT_HOP_FIELD, hop.clone()));
            }
        }
        if let Some(url) = fetched_from {
            headers.push((FETCHED_FROM_FIELD, url.to_string()));
        }
        self.write_record(&headers, &block)
    }

    /// A `response` record for a capture that has no wire exchange (a
    /// replayed one): the body as knockoff holds it, decoded, under a
    /// header block that drops `Content-Encoding`, `Transfer-Encoding` and
    /// `Content-Length` and states the true length, so the record is
    /// self-consistent. `id` is made beforehand with [`record_id`].
    pub fn write_response(&mut self, target_uri: &str, capture: &Capture, id: &str) -> Result<()> {
        let payload = &capture.body;
        let block = http_response(
            capture.status,
            &capture.headers,
            capture.content_type.as_deref(),
            payload,
        );
        self.write_record(
            &[
                ("WARC-Type", "response".to_string()),
                ("WARC-Record-ID", id.to_string()),
                ("WARC-Date", warc_date(capture.captured_at)),
                ("WARC-Target-URI", target_uri.to_string()),
                (
                    "Content-Type",
                    "application/http;msgtype=response".to_string(),
                ),
                ("WARC-Payload-Digest", sha1_base32(payload)),
                ("WARC-Block-Digest", sha1_base32(&block)),
                (PAYLOAD_SHA256_FIELD, sha256_hex(payload)),
                (BODY_SHA256_FIELD, capture.sha256.clone()),
            ],
            &block,
        )
    }

    /// One record as its own gzip member: version, headers, exact
    /// `Content-Length`, block, and the two CRLFs that end a record.
    pub fn write_record(&mut self, headers: &[(&str, String)], block: &[u8]) -> Result<()> {
        let mut record = Vec::with_capacity(block.len() + 512);
        record.extend_from_slice(WARC_VERSION.as_bytes());
        record.extend_from_slice(b"\r\n");
        for (name, value) in headers {
            record.extend_from_slice(format!("{name}: {}\r\n", one_line(value)).as_bytes());
        }
        record.extend_from_slice(format!("Content-Length: {}\r\n\r\n", block.len()).as_bytes());
        record.extend_from_slice(block);
        record.extend_from_slice(b"\r\n\r\n");
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        let io = |e| Error::io(&self.path, e);
        gz.write_all(&record).map_err(io)?;
        let member = gz.finish().map_err(io)?;
        self.out.write_all(&member).map_err(io)?;
        Ok(())
    }

    /// Flushes buffered records to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `sha1:` + base32 (RFC 4648, upper case), the digest form archive tools
/// (warcio, pywb, Heritrix) expect in `WARC-*-Digest`.
pub fn sha1_base32(bytes: &[u8]) -> String {
    format!(
        "sha1:{}",
        data_encoding::BASE32.encode(&Sha1::digest(bytes))
    )
}

/// A fresh `<urn:uuid:…>` (random, version 4).
pub fn record_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// WARC-Date: ISO 8601 UTC; WARC/1.1 allows sub-second precision.
pub fn warc_date(date: DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A value with CR and LF removed: it must not break the record structure.
fn one_line(value: &str) -> String {
    value.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// `name: value` lines, value bytes as they were. With `dechunked`, a
/// `Transfer-Encoding` header is renamed: the client removed that framing,
/// and a reader must not look for it in the payload.
fn push_headers(out: &mut Vec<u8>, headers: &[(String, Vec<u8>)], dechunked: bool) {
    for (name, value) in headers {
        let name = if dechunked && name.eq_ignore_ascii_case("transfer-encoding") {
            "X-Knockoff-Orig-Transfer-Encoding"
        } else {
            name.as_str()
        };
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        // HTTP header values hold no CR or LF; dropped all the same.
        out.extend(value.iter().filter(|b| **b != b'\r' && **b != b'\n'));
        out.extend_from_slice(b"\r\n");
    }
}

/// Headers that described the bytes on the wire, not a decoded payload.
const WIRE_HEADERS: &[&str] = &["content-encoding", "transfer-encoding", "content-length"];

fn http_response(
    status: u16,
    headers: &[(String, String)],
    content_type: Option<&str>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).into_bytes();
    let mut has_content_type = false;
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if WIRE_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        has_content_type |= lower == "content-type";
        out.extend_from_slice(format!("{name}: {}\r\n", one_line(value)).as_bytes());
    }
    if let (false, Some(ct)) = (has_content_type, content_type) {
        out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", payload.len()).as_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::MultiGzDecoder;
    use std::io::Read;

    #[test]
    fn record_ids_are_uuid_v4_urns() {
        let id = record_id();
        assert_eq!(id.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&id[24..25], "4");
        assert_ne!(id, record_id());
    }

    /// Known answers: SHA-1 of "" and "abc" (FIPS 180), in RFC 4648
    /// base32 as warcio writes them.
    #[test]
    fn sha1_digests_are_base32() {
        assert_eq!(sha1_base32(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(sha1_base32(b"abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
    }

    #[test]
    fn the_operator_is_the_contact_in_the_user_agent() {
        assert_eq!(
            operator_of("knockoff/0.1 (brand team; +mailto:ip@brand.example)"),
            "mailto:ip@brand.example"
        );
        assert_eq!(
            operator_of("knockoff/0.1 (brand-protection crawler; +https://x.example/k)"),
            "https://x.example/k"
        );
        assert_eq!(operator_of("knockoff/0.1 (Brand Ltd)"), "Brand Ltd");
        assert_eq!(operator_of("knockoff/0.1"), "knockoff/0.1");
    }

    /// Splits a `.warc.gz` held in memory into (head, block) pairs.
    fn records(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut all = Vec::new();
        MultiGzDecoder::new(bytes).read_to_end(&mut all).unwrap();
        let mut out = Vec::new();
        let mut rest = &all[..];
        while !rest.is_empty() {
            let end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let head = String::from_utf8(rest[..end].to_vec()).unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            let block = rest[end + 4..end + 4 + len].to_vec();
            assert_eq!(&rest[end + 4 + len..end + 8 + len], b"\r\n\r\n");
            rest = &rest[end + 8 + len..];
            out.push((head, block));
        }
        out
    }

    fn field<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
        head.lines()
            .filter_map(|l| l.strip_prefix(&format!("{name}: ")))
            .collect()
    }

    #[test]
    fn each_record_is_its_own_gzip_member_with_exact_length() {
        let mut w = WarcWriter::new(Vec::new(), Path::new("t.warc.gz"));
        w.write_warcinfo(
            "t.warc.gz",
            &WarcInfo::new("knockoff-test (+mailto:a@b.example)", "obey"),
            Utc::now(),
        )
        .unwrap();
        let id = record_id();
        let url = "https://www.aliexpress.com/item/1.html";
        let mut capture = Capture::new(url, 200, None, Utc::now(), b"<html>hi</html>".to_vec());
        capture.headers = vec![
            ("Content-Encoding".into(), "gzip".into()),
            ("Content-Type".into(), "text/html".into()),
        ];
        w.write_response(url, &capture, &id).unwrap();
        let bytes = w.into_inner();
        // Two members: the first gzip member decodes on its own.
        let mut first = flate2::read::GzDecoder::new(&bytes[..]);
        let mut text = String::new();
        first.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
        for want in [
            "software: knockoff/",
            "operator: mailto:a@b.example",
            "robots: obey",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
        let recs = records(&bytes);
        let (head, block) = &recs[1];
        let block = String::from_utf8(block.clone()).unwrap();
        assert!(!block.contains("Content-Encoding"));
        assert!(block.ends_with("Content-Length: 15\r\n\r\n<html>hi</html>"));
        assert_eq!(
            field(head, "WARC-Payload-Digest"),
            [sha1_base32(b"<html>hi</html>")]
        );
        assert_eq!(
            field(head, BODY_SHA256_FIELD),
            [sha256_hex(b"<html>hi</html>")]
        );
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// A redirect then a gzip answer: two request/response pairs, the
    /// wire bytes kept, the digests right, the answer naming its hop.
    #[test]
    fn a_capture_writes_every_hop_with_the_wire_bytes() {
        let html = b"<html>gzip me</html>".to_vec();
        let wire = gzip(&html);
        let t = Utc::now();
        let hop =
            |url: &str, status: u16, headers: &[(&str, &[u8])], body: Option<Vec<u8>>| Exchange {
                url: url.into(),
                request_line: "GET /a HTTP/1.1".into(),
                request_headers: vec![
                    ("host".into(), b"h.example".to_vec()),
                    ("user-agent".into(), b"ua".to_vec()),
                ],
                sent_at: t,
                received_at: t,
                remote_ip: Some("127.0.0.1".into()),
                version: "HTTP/1.1".into(),
                status,
                response_headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_vec()))
                    .collect(),
                wire_body: body,
            };
        let mut capture = Capture::new("http://h.example/a", 200, None, t, html.clone());
        capture.exchanges = vec![
            hop(
                "http://h.example/a",
                302,
                &[("location", b"/b")],
                Some(Vec::new()),
            ),
            hop(
                "http://h.example/b",
                200,
                &[
                    ("content-encoding", b"gzip"),
                    ("transfer-encoding", b"chunked"),
                ],
                Some(wire.clone()),
            ),
        ];
        let mut w = WarcWriter::new(Vec::new(), Path::new("t.warc.gz"));
        let answer = w
            .write_capture(&capture, |u| u.replace("h.example", "real.example"))
            .unwrap()
            .unwrap();
        let recs = records(&w.into_inner());
        assert_eq!(recs.len(), 4);
        let types: Vec<&str> = recs.iter().map(|(h, _)| field(h, "WARC-Type")[0]).collect();
        assert_eq!(types, ["request", "response", "request", "response"]);
        for pair in recs.chunks(2) {
            assert_eq!(
                field(&pair[0].0, "WARC-Concurrent-To"),
                field(&pair[1].0, "WARC-Record-ID")
            );
            assert!(pair[0]
                .1
                .starts_with(b"GET /a HTTP/1.1\r\nhost: h.example\r\n"));
        }
        for (head, block) in &recs {
            assert_eq!(field(head, "WARC-Block-Digest"), [sha1_base32(block)]);
        }
        let (head, block) = &recs[3];
        assert_eq!(field(head, "WARC-Record-ID"), [answer.as_str()]);
        assert_eq!(field(head, "WARC-Target-URI"), ["http://real.example/b"]);
        assert_eq!(field(head, FETCHED_FROM_FIELD), ["http://h.example/b"]);
        assert_eq!(field(head, "WARC-Payload-Digest"), [sha1_base32(&wire)]);
        assert_eq!(field(head, PAYLOAD_SHA256_FIELD), [sha256_hex(&wire)]);
        assert_eq!(field(head, BODY_SHA256_FIELD), [capture.sha256.as_str()]);
        assert_eq!(
            field(head, REDIRECT_HOP_FIELD),
            field(&recs[1].0, "WARC-Record-ID")
        );
        assert!(block.ends_with(&wire));
        let text = String::from_utf8_lossy(block);
        assert!(text.contains("content-encoding: gzip\r\n"));
        assert!(text.contains("X-Knockoff-Orig-Transfer-Encoding: chunked\r\n"));
        assert!(field(&recs[1].0, BODY_SHA256_FIELD).is_empty());
    }
}
