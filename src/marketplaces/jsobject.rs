//! Pulls the data a page assigns to a JavaScript variable
//! (`window.runParams = {...}`, `g_page_config = {...};`,
//! `TShop.Setup({...})`) out of the HTML and parses it.
//!
//! Real pages mix strict JSON with JavaScript object literals (unquoted keys,
//! single quotes, trailing commas), so parsing tries `serde_json` first and
//! falls back to JSON5. The extent of the literal is found by matching
//! braces outside strings, never by regex, because titles contain `}`.

use serde_json::Value;

/// Finds `marker`, then the first `{` after it, and returns the balanced
/// object literal text (braces included).
pub fn object_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let mut search_from = 0;
    while let Some(pos) = html[search_from..].find(marker) {
        let start = search_from + pos + marker.len();
        // Only `=`, `:`, `(` and whitespace may stand between the marker and
        // the literal; anything else means the marker was a mention.
        let rest = &html[start..];
        let skip = rest
            .char_indices()
            .find(|(_, c)| !(c.is_whitespace() || matches!(c, '=' | ':' | '(')))
            .map(|(i, _)| i);
        if let Some(skip) = skip {
            if rest[skip..].starts_with('{') {
                if let Some(obj) = balanced(&rest[skip..]) {
                    return Some(obj);
                }
            }
        }
        search_from = start;
    }
    None
}

/// Parses the object literal assigned after `marker`.
pub fn value_after(html: &str, marker: &str) -> Option<Value> {
    parse_literal(object_after(html, marker)?)
}

/// Parses a JSON or JavaScript object literal.
pub fn parse_literal(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| json5::from_str(text).ok())
}

/// The balanced `{...}` at the start of `s`, skipping braces inside
/// strings, template literals and comments.
fn balanced(s: &str) -> Option<&str> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' | b'`' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(&s[..=i]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Follows a path of object keys and array indices (`"data.root.fields"`;
/// numeric segments index arrays).
pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(value, |v, seg| match v {
            Value::Object(map) => map.get(seg),
            Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// A value as a trimmed, non-empty string; numbers are formatted.
pub fn string_at(value: &Value, path: &str) -> Option<String> {
    match at(value, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A value as a number; numeric strings are parsed.
pub fn f64_at(value: &Value, path: &str) -> Option<f64> {
    match at(value, path)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_assignment_with_braces_in_strings() {
        let html = r#"<script>window.runParams = {"title":"a } b {","n":1};</script>"#;
        let v = value_after(html, "window.runParams").unwrap();
        assert_eq!(v["title"], "a } b {");
    }

    #[test]
    fn parses_js_literals_with_unquoted_keys() {
        let html = "<script>window._dida_config_._init_data_= { data: {'x': [1,2,],} }</script>";
        let v = value_after(html, "window._dida_config_._init_data_").unwrap();
        assert_eq!(at(&v, "data.x.1").unwrap(), 2);
    }

    #[test]
    fn call_argument_is_found() {
        let html = r#"TShop.Setup({"itemId":"123"});"#;
        let v = value_after(html, "TShop.Setup").unwrap();
        assert_eq!(string_at(&v, "itemId").unwrap(), "123");
    }

    #[test]
    fn a_mention_without_assignment_is_skipped() {
        let html = "if (window.runParams) x(); window.runParams = {\"a\":1}";
        assert_eq!(value_after(html, "window.runParams").unwrap()["a"], 1);
    }

    #[test]
    fn unbalanced_literal_is_none() {
        assert!(value_after("x = {\"a\": {", "x").is_none());
    }
}
