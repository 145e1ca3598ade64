//! Dated screenshots of captured pages: each page's saved bytes rendered by
//! a headless Chromium with scripts and network off, under a caption with
//! the page's URL and capture time (UTC and China time).
//!
//! The page is rendered from a private copy of the bytes as fetched, never
//! from the marketplace: a Content-Security-Policy put first in the page
//! forbids every script and every load but inline styles and `data:`
//! images (Chromium's own switch for scripts, `--blink-settings=
//! scriptEnabled=false`, stops headless screenshots altogether), every
//! host name resolves to nothing (`--host-resolver-rules`) and any
//! connection goes to a closed proxy port, so a page can neither run code
//! nor fetch anything. A render
//! that takes longer than [`RENDER_TIMEOUT`] is killed. Without Chromium on
//! the machine the export says it skipped the screenshots.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a page may take to render.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(60);
/// Viewport of a screenshot, in CSS pixels.
pub const VIEWPORT: (u32, u32) = (1280, 1600);
/// Largest page rendered (bigger ones are skipped with a note).
pub const MAX_PAGE_BYTES: usize = 16 << 20;

/// The Chromium to render with: `KNOCKOFF_CHROMIUM`, else `chromium`,
/// `chromium-browser` or `google-chrome` on the PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KNOCKOFF_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Renders a captured page to a PNG with its caption. `work` is a private
/// scratch folder (removed by the caller).
pub fn render(
    chromium: &Path,
    work: &Path,
    page: &[u8],
    content_type: Option<&str>,
    url: &str,
    captured_at: Option<DateTime<Utc>>,
) -> Result<Vec<u8>, String> {
    if page.len() > MAX_PAGE_BYTES {
        return Err(format!(
            "{url}: page of {} bytes is over the {MAX_PAGE_BYTES}-byte screenshot limit",
            page.len()
        ));
    }
    std::fs::create_dir_all(work).map_err(|e| format!("{}: {e}", work.display()))?;
    let html = work.join("page.html");
    std::fs::write(&html, sealed(page, content_type))
        .map_err(|e| format!("{}: {e}", html.display()))?;
    let shot = work.join("shot.png");
    let profile = work.join("profile");
    let mut child = Command::new(chromium)
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--hide-scrollbars")
        .arg("--mute-audio")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg("--disable-background-networking")
        .arg("--host-resolver-rules=MAP * ~NOTFOUND")
        .arg("--proxy-server=http://127.0.0.1:9")
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", chromium.display()))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > RENDER_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{url}: rendering took over {} s; stopped",
                    RENDER_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("{url}: {e}")),
        }
    }
    let bytes = std::fs::read(&shot).map_err(|e| format!("{url}: no screenshot ({e})"))?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| format!("{url}: screenshot unreadable: {e}"))?
        .to_rgb8();
    let out = super::compare::captioned(&img, &super::compare::page_caption(url, captured_at));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(out)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(png)
}

/// What a rendered page may load: nothing but inline styles and `data:`
/// images and fonts; no script at all.
const POLICY: &str = "default-src 'none'; script-src 'none'; style-src 'unsafe-inline' data:; img-src data:; font-src data:; object-src 'none'; frame-src 'none'; form-action 'none'";

/// The page's bytes behind the policy and, when the `Content-Type` named
/// one, the charset (a file has no header): both first in the document,
/// after its doctype, so they apply before any of the page's own markup.
fn sealed(page: &[u8], content_type: Option<&str>) -> Vec<u8> {
    let mut head = with_charset(b"", content_type);
    head.extend_from_slice(
        format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">").as_bytes(),
    );
    let start = page
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let doctype = page[start..]
        .get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"<!doctype"));
    let split = if doctype {
        page[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(0, |i| start + i + 1)
    } else {
        0
    };
    let mut out = page[..split].to_vec();
    out.extend_from_slice(&head);
    out.extend_from_slice(&page[split..]);
    out
}

/// The charset of a `Content-Type` as a `<meta charset>` before `page`
/// (nothing added when the header names none or an odd one).
fn with_charset(page: &[u8], content_type: Option<&str>) -> Vec<u8> {
    let charset = content_type.and_then(|ct| {
        ct.split(';')
            .filter_map(|p| p.trim().strip_prefix("charset="))
            .map(|c| c.trim_matches(['"', '\'', ' ']).to_string())
            .find(|c| {
                !c.is_empty()
                    && c.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            })
    });
    match charset {
        Some(c) => {
            let mut out = format!("<meta charset=\"{c}\">").into_bytes();
            out.extend_from_slice(page);
            out
        }
        None => page.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_goes_first_after_the_doctype() {
        let out = sealed(b"<!DOCTYPE html><html><script>x()</script>", None);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\""),
            "{text}"
        );
        assert!(text.ends_with("<html><script>x()</script>"));
        let out = String::from_utf8(sealed(b"<p>x", Some("text/html; charset=GBK"))).unwrap();
        assert!(
            out.starts_with("<meta charset=\"GBK\"><meta http-equiv"),
            "{out}"
        );
    }

    #[test]
    fn charset_from_the_header_is_declared_only_when_safe() {
        assert!(with_charset(b"<p>x", Some("text/html; charset=GBK"))
            .starts_with(b"<meta charset=\"GBK\">"));
        assert_eq!(with_charset(b"<p>x", Some("text/html")), b"<p>x");
        assert_eq!(
            with_charset(b"<p>x", Some("text/html; charset=\"><script>")),
            b"<p>x"
        );
    }
}
