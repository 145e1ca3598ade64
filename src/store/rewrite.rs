//! Rewriting a store into a fresh sled database: on the first open of a
//! store of schema `2` or before, with each finding moved into its
//! listing's entry ([`super::entry`]) and every other tree copied as it
//! is; and on demand (`knockoff compact`, [`super::Store::compact`]), to
//! give back the space of the old versions sled keeps in its file.
//!
//! Moving a million findings in place left the store bigger in memory
//! than before, not smaller (BENCHMARKS.md "Stop 41": 360 MiB over four
//! daemon cycles at 1M, against 255 before and 235 for a store written
//! in the new layout): sled keeps the page ids of the nodes a dropped tree
//! freed, each with its entry in the resident page table, and the nodes
//! rewritten in place carry chains of up to ten updates. A database
//! written afresh holds neither, and its file keeps only live data.
//!
//! The rewrite is written beside the store (`DATA/store.rewrite`), checked
//! (every tree holds as many keys as the one it copies), then put in the
//! store's place by two renames: `store` → `store.replaced`, then
//! `store.rewrite` → `store`; `store.replaced` is then removed.
//! [`finish_interrupted`] completes or discards a rewrite a crash cut
//! short, so the store is always one or the other, whole.

use super::{entry, ListingRecord};
use crate::model::error::{Error, Result};
use std::path::Path;

/// Keys copied a batch at a time. sled applies a batch at once, and a
/// batch of 10,000 listing entries (~1.2 KB each) held what it wrote in
/// its write buffers and nodes together: `knockoff compact` of a million
/// listings as a year of cycles wrote them peaked at 731 MiB with batches
/// of 10,000 and 506 with 1,000; of the same store compacted once, 838
/// with 10,000, 480 with 1,000, 478 with 300 and 509 with 100
/// (BENCHMARKS.md "Stop 42").
const REWRITE_BATCH: usize = 1_000;

/// Where the rewrite is written, beside `DATA/store`.
pub const REWRITE_DIR: &str = "store.rewrite";
/// Where the store rewritten goes between the two renames.
pub const REPLACED_DIR: &str = "store.replaced";

/// Completes a rewrite interrupted between its renames (the store moved
/// aside, the rewrite not yet in its place), and removes what an
/// interrupted rewrite left: a rewrite never put in place is written again
/// from the store, and a store replaced is no longer needed.
pub(super) fn finish_interrupted(data_dir: &Path) -> Result<()> {
    let store = data_dir.join("store");
    let rewrite = data_dir.join(REWRITE_DIR);
    let replaced = data_dir.join(REPLACED_DIR);
    if !store.exists() && rewrite.is_dir() && replaced.is_dir() {
        std::fs::rename(&rewrite, &store).map_err(|e| Error::io(&rewrite, e))?;
        tracing::info!(store = %store.display(), "put in place the rewrite of the store an interrupted run left");
    }
    if store.is_dir() {
        for leftover in [&rewrite, &replaced] {
            if leftover.is_dir() {
                std::fs::remove_dir_all(leftover).map_err(|e| Error::io(leftover, e))?;
            }
        }
    }
    Ok(())
}

/// Whether `db` keeps its findings in a tree of their own (schema `2` and
/// before).
pub(super) fn needed(db: &sled::Db) -> bool {
    db.tree_names()
        .iter()
        .any(|n| n.as_ref() == entry::FINDINGS_TREE.as_bytes())
}

/// Rewrites the store open as `db` at `DATA/store` (see the module) and
/// puts the rewrite in its place; `db` is closed. The caller opens the
/// store again. On an error the store is left as it was.
pub(super) fn rewrite(
    db: sled::Db,
    data_dir: &Path,
    open: impl Fn(&Path) -> std::result::Result<sled::Db, sled::Error>,
) -> Result<Copied> {
    let path = data_dir.join("store");
    let target = data_dir.join(REWRITE_DIR);
    let err = |e: &dyn std::fmt::Display| Error::Store {
        path: path.clone(),
        message: format!("rewriting into a fresh database: {e}"),
    };
    db.flush().map_err(|e| err(&e))?;
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    }
    let started = std::time::Instant::now();
    tracing::info!(
        store = %path.display(),
        "rewriting the store into a fresh database (schema {}{}): a minute or two for a \
         million listings",
        super::SCHEMA_VERSION,
        if needed(&db) { ", each finding in its listing's entry" } else { "" }
    );
    let copied = {
        let new = open(&target).map_err(|e| err(&e))?;
        let copied = copy(&db, &new).map_err(|e| err(&e))?;
        new.insert("meta/schema", super::SCHEMA_VERSION)
            .map_err(|e| err(&e))?;
        new.flush().map_err(|e| err(&e))?;
        copied
    };
    drop(db);
    let replaced = data_dir.join(REPLACED_DIR);
    std::fs::rename(&path, &replaced).map_err(|e| Error::io(&path, e))?;
    std::fs::rename(&target, &path).map_err(|e| Error::io(&target, e))?;
    std::fs::remove_dir_all(&replaced).map_err(|e| Error::io(&replaced, e))?;
    tracing::info!(
        store = %path.display(),
        findings = copied.moved,
        kept_aside = copied.kept_aside,
        keys = copied.keys,
        seconds = started.elapsed().as_secs_f64(),
        "rewrote the store into a fresh database"
    );
    Ok(copied)
}

