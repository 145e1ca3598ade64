//! The daemon's records of listings over time, in the store: cycles seen
//! and missed, gone and back events, relisting links, and the daemon's
//! checkpoint. Written by the daemon's after-cycle step
//! ([`crate::run::daemon::tracker`]), read by cases and the desk.
//!
//! | where | key | value |
//! |---|---|---|
//! | tree `listings` | `platform/id` | the listing's record, its `tracking` field: [`Tracking`] (cycles seen and missed, gone/back events, relisting link) |
//! | default tree | `daemon/checkpoint` | [`Checkpoint`]: cycle number, running or done, last success |
//! | default tree | `daemon/tracking_counts` | [`Counts`]: how many tracked listings are gone and relisting, kept with each record written |
//!
//! The counts are written in the transaction that writes a record whose
//! flags change, so the daemon's gauges read two numbers at open instead of
//! a million records. A store written before them gets them from one pass
//! over the records, the first time they are asked for.
//!
//! A tracking record is kept in its listing's record, not in a tree of its
//! own (as stores of schema `1` did, [`TRACKING_TREE`], moved on open by
//! [`Store::open`]): a tree of its own was one more key a listing in
//! sled's resident page table, ~20 MB at a million listings.

use crate::file::cases::book::{Proof, RelistingLink};
use crate::model::error::{Error, Result};
use crate::store::changes::TrackingBefore;
pub use crate::store::TRACKING_TREE;
use crate::store::{ListingRecord, PageRecord, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{BTreeMap, HashMap};

/// The checkpoint's key in the default tree.
pub const CHECKPOINT_KEY: &str = "daemon/checkpoint";
/// The key of the [`Counts`] in the default tree.
pub const COUNTS_KEY: &str = crate::store::TRACKING_COUNTS_KEY;
/// Cycles a listing may be missing from its results before it counts as gone.
pub const DEFAULT_GONE_AFTER_CYCLES: u32 = 3;
/// Largest distance (pHash + dHash, of 128 bits) at which two listing
/// photos count as the same photo re-uploaded: much tighter than matching
/// against official photos (22), since a relisting reuses its own files
/// (perhaps re-encoded or resized), it does not re-shoot them.
pub const RELIST_PHOTO_DISTANCE: u32 = 8;

/// The daemon's progress, kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The current (running) or last finished cycle.
    pub cycle: u64,
    /// True from the start of a cycle until everything it wrote is kept: a
    /// restart finding it true runs that cycle again.
    pub running: bool,
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_success: Option<DateTime<Utc>>,
    /// Cycles started again after an interruption.
    #[serde(default)]
    pub resumed: u64,
}

/// Why a listing counts as gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gone {
    pub at: DateTime<Utc>,
    pub why: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
}

/// Something that happened to a listing, beyond its field changes (which
/// the store's listing history keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingEvent {
    pub at: DateTime<Utc>,
    pub cycle: u64,
    /// `gone`, `back`, `relisting`.
    pub kind: String,
    pub detail: String,
}

/// A listing as the daemon follows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    pub first_cycle: u64,
    pub last_seen_cycle: u64,
    /// Cycles in a row its platform answered without it, up to the cycle
    /// it was found gone (a gone listing is not counted further).
    pub missed: u32,
    pub missed_through_cycle: u64,
    #[serde(default)]
    pub gone: Option<Gone>,
    #[serde(default)]
    pub events: Vec<ListingEvent>,
    #[serde(default)]
    pub relisting_checked: bool,
    #[serde(default)]
    pub relisting_of: Option<RelistingLink>,
}

/// How many tracked listings are gone, and how many relist a listing
/// taken down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub gone: u64,
    pub relisting: u64,
}

impl Counts {
    /// The counts after a record's flags went from `before` to `now`.
    pub fn moved(self, before: TrackingBefore, now: TrackingBefore) -> Counts {
        let step = |n: u64, was: bool, is: bool| (n + u64::from(is)).saturating_sub(u64::from(was));
        Counts {
            gone: step(self.gone, before.gone, now.gone),
            relisting: step(self.relisting, before.relisting, now.relisting),
        }
    }
}

/// The tracking records, in the listing records.
pub struct Tracker {
    store: Store,
    tree: sled::Tree,
}

