//! Export: complaints with stable ids, IPP batches, CSV/JSON, an offline
//! HTML report, and one evidence bundle per complaint with a SHA-256
//! manifest that [`verify`] checks later.
//!
//! Layout of an export folder (everything from the data folder alone):
//!
//! ```text
//! manifest.json            SHA-256 of every file below (not of itself)
//! manifest-sha256.txt      the same, for `sha256sum -c manifest-sha256.txt`
//! complaints.json|.csv     every complaint, by id
//! needs_right.json         flagged findings no right can carry, rule by rule
//! report.html              summary, then each complaint (opens offline)
//! batches/<platform>_<right>_<reason>_<nnn>.txt
//!                          ≤ 300 listing URLs, one per line, then the reason
//! evidence/<id>_<platform>_<listing>/
//!     manifest.json manifest-sha256.txt complaint.json listing.json score.json captures.json
//!     comparisons.json comparison-NN.png pages/ photos/ official/ warc/
//! ```
//!
//! Complaint ids live in the store's `complaints` tree, keyed
//! `platform/right/listing`: a re-export keeps every id and numbers only new
//! complaints, after the highest number given so far, in key order. The
//! export writes no clock time anywhere (capture times are data), orders
//! everything, and encodes images with fixed settings, so two exports of
//! the same data are byte-for-byte identical. Every name taken from a page
//! goes through [`names`], so nothing can be written outside the folder.

pub mod compare;
pub mod manifest;
pub mod names;
pub(crate) mod report;
pub mod screenshot;
pub mod warcfind;

pub use manifest::{verify, VerifyReport};

use crate::fetch::progress::Bars;
use crate::file::cases::book::{Case, CaseBook};
use crate::judge::complaint::Draft;
use crate::judge::score::{Finding, Verdict};
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::model::watchlist::{RightKind, WatchlistFile};
use crate::store::briefs::{mark_spellings, MarkSpelling, SuspectBrief};
use crate::store::{ListingRecord, OfficialPhoto, Store};
use names::{extension, safe_component, safe_join, url_stem};
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use warcfind::WarcIndex;

pub use crate::file::cases::ids::{complaint_id, complaint_key, ComplaintRecord, COMPLAINTS_TREE};

/// Most rows of `needs_review.csv` (and of the report's review section):
/// the review listings of highest priority. A big brand's history holds
/// hundreds of thousands of review listings, more than a file (or an
/// analyst) takes at once; the desk has them all.
pub const MAX_REVIEW_ROWS: usize = 5_000;

/// Most listing URLs one IPP complaint takes.
pub const MAX_URLS_PER_BATCH: usize = 300;

/// Files the export writes at the top of its folder.
const TOP_FILES: &[&str] = &[
    manifest::MANIFEST_FILE,
    manifest::SHA256SUM_FILE,
    "complaints.json",
    "complaints.csv",
    "needs_right.json",
    "needs_review.csv",
    "held.json",
    "keyword_blocking.csv",
    "storefront.json",
    "report.html",
];
const TOP_DIRS: &[&str] = &["batches", "evidence", "review"];

/// Where else to look for WARC files of live crawls.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Folders searched (recursively) for `*.warc.gz`, besides the data
    /// folder: the recordings live crawls wrote.
    pub warc_dirs: Vec<PathBuf>,
    /// Batch cases already filed (submitted or later) too.
    pub include_filed: bool,
    /// Render each captured page to a dated PNG with Chromium (scripts and
    /// network off), when one is on the machine.
    pub screenshots: bool,
    /// Progress of the batches and evidence bundles written (hidden by
    /// default; the CLI draws it on a terminal).
    pub progress: Bars,
}

/// One complaint as exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Complaint {
    pub id: String,
    /// The state of its case when exported (`drafted`, `approved`).
    pub case_state: String,
    /// When the listing was last captured (UTC, RFC 3339).
    pub captured_at: String,
    /// The rejected complaint this one refiles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refile_of: Option<String>,
    /// Files added for the refile (in the bundle under `added/`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_evidence: Vec<crate::file::cases::book::AddedEvidence>,
    pub number: u64,
    pub platform: Platform,
    pub listing_id: String,
    pub listing_url: String,
    pub title: String,
    pub seller: Option<String>,
    pub price: Option<String>,
    pub score: u32,
    pub right_id: String,
    pub right_kind: RightKind,
    pub jurisdiction: String,
    pub registration_number: String,
    pub complaint_type: String,
    pub reason_code: crate::judge::complaint::ReasonCode,
    /// The reason as IPP's form lists it.
    pub reason_label: String,
    /// This listing's own line: the facts the batch reason leaves to the
    /// per-URL table (English, Chinese).
    pub details_en: String,
    pub details_zh: String,
    pub facts: crate::judge::complaint::ListingFacts,
    /// Other rights that would also carry it: named, not filed.
    pub alternatives: Vec<crate::judge::complaint::Alternative>,
    pub attachments: Vec<String>,
    /// Batch file, relative to the export folder.
    pub batch: String,
    /// Evidence bundle folder, relative to the export folder.
    pub evidence_dir: String,
}

/// One batch file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// `B-` and 10 hex digits of the SHA-256 of the batch's file name and
    /// complaint ids: the same batch has the same id in every export, and
    /// `knockoff cases move --batch` names it.
    pub id: String,
    pub file: String,
    /// Its per-URL table (CSV), relative to the export folder.
    pub table: String,
    pub platform: Platform,
    pub right_id: String,
    pub reason_code: crate::judge::complaint::ReasonCode,
    pub reason_label: String,
    /// The batch reason, true of every URL in it.
    pub reason_en: String,
    pub reason_zh: String,
    pub urls: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExportSummary {
    pub out_dir: PathBuf,
    pub complaints: usize,
    /// Complaints numbered by this export (the rest kept their ids).
    pub new_complaints: usize,
    pub batches: Vec<BatchSummary>,
    pub bundles: usize,
    /// Flagged findings with no right that can carry a complaint.
    pub needs_right: usize,
    /// Listings whose score asks for an analyst's decision.
    pub needs_review: usize,
    /// Of those, the ones left out of `needs_review.csv` and the report
    /// (past the first [`MAX_REVIEW_ROWS`] by priority).
    pub needs_review_left_out: usize,
    /// Complaints held because their right is not approved by IPP yet.
    pub held: usize,
    /// Store-front complaint drafts (sellers with 3 or more takedowns).
    pub storefront: usize,
    /// Cases left out because they are filed already (id, state); see
    /// `--include-filed`.
    pub already_filed: Vec<(String, String)>,
    /// Cases opened by this export (flagged listings stored by a scan
    /// that opened none).
    pub cases_opened: usize,
    /// Rights and authorizations ending within 60 days (or ended), as
    /// warnings; shown, not written into the export.
    pub expiring: Vec<String>,
    /// WARC captures copied into bundles, and WARC files read.
    pub warc_captures: usize,
    pub warc_files: usize,
    /// Files listed in the top manifest.
    pub files: usize,
    /// Evidence that could not be included, with why.
    pub problems: Vec<String>,
}

impl fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.batches {
            writeln!(
                f,
                "batch {:<60} {:>4} URL{}",
                b.file,
                b.urls,
                if b.urls == 1 { "" } else { "s" }
            )?;
        }
        for p in &self.problems {
            writeln!(f, "warning: {p}")?;
        }
        for e in &self.expiring {
            writeln!(f, "WARNING: {e}")?;
        }
        if self.storefront > 0 {
            writeln!(
                f,
                "store front: {} draft{} against repeat offenders (storefront.json)",
                self.storefront,
                if self.storefront == 1 { "" } else { "s" }
            )?;
        }
        if self.held > 0 {
            writeln!(
                f,
                "held: {} complaint{} on rights IPP has not approved yet (held.json)",
                self.held,
                if self.held == 1 { "" } else { "s" }
            )?;
        }
        if !self.already_filed.is_empty() {
            // Named up to a screenful: a big brand's history has tens of
            // thousands of filed cases (`knockoff cases list` has them).
            const NAMED: usize = 20;
            let mut ids: Vec<String> = self
                .already_filed
                .iter()
                .take(NAMED)
                .map(|(id, state)| format!("{id} ({state})"))
                .collect();
            if self.already_filed.len() > NAMED {
                ids.push(format!(
                    "and {} more (knockoff cases list)",
                    self.already_filed.len() - NAMED
                ));
            }
            writeln!(
                f,
                "not batched, filed already: {} (--include-filed batches them again)",
                ids.join(", ")
            )?;
        }
        if self.needs_review_left_out > 0 {
            writeln!(
                f,
                "needs_review.csv lists the {} review listings of highest priority; {} more are in the desk (`knockoff desk`)",
                self.needs_review - self.needs_review_left_out,
                self.needs_review_left_out
            )?;
        }
        write!(
            f,
            "exported {} complaint{} ({} new) in {} batch{}, {} evidence bundle{}, {} needs_right, {} needs_review; {} WARC capture{} from {} WARC file{}; {} files in {}",
            self.complaints,
            if self.complaints == 1 { "" } else { "s" },
            self.new_complaints,
            self.batches.len(),
            if self.batches.len() == 1 { "" } else { "es" },
            self.bundles,
            if self.bundles == 1 { "" } else { "s" },
            self.needs_right,
            self.needs_review,
            self.warc_captures,
            if self.warc_captures == 1 { "" } else { "s" },
            self.warc_files,
            if self.warc_files == 1 { "" } else { "s" },
            self.files,
            self.out_dir.join(manifest::MANIFEST_FILE).display()
        )
    }
}

