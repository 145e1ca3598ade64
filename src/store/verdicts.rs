//! How many findings are flagged, in review and clear, kept in the store
//! beside the findings: written in the transaction of every finding whose
//! verdict changes, so the daemon's gauges read one record at open instead
//! of passing over a verdict per listing (a million in a big brand's year,
//! and the sled nodes that pass leaves in memory: ~80 MB at 1M listings,
//! BENCHMARKS.md "Stop 31"). A store written before the counts existed
//! gets them on first open from the verdicts it kept per listing (then
//! dropped, [`Store::open`]), or from one pass over the findings the first
//! time they are asked for, as the tracking counts are
//! ([`crate::file::tracking`]).

use super::Store;
use crate::judge::signal::Verdict;
use crate::model::error::Result;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

/// The key of the [`VerdictCounts`] in the default tree.
pub const VERDICT_COUNTS_KEY: &str = "meta/verdict_counts";

/// Findings by the verdict of each listing's latest finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictCounts {
    pub flag: u64,
    pub review: u64,
    pub clear: u64,
}

impl VerdictCounts {
    /// The count of one verdict.
    pub fn of(&self, v: Verdict) -> u64 {
        match v {
            Verdict::Flag => self.flag,
            Verdict::Review => self.review,
            Verdict::Clear => self.clear,
        }
    }

    /// Every finding counted.
    pub fn total(&self) -> u64 {
        self.flag + self.review + self.clear
    }

    fn slot(&mut self, v: Verdict) -> &mut u64 {
        match v {
            Verdict::Flag => &mut self.flag,
            Verdict::Review => &mut self.review,
            Verdict::Clear => &mut self.clear,
        }
    }

    /// The counts after one finding's verdict went from `before` (none:
    /// a new finding, or one whose stored verdict did not read) to `now`.
    pub fn moved(mut self, before: Option<Verdict>, now: Verdict) -> Self {
        if let Some(b) = before {
            let n = self.slot(b);
            *n = n.saturating_sub(1);
        }
        *self.slot(now) += 1;
        self
    }
}

/// Inside a finding's transaction: moves the kept counts (when they exist)
/// from the verdict of the finding stored before (`before`, read from the
/// value the write replaced; none when there was none, or it did not read:
/// counted nowhere) to `now`.
pub(super) fn keep_count<E>(
    meta: &TransactionalTree,
    before: Option<Verdict>,
    now: Verdict,
) -> std::result::Result<(), ConflictableTransactionError<E>> {
    if before == Some(now) {
        return Ok(());
    }
    let kept = meta
        .get(VERDICT_COUNTS_KEY)?
        .and_then(|v| serde_json::from_slice::<VerdictCounts>(&v).ok());
    if let Some(c) = kept {
        // A struct of three integers always serializes; were it not to,
        // the empty value would not read and the next open counts again.
        let json = serde_json::to_vec(&c.moved(before, now)).unwrap_or_default();
        meta.insert(VERDICT_COUNTS_KEY, json)?;
    }
    Ok(())
}

impl Store {
    /// How many findings are flagged, in review and clear: the counts kept
    /// with the findings, or for a store written before them (or whose
    /// counts do not read), a pass over the findings that then keeps them. The daemon asks at open, inside [`Store::take_changes`], so no
    /// write falls between that pass and the counts it keeps.
    pub fn verdict_counts(&self) -> Result<VerdictCounts> {
        let kept = self.db.get(VERDICT_COUNTS_KEY).map_err(|e| self.err(e))?;
        if let Some(c) = kept.and_then(|v| serde_json::from_slice::<VerdictCounts>(&v).ok()) {
            return Ok(c);
        }
        let mut c = VerdictCounts::default();
        self.for_each_verdict(|_, v| c = c.moved(None, v))?;
        let json = serde_json::to_vec(&c).map_err(|e| self.err(e))?;
        self.db
            .insert(VERDICT_COUNTS_KEY, json)
            .map_err(|e| self.err(e))?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::score::Finding;

    fn pass(store: &Store) -> VerdictCounts {
        let mut c = VerdictCounts::default();
        store.for_each_verdict(|_, v| *c.slot(v) += 1).unwrap();
        c
    }

    /// The kept counts follow every finding written (new, changed,
    /// unchanged, by a scan's record or by a decision) without a pass, and
    /// equal a pass over the verdicts; a store without them, or with
    /// damaged ones, gets them from a pass.
    #[test]
    fn verdict_counts_follow_the_findings_without_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // A new store keeps them from the start, at zero.
        assert!(store.db.get(VERDICT_COUNTS_KEY).unwrap().is_some());
        assert_eq!(store.verdict_counts().unwrap().total(), 0);
        // Written before the counts existed: none are kept yet.
        store.db.remove(VERDICT_COUNTS_KEY).unwrap();
        let findings = crate::store::tests::recorded_findings(&store, 6);
        assert_eq!(store.db.get(VERDICT_COUNTS_KEY).unwrap(), None);
        let first = store.verdict_counts().unwrap();
        assert_eq!(first, pass(&store));
        assert_eq!(first.total(), 6);
        assert!(store.db.get(VERDICT_COUNTS_KEY).unwrap().is_some());

        let verdicts = [Verdict::Flag, Verdict::Review, Verdict::Clear];
        for round in 0..4usize {
            for (i, f) in findings.iter().enumerate() {
                let mut f: Finding = f.clone();
                f.verdict = verdicts[(i + round) % 3];
                store.put_finding(&f).unwrap();
                // Unchanged verdict: the counts stay.
                store.put_finding(&f).unwrap();
            }
            let kept = store.verdict_counts().unwrap();
            assert_eq!(kept, pass(&store), "round {round}");
        }
        // More listings recorded by a scan move them too.
        crate::store::tests::recorded_findings(&store, 9);
        assert_eq!(store.verdict_counts().unwrap(), pass(&store));
        assert_eq!(store.verdict_counts().unwrap().total(), 9);

        // Damaged counts are counted again by a pass, and kept again.
        store
            .db
            .insert(VERDICT_COUNTS_KEY, &b"{\"flag\":"[..])
            .unwrap();
        assert_eq!(store.verdict_counts().unwrap(), pass(&store));
        let mut f = findings[0].clone();
        f.verdict = Verdict::Flag;
        store.put_finding(&f).unwrap();
        f.verdict = Verdict::Clear;
        store.put_finding(&f).unwrap();
        assert_eq!(store.verdict_counts().unwrap(), pass(&store));
    }
}
