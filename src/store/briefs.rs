//! Suspect briefs: what an export needs of each flagged or review finding
//! (its verdict, priority, score and the mark spellings of its title),
//! kept beside the finding so that finding the flagged listings, and
//! ranking and counting hundreds of thousands of review listings, reads a
//! few dozen bytes a suspect instead of every finding or every verdict.
//!
//! The `suspect_briefs` tree holds one [`SuspectBrief`] per listing whose
//! latest finding is flagged or in review, written (or removed) in the
//! transaction that writes the finding, and built once on first open for
//! a store written before it existed, as `item_pages` is.
//!
//! A brief also carries the digests of what links the listing's seller to
//! others ([`SellerDigests`]), written with the listing, so the daemon
//! counts its seller networks at open from the briefs instead of reading
//! every suspect listing (600,000 records in a big brand's year). Briefs
//! written before they carried them get them on first open
//! ([`LINKS_VERSION`]); one without them (a finding moved to flag or
//! review by a decision, whose listing was not at hand) makes the daemon
//! read that listing.

use super::Store;
use crate::judge::score::{Finding, SignalKind};
use crate::judge::signal::Verdict;
use crate::model::error::Result;
use crate::model::listing::Listing;
use crate::model::seller::{SellerDigests, SellerLinks};
use serde::{Deserialize, Serialize};

/// The tree of listing key → [`SuspectBrief`] (flagged and review
/// findings only).
pub const SUSPECT_BRIEFS_TREE: &str = "suspect_briefs";
/// Set in the default tree once [`SUSPECT_BRIEFS_TREE`] covers every
/// stored flagged or review finding.
pub(super) const SUSPECT_BRIEFS_BUILT_KEY: &str = "meta/suspect_briefs";
/// Holds [`LINKS_VERSION`] in the default tree once every brief whose
/// listing reads carries its seller links of that version.
pub(super) const BRIEF_LINKS_KEY: &str = "meta/suspect_brief_links";
/// The version of what [`SuspectBrief::links`] holds
/// ([`SellerLinks::of`]); a store whose briefs hold another gets them
/// written again on open.
pub const LINKS_VERSION: &str = "1";
/// Set in the default tree once every flagged listing's brief carries its
/// complaint key ([`SuspectBrief::complaint`]).
pub(super) const BRIEF_COMPLAINTS_KEY: &str = "meta/suspect_brief_complaints";

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
    /// The listing's seller links as digests ([`SellerDigests::raw`]; read
    /// back with [`crate::model::seller::DigestsView::of_raw`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<u64>>,
    /// For a flagged listing, the key of the complaint it is filed under
    /// ([`Finding::complaint_key`]), so an export finds a complaint's case
    /// filed already without reading the finding. `None` for a review
    /// listing, a flagged one no right carries, and a brief written before
    /// briefs carried it (the finding is read then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
}

impl SuspectBrief {
    /// The brief of a flagged or review finding, with its listing's seller
    /// links when the listing is given; `None` for a clear finding.
    pub fn of(f: &Finding, listing: Option<&Listing>) -> Option<SuspectBrief> {
        matches!(f.verdict, Verdict::Flag | Verdict::Review).then(|| SuspectBrief {
            verdict: f.verdict,
            priority: f.priority,
            score: f.score,
            marks: mark_spellings(f),
            links: listing.map(links_of),
            complaint: match f.verdict {
                Verdict::Flag => f.complaint_key(),
                _ => None,
            },
        })
    }
}