/// Exports every flagged finding's drafts from `data_dir` into `out_dir`
/// (empty, new, or a previous export, which is replaced).
pub fn export(data_dir: &Path, out_dir: &Path) -> Result<ExportSummary> {
    export_with(data_dir, out_dir, &ExportOptions::default())
}

/// [`export`] with options: cases chosen, complaints numbered and batched,
/// then batches, evidence bundles and reports written, each by its own
/// function below.
pub fn export_with(data_dir: &Path, out_dir: &Path, opts: &ExportOptions) -> Result<ExportSummary> {
    let store = Store::open_existing(data_dir)?;
    export_store(&store, data_dir, out_dir, opts)
}

/// [`export_with`] over a store already open (`data_dir` is its data
/// folder, searched for WARC files): what it reads shows in the store's
/// read counters ([`Store::finding_reads`], [`Store::listing_reads`],
/// [`Store::case_reads`]).
///
/// It reads what it files, not the history: the brief of every flagged
/// and review listing (a few dozen bytes each, from `suspect_briefs`;
/// clear listings are never visited), then the finding, complaint record
/// and current case of each flagged listing (one at a time; a finding
/// whose case is filed already is dropped at once), the findings of the
/// review listings it lists, and the case book one case at a time for
/// `storefront.json` (keeping only the cases taken down, cut down). Pages
/// are looked up by URL.
pub fn export_store(
    store: &Store,
    data_dir: &Path,
    out_dir: &Path,
    opts: &ExportOptions,
) -> Result<ExportSummary> {
    let store = store.clone();
    let mut phase = Phase::start();
    let suspects = suspects(&store, MAX_REVIEW_ROWS)?;
    phase.done("suspect briefs read");
    let watchlist: Option<WatchlistFile> = store
        .watchlist_text()?
        .and_then(|t| toml::from_str(&t).ok());
    let book = CaseBook::open(&store)?;
    let cases = choose_cases(&store, &book, suspects.flagged, opts.include_filed)?;
    phase.done("cases chosen");
    let (findings, held) = hold_unapproved(cases.findings, watchlist.as_ref(), &cases.current);
    let records = assign_ids(&store, &findings)?;
    prepare_out(out_dir)?;
    phase.done("ids assigned");
    let mut already_filed = cases.already_filed;
    already_filed.sort();
    let mut summary = ExportSummary {
        out_dir: out_dir.to_path_buf(),
        // Numbered now: by the cases opened here, or by the ids given.
        new_complaints: records.new + cases.opened,
        already_filed,
        cases_opened: cases.opened,
        expiring: expiring_rights(watchlist.as_ref()),
        held: held.len(),
        ..ExportSummary::default()
    };
    let items = complaint_items(&findings, &records, &cases.current);
    let batches = plan_batches(&items, &book)?;
    let complaints = complaints_of(&store, &items, &cases.current, &batches.batch_of);
    write_batches(out_dir, &batches, &complaints, opts)?;
    summary.batches = batches.summaries;
    phase.done("batches written");
    let to = Target {
        store: &store,
        data_dir,
        out_dir,
        opts,
    };
    let comparisons = write_bundles(&to, &complaints, &items, &mut summary)?;
    phase.done("evidence bundles written");
    write_reports(
        &to,
        &book,
        Reports {
            watchlist: watchlist.as_ref(),
            findings: &findings,
            reviews: suspects.reviews,
            complaints: &complaints,
            comparisons: &comparisons,
            held: &held,
        },
        &mut summary,
        &mut phase,
    )?;
    summary.problems.extend(
        store
            .skipped()
            .iter()
            .map(|s| format!("store record skipped (unreadable, left as it is): {s}")),
    );
    let m = manifest::write_manifest(out_dir)?;
    phase.done("manifest written");
    summary.files = m.files.len();
    Ok(summary)
}

/// Times the export's phases, for `RUST_LOG=knockoff::file::export=debug`.
struct Phase(std::time::Instant);

impl Phase {
    fn start() -> Phase {
        Phase(std::time::Instant::now())
    }

    /// Logs the time since the last phase ended, and starts the next.
    fn done(&mut self, what: &str) {
        let now = std::time::Instant::now();
        tracing::debug!(
            phase = what,
            seconds = (now - self.0).as_secs_f64(),
            "export phase done"
        );
        self.0 = now;
    }
}

/// The flagged findings to export, with their cases.
struct Chosen {
    /// Flagged findings whose complaint is not filed yet (or all, with
    /// `--include-filed`), and those with no complaint.
    findings: Vec<Finding>,
    /// Each complaint key's current case (a refile's, after a rejection).
    current: BTreeMap<String, Case>,
    /// Cases left out as filed already: (id, state).
    already_filed: Vec<(String, String)>,
    /// Cases opened here.
    opened: usize,
}

/// The flagged and review listings, from one pass over the store's
/// suspect briefs (`suspect_briefs`: a few dozen bytes a suspect; no
/// finding is read here, and clear listings are never visited).
struct Suspects {
    /// Keys of the flagged listings, in key order, each with the key of
    /// the complaint it is filed under when its brief says.
    flagged: Vec<(String, Option<String>)>,
    reviews: Reviews,
}

/// The review listings, ranked and counted from their briefs.
struct Reviews {
    /// Keys of the review listings of highest priority (then score, then
    /// the first key), best first: at most the rows listed.
    top: Vec<String>,
    /// How many review listings there are.
    total: usize,
    /// Their mark spellings, in key order.
    keywords: KeywordCount,
}

/// Reads the suspect briefs once: the flagged keys, and the review
/// listings ranked (the best `max_rows` kept, in memory bounded by them)
/// and counted with their mark spellings.
fn suspects(store: &Store, max_rows: usize) -> Result<Suspects> {
    suspects_on(store, max_rows, None)
}

/// [`suspects`] with the briefs read by `threads` workers, or as many as
/// the store's size calls for ([`Store::fold_suspect_briefs_on`]).
fn suspects_on(store: &Store, max_rows: usize, threads: Option<usize>) -> Result<Suspects> {
    use std::cmp::Reverse;
    // Highest priority, then score, then the first key: the greatest rank.
    type Rank = (u32, u32, Reverse<String>);
    /// What one key range of the briefs holds.
    #[derive(Default)]
    struct Part {
        top: std::collections::BinaryHeap<Reverse<Rank>>,
        flagged: Vec<(String, Option<String>)>,
        total: usize,
        keywords: KeywordCount,
    }
    /// Keeps the best `max_rows` ranks.
    fn keep(top: &mut std::collections::BinaryHeap<Reverse<Rank>>, rank: Rank, max_rows: usize) {
        if max_rows == 0 {
            return;
        }
        if top.len() < max_rows {
            top.push(Reverse(rank));
        } else if top.peek().is_some_and(|Reverse(worst)| rank > *worst) {
            top.pop();
            top.push(Reverse(rank));
        }
    }
    // The briefs are read by workers a key range each; the ranges come
    // back in key order, and what each counted is added in turn, so the
    // result is the pass in key order's.
    let parts = store.fold_suspect_briefs_on(threads, Part::default, |part, key, brief| {
        match brief.verdict {
            Verdict::Flag => return part.flagged.push((key.to_string(), brief.complaint)),
            Verdict::Review => {}
            // Briefs are kept for flagged and review findings only.
            Verdict::Clear => return,
        }
        part.total += 1;
        let rank = (brief.priority, brief.score, Reverse(key.to_string()));
        part.keywords.add_brief(key, brief);
        keep(&mut part.top, rank, max_rows);
    })?;
    let mut all = Part::default();
    for part in parts {
        all.flagged.extend(part.flagged);
        all.total += part.total;
        all.keywords.extend(part.keywords);
        for Reverse(rank) in part.top {
            keep(&mut all.top, rank, max_rows);
        }
    }
    let mut ranked: Vec<Rank> = all.top.into_iter().map(|Reverse(r)| r).collect();
    ranked.sort_by(|a, b| b.cmp(a));
    Ok(Suspects {
        flagged: all.flagged,
        reviews: Reviews {
            top: ranked.into_iter().map(|(_, _, Reverse(k))| k).collect(),
            total: all.total,
            keywords: all.keywords,
        },
    })
}

