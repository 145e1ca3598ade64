//! Recording what a crawl saw: a [`Fetcher`] wrapper that saves every
//! capture as a recording in the `seeds/` format (manifest + decoded body
//! files) and as a WARC/1.1 file (every redirect hop, the bytes as
//! received: see [`super::warc`]), so the run can be replayed and its
//! evidence verified.
//!
//! Each capture is saved before it is handed back, and the manifest entry
//! is appended at once, so a crash loses at most the capture in flight.
//! When platform bases point at a stand-in (the loopback mock), URLs are
//! recorded as the real marketplace URLs they stand for, so replaying the
//! recording with the default bases finds the same pages.

use super::{Capture, FetchError, Fetcher, ResourceKind};
use crate::fetch::warc::{record_id, WarcInfo, WarcWriter};
use crate::model::config::BaseUrl;
use crate::model::error::{Error, Result};
use crate::model::recording::{write_manifest, Manifest, RecordedPage, MANIFEST_FILE};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;
use url::Url;

/// Longest file stem written (names stay portable).
const MAX_STEM_CHARS: usize = 60;

type FileWarc = WarcWriter<std::io::BufWriter<std::fs::File>>;

struct State {
    manifest: Manifest,
    warc: FileWarc,
    files: HashSet<String>,
}

/// Wraps a fetcher and records every capture it returns.
pub struct RecordingFetcher<F> {
    inner: F,
    dir: PathBuf,
    warc_path: PathBuf,
    bases: Vec<BaseUrl>,
    state: Mutex<State>,
}

/// What a recording run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub warc: PathBuf,
    pub pages: usize,
}

impl<F: Fetcher> RecordingFetcher<F> {
    /// Starts recording into `dir` (created if missing). An existing
    /// manifest there is kept and appended to; each run writes its own
    /// WARC file, named by start time, whose `warcinfo` names the
    /// operator from the contact in `user_agent` and the inner fetcher's
    /// robots policy.
    pub fn create(inner: F, dir: &Path, user_agent: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = if manifest_path.is_file() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| Error::io(&manifest_path, e))?;
            toml::from_str(&text).map_err(|e| Error::Recording {
                path: manifest_path.clone(),
                message: crate::model::recording::describe_toml_error(&text, &e),
            })?
        } else {
            Manifest::default()
        };
        let files = manifest.page.iter().map(|p| p.file.clone()).collect();
        let warc_name = format!(
            "knockoff-{}-{:08x}.warc.gz",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            rand::random::<u32>()
        );
        let warc_path = dir.join(warc_name);
        let info = WarcInfo::new(user_agent, inner.robots_policy());
        let warc = WarcWriter::create(&warc_path, &info)?;
        let recorder = RecordingFetcher {
            inner,
            dir: dir.to_path_buf(),
            warc_path,
            bases: Vec::new(),
            state: Mutex::new(State {
                manifest,
                warc,
                files,
            }),
        };
        Ok(recorder)
    }

    /// Records URLs under these bases as the real URLs they stand for.
    pub fn with_bases(mut self, bases: Vec<BaseUrl>) -> Self {
        self.bases = bases;
        self
    }

    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// The folder being written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Rewrites the manifest in canonical form and flushes the WARC file.
    pub async fn finish(&self) -> Result<RecordSummary> {
        let mut state = self.state.lock().await;
        write_manifest(&self.dir, &state.manifest)?;
        state.warc.flush()?;
        Ok(RecordSummary {
            dir: self.dir.clone(),
            manifest: self.dir.join(MANIFEST_FILE),
            warc: self.warc_path.clone(),
            pages: state.manifest.page.len(),
        })
    }

    /// The URL to record for a fetched URL.
    fn recorded_url(&self, url: &str) -> String {
        crate::model::config::real_url(&self.bases, url)
    }

    async fn save(&self, capture: &Capture) -> Result<()> {
        let url = self.recorded_url(&capture.url);
        let target = self.recorded_url(&capture.final_url);
        let content_type = capture
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_string());
        let mut state = self.state.lock().await;
        let file = file_name(&url, &content_type, &capture.sha256);
        let path = self.dir.join(&file);
        if state.files.insert(file.clone()) || !path.is_file() {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(&path, &capture.body).map_err(|e| Error::io(&path, e))?;
        }
        let page = RecordedPage {
            url,
            file,
            captured_at: capture.captured_at,
            status: capture.status,
            content_type,
        };
        // Append this entry at once: a crash keeps everything saved so far.
        let manifest_path = self.dir.join(MANIFEST_FILE);
        let entry = toml::to_string(&Manifest {
            page: vec![page.clone()],
        })
        .map_err(|e| Error::Recording {
            path: manifest_path.clone(),
            message: e.to_string(),
        })?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&manifest_path)
            .map_err(|e| Error::io(&manifest_path, e))?;
        f.write_all(format!("\n{entry}").as_bytes())
            .map_err(|e| Error::io(&manifest_path, e))?;
        state.manifest.page.push(page);
        if capture.exchanges.is_empty() {
            // Nothing went over the wire (a replayed capture): the body as
            // held, and no request record, since none was sent.
            state.warc.write_response(&target, capture, &record_id())?;
        } else {
            state
                .warc
                .write_capture(capture, |u| self.recorded_url(u))?;
        }
        state.warc.flush()?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl<F: Fetcher> Fetcher for RecordingFetcher<F> {
    async fn fetch(&self, url: &str, kind: ResourceKind) -> Result<Capture, FetchError> {
        let capture = self.inner.fetch(url, kind).await?;
        self.save(&capture).await.map_err(|e| FetchError::Invalid {
            url: url.to_string(),
            message: format!("could not record to {}: {e}", self.dir.display()),
        })?;
        Ok(capture)
    }

    fn robots_policy(&self) -> &'static str {
        self.inner.robots_policy()
    }
}

