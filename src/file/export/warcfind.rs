//! Finding a capture's WARC records for its evidence bundle.
//!
//! A live crawl writes `.warc.gz` files beside its recording (see
//! `crate::fetch::record`); the store keeps pages by SHA-256 but does not
//! know where those files are. The export therefore scans the folders it is
//! given (and the data folder) for `*.warc.gz`, splits each into its gzip
//! members (one record each), and indexes `response` records by their
//! `WARC-Payload-Digest` and `request` records by `WARC-Concurrent-To`.
//! The bundle gets the members exactly as written by the crawl, so their
//! digests can be checked against the crawl's own files.

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
        let mut responses: Vec<(String, String, Vec<u8>)> = Vec::new();
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
            let field = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_string())
                })
            };
            match field("WARC-Type").as_deref() {
                Some("response") => {
                    if let (Some(id), Some(digest)) =
                        (field("WARC-Record-ID"), field("WARC-Payload-Digest"))
                    {
                        let sha = digest
                            .strip_prefix("sha256:")
                            .unwrap_or(&digest)
                            .to_ascii_lowercase();
                        responses.push((sha, id, member));
                    }
                }
                Some("request") => {
                    if let Some(to) = field("WARC-Concurrent-To") {
                        requests.insert(to, member);
                    }
                }
                _ => {}
            }
        }
        for (sha, id, member) in responses {
            let mut bytes = requests.remove(&id).unwrap_or_default();
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
    use crate::fetch::warc::{record_id, WarcWriter};
    use crate::fetch::Capture;
    use chrono::Utc;

    #[test]
    fn finds_request_and_response_by_payload_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crawl.warc.gz");
        let mut w = WarcWriter::create(&path, "test").unwrap();
        let url = "https://www.aliexpress.com/item/1.html";
        let capture = Capture::new(
            url,
            200,
            Some("text/html".into()),
            Utc::now(),
            b"<html>a</html>".to_vec(),
        );
        let id = record_id();
        w.write_request(url, capture.captured_at, "ua", Some(&id))
            .unwrap();
        w.write_response(url, &capture, &id).unwrap();
        w.flush().unwrap();
        drop(w);
        let index = WarcIndex::scan(&[dir.path().to_path_buf()]);
        assert!(index.problems.is_empty(), "{:?}", index.problems);
        let found = index.captures(&capture.sha256);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].response_id, id);
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&found[0].bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.starts_with("WARC/1.1\r\nWARC-Type: request"), "{text}");
        assert!(text.contains("WARC-Type: response") && text.contains("<html>a</html>"));
        // The members are the crawl's bytes, verbatim.
        let file = std::fs::read(&path).unwrap();
        assert!(file
            .windows(found[0].bytes.len())
            .any(|w| w == found[0].bytes.as_slice()));
        assert!(index.captures("00").is_empty());
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