/// Every flagged listing with a complaint has its case (a scan opens
/// them; data from before that gets them here). Only cases not yet filed
/// are kept, unless `include_filed`.
///
/// One flagged listing at a time, in key order: its complaint's current
/// case is looked up by the key its brief gives, and a listing whose case
/// is filed already is left out without reading its finding (a big
/// brand's year holds tens of thousands of them, a few KiB each, for a few
/// hundred complaints to file). Otherwise its finding is read, the case
/// looked up by the finding's key (a case is opened, as of the listing's
/// last sighting, only when it has none), and the finding dropped at once
/// when that case is filed already: memory holds the findings exported,
/// not the history's.
fn choose_cases(
    store: &Store,
    book: &CaseBook,
    flagged: Vec<(String, Option<String>)>,
    include_filed: bool,
) -> Result<Chosen> {
    let mut opened = 0;
    let mut already_filed: Vec<(String, String)> = Vec::new();
    let mut current: BTreeMap<String, Case> = BTreeMap::new();
    let mut findings = Vec::new();
    for (listing, complaint) in flagged {
        let mut known = None;
        if let Some(key) = complaint {
            let case = book.current_by_key(&key)?;
            if let Some(case) = &case {
                if !include_filed && !case.state.is_unfiled() {
                    already_filed.push((case.id.clone(), case.state.as_str().to_string()));
                    continue;
                }
            }
            known = Some((key, case));
        }
        let Some(f) = store.finding(&listing)? else {
            continue;
        };
        if f.verdict != Verdict::Flag {
            continue;
        }
        let Some(d) = f.filing_draft() else {
            findings.push(f);
            continue;
        };
        let key = complaint_key(f.platform, &d.right_id, &f.listing_id);
        // Opening is idempotent: a complaint key with a case opens none.
        let mut case = match known {
            Some((k, case)) if k == key => case,
            _ => book.current_by_key(&key)?,
        };
        if case.is_none() {
            let at = store_seen_at(store, &f);
            opened += book.open_cases(&f, at, None, "export")?.len();
            case = book.current_by_key(&key)?;
        }
        if let Some(case) = case {
            if !include_filed && !case.state.is_unfiled() {
                already_filed.push((case.id.clone(), case.state.as_str().to_string()));
                continue;
            }
            current.insert(key, case);
        }
        findings.push(f);
    }
    Ok(Chosen {
        findings,
        current,
        already_filed,
        opened,
    })
}

/// Complaints on a right IPP has not approved are held, not batched: by
/// the right's state in the watchlist now (it may have been approved
/// since the scan), else as the scan found it. Returns the findings to
/// batch and the held complaints.
fn hold_unapproved(
    findings: Vec<Finding>,
    watchlist: Option<&WatchlistFile>,
    current: &BTreeMap<String, Case>,
) -> (Vec<Finding>, Vec<Held>) {
    let held_reason = |d: &Draft| -> Option<String> {
        match watchlist.and_then(|w| w.rights.iter().find(|r| r.id == d.right_id)) {
            Some(r) => r.held_reason(),
            None => d.held.clone(),
        }
    };
    let (findings, on_hold): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| f.filing_draft().and_then(held_reason).is_none());
    let held = on_hold
        .iter()
        .filter_map(|f| {
            let d = f.filing_draft()?;
            let key = complaint_key(f.platform, &d.right_id, &f.listing_id);
            Some(Held {
                case_id: current.get(&key).map(|c| c.id.clone()),
                platform: f.platform,
                listing_id: f.listing_id.clone(),
                url: f.url.clone(),
                right_id: d.right_id.clone(),
                reason: held_reason(d).unwrap_or_default(),
            })
        })
        .collect();
    (findings, held)
}

/// Rights and authorizations ending soon (or ended), as warnings.
fn expiring_rights(watchlist: Option<&WatchlistFile>) -> Vec<String> {
    watchlist
        .map(|w| {
            w.expiring(
                crate::file::cases::deadline::china_date(chrono::Utc::now()),
                crate::model::watchlist::EXPIRY_WARNING_DAYS,
            )
        })
        .unwrap_or_default()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

/// A complaint to write: its id, finding and draft.
type Item<'a> = (ComplaintRecord, &'a Finding, &'a Draft);

/// Complaints in id order, with their finding and draft; a rejected
/// complaint refiled is filed under its refile's id.
fn complaint_items<'a>(
    findings: &'a [Finding],
    records: &Assigned,
    current: &BTreeMap<String, Case>,
) -> Vec<Item<'a>> {
    let mut items: Vec<Item<'a>> = Vec::new();
    for f in findings {
        let Some(d) = f.filing_draft() else { continue };
        let key = complaint_key(f.platform, &d.right_id, &f.listing_id);
        let Some(rec) = records.by_key.get(&key) else {
            continue;
        };
        let mut rec = rec.clone();
        if let Some(case) = current.get(&key) {
            if case.id != rec.id {
                rec.id = case.id.clone();
                rec.number = case.number;
            }
        }
        items.push((rec, f, d));
    }
    items.sort_by_key(|(r, _, _)| r.number);
    items
}

/// The batches of an export.
struct Batches {
    summaries: Vec<BatchSummary>,
    /// Each batch's file and its members (indexes into the items).
    members: Vec<Vec<usize>>,
    /// Each item's batch file.
    batch_of: Vec<String>,
}

