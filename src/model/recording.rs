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
//!
//! A recording may come from anyone, so its files are read as plain files
//! only ([`read_plain_file`], shared by replay, `scan`, `mock-market` and
//! `verify`): an entry that is, or passes through, a symbolic link is
//! refused (it could name `/etc/passwd` or `/dev/zero`), and so is a FIFO,
//! a device or a socket (a FIFO would block the reader forever); a file
//! over [`MAX_RECORDED_FILE_BYTES`] is refused too. The checks run when a
//! recording is opened (the whole recording is refused, naming the entry)
//! and again on every read, in case the folder changed in between; on Unix
//! the last component is opened with `O_NOFOLLOW | O_NONBLOCK` and the open
//! handle's own metadata is checked, so a swap between check and open
//! cannot make a read follow a link or block.

use crate::model::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The manifest's file name inside a recording folder.
pub const MANIFEST_FILE: &str = "manifest.toml";

/// Largest file a recording entry may hold (64 MiB): replay, `scan` and
/// `mock-market` refuse a bigger one, naming it. The live crawler records
/// at most `crawl.max_page_bytes` (8 MiB) per page and
/// `crawl.max_image_bytes` (20 MiB) per photo, well under it.
pub const MAX_RECORDED_FILE_BYTES: u64 = 64 * 1024 * 1024;

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
    /// relative path inside `DIR`, and a plain file no bigger than
    /// [`MAX_RECORDED_FILE_BYTES`] reached without a symbolic link.
    pub fn open(dir: impl AsRef<Path>) -> Result<Recording> {
        let dir = dir.as_ref().to_path_buf();
        let manifest_path = dir.join(MANIFEST_FILE);
        let bytes = read_plain_file(&dir, MANIFEST_FILE, MAX_RECORDED_FILE_BYTES)
            .map_err(|refusal| Error::input(&manifest_path, refusal.into_io()))?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Recording {
            path: manifest_path.clone(),
            message: format!("not UTF-8: {e}"),
        })?;
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
            if let Err(refusal) = check_plain_file(&dir, &page.file, MAX_RECORDED_FILE_BYTES) {
                return Err(Error::Recording {
                    path: manifest_path.clone(),
                    message: format!("page[{i}] ({}): file `{}` {refusal}", page.url, page.file),
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

    /// Reads an entry's body bytes: a plain file inside the folder, at
    /// most [`MAX_RECORDED_FILE_BYTES`] (checked again at every read).
    pub fn read_body(&self, page: &RecordedPage) -> Result<Vec<u8>> {
        read_plain_file(&self.dir, &page.file, MAX_RECORDED_FILE_BYTES).map_err(|refusal| {
            Error::Recording {
                path: self.dir.join(&page.file),
                message: format!("recorded file for {}: {refusal}", page.url),
            }
        })
    }
}

/// Why a file inside a folder was not read.
#[derive(Debug)]
pub enum FileRefusal {
    /// Nothing at that path.
    Missing,
    /// The path is not a plain relative path inside the folder.
    Outside,
    /// The file, or a folder on its way (`component`, relative), is a
    /// symbolic link.
    Symlink { component: String, whole: bool },
    /// Not a regular file: a folder, FIFO, device or socket.
    NotAFile { kind: &'static str },
    /// Bigger than the limit.
    TooLarge { bytes: u64, max_bytes: u64 },
    /// The file system said no.
    Io(std::io::Error),
}

impl std::fmt::Display for FileRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileRefusal::Missing => write!(f, "does not exist"),
            FileRefusal::Outside => write!(f, "must be a relative path inside the folder"),
            FileRefusal::Symlink { whole: true, .. } => {
                write!(f, "is a symbolic link; only plain files are read")
            }
            FileRefusal::Symlink { component, .. } => write!(
                f,
                "passes through `{component}`, a symbolic link; only plain files are read"
            ),
            FileRefusal::NotAFile { kind } => {
                write!(
                    f,
                    "is a {kind}, not a regular file; only plain files are read"
                )
            }
            FileRefusal::TooLarge { bytes, max_bytes } => write!(
                f,
                "is {bytes} bytes, over the limit of {max_bytes} bytes per file"
            ),
            FileRefusal::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl FileRefusal {
    /// As an I/O error (kind `NotFound` for a missing file, the error
    /// itself for an I/O failure, `InvalidData` with this text otherwise).
    pub fn into_io(self) -> std::io::Error {
        match self {
            FileRefusal::Io(e) => e,
            FileRefusal::Missing => {
                std::io::Error::new(std::io::ErrorKind::NotFound, "does not exist")
            }
            other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "FIFO";
        }
        if ft.is_char_device() {
            return "character device";
        }
        if ft.is_block_device() {
            return "block device";
        }
        if ft.is_socket() {
            return "socket";
        }
    }
    if ft.is_dir() {
        "folder"
    } else if ft.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

fn io_refusal(e: std::io::Error) -> FileRefusal {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => FileRefusal::Missing,
        _ => FileRefusal::Io(e),
    }
}

/// Checks, without opening anything, that `root/rel` is a plain file of at
/// most `max_bytes`, reached through plain folders: no component of `rel`
/// may be a symbolic link. Returns its size.
pub fn check_plain_file(root: &Path, rel: &str, max_bytes: u64) -> Result<u64, FileRefusal> {
    let rel_path = Path::new(rel);
    if !is_inside(rel) {
        return Err(FileRefusal::Outside);
    }
    let parts: Vec<&std::ffi::OsStr> = rel_path
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        return Err(FileRefusal::Outside);
    }
    let mut path = root.to_path_buf();
    let mut shown = PathBuf::new();
    for (k, part) in parts.iter().enumerate() {
        path.push(part);
        shown.push(part);
        let meta = std::fs::symlink_metadata(&path).map_err(io_refusal)?;
        let ft = meta.file_type();
        let last = k + 1 == parts.len();
        if ft.is_symlink() {
            return Err(FileRefusal::Symlink {
                component: shown.to_string_lossy().replace('\\', "/"),
                whole: last,
            });
        }
        if !last && !ft.is_dir() {
            return Err(FileRefusal::Missing);
        }
        if last {
            if !ft.is_file() {
                return Err(FileRefusal::NotAFile { kind: kind_of(&ft) });
            }
            if meta.len() > max_bytes {
                return Err(FileRefusal::TooLarge {
                    bytes: meta.len(),
                    max_bytes,
                });
            }
            return Ok(meta.len());
        }
    }
    Err(FileRefusal::Outside)
}

/// Opens `root/rel` as a plain file (see [`check_plain_file`]) and checks
/// the open handle again: on Unix the last component is opened with
/// `O_NOFOLLOW | O_NONBLOCK`, so a link or FIFO swapped in after the check
/// fails or returns at once instead of being followed or blocking. Returns
/// the file and its size.
pub fn open_plain_file(root: &Path, rel: &str, max_bytes: u64) -> Result<(File, u64), FileRefusal> {
    check_plain_file(root, rel, max_bytes)?;
    let path = root.join(rel);
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(&path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return FileRefusal::Symlink {
                component: rel.to_string(),
                whole: true,
            };
        }
        io_refusal(e)
    })?;
    let meta = file.metadata().map_err(FileRefusal::Io)?;
    if !meta.is_file() {
        return Err(FileRefusal::NotAFile {
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > max_bytes {
        return Err(FileRefusal::TooLarge {
            bytes: meta.len(),
            max_bytes,
        });
    }
    Ok((file, meta.len()))
}

/// Reads `root/rel` as a plain file of at most `max_bytes` (see
/// [`open_plain_file`]); a file that grows past the limit while it is read
/// is refused too.
pub fn read_plain_file(root: &Path, rel: &str, max_bytes: u64) -> Result<Vec<u8>, FileRefusal> {
    let (file, len) = open_plain_file(root, rel, max_bytes)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(FileRefusal::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(FileRefusal::TooLarge {
            bytes: bytes.len() as u64,
            max_bytes,
        });
    }
    Ok(bytes)
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

    #[cfg(unix)]
    #[test]
    fn symlinks_fifos_devices_and_big_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("real")).unwrap();
        std::fs::write(d.join("real/a.html"), b"<html>").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("passwd")).unwrap();
        std::os::unix::fs::symlink("real", d.join("via")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", d.join("zero")).unwrap();
        let fifo = std::ffi::CString::new(d.join("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(read_plain_file(d, "real/a.html", 10).unwrap(), b"<html>");
        let refused = |rel: &str, max: u64| read_plain_file(d, rel, max).unwrap_err().to_string();
        assert!(refused("passwd", 1 << 20).contains("is a symbolic link"));
        assert!(refused("via/a.html", 1 << 20).contains("passes through `via`"));
        assert!(refused("zero", 1 << 20).contains("symbolic link"));
        assert!(refused("fifo", 1 << 20).contains("is a FIFO"));
        assert!(refused("real", 1 << 20).contains("is a folder"));
        assert!(refused("real/a.html", 5).contains("over the limit of 5 bytes"));
        assert!(refused("nope", 5).contains("does not exist"));
        assert!(refused("../x", 5).contains("inside the folder"));
        // Opening a FIFO directly (a swap after the check) does not block.
        let mut o = std::fs::OpenOptions::new();
        o.read(true);
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        assert!(!o
            .open(d.join("fifo"))
            .unwrap()
            .metadata()
            .unwrap()
            .is_file());
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
