//! The case book: cases kept in the store, created from flagged findings'
//! drafts and moved through their states in sled transactions.
//!
//! Trees (values are JSON):
//!
//! | tree | key | value |
//! |---|---|---|
//! | `complaints` | `platform/right/listing` | [`ComplaintRecord`]: the id export uses too |
//! | `cases` | case id (`C-000001`) | [`Case`] with its history |
//!
//! The highest complaint number given is kept under
//! [`LAST_NUMBER_KEY`], written in the same transaction as the complaint
//! that takes it: numbering a case reads that key, not every complaint.
//!
//! A case has the id of its complaint, so the daemon, `knockoff cases`
//! and `knockoff export` name the same complaint the same way. Creating a
//! case is keyed by its complaint key and done in one transaction over both
//! trees: a rerun (after a crash, or the next cycle) finds it and adds
//! nothing. Times in the history are data times where the daemon moves a
//! case (the capture that proves it), and the user's `--at` (default: now)
//! where a person does.

use crate::file::cases::deadline::{deadline_for, Calendar, Deadline};
use crate::file::cases::ids::{
    complaint_id, complaint_key, last_number, last_number_value, ComplaintRecord, COMPLAINTS_TREE,
    LAST_NUMBER_KEY,
};
use crate::file::cases::state::{check_transition, CaseState, TransitionError};
use crate::judge::complaint::{Draft, ReasonCode};
use crate::judge::score::Finding;
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

/// The sled tree of cases.
pub const CASES_TREE: &str = "cases";

/// A captured page that proves something (a removal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Proof {
    pub url: String,
    pub status: u16,
    pub sha256: String,
    pub captured_at: DateTime<Utc>,
    /// For a page that answered 200: the platform's "item unavailable"
    /// notice that decided (a sentence, element or error URL; see
    /// `marketplaces::gone`). `None` for a 404/410.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Where the marker was found: `main content`, `title`, `redirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
    /// The URL that answered, when the request was redirected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
}

/// One move in a case's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Transition {
    pub at: DateTime<Utc>,
    /// `None` for the creation.
    pub from: Option<CaseState>,
    pub to: CaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `daemon` or `cli`.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
    /// The platform's complaint number given with this move (`--ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Links a case to the case of a listing taken down earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RelistingLink {
    /// The earlier case.
    pub case_id: String,
    /// The earlier listing (`platform/id`).
    pub listing: String,
    /// `photo` or `title`.
    pub by: String,
    pub detail: String,
}

/// One complaint followed through its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Case {
    pub id: String,
    pub number: u64,
    /// `platform/right/listing`.
    pub key: String,
    pub platform: Platform,
    pub right_id: String,
    pub reason_code: ReasonCode,
    pub listing_id: String,
    pub listing_url: String,
    pub title: String,
    #[serde(default)]
    pub seller: Option<String>,
    #[serde(default)]
    pub seller_id: Option<String>,
    pub state: CaseState,
    /// The rejection reason, when rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_reason: Option<String>,
    pub history: Vec<Transition>,
    /// When this case's listing relists one taken down before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relisting_of: Option<RelistingLink>,
    /// The export batches (`B-...`) this case went into, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<String>,
    /// The platform's complaint number, once submitted (`--ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipp_ref: Option<String>,
    /// The rejected case this one refiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refile_of: Option<String>,
    /// The case that refiles this one (after a rejection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refiled_as: Option<String>,
    /// Evidence added for a refile (files kept in the store, by SHA-256),
    /// carried in the complaint's bundle under `added/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added_evidence: Vec<AddedEvidence>,
}

/// A file added to a case by hand (`cases refile --evidence FILE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AddedEvidence {
    /// The file's name (no folders).
    pub name: String,
    pub sha256: String,
    pub added_at: DateTime<Utc>,
}

/// Longest chain of refiles followed (a loop in a damaged store ends).
const MAX_REFILES: usize = 64;