/// Batches never mix platforms, rights or reasons, and hold at most
/// [`MAX_URLS_PER_BATCH`] URLs; each case records its batch.
fn plan_batches(items: &[Item<'_>], book: &CaseBook) -> Result<Batches> {
    let mut groups: BTreeMap<(Platform, String, crate::judge::complaint::ReasonCode), Vec<usize>> =
        BTreeMap::new();
    for (i, (_, _, d)) in items.iter().enumerate() {
        groups
            .entry((d.platform, d.right_id.clone(), d.reason_code))
            .or_default()
            .push(i);
    }
    let mut out = Batches {
        summaries: Vec::new(),
        members: Vec::new(),
        batch_of: vec![String::new(); items.len()],
    };
    for ((platform, right, reason), members) in &groups {
        for (n, chunk) in members.chunks(MAX_URLS_PER_BATCH).enumerate() {
            let file = format!(
                "batches/{}_{}_{}_{:03}.txt",
                platform.as_str(),
                safe_component(right, 40),
                reason.as_str(),
                n + 1
            );
            for &i in chunk {
                out.batch_of[i] = file.clone();
            }
            let table = format!("{}.csv", file.trim_end_matches(".txt"));
            let drafts: Vec<&Draft> = chunk.iter().map(|&i| items[i].2).collect();
            let (reason_en, reason_zh) = crate::judge::complaint::batch_reason(
                &drafts,
                table.rsplit('/').next().unwrap_or(&table),
            );
            let id = batch_id(&file, chunk.iter().map(|&i| items[i].0.id.as_str()));
            for &i in chunk {
                book.record_batch(&items[i].0.id, &id)?;
            }
            out.summaries.push(BatchSummary {
                id,
                file,
                table,
                platform: *platform,
                right_id: right.clone(),
                reason_code: *reason,
                reason_label: reason.label().0.to_string(),
                reason_en,
                reason_zh,
                urls: chunk.len(),
            });
            out.members.push(chunk.to_vec());
        }
    }
    Ok(out)
}

/// The complaints as exported, one per item.
fn complaints_of(
    store: &Store,
    items: &[Item<'_>],
    current: &BTreeMap<String, Case>,
    batch_of: &[String],
) -> Vec<Complaint> {
    items
        .iter()
        .zip(batch_of)
        .map(|((rec, f, d), batch)| {
            let case = current.get(&complaint_key(f.platform, &d.right_id, &f.listing_id));
            Complaint {
                case_state: case
                    .map(|c| c.state.as_str().to_string())
                    .unwrap_or_default(),
                refile_of: case.and_then(|c| c.refile_of.clone()),
                added_evidence: case.map(|c| c.added_evidence.clone()).unwrap_or_default(),
                captured_at: utc(store_seen_at(store, f)),
                id: rec.id.clone(),
                number: rec.number,
                platform: f.platform,
                listing_id: f.listing_id.clone(),
                listing_url: d.listing_url.clone(),
                title: f.title.clone(),
                seller: f.seller.clone(),
                price: f.price.as_ref().map(|p| p.to_string()),
                score: f.score,
                right_id: d.right_id.clone(),
                right_kind: d.right_kind,
                jurisdiction: d.jurisdiction.clone(),
                registration_number: d.registration_number.clone(),
                complaint_type: d.complaint_type.clone(),
                reason_code: d.reason_code,
                reason_label: d.reason_code.label().0.to_string(),
                details_en: d.details_en.clone(),
                details_zh: d.details_zh.clone(),
                facts: d.facts.clone(),
                alternatives: d.alternatives.clone(),
                attachments: d.attachments.clone(),
                batch: batch.clone(),
                evidence_dir: format!(
                    "evidence/{}_{}_{}",
                    rec.id,
                    f.platform.as_str(),
                    safe_component(&f.listing_id, 40)
                ),
            }
        })
        .collect()
}

/// Each batch's text (what IPP's form takes) and its per-URL table.
fn write_batches(
    out_dir: &Path,
    batches: &Batches,
    complaints: &[Complaint],
    opts: &ExportOptions,
) -> Result<()> {
    let bar = opts
        .progress
        .counter("export: batches written", batches.summaries.len() as u64);
    for (members, b) in batches.members.iter().zip(&batches.summaries) {
        let members: Vec<&Complaint> = members.iter().map(|&i| &complaints[i]).collect();
        write(out_dir, &b.file, batch_text(b, &members).as_bytes())?;
        write(out_dir, &b.table, report::batch_table(&members).as_bytes())?;
        bar.inc(1);
    }
    bar.finish();
    Ok(())
}

/// Where an export reads from and writes to.
struct Target<'a> {
    store: &'a Store,
    data_dir: &'a Path,
    out_dir: &'a Path,
    opts: &'a ExportOptions,
}

/// One evidence bundle per complaint; returns each complaint's photo
/// comparisons (for the report).
fn write_bundles(
    to: &Target<'_>,
    complaints: &[Complaint],
    items: &[Item<'_>],
    summary: &mut ExportSummary,
) -> Result<Vec<Vec<(String, compare::Comparison)>>> {
    let Target {
        store,
        data_dir,
        out_dir,
        opts,
    } = *to;
    let officials: BTreeMap<String, OfficialPhoto> = store
        .officials()?
        .into_iter()
        .map(|o| (o.name.clone(), o))
        .collect();
    let mut warc_dirs = vec![data_dir.to_path_buf()];
    warc_dirs.extend(opts.warc_dirs.iter().cloned());
    let warcs = WarcIndex::scan(&warc_dirs);
    summary.warc_files = warcs.files;
    summary.problems.extend(warcs.problems.iter().cloned());
    let documents = store.documents()?;
    let chromium = if opts.screenshots {
        let found = screenshot::find_chromium();
        if found.is_none() {
            summary.problems.push(
                "screenshots skipped: no Chromium on this machine (install it, e.g. `apt-get install chromium`, or set KNOCKOFF_CHROMIUM)".into(),
            );
        }
        found
    } else {
        None
    };
    let work = std::env::temp_dir().join(format!("knockoff-shots-{}", std::process::id()));
    let ctx = BundleContext {
        chromium: chromium.as_deref(),
        work: &work,
        store,
        officials: &officials,
        warcs: &warcs,
        documents: &documents,
    };
    let mut comparisons: Vec<Vec<(String, compare::Comparison)>> = Vec::new();
    let bar = opts
        .progress
        .counter("export: evidence bundles", complaints.len() as u64);
    for (c, (_, f, _)) in complaints.iter().zip(items) {
        let rec = store.listing(&f.key())?;
        let out = write_bundle(&ctx, out_dir, c, f, rec.as_ref())?;
        summary.warc_captures += out.warc_captures;
        summary.problems.extend(out.problems);
        comparisons.push(out.comparisons);
        summary.bundles += 1;
        bar.inc(1);
    }
    bar.finish();
    if work.exists() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(comparisons)
}

/// What the export's reports are made of.
struct Reports<'a> {
    watchlist: Option<&'a WatchlistFile>,
    /// Flagged findings batched (or needing a right).
    findings: &'a [Finding],
    reviews: Reviews,
    complaints: &'a [Complaint],
    comparisons: &'a [Vec<(String, compare::Comparison)>],
    held: &'a [Held],
}

/// The files beside the batches: complaints (JSON, CSV), what needs a
/// right, held complaints, keyword blocking, store-front drafts, the
/// review queue, and the HTML report.
fn write_reports(
    to: &Target<'_>,
    book: &CaseBook,
    r: Reports<'_>,
    summary: &mut ExportSummary,
    phase: &mut Phase,
) -> Result<()> {
    let (store, out_dir) = (to.store, to.out_dir);
    let needs_right: Vec<NeedsRight> = r
        .findings
        .iter()
        .filter(|f| f.drafts.is_empty())
        .map(|f| NeedsRight {
            platform: f.platform,
            listing_id: f.listing_id.clone(),
            url: f.url.clone(),
            title: f.title.clone(),
            score: f.score,
            failures: f.needs_right.clone(),
        })
        .collect();
    summary.needs_right = needs_right.len();
    summary.complaints = r.complaints.len();
    write(out_dir, "complaints.json", &json(&r.complaints)?)?;
    write(out_dir, "needs_right.json", &json(&needs_right)?)?;
    write(out_dir, "held.json", &json(&r.held)?)?;
    let mut keywords = KeywordCount::default();
    for f in r.findings {
        keywords.add(f);
    }
    keywords.extend(r.reviews.keywords);
    let reviews_total = r.reviews.total;
    let review_items = review_items(store, out_dir, r.reviews.top)?;
    phase.done("review rows read");
    write(
        out_dir,
        "keyword_blocking.csv",
        report::keyword_csv(&keywords.variants(store)?).as_bytes(),
    )?;
    let storefront = storefront_drafts(&taken_down_cases(book)?, r.watchlist);
    phase.done("store-front drafts made");
    summary.storefront = storefront.len();
    write(out_dir, "storefront.json", &json(&storefront)?)?;
    summary.needs_review = reviews_total;
    summary.needs_review_left_out = reviews_total - review_items.len();
    write(
        out_dir,
        "needs_review.csv",
        report::review_csv(&review_items).as_bytes(),
    )?;
    write(
        out_dir,
        "complaints.csv",
        report::csv(r.complaints).as_bytes(),
    )?;
    let decisions: Vec<crate::file::decisions::Decision> =
        crate::file::decisions::Decisions::load(store)?
            .listings
            .into_values()
            .collect();
    let html = report::html(&report::ReportInput {
        watchlist: r.watchlist,
        complaints: r.complaints,
        comparisons: r.comparisons,
        batches: &summary.batches,
        needs_right: &needs_right,
        needs_review: &review_items,
        flagged: r.findings.len(),
        decisions: &decisions,
    });
    write(out_dir, "report.html", html.as_bytes())?;
    phase.done("reports written");
    Ok(())
}

/// One spelling of a mark found in listing titles, for a keyword-blocking
/// request (platforms can block search terms that only counterfeiters
/// use).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeywordVariant {
    pub mark: String,
    pub variant: String,
    /// How it differs from the mark (`exact`, `fuzzy`, `leetspeak`, ...).
    pub rule: String,
    /// Flagged or review listings whose title uses it.
    pub listings: usize,
    pub platforms: Vec<String>,
    /// Up to three listing URLs.
    pub examples: Vec<String>,
}

/// The mark's spellings in the titles of flagged and review listings
/// (flagged first, then review, each in key order), counted one listing at
/// a time: memory holds the spellings, not the findings. Review listings
/// are counted from their briefs ([`SuspectBrief`]), so an example of one
/// is its key until [`KeywordCount::variants`] reads its URL.
#[derive(Default)]
struct KeywordCount {
    by: BTreeMap<(String, String), (KeywordVariant, Vec<Example>)>,
}

/// An example listing of a spelling: its URL, or its key (a review
/// listing counted from its brief).
enum Example {
    Url(String),
    Key(String),
}

impl KeywordCount {
    /// Counts a flagged finding's spellings.
    fn add(&mut self, f: &Finding) {
        self.add_spellings(f.platform.as_str(), mark_spellings(f), || {
            Example::Url(f.url.clone())
        });
    }

    /// Counts a review listing's spellings from its brief.
    fn add_brief(&mut self, key: &str, brief: SuspectBrief) {
        // Keys are `platform/id` (`listing_key`).
        let platform = key.split_once('/').map_or(key, |(p, _)| p);
        self.add_spellings(platform, brief.marks, || Example::Key(key.to_string()));
    }

    fn add_spellings(
        &mut self,
        platform: &str,
        marks: Vec<MarkSpelling>,
        example: impl Fn() -> Example,
    ) {
        let mut seen = BTreeSet::new();
        for m in marks {
            let lower = m.variant.to_lowercase();
            if m.variant.is_empty() || !seen.insert(lower.clone()) {
                continue;
            }
            let (e, examples) = self.by.entry((m.mark.clone(), lower)).or_insert_with(|| {
                (
                    KeywordVariant {
                        mark: m.mark,
                        variant: m.variant,
                        rule: m.rule,
                        listings: 0,
                        platforms: Vec::new(),
                        examples: Vec::new(),
                    },
                    Vec::new(),
                )
            });
            e.listings += 1;
            if !e.platforms.iter().any(|p| p == platform) {
                e.platforms.push(platform.to_string());
            }
            if examples.len() < 3 {
                examples.push(example());
            }
        }
    }

    /// Adds what `other` counted after what this one did, as if its
    /// listings had been added here in turn.
    fn extend(&mut self, other: KeywordCount) {
        for (k, (v, examples)) in other.by {
            match self.by.entry(k) {
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert((v, examples));
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    let (mine, my_examples) = e.get_mut();
                    mine.listings += v.listings;
                    for p in v.platforms {
                        if !mine.platforms.contains(&p) {
                            mine.platforms.push(p);
                        }
                    }
                    let room = 3usize.saturating_sub(my_examples.len());
                    my_examples.extend(examples.into_iter().take(room));
                }
            }
        }
    }

    /// The spellings, most used first, their examples' URLs read (at most
    /// three findings a spelling).
    fn variants(self, store: &Store) -> Result<Vec<KeywordVariant>> {
        let mut out = Vec::with_capacity(self.by.len());
        for (mut v, examples) in self.by.into_values() {
            for e in examples {
                match e {
                    Example::Url(url) => v.examples.push(url),
                    Example::Key(key) => {
                        if let Some(f) = store.finding(&key)? {
                            v.examples.push(f.url);
                        }
                    }
                }
            }
            out.push(v);
        }
        out.sort_by(|a, b| b.listings.cmp(&a.listings).then(a.variant.cmp(&b.variant)));
        Ok(out)
    }
}

