//! The daemon's records of listings over time, in the store: cycles seen
//! and missed, gone and back events, relisting links, and the daemon's
//! checkpoint. Written by the daemon's after-cycle step
//! ([`crate::run::daemon::tracker`]), read by cases and the desk.
//!
//! | where | key | value |
//! |---|---|---|
//! | tree `daemon_listings` | `platform/id` | [`Tracking`]: cycles seen and missed, gone/back events, relisting link |
//! | default tree | `daemon/checkpoint` | [`Checkpoint`]: cycle number, running or done, last success |

use crate::file::cases::book::{Proof, RelistingLink};
use crate::model::error::{Error, Result};
use crate::store::changes::TrackingBefore;
use crate::store::{PageRecord, Store};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The tree of per-listing tracking records.
pub const TRACKING_TREE: &str = "daemon_listings";
/// The checkpoint's key in the default tree.
pub const CHECKPOINT_KEY: &str = "daemon/checkpoint";
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
    pub fn put(&self, key: &str, t: &Tracking) -> Result<()> {
        let bytes = serde_json::to_vec(t).map_err(|e| self.err(e))?;
        let journal = self.store.journal();
        let _writing = journal.writing();
        let mut noted = true;
        journal.note(|c| noted = c.tracking.contains_key(key));
        if !noted {
            // The flags before the first write of the window: one read of
            // a record the caller has just read (so from sled's cache).
            let before = self
                .tree
                .get(key.as_bytes())
                .map_err(|e| self.err(e))?
                .map(|v| flags(&v).unwrap_or_default());
            journal.note(|c| {
                c.tracking.entry(key.to_string()).or_insert(before);
            });
        }
        self.tree
            .insert(key.as_bytes(), bytes)
            .map_err(|e| self.err(e))?;
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
    /// taken down: read record by record without their events, in memory
    /// that does not grow with history (the daemon's gauges).
    pub fn gone_and_relisting_counts(&self) -> Result<(u64, u64)> {
        let (mut gone, mut relistings) = (0, 0);
        for item in self.tree.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let f = flags(&v)
                .map_err(|e| self.err(format!("record {}: {e}", String::from_utf8_lossy(&k))))?;
            gone += u64::from(f.gone);
            relistings += u64::from(f.relisting);
        }
        Ok((gone, relistings))
    }

    /// A listing's gone and relisting flags, read without its events
    /// (`None` when it has no tracking record).
    pub fn flags(&self, key: &str) -> Result<Option<TrackingBefore>> {
        match self.tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => flags(&v)
                .map(Some)
                .map_err(|e| self.err(format!("record {key}: {e}"))),
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

/// The gone and relisting flags of a stored tracking record, without its
/// events.
fn flags(bytes: &[u8]) -> serde_json::Result<TrackingBefore> {
    #[derive(Deserialize)]
    struct Flags {
        #[serde(default)]
        gone: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        relisting_of: Option<serde::de::IgnoredAny>,
    }
    let f: Flags = serde_json::from_slice(bytes)?;
    Ok(TrackingBefore {
        gone: f.gone.is_some(),
        relisting: f.relisting_of.is_some(),
    })
}

/// The newest capture of every URL in the store.
pub fn pages_by_url(store: &Store) -> Result<HashMap<String, PageRecord>> {
    store.pages_by_url()
}
