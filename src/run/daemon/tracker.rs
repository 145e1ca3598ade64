//! What the daemon adds after each scan cycle: listings over time (gone,
//! back), removal checks for submitted cases, relisting detection, and
//! cases opened from flagged findings.
//!
//! Everything here is keyed and idempotent, so a cycle interrupted at any
//! point (kill -9) can simply be run again under the same cycle number:
//!
//! The records it keeps are [`crate::file::tracking`].
//!
//! A "missed" cycle counts once per cycle number (`missed_through_cycle`),
//! and only when a page the listing was read from before answered with
//! listings in that cycle: a blocked or failed page makes nothing look
//! gone. Times written are capture times (data).
//!
//! A cycle costs what it concerns, not the store's history: it loads the
//! listings seen in it, those not found gone that were read before from a
//! page that answered in it or whose item page answered 404/410 (the
//! store's `live_on_page` index, [`Store::live_keys_on_page`]; a gone
//! listing's missed count no longer matters, and it stays gone whatever
//! its item page answers), and, only when a new listing needs a relisting
//! check, the taken-down listings of the case book, each by key. Page
//! records are looked up by URL. Listings of
//! none of these would be left as they are, so they are not read.

use crate::fetch::{Capture, Fetcher, ResourceKind};
use crate::file::cases::book::{Case, CaseBook, Proof, RelistingLink};
use crate::file::cases::state::CaseState;
pub use crate::file::tracking::{
    pages_by_url, tracking_of, Checkpoint, Gone, ListingEvent, Tracker, Tracking, CHECKPOINT_KEY,
    DEFAULT_GONE_AFTER_CYCLES, RELIST_PHOTO_DISTANCE, TRACKING_TREE,
};
use crate::judge::imagehash::hash::HashPair;
use crate::judge::score::Verdict;
use crate::model::error::{Error, Result};
use crate::run::scan::ScanReport;
use crate::store::blobfiles::sha256_bytes as sha_bytes;
use crate::store::hashcache::photo_hashes;
use crate::store::{ListingRecord, PageRecord, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the daemon did after a cycle's scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AfterCycle {
    pub new_listings: usize,
    pub gone: Vec<String>,
    pub back: Vec<String>,
    pub cases_opened: Vec<String>,
    pub removals_verified: Vec<String>,
    pub relistings: Vec<(String, RelistingLink)>,
}

/// Everything [`after_cycle`] needs.
pub struct AfterCycleInput<'a> {
    pub store: &'a Store,
    pub report: &'a ScanReport,
    pub cycle: u64,
    pub gone_after: u32,
    /// Fetches submitted listings' pages to verify removals.
    pub verifier: &'a dyn Fetcher,
    /// Used only when no capture time is at hand.
    pub now: DateTime<Utc>,
    /// The cases the bookkeeping works on, when the caller knows them
    /// (the daemon's gauges keep every case's state): then only these are
    /// read, not the whole case book.
    pub cases: Option<&'a CasesAtWork>,
}

/// Case ids by number: those submitted (their removals are verified) and
/// those taken down and not reinstated (new listings are checked against
/// them for relistings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CasesAtWork {
    pub submitted: Vec<String>,
    pub taken_down: Vec<String>,
}

/// Runs the daemon's bookkeeping for one finished scan, job by job:
/// listings seen, back or gone; removals of submitted cases; relistings
/// of taken-down listings; cases for flagged findings.
pub async fn after_cycle(input: AfterCycleInput<'_>) -> Result<AfterCycle> {
    let c = Cycle::load(input)?;
    let mut out = AfterCycle::default();
    c.track_listings(&mut out)?;
    c.verify_removals(&mut out).await?;
    c.find_relistings(&mut out)?;
    c.open_cases(&mut out)?;
    c.store.flush()?;
    Ok(out)
}