/// A store-front complaint draft (IPP's "Store front" complaint type)
/// against a seller with 3 or more listings taken down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorefrontDraft {
    pub platform: Platform,
    pub seller: String,
    pub complaint_type: String,
    pub takedowns: usize,
    /// The cases of the takedowns.
    pub cases: Vec<String>,
    /// The right most of them were filed on.
    pub right_id: String,
    pub reason_en: String,
    pub reason_zh: String,
}

/// The cases whose listing was taken down, by number, cut down to what
/// [`storefront_drafts`] reads (id, number, listing, seller, right and the
/// removals of their history): the case book is read one case at a time
/// and the others are not kept.
fn taken_down_cases(book: &CaseBook) -> Result<Vec<Case>> {
    let mut out = Vec::new();
    book.for_each(|c| {
        if !c.was_taken_down() {
            return;
        }
        let c = c.cut_down(|_, t| t.to == crate::file::cases::state::CaseState::Removed);
        out.push(c);
    })?;
    // As `CaseBook::all` orders them (ids are not in number order past
    // six digits).
    out.sort_by_key(|c| c.number);
    Ok(out)
}

/// Store-front drafts for repeat offenders, from the case book.
fn storefront_drafts(
    cases: &[crate::file::cases::book::Case],
    watchlist: Option<&WatchlistFile>,
) -> Vec<StorefrontDraft> {
    let holder = watchlist
        .map(|w| w.brand.rights_holder.clone())
        .unwrap_or_else(|| "the rights holder".into());
    let holder_zh = watchlist
        .and_then(|w| w.brand.rights_holder_zh.clone())
        .unwrap_or_else(|| "权利人".into());
    // Cases by id: a big brand's book holds tens of thousands of
    // takedowns, and an offender's cases are looked up, not searched for.
    let by_id: HashMap<&str, &crate::file::cases::book::Case> =
        cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::new();
    for o in crate::file::network::offenders(cases) {
        if !o.repeat {
            continue;
        }
        // In the book's (number) order, as before.
        let mut theirs: Vec<&crate::file::cases::book::Case> = o
            .cases
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        theirs.sort_by_key(|c| c.number);
        let Some(first) = theirs.first() else {
            continue;
        };
        let mut rights: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &theirs {
            *rights.entry(c.right_id.as_str()).or_default() += 1;
        }
        let right_id = rights
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
            .map(|(id, _)| id.to_string())
            .unwrap_or_default();
        let seller = o
            .seller
            .split_once(':')
            .map(|(_, s)| s.to_string())
            .unwrap_or(o.seller.clone());
        out.push(StorefrontDraft {
            platform: first.platform,
            seller: seller.clone(),
            complaint_type: "store_front".into(),
            takedowns: o.takedowns,
            cases: o.cases.clone(),
            right_id,
            reason_en: format!(
                "The store \"{seller}\" has had {} listings taken down on complaints of {holder} ({}), and keeps offering infringing goods: {holder} asks that the store be dealt with as a repeat infringer.",
                o.takedowns,
                o.cases.join(", ")
            ),
            reason_zh: format!(
                "该店铺已有{}个商品因{holder_zh}的投诉被删除，仍持续销售侵权商品，请按重复侵权处理该店铺。",
                o.takedowns
            ),
        });
    }
    out
}

/// A complaint held back because IPP has not approved its right yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Held {
    pub case_id: Option<String>,
    pub platform: Platform,
    pub listing_id: String,
    pub url: String,
    pub right_id: String,
    pub reason: String,
}

/// A listing that needs an analyst's decision (`review`), as exported in
/// `needs_review.csv` and the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub platform: Platform,
    pub listing_id: String,
    pub url: String,
    pub title: String,
    pub seller: Option<String>,
    pub price: Option<String>,
    pub score: u32,
    pub priority: u32,
    /// One line per signal, strongest first.
    pub reasons: Vec<String>,
    /// The listing's first photo as captured, copied into `review/`.
    pub photo: Option<String>,
    pub photo_url: Option<String>,
    /// The official photo it matches, if any.
    pub matched_official: Option<String>,
}

/// The rows of `needs_review.csv` and the report: the review listings
/// ranked by [`suspects`] (`top`, best first), each finding read, its
/// first photo copied into `review/` (the listing record read only for a
/// finding with no matched photo).
fn review_items(store: &Store, out_dir: &Path, top: Vec<String>) -> Result<Vec<ReviewItem>> {
    let mut out = Vec::with_capacity(top.len());
    for key in top {
        let Some(f) = store.finding(&key)? else {
            continue;
        };
        let photo_url = match f.photos.first() {
            Some(p) => Some(p.url.clone()),
            None => store
                .listing(&key)?
                .and_then(|r| r.listing.images.first().cloned()),
        };
        let mut item = ReviewItem {
            platform: f.platform,
            listing_id: f.listing_id.clone(),
            url: f.url.clone(),
            title: f.title.clone(),
            seller: f.seller.clone(),
            price: f.price.as_ref().map(|p| p.to_string()),
            score: f.score,
            priority: f.priority,
            reasons: f.reasons.clone(),
            photo: None,
            photo_url,
            matched_official: f.photos.first().map(|p| p.reference.clone()),
        };
        if let Some(url) = &item.photo_url {
            if let Some(page) = store.page_for_url(url)? {
                if let Some(bytes) = store.blob(&page.sha256)? {
                    let rel = format!(
                        "review/{:02}-{}-{}.{}",
                        out.len() + 1,
                        item.platform.as_str(),
                        safe_component(&item.listing_id, 40),
                        extension(page.content_type.as_deref(), url)
                    );
                    write(out_dir, &rel, &bytes)?;
                    item.photo = Some(rel);
                }
            }
        }
        out.push(item);
    }
    Ok(out)
}

/// A flagged finding that no right can carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedsRight {
    pub platform: Platform,
    pub listing_id: String,
    pub url: String,
    pub title: String,
    pub score: u32,
    pub failures: Vec<crate::judge::complaint::RuleFailure>,
}

/// The id of a batch: its file name and complaint ids, hashed.
fn batch_id<'a>(file: &str, ids: impl Iterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(file.as_bytes());
    for id in ids {
        h.update(b"\n");
        h.update(id.as_bytes());
    }
    let hex: String = h
        .finalize()
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("B-{hex}")
}

/// When the listing of a finding was last seen (its case opens then).
fn store_seen_at(store: &Store, f: &Finding) -> chrono::DateTime<chrono::Utc> {
    store
        .listing(&f.key())
        .ok()
        .flatten()
        .map(|r| r.last_seen)
        .unwrap_or_default()
}

struct Assigned {
    by_key: BTreeMap<String, ComplaintRecord>,
    new: usize,
}

/// Gives every draft a complaint id, keeping the ids already given. Reads
/// the complaint record of each draft by key, and numbers new ones after
/// the highest number given (the case book's counter, see
/// [`crate::file::cases::ids::last_number`]), in one transaction with it.
fn assign_ids(store: &Store, findings: &[Finding]) -> Result<Assigned> {
    let err = |e: &dyn fmt::Display| Error::Other(format!("store tree {COMPLAINTS_TREE}: {e}"));
    let tree = store.db.open_tree(COMPLAINTS_TREE).map_err(|e| err(&e))?;
    let mut wanted: BTreeSet<(String, Platform, String, String)> = BTreeSet::new();
    for f in findings {
        if let Some(d) = f.filing_draft() {
            wanted.insert((
                complaint_key(f.platform, &d.right_id, &f.listing_id),
                f.platform,
                d.right_id.clone(),
                f.listing_id.clone(),
            ));
        }
    }
    let mut out = BTreeMap::new();
    let mut missing = Vec::new();
    for (key, platform, right_id, listing_id) in wanted {
        store.count_complaint_reads(1);
        match tree.get(key.as_bytes()).map_err(|e| err(&e))? {
            Some(v) => {
                let rec: ComplaintRecord =
                    serde_json::from_slice(&v).map_err(|e| err(&format!("record {key}: {e}")))?;
                out.insert(key, rec);
            }
            None => missing.push((key, platform, right_id, listing_id)),
        }
    }
    let new = missing.len();
    if !missing.is_empty() {
        let meta: &sled::Tree = &store.db;
        let last =
            crate::file::cases::ids::last_number(meta, &tree, &|n| store.count_complaint_reads(n))
                .map_err(|e| err(&e))?;
        let given = (&tree, meta)
            .transaction(|(complaints, meta)| {
                let mut given = Vec::new();
                let mut last = last;
                for (key, platform, right_id, listing_id) in &missing {
                    let number = crate::file::cases::book::next_number(meta, last)?;
                    last = number;
                    let rec = ComplaintRecord {
                        id: complaint_id(number),
                        number,
                        platform: *platform,
                        right_id: right_id.clone(),
                        listing_id: listing_id.clone(),
                    };
                    let bytes = serde_json::to_vec(&rec)
                        .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                    complaints.insert(key.as_bytes(), bytes)?;
                    given.push((key.clone(), rec));
                }
                Ok(given)
            })
            .map_err(|e: TransactionError<String>| err(&format!("{e:?}")))?;
        out.extend(given);
    }
    tree.flush().map_err(|e| err(&e))?;
    Ok(Assigned { by_key: out, new })
}