/// What a rewrite copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Findings moved into their listings' entries (a store of schema
    /// `2` or before).
    pub moved: usize,
    /// Findings kept in `corrupt` instead (not JSON, or no readable
    /// listing record to go in).
    pub kept_aside: usize,
    /// Keys written in all.
    pub keys: usize,
}

/// Copies every tree of `old` into `new`, the findings into their
/// listings' entries, then checks each tree's count.
fn copy(old: &sled::Db, new: &sled::Db) -> std::result::Result<Copied, String> {
    let e = |e: sled::Error| e.to_string();
    let mut c = Copied::default();
    if !needed(old) {
        for name in old.tree_names() {
            let (from, to) = tree_pair(old, new, &name).map_err(e)?;
            let read = in_batches(&from, Some(&to), |_, v| Ok(Some(v.to_vec())))?;
            c.keys += checked(&to, read, &name)?;
        }
        return Ok(c);
    }
    let findings = old.open_tree(entry::FINDINGS_TREE).map_err(e)?;
    let mut aside = Vec::new();
    for name in old.tree_names() {
        if name.as_ref() == entry::FINDINGS_TREE.as_bytes() {
            continue;
        }
        let (from, to) = tree_pair(old, new, &name).map_err(e)?;
        let listings = name.as_ref() == b"listings";
        let read = in_batches(&from, Some(&to), |key, value| {
            if !listings {
                return Ok(Some(value.to_vec()));
            }
            let Some(f) = findings.get(key).map_err(e)? else {
                return Ok(Some(value.to_vec()));
            };
            match merged(value, &f) {
                Ok(v) => {
                    c.moved += 1;
                    Ok(Some(v))
                }
                Err(why) => {
                    aside.push((key.to_vec(), f.to_vec(), why));
                    Ok(Some(value.to_vec()))
                }
            }
        })?;
        c.keys += checked(&to, read, &name)?;
    }
    // Findings whose listing has no record.
    let listings = old.open_tree("listings").map_err(e)?;
    in_batches(&findings, None, |key, f| {
        if !listings.contains_key(key).map_err(e)? {
            aside.push((key.to_vec(), f.to_vec(), "its listing has no record".into()));
        }
        Ok(None)
    })?;
    let corrupt = new.open_tree("corrupt").map_err(e)?;
    for (key, f, why) in aside {
        let mut name = format!("{}/", entry::FINDINGS_TREE).into_bytes();
        name.extend_from_slice(&key);
        tracing::warn!(
            "finding {} kept in the `corrupt` tree, not moved into its listing's entry: {why}",
            String::from_utf8_lossy(&name)
        );
        corrupt.insert(name, f).map_err(e)?;
        c.kept_aside += 1;
        c.keys += 1;
    }
    Ok(c)
}

/// The tree `name` of `old` and of `new` (the default tree of each for
/// sled's own name of it).
fn tree_pair(
    old: &sled::Db,
    new: &sled::Db,
    name: &[u8],
) -> sled::Result<(sled::Tree, sled::Tree)> {
    if name == b"__sled__default" {
        return Ok(((**old).clone(), (**new).clone()));
    }
    Ok((old.open_tree(name)?, new.open_tree(name)?))
}

/// How many keys `to` holds, an error unless it is the `read` copied into
/// it.
fn checked(to: &sled::Tree, read: usize, name: &[u8]) -> std::result::Result<usize, String> {
    let written = in_batches(to, None, |_, _| Ok(None))?;
    if written != read {
        return Err(format!(
            "tree {}: {written} keys written of {read}",
            String::from_utf8_lossy(name)
        ));
    }
    Ok(written)
}

/// A listing's entry with its finding: an error saying why the finding
/// cannot go in.
fn merged(listing: &[u8], finding: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let rec = serde_json::from_slice::<ListingRecord>(listing)
        .map_err(|e| format!("its listing's record does not read ({e})"))?;
    entry::encode_json(&rec, finding).map_err(|e| format!("it does not read ({e})"))
}

/// Passes over `from` a batch at a time (each pass from the last key
/// read: sled keeps what one iterator walks until it ends), writing into
/// `to` what `each` returns for a key (nothing for `None`); how many keys
/// it read.
fn in_batches(
    from: &sled::Tree,
    to: Option<&sled::Tree>,
    mut each: impl FnMut(&[u8], &[u8]) -> std::result::Result<Option<Vec<u8>>, String>,
) -> std::result::Result<usize, String> {
    let mut after: Option<sled::IVec> = None;
    let mut read = 0usize;
    loop {
        let start = match after.take() {
            Some(k) => std::ops::Bound::Excluded(k),
            None => std::ops::Bound::Unbounded,
        };
        let batch: Vec<(sled::IVec, sled::IVec)> = from
            .range::<sled::IVec, _>((start, std::ops::Bound::Unbounded))
            .take(REWRITE_BATCH)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let Some((last, _)) = batch.last() else {
            return Ok(read);
        };
        after = Some(last.clone());
        read += batch.len();
        let mut out = sled::Batch::default();
        for (k, v) in &batch {
            if let Some(value) = each(k, v)? {
                out.insert(k.as_ref(), value);
            }
        }
        if let Some(to) = to {
            to.apply_batch(out).map_err(|e| e.to_string())?;
        }
    }
}
