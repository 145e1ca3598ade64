//! WARC/1.1 writer (ISO 28500:2017) for live-crawl captures.
//!
//! A `.warc.gz` file is a series of records, each compressed as its own
//! gzip member so that tools can seek to any record. Every file starts with
//! a `warcinfo` record; each capture adds a `request` record and a
//! `response` record (`application/http`) that point at each other with
//! `WARC-Concurrent-To`.
//!
//! Digests are SHA-256, labelled `sha256:` and written in lowercase hex,
//! the same form as the recording manifest and evidence hashes, so a
//! capture's `WARC-Payload-Digest` can be checked against its file by eye.
//! The payload is the body as knockoff used it: content encodings (gzip)
//! already removed. The HTTP header block written with it therefore drops
//! `Content-Encoding`, `Transfer-Encoding` and `Content-Length` and states
//! the true length, so the record is self-consistent.

use crate::fetch::{sha256_hex, Capture};
use crate::model::error::{Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The WARC version line written on every record.
pub const WARC_VERSION: &str = "WARC/1.1";

/// Writes WARC records, one gzip member each.
pub struct WarcWriter<W: Write> {
    out: W,
    /// For error messages.
    path: PathBuf,
}

impl WarcWriter<std::io::BufWriter<std::fs::File>> {
    /// Creates (truncates) a `.warc.gz` file and writes its `warcinfo`.
    pub fn create(path: &Path, software: &str) -> Result<Self> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = WarcWriter::new(std::io::BufWriter::new(file), path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        w.write_warcinfo(&name, software, Utc::now())?;
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
        software: &str,
        date: DateTime<Utc>,
    ) -> Result<String> {
        let block = format!(
            "software: {software}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
        );
        let id = record_id();
        self.write_record(
            &[
                ("WARC-Type", "warcinfo".to_string()),
                ("WARC-Record-ID", id.clone()),
                ("WARC-Date", warc_date(date)),
                ("WARC-Filename", filename.to_string()),
                ("Content-Type", "application/warc-fields".to_string()),
            ],
            block.as_bytes(),
        )?;
        Ok(id)
    }

    /// A `request` record for a GET of `target_uri`.
    pub fn write_request(
        &mut self,
        target_uri: &str,
        date: DateTime<Utc>,
        user_agent: &str,
        concurrent_to: Option<&str>,
    ) -> Result<String> {
        let block = http_request(target_uri, user_agent);
        let id = record_id();
        let mut headers = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", id.clone()),
            ("WARC-Date", warc_date(date)),
            ("WARC-Target-URI", target_uri.to_string()),
            (
                "Content-Type",
                "application/http;msgtype=request".to_string(),
            ),
            (
                "WARC-Block-Digest",
                format!("sha256:{}", sha256_hex(&block)),
            ),
        ];
        if let Some(other) = concurrent_to {
            headers.push(("WARC-Concurrent-To", other.to_string()));
        }
        self.write_record(&headers, &block)?;
        Ok(id)
    }

    /// A `response` record for a capture: status line, headers and body.
    /// `id` is the record id, made beforehand with [`record_id`] so the
    /// request record can name it in `WARC-Concurrent-To`.
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
                (
                    "WARC-Payload-Digest",
                    format!("sha256:{}", sha256_hex(payload)),
                ),
                (
                    "WARC-Block-Digest",
                    format!("sha256:{}", sha256_hex(&block)),
                ),
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
            // A header value must not break the record structure.
            let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            record.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
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

/// The GET request knockoff sent, as an HTTP/1.1 message.
fn http_request(target_uri: &str, user_agent: &str) -> Vec<u8> {
    let (host, path) = match url::Url::parse(target_uri) {
        Ok(u) => {
            let host = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            };
            let path = match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            };
            (host, path)
        }
        Err(_) => (String::new(), target_uri.to_string()),
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept-Encoding: gzip\r\n\r\n"
    )
    .into_bytes()
}

/// Headers that described the bytes on the wire, not the payload kept.
const WIRE_HEADERS: &[&str] = &["content-encoding", "transfer-encoding", "content-length"];

fn http_response(
    status: u16,
    headers: &[(String, String)],
    content_type: Option<&str>,
    payload: &[u8],
) -> Vec<u8> {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    let mut has_content_type = false;
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if WIRE_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        has_content_type |= lower == "content-type";
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
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

    #[test]
    fn each_record_is_its_own_gzip_member_with_exact_length() {
        let mut w = WarcWriter::new(Vec::new(), Path::new("t.warc.gz"));
        w.write_warcinfo("t.warc.gz", "knockoff-test", Utc::now())
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
        let mut all = String::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut all)
            .unwrap();
        let response = &all[all.find("WARC/1.1\r\nWARC-Type: response").unwrap()..];
        let (head, rest) = response.split_once("\r\n\r\n").unwrap();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(&rest[len..], "\r\n\r\n");
        let block = &rest[..len];
        assert!(!block.contains("Content-Encoding"));
        assert!(block.ends_with("Content-Length: 15\r\n\r\n<html>hi</html>"));
        assert!(head.contains(&format!(
            "WARC-Payload-Digest: sha256:{}",
            sha256_hex(b"<html>hi</html>")
        )));
    }
}