/// Makes `out` ready: created if missing; a previous export's files are
/// removed; anything else there is an error (the export never deletes
/// files it did not write).
fn prepare_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let names: Vec<String> = std::fs::read_dir(out)
        .map_err(|e| Error::io(out, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !TOP_FILES.contains(&n.as_str()) && !TOP_DIRS.contains(&n.as_str()))
        .collect();
    if !foreign.is_empty() || !out.join(manifest::MANIFEST_FILE).is_file() {
        return Err(Error::Other(format!(
            "{}: not empty and not a previous export (found {}); choose an empty folder",
            out.display(),
            names.join(", ")
        )));
    }
    for n in &names {
        let p = out.join(n);
        let r = if TOP_DIRS.contains(&n.as_str()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

/// Writes a file under `root` at a checked relative path.
fn write(root: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = safe_join(root, rel)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
}

/// Pretty JSON with a final newline; struct fields in declaration order,
/// maps sorted, so the bytes are stable.
fn json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut v = serde_json::to_vec_pretty(value).map_err(|e| Error::Other(format!("JSON: {e}")))?;
    v.push(b'\n');
    Ok(v)
}

/// The paste-ready text of a batch: URLs, one per line (IPP's "Infringing
/// listings" field); then the right and the reason as the form lists it,
/// the batch reason in English and Chinese ("Supplement infringement
/// reason(s)"), the documents to upload, the per-URL table and the
/// complaint ids.
fn batch_text(b: &BatchSummary, members: &[&Complaint]) -> String {
    let mut out = String::new();
    for c in members {
        out.push_str(&c.listing_url);
        out.push('\n');
    }
    let Some(first) = members.first() else {
        return out;
    };
    let (label_en, label_zh) = b.reason_code.label();
    out.push_str(&format!("\nBatch: {}", b.id));
    out.push_str(&format!(
        "\nRight: {} {} {} ({})\nComplaint type: Product listing\nReason: {label_en} / {label_zh}\n\nSupplement infringement reason(s):\n{}\n\n{}\n",
        first.right_kind.as_str(),
        first.jurisdiction,
        first.registration_number,
        first.right_id,
        b.reason_en,
        b.reason_zh
    ));
    let attachments: BTreeSet<&str> = members
        .iter()
        .flat_map(|c| c.attachments.iter().map(String::as_str))
        .collect();
    if !attachments.is_empty() {
        out.push_str("\nAttachments:\n");
        for a in attachments {
            out.push_str(&format!("- {a}\n"));
        }
    }
    out.push_str(&format!("- per-listing table: {}\n", b.table));
    let ids: Vec<&str> = members.iter().map(|c| c.id.as_str()).collect();
    out.push_str(&format!("\nComplaints: {}\n", ids.join(", ")));
    out
}

struct BundleContext<'a> {
    store: &'a Store,
    officials: &'a BTreeMap<String, OfficialPhoto>,
    warcs: &'a WarcIndex,
    documents: &'a [crate::store::StoredDocument],
    /// Chromium, when screenshots are asked for and one was found.
    chromium: Option<&'a Path>,
    /// Scratch folder for rendering.
    work: &'a Path,
}

struct BundleOut {
    comparisons: Vec<(String, compare::Comparison)>,
    warc_captures: usize,
    problems: Vec<String>,
}

/// One captured file of a bundle, for `captures.json`.
#[derive(Debug, Serialize)]
struct CaptureEntry {
    role: &'static str,
    url: String,
    final_url: Option<String>,
    status: Option<u16>,
    content_type: Option<String>,
    /// UTC, RFC 3339.
    captured_at: Option<String>,
    sha256: String,
    file: Option<String>,
    warc: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    published_at: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// The score breakdown of a bundle.
#[derive(Debug, Serialize)]
struct ScoreBreakdown<'a> {
    score: u32,
    verdict: Verdict,
    reasons: &'a [String],
    signals: &'a [crate::judge::score::Signal],
    product: &'a Option<String>,
    photos: &'a [crate::judge::score::PhotoEvidence],
    errors: &'a [String],
}

impl CaptureEntry {
    /// A capture of `role` known by `url` and `sha256`, written to `file`;
    /// the other fields are set by struct update where known.
    fn new(role: &'static str, url: &str, sha256: &str, file: Option<String>) -> CaptureEntry {
        CaptureEntry {
            role,
            url: url.to_string(),
            final_url: None,
            status: None,
            content_type: None,
            captured_at: None,
            sha256: sha256.to_string(),
            file,
            warc: Vec::new(),
            published_at: Vec::new(),
            note: None,
        }
    }
}

/// A bundle being written: its folder, the captures listed so far, and
/// what could not be included.
struct Bundle<'a> {
    ctx: &'a BundleContext<'a>,
    c: &'a Complaint,
    dir: PathBuf,
    captures: Vec<CaptureEntry>,
    out: BundleOut,
    warc_n: usize,
}