impl Tracker {
    pub fn open(store: &Store) -> Result<Tracker> {
        Ok(Tracker {
            store: store.clone(),
            tree: store.listings_tree().clone(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Other(format!("store tree listings (tracking records): {e}"))
    }

    /// A listing's tracking record: `None` when the daemon never tracked
    /// it, or it has no record (or one that does not read: skipped, and
    /// named in the store's skipped records).
    pub fn get(&self, key: &str) -> Result<Option<Tracking>> {
        match self.tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => match serde_json::from_slice::<TrackingOnly>(&v) {
                Ok(t) => Ok(t.tracking),
                Err(e) => {
                    self.store.skip(&self.tree, key.as_bytes(), e.to_string());
                    Ok(None)
                }
            },
        }
    }

    /// Writes a listing's tracking record into its listing record (the
    /// daemon's after-cycle step; public so a benchmark can lay down a
    /// year of history the same way). The [`Counts`] follow in the same
    /// transaction (once they exist). A listing without a readable record
    /// is an error naming it: the daemon tracks only listings it recorded.
    pub fn put(&self, key: &str, t: &Tracking) -> Result<()> {
        let now = flags_of(t);
        let json = serde_json::to_value(t).map_err(|e| self.err(e))?;
        let journal = self.store.journal();
        let _writing = journal.writing();
        let meta: &sled::Tree = &self.store.db;
        // The flags before: one read of a record the caller has just read
        // (so from sled's cache).
        let before = (&self.tree, meta)
            .transaction(|(tree, meta)| {
                let abort = |m: String| ConflictableTransactionError::Abort(m);
                let Some(v) = tree.get(key.as_bytes())? else {
                    return Err(abort("the listing has no record".into()));
                };
                let mut rec: ListingRecord = serde_json::from_slice(&v)
                    .map_err(|e| abort(format!("the listing's record does not read: {e}")))?;
                let before = rec.tracking.as_ref().map(flags_of_json);
                rec.tracking = Some(json.clone());
                // The listing's finding, in the same entry, stays as it is.
                let bytes =
                    crate::store::entry::with_record(&v, &rec).map_err(|e| abort(e.to_string()))?;
                tree.insert(key.as_bytes(), bytes)?;
                if before.unwrap_or_default() != now {
                    let counts = meta
                        .get(COUNTS_KEY)?
                        .and_then(|v| serde_json::from_slice::<Counts>(&v).ok());
                    if let Some(c) = counts {
                        let c = c.moved(before.unwrap_or_default(), now);
                        let json = serde_json::to_vec(&c).unwrap_or_default();
                        meta.insert(COUNTS_KEY, json)?;
                    }
                }
                Ok(before)
            })
            .map_err(|e: TransactionError<String>| {
                self.err(match e {
                    TransactionError::Abort(m) => format!("tracking of {key}: {m}"),
                    e => format!("tracking of {key}: {e:?}"),
                })
            })?;
        journal.note(|c| {
            c.tracking.entry(key.to_string()).or_insert(before);
        });
        Ok(())
    }

    /// Every tracking record, by listing key (a pass over every listing
    /// record; one that does not read is skipped and named, as by
    /// [`Tracker::get`]).
    pub fn all(&self) -> Result<BTreeMap<String, Tracking>> {
        let mut out = BTreeMap::new();
        for item in self.tree.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice::<TrackingOnly>(&v) {
                Ok(TrackingOnly { tracking: Some(t) }) => {
                    out.insert(String::from_utf8_lossy(&k).into_owned(), t);
                }
                Ok(_) => {}
                Err(e) => self.store.skip(&self.tree, &k, e.to_string()),
            }
        }
        Ok(out)
    }

    /// How many tracked listings are gone, and how many relist a listing
    /// taken down (the daemon's gauges): the [`Counts`] kept with the
    /// records, or for a store written before them, a pass over the
    /// records (without their events) that then keeps them. A listing
    /// record that does not read is skipped and named, as by
    /// [`Tracker::get`]: the daemon still opens.
    pub fn gone_and_relisting_counts(&self) -> Result<(u64, u64)> {
        let kept = self.store.db.get(COUNTS_KEY).map_err(|e| self.err(e))?;
        if let Some(c) = kept.and_then(|v| serde_json::from_slice::<Counts>(&v).ok()) {
            return Ok((c.gone, c.relisting));
        }
        // The daemon asks at open, inside `Store::take_changes`, so no
        // write falls between this pass and the counts it keeps.
        let mut c = Counts::default();
        for item in self.tree.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            match flags(&v) {
                Ok(Some(f)) => c = c.moved(TrackingBefore::default(), f),
                Ok(None) => {}
                Err(e) => self.store.skip(&self.tree, &k, e.to_string()),
            }
        }
        let json = serde_json::to_vec(&c).map_err(|e| self.err(e))?;
        self.store
            .db
            .insert(COUNTS_KEY, json)
            .map_err(|e| self.err(e))?;
        Ok((c.gone, c.relisting))
    }

