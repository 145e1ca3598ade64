//! knockoff's JSON output: one object per line on stdout, each saying what
//! it is in `"type"`, so a reader can dispatch on it.
//!
//! | command | `type` of its lines |
//! |---|---|
//! | `scan --json` | `finding`, then `host_stats` (live crawl, one per host) |
//! | `parse` | `listing` (one per listing), or `empty_page`, `blocked`, `drift` |
//! | `search` | `search_hit`; with `--variants`, `mark_variant` |
//! | `cases list --json`, `cases show --json` | `case` |
//! | `cases good-faith --json` | `good_faith` |
//! | `hash` | `image_hash` (written by `judge::imagehash::run_hash`) |
//! | `match` | `image_match` (written by `judge::imagehash::run_match`) |
//! | `prune --json` | `retention` |
//! | any: a line that cannot be written, a file that cannot be read (`hash`, `match`) | `error` |
//!
//! An object keeps its own fields beside `type` (a field of its own named
//! `type` is overwritten); anything else is under `value`.

use serde::Serialize;

/// `v` as one JSON line with `"type": kind`.
pub fn line<T: Serialize + ?Sized>(kind: &str, v: &T) -> String {
    let value = match serde_json::to_value(v) {
        Ok(value) => value,
        Err(e) => return error_line(&format!("{kind}: {e}")),
    };
    let mut object = match value {
        serde_json::Value::Object(m) => m,
        other => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    object.insert("type".into(), kind.into());
    serde_json::Value::Object(object).to_string()
}

/// `{"type":"error","error":message}`, escaped as JSON.
pub fn error_line(message: &str) -> String {
    serde_json::json!({"type": "error", "error": message}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_says_what_it_is_and_stays_valid_json() {
        #[derive(Serialize)]
        struct Hit {
            id: &'static str,
            r#type: &'static str,
        }
        let parse = |l: String| serde_json::from_str::<serde_json::Value>(&l).unwrap();
        let l = parse(line(
            "search_hit",
            &Hit {
                id: "1",
                r#type: "x",
            },
        ));
        assert_eq!(l, serde_json::json!({"type": "search_hit", "id": "1"}));
        let l = parse(line("mark_variant", &"auorra"));
        assert_eq!(
            l,
            serde_json::json!({"type": "mark_variant", "value": "auorra"})
        );
        let e = error_line("a \"quoted\"\nmessage");
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"], "a \"quoted\"\nmessage");
    }
}
