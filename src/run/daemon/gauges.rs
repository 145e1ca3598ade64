//! The daemon's gauges of history (listings, verdicts, gone listings,
//! relistings, cases, repeat offenders, seller networks, good faith),
//! counted once when the daemon opens its folder and then kept from what
//! was written since ([`crate::store::changes`]): a cycle's gauges read
//! the records the cycle wrote, not the history.
//!
//! What the count keeps in memory grows with the suspect listings and the
//! cases, not with all listings: for each suspect listing the 64-bit
//! digests of what links its seller to others ([`SellerDigests`]: a few
//! dozen bytes, not its strings), the digests of their photos' hashes,
//! and each case's facts ([`CaseFacts`]: about a hundred bytes).

use crate::file::cases::book::{Case, CaseBook, CaseFacts};
use crate::file::cases::deadline::Calendar;
use crate::file::cases::goodfaith::{good_faith_of, GoodFaith};
use crate::file::cases::state::CaseState;
use crate::file::network::{self, digest, SellerDigests, SellerLinks};
use crate::file::tracking::{Counts, Tracker};
use crate::judge::score::Verdict;
use crate::model::error::Result;
use crate::model::seller::DigestsView;
use crate::store::changes::Changes;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Every suspect's seller digests, in one arena: a few dozen bytes a
/// suspect and two allocations in all, where a map of boxed digests cost
/// ~145 bytes a suspect (heaptrack at 1M listings, BENCHMARKS.md "Stop 31").
/// The maps keyed by digests here hash with foldhash (seeded per process,
/// faster than SipHash on 64-bit keys), as the network count does.
#[derive(Debug, Clone, Default)]
struct SuspectLinks {
    /// Key digest → where its digests are in `arena` (start, length).
    at: foldhash::HashMap<u64, (u32, u32)>,
    arena: Vec<u64>,
    /// Digests in `arena` no entry points at any more.
    dead: usize,
}

impl SuspectLinks {
    fn insert(&mut self, key: u64, d: DigestsView<'_>) {
        let raw = d.raw();
        self.remove(key);
        // Replaced and removed digests are dropped once they are half, or
        // when the arena outgrows 32-bit offsets.
        let full = self.arena.len() + raw.len() > u32::MAX as usize;
        if full || (self.dead > 1024 && self.dead * 2 > self.arena.len()) {
            self.compact();
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.arena.len()), u32::try_from(raw.len()))
        else {
            // Four billion digests of live suspects: not a real brand.
            return;
        };
        self.at.insert(key, (start, len));
        if self.arena.capacity() - self.arena.len() < raw.len() {
            // A sixteenth more, not twice as much: at a big brand's size
            // the arena is tens of MiB after the count, and a cycle adds
            // a few thousand suspects (BENCHMARKS.md "Stop 38").
            self.arena
                .reserve_exact(raw.len().max(self.arena.len() / 16));
        }
        self.arena.extend_from_slice(raw);
    }

    /// Room for `n` entries, so the map is not rehashed while it fills
    /// (a rehash holds the old and the new table at once).
    fn with_capacity(n: usize) -> SuspectLinks {
        SuspectLinks {
            at: foldhash::HashMap::with_capacity_and_hasher(n, Default::default()),
            ..Default::default()
        }
    }

    /// Makes room in the arena for `total` entries in all, at the digests
    /// an entry has so far on average (a hint: growing by doubling, the
    /// arena would hold up to twice what it needs, and its copies).
    fn expect(&mut self, total: usize) {
        let (len, n) = (self.arena.len(), self.at.len().max(1));
        let more = (len / n).saturating_mul(total.saturating_sub(n)) / 16 * 17;
        self.arena.reserve_exact(more.min(MAX_SUSPECTS_HINT * 8));
    }

    /// Drops the digests no entry points at, and the arena's spare room.
    /// With none to drop, the arena only gives back its spare room, in
    /// place, instead of being copied (a copy holds both).
    fn compact(&mut self) {
        if self.dead == 0 {
            self.arena.shrink_to_fit();
            return;
        }
        let mut arena = Vec::with_capacity(self.arena.len() - self.dead);
        for (start, len) in self.at.values_mut() {
            let at = arena.len() as u32;
            let from = *start as usize;
            arena.extend_from_slice(&self.arena[from..from + *len as usize]);
            *start = at;
        }
        (self.arena, self.dead) = (arena, 0);
    }

    fn remove(&mut self, key: u64) {
        if let Some((_, len)) = self.at.remove(&key) {
            self.dead += len as usize;
        }
    }

    fn views(&self) -> impl Iterator<Item = DigestsView<'_>> {
        self.at.values().filter_map(|&(start, len)| {
            let start = start as usize;
            DigestsView::of_raw(&self.arena[start..start + len as usize])
        })
    }
}