impl Case {
    /// The listing's store key (`platform/id`).
    pub fn listing_key(&self) -> String {
        crate::model::listing::listing_key(self.platform, &self.listing_id)
    }

    /// When the case entered its current state.
    pub fn since(&self) -> DateTime<Utc> {
        self.history.last().map(|t| t.at).unwrap_or_default()
    }

    /// The deadline the case runs under now, if any.
    pub fn deadline(&self, cal: &Calendar) -> Option<Deadline> {
        deadline_since(self.state, self.since(), cal)
    }

    /// When the case was first submitted.
    pub fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|t| t.to == CaseState::Submitted)
            .map(|t| t.at)
    }

    /// The case cut down to its figures: of its history only the
    /// transitions `keep` (by index and transition) keeps, each without
    /// reason, proof or reference, and none of its texts, batches or
    /// evidence. What the daemon's gauges and the export's store-front
    /// drafts keep of every case, in memory that stays small.
    pub fn cut_down(mut self, mut keep: impl FnMut(usize, &Transition) -> bool) -> Case {
        self.history = std::mem::take(&mut self.history)
            .into_iter()
            .enumerate()
            .filter(|(i, t)| keep(*i, t))
            .map(|(_, mut t)| {
                t.reason = None;
                t.proof = None;
                t.reference = None;
                t
            })
            .collect();
        self.title = String::new();
        self.listing_url = String::new();
        self.rejected_reason = None;
        self.relisting_of = None;
        self.batches = Vec::new();
        self.ipp_ref = None;
        self.added_evidence = Vec::new();
        self
    }

    /// True when the platform took the listing down at some point.
    pub fn was_taken_down(&self) -> bool {
        self.history.iter().any(|t| t.to == CaseState::Removed)
    }

    /// Taken down and not reinstated since: a listing new listings are
    /// compared with for relisting ([`stays_taken_down`]).
    pub fn stays_taken_down(&self) -> bool {
        stays_taken_down(self.was_taken_down(), self.state)
    }

    /// The proof of removal, if the daemon verified it.
    pub fn removal_proof(&self) -> Option<&Proof> {
        self.history
            .iter()
            .rev()
            .find(|t| t.to == CaseState::Removed)
            .and_then(|t| t.proof.as_ref())
    }

    /// What the daemon's gauges count of this case ([`CaseFacts`]).
    pub fn facts(&self) -> CaseFacts {
        let seller = crate::model::seller::seller_node(
            self.platform,
            self.seller.as_deref(),
            self.seller_id.as_deref(),
        );
        let reached = |s: CaseState| self.history.iter().any(|t| t.to == s);
        CaseFacts {
            id: self.id.as_str().into(),
            number: self.number,
            state: self.state,
            reason_code: self.reason_code,
            since: self.since(),
            submitted_at: self.submitted_at(),
            taken_down: self.was_taken_down(),
            counter_noticed: reached(CaseState::CounterNoticed),
            reinstated: reached(CaseState::Reinstated),
            seller: crate::model::seller::digest("seller", &seller),
            listing: crate::model::seller::digest("listing", &self.listing_key()),
        }
    }
}

/// A case reduced to the few figures the daemon's gauges and the
/// good-faith report count (state, deadline, first submission, takedown,
/// counter-notice, reinstatement, and digests of its seller and listing):
/// about a hundred bytes, against a whole case's kilobytes, so a daemon
/// keeps every case of a big brand's year in a few megabytes.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    pub id: Box<str>,
    pub number: u64,
    pub state: CaseState,
    pub reason_code: ReasonCode,
    /// When the case entered its current state ([`Case::since`]).
    pub since: DateTime<Utc>,
    /// [`Case::submitted_at`].
    pub submitted_at: Option<DateTime<Utc>>,
    /// [`Case::was_taken_down`].
    pub taken_down: bool,
    pub counter_noticed: bool,
    pub reinstated: bool,
    /// Digest of the seller's node name ([`crate::model::seller::seller_node`]).
    pub seller: u64,
    /// Digest of the listing's store key.
    pub listing: u64,
}