    /// A listing's gone and relisting flags, read without its events
    /// (`None` when it has no tracking record, or no readable record).
    pub fn flags(&self, key: &str) -> Result<Option<TrackingBefore>> {
        match self.tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => match flags(&v) {
                Ok(f) => Ok(f),
                Err(e) => {
                    self.store.skip(&self.tree, key.as_bytes(), e.to_string());
                    Ok(None)
                }
            },
        }
    }

    /// The checkpoint (default when the daemon never ran here).
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        match self.store.db.get(CHECKPOINT_KEY).map_err(|e| self.err(e))? {
            None => Ok(Checkpoint::default()),
            Some(v) => serde_json::from_slice(&v).map_err(|e| self.err(format!("checkpoint: {e}"))),
        }
    }

    /// Writes the checkpoint and flushes the store: what it says is kept.
    pub fn set_checkpoint(&self, c: &Checkpoint) -> Result<()> {
        let bytes = serde_json::to_vec(c).map_err(|e| self.err(e))?;
        self.store
            .db
            .insert(CHECKPOINT_KEY, bytes)
            .map_err(|e| self.err(e))?;
        self.store.flush()
    }
}

/// A listing record's tracking record, the rest of the record skipped.
#[derive(Deserialize)]
struct TrackingOnly {
    #[serde(default)]
    tracking: Option<Tracking>,
}

/// The gone and relisting flags of a tracking record.
fn flags_of(t: &Tracking) -> TrackingBefore {
    TrackingBefore {
        gone: t.gone.is_some(),
        relisting: t.relisting_of.is_some(),
    }
}

/// The gone and relisting flags of a tracking record as its listing
/// record holds it (as [`flags`] reads them: a `null` is not set).
fn flags_of_json(v: &serde_json::Value) -> TrackingBefore {
    let set = |field: &str| v.get(field).is_some_and(|x| !x.is_null());
    TrackingBefore {
        gone: set("gone"),
        relisting: set("relisting_of"),
    }
}

/// The tracking record a listing record holds, if it holds one that
/// reads.
pub fn tracking_of(rec: &ListingRecord) -> serde_json::Result<Option<Tracking>> {
    rec.tracking.as_ref().map(Tracking::deserialize).transpose()
}

/// The gone and relisting flags of a stored listing record's tracking
/// record, without its events (`None` when it has none).
fn flags(bytes: &[u8]) -> serde_json::Result<Option<TrackingBefore>> {
    #[derive(Deserialize)]
    struct Flags {
        #[serde(default)]
        gone: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        relisting_of: Option<serde::de::IgnoredAny>,
    }
    #[derive(Deserialize)]
    struct Record {
        #[serde(default)]
        tracking: Option<Flags>,
    }
    let r: Record = serde_json::from_slice(bytes)?;
    Ok(r.tracking.map(|f| TrackingBefore {
        gone: f.gone.is_some(),
        relisting: f.relisting_of.is_some(),
    }))
}