/// The most suspects [`HistoryGauges::count`] makes room for up front
/// (~16 bytes each): ten times a big brand's year.
const MAX_SUSPECTS_HINT: usize = 6_000_000;

/// The figures kept between cycles.
#[derive(Debug, Clone, Default)]
pub struct HistoryGauges {
    listings: u64,
    verdicts: BTreeMap<&'static str, u64>,
    /// Gone and relisting tracked listings.
    tracking: Counts,
    /// Suspect listings (latest verdict flag or review) by the digest of
    /// their key, with their seller digests.
    suspects: SuspectLinks,
    /// Photo URL digest → digest of the SHA-256 of its latest 2xx
    /// capture, for suspects' photos.
    photos: foldhash::HashMap<u64, Option<u64>>,
    /// Every case's facts, and its place by the digest of its id.
    cases: Vec<CaseFacts>,
    case_at: foldhash::HashMap<u64, usize>,
    /// Records read to keep the figures up to date since the count
    /// (verdicts, listings, pages, tracking records, cases).
    reads: u64,
}

/// What the gauges show: compared against a full count in the tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub listings: u64,
    pub verdicts: BTreeMap<String, u64>,
    pub gone: u64,
    pub relistings: u64,
    pub cases: BTreeMap<String, u64>,
    pub cases_overdue: u64,
    pub repeat_offenders: u64,
    pub seller_networks: u64,
    pub good_faith: GoodFaith,
}

impl HistoryGauges {
    /// Counts everything, streaming: the verdict counts kept with the
    /// findings ([`Store::verdict_counts`]), one pass over the suspect
    /// briefs (each suspect's seller links), the latest captures of URLs
    /// (for the suspects' photos), the tracking records' kept counts and
    /// the cases. A suspect whose brief carries no links (or does not
    /// read) is read by key.
    pub fn count(store: &Store) -> Result<HistoryGauges> {
        // Listings are counted by their findings' verdicts, kept as three
        // numbers: not by a pass over the listings (kilobytes each), nor
        // over a verdict per listing (a million in a big brand's year).
        let counts = store.verdict_counts()?;
        let suspects = counts.of(Verdict::Flag) + counts.of(Verdict::Review);
        let suspects_hint = usize::try_from(suspects)
            .unwrap_or(0)
            .min(MAX_SUSPECTS_HINT);
        let mut g = HistoryGauges {
            verdicts: [Verdict::Flag, Verdict::Review, Verdict::Clear]
                .iter()
                .map(|&v| (v.as_str(), counts.of(v)))
                .collect(),
            listings: counts.total(),
            // As many as the kept counts say (a hint, bounded: damaged
            // counts cannot ask for the machine's memory).
            suspects: SuspectLinks::with_capacity(suspects_hint),
            ..Default::default()
        };
        // The cases first, before the passes over small records: the
        // first cycle's peak at 1M was 322-323 MiB this way against
        // 344-345 with the cases last (BENCHMARKS.md "Stop 38"). Why is
        // not settled: sled's lazy cache accounting, the reason read then,
        // moved the peak by a few MiB when tested ("Stop 40").
        CaseBook::open(store)?.for_each(|c| g.put_case(c))?;
        // The briefs are the flagged and review findings: written and
        // removed in each finding's transaction.
        let mut unlinked = Vec::new();
        store.for_each_suspect(|key, brief| {
            match brief
                .and_then(|b| b.links)
                .as_deref()
                .and_then(DigestsView::of_raw)
            {
                Some(d) => {
                    g.suspects.insert(digest("key", key), d);
                    if g.suspects.at.len() == 1024 {
                        g.suspects.expect(suspects_hint);
                    }
                }
                None => unlinked.push(key.to_string()),
            }
        })?;
        // The arena grew by doubling: its spare room goes before the cycle.
        g.suspects.compact();
        for d in g.suspects.views() {
            for &u in d.photos() {
                g.photos.insert(u, None);
            }
        }
        store.for_each_latest_capture(|url, page| {
            if let Some(sha) = g.photos.get_mut(&digest("url", url)) {
                *sha = photo_sha_digest(page().as_ref());
            }
        })?;
        for key in unlinked {
            g.read_suspect(store, &key)?;
        }
        let (gone, relisting) = Tracker::open(store)?.gone_and_relisting_counts()?;
        g.tracking = Counts { gone, relisting };
        g.reads = 0;
        Ok(g)
    }