/// The rule of [`Case::stays_taken_down`] and [`CaseFacts::stays_taken_down`].
fn stays_taken_down(taken_down: bool, state: CaseState) -> bool {
    taken_down && state != CaseState::Reinstated
}

impl CaseFacts {
    /// [`Case::stays_taken_down`].
    pub fn stays_taken_down(&self) -> bool {
        stays_taken_down(self.taken_down, self.state)
    }

    /// The deadline the case runs under now, if any ([`Case::deadline`]).
    pub fn deadline(&self, cal: &Calendar) -> Option<Deadline> {
        deadline_since(self.state, self.since, cal)
    }
}

/// The deadline of a case in `state` since `since` (China's date).
fn deadline_since(state: CaseState, since: DateTime<Utc>, cal: &Calendar) -> Option<Deadline> {
    deadline_for(state, crate::file::cases::deadline::china_date(since), cal)
}

/// Why a case could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("no case {0} (see `knockoff cases list`)")]
    NotFound(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A hand-given time before the case's last change, or in the future.
    #[error("case {id}: {message}")]
    Time { id: String, message: String },
    #[error(transparent)]
    Store(#[from] Error),
}

/// The cases of a store.
pub struct CaseBook {
    store: Store,
    cases: sled::Tree,
    complaints: sled::Tree,
    /// The store's default tree, where [`LAST_NUMBER_KEY`] is.
    meta: sled::Tree,
}

impl CaseBook {
    pub fn open(store: &Store) -> Result<CaseBook> {
        let err = |e: sled::Error| Error::Other(format!("store tree {CASES_TREE}: {e}"));
        Ok(CaseBook {
            store: store.clone(),
            cases: store.db.open_tree(CASES_TREE).map_err(err)?,
            complaints: store.db.open_tree(COMPLAINTS_TREE).map_err(err)?,
            meta: (*store.db).clone(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Other(format!("store tree {CASES_TREE}: {e}"))
    }

    /// Every case, by number.
    pub fn all(&self) -> Result<Vec<Case>> {
        let mut out = Vec::new();
        self.for_each(|c| out.push(c))?;
        out.sort_by_key(|c| c.number);
        Ok(out)
    }

    /// Every case, one at a time, in id order, without keeping them.
    pub fn for_each(&self, mut f: impl FnMut(Case)) -> Result<()> {
        for item in self.cases.iter() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            self.store.count_case_reads(1);
            f(serde_json::from_slice::<Case>(&v)
                .map_err(|e| self.err(format!("record {}: {e}", String::from_utf8_lossy(&k))))?);
        }
        Ok(())
    }

    /// One case by id (`C-000001`, or just the number `1`).
    pub fn get(&self, id: &str) -> Result<Option<Case>> {
        let id = normalize_id(id);
        self.store.count_case_reads(1);
        match self.cases.get(id.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| self.err(format!("record {id}: {e}"))),
        }
    }

    /// The case of a complaint key, if any.
    pub fn by_key(&self, key: &str) -> Result<Option<Case>> {
        let Some(v) = self
            .complaints
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
        else {
            return Ok(None);
        };
        let rec: ComplaintRecord = serde_json::from_slice(&v).map_err(|e| self.err(e))?;
        self.get(&rec.id)
    }

    /// Opens the case of a flagged finding's complaint (its filing draft)
    /// when it has none yet; returns the new case. `at` is when the finding was made (its
    /// listing's capture time). Idempotent: keyed by complaint key.
    pub fn open_cases(
        &self,
        finding: &Finding,
        at: DateTime<Utc>,
        relisting_of: Option<&RelistingLink>,
        by: &str,
    ) -> Result<Vec<Case>> {
        let mut created = Vec::new();
        if let Some(d) = finding.filing_draft() {
            if let Some(case) = self.open_case(finding, d, at, relisting_of, by)? {
                created.push(case);
            }
        }
        Ok(created)
    }

    fn open_case(
        &self,
        f: &Finding,
        d: &Draft,
        at: DateTime<Utc>,
        relisting_of: Option<&RelistingLink>,
        by: &str,
    ) -> Result<Option<Case>> {
        let key = complaint_key(f.platform, &d.right_id, &f.listing_id);
        self.store.count_complaint_reads(1);
        if let Some(v) = self
            .complaints
            .get(key.as_bytes())
            .map_err(|e| self.err(e))?
        {
            let rec: ComplaintRecord = serde_json::from_slice(&v).map_err(|e| self.err(e))?;
            if self
                .cases
                .contains_key(rec.id.as_bytes())
                .map_err(|e| self.err(e))?
            {
                return Ok(None);
            }
        }
        // Numbers follow the highest given so far (export numbers the same
        // way), read again inside the transaction that takes the next one.
        let max = self.last_number()?;
        let case_for = |number: u64, id: String| Case {
            id,
            number,
            key: key.clone(),
            platform: f.platform,
            right_id: d.right_id.clone(),
            reason_code: d.reason_code,
            listing_id: f.listing_id.clone(),
            listing_url: d.listing_url.clone(),
            title: f.title.clone(),
            seller: f.seller.clone(),
            seller_id: f.seller_id.clone(),
            state: CaseState::Drafted,
            rejected_reason: None,
            history: vec![Transition {
                at,
                from: None,
                to: CaseState::Drafted,
                reason: Some(format!("flagged at score {}", f.score)),
                by: by.into(),
                proof: None,
                reference: None,
            }],
            relisting_of: relisting_of.cloned(),
            batches: Vec::new(),
            ipp_ref: None,
            refile_of: None,
            refiled_as: None,
            added_evidence: Vec::new(),
        };
        let journal = self.store.journal();
        let _writing = journal.writing();
        let result = (&self.complaints, &self.cases, &self.meta)
            .transaction(|(complaints, cases, meta)| {
                let rec = match complaints.get(key.as_bytes())? {
                    Some(v) => serde_json::from_slice::<ComplaintRecord>(&v)
                        .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?,
                    None => {
                        let number = next_number(meta, max)?;
                        let rec = ComplaintRecord {
                            id: complaint_id(number),
                            number,
                            platform: f.platform,
                            right_id: d.right_id.clone(),
                            listing_id: f.listing_id.clone(),
                        };
                        let bytes = serde_json::to_vec(&rec)
                            .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                        complaints.insert(key.as_bytes(), bytes)?;
                        rec
                    }
                };
                if cases.get(rec.id.as_bytes())?.is_some() {
                    return Ok(None);
                }
                let case = case_for(rec.number, rec.id.clone());
                let bytes = serde_json::to_vec(&case)
                    .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                cases.insert(rec.id.as_bytes(), bytes)?;
                Ok(Some(case))
            })
            .map_err(|e: TransactionError<String>| self.err(format!("{e:?}")))?;
        if let Some(case) = &result {
            journal.note(|c| {
                c.cases.insert(case.id.clone());
            });
        }
        Ok(result)
    }

    /// The highest complaint number given so far (see [`last_number`]).
    fn last_number(&self) -> Result<u64> {
        last_number(&self.meta, &self.complaints, &|n| {
            self.store.count_complaint_reads(n)
        })
        .map_err(|e| self.err(e))
    }

    /// Moves a case, checking the lifecycle, in one compare-and-swap: a
    /// concurrent change makes this fail instead of losing either.
    pub fn move_case(
        &self,
        id: &str,
        to: CaseState,
        at: DateTime<Utc>,
        reason: Option<&str>,
        by: &str,
        proof: Option<Proof>,
    ) -> std::result::Result<Case, MoveError> {
        self.move_checked(id, to, at, reason, by, proof, None, None)
    }

    /// Moves a case by hand (`knockoff cases move`, here or through the
    /// daemon): as [`CaseBook::move_case`], and the time given must be no
    /// earlier than the case's last change (a history stays in order) and
    /// not after `now` (nobody submits a complaint tomorrow). The check and
    /// the move read the same version of the case.
    #[allow(clippy::too_many_arguments)]
    pub fn move_case_by_hand(
        &self,
        id: &str,
        to: CaseState,
        at: DateTime<Utc>,
        reason: Option<&str>,
        by: &str,
        now: DateTime<Utc>,
        reference: Option<&str>,
    ) -> std::result::Result<Case, MoveError> {
        self.move_checked(id, to, at, reason, by, None, Some(now), reference)
    }

    #[allow(clippy::too_many_arguments)]
    fn move_checked(
        &self,
        id: &str,
        to: CaseState,
        at: DateTime<Utc>,
        reason: Option<&str>,
        by: &str,
        proof: Option<Proof>,
        now: Option<DateTime<Utc>>,
        reference: Option<&str>,
    ) -> std::result::Result<Case, MoveError> {
        let id = normalize_id(id);
        let old_bytes = self
            .cases
            .get(id.as_bytes())
            .map_err(|e| self.err(e))?
            .ok_or_else(|| MoveError::NotFound(id.clone()))?;
        let mut case: Case = serde_json::from_slice(&old_bytes).map_err(|e| self.err(e))?;
        check_transition(&case.id, case.state, to, reason)?;
        if let Some(now) = now {
            let time_error = |message: String| MoveError::Time {
                id: case.id.clone(),
                message,
            };
            if at > now {
                return Err(time_error(format!(
                    "the time given, {}, is in the future (now {})",
                    at.to_rfc3339(),
                    now.to_rfc3339()
                )));
            }
            if let Some(last) = case.history.last() {
                if at < last.at {
                    return Err(time_error(format!(
                        "the time given, {}, is before the case's last change ({}, to {})",
                        at.to_rfc3339(),
                        last.at.to_rfc3339(),
                        last.to.as_str()
                    )));
                }
            }
        }
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let reference = reference
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        if to == CaseState::Submitted && reference.is_some() {
            case.ipp_ref = reference.clone();
        }
        case.history.push(Transition {
            at,
            from: Some(case.state),
            to,
            reason: reason.clone(),
            by: by.to_string(),
            proof,
            reference,
        });
        if to == CaseState::Rejected {
            case.rejected_reason = reason;
        }
        case.state = to;
        let new_bytes = serde_json::to_vec(&case).map_err(|e| self.err(e))?;
        let journal = self.store.journal();
        let _writing = journal.writing();
        journal.note(|c| {
            c.cases.insert(id.clone());
        });
        self.cases
            .compare_and_swap(id.as_bytes(), Some(old_bytes), Some(new_bytes))
            .map_err(|e| self.err(e))?
            .map_err(|_| self.err(format!("case {id} changed while being moved; try again")))?;
        self.store.flush()?;
        Ok(case)
    }

    /// The case a complaint key stands for now: its case, or the refile of
    /// a rejected one, followed to the newest.
    pub fn current_by_key(&self, key: &str) -> Result<Option<Case>> {
        let Some(mut case) = self.by_key(key)? else {
            return Ok(None);
        };
        for _ in 0..MAX_REFILES {
            match case.refiled_as.as_deref().map(|id| self.get(id)) {
                Some(Ok(Some(next))) => case = next,
                Some(Err(e)) => return Err(e),
                _ => break,
            }
        }
        Ok(Some(case))
    }

    /// Refiles a rejected case with added evidence: a new case (`drafted`,
    /// new complaint id) for the same listing and right, linked both ways
    /// to the old one, which stays `rejected`. The evidence files' bytes go
    /// into the store. One transaction: nothing half-done on a crash.
    pub fn refile(
        &self,
        id: &str,
        at: DateTime<Utc>,
        reason: &str,
        evidence: &[(String, Vec<u8>)],
    ) -> std::result::Result<Case, MoveError> {
        let id = normalize_id(id);
        let old = self
            .get(&id)?
            .ok_or_else(|| MoveError::NotFound(id.clone()))?;
        let time = |message: String| MoveError::Time {
            id: old.id.clone(),
            message,
        };
        if old.state != CaseState::Rejected {
            return Err(time(format!(
                "only a rejected case is refiled; this one is {}",
                old.state
            )));
        }
        if let Some(next) = &old.refiled_as {
            return Err(time(format!("already refiled as {next}")));
        }
        if reason.trim().is_empty() {
            return Err(time(
                "a refile needs --reason (what the new evidence shows)".into(),
            ));
        }
        if old.history.last().is_some_and(|t| at < t.at) {
            return Err(time(format!(
                "the time given, {}, is before the rejection",
                at.to_rfc3339()
            )));
        }
        let mut added = Vec::new();
        for (name, bytes) in evidence {
            let sha256 = crate::fetch::sha256_hex(bytes);
            self.store.put_blob(&sha256, bytes)?;
            added.push(AddedEvidence {
                name: name.clone(),
                sha256,
                added_at: at,
            });
        }
        let depth = {
            let mut n = 1;
            let mut cur = old.refile_of.clone();
            while let Some(prev) = cur {
                n += 1;
                if n > MAX_REFILES {
                    break;
                }
                cur = self.get(&prev)?.and_then(|c| c.refile_of);
            }
            n
        };
        let key = format!(
            "{}#refile{depth}",
            old.key.split('#').next().unwrap_or(&old.key)
        );
        let max = self.last_number()?;
        let old_bytes = serde_json::to_vec(&old).map_err(|e| self.err(e))?;
        let journal = self.store.journal();
        let writing = journal.writing();
        let result = (&self.complaints, &self.cases, &self.meta)
            .transaction(|(complaints, cases, meta)| {
                if cases.get(old.id.as_bytes())?.as_deref() != Some(old_bytes.as_slice()) {
                    return Err(ConflictableTransactionError::Abort(format!(
                        "case {} changed while being refiled; try again",
                        old.id
                    )));
                }
                let number = next_number(meta, max)?;
                let rec = ComplaintRecord {
                    id: complaint_id(number),
                    number,
                    platform: old.platform,
                    right_id: old.right_id.clone(),
                    listing_id: old.listing_id.clone(),
                };
                let bytes = serde_json::to_vec(&rec)
                    .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                complaints.insert(key.as_bytes(), bytes)?;
                let new = Case {
                    id: rec.id.clone(),
                    number: rec.number,
                    key: key.clone(),
                    state: CaseState::Drafted,
                    rejected_reason: None,
                    history: vec![Transition {
                        at,
                        from: None,
                        to: CaseState::Drafted,
                        reason: Some(format!(
                            "refile of {} (rejected: {}): {}",
                            old.id,
                            old.rejected_reason.as_deref().unwrap_or("no reason given"),
                            reason.trim()
                        )),
                        by: "cli".into(),
                        proof: None,
                        reference: None,
                    }],
                    batches: Vec::new(),
                    ipp_ref: None,
                    refile_of: Some(old.id.clone()),
                    refiled_as: None,
                    added_evidence: added.clone(),
                    ..old.clone()
                };
                let mut linked = old.clone();
                linked.refiled_as = Some(new.id.clone());
                let enc = |c: &Case| {
                    serde_json::to_vec(c)
                        .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))
                };
                cases.insert(new.id.as_bytes(), enc(&new)?)?;
                cases.insert(linked.id.as_bytes(), enc(&linked)?)?;
                Ok(new)
            })
            .map_err(|e: TransactionError<String>| self.err(format!("{e:?}")))?;
        journal.note(|c| {
            c.cases.insert(result.id.clone());
            c.cases.insert(old.id.clone());
        });
        drop(writing);
        self.store.flush()?;
        Ok(result)
    }

    /// Writes a case as it is (noted in the store's changes).
    fn put_case(&self, case: &Case) -> Result<()> {
        let bytes = serde_json::to_vec(case).map_err(|e| self.err(e))?;
        let journal = self.store.journal();
        let _writing = journal.writing();
        journal.note(|c| {
            c.cases.insert(case.id.clone());
        });
        self.cases
            .insert(case.id.as_bytes(), bytes)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records that a case went into an export batch (idempotent).
    pub fn record_batch(&self, id: &str, batch: &str) -> Result<()> {
        let Some(mut case) = self.get(id)? else {
            return Ok(());
        };
        if case.batches.iter().any(|b| b == batch) {
            return Ok(());
        }
        case.batches.push(batch.to_string());
        self.put_case(&case)
    }

    /// The cases that went into a batch, by number.
    pub fn in_batch(&self, batch: &str) -> Result<Vec<Case>> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|c| {
                c.batches
                    .iter()
                    .any(|b| b.eq_ignore_ascii_case(batch.trim()))
            })
            .collect())
    }

    /// Links a case to the earlier case its listing relists (idempotent).
    pub fn set_relisting(&self, id: &str, link: &RelistingLink) -> Result<()> {
        let Some(mut case) = self.get(id)? else {
            return Ok(());
        };
        if case.relisting_of.as_ref() == Some(link) {
            return Ok(());
        }
        case.relisting_of = Some(link.clone());
        self.put_case(&case)
    }
}