impl<'a> Bundle<'a> {
    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        write(&self.dir, rel, bytes)
    }

    fn problem(&mut self, what: String) {
        self.out.problems.push(format!("{}: {what}", self.c.id));
    }

    /// Copies the WARC records of a capture; returns their files.
    fn warc(&mut self, sha: &str) -> Result<Vec<String>> {
        let mut files = Vec::new();
        for w in self.ctx.warcs.captures(sha) {
            self.warc_n += 1;
            let rel = format!(
                "warc/{:02}-{}.warc.gz",
                self.warc_n,
                &sha[..sha.len().min(12)]
            );
            self.put(&rel, &w.bytes)?;
            self.out.warc_captures += 1;
            files.push(rel);
        }
        Ok(files)
    }

    /// The pages the listing was read from, raw bytes as fetched (and
    /// their screenshots, when asked for).
    fn pages(&mut self, rec: Option<&ListingRecord>) -> Result<()> {
        let ctx = self.ctx;
        let mut screenshots: Vec<CaptureEntry> = Vec::new();
        let mut sources: Vec<crate::store::Source> =
            rec.map(|r| r.sources.clone()).unwrap_or_default();
        sources.sort_by(|a, b| {
            (a.captured_at, &a.url, &a.sha256).cmp(&(b.captured_at, &b.url, &b.sha256))
        });
        sources.dedup_by(|a, b| a.sha256 == b.sha256);
        for (i, s) in sources.iter().enumerate() {
            let page = ctx.store.page(&s.sha256)?;
            let ct = page.as_ref().and_then(|p| p.content_type.clone());
            let rel = format!(
                "pages/{:02}-{}.{}",
                i + 1,
                url_stem(&s.url),
                extension(ct.as_deref(), &s.url)
            );
            let (file, note) = match ctx.store.blob(&s.sha256)? {
                Some(bytes) => {
                    self.put(&rel, &bytes)?;
                    if let Some(chromium) = ctx.chromium {
                        let shot = format!("screenshots/{:02}-{}.png", i + 1, url_stem(&s.url));
                        match screenshot::render(
                            chromium,
                            ctx.work,
                            &bytes,
                            ct.as_deref(),
                            &s.url,
                            Some(s.captured_at),
                        ) {
                            Ok(png) => {
                                self.put(&shot, &png)?;
                                let sha = crate::fetch::sha256_hex(&png);
                                screenshots.push(CaptureEntry {
                                    content_type: Some("image/png".into()),
                                    captured_at: Some(utc(s.captured_at)),
                                    note: Some(format!(
                                        "rendered from {rel} with scripts and network off"
                                    )),
                                    ..CaptureEntry::new("screenshot", &s.url, &sha, Some(shot))
                                });
                            }
                            Err(e) => self.problem(format!("no screenshot: {e}")),
                        }
                    }
                    (Some(rel), None)
                }
                None => {
                    let msg = match page.as_ref().and_then(|p| p.bytes_dropped_at) {
                        Some(at) => format!(
                            "page {} ({}): its bytes were dropped by retention on {}",
                            s.url,
                            s.sha256,
                            utc(at)
                        ),
                        None => format!("page {} ({}) is not in the store", s.url, s.sha256),
                    };
                    self.problem(msg.clone());
                    (None, Some(format!("{}: {msg}", self.c.id)))
                }
            };
            let warc = self.warc(&s.sha256)?;
            self.captures.push(CaptureEntry {
                final_url: page.as_ref().map(|p| p.final_url.clone()),
                status: page.as_ref().map(|p| p.status),
                content_type: ct,
                captured_at: Some(utc(s.captured_at)),
                warc,
                note,
                ..CaptureEntry::new("page", &s.url, &s.sha256, file)
            });
        }
        self.captures.append(&mut screenshots);
        Ok(())
    }

    /// The listing's photos as fetched (matched ones by their hash; others
    /// by their URL's latest capture): photo URL → (file, bytes).
    fn photos(
        &mut self,
        f: &Finding,
        rec: Option<&ListingRecord>,
    ) -> Result<BTreeMap<String, (String, Vec<u8>)>> {
        let ctx = self.ctx;
        let mut photo_files: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
        let mut photo_urls: Vec<String> = rec.map(|r| r.listing.images.clone()).unwrap_or_default();
        for p in &f.photos {
            if !photo_urls.contains(&p.url) {
                photo_urls.push(p.url.clone());
            }
        }
        for (i, url) in photo_urls.iter().enumerate() {
            let matched = f.photos.iter().find(|p| &p.url == url);
            let sha = match matched {
                Some(p) => Some(p.sha256.clone()),
                None => ctx.store.page_for_url(url)?.map(|p| p.sha256),
            };
            let Some(sha) = sha else { continue };
            let Some(bytes) = ctx.store.blob(&sha)? else {
                if matched.is_some() {
                    self.problem(format!("matched photo {url} ({sha}) is not in the store"));
                }
                continue;
            };
            let meta = ctx.store.page(&sha)?;
            let ct = meta.as_ref().and_then(|p| p.content_type.clone());
            let rel = format!(
                "photos/{:02}-{}.{}",
                i + 1,
                url_stem(url),
                extension(ct.as_deref(), url)
            );
            self.put(&rel, &bytes)?;
            let role = if matched.is_some() {
                "photo (matches an official photo)"
            } else {
                "photo"
            };
            let warc = self.warc(&sha)?;
            self.captures.push(CaptureEntry {
                final_url: meta.as_ref().map(|p| p.final_url.clone()),
                status: meta.as_ref().map(|p| p.status),
                content_type: ct,
                captured_at: meta.as_ref().map(|p| utc(p.captured_at)),
                warc,
                ..CaptureEntry::new(role, url, &sha, Some(rel.clone()))
            });
            photo_files.insert(url.clone(), (rel, bytes));
        }
        Ok(photo_files)
    }

    /// The official photos the listing's photos match, and the
    /// side-by-side comparisons.
    fn officials(
        &mut self,
        f: &Finding,
        photo_files: &BTreeMap<String, (String, Vec<u8>)>,
    ) -> Result<()> {
        let ctx = self.ctx;
        let mut official_files: BTreeMap<String, (String, Vec<u8>)> = BTreeMap::new();
        for p in &f.photos {
            if official_files.contains_key(&p.reference) {
                continue;
            }
            let Some(o) = ctx.officials.get(&p.reference) else {
                self.problem(format!(
                    "official photo {} is not in the store (rescan with the watchlist)",
                    p.reference
                ));
                continue;
            };
            let Some(bytes) = ctx.store.blob(&o.sha256)? else {
                self.problem(format!(
                    "bytes of official photo {} are not in the store",
                    p.reference
                ));
                continue;
            };
            let rel = format!(
                "official/{}",
                safe_component(&o.name, names::MAX_COMPONENT_BYTES)
            );
            self.put(&rel, &bytes)?;
            self.captures.push(CaptureEntry {
                published_at: o.published_at.clone(),
                note: Some(format!("official photo of {}", o.product)),
                ..CaptureEntry::new("official photo", &o.name, &o.sha256, Some(rel.clone()))
            });
            official_files.insert(p.reference.clone(), (rel, bytes));
        }
        for (i, p) in f.photos.iter().enumerate() {
            let (Some((_, obytes)), Some((_, lbytes))) =
                (official_files.get(&p.reference), photo_files.get(&p.url))
            else {
                continue;
            };
            let captured_at = ctx.store.page(&p.sha256)?.map(|m| m.captured_at);
            match compare::side_by_side(obytes, lbytes, p, captured_at) {
                Ok((png, info)) => {
                    let rel = format!("comparison-{:02}.png", i + 1);
                    self.put(&rel, &png)?;
                    self.out
                        .comparisons
                        .push((format!("{}/{rel}", self.c.evidence_dir), info));
                }
                Err(e) => self.problem(format!("no comparison image: {e}")),
            }
        }
        Ok(())
    }

    /// Files added to the case for a refile.
    fn added(&mut self) -> Result<()> {
        let c = self.c;
        for (n, a) in c.added_evidence.iter().enumerate() {
            let Some(bytes) = self.ctx.store.blob(&a.sha256)? else {
                self.problem(format!(
                    "added file {} ({}) is not in the store",
                    a.name, a.sha256
                ));
                continue;
            };
            let rel = format!(
                "added/{:02}-{}",
                n + 1,
                safe_component(&a.name, names::MAX_COMPONENT_BYTES)
            );
            self.put(&rel, &bytes)?;
            self.captures.push(CaptureEntry {
                captured_at: Some(utc(a.added_at)),
                note: c.refile_of.as_ref().map(|o| format!("added to refile {o}")),
                ..CaptureEntry::new("added evidence", &a.name, &a.sha256, Some(rel))
            });
        }
        Ok(())
    }

    /// The documents of the register this complaint is filed with.
    fn documents(&mut self) -> Result<()> {
        let c = self.c;
        for (n, a) in c.attachments.iter().enumerate() {
            let Some((role, path)) = a.split_once(": ") else {
                continue;
            };
            let Some(d) = self.ctx.documents.iter().find(|d| {
                d.doc.role == role
                    && d.doc.path == path
                    && d.doc.right_id.as_deref().is_none_or(|r| r == c.right_id)
            }) else {
                if role != "side-by-side comparison image (evidence bundle)" {
                    self.problem(format!(
                        "{role} {path} is not in the store (scan again with the watchlist)"
                    ));
                }
                continue;
            };
            let Some(bytes) = self.ctx.store.blob(&d.sha256)? else {
                self.problem(format!("bytes of {role} {path} are not in the store"));
                continue;
            };
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
            let rel = format!(
                "documents/{:02}-{}",
                n + 1,
                safe_component(name, names::MAX_COMPONENT_BYTES)
            );
            self.put(&rel, &bytes)?;
            self.captures.push(CaptureEntry {
                note: Some(role.to_string()),
                ..CaptureEntry::new("document", path, &d.sha256, Some(rel))
            });
        }
        Ok(())
    }
}

/// One complaint's evidence bundle: the complaint, listing and score as
/// JSON, then pages, photos, official photos with comparisons, added
/// files and documents, each listed in `captures.json`, and the bundle's
/// manifest.
fn write_bundle(
    ctx: &BundleContext<'_>,
    out_dir: &Path,
    c: &Complaint,
    f: &Finding,
    rec: Option<&ListingRecord>,
) -> Result<BundleOut> {
    let mut b = Bundle {
        ctx,
        c,
        dir: safe_join(out_dir, &c.evidence_dir)?,
        captures: Vec::new(),
        out: BundleOut {
            comparisons: Vec::new(),
            warc_captures: 0,
            problems: Vec::new(),
        },
        warc_n: 0,
    };
    b.put("complaint.json", &json(c)?)?;
    b.put("listing.json", &json(&rec)?)?;
    b.put(
        "score.json",
        &json(&ScoreBreakdown {
            score: f.score,
            verdict: f.verdict,
            reasons: &f.reasons,
            signals: &f.signals,
            product: &f.product,
            photos: &f.photos,
            errors: &f.errors,
        })?,
    )?;
    b.pages(rec)?;
    let photo_files = b.photos(f, rec)?;
    b.officials(f, &photo_files)?;
    b.added()?;
    b.documents()?;
    let comparisons: Vec<&compare::Comparison> = b.out.comparisons.iter().map(|(_, c)| c).collect();
    b.put("comparisons.json", &json(&comparisons)?)?;
    b.put("captures.json", &json(&b.captures)?)?;
    manifest::write_manifest(&b.dir)?;
    Ok(b.out)
}

fn utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod storefront_tests {
    use super::*;
    use crate::file::cases::book::Case;

    fn case(n: u64, seller: &str, states: &[&str]) -> Case {
        let history: Vec<serde_json::Value> = states
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({
                    "at": format!("2026-11-0{}T00:00:00Z", i + 1),
                    "from": if i == 0 { serde_json::Value::Null } else { states[i - 1].into() },
                    "to": s, "by": "cli"
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": complaint_id(n), "number": n, "key": format!("taobao/cn-tm/{n}"),
            "platform": "taobao", "right_id": "cn-tm", "reason_code": "trademark_counterfeit",
            "listing_id": n.to_string(), "listing_url": format!("https://item.taobao.com/item.htm?id={n}"),
            "title": "t", "seller": seller, "state": states.last().unwrap(), "history": history,
        }))
        .unwrap()
    }

    /// A seller with 3 listings taken down gets a store-front draft; one
    /// with 2, or whose complaints were rejected, does not.
    #[test]
    fn repeat_offenders_get_a_store_front_draft() {
        let down = ["drafted", "approved", "submitted", "removed"];
        let rejected = ["drafted", "approved", "submitted", "rejected"];
        let cases = vec![
            case(1, "Shop A", &down),
            case(2, "Shop A", &down),
            case(3, "Shop A", &down),
            case(4, "Shop B", &down),
            case(5, "Shop B", &down),
            case(6, "Shop B", &rejected),
        ];
        let drafts = storefront_drafts(&cases, None);
        assert_eq!(drafts.len(), 1, "{drafts:?}");
        let d = &drafts[0];
        assert_eq!((d.seller.as_str(), d.takedowns), ("Shop A", 3));
        assert_eq!(d.complaint_type, "store_front");
        assert_eq!(d.right_id, "cn-tm");
        assert!(
            d.reason_en.contains("3 listings taken down"),
            "{}",
            d.reason_en
        );
        assert!(d.reason_zh.contains("权利人"), "{}", d.reason_zh);
    }
}