    /// Brings the figures up to date with `changes`, reading only the
    /// records they name. Call it inside [`Store::take_changes`], so what
    /// it reads is what those changes left.
    pub fn apply(&mut self, store: &Store, changes: &Changes) -> Result<()> {
        // A cycle that changed many listings (thousands found gone) reads
        // each: sled's cache is settled as it goes (`Store::settle_after`).
        let mut pass = 0;
        for (key, before) in &changes.listings {
            store.settle_after(&mut pass)?;
            self.reads += 2;
            if !before.existed && store.has_listing(key)? {
                self.listings += 1;
            }
            let now = store.verdict(key)?;
            if now != before.verdict {
                if let Some(v) = before.verdict {
                    let n = self.verdicts.entry(v.as_str()).or_default();
                    *n = n.saturating_sub(1);
                }
                if let Some(v) = now {
                    *self.verdicts.entry(v.as_str()).or_default() += 1;
                }
            }
            match now {
                Some(v) if v != Verdict::Clear => self.read_suspect(store, key)?,
                _ => {
                    self.suspects.remove(digest("key", key));
                }
            }
        }
        for url in &changes.page_urls {
            if let Some(sha) = self.photos.get_mut(&digest("url", url)) {
                self.reads += 1;
                *sha = photo_digest(store, url)?;
            }
        }
        if !changes.tracking.is_empty() {
            let tracker = Tracker::open(store)?;
            for (key, before) in &changes.tracking {
                store.settle_after(&mut pass)?;
                self.reads += 1;
                let before = before.unwrap_or_default();
                let now = tracker.flags(key)?.unwrap_or_default();
                self.tracking = self.tracking.moved(before, now);
            }
        }
        if !changes.cases.is_empty() {
            let book = CaseBook::open(store)?;
            for id in &changes.cases {
                self.reads += 1;
                if let Some(c) = book.get(id)? {
                    self.put_case(c);
                }
            }
        }
        Ok(())
    }

    /// Records read by [`HistoryGauges::apply`] since the count.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    fn read_suspect(&mut self, store: &Store, key: &str) -> Result<()> {
        self.reads += 1;
        let Some(rec) = store.listing(key)? else {
            self.suspects.remove(digest("key", key));
            return Ok(());
        };
        let links = SellerLinks::of(&rec.listing);
        let digests = SellerDigests::of(&links);
        for (url, &d) in links.photos.iter().zip(digests.view().photos().iter()) {
            if !self.photos.contains_key(&d) {
                self.reads += 1;
                self.photos.insert(d, photo_digest(store, url)?);
            }
        }
        self.suspects.insert(digest("key", key), digests.view());
        Ok(())
    }

    fn put_case(&mut self, c: Case) {
        let c = c.facts();
        match self.case_at.get(&digest("case", &c.id)) {
            Some(&i) => self.cases[i] = c,
            None => {
                self.case_at.insert(digest("case", &c.id), self.cases.len());
                self.cases.push(c);
            }
        }
    }

    /// The cases a cycle's bookkeeping works on, from the states kept.
    pub fn cases_at_work(&self) -> crate::run::daemon::tracker::CasesAtWork {
        let mut submitted = Vec::new();
        let mut taken_down = Vec::new();
        let mut by_number: Vec<&CaseFacts> = self.cases.iter().collect();
        by_number.sort_by_key(|c| c.number);
        for c in by_number {
            if c.state == CaseState::Submitted {
                submitted.push(c.id.to_string());
            }
            if c.stays_taken_down() {
                taken_down.push(c.id.to_string());
            }
        }
        crate::run::daemon::tracker::CasesAtWork {
            submitted,
            taken_down,
        }
    }

    /// The gauges' figures as of `now`.
    pub fn figures(&self, now: DateTime<Utc>, calendar: &Calendar) -> Figures {
        let today = crate::file::cases::deadline::china_date(now);
        let mut cases: BTreeMap<String, u64> = CaseState::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), 0))
            .collect();
        for c in &self.cases {
            *cases.entry(c.state.as_str().to_string()).or_default() += 1;
        }
        let photos = &self.photos;
        Figures {
            listings: self.listings,
            verdicts: self
                .verdicts
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            gone: self.tracking.gone,
            relistings: self.tracking.relisting,
            cases,
            cases_overdue: self
                .cases
                .iter()
                .filter_map(|c| c.deadline(calendar))
                .filter(|d| d.is_overdue(today))
                .count() as u64,
            repeat_offenders: network::repeat_offender_count(&self.cases) as u64,
            seller_networks: network::network_count(
                self.suspects
                    .views()
                    .map(|l| (l.node(), l.values(|u| photos.get(&u).copied().flatten()))),
            ) as u64,
            good_faith: good_faith_of(&self.cases, now),
        }
    }
}

/// The digest of the SHA-256 a photo URL's capture links sellers by
/// ([`network::photo_sha`]).
fn photo_digest(store: &Store, url: &str) -> Result<Option<u64>> {
    Ok(photo_sha_digest(store.page_for_url(url)?.as_ref()))
}