/// Takes the next complaint number inside a transaction: one past the
/// highest of `last` (read before it, by [`last_number`]) and the stored
/// counter as the transaction sees it, which it then sets.
pub(crate) fn next_number(
    meta: &sled::transaction::TransactionalTree,
    last: u64,
) -> std::result::Result<u64, ConflictableTransactionError<String>> {
    let stored = meta
        .get(LAST_NUMBER_KEY)?
        .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let number = last.max(stored) + 1;
    meta.insert(LAST_NUMBER_KEY, last_number_value(number))?;
    Ok(number)
}

/// `1`, `C-1`, `c-000001` → `C-000001`.
pub fn normalize_id(id: &str) -> String {
    let t = id.trim();
    let digits = t
        .strip_prefix("C-")
        .or_else(|| t.strip_prefix("c-"))
        .unwrap_or(t);
    match digits.parse::<u64>() {
        Ok(n) => complaint_id(n),
        Err(_) => t.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A flagged finding of listing `n` with one trademark draft.
    pub(crate) fn flagged(n: u64) -> Finding {
        let url = format!("https://item.taobao.com/item.htm?id={n}");
        serde_json::from_value(serde_json::json!({
            "platform": "taobao", "listing_id": n.to_string(), "url": url,
            "title": format!("AURORA cup {n}"), "seller": "Shop", "price": null,
            "score": 90, "verdict": "flag", "reasons": [], "signals": [],
            "drafts": [{
                "platform": "taobao", "complaint_type": "product listing",
                "right_id": "cn-tm", "right_kind": "trademark",
                "registration_number": "1", "jurisdiction": "CN",
                "reason_code": "trademark_counterfeit", "listing_url": url,
                "reason_en": "r", "reason_zh": "r"
            }],
            "source_urls": []
        }))
        .unwrap()
    }

    pub(crate) fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
    }

    fn open(book: &CaseBook, n: u64) -> Case {
        let mut opened = book.open_cases(&flagged(n), at(), None, "test").unwrap();
        assert_eq!(opened.len(), 1, "listing {n}");
        opened.remove(0)
    }

    /// Complaint records read while opening the case of listing `n`.
    fn reads_to_open(store: &Store, n: u64) -> (Case, u64) {
        let book = CaseBook::open(store).unwrap();
        let before = store.complaint_reads();
        let case = open(&book, n);
        (case, store.complaint_reads() - before)
    }

    /// Issue 20: numbering a case reads the stored counter, not every
    /// complaint: opening one reads one complaint record (its own key)
    /// with 10 complaints or 400 in the store.
    #[test]
    fn opening_a_case_reads_one_complaint_record_however_many_exist() {
        for existing in [10u64, 400] {
            let tmp = tempfile::tempdir().unwrap();
            {
                let store = Store::open(tmp.path()).unwrap();
                let book = CaseBook::open(&store).unwrap();
                for n in 1..=existing {
                    assert_eq!(open(&book, n).number, n);
                }
            }
            let store = Store::open(tmp.path()).unwrap();
            let (case, reads) = reads_to_open(&store, existing + 1);
            assert_eq!(case.number, existing + 1);
            assert_eq!(case.id, complaint_id(existing + 1));
            assert_eq!(reads, 1, "with {existing} complaints");
            // Opening it again adds nothing and reads no more.
            let book = CaseBook::open(&store).unwrap();
            let before = store.complaint_reads();
            assert!(book
                .open_cases(&flagged(existing + 1), at(), None, "test")
                .unwrap()
                .is_empty());
            assert_eq!(store.complaint_reads() - before, 1);
        }
    }

    /// A store written before the counter existed (complaint records, no
    /// `meta/complaint_number`), with a number given that no case has (an
    /// export's): the first case opened scans the complaints once and takes
    /// the number after the highest, the next ones read the counter; no
    /// number is given twice, refiles included.
    #[test]
    fn a_store_without_the_counter_is_scanned_once_and_no_number_is_reused() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let store = Store::open(tmp.path()).unwrap();
            let book = CaseBook::open(&store).unwrap();
            for n in 1..=30 {
                open(&book, n);
            }
            // An export's complaint without a case, numbered 45.
            let rec = ComplaintRecord {
                id: complaint_id(45),
                number: 45,
                platform: Platform::Taobao,
                right_id: "cn-tm".into(),
                listing_id: "9999".into(),
            };
            book.complaints
                .insert(
                    complaint_key(Platform::Taobao, "cn-tm", "9999"),
                    serde_json::to_vec(&rec).unwrap(),
                )
                .unwrap();
            // As an older knockoff left it: no counter.
            store.db.remove(LAST_NUMBER_KEY).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(tmp.path()).unwrap();
        let (case, reads) = reads_to_open(&store, 100);
        assert_eq!(case.number, 46);
        assert_eq!(reads, 1 + 31, "its own key, then every complaint once");
        let (case, reads) = reads_to_open(&store, 101);
        assert_eq!(case.number, 47);
        assert_eq!(reads, 1);
        assert_eq!(
            store.db.get(LAST_NUMBER_KEY).unwrap().as_deref(),
            Some(&b"47"[..])
        );

        // A refile takes the next number too.
        let book = CaseBook::open(&store).unwrap();
        for to in [CaseState::Approved, CaseState::Submitted] {
            book.move_case("C-000046", to, at(), None, "test", None)
                .unwrap();
        }
        book.move_case(
            "C-000046",
            CaseState::Rejected,
            at(),
            Some("no proof"),
            "test",
            None,
        )
        .unwrap();
        let refiled = book.refile("C-000046", at(), "photo added", &[]).unwrap();
        assert_eq!(refiled.number, 48);
        assert_eq!(open(&book, 102).number, 49);

        // Every number given once.
        let mut numbers: Vec<u64> = book
            .complaints
            .iter()
            .values()
            .map(|v| {
                serde_json::from_slice::<ComplaintRecord>(&v.unwrap())
                    .unwrap()
                    .number
            })
            .collect();
        numbers.sort_unstable();
        let before = numbers.len();
        numbers.dedup();
        assert_eq!(numbers.len(), before, "{numbers:?}");
        assert_eq!(numbers.last(), Some(&49));
    }

    /// A counter that does not read as a number is not trusted: the
    /// complaints are scanned, as for a store without one.
    #[test]
    fn an_unreadable_counter_falls_back_to_the_scan() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let book = CaseBook::open(&store).unwrap();
        for n in 1..=5 {
            open(&book, n);
        }
        store.db.insert(LAST_NUMBER_KEY, "not a number").unwrap();
        assert_eq!(open(&book, 6).number, 6);
        assert_eq!(open(&book, 7).number, 7);
    }
}