/// What a brief keeps of a listing's seller links ([`SuspectBrief::links`]).
pub fn links_of(l: &Listing) -> Vec<u64> {
    SellerDigests::of(&SellerLinks::of(l)).raw().to_vec()
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
/// one. `links`: the brief's seller links when its listing is not given
/// (those of the brief it replaces).
pub(super) fn brief_json(
    f: &Finding,
    listing: Option<&Listing>,
    links: Option<Vec<u64>>,
) -> Option<Vec<u8>> {
    let mut b = SuspectBrief::of(f, listing)?;
    if b.links.is_none() {
        b.links = links;
    }
    serde_json::to_vec(&b).ok()
}

impl Store {
    /// Each flagged or review listing's key and brief, in key order, from
    /// `suspect_briefs` (no finding is read, and clear listings are never
    /// visited). An unreadable brief is skipped (logged and listed by
    /// [`Store::skipped`]).
    pub fn for_each_suspect_brief(&self, mut f: impl FnMut(&str, SuspectBrief)) -> Result<()> {
        self.for_each_suspect(|key, brief| {
            if let Some(b) = brief {
                f(key, b)
            }
        })
    }

    /// Each flagged or review listing's key and brief folded by workers
    /// over the tree's key ranges ([`super::readahead::fold_ranges`]):
    /// `f` gets the briefs of a range in key order into the range's
    /// accumulator (made by `init`), and the accumulators come back in key
    /// order, so folding them in turn is [`Store::for_each_suspect_brief`]'s
    /// pass. For the export's pass over a big store, CPU-bound when the
    /// store is in the file cache and disk-bound when not: the workers
    /// share both. Stores under
    /// [`super::readahead::READ_AHEAD_MIN_STORE_BYTES`] are one range,
    /// passed on the calling thread. An unreadable brief is skipped as
    /// [`Store::for_each_suspect_brief`] skips it.
    pub fn fold_suspect_briefs<A: Send>(
        &self,
        init: impl Fn() -> A + Sync,
        f: impl Fn(&mut A, &str, SuspectBrief) + Sync,
    ) -> Result<Vec<A>> {
        self.fold_suspect_briefs_on(None, init, f)
    }

    /// [`Store::fold_suspect_briefs`] on `threads` workers (`Some(0)`: one
    /// range, on the calling thread), or as many as the store's size
    /// calls for (`None`).
    pub fn fold_suspect_briefs_on<A: Send>(
        &self,
        threads: Option<usize>,
        init: impl Fn() -> A + Sync,
        f: impl Fn(&mut A, &str, SuspectBrief) + Sync,
    ) -> Result<Vec<A>> {
        use super::readahead::{fold_ranges, READ_AHEAD_MIN_STORE_BYTES, READ_AHEAD_THREADS};
        let threads = match threads {
            Some(t) => t,
            None if self.disk_at_least(READ_AHEAD_MIN_STORE_BYTES)? => READ_AHEAD_THREADS,
            None => 0,
        };
        fold_ranges(
            &self.suspect_briefs,
            threads,
            init,
            |acc, key, value| {
                match serde_json::from_slice::<SuspectBrief>(&value) {
                    Ok(brief) => f(acc, &String::from_utf8_lossy(&key), brief),
                    Err(e) => self.skip(&self.suspect_briefs, &key, e.to_string()),
                }
                Ok(())
            },
            |e| self.err(e),
        )
    }

    /// Each flagged or review listing's key and its brief, `None` where the
    /// brief does not read (skipped as [`Store::for_each_suspect_brief`]
    /// skips it, but the listing is still named: the daemon's count then
    /// reads the listing itself).
    pub fn for_each_suspect(&self, mut f: impl FnMut(&str, Option<SuspectBrief>)) -> Result<()> {
        for item in self.suspect_briefs.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            let brief = serde_json::from_slice::<SuspectBrief>(&value)
                .map_err(|e| self.skip(&self.suspect_briefs, &key, e.to_string()))
                .ok();
            f(&String::from_utf8_lossy(&key), brief);
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
                for item in self.listings.iter() {
                    let (key, value) = item.map_err(|e| self.err(e))?;
                    // An unreadable finding is reported where it is read,
                    // and gets its brief when written again.
                    let Ok(Some(f)) = super::entry::finding(&value) else {
                        continue;
                    };
                    let listing = match f.verdict {
                        Verdict::Clear => None,
                        _ => serde_json::from_slice::<super::ListingRecord>(&value)
                            .ok()
                            .map(|r| r.listing),
                    };
                    if let Some(json) = brief_json(&f, listing.as_ref(), None) {
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

    /// Writes every brief again with its listing's seller links, once per
    /// store whose briefs were written without them (or with another
    /// [`LINKS_VERSION`]); a run interrupted here does it again.
    pub(super) fn build_brief_links_if_missing(&self) -> Result<()> {
        self.rewrite_briefs_once(
            BRIEF_LINKS_KEY,
            LINKS_VERSION,
            "wrote the seller links of every suspect brief",
            |key, b| {
                b.links = self.listing_at_open(key)?.map(|l| links_of(&l));
                Ok(true)
            },
        )
    }

    /// Writes the complaint key into the brief of every flagged listing
    /// whose brief lacks it (its finding is read for it), once per store
    /// whose briefs were written before they carried it; a run
    /// interrupted here does it again.
    pub(super) fn build_brief_complaints_if_missing(&self) -> Result<()> {
        self.rewrite_briefs_once(
            BRIEF_COMPLAINTS_KEY,
            "1",
            "wrote the complaint key of every flagged listing's brief",
            |key, b| {
                if b.verdict != Verdict::Flag || b.complaint.is_some() {
                    return Ok(false);
                }
                let Some(v) = self.listings.get(key).map_err(|e| self.err(e))? else {
                    return Ok(false);
                };
                // An unreadable finding is reported where it is read.
                let Ok(Some(f)) = super::entry::finding(&v) else {
                    return Ok(false);
                };
                b.complaint = f.complaint_key();
                Ok(b.complaint.is_some())
            },
        )
    }

    /// Passes every brief to `change` (with its key) and writes back those
    /// it says it changed, unless `done_key` in the default tree holds
    /// `version` already; then sets it. An unreadable brief is left as it
    /// is (reported where it is read, and written again with its finding).
    fn rewrite_briefs_once(
        &self,
        done_key: &str,
        version: &str,
        what: &str,
        mut change: impl FnMut(&[u8], &mut SuspectBrief) -> Result<bool>,
    ) -> Result<()> {
        let done = self.db.get(done_key).map_err(|e| self.err(e))?;
        if done.as_deref() == Some(version.as_bytes()) {
            return Ok(());
        }
        let mut written = 0usize;
        for item in self.suspect_briefs.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            let Ok(mut b) = serde_json::from_slice::<SuspectBrief>(&value) else {
                continue;
            };
            if !change(&key, &mut b)? {
                continue;
            }
            let json = serde_json::to_vec(&b).map_err(|e| self.err(e))?;
            self.suspect_briefs
                .insert(key, json)
                .map_err(|e| self.err(e))?;
            written += 1;
        }
        self.db.insert(done_key, version).map_err(|e| self.err(e))?;
        self.flush()?;
        if written > 0 {
            tracing::info!(store = %self.path.display(), written, "{what}");
        }
        Ok(())
    }

    /// A listing read while its store is opened (not counted among the
    /// reads the tests count): `None` when missing or unreadable (reported
    /// where it is read later).
    fn listing_at_open(&self, key: &[u8]) -> Result<Option<Listing>> {
        let Some(v) = self.listings.get(key).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice::<super::ListingRecord>(&v)
            .ok()
            .map(|r| r.listing))
    }
}