/// The digest of the SHA-256 a capture links sellers by.
fn photo_sha_digest(page: Option<&crate::store::PageRecord>) -> Option<u64> {
    network::photo_sha(page).map(|sha| digest("photo", sha))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::cases::book::Transition;

    fn t(to: CaseState, day: u32) -> Transition {
        Transition {
            at: format!("2026-01-{day:02}T00:00:00Z").parse().unwrap(),
            from: None,
            to,
            reason: Some("why".into()),
            by: "daemon".into(),
            proof: None,
            reference: None,
        }
    }

    /// The arena of suspects' digests gives what was last put for each
    /// key, across replacements, removals and the compactions they cause.
    #[test]
    fn suspect_links_keep_the_last_digests_of_each_key_through_compaction() {
        let raw = |k: u64, round: u64| vec![k * 10 + round, 1, k, round, k + round];
        let mut links = SuspectLinks::default();
        let mut expected = std::collections::BTreeMap::new();
        for round in 0..5u64 {
            for k in 0..2_000u64 {
                match (k + round) % 4 {
                    0 => {
                        links.remove(k);
                        expected.remove(&k);
                    }
                    _ => {
                        let d = raw(k, round);
                        links.insert(k, DigestsView::of_raw(&d).unwrap());
                        expected.insert(k, d);
                    }
                }
            }
        }
        assert!(links.arena.len() < 2 * 5 * 2_000 + 2048, "compacted");
        let mut got: Vec<Vec<u64>> = links.views().map(|v| v.raw().to_vec()).collect();
        got.sort();
        let mut want: Vec<Vec<u64>> = expected.into_values().collect();
        want.sort();
        assert_eq!(got, want);
        assert!(links.at.contains_key(&1) && !links.at.contains_key(&4));
    }

    #[test]
    fn a_cases_facts_count_as_the_whole_case() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let book = CaseBook::open(&store).unwrap();
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        let flagged = crate::file::cases::book::tests::flagged(1);
        let mut c = book
            .open_cases(&flagged, at, None, "daemon")
            .unwrap()
            .remove(0);
        c.history = vec![
            t(CaseState::Drafted, 1),
            t(CaseState::Approved, 2),
            t(CaseState::Submitted, 3),
            t(CaseState::Rejected, 4),
            t(CaseState::Submitted, 5),
            t(CaseState::Removed, 6),
            t(CaseState::CounterNoticed, 7),
            t(CaseState::Reinstated, 8),
            t(CaseState::Withdrawn, 9),
        ];
        c.state = CaseState::Withdrawn;
        let f = c.facts();
        let cal = Calendar::default();
        assert_eq!(f.since, c.since());
        assert_eq!(f.submitted_at, Some(c.history[2].at));
        assert!(f.taken_down && f.counter_noticed && f.reinstated);
        assert_eq!(f.deadline(&cal), c.deadline(&cal));
        let now = "2026-02-01T00:00:00Z".parse().unwrap();
        let gf = good_faith_of([&f], now).overall;
        assert_eq!(
            (gf.notices, gf.decided, gf.taken_down, gf.rejected),
            (1, 1, 1, 0)
        );
        assert_eq!((gf.counter_noticed, gf.counter_succeeded), (1, 1));

        // Repeat offenders: distinct listings taken down per seller, as
        // `network::offenders` counts them from whole cases.
        let mut cases = Vec::new();
        for (i, (seller, listing)) in [
            ("a", "1"),
            ("a", "2"),
            ("a", "2"),
            ("a", "3"),
            ("b", "4"),
            ("b", "5"),
        ]
        .into_iter()
        .enumerate()
        {
            let mut k = c.clone();
            k.id = format!("C-{i}");
            k.seller = Some(seller.into());
            k.listing_id = listing.into();
            cases.push(k);
        }
        let mut not_down = cases[4].clone();
        not_down.history.retain(|t| t.to != CaseState::Removed);
        not_down.listing_id = "6".into();
        cases.push(not_down);
        let whole = network::offenders(&cases);
        assert_eq!(whole.iter().filter(|o| o.repeat).count(), 1);
        let facts: Vec<CaseFacts> = cases.iter().map(Case::facts).collect();
        assert_eq!(network::repeat_offender_count(&facts), 1);
        // Seller b reaches three listings only with the one not taken down.
        cases[6].history.push(t(CaseState::Removed, 10));
        let facts: Vec<CaseFacts> = cases.iter().map(Case::facts).collect();
        assert_eq!(network::repeat_offender_count(&facts), 2);
        assert_eq!(
            network::offenders(&cases)
                .iter()
                .filter(|o| o.repeat)
                .count(),
            2
        );
    }
}
