//! Safe file names for the export: nothing taken from a page (listing id,
//! title, URL, official photo name) can name a path outside the export
//! folder.
//!
//! A name is reduced to one path component of `[A-Za-z0-9._-]`, never
//! `.` or `..`, never empty, never a Windows device name, at most
//! [`MAX_COMPONENT_BYTES`] long. Every file the export writes goes through
//! [`safe_join`], which refuses anything but plain components, so a bug in
//! a caller cannot escape either.

use crate::model::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// Longest path component written (well under the 255-byte limit of common
/// file systems, leaving room for prefixes).
pub const MAX_COMPONENT_BYTES: usize = 80;

/// Names Windows reserves in every folder.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// One safe path component from any text.
pub fn safe_component(raw: &str, max_bytes: usize) -> String {
    let mut out = String::new();
    let mut last_sep = false;
    for c in raw.chars() {
        let keep = c.is_ascii_alphanumeric() || matches!(c, '.' | '-');
        if keep {
            out.push(c);
            last_sep = false;
        } else if !last_sep {
            // Separators, NUL, control and non-ASCII characters all become
            // one underscore: `..\/` cannot survive as a path.
            out.push('_');
            last_sep = true;
        }
    }
    // No runs of dots or dots beside separators: `..` never survives,
    // even inside a name.
    loop {
        let before = out.len();
        out = out
            .replace("..", ".")
            .replace("_.", "_")
            .replace("._", "_")
            .replace("__", "_");
        if out.len() == before {
            break;
        }
    }
    // No leading dots (hidden files) or separators.
    let trimmed = out.trim_start_matches(['.', '_', '-']);
    let mut name: String = trimmed.chars().take(max_bytes.max(1)).collect();
    while name.ends_with(['.', '_']) {
        name.pop();
    }
    if name.is_empty() {
        name.push('x');
    }
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        name.insert(0, '_');
    }
    name
}

/// [`safe_component`] for bytes that may not be UTF-8.
pub fn safe_component_bytes(raw: &[u8], max_bytes: usize) -> String {
    safe_component(&String::from_utf8_lossy(raw), max_bytes)
}

/// A short, safe name for a URL: the last path segment (or the host).
pub fn url_stem(url: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    let segment = parsed.as_ref().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_string))
    });
    let stem = match segment {
        // The extension is written from the content type instead.
        Some(seg) => seg
            .rsplit_once('.')
            .map(|(s, _)| s.to_string())
            .unwrap_or(seg),
        None => parsed
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| url.to_string()),
    };
    safe_component(&stem, 40)
}

/// File extension for a content type (or a URL's extension as a fallback).
pub fn extension(content_type: Option<&str>, url: &str) -> &'static str {
    let ct = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "text/html" | "application/xhtml+xml" => return "html",
        "application/json" | "text/json" => return "json",
        "application/javascript" | "text/javascript" => return "js",
        "text/plain" => return "txt",
        "image/jpeg" | "image/jpg" => return "jpg",
        "image/png" => return "png",
        "image/webp" => return "webp",
        "image/gif" => return "gif",
        "image/avif" => return "avif",
        _ => {}
    }
    let path = url::Url::parse(url)
        .map(|u| u.path().to_ascii_lowercase())
        .unwrap_or_default();
    for (suffix, ext) in [
        (".jpg", "jpg"),
        (".jpeg", "jpg"),
        (".png", "png"),
        (".webp", "webp"),
        (".gif", "gif"),
        (".html", "html"),
        (".htm", "html"),
    ] {
        if path.ends_with(suffix) {
            return ext;
        }
    }
    "bin"
}

/// Joins a relative path under `root`, refusing anything but plain
/// components (no `..`, no root, no prefix, no `.`).
pub fn safe_join(root: &Path, rel: &str) -> Result<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.is_empty() || rel.contains('\0') || rel.contains('\\') {
        return Err(unsafe_path(root, rel));
    }
    let mut out = root.to_path_buf();
    for c in rel_path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            _ => return Err(unsafe_path(root, rel)),
        }
    }
    Ok(out)
}

fn unsafe_path(root: &Path, rel: &str) -> Error {
    Error::Other(format!(
        "export {}: refusing to write {rel:?}: not a plain relative path",
        root.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_absolute_paths_become_one_plain_name() {
        for raw in [
            "../../etc/passwd",
            "/etc/passwd",
            "..",
            ".",
            "a/../../b",
            "..\\..\\win.ini",
            "C:\\x",
        ] {
            let s = safe_component(raw, MAX_COMPONENT_BYTES);
            assert!(
                !s.contains('/') && !s.contains('\\') && !s.starts_with('.'),
                "{raw} -> {s}"
            );
            assert!(safe_join(Path::new("/out"), &s).is_ok(), "{raw} -> {s}");
        }
        assert_eq!(safe_component("../../etc/passwd", 80), "etc_passwd");
    }

    #[test]
    fn nul_control_and_non_ascii_are_replaced() {
        assert_eq!(safe_component("a\0b\nc", 80), "a_b_c");
        assert_eq!(safe_component("奥罗拉 杯子", 80), "x");
        assert_eq!(safe_component("cup 奥罗拉 AAA", 80), "cup_AAA");
        assert_eq!(safe_component_bytes(b"caf\xe9\xff/../x", 80), "caf_x");
    }

    #[test]
    fn long_names_are_cut_and_reserved_names_escaped() {
        let long = "a".repeat(10_000);
        assert_eq!(
            safe_component(&long, MAX_COMPONENT_BYTES).len(),
            MAX_COMPONENT_BYTES
        );
        assert_eq!(safe_component("NUL", 80), "_NUL");
        assert_eq!(safe_component("con.txt", 80), "_con.txt");
        assert_eq!(safe_component("", 80), "x");
    }

    #[test]
    fn safe_join_refuses_escapes() {
        let root = Path::new("/out");
        for bad in ["../x", "/etc/x", "a/../../x", "./x", "", "a\0b", "a\\..\\b"] {
            assert!(safe_join(root, bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            safe_join(root, "a/b.txt").unwrap(),
            Path::new("/out/a/b.txt")
        );
    }

    #[test]
    fn url_stems_and_extensions() {
        assert_eq!(
            url_stem("https://www.aliexpress.com/item/1005001.html"),
            "1005001"
        );
        assert_eq!(url_stem("https://ae01.alicdn.com/"), "ae01.alicdn.com");
        assert_eq!(extension(Some("text/html; charset=gbk"), "x"), "html");
        assert_eq!(extension(None, "https://a.com/p.JPEG?x=1"), "jpg");
        assert_eq!(
            extension(Some("application/octet-stream"), "https://a.com/p"),
            "bin"
        );
    }
}