/// What every job of [`after_cycle`] reads, loaded once.
struct Cycle<'a> {
    store: &'a Store,
    report: &'a ScanReport,
    cycle: u64,
    gone_after: u32,
    verifier: &'a dyn Fetcher,
    tracker: Tracker,
    book: CaseBook,
    cases: Option<&'a CasesAtWork>,
    /// The listings seen this cycle, by key.
    listings: BTreeMap<String, ListingRecord>,
    /// The other listings this cycle concerns, not found gone: read before
    /// from a page that answered, or under an item page that answered
    /// 404/410. Read one at a time when they are tracked: at a big brand's
    /// scale they are tens of thousands (BENCHMARKS.md "Stop 38").
    others: BTreeSet<String>,
    /// The latest capture of the pages that answered 404/410 this cycle.
    dead_pages: HashMap<String, PageRecord>,
    /// Pages that answered with listings this cycle.
    answered: BTreeSet<String>,
    /// Listings the scan saw this cycle.
    seen: BTreeSet<String>,
    /// When nothing of a listing says when: the latest capture of the cycle.
    cycle_at: DateTime<Utc>,
}

impl<'a> Cycle<'a> {
    fn load(input: AfterCycleInput<'a>) -> Result<Cycle<'a>> {
        let AfterCycleInput {
            store,
            report,
            cycle,
            gone_after,
            verifier,
            now,
            cases,
        } = input;
        let seen: BTreeSet<String> = report.findings.iter().map(|f| f.key()).collect();
        // Pages that answered with listings this cycle: a listing missing
        // from one of the pages it was read from before is missing from
        // its results; one whose pages were blocked, failed or not fetched
        // is not.
        let answered: BTreeSet<String> = report
            .findings
            .iter()
            .flat_map(|f| f.source_urls.iter().cloned())
            .collect();
        // Item pages that answered 404/410 this cycle: the listing is gone.
        let mut dead_pages: HashMap<String, PageRecord> = HashMap::new();
        for p in &report.problems {
            if p.kind == "http" && (p.message == "HTTP 404" || p.message == "HTTP 410") {
                if let Some(rec) = store.page_for_url(&p.url)? {
                    dead_pages.insert(p.url.clone(), rec);
                }
            }
        }
        // A listing found gone needs no missed count, and stays gone
        // whatever its item page answers, so a page that answered
        // concerns only the listings on it not found gone
        // (`live_on_page`, which has them under their item page too): a
        // year of a search page's history is not read again every cycle.
        let mut others = BTreeSet::new();
        for url in answered.iter().chain(dead_pages.keys()) {
            others.extend(
                store
                    .live_keys_on_page(url)?
                    .into_iter()
                    .filter(|k| !seen.contains(k)),
            );
        }
        let mut listings = BTreeMap::new();
        for key in &seen {
            if let Some(rec) = store.listing(key)? {
                listings.insert(key.clone(), rec);
            }
        }
        let cycle_at = seen
            .iter()
            .filter_map(|k| listings.get(k).map(|r| r.last_seen))
            .max()
            .unwrap_or(now);
        Ok(Cycle {
            store,
            report,
            cycle,
            gone_after,
            verifier,
            tracker: Tracker::open(store)?,
            book: CaseBook::open(store)?,
            cases,
            listings,
            others,
            dead_pages,
            answered,
            seen,
            cycle_at,
        })
    }

    /// Every listing: seen (and back, if it was gone), gone (its item page
    /// answered 404/410), or missed from results that answered (gone after
    /// `gone_after` cycles).
    /// The tracking record a listing's record holds. One that does not
    /// read is named (the store's skipped records) and the whole listing
    /// record kept in the `corrupt` tree before the cycle writes a new one
    /// over it.
    fn tracking_in(&self, key: &str, rec: &ListingRecord) -> Result<Option<Tracking>> {
        match tracking_of(rec) {
            Ok(t) => Ok(t),
            Err(e) => {
                let tree = self.store.listings_tree();
                self.store
                    .skip(tree, key.as_bytes(), format!("tracking record: {e}"));
                self.store.quarantine(tree, key)?;
                Ok(None)
            }
        }
    }

    fn track_listings(&self, out: &mut AfterCycle) -> Result<()> {
        let (answered, dead_urls, cycle) = (&self.answered, &self.dead_pages, self.cycle);
        let (seen, cycle_at, gone_after) = (&self.seen, self.cycle_at, self.gone_after);

        // In key order, seen or not.
        let keys: BTreeSet<&String> = self.listings.keys().chain(&self.others).collect();
        let mut pass = 0;
        for key in keys {
            self.store.settle_after(&mut pass)?;
            let read;
            let rec = match self.listings.get(key) {
                Some(rec) => rec,
                None => {
                    read = self.store.listing(key)?;
                    match &read {
                        Some(rec) => rec,
                        None => continue,
                    }
                }
            };
            // The listing's record, read in this cycle, carries its
            // tracking record; nothing wrote either since.
            let mut t = self.tracking_in(key, rec)?.unwrap_or_else(|| Tracking {
                first_cycle: cycle,
                ..Tracking::default()
            });
            let before = t.clone();
            if seen.contains(key) {
                if before.last_seen_cycle == 0 && before.first_cycle == cycle {
                    out.new_listings += 1;
                }
                t.last_seen_cycle = cycle;
                t.missed = 0;
                t.missed_through_cycle = cycle;
                if let Some(g) = t.gone.take() {
                    t.events.push(ListingEvent {
                        at: rec.last_seen,
                        cycle,
                        kind: "back".into(),
                        detail: format!("seen again after gone ({})", g.why),
                    });
                    out.back.push(key.clone());
                }
            } else if let Some(page) = dead_urls.get(rec.listing.url.as_str()) {
                if t.gone.is_none() {
                    let proof = proof_of(page);
                    t.gone = Some(Gone {
                        at: page.captured_at,
                        why: format!("item page answered HTTP {}", page.status),
                        proof: Some(proof),
                    });
                    t.events.push(ListingEvent {
                        at: page.captured_at,
                        cycle,
                        kind: "gone".into(),
                        detail: format!("HTTP {} at {}", page.status, page.url),
                    });
                    out.gone.push(key.clone());
                }
            } else if t.gone.is_none()
                && rec.sources.iter().any(|s| answered.contains(&s.url))
                && t.missed_through_cycle < cycle
            {
                t.missed += 1;
                t.missed_through_cycle = cycle;
                if t.missed >= gone_after {
                    t.gone = Some(Gone {
                        at: cycle_at,
                        why: format!("missing from its results for {} cycles", t.missed),
                        proof: None,
                    });
                    t.events.push(ListingEvent {
                        at: cycle_at,
                        cycle,
                        kind: "gone".into(),
                        detail: format!("missing from its results for {} cycles", t.missed),
                    });
                    out.gone.push(key.clone());
                }
            }
            if t != before {
                self.tracker.put(key, &t)?;
            }
            if t.gone.is_some() && !seen.contains(key) {
                // Answers from its pages no longer concern it (until it
                // is read again); also settles a store whose index was
                // built before anything was found gone.
                self.store.settle_listing(rec)?;
            }
        }

        Ok(())
    }

    /// Submitted cases: is the listing gone? A 404 captured this cycle, or
    /// a fresh fetch of the item page answering 404/410 or 200 with the
    /// platform's "item unavailable" page, is the proof.
    async fn verify_removals(&self, out: &mut AfterCycle) -> Result<()> {
        let (store, book, verifier) = (self.store, &self.book, self.verifier);
        let cases = match self.cases {
            Some(at_work) => cases_by_id(book, &at_work.submitted)?,
            None => book.all()?,
        };
        for case in cases {
            if case.state != CaseState::Submitted {
                continue;
            }
            let key = case.listing_key();
            let from_scan = self
                .tracker
                .get(&key)?
                .and_then(|t| t.gone)
                .and_then(|g| g.proof);
            let proof = match from_scan {
                Some(p) => Some(p),
                None => match verifier.fetch(&case.listing_url, ResourceKind::Page).await {
                    Ok(capture) if matches!(capture.status, 404 | 410) => {
                        store.put_page(&capture)?;
                        Some(proof_of_capture(&capture))
                    }
                    // Marketplaces answer a taken-down item with 200 and an
                    // "item unavailable" page: its shape decides, and the
                    // capture is kept as the proof.
                    Ok(capture) if capture.status == 200 => match gone_hit(&capture) {
                        Some(hit) => {
                            store.put_page(&capture)?;
                            let mut proof = proof_of_capture(&capture);
                            proof.marker = Some(hit.marker);
                            proof.found_in = Some(hit.found_in.describe().to_string());
                            Some(proof)
                        }
                        None => None,
                    },
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(case = %case.id, url = %case.listing_url, error = %e, "removal check failed");
                        None
                    }
                },
            };
            if let Some(proof) = proof {
                let at = proof.captured_at;
                let reason = match (&proof.marker, &proof.found_in) {
                    (Some(marker), Some(found_in)) => format!(
                    "removal verified: {} answered HTTP {} with the platform's item-unavailable \
                     page (\"{marker}\" in {found_in}) (sha256 {})",
                    proof.url, proof.status, proof.sha256
                ),
                    _ => format!(
                        "removal verified: {} answered HTTP {} (sha256 {})",
                        proof.url, proof.status, proof.sha256
                    ),
                };
                book.move_case(
                    &case.id,
                    CaseState::Removed,
                    at,
                    Some(&reason),
                    "daemon",
                    Some(proof),
                )
                .map_err(|e| Error::Other(e.to_string()))?;
                out.removals_verified.push(case.id.clone());
            }
        }

        Ok(())
    }