#[cfg(test)]
mod numbering_tests {
    use super::*;
    use crate::file::cases::book::tests::{at, flagged};
    use crate::file::cases::ids::LAST_NUMBER_KEY;

    /// The export numbers complaints the way the case book does, from the
    /// same counter: an export after cases, a case after an export, and an
    /// export on a store written before the counter existed never give a
    /// number twice; the export reads the records of its drafts, not every
    /// complaint.
    #[test]
    fn export_and_case_book_share_the_numbering() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let book = CaseBook::open(&store).unwrap();
        for n in 1..=20 {
            book.open_cases(&flagged(n), at(), None, "test").unwrap();
        }
        let before = store.complaint_reads();
        let assigned = assign_ids(&store, &[flagged(3), flagged(200), flagged(201)]).unwrap();
        assert_eq!(assigned.new, 2);
        assert_eq!(store.complaint_reads() - before, 3, "one read per draft");
        let number = |n: u64| {
            assigned.by_key[&complaint_key(Platform::Taobao, "cn-tm", &n.to_string())].number
        };
        assert_eq!((number(3), number(200), number(201)), (3, 21, 22));
        // The book goes on after the export's numbers, and a case for a
        // complaint the export numbered keeps its number.
        let c = book.open_cases(&flagged(21), at(), None, "test").unwrap();
        assert_eq!(c[0].number, 23);
        let c = book.open_cases(&flagged(200), at(), None, "test").unwrap();
        assert_eq!(c[0].number, 21);

        // Without the counter (an older store), the export scans once.
        store.db.remove(LAST_NUMBER_KEY).unwrap();
        let assigned = assign_ids(&store, &[flagged(300)]).unwrap();
        assert_eq!(
            assigned.by_key[&complaint_key(Platform::Taobao, "cn-tm", "300")].number,
            24
        );
        assert_eq!(
            store.db.get(LAST_NUMBER_KEY).unwrap().as_deref(),
            Some(&b"24"[..])
        );
    }
}

#[cfg(test)]
mod review_tests {
    use super::*;

    /// Issue 20: the review list is the listings of highest priority
    /// (then score, then key), at most `max_rows` of them, ranked from the
    /// review briefs: every review listing is counted (its mark spellings
    /// with it) and only the findings listed are read; a finding that is
    /// no longer a review leaves the list.
    #[test]
    fn the_review_list_keeps_the_highest_priorities_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..25u32 {
            let id = format!("{i:03}");
            let listing: crate::model::listing::Listing =
                serde_json::from_value(serde_json::json!({
                    "platform": "aliexpress",
                    "id": id,
                    "url": format!("https://www.aliexpress.com/item/{id}.html"),
                    "title": format!("Aur0ra cup {id}"),
                    "source_url": "https://www.aliexpress.com/w/x.html",
                }))
                .unwrap();
            // Every third title spells the mark "Aur0ra" (twice: counted
            // once a listing).
            let mark = serde_json::json!({
                "kind": "mark", "points": 30, "reason": "mark",
                "evidence": {"mark": "Aurora", "variant": "Aur0ra", "rule": "leetspeak"},
            });
            let signals = if i % 3 == 0 {
                vec![mark.clone(), mark]
            } else {
                vec![]
            };
            let mut f: Finding = serde_json::from_value(serde_json::json!({
                "platform": "aliexpress",
                "listing_id": id,
                "url": listing.url,
                "title": listing.title,
                "seller": null,
                "price": null,
                // Scores 40 (0..9), 41 (10..19), 42 (20..24): with the
                // priorities below, pairs tie on both (000 and 005...).
                "score": 40 + i / 10,
                "verdict": "review",
                "reasons": [],
                "signals": signals,
                "drafts": [],
                "source_urls": [],
            }))
            .unwrap();
            // Priorities 0..4 in turn.
            f.priority = i % 5;
            let at = "2026-11-03T09:00:00Z".parse().unwrap();
            store.record(&listing, &[], at, &f).unwrap();
        }
        let list_on = |max_rows, threads| {
            let s = suspects_on(&store, max_rows, Some(threads)).unwrap();
            let rows = review_items(&store, out.path(), s.reviews.top).unwrap();
            (rows, s.reviews.total, s.reviews.keywords)
        };
        let list = |max_rows| list_on(max_rows, 0);
        let reads = store.finding_reads();
        let (rows, total, keywords) = list(4);
        assert_eq!(total, 25);
        let ids: Vec<&str> = rows.iter().map(|r| r.listing_id.as_str()).collect();
        assert_eq!(ids, ["024", "014", "019", "004"]);
        assert_eq!(store.finding_reads() - reads, 4, "only the rows are read");
        let spellings = keywords.variants(&store).unwrap();
        assert_eq!(spellings.len(), 1);
        assert_eq!(
            (spellings[0].variant.as_str(), spellings[0].listings),
            ("Aur0ra", 9)
        );
        assert_eq!(
            spellings[0].examples,
            [
                "https://www.aliexpress.com/item/000.html",
                "https://www.aliexpress.com/item/003.html",
                "https://www.aliexpress.com/item/006.html"
            ]
        );
        // Read by workers a key range each (as at a million listings):
        // the same list, counts and spellings.
        for max_rows in [4, 100] {
            let (rows, total, keywords) = list(max_rows);
            let (by_workers, workers_total, workers_keywords) = list_on(max_rows, 8);
            assert_eq!((by_workers, workers_total), (rows, total));
            assert_eq!(
                workers_keywords.variants(&store).unwrap(),
                keywords.variants(&store).unwrap()
            );
        }
        let (all, total, _) = list(100);
        assert_eq!((all.len(), total), (25, 25));
        assert_eq!(all[..4], rows[..]);
        // Equal priority and score: the first key first.
        let last: Vec<&str> = all[20..].iter().map(|r| r.listing_id.as_str()).collect();
        assert_eq!(last, ["020", "010", "015", "000", "005"]);
        // 024 flagged now: no longer a review.
        let mut f = store.finding("aliexpress/024").unwrap().unwrap();
        f.verdict = Verdict::Flag;
        store.put_finding(&f).unwrap();
        let (rows, total, _) = list(4);
        let ids: Vec<&str> = rows.iter().map(|r| r.listing_id.as_str()).collect();
        assert_eq!((ids, total), (vec!["014", "019", "004", "009"], 24));
        for threads in [0, 8] {
            assert_eq!(
                suspects_on(&store, 4, Some(threads)).unwrap().flagged,
                [("aliexpress/024".to_string(), None)]
            );
        }
    }
    /// The flagged listings' spellings come first, the review listings'
    /// after them, as if added in turn: counts add up, platforms and
    /// examples keep their order, three examples at most.
    #[test]
    fn review_spellings_count_after_the_flagged_ones() {
        let spelling = |variant: &str| MarkSpelling {
            mark: "Aurora".into(),
            variant: variant.into(),
            rule: "leetspeak".into(),
        };
        let brief = |variant: &str| SuspectBrief {
            verdict: Verdict::Review,
            priority: 0,
            score: 50,
            marks: vec![spelling(variant)],
            links: None,
            complaint: None,
        };
        let mut flagged = KeywordCount::default();
        flagged.add_spellings("taobao", vec![spelling("AUR0RA")], || {
            Example::Url("https://item.taobao.com/item.htm?id=1".into())
        });
        flagged.add_spellings("taobao", vec![spelling("AUR0RA")], || {
            Example::Url("https://item.taobao.com/item.htm?id=2".into())
        });
        let mut reviews = KeywordCount::default();
        for key in ["aliexpress/7", "aliexpress/8", "tmall/9"] {
            reviews.add_brief(key, brief("aur0ra"));
        }
        reviews.add_brief("tmall/10", brief("4urora"));
        flagged.extend(reviews);
        let by: Vec<(String, usize, Vec<String>, Vec<String>)> = flagged
            .by
            .into_values()
            .map(|(v, ex)| {
                let ex = ex
                    .into_iter()
                    .map(|e| match e {
                        Example::Key(k) => format!("key {k}"),
                        Example::Url(u) => u,
                    })
                    .collect();
                (v.variant, v.listings, v.platforms, ex)
            })
            .collect();
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            by[0],
            (
                "4urora".to_string(),
                1,
                strings(&["tmall"]),
                strings(&["key tmall/10"])
            )
        );
        // Spelled as the flagged listing first wrote it; two flagged
        // examples, then the first review one.
        assert_eq!(
            by[1],
            (
                "AUR0RA".to_string(),
                5,
                strings(&["taobao", "aliexpress", "tmall"]),
                strings(&[
                    "https://item.taobao.com/item.htm?id=1",
                    "https://item.taobao.com/item.htm?id=2",
                    "key aliexpress/7"
                ])
            )
        );
    }
}
