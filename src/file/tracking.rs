//! The daemon's records of listings over time, in the store: cycles seen
//! and missed, gone and back events, relisting links, and the daemon's
//! checkpoint. Written by the daemon's after-cycle step
//! ([`crate::run::daemon::tracker`]), read by cases and the desk.
//!
//! | where | key | value |
//! |---|---|---|
//! | tree `daemon_listings` | `platform/id` | [`Tracking`]: cycles seen and missed, gone/back events, relisting link |
//! | default tree | `daemon/checkpoint` | [`Checkpoint`]: cycle number, running or done, last success |
//! | default tree | `meta/tracking_counts` | `GONE RELISTINGS`: how many tracking records are gone and relist a taken-down listing ([`Tracker::gone_and_relisting_counts`]) |
//!
//! The counts are kept with the records: once stored (the first time the
//! gauges ask, by one pass over the records), every [`Tracker::put`]
//! updates them in the same transaction as the record, so the gauges read
//! one key instead of every record.

use crate::file::cases::book::{Proof, RelistingLink};
use crate::model::error::{Error, Result};
use crate::store::{PageRecord, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The tree of per-listing tracking records.
pub const TRACKING_TREE: &str = "daemon_listings";
/// The checkpoint's key in the default tree.
pub const CHECKPOINT_KEY: &str = "daemon/checkpoint";
/// The gone and relisting counts' key in the default tree.
pub const COUNTS_KEY: &str = "meta/tracking_counts";
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
    /// Cycles in a row its platform answered without it.
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

/// Whether a stored tracking record is gone and relists a taken-down
/// listing (1 or 0 each), read without its events.
fn flags(v: &[u8]) -> std::result::Result<(u64, u64), serde_json::Error> {
    #[derive(Deserialize)]
    struct Flags {
        #[serde(default)]
        gone: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        relisting_of: Option<serde::de::IgnoredAny>,
    }
    let f: Flags = serde_json::from_slice(v)?;
    Ok((
        u64::from(f.gone.is_some()),
        u64::from(f.relisting_of.is_some()),
    ))
}

/// The value under [`COUNTS_KEY`]; `None` when it does not read (then the
/// records are counted again).
fn parse_counts(v: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(v).ok()?;
    let mut parts = text.split_whitespace().map(|p| p.parse::<u64>().ok());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Some(g)), Some(Some(r)), None) => Some((g, r)),
        _ => None,
    }
}

/// The tracking tree.
pub struct Tracker {
    store: Store,
    tree: sled::Tree,
}

impl Tracker {
    pub fn open(store: &Store) -> Result<Tracker> {
        Ok(Tracker {
            store: store.clone(),
            tree: store
                .db
                .open_tree(TRACKING_TREE)
                .map_err(|e| Error::Other(format!("store tree {TRACKING_TREE}: {e}")))?,
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Other(format!("store tree {TRACKING_TREE}: {e}"))
    }

    pub fn get(&self, key: &str) -> Result<Option<Tracking>> {
        match self.tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| self.err(format!("record {key}: {e}"))),
        }
    }

