//! The sled store: every listing, its history, every finding, and the raw
//! bytes of every page captured (as files beside it, [`blobfiles`]), kept
//! across runs.
//!
//! Key scheme (one sled tree each; values are JSON unless noted):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `listings` | `platform/id` | [`ListingRecord`]: latest listing, first/last seen, history of changes, sources, and the daemon's tracking record (stores of schema `1` kept it in a tree of its own, [`TRACKING_TREE`], moved on open); and in field `finding`, the latest [`crate::judge::score::Finding`] for the listing ([`entry`]: stores of schema `2` and before kept the findings in a tree of their own, `findings`, moved on open) |
//! | `pages` | SHA-256 of the body (hex) | [`PageRecord`]: URL, capture time, status, content type |
//! | `blobs` | SHA-256 of the body (hex) | raw body bytes, in stores written before blob files: bytes are now kept as files, `DATA/blobs/<2 hex>/<sha256>` ([`blobfiles`]) |
//! | `page_urls` | URL | [`PageRecord`] of the URL's latest capture (`pages` is keyed by body, so URLs with the same bytes share an entry there) |
//! | `live_on_page` | URL `\0` `platform/id` | empty: the listing was read from that page (or it is its item page) and was not found gone since ([`Store::live_keys_on_page`], [`Store::settle_listing`]): what a cycle's answers from a page, a 404 of an item page included, concern |
//! | `suspect_briefs` | `platform/id` | flagged and review findings only: their verdict, priority, score, mark spellings, the digests of their seller links and, if flagged, the key of their complaint ([`briefs::SuspectBrief`], [`Store::for_each_suspect_brief`]) |
//! | `official` | official photo name | [`OfficialPhoto`]: product, SHA-256 (bytes in a blob file) |
//! | `meta` | `schema`, `watchlist`, `page_urls`, `live_on_page`, `suspect_briefs`, `suspect_brief_links`, `suspect_brief_complaints`, `verdict_counts`, `complaint_number` | schema version; the watchlist text of the last scan; `1` once `page_urls` covers every stored page; `1` once `live_on_page` was filled from the listings; `1` once `suspect_briefs` covers every flagged and review finding; the version of the seller links the briefs carry ([`briefs::LINKS_VERSION`]); `1` once every flagged listing's brief carries its complaint key ([`briefs::SuspectBrief::complaint`]); how many findings are flagged, in review and clear ([`verdicts::VerdictCounts`], kept with the findings); the highest complaint number given (see [`crate::file::cases::ids::LAST_NUMBER_KEY`]) |
//! | `hash_references` | hashing code version `/` SHA-256 of an official photo | its hashed variants (bytes, [`crate::judge::imagehash::PreparedReference`]) |
//! | `hash_matches` | fingerprint of the official photos `/` SHA-256 of a listing photo | what matching it against them found ([`crate::store::hashcache`]) |
//! | `hash_photos` | hashing code version `/` SHA-256 of a photo | its hashes, for relisting checks ([`crate::store::hashcache`]) |
//!
//! The `hash_*` trees are caches ([`crate::store::hashcache`]): an entry that
//! does not read back is a miss, computed again and written over.
//!
//! Records are checked both ways: a value is written only when its JSON
//! reads back to the same value ([`Store::record`] refuses, naming the
//! key, anything that would not, e.g. a non-finite number that JSON turns
//! into `null`); a stored value that does not read back is skipped with an
//! error naming its tree and key (logged, and listed by
//! [`Store::skipped`]), moved aside into the `corrupt` tree when the key is
//! written again, and the rest of the store stays usable. The schema
//! version in `meta/schema` is checked on open: a store written by a newer
//! (or unknown) schema is refused with an error naming the folder.
//!
//! Listings are keyed by `(platform, id)`, so rescanning the same pages
//! updates records instead of adding copies. Times are capture times (data),
//! never the wall clock of the scan, so a rescan of a recording changes
//! nothing. A listing and its finding are written as one value, and
//! the store is flushed at the end of a scan, so a crash loses at most the
//! listing being written.
//!
//! `live_on_page` lets the daemon's after-cycle step load only the
//! listings a cycle's pages concern instead of every listing ever seen.
//! It is written with the listing in the same transaction; a store
//! written before it gets it built on first open ([`Store::open`]), from
//! `listings` (and `page_urls` from `pages`), before its `meta` key says
//! it is complete.
//!
//! `live_on_page` is what a cycle's answers concern: a listing enters it
//! (under each page it was read from and its item page) when it is
//! recorded, and leaves it when the daemon finds it gone
//! ([`Store::settle_listing`]), so over a year a search page's entries
//! there are the listings it showed lately, not every listing it ever
//! showed (everything counts as live in a store that gets it on first
//! open, until the daemon's next cycle settles what is gone). A missed
//! count concerns only listings not found gone, and so does a 404/410
//! answer from an item page (a listing found gone stays gone whatever its
//! item page answers later): both are looked up there. Stores written
//! before kept an index of listings by item page as well (`item_pages`,
//! one key a listing) and, before that, by every page a listing was read
//! from (`listing_pages`, two keys a listing); those trees are dropped on
//! first open.
//!
//! `suspect_briefs` holds what an export finds flagged listings and
//! ranks and counts review listings by, and what the suspect listings,
//! seller networks and retention need ([`briefs`]): written with the
//! finding in the same transaction, and built on first open for a store
//! written before it, as `live_on_page` is. How many findings there are
//! of each verdict is kept with them ([`verdicts`]). A store written
//! before those counts also kept a verdict per listing
//! (`finding_verdicts`, a million keys in a big brand's year, each one an
//! entry of sled's resident page table); its counts are taken from that
//! tree on first open, and the tree is dropped.

pub mod blobfiles;
pub mod briefs;
pub mod changes;
pub mod entry;
pub mod hashcache;
pub mod lock;
pub mod readahead;
pub mod rewrite;
pub mod settle;
pub mod verdicts;

use crate::fetch::Capture;
use crate::judge::score::Finding;
use crate::model::error::{Error, Result};
use crate::model::listing::Listing;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::path::{Path, PathBuf};

/// Schema version written to `meta/schema`; [`Store::open`] refuses a
/// store whose version is not one it knows ([`KNOWN_SCHEMA_VERSIONS`]).
/// `2`: the daemon's tracking records are kept in the listing records
/// ([`ListingRecord::tracking`]), where a knockoff of schema `1` would
/// not see them and would drop them when it recorded the listing again,
/// so it must refuse the store. `3`: each listing's finding is kept in its
/// entry of `listings` ([`entry`]), where a knockoff of schema `2` would
/// not find it.
pub const SCHEMA_VERSION: &str = "3";

/// Schema versions this build reads (all older ones it can upgrade).
pub const KNOWN_SCHEMA_VERSIONS: &[&str] = &["1", "2", "3"];

/// The tree of listing key → the daemon's tracking record that stores of
/// schema `1` kept (now [`ListingRecord::tracking`]): a key a tracked listing in sled's
/// resident page table. Moved into the listing records on open.
pub const TRACKING_TREE: &str = "daemon_listings";
/// The key (in the default tree) of how many tracked listings are gone
/// and how many relist a listing taken down: the JSON of
/// `crate::file::tracking::Counts`, kept by the tracker with each record
/// it writes; a new store starts it at zero ([`Store::open`]).
pub const TRACKING_COUNTS_KEY: &str = "daemon/tracking_counts";

/// The tree of item page URL → listing keys that stores written by an
/// older knockoff kept: a key a listing in sled's resident page
/// table, for what [`LIVE_ON_PAGE_TREE`] answers too (a 404/410 answer
/// concerns only listings not found gone). Dropped on open.
pub const ITEM_PAGES_TREE: &str = "item_pages";
/// Set in the default tree of those stores once [`ITEM_PAGES_TREE`]
/// covered every stored listing: removed with the tree, so that the
/// knockoff that wrote it, opening the store again, builds it again
/// instead of trusting an empty one.
const ITEM_PAGES_BUILT_KEY: &str = "meta/item_pages";
/// The tree stores written before [`ITEM_PAGES_TREE`] kept instead: every
/// page a listing was read from, and its item page, → listing keys (two
/// keys a listing). Dropped on open.
pub const LISTING_PAGES_TREE: &str = "listing_pages";
/// Set in the default tree once `page_urls` covers every stored page.
const PAGE_URLS_BUILT_KEY: &str = "meta/page_urls";
/// What stores written before [`ITEM_PAGES_TREE`] set once
/// [`LISTING_PAGES_TREE`] and `page_urls` were complete: removed with the
/// tree, as [`ITEM_PAGES_BUILT_KEY`] is.
const LISTING_PAGES_BUILT_KEY: &str = "meta/listing_pages";
/// The tree of page URL → listing keys not found gone
/// ([`Store::live_keys_on_page`]).
pub const LIVE_ON_PAGE_TREE: &str = "live_on_page";
/// Set in the default tree once [`LIVE_ON_PAGE_TREE`] was filled.
const LIVE_ON_PAGE_BUILT_KEY: &str = "meta/live_on_page";

/// The tree of listing key → its finding's verdict that stores written
/// before [`verdicts`] kept; dropped on open.
pub const FINDING_VERDICTS_TREE: &str = "finding_verdicts";
/// Set in the default tree of those stores once [`FINDING_VERDICTS_TREE`]
/// covered every stored finding.
const FINDING_VERDICTS_BUILT_KEY: &str = "meta/finding_verdicts";

/// A stored value that could not be read back, skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The sled tree (`listings`, `findings`, ...).
    pub tree: String,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for SkippedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unreadable record {}/{} skipped: {}",
            self.tree, self.key, self.message
        )
    }
}

/// One change to a listing between two sightings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub field: String,
    pub old: String,
    pub new: String,
}

/// A page a listing was read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub url: String,
    pub sha256: String,
    pub captured_at: DateTime<Utc>,
}

/// A listing over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingRecord {
    pub listing: Listing,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    #[serde(default)]
    pub history: Vec<Change>,
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The daemon's record of the listing over time (cycles seen and
    /// missed, gone and back, relisting), as the JSON of
    /// `crate::file::tracking::Tracking`, which reads and writes it (the
    /// store keeps it, the layer above gives it its meaning): kept as it
    /// is when the listing is recorded again. Kept in the listing's
    /// record, not a tree of its own: one key fewer a listing in sled's
    /// resident page table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<serde_json::Value>,
}

/// Metadata of a captured page; the bytes are in a blob file ([`blobfiles`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageRecord {
    pub url: String,
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub captured_at: DateTime<Utc>,
    pub sha256: String,
    /// When retention dropped the bytes (`file::retention`); the record
    /// stays, so the capture is still named and its digest still known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_dropped_at: Option<DateTime<Utc>>,
}

/// An official photo as the last scan knew it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfficialPhoto {
    pub name: String,
    pub product: String,
    /// Where the photo is published, if the watchlist says.
    #[serde(default)]
    pub published_at: Vec<String>,
    pub sha256: String,
}

/// A document of the documents register, as kept in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDocument {
    #[serde(flatten)]
    pub doc: crate::model::watchlist::DocumentRef,
    pub sha256: String,
}

/// What [`Store::compact`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Compacted {
    /// Keys copied, every tree counted.
    pub keys: usize,
    /// Size of the store's folder before and after, in bytes.
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub seconds: f64,
}

/// Bytes of the files under `dir` (0 for what cannot be read).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The store in a data folder.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    /// The database, for modules that keep trees of their own
    /// (complaints, cases).
    pub(crate) db: sled::Db,
    /// Listing records and their findings ([`entry`]).
    listings: sled::Tree,
    pages: sled::Tree,
    /// Raw bytes written before [`blobfiles`]: read when there is no file.
    blobs: sled::Tree,
    blob_files: blobfiles::BlobFiles,
    page_urls: sled::Tree,
    live_on_page: sled::Tree,
    suspect_briefs: sled::Tree,
    /// Listing records read since the store was opened (all handles).
    listing_reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Complaint records read since the store was opened (all handles).
    complaint_reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Case records read since the store was opened (all handles).
    case_reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Finding records read since the store was opened (all handles).
    finding_reads: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Records skipped as unreadable since the store was opened.
    skipped: std::sync::Arc<std::sync::Mutex<Vec<SkippedRecord>>>,
    /// What was written since last asked ([`Store::keep_changes`]).
    journal: std::sync::Arc<changes::Journal>,
}

