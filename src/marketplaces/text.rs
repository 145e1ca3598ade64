//! Text helpers shared by parsers: prices, counts with Chinese units,
//! URLs, and markup stripping.

use crate::model::listing::{Moq, Price, Sales, SalesKind};
use url::Url;

/// Makes a URL absolute: protocol-relative URLs get `https:`, relative ones
/// are joined to `base`. Returns `None` for empty or unusable input.
pub fn absolute_url(raw: &str, base: &Url) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with("data:") || raw.starts_with("javascript:") {
        return None;
    }
    if let Some(rest) = raw.strip_prefix("//") {
        return Some(format!("https://{rest}"));
    }
    base.join(raw).ok().map(|u| u.to_string())
}

/// Removes HTML tags (highlight spans like `<span class=H>`) and decodes
/// entities, collapsing whitespace.
pub fn strip_markup(s: &str) -> String {
    let text: String = if s.contains('<') || s.contains('&') {
        let frag = scraper::Html::parse_fragment(s);
        frag.root_element().text().collect()
    } else {
        s.to_string()
    };
    collapse_ws(&text)
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses the first number in a text, with Chinese and English multipliers:
/// "7261人付款" → 7261, "成交2.4万+元" → 24000, "4,000+ sold" → 4000,
/// "1.2k" → 1200, "3亿" → 300000000.
pub fn parse_count(text: &str) -> Option<u64> {
    let (value, end) = first_number(text)?;
    let rest = text[end..].trim_start();
    let mult = if rest.starts_with('万') || rest.starts_with('萬') {
        10_000.0
    } else if rest.starts_with('亿') || rest.starts_with('億') {
        100_000_000.0
    } else if rest.starts_with('千') || rest.starts_with(['k', 'K']) {
        1_000.0
    } else if rest.starts_with(['m', 'M']) && !rest.to_ascii_lowercase().starts_with("mo") {
        1_000_000.0
    } else {
        1.0
    };
    let n = (value * mult).round();
    (n.is_finite() && n >= 0.0).then_some(n as u64)
}

/// The first decimal number in `text` (commas as thousands separators) and
/// the byte offset just after it.
pub fn first_number(text: &str) -> Option<(f64, usize)> {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|b| b.is_ascii_digit())?;
    let mut end = start;
    let mut digits = String::new();
    while end < bytes.len() {
        let b = bytes[end];
        if b.is_ascii_digit() || b == b'.' {
            digits.push(b as char);
        } else if b == b',' && bytes.get(end + 1).is_some_and(|n| n.is_ascii_digit()) {
            // thousands separator
        } else {
            break;
        }
        end += 1;
    }
    let digits = digits.trim_end_matches('.');
    digits.parse().ok().map(|v| (v, end))
}

/// Parses a price or range as shown: "US $9.50", "$8.51 - $12.00",
/// "¥59.00-88.00", "€12,99"? (comma decimals are not used on these sites),
/// "CN￥5.80". `default_currency` applies when no symbol or code is shown.
pub fn parse_price(text: &str, default_currency: &str) -> Option<Price> {
    let currency = currency_of(text).unwrap_or(default_currency).to_string();
    let (amount, end) = first_number(text)?;
    let max = text[end..]
        .find(['-', '~', '–'])
        .and_then(|dash| first_number(&text[end + dash..]))
        .map(|(v, _)| v)
        .filter(|&v| v >= amount);
    Some(Price {
        amount,
        max,
        currency,
    })
}

/// The currency a price text names, if any.
pub fn currency_of(text: &str) -> Option<&'static str> {
    let t = text.to_ascii_uppercase();
    for code in [
        "USD", "CNY", "RMB", "EUR", "GBP", "RUB", "JPY", "KRW", "BRL",
    ] {
        if t.contains(code) {
            return Some(if code == "RMB" { "CNY" } else { code });
        }
    }
    if text.contains('¥') || text.contains('￥') || text.contains('元') {
        Some("CNY")
    } else if text.contains('€') {
        Some("EUR")
    } else if text.contains('£') {
        Some("GBP")
    } else if text.contains('$') {
        Some("USD")
    } else {
        None
    }
}

/// Parses a minimum order: "50 Pieces", "Min. order: 2 pairs", "≥10件".
pub fn parse_moq(text: &str) -> Option<Moq> {
    let (value, end) = first_number(text)?;
    let unit = collapse_ws(
        text[end..]
            .trim()
            .trim_start_matches(['/', '(', ')'])
            .trim(),
    );
    let unit = if unit.is_empty() {
        "pieces".to_string()
    } else {
        unit
    };
    Some(Moq {
        quantity: value as u64,
        unit,
    })
}

/// Parses a sales text into a [`Sales`] of the given kind.
pub fn parse_sales(text: &str, kind: SalesKind) -> Option<Sales> {
    Some(Sales {
        count: parse_count(text)?,
        kind,
        text: collapse_ws(text),
    })
}

/// `base` with `path` appended to its path (a path prefix such as a mock
/// server's `/taobao/` is kept), without query or fragment.
pub fn url_under(base: &Url, path: &str) -> Url {
    let mut u = base.clone();
    let prefix = base.path().trim_end_matches('/');
    u.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// A search term percent-encoded as GBK, as the GBK sites' own search
/// forms send it (Tmall, 1688).
pub fn gbk_query_value(term: &str) -> String {
    let (gbk, _, _) = encoding_rs::GBK.encode(term.trim());
    url::form_urlencoded::byte_serialize(&gbk).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_units() {
        assert_eq!(parse_count("7261人付款"), Some(7261));
        assert_eq!(parse_count("成交2.4万+元"), Some(24000));
        assert_eq!(parse_count("4,000+ sold"), Some(4000));
        assert_eq!(parse_count("月成交 95笔"), Some(95));
        assert_eq!(parse_count("1.2k sold"), Some(1200));
        assert_eq!(parse_count("no digits"), None);
    }

    #[test]
    fn prices_and_ranges() {
        let p = parse_price("US $9.50", "USD").unwrap();
        assert_eq!((p.amount, p.max, p.currency.as_str()), (9.5, None, "USD"));
        let p = parse_price("$8.51 - $12.00", "USD").unwrap();
        assert_eq!((p.amount, p.max), (8.51, Some(12.0)));
        let p = parse_price("¥59.00-88.00", "USD").unwrap();
        assert_eq!(
            (p.amount, p.max, p.currency.as_str()),
            (59.0, Some(88.0), "CNY")
        );
        let p = parse_price("1,299.00", "CNY").unwrap();
        assert_eq!(p.amount, 1299.0);
        assert!(parse_price("contact supplier", "USD").is_none());
    }

    #[test]
    fn urls_are_made_absolute() {
        let base = Url::parse("https://www.aliexpress.com/w/x.html").unwrap();
        assert_eq!(
            absolute_url("//ae01.alicdn.com/kf/a.jpg", &base).unwrap(),
            "https://ae01.alicdn.com/kf/a.jpg"
        );
        assert_eq!(
            absolute_url("/item/1.html", &base).unwrap(),
            "https://www.aliexpress.com/item/1.html"
        );
        assert!(absolute_url("", &base).is_none());
    }

    #[test]
    fn markup_is_stripped() {
        assert_eq!(
            strip_markup("<span class=H>Aurora</span> Runner &amp; more"),
            "Aurora Runner & more"
        );
    }

    #[test]
    fn moq_parses() {
        let m = parse_moq("50 Pieces").unwrap();
        assert_eq!((m.quantity, m.unit.as_str()), (50, "Pieces"));
    }
}