    /// Relistings: listings seen for the first time, against every listing
    /// taken down so far.
    fn find_relistings(&self, out: &mut AfterCycle) -> Result<()> {
        let (store, tracker, listings) = (self.store, &self.tracker, &self.listings);
        let unchecked: Vec<String> = self
            .seen
            .iter()
            .filter(|k| {
                tracker
                    .get(k)
                    .ok()
                    .flatten()
                    .is_some_and(|t| !t.relisting_checked)
            })
            .cloned()
            .collect();
        if !unchecked.is_empty() {
            // One case at a time: at a big brand's scale the taken-down
            // cases are tens of thousands (BENCHMARKS.md "Stop 38"). In
            // number order, as the case book lists them.
            let listed: Vec<String>;
            let ids: &[String] = match self.cases {
                Some(at_work) => &at_work.taken_down,
                None => {
                    let mut numbered = Vec::new();
                    self.book.for_each(|c| {
                        if c.stays_taken_down() {
                            numbered.push((c.number, c.id));
                        }
                    })?;
                    numbered.sort_unstable();
                    listed = numbered.into_iter().map(|(_, id)| id).collect();
                    &listed
                }
            };
            let mut takedowns = Takedowns::default();
            for id in ids {
                if let Some(case) = self.book.get(id)? {
                    takedowns.add(store, &case)?;
                }
            }
            takedowns.seal();
            for key in unchecked {
                let Some(mut t) = tracker.get(&key)? else {
                    continue;
                };
                if let Some(rec) = listings.get(&key) {
                    if let Some(link) = takedowns.find(store, rec) {
                        t.events.push(ListingEvent {
                            at: rec.first_seen,
                            cycle: self.cycle,
                            kind: "relisting".into(),
                            detail: format!(
                                "relists {} (case {}) by {}: {}",
                                link.listing, link.case_id, link.by, link.detail
                            ),
                        });
                        out.relistings.push((key.clone(), link.clone()));
                        t.relisting_of = Some(link);
                    }
                }
                t.relisting_checked = true;
                tracker.put(&key, &t)?;
            }
        }

        Ok(())
    }