/// How long [`Store::open`] waits for another handle to let go of the
/// store: sled releases its file lock from a background thread shortly
/// after the last handle is dropped, so a store closed a moment ago (a scan
/// that just ended, then an export) can still be locked for an instant.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The error for a data folder without a store.
pub fn no_store(data_dir: &Path) -> Error {
    Error::Other(format!(
        "{}: no store here (run `knockoff scan --data {}` or `knockoff daemon --data {}` first)",
        data_dir.display(),
        data_dir.display(),
        data_dir.display()
    ))
}

/// sled's page cache. Its default is 1 GiB, which a year of a big brand's
/// history fills: the daemon's resident memory grew with history (2.9 GiB
/// at 100k listings, BENCHMARKS.md "Scale"). Reads beyond it come from the
/// operating system's file cache. 16 MiB rather than 64: the same cycle
/// and export times at 100k and 1M listings, 56–150 MiB less resident
/// (BENCHMARKS.md, "Stop 30"). 4 MiB rather than 16 since sled's cache
/// counts nodes by their size on disk, and holds ~3.5 times that in
/// memory: 56 → 20 MB of cached nodes at 1M listings, with the same cycle
/// times (BENCHMARKS.md, "Stop 36").
pub const CACHE_BYTES: u64 = 4 * 1024 * 1024;

