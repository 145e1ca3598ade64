//! Suspect briefs: what an export needs of each flagged or review finding
//! (its verdict, priority, score and the mark spellings of its title),
//! kept beside the finding so that finding the flagged listings, and
//! ranking and counting hundreds of thousands of review listings, reads a
//! few dozen bytes a suspect instead of every finding or every verdict.
//!
//! The `suspect_briefs` tree holds one [`SuspectBrief`] per listing whose
//! latest finding is flagged or in review, written (or removed) in the
//! transaction that writes the finding, and built once on first open for
//! a store written before it existed, as `finding_verdicts` is.

use super::Store;
use crate::judge::score::{Finding, SignalKind};
use crate::judge::signal::Verdict;
use crate::model::error::Result;
use serde::{Deserialize, Serialize};

/// The tree of listing key → [`SuspectBrief`] (flagged and review
/// findings only).
pub const SUSPECT_BRIEFS_TREE: &str = "suspect_briefs";
/// Set in the default tree once [`SUSPECT_BRIEFS_TREE`] covers every
/// stored flagged or review finding.
pub(super) const SUSPECT_BRIEFS_BUILT_KEY: &str = "meta/suspect_briefs";

/// One spelling of a mark in a listing's title, as its finding's `mark`
/// signal gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkSpelling {
    /// The mark (as the watchlist names it).
    pub mark: String,
    /// The spelling found in the title, as written.
    pub variant: String,
    /// How it differs from the mark (`exact`, `fuzzy`, `leetspeak`, ...).
    pub rule: String,
}

/// What an export finds, ranks and counts a suspect listing by, without
/// its finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspectBrief {
    /// `flag` or `review`.
    pub verdict: Verdict,
    pub priority: u32,
    pub score: u32,
    /// The mark spellings of its title, in signal order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkSpelling>,
}

impl SuspectBrief {
    /// The brief of a flagged or review finding; `None` for a clear one.
    pub fn of(f: &Finding) -> Option<SuspectBrief> {
        matches!(f.verdict, Verdict::Flag | Verdict::Review).then(|| SuspectBrief {
            verdict: f.verdict,
            priority: f.priority,
            score: f.score,
            marks: mark_spellings(f),
        })
    }
}

/// The mark spellings of a finding: each `mark` signal that names a
/// spelling, in signal order.
pub fn mark_spellings(f: &Finding) -> Vec<MarkSpelling> {
    f.signals
        .iter()
        .filter(|s| s.kind == SignalKind::Mark)
        .filter_map(|s| {
            let text = |k: &str| {
                s.evidence
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let variant = text("variant");
            (!variant.is_empty()).then(|| MarkSpelling {
                mark: text("mark"),
                variant,
                rule: text("rule"),
            })
        })
        .collect()
}

/// The `suspect_briefs` value to write with a finding: `Some(json)` to
/// insert for a flagged or review finding, `None` to remove for a clear
/// one.
pub(super) fn brief_json(f: &Finding) -> Option<Vec<u8>> {
    SuspectBrief::of(f).and_then(|b| serde_json::to_vec(&b).ok())
}

impl Store {
    /// Each flagged or review listing's key and brief, in key order, from
    /// `suspect_briefs` (no finding is read, and clear listings are never
    /// visited). An unreadable brief is skipped (logged and listed by
    /// [`Store::skipped`]).
    pub fn for_each_suspect_brief(&self, mut f: impl FnMut(&str, SuspectBrief)) -> Result<()> {
        for item in self.suspect_briefs.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice::<SuspectBrief>(&value) {
                Ok(b) => f(&String::from_utf8_lossy(&key), b),
                Err(e) => self.skip(&self.suspect_briefs, &key, e.to_string()),
            }
        }
        Ok(())
    }

    /// Builds `suspect_briefs` from every finding, once per store (a store
    /// written by an older knockoff); a run interrupted here builds it
    /// again.
    pub(super) fn build_suspect_briefs_if_missing(&self) -> Result<()> {
        self.build_once(
            SUSPECT_BRIEFS_BUILT_KEY,
            "findings",
            "built the briefs of flagged and review listings",
            || {
                let mut read = 0usize;
                for item in self.findings.iter() {
                    let (key, value) = item.map_err(|e| self.err(e))?;
                    // An unreadable finding is reported where it is read,
                    // and gets its brief when written again.
                    let Ok(f) = serde_json::from_slice::<Finding>(&value) else {
                        continue;
                    };
                    if let Some(json) = brief_json(&f) {
                        self.suspect_briefs
                            .insert(key, json)
                            .map_err(|e| self.err(e))?;
                    }
                    read += 1;
                }
                Ok(read)
            },
        )
    }
}