/// A safe relative file name for a capture: `<host>/<stem>-<sha12>.<ext>`,
/// only `[A-Za-z0-9._-]`, no `..`, never absolute. The body hash keeps
/// different bodies of one URL apart and identical bodies in one file.
pub fn file_name(url: &str, content_type: &str, sha256: &str) -> String {
    let parsed = Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "other".to_string());
    let last = parsed
        .as_ref()
        .and_then(|u| u.path_segments())
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_string))
        .unwrap_or_else(|| "index".to_string());
    let stem_source = last
        .rsplit_once('.')
        .map(|(s, _)| s.to_string())
        .unwrap_or(last);
    let ext = extension_for(content_type);
    let dir = sanitize(&host, 80);
    let stem = sanitize(&stem_source, MAX_STEM_CHARS);
    let sha = sha256.get(..12).unwrap_or(sha256);
    let sha = sanitize(sha, 12);
    format!("{dir}/{stem}-{sha}.{ext}")
}

/// Keeps `[A-Za-z0-9_-]` and single dots; everything else becomes `_`.
/// Leading dots are dropped so no name is hidden or `..`.
fn sanitize(s: &str, max_chars: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(max_chars)
        .collect();
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    let out = out.trim_start_matches('.').to_string();
    if out.is_empty() {
        "_".to_string()
    } else {
        out
    }
}

fn extension_for(content_type: &str) -> &'static str {
    let ct = content_type.to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or_default().trim();
    match essence {
        "text/html" | "application/xhtml+xml" => "html",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/avif" => "avif",
        "application/json" => "json",
        "text/plain" => "txt",
        "application/xml" | "text/xml" => "xml",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitized_and_stay_inside() {
        let sha = "ab".repeat(32);
        assert_eq!(
            file_name(
                "https://www.aliexpress.com/item/1005.html?x=1",
                "text/html; charset=utf-8",
                &sha
            ),
            "www.aliexpress.com/1005-abababababab.html"
        );
        let evil = file_name("http://../../etc/passwd", "text/plain", &sha);
        assert!(!evil.contains(".."), "{evil}");
        assert!(!evil.starts_with('/'));
        let odd = file_name(
            "https://h.example/%2e%2e%2fx/..%2f..%2fy?q",
            "image/jpeg",
            &sha,
        );
        assert!(!odd.contains("..") && odd.ends_with(".jpg"), "{odd}");
        assert_eq!(
            file_name("not a url", "x/y", &sha),
            "other/index-abababababab.bin"
        );
    }

    #[test]
    fn sanitize_never_yields_dot_names() {
        assert_eq!(sanitize("..", 10), "_");
        assert_eq!(sanitize(".hidden", 10), "hidden");
        assert_eq!(sanitize("a b/c", 10), "a_b_c");
    }
}
