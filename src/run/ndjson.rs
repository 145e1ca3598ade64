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
//! | `hash` | `image_hash` (computed by `judge::imagehash::hash_files`) |
//! | `match` | `image_match` (computed by `judge::imagehash::match_files`) |
//! | `prune --json` | `retention` |
//! | any: a line that cannot be written, a file that cannot be read (`hash`, `match`) | `error` |
//!
//! [`Line`] is the one list of kinds: a line is written only from a `Line`,
//! and the JSON Schema of a line ([`schema`], `knockoff schema`, committed
//! as `docs/ndjson.schema.json`) is derived from the same enum, so a kind
//! cannot be added without its schema. Each kind's object keeps its own
//! fields beside `type`.

use std::io::Write;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::fetch::http::HostStats;
use crate::file::cases::book::Case;
use crate::file::cases::goodfaith::GoodFaith;
use crate::file::retention::RetentionReport;
use crate::judge::imagehash::{self, FileHashes, FileMatch, FileResult};
use crate::judge::index::{SearchHit, TermVariant};
use crate::judge::score::Finding;
use crate::marketplaces::{block, PageKind, PageOutcome};
use crate::model::error::{Error, Result};
use crate::model::listing::{Listing, Platform};

/// One line of knockoff's JSON output; `type` names the variant.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schemars(title = "knockoff NDJSON line")]
pub enum Line<'a> {
    /// `scan --json`: a flagged (or reviewed) listing with its score,
    /// signals and drafts.
    Finding(&'a Finding),
    /// `scan --json` of a live crawl: one host's fetch counts.
    HostStats(HostStatsLine<'a>),
    /// `parse`: one listing of the page.
    Listing(&'a Listing),
    /// `parse`: a page understood, with no listing on it.
    EmptyPage(EmptyPage<'a>),
    /// `parse`: the marketplace refused us (login wall, captcha, punish page).
    Blocked(Blocked<'a>),
    /// `parse`: a page of a known kind without the data the parser expects.
    Drift(Drift<'a>),
    /// `search`: one listing of the index.
    SearchHit(&'a SearchHit),
    /// `search --variants`: a spelling of the mark in the index.
    MarkVariant(&'a TermVariant),
    /// `cases list --json`, `cases show --json`: one case.
    Case(&'a Case),
    /// `cases good-faith --json`: the Good-Faith figures.
    GoodFaith(&'a GoodFaith),
    /// `hash`: one file's perceptual hashes.
    ImageHash(&'a FileHashes),
    /// `match`: one file's nearest official photo.
    ImageMatch(&'a FileMatch),
    /// `prune --json`: what retention dropped and kept.
    Retention(&'a RetentionReport),
    /// Something that could not be done or written.
    Error(ErrorLine<'a>),
}

impl Line<'_> {
    /// The line as JSON (no newline). A value that cannot be serialized
    /// becomes an `error` line, so a line is always valid JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| error_line(&format!("a line of output: {e}")))
    }

    /// The `blocked` or `drift` line of a page outcome; `None` for `Ok`
    /// (its listings, or its `empty_page`, are lines of their own).
    pub fn of_page(outcome: &PageOutcome) -> Option<Line<'_>> {
        match outcome {
            PageOutcome::Ok { .. } => None,
            PageOutcome::Blocked {
                platform,
                url,
                marker,
                reason,
                found_in,
            } => Some(Line::Blocked(Blocked {
                status: BlockedStatus::Blocked,
                platform: *platform,
                url,
                marker,
                reason,
                found_in: *found_in,
            })),
            PageOutcome::Drift {
                platform,
                url,
                page,
                missing,
                detail,
            } => Some(Line::Drift(Drift {
                status: DriftStatus::Drift,
                platform: *platform,
                url,
                page: *page,
                missing,
                detail,
            })),
        }
    }
}

/// `host_stats`: one host of a live crawl.
#[derive(Serialize, JsonSchema)]
pub struct HostStatsLine<'a> {
    pub host: &'a str,
    pub stats: &'a HostStats,
}

/// `empty_page`: a page understood, with no listing.
#[derive(Serialize, JsonSchema)]
pub struct EmptyPage<'a> {
    pub platform: Platform,
    pub page: PageKind,
    /// Total results the page claims, where it says.
    pub total: Option<u64>,
    pub url: &'a str,
}

/// `blocked`: [`PageOutcome::Blocked`]'s fields.
#[derive(Serialize, JsonSchema)]
pub struct Blocked<'a> {
    pub status: BlockedStatus,
    pub platform: Platform,
    pub url: &'a str,
    /// The marker that gave the block away.
    pub marker: &'a str,
    pub reason: &'a str,
    pub found_in: block::Evidence,
}

/// `blocked`'s `status`, as the page outcome names it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BlockedStatus {
    Blocked,
}

/// `drift`: [`PageOutcome::Drift`]'s fields.
#[derive(Serialize, JsonSchema)]
pub struct Drift<'a> {
    pub status: DriftStatus,
    pub platform: Platform,
    pub url: &'a str,
    pub page: PageKind,
    /// The fields or blobs that were expected and not found.
    pub missing: &'a [String],
    pub detail: &'a str,
}

/// `drift`'s `status`, as the page outcome names it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriftStatus {
    Drift,
}

/// `error`: what went wrong, and the file it concerns, if one.
#[derive(Serialize, JsonSchema)]
pub struct ErrorLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
    pub error: &'a str,
}

/// `{"type":"error","error":message}`, escaped as JSON.
pub fn error_line(message: &str) -> String {
    // An `ErrorLine` of strings always serializes; the fallback is never
    // reached but keeps this function total.
    serde_json::to_string(&Line::Error(ErrorLine {
        file: None,
        error: message,
    }))
    .unwrap_or_else(|_| r#"{"type":"error","error":"unserializable"}"#.into())
}

/// `knockoff hash FILE...`: one `image_hash` line per file, or its
/// `error` line.
pub fn run_hash(files: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let lines = imagehash::hash_files(files);
    write_file_lines(&lines, Line::ImageHash, out)
}

/// `knockoff match --reference DIR FILE...`: one `image_match` line per
/// file, or its `error` line; a reference directory that cannot be loaded
/// is an error before any line.
pub fn run_match(reference_dir: &Path, files: &[PathBuf], out: &mut dyn Write) -> Result<()> {
    let lines = imagehash::match_files(reference_dir, files)?;
    write_file_lines(&lines, Line::ImageMatch, out)
}

fn write_file_lines<'a, T>(
    lines: &'a [FileResult<T>],
    line: fn(&'a T) -> Line<'a>,
    out: &mut dyn Write,
) -> Result<()> {
    for (file, result) in lines {
        let message;
        let l = match result {
            Ok(v) => line(v),
            Err(e) => {
                message = e.to_string();
                Line::Error(ErrorLine {
                    file: Some(file),
                    error: &message,
                })
            }
        };
        match writeln!(out, "{}", l.to_json()) {
            Ok(()) => {}
            // A closed pipe (`| head`) ends the output, not the program.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Error::io("<stdout>", e)),
        }
    }
    Ok(())
}

/// The JSON Schema of one line (every kind, by its `type`), pretty-printed
/// with a final newline: what `knockoff schema` prints and
/// `docs/ndjson.schema.json` holds.
pub fn schema() -> String {
    // What knockoff writes, not what it would read: a field skipped when
    // empty is optional, a field with a default is still required.
    let settings = schemars::generate::SchemaSettings::default().for_serialize();
    let schema = settings
        .into_generator()
        .into_root_schema_for::<Line<'static>>();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_says_what_it_is_and_stays_valid_json() {
        let parse = |l: String| serde_json::from_str::<serde_json::Value>(&l).unwrap();
        let v = TermVariant {
            term: "auorra".into(),
            edits: 1,
            listings: 2,
        };
        let l = parse(Line::MarkVariant(&v).to_json());
        assert_eq!(
            l,
            serde_json::json!({"type": "mark_variant", "term": "auorra", "edits": 1, "listings": 2})
        );
        let e = error_line("a \"quoted\"\nmessage");
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"], "a \"quoted\"\nmessage");
    }

    #[test]
    fn the_schema_names_every_kind_once_with_its_type_required() {
        let schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
        let variants = schema["oneOf"].as_array().expect("oneOf of the kinds");
        let kinds: Vec<&str> = variants
            .iter()
            .map(|v| {
                assert!(
                    v["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|n| n == "type")),
                    "{v}"
                );
                v["properties"]["type"]["const"]
                    .as_str()
                    .expect("type const")
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "finding",
                "host_stats",
                "listing",
                "empty_page",
                "blocked",
                "drift",
                "search_hit",
                "mark_variant",
                "case",
                "good_faith",
                "image_hash",
                "image_match",
                "retention",
                "error"
            ]
        );
    }
}
