//! Finding a capture's WARC records for its evidence bundle.
//!
//! A live crawl writes `.warc.gz` files beside its recording (see
//! `crate::fetch::record`); the store keeps pages by SHA-256 but does not
//! know where those files are. The export therefore scans the folders it is
//! given (and the data folder) for `*.warc.gz`, splits each into its gzip
//! members (one record each), and indexes the `response` records that
//! answered a capture by the SHA-256 of its decoded body
//! (`X-Knockoff-Body-SHA256`; in files from before it, the `sha256:`
//! `WARC-Payload-Digest`), and `request` records by `WARC-Concurrent-To`.
//! A capture reached through redirects brings its hops along
//! (`X-Knockoff-Redirect-Hop`), each with its request. The bundle gets the
//! members exactly as written by the crawl, so their digests can be
//! checked against the crawl's own files.

use crate::fetch::warc::{BODY_SHA256_FIELD, REDIRECT_HOP_FIELD};
use crate::model::error::{Error, Result};
use flate2::bufread::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How deep below a folder `.warc.gz` files are looked for.
const MAX_DEPTH: usize = 4;

/// The raw gzip members of one capture: the request (if recorded) and the
/// response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcCapture {
    /// The WARC file the members come from.
    pub file: PathBuf,
    pub response_id: String,
    /// Request member (if any) followed by the response member.
    pub bytes: Vec<u8>,
}

/// Response records by payload SHA-256 (lowercase hex).
#[derive(Debug, Default)]
pub struct WarcIndex {
    by_payload: BTreeMap<String, Vec<WarcCapture>>,
    /// WARC files that could not be read, with why.
    pub problems: Vec<String>,
    pub files: usize,
}

impl WarcIndex {
    /// Indexes every `*.warc.gz` under the given folders.
    pub fn scan(dirs: &[PathBuf]) -> WarcIndex {
        let mut files = Vec::new();
        for d in dirs {
            find(d, 0, &mut files);
        }
        files.sort();
        files.dedup();
        let mut index = WarcIndex::default();
        for f in files {
            match std::fs::read(&f) {
                Ok(bytes) => {
                    index.files += 1;
                    if let Err(e) = index.add(&f, &bytes) {
                        index.problems.push(e.to_string());
                    }
                }
                Err(e) => index.problems.push(Error::io(&f, e).to_string()),
            }
        }
        index
    }

    /// The captures whose payload has this SHA-256.
    pub fn captures(&self, sha256: &str) -> &[WarcCapture] {
        self.by_payload
            .get(sha256)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Indexes one WARC file's bytes (`path` names it in errors): what
    /// [`WarcIndex::scan`] does per file, for callers that hold the bytes
    /// (the fuzz harness).
    pub fn add_file(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.add(path, bytes)
    }

    fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut rest = bytes;
        // (body SHA-256, record id, earlier hops' response ids, member)
        let mut answers: Vec<(String, String, Vec<String>, Vec<u8>)> = Vec::new();
        let mut responses: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut requests: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        while !rest.is_empty() {
            let before = rest;
            let mut record = Vec::new();
            let mut dec = GzDecoder::new(rest);
            dec.read_to_end(&mut record).map_err(|e| {
                Error::Other(format!(
                    "{}: bad gzip member at byte {}: {e}",
                    path.display(),
                    bytes.len() - before.len()
                ))
            })?;
            rest = dec.into_inner();
            let member = before[..before.len() - rest.len()].to_vec();
            if member.is_empty() {
                break;
            }
            let head_end = find_subslice(&record, b"\r\n\r\n").unwrap_or(record.len());
            let head = String::from_utf8_lossy(&record[..head_end]);
            let fields = |name: &str| -> Vec<String> {
                head.lines()
                    .filter_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case(name)
                            .then(|| v.trim().to_string())
                    })
                    .collect()
            };
            let field = |name: &str| fields(name).into_iter().next();
            match field("WARC-Type").as_deref() {
                Some("response") => {
                    let Some(id) = field("WARC-Record-ID") else {
                        continue;
                    };
                    if let Some(sha) = body_sha256(&field) {
                        answers.push((sha, id.clone(), fields(REDIRECT_HOP_FIELD), member.clone()));
                    }
                    responses.insert(id, member);
                }
                Some("request") => {
                    if let Some(to) = field("WARC-Concurrent-To") {
                        requests.insert(to, member);
                    }
                }
                _ => {}
            }
        }
        for (sha, id, hops, member) in answers {
            let mut bytes = Vec::new();
            // The redirect chain first, in order, each hop's request and
            // response: the bundle shows how the page was reached.
            for hop in &hops {
                if let Some(response) = responses.get(hop) {
                    bytes.extend_from_slice(requests.get(hop).map_or(&[][..], Vec::as_slice));
                    bytes.extend_from_slice(response);
                }
            }
            bytes.extend_from_slice(requests.get(&id).map_or(&[][..], Vec::as_slice));
            bytes.extend_from_slice(&member);
            self.by_payload.entry(sha).or_default().push(WarcCapture {
                file: path.to_path_buf(),
                response_id: id,
                bytes,
            });
        }
        Ok(())
    }
}

/// The SHA-256 (lowercase hex) of the body a response record answered a
/// capture with: `X-Knockoff-Body-SHA256`, or, in files written before it
/// existed, a `sha256:`-hex `WARC-Payload-Digest` (the payload was stored
/// decoded then). `None` for a redirect hop, or a record from elsewhere.
fn body_sha256(field: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(sha) = field(BODY_SHA256_FIELD) {
        return Some(sha.to_ascii_lowercase());
    }
    let digest = field("WARC-Payload-Digest")?;
    let (algorithm, value) = digest.split_once(':')?;
    let is_hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    (algorithm.eq_ignore_ascii_case("sha256") && is_hex).then(|| value.to_ascii_lowercase())
}

fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if ft.is_dir() {
            // The sled store and tantivy index hold no WARC files.
            if depth < MAX_DEPTH && name != "store" && name != "index" {
                find(&path, depth + 1, out);
            }
        } else if name.ends_with(".warc.gz") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::warc::{record_id, WarcInfo, WarcWriter};
    use crate::fetch::{Capture, Exchange};
    use chrono::Utc;

    fn exchange(url: &str, status: u16, body: Vec<u8>) -> Exchange {
        Exchange {
            url: url.into(),
            request_line: "GET / HTTP/1.1".into(),
            request_headers: vec![("host".into(), b"www.aliexpress.com".to_vec())],
            sent_at: Utc::now(),
            received_at: Utc::now(),
            remote_ip: None,
            version: "HTTP/1.1".into(),
            status,
            response_headers: vec![("content-encoding".into(), b"gzip".to_vec())],
            wire_body: Some(body),
        }
    }

    fn text_of(members: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(members)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn finds_a_capture_with_its_redirect_hops_by_body_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crawl.warc.gz");
        let mut w = WarcWriter::create(&path, &WarcInfo::new("ua", "obey")).unwrap();
        let url = "https://www.aliexpress.com/item/1.html";
        let mut capture = Capture::new(
            url,
            200,
            Some("text/html".into()),
            Utc::now(),
            b"<html>a</html>".to_vec(),
        );
        capture.exchanges = vec![
            exchange("https://www.aliexpress.com/i/1", 302, Vec::new()),
            exchange(url, 200, b"gzip bytes stand-in".to_vec()),
        ];
        let id = w.write_capture(&capture, str::to_string).unwrap().unwrap();
        w.flush().unwrap();
        drop(w);
        let index = WarcIndex::scan(&[dir.path().to_path_buf()]);
        assert!(index.problems.is_empty(), "{:?}", index.problems);
        let found = index.captures(&capture.sha256);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].response_id, id);
        let text = text_of(&found[0].bytes);
        let types: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("WARC-Type: "))
            .collect();
        assert_eq!(types, ["request", "response", "request", "response"]);
        assert!(text.contains("HTTP/1.1 302 Found") && text.contains("gzip bytes stand-in"));
        // The members are the crawl's bytes, verbatim.
        let file = std::fs::read(&path).unwrap();
        let members = &found[0].bytes;
        assert_eq!(&file[file.len() - members.len()..], &members[..]);
        assert!(index.captures("00").is_empty());
    }

    /// A record as knockoff wrote them before WARC digests went SHA-1:
    /// payload stored decoded, `sha256:`-hex digests, no body field.
    #[test]
    fn finds_records_written_by_older_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.warc.gz");
        let body = b"<html>old</html>";
        let sha = crate::fetch::sha256_hex(body);
        let block = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 16\r\n\r\n<html>old</html>";
        let request = "GET /item/1.html HTTP/1.1\r\nHost: www.aliexpress.com\r\nUser-Agent: ua\r\nAccept-Encoding: gzip\r\n\r\n";
        let id = record_id();
        let mut w = WarcWriter::new(std::fs::File::create(&path).unwrap(), &path);
        let url = "https://www.aliexpress.com/item/1.html".to_string();
        w.write_record(
            &[
                ("WARC-Type", "request".into()),
                ("WARC-Record-ID", record_id()),
                ("WARC-Date", "2026-11-03T09:12:41.000000Z".into()),
                ("WARC-Target-URI", url.clone()),
                ("Content-Type", "application/http;msgtype=request".into()),
                (
                    "WARC-Block-Digest",
                    format!("sha256:{}", crate::fetch::sha256_hex(request.as_bytes())),
                ),
                ("WARC-Concurrent-To", id.clone()),
            ],
            request.as_bytes(),
        )
        .unwrap();
        w.write_record(
            &[
                ("WARC-Type", "response".into()),
                ("WARC-Record-ID", id.clone()),
                ("WARC-Date", "2026-11-03T09:12:41.000000Z".into()),
                ("WARC-Target-URI", url),
                ("Content-Type", "application/http;msgtype=response".into()),
                ("WARC-Payload-Digest", format!("sha256:{sha}")),
                (
                    "WARC-Block-Digest",
                    format!("sha256:{}", crate::fetch::sha256_hex(block.as_bytes())),
                ),
            ],
            block.as_bytes(),
        )
        .unwrap();
        drop(w);
        let index = WarcIndex::scan(&[dir.path().to_path_buf()]);
        assert!(index.problems.is_empty(), "{:?}", index.problems);
        let found = index.captures(&sha);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].response_id, id);
        let text = text_of(&found[0].bytes);
        assert!(text.starts_with("WARC/1.1\r\nWARC-Type: request"), "{text}");
        assert!(text.contains("<html>old</html>"));
    }

    #[test]
    fn a_corrupt_warc_is_a_problem_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.warc.gz"), b"\x1f\x8bnot really").unwrap();
        let index = WarcIndex::scan(&[dir.path().to_path_buf()]);
        assert_eq!(index.problems.len(), 1);
        assert!(
            index.problems[0].contains("bad.warc.gz"),
            "{:?}",
            index.problems
        );
    }
}
