//! Retention: dropping the raw bytes of old captured pages and photos,
//! except those that are, or may become, evidence.
//!
//! What is kept whatever its age:
//! - the evidence of every case (the pages its listing was read from, its
//!   matched photos and the latest capture of each of its photos, the
//!   captures that proved a removal, files added for a refile);
//! - the same for every listing whose latest finding is `flag` or
//!   `review`: it may become a case.
//!
//! What is dropped is only the bytes: a page's record (URL, time, status,
//! SHA-256) stays and says when its bytes were dropped, so an export names
//! a dropped page instead of losing it, and a digest in a filed bundle can
//! still be matched to its capture.

use crate::file::cases::book::CaseBook;
use crate::judge::score::Finding;
use crate::model::error::Result;
use crate::store::blobfiles::sha256_bytes;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

/// What one pruning did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RetentionReport {
    /// Captures whose bytes are still in the store, looked at.
    pub examined: u64,
    /// Captures whose bytes were dropped.
    pub dropped: u64,
    /// Bytes dropped.
    pub bytes_dropped: u64,
    /// Old captures kept because they are evidence.
    pub kept_as_evidence: u64,
    /// Captures younger than the limit.
    pub kept_young: u64,
    pub dry_run: bool,
}

/// The captures that are, or may become, evidence, by SHA-256: 32 bytes
/// each in one sorted vector (a million listings of history name ~700,000
/// of them, ~100 bytes each as a set of strings), and any name that is not
/// a SHA-256 kept as it is.
#[derive(Debug, Default)]
pub struct Evidence {
    shas: Vec<[u8; 32]>,
    other: HashSet<String>,
}

impl Evidence {
    fn insert(&mut self, sha256: &str) {
        match sha256_bytes(sha256) {
            Some(b) => self.shas.push(b),
            None => {
                self.other.insert(sha256.to_string());
            }
        }
    }

    fn extend<'a>(&mut self, shas: impl IntoIterator<Item = &'a str>) {
        for s in shas {
            self.insert(s);
        }
    }

    /// Sorted and without repeats, for [`Evidence::contains`].
    fn done(mut self) -> Evidence {
        self.shas.sort_unstable();
        self.shas.dedup();
        self.shas.shrink_to_fit();
        self
    }

    /// Whether the capture of this SHA-256 is evidence.
    pub fn contains(&self, sha256: &str) -> bool {
        match sha256_bytes(sha256) {
            Some(b) => self.shas.binary_search(&b).is_ok(),
            None => self.other.contains(sha256),
        }
    }

    /// How many captures are evidence.
    pub fn len(&self) -> usize {
        self.shas.len() + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every capture that is, or may become, evidence. One pass over the
/// cases and one over the suspects' briefs, reading each listing once,
/// with sled's cache settled as it goes ([`Store::settle_after`]): a
/// daemon prunes once a day, and holding every case, every latest
/// capture and every suspect's key at once took a million-listing daemon
/// to 346 MiB at its prune, 247 since (BENCHMARKS.md "Stop 42").
pub fn evidence(store: &Store) -> Result<Evidence> {
    let mut keep = Evidence::default();
    // Listings of cases; those that are suspects too are read with the
    // suspects.
    let mut case_listings: BTreeSet<String> = BTreeSet::new();
    CaseBook::open(store)?.for_each(|case| {
        case_listings.insert(case.listing_key());
        for t in &case.history {
            if let Some(proof) = &t.proof {
                keep.insert(&proof.sha256);
            }
        }
        keep.extend(case.added_evidence.iter().map(|a| a.sha256.as_str()));
    })?;
    // Flagged and review listings: exactly those with a brief, read as
    // the briefs are passed.
    let mut reads = 0;
    let mut failed = None;
    store.for_each_suspect(|key, _| {
        case_listings.remove(key);
        if failed.is_none() {
            failed = store
                .settle_after(&mut reads)
                .and_then(|()| keep_listing(store, key, &mut keep))
                .err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    for key in &case_listings {
        store.settle_after(&mut reads)?;
        keep_listing(store, key, &mut keep)?;
    }
    Ok(keep.done())
}

/// A listing's evidence: the pages it was read from, its matched photos,
/// the latest capture of each of its photos.
fn keep_listing(store: &Store, key: &str, keep: &mut Evidence) -> Result<()> {
    if let Some(rec) = store.listing(key)? {
        keep.extend(rec.sources.iter().map(|s| s.sha256.as_str()));
        for url in &rec.listing.images {
            if let Some(p) = store.page_for_url(url)? {
                keep.insert(&p.sha256);
            }
        }
    }
    if let Some(f) = store.finding(key)? {
        keep.extend(finding_photos(&f));
    }
    Ok(())
}

fn finding_photos(f: &Finding) -> impl Iterator<Item = &str> + '_ {
    f.photos.iter().map(|p| p.sha256.as_str())
}

/// Drops the bytes of captures older than `older_than` at `now` that are
/// not evidence ([`evidence`]). With `dry_run`, counts only.
pub fn prune(
    store: &Store,
    older_than: Duration,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<RetentionReport> {
    let limit = chrono::Duration::from_std(older_than)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let keep = evidence(store)?;
    let mut report = RetentionReport {
        dry_run,
        ..Default::default()
    };
    // The pass only reads; the bytes are dropped after it, so that no
    // record is written under the pass.
    let (mut to_drop, mut reads) = (Vec::new(), 0);
    store.for_each_page(|page| {
        store.settle_after(&mut reads)?;
        if page.bytes_dropped_at.is_some() {
            return Ok(());
        }
        report.examined += 1;
        if page.captured_at >= limit {
            report.kept_young += 1;
        } else if keep.contains(&page.sha256) {
            report.kept_as_evidence += 1;
        } else if dry_run {
            report.dropped += 1;
            report.bytes_dropped += store.blob_size(&page.sha256)?;
        } else {
            to_drop.push(page.sha256);
        }
        Ok(())
    })?;
    for sha256 in to_drop {
        report.dropped += 1;
        report.bytes_dropped += store.drop_page_bytes(&sha256, now)?;
    }
    if !dry_run {
        store.flush()?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_names_each_capture_exactly_whatever_its_name() {
        let a = "ab".repeat(32);
        let b = "0f".repeat(32);
        let mut keep = Evidence::default();
        keep.extend([a.as_str(), a.as_str(), "not a sha", &"AB".repeat(32)]);
        let keep = keep.done();
        // Repeats count once; a name that is not a lowercase SHA-256 is
        // kept as written, and matches only itself.
        assert_eq!(keep.len(), 3);
        assert!(keep.contains(&a));
        assert!(keep.contains("not a sha"));
        assert!(keep.contains(&"AB".repeat(32)));
        assert!(!keep.contains(&b));
        assert!(!keep.contains("not a SHA"));
        assert!(!keep.contains(""));
        assert!(!keep.contains(&"ab".repeat(31)));
        assert!(Evidence::default().done().is_empty());
    }
}
