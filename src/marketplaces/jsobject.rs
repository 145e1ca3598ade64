//! Pulls the data a page assigns to a JavaScript variable
//! (`window.runParams = {...}`, `g_page_config = {...};`,
//! `TShop.Setup({...})`) out of the HTML and parses it.
//!
//! Real pages mix strict JSON with JavaScript object literals (unquoted keys,
//! single quotes, trailing commas), so parsing tries `serde_json` first and
//! falls back to JSON5. The extent of the literal is found by matching
//! braces outside strings, never by regex, because titles contain `}`.

use serde_json::Value;

/// Deepest nesting of objects and arrays a literal may have. Real pages
/// stay far below it (their deepest data sits about 15 levels down); a
/// page that nests deeper is hostile or broken, and is refused before any
/// parser recurses into it (`json5` recurses per level and would overflow
/// the stack on `[[[[…`).
pub const MAX_LITERAL_DEPTH: usize = 96;

/// Finds `marker`, then the first `{` after it, and returns the balanced
/// object literal text (braces included).
///
/// Linear in the page: the first literal that does not close is scanned
/// once to the end of the page, and the braces of every later occurrence
/// are looked up in what that scan found, so a page that repeats the
/// marker thousands of times before an unclosed literal costs one scan,
/// not one per occurrence.
pub fn object_after<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let mut search_from = 0;
    // Set once a scan ran off the end: every brace from there on, matched.
    let mut matched: Option<(usize, std::collections::HashMap<usize, usize>)> = None;
    // Fresh scans may look at each byte a few times over, no more: a
    // later occurrence the first scan saw inside a string (its
    // tokenisation can differ) gets a scan of its own while this lasts.
    let mut budget = html.len().saturating_mul(3).saturating_add(4096);
    while let Some(pos) = html[search_from..].find(marker) {
        if super::budget::spent() {
            return None;
        }
        let start = search_from + pos + marker.len();
        search_from = start;
        // Only `=`, `:`, `(` and whitespace may stand between the marker and
        // the literal; anything else means the marker was a mention.
        let rest = &html[start..];
        let Some(skip) = rest
            .char_indices()
            .find(|(_, c)| !(c.is_whitespace() || matches!(c, '=' | ':' | '(')))
            .map(|(i, _)| i)
        else {
            continue;
        };
        if !rest[skip..].starts_with('{') {
            continue;
        }
        let open = start + skip;
        if let Some((from, closes)) = &matched {
            if open >= *from {
                if let Some(close) = closes.get(&open) {
                    return Some(&html[open..=*close]);
                }
            }
        }
        if budget == 0 {
            continue;
        }
        match scan(&html[open..]) {
            Scan::Closed { end } => return Some(&html[open..=open + end]),
            Scan::Open => {
                budget = budget.saturating_sub(html.len() - open);
                if matched.is_none() {
                    let closes = brace_matches(&html[open..])
                        .into_iter()
                        .map(|(o, c)| (open + o, open + c))
                        .collect();
                    matched = Some((open, closes));
                }
            }
        }
    }
    None
}

/// Parses the object literal assigned after `marker`.
pub fn value_after(html: &str, marker: &str) -> Option<Value> {
    parse_literal(object_after(html, marker)?)
}

/// Parses a JSON or JavaScript object literal: `serde_json` first, then
/// JSON5. A literal nested deeper than [`MAX_LITERAL_DEPTH`] is refused.
pub fn parse_literal(text: &str) -> Option<Value> {
    if super::budget::spent() {
        return None;
    }
    if nesting_depth(text) > MAX_LITERAL_DEPTH {
        tracing::warn!(
            bytes = text.len(),
            limit = MAX_LITERAL_DEPTH,
            "embedded data nested too deep: ignored"
        );
        return None;
    }
    serde_json::from_str(text)
        .ok()
        .or_else(|| (!super::budget::spent()).then(|| json5::from_str(text).ok())?)
}