    /// Cases from flagged findings' drafts: the scan opened them already
    /// (counted here as this cycle's); this catches any it could not.
    fn open_cases(&self, out: &mut AfterCycle) -> Result<()> {
        out.cases_opened
            .extend(self.report.cases_opened.iter().cloned());
        for f in &self.report.findings {
            if f.verdict != Verdict::Flag || f.drafts.is_empty() {
                continue;
            }
            let key = f.key();
            let at = self
                .listings
                .get(&key)
                .map(|r| r.first_seen)
                .unwrap_or(self.cycle_at);
            let link = self.tracker.get(&key)?.and_then(|t| t.relisting_of);
            for case in self.book.open_cases(f, at, link.as_ref(), "daemon")? {
                out.cases_opened.push(case.id.clone());
            }
            if let Some(link) = &link {
                if let Some(d) = f.filing_draft() {
                    let ck = crate::file::cases::ids::complaint_key(
                        f.platform,
                        &d.right_id,
                        &f.listing_id,
                    );
                    if let Some(c) = self.book.by_key(&ck)? {
                        self.book.set_relisting(&c.id, link)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The cases of `ids`, each read by id (those gone from the book skipped).
fn cases_by_id(book: &CaseBook, ids: &[String]) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    for id in ids {
        out.extend(book.get(id)?);
    }
    Ok(out)
}

fn proof_of(p: &PageRecord) -> Proof {
    Proof {
        url: p.url.clone(),
        status: p.status,
        sha256: p.sha256.clone(),
        captured_at: p.captured_at,
        marker: None,
        found_in: None,
        final_url: (p.final_url != p.url).then(|| p.final_url.clone()),
    }
}

fn proof_of_capture(c: &Capture) -> Proof {
    Proof {
        url: c.url.clone(),
        status: c.status,
        sha256: c.sha256.clone(),
        captured_at: c.captured_at,
        marker: None,
        found_in: None,
        final_url: (!c.redirects.is_empty() && c.final_url != c.url).then(|| c.final_url.clone()),
    }
}

/// The "item unavailable" notice a 200 answer for an item page shows, if
/// it is one (see [`crate::marketplaces::gone`]).
fn gone_hit(capture: &Capture) -> Option<crate::marketplaces::gone::GoneHit> {
    let url = url::Url::parse(&capture.url).ok()?;
    // The URL that answered matters only when the request was redirected.
    let fin = url::Url::parse(&capture.final_url)
        .ok()
        .filter(|_| !capture.redirects.is_empty());
    crate::marketplaces::classify_gone_page(
        &url,
        &capture.body,
        capture.content_type.as_deref(),
        crate::marketplaces::block::ResponseFacts {
            final_url: fin.as_ref(),
            status: Some(capture.status),
        },
    )
}

/// A title reduced to what a relister keeps: NFKC, lower case, letters and
/// digits only, single spaces.
pub fn normalize_title(title: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = title
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Listings taken down so far, ready to compare new listings with, in
/// the order of their cases (the first that fits is the one linked).
/// Kept small, since a big brand has tens of thousands: per listing its
/// key and case id, its photos' SHA-256 and perceptual hashes, and a
/// digest of its normalised title; the title and a photo's URL are read
/// again from the listing record when they are the answer.
#[derive(Default)]
struct Takedowns {
    /// (listing key, case id), in case order.
    items: Vec<(Box<str>, Box<str>)>,
    /// (photo SHA-256, item), sorted (by SHA-256, then item).
    shas: Vec<([u8; 32], u32)>,
    /// (digest of the normalised title, item), sorted likewise.
    titles: Vec<(u64, u32)>,
    /// (item, the photo's place among the listing's images, its hashes).
    photos: Vec<(u32, u16, HashPair)>,
    /// Listing keys added, so a listing taken down twice counts once.
    done: std::collections::HashSet<Box<str>>,
}

/// A title's digest for [`Takedowns`] (the same within a process; a hit is
/// confirmed against the title itself).
fn title_digest(normalised: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::default().hash_one(normalised)
}

impl Takedowns {
    /// Adds a case's listing if the case took it down (and it was not
    /// reinstated), reading the listing by key.
    fn add(&mut self, store: &Store, case: &Case) -> Result<()> {
        if !case.stays_taken_down() {
            return Ok(());
        }
        let key = case.listing_key();
        if self.done.contains(key.as_str()) {
            return Ok(());
        }
        let Some(rec) = store.listing(&key)? else {
            return Ok(());
        };
        let Ok(item) = u32::try_from(self.items.len()) else {
            return Ok(());
        };
        let urls = rec
            .listing
            .images
            .iter()
            .take(crate::run::scan::MAX_PHOTOS_PER_LISTING);
        for (at, url) in urls.enumerate() {
            let Some(page) = store
                .page_for_url(url)?
                .filter(|p| (200..300).contains(&p.status))
            else {
                continue;
            };
            if let Some(sha) = sha_bytes(&page.sha256) {
                self.shas.push((sha, item));
            }
            if let Some(h) = photo_hashes(store, &page.sha256, url) {
                self.photos
                    .push((item, u16::try_from(at).unwrap_or(u16::MAX), h.whole));
            }
        }
        let title = normalize_title(&rec.listing.title);
        if !title.is_empty() {
            self.titles.push((title_digest(&title), item));
        }
        self.done.insert(key.clone().into_boxed_str());
        self.items
            .push((key.into_boxed_str(), case.id.clone().into_boxed_str()));
        Ok(())
    }

    /// Sorts the lookups once all are added, and lets go of what only
    /// adding needed.
    fn seal(&mut self) {
        self.shas.sort_unstable();
        self.titles.sort_unstable();
        self.done = Default::default();
    }

    /// Items whose entry in `sorted` (by value, then item) has `value`, in
    /// item order.
    fn items_with<T: Ord + Copy>(
        sorted: &[(T, u32)],
        value: T,
    ) -> impl Iterator<Item = usize> + '_ {
        let from = sorted.partition_point(|(v, _)| *v < value);
        sorted[from..]
            .iter()
            .take_while(move |(v, _)| *v == value)
            .map(|&(_, i)| i as usize)
    }

    fn find(&self, store: &Store, rec: &ListingRecord) -> Option<RelistingLink> {
        let key = rec.listing.key();
        let other = |i: &usize| *self.items[*i].0 != *key;
        let link = |i: usize, by: &str, detail: String| {
            let (listing, case_id) = &self.items[i];
            RelistingLink {
                case_id: case_id.to_string(),
                listing: listing.to_string(),
                by: by.to_string(),
                detail,
            }
        };
        for url in rec
            .listing
            .images
            .iter()
            .take(crate::run::scan::MAX_PHOTOS_PER_LISTING)
        {
            let Some(page) = store
                .page_for_url(url)
                .ok()
                .flatten()
                .filter(|p| (200..300).contains(&p.status))
            else {
                continue;
            };
            let same_bytes = sha_bytes(&page.sha256)
                .and_then(|sha| Self::items_with(&self.shas, sha).find(other));
            if let Some(i) = same_bytes {
                return Some(link(
                    i,
                    "photo",
                    format!("photo {url} is byte-identical (sha256 {})", page.sha256),
                ));
            }
            if self.photos.is_empty() {
                continue;
            }
            let Some(hashes) = photo_hashes(store, &page.sha256, url) else {
                continue;
            };
            let best = self
                .photos
                .iter()
                .filter(|(i, _, _)| other(&(*i as usize)))
                // Nearest, then first in case order, then first on the
                // listing.
                .map(|(i, at, h)| (h.distance(&hashes.whole), *i as usize, *at))
                .min();
            if let Some((d, i, at)) = best.filter(|(d, _, _)| *d <= RELIST_PHOTO_DISTANCE) {
                let their = store
                    .listing(&self.items[i].0)
                    .ok()
                    .flatten()
                    .and_then(|r| r.listing.images.get(at as usize).cloned())
                    .unwrap_or_else(|| format!("a photo of {}", self.items[i].0));
                return Some(link(
                    i,
                    "photo",
                    format!(
                        "photo {url} matches {their} at hash distance {d}/{}",
                        HashPair::BITS
                    ),
                ));
            }
        }
        let title = normalize_title(&rec.listing.title);
        if title.is_empty() {
            return None;
        }
        // The digest finds the candidates; the listing's own title confirms.
        let same_title = |i: &usize| {
            store
                .listing(&self.items[*i].0)
                .ok()
                .flatten()
                .is_some_and(|r| normalize_title(&r.listing.title) == title)
        };
        let i = Self::items_with(&self.titles, title_digest(&title))
            .filter(other)
            .find(same_title)?;
        Some(link(
            i,
            "title",
            format!("same normalised title \"{title}\""),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_normalise_across_case_punctuation_and_width() {
        assert_eq!(
            normalize_title("AURORA  Espresso-Cup, 1:1 (Gift Box)!"),
            "aurora espresso cup 1 1 gift box"
        );
        // Full-width forms fold to ASCII (NFKC).
        assert_eq!(normalize_title("ＡＵＲＯＲＡ 杯子"), "aurora 杯子");
        assert_eq!(normalize_title("  !!  "), "");
    }

    /// The sorted lookups give every item with a value, in item (case)
    /// order, whatever order they were added in; a damaged SHA-256 is no
    /// value.
    #[test]
    fn takedown_lookups_give_every_item_with_a_value_in_case_order() {
        let mut t = Takedowns::default();
        let title = title_digest("aurora cup");
        for (digest, item) in [(title, 3), (title_digest("other"), 0), (title, 1)] {
            t.titles.push((digest, item));
        }
        let sha = sha_bytes(&"ab".repeat(32)).unwrap();
        t.shas.push((sha, 2));
        t.seal();
        let items: Vec<usize> = Takedowns::items_with(&t.titles, title).collect();
        assert_eq!(items, [1, 3]);
        assert_eq!(
            Takedowns::items_with(&t.titles, title_digest("none")).count(),
            0
        );
        assert_eq!(Takedowns::items_with(&t.shas, sha).collect::<Vec<_>>(), [2]);
        assert_eq!(title_digest("aurora cup"), title);
        assert_eq!(sha_bytes("not hex"), None);
        assert_eq!(sha_bytes(&"ab".repeat(31)), None);
    }
}
