//! Charset sniffing: turn a page's bytes into text the way a browser would.
//!
//! Order: byte-order mark, then the Content-Type header's `charset`, then a
//! `<meta charset>` / `<meta http-equiv>` in the first 1024 bytes, then
//! UTF-8 when the bytes are valid UTF-8; otherwise a `<meta charset>` later
//! in the page (browser-saved pages put scripts and styles before it, and a
//! browser re-decodes when it meets it), then `chardetng`'s guess (GBK for
//! unlabelled Chinese bytes). A label is checked against the bytes: real pages labelled `gbk`
//! are sometimes UTF-8, and bytes that are valid UTF-8 (and not plain
//! ASCII) are taken as UTF-8 whatever the label says, since GBK text is
//! almost never valid UTF-8 by accident.

use encoding_rs::{Encoding, GB18030, UTF_8};

/// How many leading bytes are searched for a `<meta charset>`.
pub const META_SNIFF_BYTES: usize = 1024;

/// Where the chosen encoding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    /// The label was wrong: the bytes are valid UTF-8.
    Validated,
    /// A `<meta charset>` past the first 1024 bytes.
    LateMeta,
    /// No label: guessed from the bytes.
    Detected,
    Default,
}

/// How far into an unlabelled, non-UTF-8 page a late `<meta charset>` is
/// looked for.
pub const LATE_META_SNIFF_BYTES: usize = 64 * 1024;

/// Decoded text and how the encoding was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: CharsetSource,
    /// True when some bytes were invalid in the chosen encoding and were
    /// replaced with U+FFFD.
    pub had_errors: bool,
}

/// Decodes bytes using BOM, header, meta, validation, in that order.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            source: CharsetSource::Bom,
            had_errors,
        };
    }
    let labelled = content_type
        .and_then(charset_from_content_type)
        .map(|e| (e, CharsetSource::Header))
        .or_else(|| meta_charset(bytes).map(|e| (e, CharsetSource::Meta)));
    let is_utf8 = std::str::from_utf8(bytes).is_ok();
    let (encoding, source) = match labelled {
        Some((enc, _)) if enc != UTF_8 && is_utf8 && !bytes.is_ascii() => {
            (UTF_8, CharsetSource::Validated)
        }
        Some((enc, src)) => (widen(enc), src),
        None if is_utf8 => (UTF_8, CharsetSource::Default),
        None => match meta_charset_within(bytes, LATE_META_SNIFF_BYTES) {
            Some(enc) => (widen(enc), CharsetSource::LateMeta),
            None => {
                let mut detector = chardetng::EncodingDetector::new();
                detector.feed(&bytes[..bytes.len().min(LATE_META_SNIFF_BYTES)], false);
                (widen(detector.guess(None, true)), CharsetSource::Detected)
            }
        },
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
        had_errors,
    }
}

/// GBK and GB2312 labels decode as GB18030, their superset: real pages use
/// characters outside GB2312 while still declaring it.
fn widen(enc: &'static Encoding) -> &'static Encoding {
    if enc.name() == "GBK" || enc == GB18030 {
        GB18030
    } else {
        enc
    }
}

/// The encoding named by a Content-Type header's `charset` parameter.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// The encoding named by a `<meta charset=...>` or
/// `<meta http-equiv="Content-Type" content="...; charset=...">` within the
/// first [`META_SNIFF_BYTES`] bytes.
pub fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    meta_charset_within(bytes, META_SNIFF_BYTES)
}

/// [`meta_charset`] over the first `limit` bytes.
fn meta_charset_within(bytes: &[u8], limit: usize) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(limit)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(pos) = rest.find("<meta") {
        rest = &rest[pos + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(cpos) = tag.find("charset") {
            let after = tag[cpos + 7..].trim_start();
            if let Some(after) = after.strip_prefix('=') {
                let value: String = after
                    .trim_start()
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'))
                    .collect();
                if let Some(enc) = Encoding::for_label(value.as_bytes()) {
                    return Some(enc);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        GB18030.encode(s).0.into_owned()
    }

    #[test]
    fn a_late_meta_or_the_bytes_decide_an_unlabelled_gbk_page() {
        let mut page = format!("<html><head><style>{}</style>", "p{}".repeat(600));
        page.push_str("<meta charset=\"gbk\"><title>奥罗拉 咖啡杯</title></head></html>");
        let d = decode(&gbk(&page), None);
        assert_eq!(d.source, CharsetSource::LateMeta);
        assert!(d.text.contains("奥罗拉 咖啡杯"));
        let bare = gbk(
            "<html><body><h1>奥罗拉 双层玻璃咖啡杯 高仿 正品 包邮 天猫旗舰店</h1></body></html>",
        );
        let d = decode(&bare, None);
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("奥罗拉 双层玻璃咖啡杯"), "{}", d.text);
    }

    #[test]
    fn gbk_bytes_with_header_label() {
        let bytes = gbk("<html>高仿 奥罗拉 跑鞋</html>");
        let d = decode(&bytes, Some("text/html; charset=GBK"));
        assert_eq!(d.text, "<html>高仿 奥罗拉 跑鞋</html>");
        assert_eq!(d.source, CharsetSource::Header);
        assert!(!d.had_errors);
    }

    #[test]
    fn gbk_bytes_with_meta_label_only() {
        let mut bytes = b"<html><head><meta charset=\"gbk\"></head><body>".to_vec();
        bytes.extend(gbk("天猫 旗舰店"));
        let d = decode(&bytes, Some("text/html"));
        assert!(d.text.contains("天猫 旗舰店"));
        assert_eq!(d.source, CharsetSource::Meta);
    }

    #[test]
    fn http_equiv_meta_is_read() {
        let mut bytes =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">".to_vec();
        bytes.extend(gbk("淘宝"));
        let d = decode(&bytes, None);
        assert!(d.text.contains("淘宝"));
    }

    #[test]
    fn utf8_bytes_labelled_gbk_are_utf8() {
        let bytes = "<meta charset=gbk>奥罗拉".as_bytes();
        let d = decode(bytes, Some("text/html; charset=gbk"));
        assert!(d.text.contains("奥罗拉"));
        assert_eq!(d.source, CharsetSource::Validated);
    }

    #[test]
    fn no_label_defaults_to_utf8() {
        let d = decode("<p>奥罗拉</p>".as_bytes(), None);
        assert_eq!(d.text, "<p>奥罗拉</p>");
        assert_eq!(d.source, CharsetSource::Default);
    }

    #[test]
    fn bom_wins_over_header() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend("奥".as_bytes());
        let d = decode(&bytes, Some("text/html; charset=gbk"));
        assert_eq!(d.text, "奥");
        assert_eq!(d.source, CharsetSource::Bom);
    }

    #[test]
    fn meta_beyond_1024_bytes_is_ignored() {
        let mut bytes = vec![b' '; 1100];
        bytes.extend(b"<meta charset=gbk>");
        assert!(meta_charset(&bytes).is_none());
    }
}
