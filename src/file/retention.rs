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
use crate::store::{PageRecord, Store};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
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

/// The SHA-256 of every capture that is, or may become, evidence.
pub fn evidence(store: &Store) -> Result<HashSet<String>> {
    let mut keep: HashSet<String> = HashSet::new();
    let pages = store.pages_by_url()?;
    let mut listings: HashSet<String> = HashSet::new();
    for case in CaseBook::open(store)?.all()? {
        listings.insert(case.listing_key());
        for t in &case.history {
            if let Some(proof) = &t.proof {
                keep.insert(proof.sha256.clone());
            }
        }
        keep.extend(case.added_evidence.iter().map(|a| a.sha256.clone()));
    }
    // Flagged and review listings: exactly those with a brief.
    store.for_each_suspect(|key, _| {
        listings.insert(key.to_string());
    })?;
    for key in &listings {
        keep_listing(store, key, &pages, &mut keep)?;
    }
    Ok(keep)
}

/// A listing's evidence: the pages it was read from, its matched photos,
/// the latest capture of each of its photos.
fn keep_listing(
    store: &Store,
    key: &str,
    pages: &HashMap<String, PageRecord>,
    keep: &mut HashSet<String>,
) -> Result<()> {
    if let Some(rec) = store.listing(key)? {
        keep.extend(rec.sources.iter().map(|s| s.sha256.clone()));
        for url in &rec.listing.images {
            if let Some(p) = pages.get(url) {
                keep.insert(p.sha256.clone());
            }
        }
    }
    if let Some(f) = store.finding(key)? {
        keep.extend(finding_photos(&f));
    }
    Ok(())
}

fn finding_photos(f: &Finding) -> impl Iterator<Item = String> + '_ {
    f.photos.iter().map(|p| p.sha256.clone())
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
    for page in store.pages()? {
        if page.bytes_dropped_at.is_some() {
            continue;
        }
        report.examined += 1;
        if page.captured_at >= limit {
            report.kept_young += 1;
        } else if keep.contains(&page.sha256) {
            report.kept_as_evidence += 1;
        } else {
            let size = if dry_run {
                store.blob_size(&page.sha256)?
            } else {
                store.drop_page_bytes(&page.sha256, now)?
            };
            report.dropped += 1;
            report.bytes_dropped += size;
        }
    }
    if !dry_run {
        store.flush()?;
    }
    Ok(report)
}