/// The newest capture of every URL in the store.
pub fn pages_by_url(store: &Store) -> Result<HashMap<String, PageRecord>> {
    store.pages_by_url()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone(at: &str) -> Option<Gone> {
        Some(Gone {
            at: at.parse().unwrap(),
            why: "missing from 3 cycles".into(),
            proof: None,
        })
    }

    fn relisting() -> Option<RelistingLink> {
        Some(RelistingLink {
            case_id: "C-000001".into(),
            listing: "aliexpress/1".into(),
            by: "photo".into(),
            detail: "same photo".into(),
        })
    }

    /// The gone and relisting counts are kept with the records: they
    /// follow every write, a store written before them gets them from one
    /// pass the first time, and after that no record is read (a damaged
    /// record laid down behind the tracker's back is not noticed by the
    /// counts, where a pass would fail on it).
    #[test]
    fn gone_and_relisting_counts_follow_the_records_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A new store keeps them from the start, at zero; an older one
        // did not.
        assert!(store.db.get(COUNTS_KEY).unwrap().is_some());
        assert_eq!(
            Tracker::open(&store)
                .unwrap()
                .gone_and_relisting_counts()
                .unwrap(),
            (0, 0)
        );
        store.db.remove(COUNTS_KEY).unwrap();
        crate::store::tests::recorded_findings(&store, 10);
        let tracker = Tracker::open(&store).unwrap();
        let put = |key: &str, g: Option<Gone>, r: Option<RelistingLink>| {
            let t = Tracking {
                gone: g,
                relisting_of: r,
                ..Tracking::default()
            };
            tracker.put(key, &t).unwrap();
        };
        // Written before the counts existed.
        put("aliexpress/1", gone("2026-01-01T00:00:00Z"), None);
        put("aliexpress/2", None, relisting());
        put("aliexpress/3", None, None);
        assert_eq!(store.db.get(COUNTS_KEY).unwrap(), None);
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (1, 1));
        assert!(store.db.get(COUNTS_KEY).unwrap().is_some());

        let pass = |t: &Tracker| {
            let (mut g, mut r) = (0, 0);
            for (_, t) in t.all().unwrap() {
                g += u64::from(t.gone.is_some());
                r += u64::from(t.relisting_of.is_some());
            }
            (g, r)
        };
        // Back from gone, gone, relisting and gone, new, written again
        // unchanged.
        put("aliexpress/1", None, None);
        put("aliexpress/3", gone("2026-02-01T00:00:00Z"), None);
        put("aliexpress/4", gone("2026-02-01T00:00:00Z"), relisting());
        put("aliexpress/5", None, None);
        put("aliexpress/4", gone("2026-02-02T00:00:00Z"), relisting());
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (2, 2));
        assert_eq!(pass(&tracker), (2, 2));
        put("aliexpress/2", None, None);
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (2, 1));
        assert_eq!(pass(&tracker), (2, 1));

        // Damaged counts are counted again by a pass, and kept again.
        store.db.insert(COUNTS_KEY, &b"{\"gone\":"[..]).unwrap();
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (2, 1));
        put("aliexpress/5", gone("2026-03-01T00:00:00Z"), None);
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (3, 1));
        assert_eq!(pass(&tracker), (3, 1));

        tracker
            .tree
            .insert("aliexpress/9", &b"{not json"[..])
            .unwrap();
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (3, 1));
        // Without the counts, the pass skips the damaged record and names
        // it (the daemon still opens).
        store.db.remove(COUNTS_KEY).unwrap();
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (3, 1));
        assert!(store.skipped().iter().any(|s| s.key == "aliexpress/9"));
        // A listing the store never recorded cannot be tracked: named.
        let e = tracker
            .put("aliexpress/77", &Tracking::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("aliexpress/77") && e.contains("no record"),
            "{e}"
        );
    }

    /// The tracking record lives in the listing record: recording the
    /// listing again keeps it, and a store of schema `1`, with its
    /// tracking records in a tree of their own, gets them moved on open
    /// (one that cannot be moved is kept in the `corrupt` tree, named),
    /// and takes this build's schema, which a knockoff of schema `1`
    /// refuses.
    #[test]
    fn tracking_records_live_in_the_listing_records() {
        use crate::store::tests::{finding, listing, now, recorded_findings};
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            recorded_findings(&store, 4);
            let tracker = Tracker::open(&store).unwrap();
            let t = Tracking {
                first_cycle: 4,
                last_seen_cycle: 9,
                gone: gone("2026-01-01T00:00:00Z"),
                ..Tracking::default()
            };
            tracker.put("aliexpress/1", &t).unwrap();
            // Recorded again (a price change): the tracking stays.
            let l = listing("1", 3.0);
            let rec = store.record(&l, &[], now(), &finding(&l)).unwrap();
            assert_eq!(tracking_of(&rec).unwrap().as_ref(), Some(&t));
            assert_eq!(tracker.get("aliexpress/1").unwrap(), Some(t.clone()));
            assert_eq!(
                store
                    .listing("aliexpress/1")
                    .unwrap()
                    .unwrap()
                    .history
                    .len(),
                1
            );
            assert_eq!(tracker.get("aliexpress/2").unwrap(), None);
            assert!(!store.has_tree(TRACKING_TREE));

            // What a knockoff of schema `1` leaves: the records in a tree
            // of their own (one for listing 2, one that does not read for
            // listing 3, one for a listing never recorded).
            let old = store.db.open_tree(TRACKING_TREE).unwrap();
            let two = Tracking {
                first_cycle: 2,
                relisting_of: relisting(),
                ..Tracking::default()
            };
            old.insert("aliexpress/2", serde_json::to_vec(&two).unwrap())
                .unwrap();
            old.insert("aliexpress/3", &b"{not json"[..]).unwrap();
            old.insert(
                "aliexpress/8",
                serde_json::to_vec(&Tracking::default()).unwrap(),
            )
            .unwrap();
            store.db.insert("meta/schema", "1").unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let tracker = Tracker::open(&store).unwrap();
        assert!(!store.has_tree(TRACKING_TREE));
        assert_eq!(
            tracker.get("aliexpress/2").unwrap().unwrap().relisting_of,
            relisting()
        );
        assert!(tracker.get("aliexpress/1").unwrap().unwrap().gone.is_some());
        assert_eq!(tracker.get("aliexpress/3").unwrap(), None);
        let corrupt = store.db.open_tree("corrupt").unwrap();
        assert_eq!(
            corrupt
                .get("daemon_listings/aliexpress/3")
                .unwrap()
                .as_deref(),
            Some(&b"{not json"[..])
        );
        assert!(corrupt
            .get("daemon_listings/aliexpress/8")
            .unwrap()
            .is_some());
        assert_eq!(
            store.db.get("meta/schema").unwrap().as_deref(),
            Some(crate::store::SCHEMA_VERSION.as_bytes())
        );
        assert_eq!(tracker.all().unwrap().len(), 2);
        // The findings in the listings' entries stay there.
        assert_eq!(store.findings().unwrap().len(), 4);
    }
}
