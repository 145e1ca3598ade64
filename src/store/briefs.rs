//! Review briefs: what an export needs of each review finding (its
//! priority, score and the mark spellings of its title), kept beside the
//! finding so that ranking and counting hundreds of thousands of review
//! listings reads a few dozen bytes each instead of every finding.
//!
//! The `review_briefs` tree holds one [`ReviewBrief`] per listing whose
//! latest finding is a review, written (or removed) in the transaction
//! that writes the finding, and built once on first open for a store
//! written before it existed, as `finding_verdicts` is.

use super::Store;
use crate::judge::score::{Finding, SignalKind};
use crate::judge::signal::Verdict;
use crate::model::error::Result;
use serde::{Deserialize, Serialize};

/// The tree of listing key → [`ReviewBrief`] (review findings only).
pub const REVIEW_BRIEFS_TREE: &str = "review_briefs";
/// Set in the default tree once [`REVIEW_BRIEFS_TREE`] covers every
/// stored review finding.
pub(super) const REVIEW_BRIEFS_BUILT_KEY: &str = "meta/review_briefs";

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

/// What an export ranks and counts a review listing by, without its
/// finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewBrief {
    pub priority: u32,
    pub score: u32,
    /// The mark spellings of its title, in signal order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkSpelling>,
}

impl ReviewBrief {
    /// The brief of a review finding; `None` for any other verdict.
    pub fn of(f: &Finding) -> Option<ReviewBrief> {
        (f.verdict == Verdict::Review).then(|| ReviewBrief {
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

/// The `review_briefs` value to write with a finding: `Some(json)` to
/// insert for a review, `None` to remove for any other verdict.
pub(super) fn brief_json(f: &Finding) -> Option<Vec<u8>> {
    ReviewBrief::of(f).and_then(|b| serde_json::to_vec(&b).ok())
}

impl Store {
    /// Each review listing's key and brief, in key order, from
    /// `review_briefs` (no finding is read). An unreadable brief is
    /// skipped (logged and listed by [`Store::skipped`]).
    pub fn for_each_review_brief(&self, mut f: impl FnMut(&str, ReviewBrief)) -> Result<()> {
        for item in self.review_briefs.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice::<ReviewBrief>(&value) {
                Ok(b) => f(&String::from_utf8_lossy(&key), b),
                Err(e) => self.skip(&self.review_briefs, &key, e.to_string()),
            }
        }
        Ok(())
    }

    /// Builds `review_briefs` from every finding, once per store (a store
    /// written by an older knockoff); a run interrupted here builds it
    /// again.
    pub(super) fn build_review_briefs_if_missing(&self) -> Result<()> {
        self.build_once(
            REVIEW_BRIEFS_BUILT_KEY,
            "findings",
            "built the briefs of review listings",
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
                        self.review_briefs
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
