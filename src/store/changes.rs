//! What was written to a store since it was last asked: the keys each
//! write touched and, where a figure derived from the store needs it, the
//! value before the first write. The daemon keeps its gauges from a count
//! taken once at open plus these changes, instead of reading all history
//! again after every cycle.
//!
//! Off unless [`crate::store::Store::keep_changes`] is called (the daemon
//! does; commands that only scan or export do not pay for it). Kept in
//! memory, never written: a restart counts again. Writers hold a shared
//! gate while they note a change and write it, and
//! [`crate::store::Store::take_changes`] holds it exclusively while its
//! reader reads the current values, so no write falls between the two.

use crate::judge::signal::Verdict;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

/// A listing as it was before its first write in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingBefore {
    /// A record was stored under the key (readable or not).
    pub existed: bool,
    /// Its finding's verdict, if it had a readable finding.
    pub verdict: Option<Verdict>,
}

/// A tracking record's flags before its first write in the window (`None`
/// when there was no record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrackingBefore {
    pub gone: bool,
    pub relisting: bool,
}

/// The writes since the window opened.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// Listing (and finding) keys written, with their state before.
    pub listings: HashMap<String, ListingBefore>,
    /// URLs a page was captured from.
    pub page_urls: HashSet<String>,
    /// Tracking keys written, with their flags before (`None`: new).
    pub tracking: HashMap<String, Option<TrackingBefore>>,
    /// Case ids written.
    pub cases: HashSet<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.listings.is_empty()
            && self.page_urls.is_empty()
            && self.tracking.is_empty()
            && self.cases.is_empty()
    }
}

/// The journal shared by every clone of a store handle.
#[derive(Default)]
pub(crate) struct Journal {
    gate: RwLock<()>,
    changes: Mutex<Option<Changes>>,
}

impl Journal {
    /// Held by a writer from noting its change until its write is done.
    pub(crate) fn writing(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn enabled(&self) -> bool {
        self.lock().is_some()
    }

    pub(crate) fn enable(&self) {
        let mut c = self.lock();
        if c.is_none() {
            *c = Some(Changes::default());
        }
    }

    /// Applies `f` to the open window, if changes are kept.
    pub(crate) fn note(&self, f: impl FnOnce(&mut Changes)) {
        if let Some(c) = self.lock().as_mut() {
            f(c);
        }
    }

    /// Closes the window and runs `read` on its changes with no write in
    /// between; `None` when changes are not kept.
    pub(crate) fn take<T>(&self, read: impl FnOnce(Changes) -> T) -> Option<T> {
        let _exclusive = self.gate.write().unwrap_or_else(|p| p.into_inner());
        let changes = {
            let mut c = self.lock();
            c.as_mut().map(std::mem::take)
        }?;
        Some(read(changes))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Changes>> {
        self.changes.lock().unwrap_or_else(|p| p.into_inner())
    }
}