/// What a scan from a `{` found.
enum Scan {
    /// The literal closes at byte `end` (the matching `}`).
    Closed { end: usize },
    /// The text ended first.
    Open,
}

/// The tokens of JavaScript that matter for finding a literal's extent:
/// strings (three quotes, with escapes), comments, and the rest. Calls `f`
/// with the index of every byte outside strings and comments.
fn for_each_code_byte(bytes: &[u8], mut f: impl FnMut(usize, u8) -> bool) {
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
            b => {
                if !f(i, b) {
                    return;
                }
            }
        }
        i += 1;
    }
}

/// Finds where the `{` at the start of `s` closes.
fn scan(s: &str) -> Scan {
    let mut depth = 0usize;
    let mut end = None;
    for_each_code_byte(s.as_bytes(), |i, b| {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = Some(i);
                    return false;
                }
            }
            _ => {}
        }
        true
    });
    match end {
        Some(end) => Scan::Closed { end },
        None => Scan::Open,
    }
}

/// Every `{` in `s` that closes, with where it closes (one pass).
fn brace_matches(s: &str) -> Vec<(usize, usize)> {
    let mut open: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    for_each_code_byte(s.as_bytes(), |i, b| {
        match b {
            b'{' => open.push(i),
            b'}' => {
                if let Some(o) = open.pop() {
                    out.push((o, i));
                }
            }
            _ => {}
        }
        true
    });
    out
}

/// Deepest nesting of `{}` and `[]` outside strings and comments.
pub fn nesting_depth(text: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for_each_code_byte(text.as_bytes(), |_, b| {
        match b {
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        true
    });
    deepest
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

/// The deepest a page's JSON is searched: real pages nest ~15 levels; the
/// cap keeps hostile nesting from exhausting the stack.
pub const MAX_JSON_DEPTH: usize = 64;
/// The first value under `key` anywhere in `v`, depth-first, at most
/// [`MAX_JSON_DEPTH`] levels down; nulls are skipped.
pub fn find_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    fn walk<'a>(v: &'a Value, key: &str, depth: usize) -> Option<&'a Value> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        match v {
            Value::Object(map) => map
                .get(key)
                .filter(|x| !x.is_null())
                .or_else(|| map.values().find_map(|x| walk(x, key, depth + 1))),
            Value::Array(items) => items.iter().find_map(|x| walk(x, key, depth + 1)),
            _ => None,
        }
    }
    walk(v, key, 0)
}

/// The first of `keys` found anywhere in `v` as a trimmed non-empty string
/// (numbers formatted).
pub fn find_string(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match find_key(v, k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
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

    #[test]
    fn a_later_literal_after_an_unclosed_one_is_found() {
        let html = "x = {\"a\": 1, x = {\"b\": 2} ;";
        assert_eq!(value_after(html, "x").unwrap()["b"], 2);
    }

    /// Regression (issue 19, finding 3): a page repeating a marker before
    /// an unclosed literal took quadratic time (1 MB: 12 s). Each
    /// occurrence is now looked up in one scan: checked by counting, not
    /// timing, through the nesting depth of what is returned.
    #[test]
    fn repeated_unclosed_markers_are_scanned_once() {
        let page = "window._dida_config_._init_data_={".repeat(40_000);
        assert!(page.len() > 1_000_000);
        assert!(object_after(&page, "window._dida_config_._init_data_").is_none());
    }

    /// Regression (issue 19, finding 2): `{"a":` + 100,000 `[` overflowed
    /// the stack in the JSON5 fallback.
    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("x = {{\"a\":{}}}", "[".repeat(100_000));
        assert!(value_after(&deep, "x").is_none());
        let deep_js = format!("x = {{a:{}1{}}}", "{a:".repeat(50_000), "}".repeat(50_000));
        assert!(value_after(&deep_js, "x").is_none());
        let ok = format!("x = {{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
        assert!(value_after(&ok, "x").is_some());
    }
}