    /// Writes a listing's tracking record (the daemon's after-cycle step;
    /// public so a benchmark can lay down a year of history the same way).
    /// Once the counts are stored, they are updated in the same
    /// transaction.
    pub fn put(&self, key: &str, t: &Tracking) -> Result<()> {
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        use sled::Transactional;
        let bytes = serde_json::to_vec(t).map_err(|e| self.err(e))?;
        let new = (
            u64::from(t.gone.is_some()),
            u64::from(t.relisting_of.is_some()),
        );
        let meta: &sled::Tree = &self.store.db;
        (&self.tree, meta)
            .transaction(|(tree, meta)| {
                let counts = meta.get(COUNTS_KEY)?.and_then(|v| parse_counts(&v));
                let old = tree.insert(key.as_bytes(), bytes.as_slice())?;
                if let Some((gone, relistings)) = counts {
                    let (old_gone, old_relistings) =
                        old.and_then(|v| flags(&v).ok()).unwrap_or((0, 0));
                    let gone = (gone + new.0).saturating_sub(old_gone);
                    let relistings = (relistings + new.1).saturating_sub(old_relistings);
                    meta.insert(COUNTS_KEY, format!("{gone} {relistings}").as_bytes())?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e: TransactionError<()>| self.err(format!("{e:?}")))?;
        Ok(())
    }

    /// Every tracking record, by listing key.
    pub fn all(&self) -> Result<BTreeMap<String, Tracking>> {
        let mut out = BTreeMap::new();
        for item in self.tree.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let t =
                serde_json::from_slice(&v).map_err(|e| self.err(format!("record {key}: {e}")))?;
            out.insert(key, t);
        }
        Ok(out)
    }

    /// How many tracked listings are gone, and how many relist a listing
    /// taken down (the daemon's gauges): the stored counts, or, the first
    /// time (a store written before they were kept), one pass over the
    /// records without their events, whose result is stored.
    pub fn gone_and_relisting_counts(&self) -> Result<(u64, u64)> {
        let meta: &sled::Tree = &self.store.db;
        if let Some(counts) = meta
            .get(COUNTS_KEY)
            .map_err(|e| self.err(e))?
            .and_then(|v| parse_counts(&v))
        {
            return Ok(counts);
        }
        let (mut gone, mut relistings) = (0, 0);
        for item in self.tree.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let (g, r) = flags(&v)
                .map_err(|e| self.err(format!("record {}: {e}", String::from_utf8_lossy(&k))))?;
            gone += g;
            relistings += r;
        }
        meta.insert(COUNTS_KEY, format!("{gone} {relistings}").as_bytes())
            .map_err(|e| self.err(e))?;
        Ok((gone, relistings))
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

/// The newest capture of every URL in the store.
pub fn pages_by_url(store: &Store) -> Result<HashMap<String, PageRecord>> {
    store.pages_by_url()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn gone() -> Option<Gone> {
        Some(Gone {
            at: Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap(),
            why: "missing from its results for 3 cycles".into(),
            proof: None,
        })
    }

    fn relisting() -> Option<RelistingLink> {
        Some(RelistingLink {
            case_id: "C-000001".into(),
            listing: "taobao/1".into(),
            by: "title".into(),
            detail: "same title".into(),
        })
    }

    /// The counts read from every record, as the gauges did before they
    /// were kept.
    fn counted(t: &Tracker) -> (u64, u64) {
        t.all().unwrap().values().fold((0, 0), |(g, r), t| {
            (
                g + u64::from(t.gone.is_some()),
                r + u64::from(t.relisting_of.is_some()),
            )
        })
    }

    /// Issue 20: the gone and relisting counts are kept with the records
    /// (a store without them, as an older knockoff left it, is counted
    /// once), and agree with the records through listings going, coming
    /// back and relisting.
    #[test]
    fn gone_and_relisting_counts_are_kept_with_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tracker = Tracker::open(&store).unwrap();
        let t = |gone_: bool, relists: bool| Tracking {
            gone: if gone_ { gone() } else { None },
            relisting_of: if relists { relisting() } else { None },
            ..Tracking::default()
        };
        // Written before the counts were kept.
        for i in 0..10 {
            tracker
                .put(&format!("taobao/{i}"), &t(i % 3 == 0, i % 5 == 0))
                .unwrap();
        }
        assert!(store.db.get(COUNTS_KEY).unwrap().is_none());
        assert_eq!(tracker.gone_and_relisting_counts().unwrap(), (4, 2));
        assert_eq!(
            store.db.get(COUNTS_KEY).unwrap().as_deref(),
            Some(&b"4 2"[..])
        );
        // Gone, back, relisting, new records, rewritten unchanged.
        let moves = [
            ("taobao/1", t(true, false)),
            ("taobao/0", t(false, true)),
            ("taobao/3", t(false, false)),
            ("taobao/20", t(true, true)),
            ("taobao/21", t(false, false)),
            ("taobao/5", t(false, true)),
            ("taobao/20", t(true, true)),
        ];
        for (key, rec) in &moves {
            tracker.put(key, rec).unwrap();
            assert_eq!(
                tracker.gone_and_relisting_counts().unwrap(),
                counted(&tracker),
                "after {key}"
            );
        }
        // A value that does not read is counted again.
        store.db.insert(COUNTS_KEY, "garbage").unwrap();
        assert_eq!(
            tracker.gone_and_relisting_counts().unwrap(),
            counted(&tracker)
        );
    }
}