fn open_waiting_for_lock(path: &Path) -> std::result::Result<sled::Db, sled::Error> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    let config = sled::Config::new().path(path).cache_capacity(CACHE_BYTES);
    loop {
        match config.open() {
            Err(e) if is_lock_error(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// sled reports a held lock as an I/O error of kind `Other` with this text.
fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

impl Store {
    /// Opens the store of a data folder that has one. A folder without a
    /// store is an error naming the commands that make one; nothing is
    /// created (for commands that only read or prune).
    pub fn open_existing(data_dir: &Path) -> Result<Store> {
        if !data_dir.join("store").is_dir() {
            return Err(no_store(data_dir));
        }
        Store::open(data_dir)
    }

    /// Opens (or creates) the store at `DIR/store`.
    pub fn open(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join("store");
        rewrite::finish_interrupted(data_dir)?;
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        let err = |e: sled::Error| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        };
        let mut db = open_waiting_for_lock(&path).map_err(|e| match e {
            e if is_lock_error(&e) => Error::Store {
                path: path.clone(),
                message: format!(
                    "in use by another knockoff process (a running daemon or scan?): {e}"
                ),
            },
            e => err(e),
        })?;
        let schema = db.get("meta/schema").map_err(err)?;
        let unmarked = schema.is_none();
        match schema {
            Some(v) if KNOWN_SCHEMA_VERSIONS.contains(&&*String::from_utf8_lossy(&v)) => {}
            Some(v) => {
                return Err(Error::Store {
                    path: path.clone(),
                    message: format!(
                        "schema version `{}` is not one this knockoff reads ({}): \
                         written by a newer knockoff? Use that version, or another data folder",
                        String::from_utf8_lossy(&v).escape_debug(),
                        KNOWN_SCHEMA_VERSIONS.join(", ")
                    ),
                })
            }
            None => {
                db.insert("meta/schema", SCHEMA_VERSION).map_err(err)?;
            }
        }
        if rewrite::needed(&db) {
            rewrite::rewrite(db, data_dir, open_waiting_for_lock)?;
            db = open_waiting_for_lock(&path).map_err(err)?;
        }
        let store = Store {
            listings: db.open_tree("listings").map_err(err)?,
            pages: db.open_tree("pages").map_err(err)?,
            blobs: db.open_tree("blobs").map_err(err)?,
            blob_files: blobfiles::BlobFiles::new(data_dir),
            page_urls: db.open_tree("page_urls").map_err(err)?,
            live_on_page: db.open_tree(LIVE_ON_PAGE_TREE).map_err(err)?,
            suspect_briefs: db.open_tree(briefs::SUSPECT_BRIEFS_TREE).map_err(err)?,
            path: path.clone(),
            db,
            listing_reads: Default::default(),
            complaint_reads: Default::default(),
            case_reads: Default::default(),
            finding_reads: Default::default(),
            skipped: Default::default(),
            journal: Default::default(),
        };
        if unmarked {
            store.start_counts_if_empty()?;
        }
        store.build_page_urls_if_missing()?;
        // Dropped first, so that the index built next takes the page ids
        // they free (sled keeps a page id, and its entry in the resident
        // page table, for reuse).
        store.drop_page_index_if_present(
            LISTING_PAGES_TREE,
            LISTING_PAGES_BUILT_KEY,
            "dropped the index of listings by every page they were read from",
        )?;
        store.drop_page_index_if_present(
            ITEM_PAGES_TREE,
            ITEM_PAGES_BUILT_KEY,
            "dropped the index of listings by item page (live listings are found by theirs in live_on_page)",
        )?;
        store.build_live_on_page_if_missing()?;
        store.drop_finding_verdicts_if_present()?;
        store.mark_schema()?;
        store.move_tracking_into_listings_if_present()?;
        store.build_suspect_briefs_if_missing()?;
        store.build_brief_links_if_missing()?;
        store.build_brief_complaints_if_missing()?;
        Ok(store)
    }

    /// Rewrites the store at `DATA/store` into a fresh sled database
    /// ([`rewrite`]), giving back the space of the old versions of records
    /// sled keeps in its file until it cleans them (a 1M store written by
    /// a year of cycles: 13 GB, of which 3.7 live). The store must not be
    /// open elsewhere (a running daemon holds it: refused, naming it).
    pub fn compact(data_dir: &Path) -> Result<Compacted> {
        // Opened first: the schema is checked, and an older store is
        // brought to this build's (and rewritten once already).
        let store = Store::open_existing(data_dir)?;
        store.flush()?;
        let path = store.path.clone();
        drop(store);
        let bytes_before = dir_bytes(&path);
        let db = open_waiting_for_lock(&path).map_err(|e| Error::Store {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let started = std::time::Instant::now();
        let copied = rewrite::rewrite(db, data_dir, open_waiting_for_lock)?;
        Ok(Compacted {
            keys: copied.keys,
            bytes_before,
            bytes_after: dir_bytes(&path),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// A new store (no schema mark, no listing and no finding) starts
    /// with its counts kept from the first write: the verdict counts
    /// ([`verdicts::VERDICT_COUNTS_KEY`]) and the tracking counts
    /// ([`TRACKING_COUNTS_KEY`]) at zero. Without them, the first daemon
    /// to open the store counts them in a pass over every finding and
    /// listing: at 100,000 listings that pass held 103 MB of the findings
    /// it read (heaptrack, BENCHMARKS.md "Stop 37"). A store without the
    /// mark but with records (written before the mark existed) keeps the
    /// pass.
    fn start_counts_if_empty(&self) -> Result<()> {
        if !self.listings.is_empty() || self.has_tree(entry::FINDINGS_TREE) {
            return Ok(());
        }
        let zero_verdicts =
            serde_json::to_vec(&verdicts::VerdictCounts::default()).map_err(|e| self.err(e))?;
        let zero_tracking = serde_json::json!({"gone": 0, "relisting": 0}).to_string();
        for (key, value) in [
            (verdicts::VERDICT_COUNTS_KEY, zero_verdicts),
            (TRACKING_COUNTS_KEY, zero_tracking.into_bytes()),
        ] {
            if self.db.get(key).map_err(|e| self.err(e))?.is_none() {
                self.db.insert(key, value).map_err(|e| self.err(e))?;
            }
        }
        Ok(())
    }

    /// Marks the store with this build's [`SCHEMA_VERSION`], before the
    /// conversions that follow move a record: a knockoff of an older
    /// schema refuses the store from then on instead of missing the
    /// records moved.
    fn mark_schema(&self) -> Result<()> {
        let schema = self.db.get("meta/schema").map_err(|e| self.err(e))?;
        if schema.as_deref() != Some(SCHEMA_VERSION.as_bytes()) {
            self.db
                .insert("meta/schema", SCHEMA_VERSION)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// A store of schema `1` kept the daemon's tracking records in a tree
    /// of their own ([`TRACKING_TREE`]): each is moved into its listing's
    /// record, a transaction a record (an interrupted run goes on from
    /// where it stopped), and the tree is dropped. A record that cannot be
    /// moved (it does not read, or its listing has no readable record) is
    /// kept in the `corrupt` tree, named, not lost.
    fn move_tracking_into_listings_if_present(&self) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| self.err(format!("{TRACKING_TREE}: {e}"));
        if !self.has_tree(TRACKING_TREE) {
            return Ok(());
        }
        self.flush()?;
        let old = self.db.open_tree(TRACKING_TREE).map_err(|e| err(&e))?;
        let corrupt = self.db.open_tree("corrupt").map_err(|e| err(&e))?;
        let (mut moved, mut kept_aside) = (0usize, Vec::new());
        loop {
            let batch: Vec<sled::IVec> = old
                .iter()
                .keys()
                .take(MIGRATION_BATCH)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| err(&e))?;
            if batch.is_empty() {
                break;
            }
            for key in batch {
                // `Ok(true)` moved, `Ok(false)` not there any more,
                // `Err(why)` kept aside.
                let outcome = (&self.listings, &old, &corrupt)
                    .transaction(|(listings, old, corrupt)| {
                        let Some(t) = old.remove(&key)? else {
                            return Ok(Ok(false));
                        };
                        let why = match (
                            serde_json::from_slice::<serde_json::Value>(&t),
                            listings.get(&key)?,
                        ) {
                            (Err(e), _) => format!("it does not read ({e})"),
                            (Ok(v), _) if !v.is_object() => "it is not a record".to_string(),
                            (Ok(_), None) => "its listing has no record".to_string(),
                            (Ok(tracking), Some(l)) => {
                                match serde_json::from_slice::<ListingRecord>(&l) {
                                    Ok(mut rec) => {
                                        rec.tracking = Some(tracking);
                                        let json = entry::with_record(&l, &rec).map_err(|e| {
                                            ConflictableTransactionError::Abort(e.to_string())
                                        })?;
                                        listings.insert(&key, json)?;
                                        return Ok(Ok(true));
                                    }
                                    Err(e) => format!("its listing's record does not read ({e})"),
                                }
                            }
                        };
                        let mut name = format!("{TRACKING_TREE}/").into_bytes();
                        name.extend_from_slice(&key);
                        corrupt.insert(name, t)?;
                        Ok(Err(why))
                    })
                    .map_err(|e: TransactionError<String>| err(&format!("{e:?}")))?;
                match outcome {
                    Ok(was_there) => moved += usize::from(was_there),
                    Err(why) => kept_aside.push((String::from_utf8_lossy(&key).into_owned(), why)),
                }
            }
        }
        for (key, why) in &kept_aside {
            tracing::warn!(
                store = %self.path.display(),
                "tracking record {TRACKING_TREE}/{key} kept in the `corrupt` tree, not moved: {why}"
            );
        }
        self.retire_tree(
            TRACKING_TREE,
            old,
            None,
            &format!(
                "moved {moved} tracking records into their listings' records ({} kept aside)",
                kept_aside.len()
            ),
        )
    }

    /// A store written before the verdict counts ([`verdicts`]) kept a
    /// verdict per listing in [`FINDING_VERDICTS_TREE`]: its counts are
    /// taken from that tree (unless kept already), then the tree is
    /// dropped, with its keys in sled's page table. A run interrupted
    /// before the drop does it again.
    fn drop_finding_verdicts_if_present(&self) -> Result<()> {
        if !self.has_tree(FINDING_VERDICTS_TREE) {
            return Ok(());
        }
        let old = self
            .db
            .open_tree(FINDING_VERDICTS_TREE)
            .map_err(|e| self.err(e))?;
        let complete = self
            .db
            .get(FINDING_VERDICTS_BUILT_KEY)
            .map_err(|e| self.err(e))?
            .is_some();
        let kept = self
            .db
            .get(verdicts::VERDICT_COUNTS_KEY)
            .map_err(|e| self.err(e))?
            .is_some_and(|v| serde_json::from_slice::<verdicts::VerdictCounts>(&v).is_ok());
        if complete && !kept {
            let mut c = verdicts::VerdictCounts::default();
            for item in old.iter() {
                let (_, v) = item.map_err(|e| self.err(e))?;
                if let Ok(v) = serde_json::from_slice::<crate::judge::signal::Verdict>(&v) {
                    c = c.moved(None, v);
                }
            }
            let json = serde_json::to_vec(&c).map_err(|e| self.err(e))?;
            self.db
                .insert(verdicts::VERDICT_COUNTS_KEY, json)
                .map_err(|e| self.err(e))?;
        }
        self.retire_tree(
            FINDING_VERDICTS_TREE,
            old,
            Some(FINDING_VERDICTS_BUILT_KEY),
            "dropped the verdict kept per listing (counts are kept instead)",
        )
    }

    /// Runs a one-time build of a derived tree (`fill`, which says how
    /// many records it read) unless the store's `built_key` says it was
    /// done, then marks it done: a store written by an older knockoff gets
    /// the tree on first open, and a run interrupted before the mark
    /// builds it again.
    fn build_once(
        &self,
        built_key: &str,
        what: &str,
        message: &str,
        fill: impl FnOnce() -> Result<usize>,
    ) -> Result<()> {
        if self.db.get(built_key).map_err(|e| self.err(e))?.is_some() {
            return Ok(());
        }
        let read = fill()?;
        self.db.insert(built_key, "1").map_err(|e| self.err(e))?;
        self.flush()?;
        if read > 0 {
            tracing::info!(store = %self.path.display(), what, read, "{message}");
        }
        Ok(())
    }

    /// Fills `page_urls` for pages stored before it existed, once per
    /// store (a store written by an older knockoff). A run interrupted here
    /// fills it again.
    fn build_page_urls_if_missing(&self) -> Result<()> {
        self.build_once(
            PAGE_URLS_BUILT_KEY,
            "pages",
            "built the index of pages by URL",
            || self.fill_page_urls(),
        )
    }

    /// Fills `page_urls` where it misses a URL; how many pages it read.
    fn fill_page_urls(&self) -> Result<usize> {
        // The capture `pages_by_url` used for a URL missing from
        // `page_urls`: the first of `pages` in key order.
        let mut filled = std::collections::HashSet::new();
        let mut read = 0usize;
        for item in self.pages.iter() {
            let (_, v) = item.map_err(|e| self.err(e))?;
            read += 1;
            let Ok(rec) = serde_json::from_slice::<PageRecord>(&v) else {
                continue;
            };
            let known = self
                .page_urls
                .get(rec.url.as_bytes())
                .map_err(|e| self.err(e))?
                .is_some_and(|v| serde_json::from_slice::<PageRecord>(&v).is_ok());
            if !known && !filled.contains(&rec.url) {
                self.page_urls
                    .insert(rec.url.as_bytes(), v)
                    .map_err(|e| self.err(e))?;
            }
            filled.insert(rec.url);
        }
        Ok(read)
    }

    /// Inserts `keys(record)` into `tree` for every readable listing; how
    /// many listings it read. An unreadable record has no pages to index;
    /// it is indexed when written again.
    fn index_every_listing<I>(
        &self,
        tree: &sled::Tree,
        keys: impl Fn(&ListingRecord) -> I,
    ) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut listings = 0usize;
        for item in self.listings.iter() {
            let (_, v) = item.map_err(|e| self.err(e))?;
            let Ok(rec) = serde_json::from_slice::<ListingRecord>(&v) else {
                continue;
            };
            for k in keys(&rec) {
                tree.insert(k.as_ref(), &[][..]).map_err(|e| self.err(e))?;
            }
            listings += 1;
        }
        Ok(listings)
    }

    /// Fills `live_on_page` from the listings, once per store (a store
    /// written by an older knockoff): every listing counts as live until
    /// the daemon's next cycle settles those found gone.
    fn build_live_on_page_if_missing(&self) -> Result<()> {
        self.build_once(
            LIVE_ON_PAGE_BUILT_KEY,
            "listings",
            "built the index of live listings by page",
            || self.index_every_listing(&self.live_on_page, listing_page_keys),
        )
    }

    /// Whether the store has a tree of that name (without creating it).
    pub(crate) fn has_tree(&self, name: &str) -> bool {
        self.db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == name.as_bytes())
    }

    /// Takes a tree an older knockoff kept out of the store: empties the
    /// tree `name` (open as `tree`) a batch at a time, removes its `mark`
    /// (its "built" key in the default tree), drops it, and logs
    /// `message` with how many keys it held. sled's `drop_tree` frees a
    /// tree's nodes under one epoch, which keeps every node it walked in
    /// memory until the end: dropping two million keys so took 850 MiB.
    /// Emptied first, a tree drops in the memory of one batch. An
    /// interrupted run leaves part of the tree, for the next to go on
    /// with; the mark goes before the tree, so it never outlives it.
    fn retire_tree(
        &self,
        name: &str,
        tree: sled::Tree,
        mark: Option<&str>,
        message: &str,
    ) -> Result<()> {
        let keys = emptied_in_batches(&tree).map_err(|e| self.err(e))?;
        drop(tree);
        if let Some(mark) = mark {
            self.db.remove(mark).map_err(|e| self.err(e))?;
        }
        self.db.drop_tree(name).map_err(|e| self.err(e))?;
        self.flush()?;
        tracing::info!(store = %self.path.display(), keys, "{message}");
        Ok(())
    }

    /// Drops an index of listings by page that an older knockoff kept
    /// ([`LISTING_PAGES_TREE`], [`ITEM_PAGES_TREE`]), and its `mark`.
    fn drop_page_index_if_present(&self, name: &str, mark: &str, message: &str) -> Result<()> {
        if !self.has_tree(name) {
            return Ok(());
        }
        let old = self.db.open_tree(name).map_err(|e| self.err(e))?;
        self.retire_tree(name, old, Some(mark), message)
    }

    /// Keys of the listings read from the page at `url` (or whose item
    /// page it is) that were not found gone since they were last read:
    /// the listings whose missed count an answer from that URL concerns
    /// (a superset: check the record). It does not grow with history: a
    /// listing found gone leaves it.
    pub fn live_keys_on_page(&self, url: &str) -> Result<Vec<String>> {
        keys_on_page(&self.live_on_page, url).map_err(|e| self.err(e))
    }

    /// Takes a listing found gone out of `live_on_page`: answers from its
    /// pages no longer concern it, until it is read again
    /// ([`Store::record`] puts it back).
    pub fn settle_listing(&self, rec: &ListingRecord) -> Result<()> {
        let mut batch = sled::Batch::default();
        for k in listing_page_keys(rec) {
            batch.remove(k);
        }
        self.live_on_page
            .apply_batch(batch)
            .map_err(|e| self.err(e))
    }

    /// The latest capture of a URL (as [`Store::pages_by_url`] has it).
    pub fn page_for_url(&self, url: &str) -> Result<Option<PageRecord>> {
        Ok(self
            .page_urls
            .get(url.as_bytes())
            .map_err(|e| self.err(e))?
            .and_then(|v| serde_json::from_slice(&v).ok()))
    }

    /// Every URL with its latest capture, from `page_urls`, in key order:
    /// `f` gets the URL and a reader of its record, to call for the URLs it
    /// wants (it gives `None` for a record that does not read, as
    /// [`Store::page_for_url`] does); records not read are not parsed.
    pub fn for_each_latest_capture(
        &self,
        mut f: impl FnMut(&str, &dyn Fn() -> Option<PageRecord>),
    ) -> Result<()> {
        for item in self.page_urls.iter() {
            let (url, value) = item.map_err(|e| self.err(e))?;
            f(&String::from_utf8_lossy(&url), &|| {
                serde_json::from_slice(&value).ok()
            });
        }
        Ok(())
    }

    /// Lets sled's cache give back the nodes the reads so far pulled in
    /// ([`settle`]): for a long-running process after a pass that read
    /// many records. Does nothing for a store under
    /// [`settle::SETTLE_MIN_STORE_BYTES`].
    pub fn settle_cache(&self) -> Result<()> {
        if !self.disk_at_least(settle::SETTLE_MIN_STORE_BYTES)? {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let built = settle::settle(&self.db).map_err(|e| self.err(e))?;
        tracing::debug!(
            built,
            seconds = started.elapsed().as_secs_f64(),
            "cache settled"
        );
        Ok(())
    }

    /// Whether sled's files take at least `min_bytes`: a store big enough
    /// for the work that pays only on big stores (settling the cache,
    /// reading ahead).
    fn disk_at_least(&self, min_bytes: u64) -> Result<bool> {
        Ok(self.db.size_on_disk().map_err(|e| self.err(e))? >= min_bytes)
    }

    /// Counts one more read of a pass in `reads`, and settles the cache
    /// ([`Store::settle_cache`]) every [`settle::SETTLE_AFTER_READS`], so
    /// that a pass over many records holds at most about that many of
    /// sled's nodes, not up to 16,384.
    pub fn settle_after(&self, reads: &mut u64) -> Result<()> {
        *reads += 1;
        if (*reads).is_multiple_of(settle::SETTLE_AFTER_READS) {
            self.settle_cache()?;
        }
        Ok(())
    }

    /// Listing records read from this store since it was opened (every
    /// clone of the handle counts): how the tests see that a daemon cycle
    /// reads what it concerns, not every listing ever stored.
    pub fn listing_reads(&self) -> u64 {
        self.listing_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count_listing_reads(&self, n: usize) {
        self.listing_reads
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// Complaint records (the `complaints` tree) read by the case book and
    /// the export since this store was opened (any clone of the handle
    /// counts): how the tests see that numbering a complaint does not read
    /// every complaint.
    pub fn complaint_reads(&self) -> u64 {
        self.complaint_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn count_complaint_reads(&self, n: u64) {
        self.complaint_reads
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Case records (the `cases` tree) read by the case book since this
    /// store was opened (any clone of the handle counts): how the tests
    /// see that a daemon cycle reads the cases it works on, not the book.
    pub fn case_reads(&self) -> u64 {
        self.case_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Finding records (the `findings` tree) read since this store was
    /// opened (any clone of the handle counts): how the tests see that an
    /// export reads the findings it files, not every finding of history.
    pub fn finding_reads(&self) -> u64 {
        self.finding_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn count_case_reads(&self, n: u64) {
        self.case_reads
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// From now on, keeps what is written through this store (any clone
    /// of the handle) until [`Store::take_changes`] asks: see
    /// [`changes`]. Off by default.
    pub fn keep_changes(&self) {
        self.journal.enable();
    }

    /// The changes written since changes were kept or last taken, given to
    /// `read` while no write can happen (so what `read` reads is what those
    /// changes left); `None` when changes are not kept.
    pub fn take_changes<T>(&self, read: impl FnOnce(changes::Changes) -> T) -> Option<T> {
        self.journal.take(read)
    }

    /// The journal, for the file layer's writers (tracking, cases).
    pub(crate) fn journal(&self) -> &changes::Journal {
        &self.journal
    }

    /// A listing's stored verdict (its finding's, read without the rest
    /// of it), if readable.
    pub fn verdict(&self, key: &str) -> Result<Option<crate::judge::signal::Verdict>> {
        Ok(self
            .listings
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
            .and_then(|v| entry::verdict(&v).ok().flatten()))
    }

    /// True when a listing record (readable or not) is stored under `key`.
    pub fn has_listing(&self, key: &str) -> Result<bool> {
        self.listings
            .contains_key(key.as_bytes())
            .map_err(|e| self.err(e))
    }

    /// Records skipped as unreadable since this store was opened (each
    /// also logged as an error naming it).
    pub fn skipped(&self) -> Vec<SkippedRecord> {
        self.skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn skip(&self, tree: &sled::Tree, key: &[u8], message: String) {
        let rec = SkippedRecord {
            tree: String::from_utf8_lossy(&tree.name()).into_owned(),
            key: String::from_utf8_lossy(key).into_owned(),
            message,
        };
        tracing::error!(store = %self.path.display(), "{rec}");
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        if !skipped.contains(&rec) {
            skipped.push(rec);
        }
    }

    /// JSON of a value that reads back to the same value: serialized,
    /// deserialized and serialized again, byte for byte. Anything else
    /// (a non-finite number JSON writes as `null`) is refused, naming the
    /// key, before a byte is written.
    fn checked_json<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        what: &str,
        key: &str,
        value: &T,
    ) -> Result<Vec<u8>> {
        let refuse = |m: String| self.err(format!("refusing to write {what} {key}: {m}"));
        let json = serde_json::to_vec(value).map_err(|e| refuse(e.to_string()))?;
        let back: T = serde_json::from_slice(&json)
            .map_err(|e| refuse(format!("it would not read back ({e})")))?;
        let again: serde_json::Value = serde_json::to_vec(&back)
            .and_then(|b| serde_json::from_slice(&b))
            .map_err(|e| refuse(e.to_string()))?;
        let first: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| refuse(e.to_string()))?;
        if !same_json(&first, &again) {
            return Err(refuse("it reads back different".into()));
        }
        Ok(json)
    }

    /// Moves an unreadable value aside (tree `corrupt`, key `tree/key`)
    /// before its key is written again, so its bytes are not lost.
    pub(crate) fn quarantine(&self, tree: &sled::Tree, key: &str) -> Result<()> {
        if let Some(old) = tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            let corrupt = self.db.open_tree("corrupt").map_err(|e| self.err(e))?;
            let name = format!("{}/{key}", String::from_utf8_lossy(&tree.name()));
            corrupt
                .insert(name.as_bytes(), old)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Store {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Keeps a captured page: metadata and raw bytes, addressed by SHA-256.
    pub fn put_page(&self, capture: &Capture) -> Result<()> {
        let record = PageRecord {
            url: capture.url.clone(),
            final_url: capture.final_url.clone(),
            status: capture.status,
            content_type: capture.content_type.clone(),
            captured_at: capture.captured_at,
            sha256: capture.sha256.clone(),
            bytes_dropped_at: None,
        };
        let json = self.checked_json("page", &capture.sha256, &record)?;
        self.blob_files.put(&capture.sha256, &capture.body)?;
        let _writing = self.journal.writing();
        self.journal.note(|c| {
            c.page_urls.insert(capture.url.clone());
        });
        self.pages
            .insert(capture.sha256.as_bytes(), json.as_slice())
            .map_err(|e| self.err(e))?;
        let urls = &self.page_urls;
        let older = match urls.get(capture.url.as_bytes()).map_err(|e| self.err(e))? {
            None => true,
            Some(v) => serde_json::from_slice::<PageRecord>(&v)
                .map(|o| (o.captured_at, &o.sha256) <= (record.captured_at, &record.sha256))
                .unwrap_or(true),
        };
        if older {
            urls.insert(capture.url.as_bytes(), json)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The latest capture of every URL: from `page_urls`, and from `pages`
    /// for URLs stored before that tree existed.
    pub fn pages_by_url(&self) -> Result<std::collections::HashMap<String, PageRecord>> {
        let mut out: std::collections::HashMap<String, PageRecord> =
            std::collections::HashMap::new();
        let urls = &self.page_urls;
        for tree in [urls, &self.pages] {
            let from_urls = std::ptr::eq(tree, urls);
            for item in tree.iter() {
                let (_, v) = item.map_err(|e| self.err(e))?;
                let Ok(rec) = serde_json::from_slice::<PageRecord>(&v) else {
                    continue;
                };
                if from_urls || !out.contains_key(&rec.url) {
                    out.insert(rec.url.clone(), rec);
                }
            }
        }
        Ok(out)
    }

    /// Keeps an official photo (bytes in a blob file) under its name.
    pub fn put_official(&self, photo: &OfficialPhoto, bytes: &[u8]) -> Result<()> {
        self.blob_files.put(&photo.sha256, bytes)?;
        self.put_official_record(photo)
    }

    /// Keeps an official photo's record under its name, its bytes kept
    /// before ([`Store::put_blob`]).
    pub fn put_official_record(&self, photo: &OfficialPhoto) -> Result<()> {
        let tree = self.db.open_tree("official").map_err(|e| self.err(e))?;
        let json = self.checked_json("official photo", &photo.name, photo)?;
        tree.insert(photo.name.as_bytes(), json)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Keeps a document of the watchlist's documents register (bytes in a
    /// blob file), keyed by the watchlist field that names it.
    pub fn put_document(&self, doc: &StoredDocument, bytes: &[u8]) -> Result<()> {
        let tree = self.db.open_tree("documents").map_err(|e| self.err(e))?;
        let json = self.checked_json("document", &doc.doc.field, doc)?;
        self.blob_files.put(&doc.sha256, bytes)?;
        tree.insert(doc.doc.field.as_bytes(), json)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Keeps bytes addressed by their SHA-256 (a file added to a case).
    pub fn put_blob(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        self.blob_files.put(sha256, bytes)
    }

    /// The documents of the register as the last scan kept them.
    pub fn documents(&self) -> Result<Vec<StoredDocument>> {
        let tree = self.db.open_tree("documents").map_err(|e| self.err(e))?;
        self.all_json(&tree)
    }

    /// All official photos known to the store, by name.
    pub fn officials(&self) -> Result<Vec<OfficialPhoto>> {
        let tree = self.db.open_tree("official").map_err(|e| self.err(e))?;
        self.all_json(&tree)
    }

    /// Keeps the text of the watchlist a scan ran with.
    pub fn put_watchlist_text(&self, text: &str) -> Result<()> {
        self.db
            .insert("meta/watchlist", text.as_bytes())
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The text of the watchlist of the last scan.
    pub fn watchlist_text(&self) -> Result<Option<String>> {
        Ok(self
            .db
            .get("meta/watchlist")
            .map_err(|e| self.err(e))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// The raw bytes kept under a SHA-256 (a captured page, a photo, a
    /// document), checked against it: from its file, or for a store
    /// written before blob files, from the `blobs` tree.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.blob_files.get(sha256)? {
            return Ok(Some(bytes));
        }
        Ok(self
            .blobs
            .get(sha256.as_bytes())
            .map_err(|e| self.err(e))?
            .map(|v| v.to_vec()))
    }

    /// The metadata of a captured page.
    pub fn page(&self, sha256: &str) -> Result<Option<PageRecord>> {
        self.get_json(&self.pages, sha256)
    }

    /// Every captured page's metadata (one per SHA-256), in key order;
    /// records that do not read back are left out.
    pub fn pages(&self) -> Result<Vec<PageRecord>> {
        let mut out = Vec::new();
        self.for_each_page(|rec| {
            out.push(rec);
            Ok(())
        })?;
        Ok(out)
    }

    /// Every page record, in SHA-256 order, one at a time (those that do
    /// not read are skipped, as [`Store::pages`] skips them); the first
    /// error `f` returns ends the pass.
    pub fn for_each_page(&self, mut f: impl FnMut(PageRecord) -> Result<()>) -> Result<()> {
        for item in self.pages.iter() {
            let (_, v) = item.map_err(|e| self.err(e))?;
            if let Ok(rec) = serde_json::from_slice::<PageRecord>(&v) {
                f(rec)?;
            }
        }
        Ok(())
    }

    /// The size of stored bytes, 0 when there are none.
    pub fn blob_size(&self, sha256: &str) -> Result<u64> {
        if let Some(size) = self.blob_files.size(sha256)? {
            return Ok(size);
        }
        Ok(self
            .blobs
            .get(sha256.as_bytes())
            .map_err(|e| self.err(e))?
            .map_or(0, |v| v.len() as u64))
    }

    /// Drops a captured page's bytes and notes when in its record (see
    /// `file::retention`); returns the bytes freed.
    pub fn drop_page_bytes(&self, sha256: &str, at: DateTime<Utc>) -> Result<u64> {
        let Some(mut rec) = self.page(sha256)? else {
            return Ok(0);
        };
        let size = self.blob_size(sha256)?;
        rec.bytes_dropped_at = Some(at);
        let json = self.checked_json("page", sha256, &rec)?;
        self.pages
            .insert(sha256.as_bytes(), json)
            .map_err(|e| self.err(e))?;
        self.blob_files.remove(sha256)?;
        self.blobs
            .remove(sha256.as_bytes())
            .map_err(|e| self.err(e))?;
        Ok(size)
    }

    /// Records a sighting of a listing and its finding in one transaction,
    /// keeping first-seen time and a history of changes.
    pub fn record(
        &self,
        listing: &Listing,
        sources: &[Source],
        seen_at: DateTime<Utc>,
        finding: &Finding,
    ) -> Result<ListingRecord> {
        let key = listing.key();
        let _writing = self.journal.writing();
        self.count_listing_reads(1);
        let old = self.listings.get(key.as_bytes()).map_err(|e| self.err(e))?;
        let existed = old.is_some();
        let (previous, previous_finding) = match &old {
            None => (None, None),
            Some(v) => {
                let rec = serde_json::from_slice::<ListingRecord>(v)
                    .map_err(|e| self.skip(&self.listings, key.as_bytes(), e.to_string()))
                    .ok();
                let finding = entry::finding(v)
                    .map_err(|e| self.skip_finding(key.as_bytes(), e))
                    .ok();
                if rec.is_none() || finding.is_none() {
                    // An entry under the key that does not read whole is
                    // kept aside, not lost.
                    self.quarantine(&self.listings, &key)?;
                }
                (rec, finding.flatten())
            }
        };
        let before = changes::ListingBefore {
            existed,
            verdict: previous_finding.map(|f| f.verdict),
        };
        self.journal.note(|c| {
            c.listings.entry(key.clone()).or_insert(before);
        });
        let record = match previous {
            None => ListingRecord {
                listing: listing.clone(),
                first_seen: seen_at,
                last_seen: seen_at,
                history: Vec::new(),
                sources: bounded_sources(sources.to_vec(), &[]),
                tracking: None,
            },
            Some(mut rec) => {
                let changes = diff(&rec.listing, listing, seen_at.max(rec.last_seen));
                rec.history.extend(changes);
                rec.first_seen = rec.first_seen.min(seen_at);
                rec.last_seen = rec.last_seen.max(seen_at);
                for s in sources {
                    if !rec.sources.iter().any(|o| o.sha256 == s.sha256) {
                        rec.sources.push(s.clone());
                    }
                }
                let changed: Vec<DateTime<Utc>> = rec.history.iter().map(|c| c.at).collect();
                rec.sources = bounded_sources(std::mem::take(&mut rec.sources), &changed);
                rec.listing = listing.clone();
                rec
            }
        };
        self.checked_json("listing", &key, &record)?;
        let finding_json = self.checked_json("finding", &key, finding)?;
        let value = entry::encode_json(&record, &finding_json)
            .map_err(|e| self.err(format!("refusing to write listing {key}: {e}")))?;
        let page_keys = listing_page_keys(&record);
        let brief = briefs::brief_json(finding, Some(listing), None);
        let meta: &sled::Tree = &self.db;
        (
            &self.listings,
            &self.live_on_page,
            &self.suspect_briefs,
            meta,
        )
            .transaction(|(l, live, b, meta)| {
                let before = l.insert(key.as_bytes(), value.as_slice())?;
                let before = before.and_then(|v| entry::verdict(&v).ok().flatten());
                verdicts::keep_count(meta, before, finding.verdict)?;
                match &brief {
                    Some(json) => b.insert(key.as_bytes(), json.as_slice())?,
                    None => b.remove(key.as_bytes())?,
                };
                for k in &page_keys {
                    live.insert(k.as_slice(), &[][..])?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e: TransactionError<()>| self.err(format!("{e:?}")))?;
        Ok(record)
    }

    /// The tree of listing records, for the daemon's tracking records kept
    /// in them ([`crate::file::tracking::Tracker`]).
    pub(crate) fn listings_tree(&self) -> &sled::Tree {
        &self.listings
    }

    /// A listing's record.
    pub fn listing(&self, key: &str) -> Result<Option<ListingRecord>> {
        self.count_listing_reads(1);
        self.get_json(&self.listings, key)
    }

    /// A listing's latest finding.
    pub fn finding(&self, key: &str) -> Result<Option<Finding>> {
        self.finding_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.listings.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => Ok(entry::finding(&v)
                .map_err(|e| self.skip_finding(key.as_bytes(), e))
                .ok()
                .flatten()),
        }
    }

    /// All findings, in key order (a pass over every listing's entry).
    pub fn findings(&self) -> Result<Vec<Finding>> {
        let mut out = Vec::new();
        self.for_each_entry(|key, value| match entry::finding(value) {
            Ok(Some(f)) => out.push(f),
            Ok(None) => {}
            Err(e) => self.skip_finding(key, e),
        })?;
        Ok(out)
    }

    /// Names a listing's finding that does not read ([`Store::skip`]).
    fn skip_finding(&self, key: &[u8], e: serde_json::Error) {
        self.skip(&self.listings, key, format!("its finding: {e}"));
    }

    /// Each finding's key and verdict, in key order: a pass over every
    /// finding (kilobytes each, parsed only for the verdict). For a count
    /// of a store that kept none ([`Store::verdict_counts`]) and for
    /// checks; the flagged and review listings are in the briefs
    /// ([`Store::for_each_suspect_brief`]), and how many of each verdict
    /// is kept ([`Store::verdict_counts`]).
    pub fn for_each_verdict(
        &self,
        mut f: impl FnMut(&str, crate::judge::signal::Verdict),
    ) -> Result<()> {
        self.for_each_entry(|key, value| match entry::verdict(value) {
            Ok(Some(v)) => f(&String::from_utf8_lossy(key), v),
            Ok(None) => {}
            Err(e) => self.skip_finding(key, e),
        })
    }

    /// Every listing's entry, key and value, in key order, counted among
    /// the finding reads as it is read (one pass: sled's `len` is a pass
    /// of its own).
    fn for_each_entry(&self, mut f: impl FnMut(&[u8], &[u8])) -> Result<()> {
        let mut read = 0u64;
        let counted = |read| {
            self.finding_reads
                .fetch_add(read, std::sync::atomic::Ordering::Relaxed)
        };
        for item in self.listings.iter() {
            let (key, value) = item.map_err(|e| {
                counted(read);
                self.err(e)
            })?;
            read += 1;
            f(&key, &value);
        }
        counted(read);
        Ok(())
    }

    /// All listing records, in key order.
    pub fn listings(&self) -> Result<Vec<ListingRecord>> {
        self.count_listing_reads(self.listings.len());
        self.all_json(&self.listings)
    }

    /// Number of listings stored.
    pub fn listing_count(&self) -> usize {
        self.listings.len()
    }

    /// Number of pages stored.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Every entry of a tree, key and value as text, in key order (for
    /// inspecting a store, and comparing two in tests).
    pub fn dump_tree(&self, tree: &str) -> Result<Vec<(String, String)>> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in t.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            out.push((
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            ));
        }
        Ok(out)
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<()> {
        self.blob_files.sync()?;
        self.db.flush().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A value by key; an unreadable one is skipped (`None`, logged and
    /// listed by [`Store::skipped`]).
    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        key: &str,
    ) -> Result<Option<T>> {
        match tree.get(key.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => Ok(Some(v)),
                Err(e) => {
                    self.skip(tree, key.as_bytes(), e.to_string());
                    Ok(None)
                }
            },
        }
    }

    /// Writes a value into a named tree of another module (the desk's
    /// decisions), checked as every record is: it must read back.
    pub(crate) fn put_in<T: Serialize + serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        key: &str,
        value: &T,
    ) -> Result<()> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        let json = self.checked_json(tree, key, value)?;
        if self.get_json::<T>(&t, key)?.is_none() {
            self.quarantine(&t, key)?;
        }
        t.insert(key.as_bytes(), json).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// A value of a named tree; an unreadable one is skipped.
    pub(crate) fn get_in<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        key: &str,
    ) -> Result<Option<T>> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        self.get_json(&t, key)
    }

    /// Every readable value of a named tree, with its key, in key order.
    pub(crate) fn all_in<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
    ) -> Result<Vec<(String, T)>> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in t.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice(&value) {
                Ok(v) => out.push((String::from_utf8_lossy(&key).into_owned(), v)),
                Err(e) => self.skip(&t, &key, e.to_string()),
            }
        }
        Ok(out)
    }

    /// The raw bytes under a key of a named tree (a cache's).
    pub(crate) fn get_raw_in(&self, tree: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        Ok(t.get(key.as_bytes())
            .map_err(|e| self.err(e))?
            .map(|v| v.to_vec()))
    }

    /// Writes raw bytes under a key of a named tree (a cache's), over
    /// whatever was there.
    pub(crate) fn put_raw_in(&self, tree: &str, key: &str, bytes: &[u8]) -> Result<()> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        t.insert(key.as_bytes(), bytes).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Removes the entries of a named tree (a cache's) whose key `keep`
    /// refuses; how many it removed.
    pub(crate) fn retain_in(&self, tree: &str, keep: impl Fn(&[u8]) -> bool) -> Result<usize> {
        let t = self.db.open_tree(tree).map_err(|e| self.err(e))?;
        let mut removed = 0;
        for key in t.iter().keys() {
            let key = key.map_err(|e| self.err(e))?;
            if !keep(&key) {
                t.remove(&key).map_err(|e| self.err(e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Replaces a listing's stored finding (an analyst's decision applied
    /// to it), checked as every record is. The listing's record is kept as
    /// it is; a listing without a readable record is an error naming it
    /// (its finding has no entry to go in).
    pub fn put_finding(&self, finding: &Finding) -> Result<()> {
        let key = finding.key();
        let json = self.checked_json("finding", &key, finding)?;
        let _writing = self.journal.writing();
        if self.journal.enabled() {
            let before = changes::ListingBefore {
                existed: self.has_listing(&key)?,
                verdict: self.verdict(&key)?,
            };
            self.journal.note(|c| {
                c.listings.entry(key.clone()).or_insert(before);
            });
        }
        let meta: &sled::Tree = &self.db;
        (&self.listings, &self.suspect_briefs, meta)
            .transaction(|(l, b, meta)| {
                let abort = |m: String| ConflictableTransactionError::Abort(m);
                let Some(old) = l.get(key.as_bytes())? else {
                    return Err(abort("its listing has no record".into()));
                };
                let rec = serde_json::from_slice::<ListingRecord>(&old)
                    .map_err(|e| abort(format!("its listing's record does not read ({e})")))?;
                let value = entry::encode_json(&rec, &json).map_err(|e| abort(e.to_string()))?;
                l.insert(key.as_bytes(), value)?;
                let before = entry::verdict(&old).ok().flatten();
                verdicts::keep_count(meta, before, finding.verdict)?;
                match briefs::brief_json(finding, Some(&rec.listing), None) {
                    Some(json) => b.insert(key.as_bytes(), json)?,
                    None => b.remove(key.as_bytes())?,
                };
                Ok(())
            })
            .map_err(|e: TransactionError<String>| {
                self.err(match e {
                    TransactionError::Abort(m) => format!("finding of {key}: {m}"),
                    e => format!("finding of {key}: {e:?}"),
                })
            })?;
        Ok(())
    }

    /// Every readable value of a tree, in key order; unreadable ones are
    /// skipped (logged and listed by [`Store::skipped`]).
    fn all_json<T: serde::de::DeserializeOwned>(&self, tree: &sled::Tree) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for item in tree.iter() {
            let (key, value) = item.map_err(|e| self.err(e))?;
            match serde_json::from_slice(&value) {
                Ok(v) => out.push(v),
                Err(e) => self.skip(tree, &key, e.to_string()),
            }
        }
        Ok(out)
    }
}

/// The captures a listing record keeps of each page it was read from: for
/// each state of the listing (the spans between the changes of its
/// history, `changed`), the first and the latest capture of that page,
/// in their order. So each title or price the listing showed keeps the
/// captures of when it was first and last seen so, on every page.
///
/// A daemon reads a listing from the same search page every cycle, and a
/// real page's bytes differ at every capture (tokens, timestamps): kept
/// whole, a year of six-hourly cycles made an unchanged listing's record
/// ~1,460 sources long, so every sighting re-read and re-wrote a record
/// that grew with history, and an export attached every one of those
/// pages to a complaint. The captures left out stay in the store
/// (`pages`, and their bytes until retention drops them); a case's own
/// proof is kept with the case.
fn bounded_sources(sources: Vec<Source>, changed: &[DateTime<Utc>]) -> Vec<Source> {
    if sources.len() <= 2 {
        return sources;
    }
    let mut changed = changed.to_vec();
    changed.sort();
    let state = |at: DateTime<Utc>| changed.partition_point(|&c| c <= at);
    let at = |i: usize| (sources[i].captured_at, &sources[i].sha256);
    let mut ends: std::collections::HashMap<(&str, usize), (usize, usize)> = Default::default();
    for (i, s) in sources.iter().enumerate() {
        let e = ends
            .entry((s.url.as_str(), state(s.captured_at)))
            .or_insert((i, i));
        if at(i) < at(e.0) {
            e.0 = i;
        }
        if at(i) > at(e.1) {
            e.1 = i;
        }
    }
    let keep: std::collections::HashSet<usize> = ends.values().flat_map(|&(a, b)| [a, b]).collect();
    if keep.len() == sources.len() {
        return sources;
    }
    sources
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, s)| s)
        .collect()
}

/// The listing keys under `url` in a `url \0 key` tree.
fn keys_on_page(tree: &sled::Tree, url: &str) -> sled::Result<Vec<String>> {
    let mut prefix = url.as_bytes().to_vec();
    prefix.push(0);
    let mut out = Vec::new();
    for k in tree.scan_prefix(&prefix).keys() {
        out.push(String::from_utf8_lossy(&k?[prefix.len()..]).into_owned());
    }
    Ok(out)
}

/// Keys a conversion of an older store reads (or removes) at a time: sled
/// holds what one pass walks until it ends, so a pass over a million keys
/// at once held hundreds of MiB (see [`Store::retire_tree`]).
const MIGRATION_BATCH: usize = 10_000;

/// Removes every key of `tree`, a batch at a time; how many (see
/// [`Store::retire_tree`]).
fn emptied_in_batches(tree: &sled::Tree) -> sled::Result<usize> {
    let mut removed = 0usize;
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0usize;
        for k in tree.iter().keys().take(MIGRATION_BATCH) {
            batch.remove(k?);
            n += 1;
        }
        if n == 0 {
            return Ok(removed);
        }
        tree.apply_batch(batch)?;
        removed += n;
    }
}

/// The `url \0 key` entry of an index by page.
fn page_entry(url: &str, key: &str) -> Vec<u8> {
    [url.as_bytes(), b"\0", key.as_bytes()].concat()
}

/// The `live_on_page` keys of a record: `url \0 key` for each page it
/// was read from and its item page.
fn listing_page_keys(rec: &ListingRecord) -> std::collections::BTreeSet<Vec<u8>> {
    let key = rec.listing.key();
    rec.sources
        .iter()
        .map(|s| s.url.as_str())
        .chain([rec.listing.url.as_str()])
        .map(|url| page_entry(url, &key))
        .collect()
}

/// Two JSON values equal but for the last bits of floating-point numbers
/// (serde_json's fast float parsing may read a printed `f64` back one unit
/// in the last place off).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) => {
                x.is_finite() && y.is_finite() && (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
            }
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// The fields that changed between two sightings.
fn diff(old: &Listing, new: &Listing, at: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut check = |field: &str, a: String, b: String| {
        if a != b {
            out.push(Change {
                at,
                field: field.to_string(),
                old: a,
                new: b,
            });
        }
    };
    check("title", old.title.clone(), new.title.clone());
    let price = |l: &Listing| l.price.as_ref().map(|p| p.to_string()).unwrap_or_default();
    check("price", price(old), price(new));
    let seller = |l: &Listing| l.seller.name.clone().unwrap_or_default();
    check("seller", seller(old), seller(new));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Records listings `0..n` (clear findings, a scan's writes) and
    /// returns their findings as stored.
    pub(crate) fn recorded_findings(store: &Store, n: usize) -> Vec<Finding> {
        (0..n)
            .map(|i| {
                let l = listing(&i.to_string(), 2.0);
                let f = finding(&l);
                store.record(&l, &[], now(), &f).unwrap();
                store.finding(&l.key()).unwrap().unwrap()
            })
            .collect()
    }

    pub(crate) fn listing(id: &str, amount: f64) -> Listing {
        serde_json::from_value(serde_json::json!({
            "platform": "aliexpress",
            "id": id,
            "url": format!("https://www.aliexpress.com/item/{id}.html"),
            "title": format!("Aurora cup {id}"),
            "price": {"amount": 1.5, "currency": "USD"},
            "source_url": "https://www.aliexpress.com/w/x.html",
        }))
        .map(|mut l: Listing| {
            l.price.as_mut().unwrap().amount = amount;
            l
        })
        .unwrap()
    }

    pub(crate) fn finding(l: &Listing) -> Finding {
        serde_json::from_value(serde_json::json!({
            "platform": "aliexpress",
            "listing_id": l.id,
            "url": l.url,
            "title": l.title,
            "seller": null,
            "price": null,
            "score": 10,
            "verdict": "clear",
            "reasons": [],
            "signals": [],
            "drafts": [],
            "source_urls": [],
        }))
        .map(|mut f: Finding| {
            f.price = l.price.clone();
            f
        })
        .unwrap()
    }

    pub(crate) fn now() -> DateTime<Utc> {
        "2026-11-03T09:00:00Z".parse().unwrap()
    }

    /// Issue 19, finding 1 (store half): a record that would not read back
    /// (a NaN price JSON writes as `null`) is refused, naming its key, and
    /// nothing of it is written.
    #[test]
    fn regression_issue19_store_refuses_a_record_it_could_not_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for bad in [f64::NAN, f64::INFINITY] {
            let l = listing("666", bad);
            let msg = store
                .record(&l, &[], now(), &finding(&l))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("refusing to write listing aliexpress/666"),
                "{msg}"
            );
        }
        assert_eq!(store.listing_count(), 0);
        assert!(store.findings().unwrap().is_empty());
        let good = listing("1", 2.5);
        store.record(&good, &[], now(), &finding(&good)).unwrap();
        assert_eq!(
            store.listing("aliexpress/1").unwrap().unwrap().listing,
            good
        );
    }

    /// Issue 19, finding 1 (store half): an unreadable record is skipped
    /// with an error naming it; the rest reads, and writing the key again
    /// keeps the unreadable bytes aside.
    #[test]
    fn regression_issue19_unreadable_record_is_skipped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for id in ["1", "2", "3"] {
            let l = listing(id, 2.0);
            store.record(&l, &[], now(), &finding(&l)).unwrap();
        }
        let bad = br#"{"listing":{"price":{"amount":null}}}"#;
        store.listings.insert("aliexpress/2", &bad[..]).unwrap();
        // A record that reads beside a finding that does not.
        let three = store.listing("aliexpress/3").unwrap().unwrap();
        let raw =
            serde_json::value::RawValue::from_string(r#"{"verdict":"maybe"}"#.into()).unwrap();
        let value = entry::encode(&three, Some(&raw)).unwrap();
        store.listings.insert("aliexpress/3", value).unwrap();
        let keys: Vec<String> = store
            .listings()
            .unwrap()
            .iter()
            .map(|r| r.listing.key())
            .collect();
        assert_eq!(keys, ["aliexpress/1", "aliexpress/3"]);
        let found: Vec<String> = store.findings().unwrap().iter().map(|f| f.key()).collect();
        assert_eq!(found, ["aliexpress/1"]);
        assert!(store.listing("aliexpress/2").unwrap().is_none());
        let skipped = store.skipped();
        assert!(
            skipped
                .iter()
                .any(|s| s.tree == "listings" && s.key == "aliexpress/2"),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|s| s.tree == "listings"
                && s.key == "aliexpress/3"
                && s.message.starts_with("its finding: ")),
            "{skipped:?}"
        );
        assert!(
            skipped[0].to_string().contains("aliexpress/"),
            "{}",
            skipped[0]
        );
        // Seen again: written afresh, the old bytes kept aside.
        let l = listing("2", 3.0);
        store.record(&l, &[], now(), &finding(&l)).unwrap();
        assert_eq!(store.listings().unwrap().len(), 3);
        let corrupt = store.dump_tree("corrupt").unwrap();
        assert_eq!(corrupt.len(), 1, "{corrupt:?}");
        assert_eq!(corrupt[0].0, "listings/aliexpress/2");
    }

    /// Issue 19, finding 1 (store half): the schema version is checked on
    /// open; an unknown one is refused, naming the folder.
    #[test]
    fn regression_issue19_unknown_schema_version_is_refused_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(
                store.db.get("meta/schema").unwrap().unwrap().as_ref(),
                SCHEMA_VERSION.as_bytes()
            );
            store.db.insert("meta/schema", "99").unwrap();
            store.flush().unwrap();
        }
        let msg = match Store::open(dir.path()) {
            Ok(_) => panic!("opened a store of schema 99"),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains("schema version `99`"), "{msg}");
        assert!(
            msg.contains(&dir.path().join("store").display().to_string()),
            "{msg}"
        );
    }

    #[test]
    fn open_waits_for_a_store_just_closed_and_names_one_still_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let first = Store::open(dir.path()).unwrap();
        // Let go of it a moment later, as a scan that just ended does.
        let closer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        let second = Store::open(dir.path()).expect("waits for the lock");
        closer.join().unwrap();
        // Held for longer than the wait: a clear error naming the store.
        let msg = match Store::open(dir.path()) {
            Ok(_) => panic!("opened a store still in use"),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains("in use by another knockoff process"), "{msg}");
        assert!(msg.contains("store"), "{msg}");
        drop(second);
    }

    fn capture(url: &str, body: &str, at: &str) -> Capture {
        use sha2::Digest;
        Capture {
            url: url.into(),
            final_url: url.into(),
            redirects: vec![],
            status: 200,
            content_type: Some("text/html".into()),
            captured_at: at.parse().unwrap(),
            sha256: hex::encode(sha2::Sha256::digest(body.as_bytes())),
            headers: vec![],
            body: body.as_bytes().to_vec(),
            exchanges: vec![],
        }
    }

    /// A page's bytes are kept as a file, not in sled; a store written
    /// before keeps its bytes in the `blobs` tree, read when there is no
    /// file; dropping a page's bytes removes them from both; a file
    /// damaged on disk is an error naming it.
    #[test]
    fn page_bytes_are_files_and_an_older_stores_tree_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let new = capture(
            "https://www.aliexpress.com/w/a.html",
            "<html>new</html>",
            "2026-01-01T00:00:00Z",
        );
        let old = capture(
            "https://www.aliexpress.com/w/b.html",
            "<html>old</html>",
            "2025-01-01T00:00:00Z",
        );
        store.put_page(&new).unwrap();
        store.flush().unwrap();
        let file = dir
            .path()
            .join("blobs")
            .join(&new.sha256[..2])
            .join(&new.sha256);
        assert_eq!(std::fs::read(&file).unwrap(), new.body);
        assert!(store.blobs.is_empty());
        // What an older knockoff wrote: the bytes in the tree.
        store.put_page(&old).unwrap();
        store.blob_files.remove(&old.sha256).unwrap();
        store
            .blobs
            .insert(old.sha256.as_bytes(), old.body.as_slice())
            .unwrap();
        for c in [&new, &old] {
            assert_eq!(store.blob(&c.sha256).unwrap(), Some(c.body.clone()));
            assert_eq!(store.blob_size(&c.sha256).unwrap(), c.body.len() as u64);
        }
        let at = "2026-06-01T00:00:00Z".parse().unwrap();
        for c in [&new, &old] {
            assert_eq!(
                store.drop_page_bytes(&c.sha256, at).unwrap(),
                c.body.len() as u64
            );
            assert_eq!(store.blob(&c.sha256).unwrap(), None);
        }
        assert!(!file.exists() && store.blobs.is_empty());
        store.put_page(&new).unwrap();
        std::fs::write(&file, "<html>NEW</html>").unwrap();
        let e = store.blob(&new.sha256).unwrap_err().to_string();
        assert!(
            e.contains(&file.display().to_string()) && e.contains("damaged"),
            "{e}"
        );
    }

    fn source(url: &str) -> Source {
        use sha2::Digest;
        Source {
            url: url.into(),
            sha256: hex::encode(sha2::Sha256::digest(url.as_bytes())),
            captured_at: now(),
        }
    }

    /// Issue 20: live listings are found by the pages they were read from
    /// and by their item page, in `live_on_page` alone (the pages each
    /// was read from, or its item page, were a million keys of sled's
    /// resident page table in a big brand's year, each in another tree).
    #[test]
    fn listings_are_found_by_their_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (p1, p2) = (
            "https://www.aliexpress.com/w/a.html?page=1",
            "https://www.aliexpress.com/w/a.html?page=10",
        );
        let one = listing("1", 2.0);
        store
            .record(&one, &[source(p1)], now(), &finding(&one))
            .unwrap();
        let two = listing("2", 2.0);
        store
            .record(&two, &[source(p2)], now(), &finding(&two))
            .unwrap();
        // Seen again on another page: both pages find it.
        store
            .record(&one, &[source(p2)], now(), &finding(&one))
            .unwrap();
        assert_eq!(store.live_keys_on_page(p1).unwrap(), ["aliexpress/1"]);
        assert_eq!(
            store.live_keys_on_page(p2).unwrap(),
            ["aliexpress/1", "aliexpress/2"]
        );
        assert_eq!(store.live_keys_on_page(&two.url).unwrap(), ["aliexpress/2"]);
        assert_eq!(store.live_keys_on_page(&one.url).unwrap(), ["aliexpress/1"]);
        assert!(store
            .live_keys_on_page("https://www.aliexpress.com/w/a.html")
            .unwrap()
            .is_empty());
        // Five entries: the pages each was read from, and its item page;
        // no other index of them.
        assert_eq!(store.live_on_page.len(), 5);
        assert!(!store.has_tree(ITEM_PAGES_TREE));
        assert!(!store.has_tree(LISTING_PAGES_TREE));
    }

    /// Issue 20: a listing is live on its pages from when it is recorded
    /// until it is settled (found gone), and live again when it is read
    /// again. A store written before
    /// `live_on_page` existed gets it from the listings on first open.
    #[test]
    fn live_listings_leave_their_pages_when_settled_and_come_back_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (
            "https://www.aliexpress.com/w/a.html?page=1",
            "https://www.aliexpress.com/w/a.html?page=2",
        );
        {
            let store = Store::open(dir.path()).unwrap();
            let (one, two) = (listing("1", 2.0), listing("2", 2.0));
            store
                .record(&one, &[source(p1)], now(), &finding(&one))
                .unwrap();
            let rec = store
                .record(&one, &[source(p2)], now(), &finding(&one))
                .unwrap();
            assert_eq!(rec.sources.len(), 2);
            store
                .record(&two, &[source(p1)], now(), &finding(&two))
                .unwrap();
            assert_eq!(
                store.live_keys_on_page(p1).unwrap(),
                ["aliexpress/1", "aliexpress/2"]
            );
            store.settle_listing(&rec).unwrap();
            // Gone from every page it was read from, and its item page.
            assert_eq!(store.live_keys_on_page(p1).unwrap(), ["aliexpress/2"]);
            assert!(store.live_keys_on_page(p2).unwrap().is_empty());
            assert!(store.live_keys_on_page(&one.url).unwrap().is_empty());
            // Settling twice is harmless; reading it again makes it live
            // on all its pages.
            store.settle_listing(&rec).unwrap();
            store
                .record(&one, &[source(p2)], now(), &finding(&one))
                .unwrap();
            assert_eq!(
                store.live_keys_on_page(p1).unwrap(),
                ["aliexpress/1", "aliexpress/2"]
            );
            assert_eq!(store.live_keys_on_page(p2).unwrap(), ["aliexpress/1"]);
            // What an older knockoff left: no `live_on_page`.
            store.live_on_page.clear().unwrap();
            store.db.remove(LIVE_ON_PAGE_BUILT_KEY).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.live_keys_on_page(p1).unwrap(),
            ["aliexpress/1", "aliexpress/2"]
        );
        assert_eq!(store.live_keys_on_page(p2).unwrap(), ["aliexpress/1"]);
        assert!(store.db.get(LIVE_ON_PAGE_BUILT_KEY).unwrap().is_some());
    }

    /// A store of schema `2` kept the findings in a tree of their own: on
    /// first open the store is rewritten with each in its listing's entry
    /// (the record, its tracking, the counts and every other tree
    /// unchanged), one that cannot move is kept aside in `corrupt`, named,
    /// the tree is gone, the schema is `3`, and nothing of the rewrite is
    /// left beside the store. A finding already in its entry is taken
    /// from the tree all the same.
    #[test]
    fn an_older_stores_findings_move_into_their_listings_entries() {
        let dir = tempfile::tempdir().unwrap();
        let (findings, records, counts) = {
            let store = Store::open(dir.path()).unwrap();
            let mut findings = recorded_findings(&store, 5);
            findings[1].verdict = crate::judge::signal::Verdict::Flag;
            store.put_finding(&findings[1]).unwrap();
            // The daemon's tracking, kept in the record.
            let v = store.listings.get("aliexpress/2").unwrap().unwrap();
            let mut rec: ListingRecord = serde_json::from_slice(&v).unwrap();
            rec.tracking = Some(serde_json::json!({"first_cycle": 1, "last_seen_cycle": 4}));
            let v = entry::with_record(&v, &rec).unwrap();
            store.listings.insert("aliexpress/2", v).unwrap();
            let records = store.listings().unwrap();
            let counts = store.verdict_counts().unwrap();
            // What a knockoff of schema 2 wrote: listings without their
            // findings, the findings in a tree of their own (aliexpress/0
            // in both, as an interrupted move leaves it).
            let old = store.db.open_tree(entry::FINDINGS_TREE).unwrap();
            for (k, v) in store.listings.iter().map(|i| i.unwrap()) {
                let f = entry::finding_json(&v).unwrap().unwrap().get().to_string();
                old.insert(&k, f.as_bytes()).unwrap();
                if k.as_ref() != b"aliexpress/0" {
                    let rec: ListingRecord = serde_json::from_slice(&v).unwrap();
                    store
                        .listings
                        .insert(&k, serde_json::to_vec(&rec).unwrap())
                        .unwrap();
                }
            }
            let mut orphan = findings[3].clone();
            orphan.listing_id = "9".into();
            old.insert("aliexpress/9", serde_json::to_vec(&orphan).unwrap())
                .unwrap();
            old.insert("aliexpress/8", &b"{not json"[..]).unwrap();
            store.db.insert("meta/schema", "2").unwrap();
            store.flush().unwrap();
            (findings, records, counts)
        };
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.has_tree(entry::FINDINGS_TREE));
        assert_eq!(store.db.get("meta/schema").unwrap().unwrap().as_ref(), b"3");
        for left in [rewrite::REWRITE_DIR, rewrite::REPLACED_DIR] {
            assert!(!dir.path().join(left).exists(), "{left}");
        }
        assert_eq!(store.page_count(), 0);
        assert!(store
            .db
            .get(verdicts::VERDICT_COUNTS_KEY)
            .unwrap()
            .is_some());
        assert_eq!(store.findings().unwrap(), findings);
        assert_eq!(store.listings().unwrap(), records);
        assert_eq!(store.verdict_counts().unwrap(), counts);
        assert!(records[2].tracking.is_some());
        let corrupt: Vec<String> = store
            .dump_tree("corrupt")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(corrupt, ["findings/aliexpress/8", "findings/aliexpress/9"]);
        assert!(store.skipped().is_empty(), "{:?}", store.skipped());
        // A decision and a rescan write the entry whole.
        let mut f = findings[4].clone();
        f.verdict = crate::judge::signal::Verdict::Review;
        store.put_finding(&f).unwrap();
        assert_eq!(store.finding("aliexpress/4").unwrap(), Some(f));
        assert_eq!(
            store.listing("aliexpress/4").unwrap().as_ref(),
            records.get(4)
        );
        let msg = store
            .put_finding(&orphan_of(&findings[0]))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("finding of aliexpress/77: its listing has no record"),
            "{msg}"
        );
    }

    /// A rewrite cut short between its renames is put in place on the
    /// next open; one cut short before them is dropped, the store kept.
    #[test]
    fn a_rewrite_cut_short_leaves_one_whole_store() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path();
        {
            let store = Store::open(data).unwrap();
            recorded_findings(&store, 3);
            store.flush().unwrap();
        }
        // Between the renames: the store aside, the rewrite not in place.
        std::fs::rename(data.join("store"), data.join(rewrite::REWRITE_DIR)).unwrap();
        std::fs::create_dir(data.join(rewrite::REPLACED_DIR)).unwrap();
        std::fs::write(data.join(rewrite::REPLACED_DIR).join("db"), b"old").unwrap();
        {
            let store = Store::open(data).unwrap();
            assert_eq!(store.findings().unwrap().len(), 3);
        }
        assert!(!data.join(rewrite::REPLACED_DIR).exists());
        assert!(!data.join(rewrite::REWRITE_DIR).exists());
        // Before the renames: a partial rewrite beside the store.
        std::fs::create_dir(data.join(rewrite::REWRITE_DIR)).unwrap();
        std::fs::write(data.join(rewrite::REWRITE_DIR).join("db"), b"partial").unwrap();
        let store = Store::open(data).unwrap();
        assert_eq!(store.findings().unwrap().len(), 3);
        assert!(!data.join(rewrite::REWRITE_DIR).exists());
    }

    fn orphan_of(f: &Finding) -> Finding {
        let mut f = f.clone();
        f.listing_id = "77".into();
        f
    }

    /// Issue 20: a store written before `page_urls` existed, with an
    /// index of listings by every page they were read from
    /// (`listing_pages`) or by item page (`item_pages`), gets `page_urls`
    /// on first open, answers as a new one, and loses the old indexes and
    /// their marks (so the knockoff that wrote one, opening the store
    /// again, builds it again instead of trusting an empty one).
    #[test]
    fn an_older_store_gets_its_page_index_on_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let page = "https://www.aliexpress.com/w/a.html?page=1";
        let (old, new) = (
            capture(page, "old", "2026-11-01T09:00:00Z"),
            capture(page, "new", "2026-11-02T09:00:00Z"),
        );
        let item = |id: &str| format!("https://www.aliexpress.com/item/{id}.html");
        // What an older knockoff leaves: an index of listings by page.
        let old_index = |store: &Store, name: &str, mark: &str, ids: &[&str]| {
            let tree = store.db.open_tree(name).unwrap();
            for id in ids {
                let l = listing(id, 2.0);
                tree.insert(page_entry(&l.url, &l.key()), &[][..]).unwrap();
                if name == LISTING_PAGES_TREE {
                    tree.insert(page_entry(page, &l.key()), &[][..]).unwrap();
                }
            }
            store.db.insert(mark, "1").unwrap();
            store.flush().unwrap();
        };
        let before = {
            let store = Store::open(dir.path()).unwrap();
            for id in ["1", "2", "3"] {
                let l = listing(id, 2.0);
                store
                    .record(&l, &[source(page)], now(), &finding(&l))
                    .unwrap();
            }
            store.put_page(&old).unwrap();
            store.put_page(&new).unwrap();
            old_index(
                &store,
                LISTING_PAGES_TREE,
                LISTING_PAGES_BUILT_KEY,
                &["1", "2", "3"],
            );
            old_index(
                &store,
                ITEM_PAGES_TREE,
                ITEM_PAGES_BUILT_KEY,
                &["1", "2", "3"],
            );
            store.page_urls.clear().unwrap();
            store.db.remove(PAGE_URLS_BUILT_KEY).unwrap();
            store.flush().unwrap();
            // Its pages by URL, read from `pages` alone.
            let before = store.pages_by_url().unwrap();
            assert_eq!(store.page_for_url(page).unwrap(), None);
            before
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.live_keys_on_page(&item("2")).unwrap(),
            ["aliexpress/2"]
        );
        for name in [LISTING_PAGES_TREE, ITEM_PAGES_TREE] {
            assert!(!store.has_tree(name), "{name}");
        }
        for mark in [LISTING_PAGES_BUILT_KEY, ITEM_PAGES_BUILT_KEY] {
            assert!(store.db.get(mark).unwrap().is_none(), "{mark}");
        }
        // The page the older store answered for each URL, now by URL too.
        let after = store.pages_by_url().unwrap();
        assert_eq!(after, before);
        assert_eq!(store.page_for_url(page).unwrap().as_ref(), after.get(page));
        assert!(store.db.get(PAGE_URLS_BUILT_KEY).unwrap().is_some());
        // An older knockoff opens it again, builds its index by item page
        // and records listing 4: the next open drops the index again, and
        // listing 4 is found by its item page.
        let four = listing("4", 2.0);
        store
            .record(&four, &[source(page)], now(), &finding(&four))
            .unwrap();
        old_index(
            &store,
            ITEM_PAGES_TREE,
            ITEM_PAGES_BUILT_KEY,
            &["1", "2", "3", "4"],
        );
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.has_tree(ITEM_PAGES_TREE));
        assert!(store.db.get(ITEM_PAGES_BUILT_KEY).unwrap().is_none());
        assert_eq!(
            store.live_keys_on_page(&four.url).unwrap(),
            ["aliexpress/4"]
        );
        assert_eq!(store.pages_by_url().unwrap(), before);
        drop(store);
        // Opened again: nothing left to build or drop, the same answers.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.pages_by_url().unwrap(), before);
        assert_eq!(store.live_keys_on_page(page).unwrap().len(), 4);
    }

    fn verdicts(store: &Store) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        store
            .for_each_verdict(|k, v| out.push((k.to_string(), v.as_str())))
            .unwrap();
        out
    }

    /// Issue 20: a listing read from the same two pages in 1,000 cycles,
    /// each capture's bytes different (as real pages' are), keeps the
    /// first and the latest capture of each page for each state it was
    /// seen in, not 1,000 sources: an unchanged listing's record stays the
    /// same size however long it is watched, and a price change keeps the
    /// last capture of the old price and the first of the new.
    #[test]
    fn a_listing_keeps_the_first_and_latest_capture_of_each_page() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let l = listing("1", 2.0);
        let f = finding(&l);
        let t0 = now();
        let source = |page: &str, cycle: i64| Source {
            url: format!("https://www.aliexpress.com/w/{page}.html"),
            sha256: format!("{page}-{cycle:04}"),
            captured_at: t0 + chrono::Duration::hours(6 * cycle),
        };
        let mut size_after = Vec::new();
        for cycle in 0..1_000i64 {
            let mut sources = vec![source("a", cycle)];
            if cycle % 3 == 0 {
                sources.push(source("b", cycle));
            }
            // Sightings arrive late as well as in order.
            if cycle == 500 {
                sources.push(source("a", -1));
            }
            store
                .record(&l, &sources, t0 + chrono::Duration::hours(6 * cycle), &f)
                .unwrap();
            if cycle == 10 || cycle == 999 {
                size_after.push(store.listings.get("aliexpress/1").unwrap().unwrap().len());
            }
        }
        let rec = store.listing("aliexpress/1").unwrap().unwrap();
        let mut kept: Vec<&str> = rec.sources.iter().map(|s| s.sha256.as_str()).collect();
        kept.sort();
        assert_eq!(kept, ["a--001", "a-0999", "b-0000", "b-0999"]);
        assert_eq!(size_after[0], size_after[1], "the record did not grow");
        assert_eq!(rec.first_seen, t0);

        // The price changes at cycle 1,000 and stays for 100 cycles.
        let cheaper = listing("1", 1.0);
        for cycle in 1_000..1_100i64 {
            store
                .record(
                    &cheaper,
                    &[source("a", cycle)],
                    t0 + chrono::Duration::hours(6 * cycle),
                    &f,
                )
                .unwrap();
        }
        let rec = store.listing("aliexpress/1").unwrap().unwrap();
        assert_eq!(rec.history.len(), 1);
        let mut kept: Vec<&str> = rec.sources.iter().map(|s| s.sha256.as_str()).collect();
        kept.sort();
        assert_eq!(
            kept,
            ["a--001", "a-0999", "a-1000", "a-1099", "b-0000", "b-0999"]
        );
    }

    /// A brief that does not read is skipped by the briefs' readers and
    /// named (logged, listed as skipped), yet still names its listing to
    /// those that must not lose a suspect (the daemon's count, retention,
    /// seller networks).
    #[test]
    fn an_unreadable_brief_still_names_its_suspect() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let l = listing("1", 2.0);
        let mut f = finding(&l);
        f.verdict = crate::judge::signal::Verdict::Review;
        store.record(&l, &[], now(), &f).unwrap();
        store
            .suspect_briefs
            .insert("aliexpress/1", &b"{\"verdict\":"[..])
            .unwrap();
        let mut briefs = Vec::new();
        store
            .for_each_suspect_brief(|k, _| briefs.push(k.to_string()))
            .unwrap();
        assert!(briefs.is_empty());
        let mut named = Vec::new();
        store
            .for_each_suspect(|k, b| named.push((k.to_string(), b.is_none())))
            .unwrap();
        assert_eq!(named, [("aliexpress/1".to_string(), true)]);
        let skipped = store.skipped();
        assert!(skipped
            .iter()
            .any(|r| r.tree == "suspect_briefs" && r.key == "aliexpress/1"));
    }

    /// Issue 20: a listing's verdict answers as its finding does (written
    /// by a scan and by an analyst's decision). A store written before the
    /// verdict counts kept a verdict per listing in `finding_verdicts`: on
    /// open, its counts are taken from that tree and the tree is dropped.
    #[test]
    fn verdicts_answer_from_the_findings_and_an_older_stores_verdict_tree_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let expected = [
            ("aliexpress/1".to_string(), "clear"),
            ("aliexpress/2".to_string(), "flag"),
            ("aliexpress/3".to_string(), "review"),
        ];
        {
            let store = Store::open(dir.path()).unwrap();
            for id in ["1", "2", "3"] {
                let l = listing(id, 2.0);
                store.record(&l, &[], now(), &finding(&l)).unwrap();
            }
            assert!(verdicts(&store).iter().all(|(_, v)| *v == "clear"));
            // A rescan flags 2; a decision puts 3 in review.
            let l = listing("2", 1.0);
            let mut f = finding(&l);
            f.verdict = crate::judge::signal::Verdict::Flag;
            store.record(&l, &[], now(), &f).unwrap();
            let mut f = store.finding("aliexpress/3").unwrap().unwrap();
            f.verdict = crate::judge::signal::Verdict::Review;
            store.put_finding(&f).unwrap();
            assert_eq!(verdicts(&store), expected);
            for (k, v) in &expected {
                assert_eq!(store.verdict(k).unwrap().map(|v| v.as_str()), Some(*v));
            }
            assert_eq!(store.verdict("aliexpress/9").unwrap(), None);
            // What an older knockoff left: a verdict per listing, marked
            // complete, and no counts. Its tree says 2 flags (the
            // findings say 1), so the counts show where they came from.
            let old = store.db.open_tree(FINDING_VERDICTS_TREE).unwrap();
            for (k, v) in [("1", "clear"), ("2", "flag"), ("3", "flag")] {
                old.insert(format!("aliexpress/{k}"), format!("\"{v}\"").as_bytes())
                    .unwrap();
            }
            store.db.insert(FINDING_VERDICTS_BUILT_KEY, "1").unwrap();
            store.db.remove(verdicts::VERDICT_COUNTS_KEY).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let names = store.db.tree_names();
        assert!(!names
            .iter()
            .any(|n| n.as_ref() == FINDING_VERDICTS_TREE.as_bytes()));
        assert!(store.db.get(FINDING_VERDICTS_BUILT_KEY).unwrap().is_none());
        let c = store.verdict_counts().unwrap();
        assert_eq!((c.flag, c.review, c.clear), (2, 0, 1));
        assert_eq!(verdicts(&store), expected);
        drop(store);
        // Opened again: nothing left to drop, the counts stay.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.verdict_counts().unwrap(), c);
    }

    /// The suspect briefs follow the findings (a flagged or review finding
    /// gets one, a cleared one loses it), and a store written before them
    /// gets them built on open, the same as those written.
    #[test]
    fn suspect_briefs_follow_the_findings_and_an_older_store_gets_them_on_open() {
        use crate::judge::signal::Verdict;
        fn briefs(store: &Store) -> Vec<(String, briefs::SuspectBrief)> {
            let mut out = Vec::new();
            store
                .for_each_suspect_brief(|k, b| out.push((k.to_string(), b)))
                .unwrap();
            out
        }
        let dir = tempfile::tempdir().unwrap();
        let expected;
        {
            let store = Store::open(dir.path()).unwrap();
            for (id, verdict) in [
                ("1", Verdict::Review),
                ("2", Verdict::Review),
                ("3", Verdict::Clear),
            ] {
                let l = listing(id, 2.0);
                let mut f = finding(&l);
                f.verdict = verdict;
                f.priority = 7;
                f.signals.push(crate::judge::signal::Signal {
                    kind: crate::judge::signal::SignalKind::Mark,
                    points: 30,
                    reason: "mark".into(),
                    evidence: serde_json::json!({"mark": "Aurora", "variant": "AURORA", "rule": "exact"}),
                });
                store.record(&l, &[], now(), &f).unwrap();
            }
            assert_eq!(briefs(&store).len(), 2);
            // A rescan flags 2 and clears 1; a decision puts 3 in review.
            let l = listing("2", 1.0);
            let mut f = finding(&l);
            f.verdict = Verdict::Flag;
            store.record(&l, &[], now(), &f).unwrap();
            let l = listing("1", 1.0);
            store.record(&l, &[], now(), &finding(&l)).unwrap();
            let mut f = store.finding("aliexpress/3").unwrap().unwrap();
            f.verdict = Verdict::Review;
            store.put_finding(&f).unwrap();
            expected = briefs(&store);
            let got: Vec<(&str, Verdict)> = expected
                .iter()
                .map(|(k, b)| (k.as_str(), b.verdict))
                .collect();
            assert_eq!(
                got,
                [
                    ("aliexpress/2", Verdict::Flag),
                    ("aliexpress/3", Verdict::Review)
                ]
            );
            let three = &expected[1].1;
            assert_eq!((three.priority, three.marks.len()), (7, 1));
            assert_eq!(three.marks[0].variant, "AURORA");
            // Seller links: those of the listing written with the finding,
            // and for a decision, those of the listing in the same entry
            // (a finding that was clear had no brief to take them from).
            assert_eq!(expected[0].1.links.as_deref(), Some(links_of("2")));
            assert_eq!(three.links.as_deref(), Some(links_of("3")));
            // A decision on a suspect keeps the links of its brief.
            let mut f = store.finding("aliexpress/2").unwrap().unwrap();
            f.verdict = Verdict::Review;
            store.put_finding(&f).unwrap();
            let two = &briefs(&store)[0].1;
            assert_eq!(
                (two.verdict, two.links.as_deref()),
                (Verdict::Review, Some(links_of("2")))
            );
            f.verdict = Verdict::Flag;
            store.put_finding(&f).unwrap();
            assert_eq!(briefs(&store), expected);
            // What an older knockoff left: no briefs beside the findings.
            store.suspect_briefs.clear().unwrap();
            store.db.remove(briefs::SUSPECT_BRIEFS_BUILT_KEY).unwrap();
            store.flush().unwrap();
            assert!(briefs(&store).is_empty());
        }
        let with_links = |mut b: Vec<(String, briefs::SuspectBrief)>| {
            b[1].1.links = Some(links_of("3").to_vec());
            b
        };
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(briefs(&store), with_links(expected.clone()));
            assert!(store
                .db
                .get(briefs::SUSPECT_BRIEFS_BUILT_KEY)
                .unwrap()
                .is_some());
            // What the knockoff before links left: briefs without them.
            for (k, mut b) in briefs(&store) {
                b.links = None;
                let json = serde_json::to_vec(&b).unwrap();
                store.suspect_briefs.insert(k.as_bytes(), json).unwrap();
            }
            store.db.remove(briefs::BRIEF_LINKS_KEY).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(briefs(&store), with_links(expected));
        assert_eq!(store.listing_reads(), 0);
    }

    /// The seller links a brief of `listing(id, _)` carries.
    fn links_of(id: &str) -> &'static [u64] {
        Box::leak(briefs::links_of(&listing(id, 1.0)).into_boxed_slice())
    }
    /// A damaged brief is skipped with an error naming its tree and key
    /// (an export lists it among its problems); the other briefs are read,
    /// and writing the finding again writes a good brief over it.
    #[test]
    fn a_damaged_suspect_brief_is_skipped_named_and_mended_on_the_next_write() {
        use crate::judge::signal::Verdict;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for id in ["1", "2"] {
            let l = listing(id, 2.0);
            let mut f = finding(&l);
            f.verdict = Verdict::Flag;
            store.record(&l, &[], now(), &f).unwrap();
        }
        store
            .suspect_briefs
            .insert("aliexpress/1", &b"{\"verdict\": 7"[..])
            .unwrap();
        let keys = |store: &Store| {
            let mut out = Vec::new();
            store
                .for_each_suspect_brief(|k, _| out.push(k.to_string()))
                .unwrap();
            out
        };
        assert_eq!(keys(&store), ["aliexpress/2"]);
        let skipped = store.skipped();
        assert_eq!(skipped.len(), 1);
        assert_eq!(
            (skipped[0].tree.as_str(), skipped[0].key.as_str()),
            ("suspect_briefs", "aliexpress/1")
        );
        let l = listing("1", 2.0);
        let mut f = finding(&l);
        f.verdict = Verdict::Flag;
        store.record(&l, &[], now(), &f).unwrap();
        assert_eq!(keys(&store), ["aliexpress/1", "aliexpress/2"]);
    }

    #[test]
    fn a_small_store_is_not_settled_and_a_pass_counts_its_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let l = listing("1", 2.0);
        store.record(&l, &[], now(), &finding(&l)).unwrap();
        let mut reads = 0;
        for _ in 0..(settle::SETTLE_AFTER_READS * 2 + 1) {
            store.settle_after(&mut reads).unwrap();
        }
        assert_eq!(reads, settle::SETTLE_AFTER_READS * 2 + 1);
        store.settle_cache().unwrap();
        // Under the size that pays for it: no tree made, nothing written.
        assert!(!store.has_tree(settle::SETTLE_TREE));
        assert_eq!(store.listing("aliexpress/1").unwrap().unwrap().listing, l);
    }
}
