//! Recordings: a folder of captured responses with a `manifest.toml`.
//!
//! This format is a contract shared with outside tools and with the live
//! crawler's `--record`:
//!
//! ```toml
//! [[page]]
//! url = "https://www.aliexpress.com/w/wholesale-aurora.html"
//! file = "aliexpress/search-aurora.html"
//! captured_at = "2026-11-02T08:15:00Z"   # RFC 3339, UTC
//! status = 200
//! content_type = "text/html; charset=utf-8"
//! ```
//!
//! Every captured response is a `[[page]]`, photos included. `file` is
//! relative to the folder and must stay inside it.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// The manifest's file name inside a recording folder.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// One captured response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedPage {
    /// The URL that was requested.
    pub url: String,
    /// Body file, relative to the recording folder.
    pub file: String,
    /// When the response was captured (UTC).
    pub captured_at: DateTime<Utc>,
    /// HTTP status.
    pub status: u16,
    /// The Content-Type header as received.
    pub content_type: String,
}

/// `manifest.toml` as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub page: Vec<RecordedPage>,
}

/// A recording folder, loaded: its manifest and an index by URL.
#[derive(Debug, Clone)]
pub struct Recording {
    dir: PathBuf,
    pages: Vec<RecordedPage>,
    by_url: HashMap<String, usize>,
}

impl Recording {
    /// Loads `DIR/manifest.toml` and checks every entry: the file must be a
    /// relative path inside `DIR` and must exist.
    pub fn open(dir: impl AsRef<Path>) -> Result<Recording> {
        let dir = dir.as_ref().to_path_buf();
        let manifest_path = dir.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| Error::Recording {
            path: manifest_path.clone(),
            message: describe_toml_error(&text, &e),
        })?;
        let mut by_url = HashMap::new();
        for (i, page) in manifest.page.iter().enumerate() {
            if !is_inside(&page.file) {
                return Err(Error::Recording {
                    path: manifest_path.clone(),
                    message: format!(
                        "page[{i}] ({}): file `{}` must be a relative path inside the recording",
                        page.url, page.file
                    ),
                });
            }
            if !dir.join(&page.file).is_file() {
                return Err(Error::Recording {
                    path: manifest_path.clone(),
                    message: format!(
                        "page[{i}] ({}): file `{}` does not exist",
                        page.url, page.file
                    ),
                });
            }
            // The last capture of a URL wins, as in a replayed crawl.
            by_url.insert(normalize_url(&page.url), i);
        }
        Ok(Recording {
            dir,
            pages: manifest.page,
            by_url,
        })
    }

    /// The folder this recording lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All entries in manifest order.
    pub fn pages(&self) -> &[RecordedPage] {
        &self.pages
    }

    /// The entry for a URL, if recorded.
    pub fn find(&self, url: &str) -> Option<&RecordedPage> {
        self.by_url
            .get(&normalize_url(url))
            .map(|&i| &self.pages[i])
    }

    /// Reads an entry's body bytes.
    pub fn read_body(&self, page: &RecordedPage) -> Result<Vec<u8>> {
        let path = self.dir.join(&page.file);
        std::fs::read(&path).map_err(|e| Error::io(path, e))
    }
}

/// Writes a manifest to `DIR/manifest.toml`.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let path = dir.join(MANIFEST_FILE);
    let text = toml::to_string_pretty(manifest).map_err(|e| Error::Recording {
        path: path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&path, text).map_err(|e| Error::io(path, e))
}

/// Normalizes a URL for lookup: protocol-relative URLs become https, the
/// fragment is dropped, and the URL is re-serialized (percent-encoding and
/// host case made canonical). Unparseable strings are used as they are.
pub fn normalize_url(url: &str) -> String {
    let url = url.trim();
    let absolute = if let Some(rest) = url.strip_prefix("//") {
        format!("https://{rest}")
    } else {
        url.to_string()
    };
    match url::Url::parse(&absolute) {
        Ok(mut u) => {
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => absolute,
    }
}

fn is_inside(file: &str) -> bool {
    let path = Path::new(file);
    !file.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Formats a toml error as `line L, column C: message`.
pub fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {}", err.message())
        }
        None => err.message().to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_protocol_relative_and_fragments() {
        assert_eq!(
            normalize_url("//ae01.alicdn.com/kf/a.jpg#x"),
            "https://ae01.alicdn.com/kf/a.jpg"
        );
        assert_eq!(
            normalize_url("https://WWW.Alibaba.com/a b"),
            "https://www.alibaba.com/a%20b"
        );
    }

    #[test]
    fn rejects_paths_outside_the_folder() {
        assert!(is_inside("aliexpress/a.html"));
        assert!(!is_inside("../a.html"));
        assert!(!is_inside("/etc/passwd"));
        assert!(!is_inside(""));
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
