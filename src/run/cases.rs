//! The `knockoff cases` command: list, show and move cases, Good-Faith
//! figures, sellers. It opens the store itself when no daemon runs on the
//! data folder; when one does (sled admits one process), it sends the
//! command to the daemon's local endpoint, which runs the same code on its
//! store.

use crate::file::cases::{book, deadline, goodfaith, state};

use crate::file::network::{networks, offenders};
use crate::model::error::Error;
use crate::run::access;
use crate::run::exit::{CliError, CliResult, ExitCode};
use crate::run::ndjson::Line;
use crate::store::Store;
use book::{Case, CaseBook, MoveError};
use chrono::{DateTime, NaiveDate, Utc};
use deadline::Calendar;
use serde::{Deserialize, Serialize};
use state::CaseState;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `knockoff cases` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct CasesArgs {
    /// Data folder.
    #[arg(long, env = "KNOCKOFF_DATA", default_value = crate::run::exit::DEFAULT_DATA_DIR)]
    pub data: PathBuf,
    /// Holiday list (TOML: `holidays = [YYYY-MM-DD, ...]`, optional
    /// `workdays = [...]`) for working-day deadlines.
    #[arg(long)]
    pub holidays: Option<PathBuf>,
    #[command(subcommand)]
    pub action: CasesAction,
}

/// What `knockoff cases` does.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CasesAction {
    /// List cases (optionally in one state).
    List {
        /// Only cases in this state (drafted, approved, submitted, removed,
        /// rejected, counter_noticed, responded, lapsed, reinstated, withdrawn).
        #[arg(long)]
        state: Option<String>,
        /// One JSON object per case.
        #[arg(long)]
        json: bool,
    },
    /// Show one case: its listing, history, deadline and proof.
    Show {
        /// Case id (`C-000001` or `1`).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move cases to another state: `move C-000001 C-000002 submitted`,
    /// or every case of an export batch: `move --batch B-... submitted`.
    Move {
        /// The case ids, then the new state (with --batch: the state only).
        #[arg(required = true, num_args = 1.., value_name = "ID... STATE")]
        args: Vec<String>,
        /// Every case that went into this export batch (`Batch:` line of
        /// the batch file, or `id` in the export's batches).
        #[arg(long)]
        batch: Option<String>,
        /// The platform's complaint number (IPP), kept with `submitted`.
        #[arg(long = "ref")]
        reference: Option<String>,
        /// Why (required for `rejected`: the platform's reason).
        #[arg(long)]
        reason: Option<String>,
        /// When it happened (RFC 3339 or YYYY-MM-DD; default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Refile a rejected case with added evidence: a new case (new
    /// complaint id, `drafted`) linked to the old one, batched by the next
    /// export.
    Refile {
        id: String,
        /// What the new evidence shows (kept in the history).
        #[arg(long)]
        reason: String,
        /// A file to add to the complaint's evidence (repeatable); its bytes
        /// are kept in the store.
        #[arg(long = "evidence")]
        evidence: Vec<PathBuf>,
        /// When (RFC 3339 or YYYY-MM-DD; default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Cases whose deadline falls within a period (overdue ones included).
    Due {
        /// Period ahead, e.g. `3d`, `12h`.
        #[arg(long, default_value = "3d")]
        within: String,
        /// Count from this time instead of now (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// The Good-Faith figures over the last 3 months, with warnings.
    GoodFaith {
        #[arg(long)]
        json: bool,
        /// The window ends at this time instead of now.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Sellers by takedowns; repeat offenders (≥ 3) marked.
    Offenders,
    /// Seller networks: sellers linked by store id, contact or photo.
    Networks,
}

/// Runs `knockoff cases`.
pub fn run(args: CasesArgs, out: &mut dyn Write) -> CliResult {
    if let Some(holder) = crate::store::lock::live_holder(&args.data)? {
        if let Some(h) = &args.holidays {
            eprintln!(
                "warning: --holidays {} is not used: the daemon on this folder counts deadlines with its own holiday list (knockoff daemon --holidays)",
                h.display()
            );
        }
        return match &holder.listen {
            Some(addr) => remote_cases(
                addr,
                &args.data,
                &RemoteCases {
                    action: args.action,
                },
                out,
            ),
            None => Err(Error::Other(format!(
                "{}: a daemon holds this data folder ({holder}) but has no endpoint yet; try again in a moment",
                args.data.display()
            ))
            .into()),
        };
    }
    let cal = load_calendar(args.holidays.as_deref())?;
    let store = Store::open_existing(&args.data)?;
    run_action(&store, &args.action, &cal, Utc::now(), out)
}

/// A `knockoff cases` command sent to a running daemon: the action only.
/// No paths: the daemon uses its own settings (holiday list), and a
/// request with any other field is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteCases {
    pub action: CasesAction,
}

/// Loads the holiday list, or an empty calendar (weekends only).
pub fn load_calendar(path: Option<&Path>) -> Result<Calendar, Error> {
    path.map(Calendar::load)
        .transpose()
        .map(|c| c.unwrap_or_default())
}

/// Runs one action on an open store.
pub fn run_action(
    store: &Store,
    action: &CasesAction,
    cal: &Calendar,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> CliResult {
    let book = CaseBook::open(store)?;
    match action {
        CasesAction::List { state, json } => {
            let filter = state.as_deref().map(parse_state).transpose()?;
            let cases: Vec<Case> = book
                .all()?
                .into_iter()
                .filter(|c| filter.is_none_or(|s| c.state == s))
                .collect();
            if *json {
                for c in &cases {
                    writeln!(out, "{}", Line::Case(c).to_json())?;
                }
            } else {
                let decided = crate::file::decisions::Decisions::load(store)?;
                print_list(&cases, &decided, cal, now, out)?;
            }
        }
        CasesAction::Show { id, json } => {
            let case = book.get(id)?.ok_or_else(|| not_found(id))?;
            if *json {
                writeln!(out, "{}", Line::Case(&case).to_json())?;
            } else {
                print_case(store, &case, cal, now, out)?;
            }
        }
        CasesAction::Move {
            args,
            batch,
            reference,
            reason,
            at,
        } => {
            let usage = |message: String| -> CliError {
                Error::Config {
                    path: PathBuf::from("cases move"),
                    message,
                }
                .into()
            };
            let (state, ids) = args
                .split_last()
                .ok_or_else(|| usage("give the case ids and the new state".into()))?;
            let to = parse_state(state).map_err(|e| usage(e.to_string()))?;
            let mut ids: Vec<String> = ids.to_vec();
            if let Some(b) = batch {
                let in_batch = book.in_batch(b)?;
                if in_batch.is_empty() {
                    return Err(usage(format!(
                        "no case went into batch {b} (see the `Batch:` line of a batch file)"
                    )));
                }
                ids.extend(in_batch.into_iter().map(|c| c.id));
            }
            if ids.is_empty() {
                return Err(usage(
                    "no case given: name case ids before the state, or --batch".into(),
                ));
            }
            if reference.is_some() && to != CaseState::Submitted {
                return Err(usage(
                    "--ref is the platform's complaint number, given with `submitted`".into(),
                ));
            }
            let at = match at {
                Some(t) => parse_time(t)?,
                None => now,
            };
            // All or nothing: every move is checked first, so one wrong id
            // or illegal move leaves every case as it was.
            let mut problems = Vec::new();
            for id in &ids {
                match book.get(id)? {
                    None => problems.push(format!("no case {id} (see `knockoff cases list`)")),
                    Some(c) => {
                        if let Err(e) =
                            state::check_transition(&c.id, c.state, to, reason.as_deref())
                        {
                            problems.push(e.to_string());
                        }
                    }
                }
            }
            if !problems.is_empty() {
                return Err(usage(format!("nothing moved: {}", problems.join("; "))));
            }
            for id in &ids {
                match book.move_case_by_hand(
                    id,
                    to,
                    at,
                    reason.as_deref(),
                    "cli",
                    now,
                    reference.as_deref(),
                ) {
                    Ok(case) => {
                        writeln!(out, "{}: {} at {}", case.id, case.state, at.to_rfc3339())?;
                        if let Some(r) = &case.ipp_ref {
                            writeln!(out, "  IPP complaint number: {r}")?;
                        }
                        if let Some(d) = case.deadline(cal) {
                            writeln!(out, "  deadline: {} — {}", d.due, d.kind.describe())?;
                        }
                    }
                    Err(MoveError::Store(e)) => return Err(e.into()),
                    // Wrong time or a concurrent change: the user's input
                    // (exit code 2); the cases moved before it stay moved.
                    Err(e) => return Err(usage(e.to_string())),
                }
            }
        }
        CasesAction::Refile {
            id,
            reason,
            evidence,
            at,
        } => {
            let usage = |message: String| -> CliError {
                Error::Config {
                    path: PathBuf::from("cases refile"),
                    message,
                }
                .into()
            };
            let at = match at {
                Some(t) => parse_time(t)?,
                None => now,
            };
            if at > now {
                return Err(usage(format!("--at {} is in the future", at.to_rfc3339())));
            }
            let mut files = Vec::new();
            for path in evidence {
                let meta = std::fs::symlink_metadata(path)
                    .map_err(|e| usage(format!("{}: {e}", path.display())))?;
                if !meta.is_file() || meta.len() > crate::model::watchlist::MAX_DOCUMENT_BYTES {
                    return Err(usage(format!(
                        "{}: not a regular file of at most {} bytes",
                        path.display(),
                        crate::model::watchlist::MAX_DOCUMENT_BYTES
                    )));
                }
                let bytes =
                    std::fs::read(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "evidence".into());
                files.push((name, bytes));
            }
            match book.refile(id, at, reason, &files) {
                Ok(case) => {
                    writeln!(
                        out,
                        "{}: drafted, refiling {} with {} added file{}; the next export batches it",
                        case.id,
                        case.refile_of.as_deref().unwrap_or(""),
                        case.added_evidence.len(),
                        if case.added_evidence.len() == 1 {
                            ""
                        } else {
                            "s"
                        }
                    )?;
                }
                Err(MoveError::Store(e)) => return Err(e.into()),
                Err(e) => return Err(usage(e.to_string())),
            }
        }
        CasesAction::Due { within, as_of } => {
            let now = match as_of {
                Some(t) => parse_time(t)?,
                None => now,
            };
            let span = crate::model::config::parse_duration(within)
                .map_err(|m| Error::Other(format!("--within: {m}")))?;
            let horizon = now
                + chrono::Duration::from_std(span)
                    .map_err(|e| Error::Other(format!("--within: {e}")))?;
            let today = deadline::china_date(now);
            let mut due: Vec<(NaiveDate, &'static str, Case)> = Vec::new();
            for c in book.all()? {
                if let Some(d) = c.deadline(cal) {
                    if d.due <= deadline::china_date(horizon) {
                        due.push((d.due, d.kind.describe(), c));
                    }
                }
            }
            due.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.number.cmp(&b.2.number)));
            let watchlist: Option<crate::model::watchlist::WatchlistFile> = store
                .watchlist_text()?
                .and_then(|t| toml::from_str(&t).ok());
            if let Some(w) = &watchlist {
                for e in w.expiring(today, crate::model::watchlist::EXPIRY_WARNING_DAYS) {
                    writeln!(out, "WARNING: {e}")?;
                }
            }
            if due.is_empty() {
                writeln!(out, "No deadline within {within}.")?;
            }
            for (date, what, c) in &due {
                let left = cal.working_days_between(today, *date);
                let when = if *date < today {
                    format!("OVERDUE since {date}")
                } else {
                    format!("due {date} ({left} working days left)")
                };
                writeln!(
                    out,
                    "{}  {:<15}  {when}: {what}  [{} {}]",
                    c.id,
                    c.state.as_str(),
                    c.platform,
                    c.listing_id
                )?;
            }
        }
        CasesAction::GoodFaith { json, as_of } => {
            let now = match as_of {
                Some(t) => parse_time(t)?,
                None => now,
            };
            let gf = goodfaith::good_faith(&book.all()?, now);
            if *json {
                writeln!(out, "{}", Line::GoodFaith(&gf).to_json())?;
            } else {
                print_good_faith(&gf, out)?;
            }
        }
        CasesAction::Offenders => {
            let list = offenders(&book.all()?);
            if list.is_empty() {
                writeln!(out, "No takedown yet.")?;
            }
            for o in list {
                writeln!(
                    out,
                    "{}{}: {} takedowns ({})",
                    if o.repeat { "REPEAT OFFENDER  " } else { "" },
                    o.seller,
                    o.takedowns,
                    o.cases.join(", ")
                )?;
            }
        }
        CasesAction::Networks => {
            let pages = crate::file::tracking::pages_by_url(store)?;
            let nets = networks(&crate::file::network::suspect_listings(store)?, &pages);
            if nets.is_empty() {
                writeln!(out, "No seller network found.")?;
            }
            for (i, n) in nets.iter().enumerate() {
                writeln!(
                    out,
                    "network {}: {} sellers: {}",
                    i + 1,
                    n.sellers.len(),
                    n.sellers.join(", ")
                )?;
                for e in &n.edges {
                    writeln!(out, "  {} — {} by {} {}", e.a, e.b, e.kind, e.value)?;
                }
            }
        }
    }
    Ok(ExitCode::Ok)
}

/// An unknown case id is the user's input: exit code 2, as the README says.
fn not_found(id: &str) -> CliError {
    Error::Config {
        path: PathBuf::from("cases show"),
        message: format!("no case {id} (see `knockoff cases list`)"),
    }
    .into()
}

fn parse_state(s: &str) -> Result<CaseState, Error> {
    CaseState::parse(s).ok_or_else(|| {
        let names: Vec<&str> = CaseState::ALL.iter().map(|s| s.as_str()).collect();
        Error::Other(format!(
            "unknown case state `{s}` (one of: {})",
            names.join(", ")
        ))
    })
}

/// Parses `--at`: RFC 3339, or a date (midnight China time, the day the
/// platform counts).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = s.trim().parse::<NaiveDate>() {
        return Ok(deadline::china_midnight(d));
    }
    Err(Error::Other(format!(
        "`{s}`: expected RFC 3339 (2026-11-30T09:00:00Z) or a date (2026-11-30)"
    )))
}

fn print_list(
    cases: &[Case],
    decided: &crate::file::decisions::Decisions,
    cal: &Calendar,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if cases.is_empty() {
        return writeln!(out, "No case.");
    }
    // Sellers with 3 or more takedowns, marked on each of their cases.
    let repeat: std::collections::BTreeSet<String> = offenders(cases)
        .into_iter()
        .filter(|o| o.repeat)
        .map(|o| o.seller)
        .collect();
    writeln!(
        out,
        "{:<9} {:<15} {:<10} {:<20} {:<48} DEADLINE",
        "ID", "STATE", "PLATFORM", "LISTING", "RIGHT / REASON"
    )?;
    for c in cases {
        let deadline = match c.deadline(cal) {
            Some(d) if d.is_overdue(deadline::china_date(now)) => format!("OVERDUE {}", d.due),
            Some(d) => d.due.to_string(),
            None => "-".into(),
        };
        let mut relist = String::new();
        if c.relisting_of.is_some() {
            relist.push_str(" RELISTING");
        }
        let seller = crate::file::network::seller_node(
            c.platform,
            c.seller.as_deref(),
            c.seller_id.as_deref(),
        );
        if repeat.contains(&seller) {
            relist.push_str(" REPEAT-OFFENDER");
        }
        writeln!(
            out,
            "{:<9} {:<15} {:<10} {:<20} {:<48} {deadline}{relist}",
            c.id,
            c.state.as_str(),
            c.platform.as_str(),
            c.listing_id,
            format!("{} / {}", c.right_id, c.reason_code.as_str()),
        )?;
        // The analyst's decision on the listing (the desk's), who and why.
        if let Some(d) = decided.listings.get(&c.listing_key()) {
            writeln!(out, "          decision: {}", d.summary())?;
        }
    }
    Ok(())
}

fn print_case(
    store: &Store,
    c: &Case,
    cal: &Calendar,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> CliResult {
    writeln!(out, "{}  {}", c.id, c.state.as_str().to_uppercase())?;
    writeln!(
        out,
        "  listing: {} {} {}",
        c.platform, c.listing_id, c.listing_url
    )?;
    writeln!(out, "  title:   {}", c.title)?;
    writeln!(
        out,
        "  seller:  {}",
        c.seller
            .as_deref()
            .or(c.seller_id.as_deref())
            .unwrap_or("-")
    )?;
    writeln!(
        out,
        "  right:   {} ({})",
        c.right_id,
        c.reason_code.as_str()
    )?;
    if let Some(r) = &c.rejected_reason {
        writeln!(out, "  rejected because: {r}")?;
    }
    let decided = crate::file::decisions::Decisions::load(store)?;
    if let Some(d) = decided.listings.get(&c.listing_key()) {
        writeln!(out, "  decision: {}", d.summary())?;
        for e in d.earlier.iter().rev() {
            writeln!(out, "    before: {}", e.summary())?;
        }
    }
    if let Some(l) = &c.relisting_of {
        writeln!(
            out,
            "  RELISTING of {} (case {}) by {}: {}",
            l.listing, l.case_id, l.by, l.detail
        )?;
    }
    if let Some(d) = c.deadline(cal) {
        let status = if d.is_overdue(deadline::china_date(now)) {
            "OVERDUE"
        } else {
            "due"
        };
        writeln!(
            out,
            "  deadline: {status} {} — {}",
            d.due,
            d.kind.describe()
        )?;
    }
    writeln!(out, "  history:")?;
    for t in &c.history {
        write!(
            out,
            "    {}  {} -> {}  by {}",
            t.at.to_rfc3339(),
            t.from.map(|s| s.as_str()).unwrap_or("(new)"),
            t.to.as_str(),
            t.by
        )?;
        if let Some(r) = &t.reason {
            write!(out, ": {r}")?;
        }
        writeln!(out)?;
        if let Some(p) = &t.proof {
            writeln!(
                out,
                "      proof: HTTP {} {} captured {} sha256 {}",
                p.status,
                p.url,
                p.captured_at.to_rfc3339(),
                p.sha256
            )?;
        }
    }
    let key = c.listing_key();
    if let Some(rec) = store.listing(&key)? {
        writeln!(
            out,
            "  listing seen: first {}, last {}",
            rec.first_seen.to_rfc3339(),
            rec.last_seen.to_rfc3339()
        )?;
        for ch in &rec.history {
            writeln!(
                out,
                "    {}  {}: {} -> {}",
                ch.at.to_rfc3339(),
                ch.field,
                ch.old,
                ch.new
            )?;
        }
    }
    let tracker = crate::file::tracking::Tracker::open(store)?;
    if let Some(t) = tracker.get(&key)? {
        for e in &t.events {
            writeln!(
                out,
                "    {}  {} (cycle {}): {}",
                e.at.to_rfc3339(),
                e.kind,
                e.cycle,
                e.detail
            )?;
        }
    }
    Ok(ExitCode::Ok)
}

fn print_good_faith(gf: &goodfaith::GoodFaith, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Good-Faith figures, notices submitted {} to {}:",
        gf.window_start.date_naive(),
        gf.window_end.date_naive()
    )?;
    let pct = |r: Option<f64>| {
        r.map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "n/a".into())
    };
    let mut line = |scope: &str, f: &goodfaith::Figures| {
        writeln!(
            out,
            "  {scope:<28} notices {:>4}  decided {:>4}  takedown rate {:>6} (floor 90%)  successful counter-notices {:>6} (ceiling 5%; {} of {} counter-notices won by sellers)",
            f.notices,
            f.decided,
            pct(f.takedown_rate),
            pct(f.counter_success_share),
            f.counter_succeeded,
            f.counter_noticed
        )
    };
    line("overall", &gf.overall)?;
    for (reason, f) in &gf.by_reason {
        line(reason, f)?;
    }
    let warnings = gf.warnings();
    if warnings.is_empty() {
        writeln!(out, "No warning.")?;
    }
    for w in warnings {
        writeln!(out, "WARNING: {w}")?;
    }
    Ok(())
}

/// A daemon's answer to a `knockoff cases` command: what a local run would
/// have printed on stdout and on stderr, and its exit code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteAnswer {
    pub exit: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Largest answer `knockoff cases` reads from a daemon, in bytes.
pub const MAX_REMOTE_ANSWER_BYTES: usize = 256 * 1024 * 1024;

/// How long `knockoff cases` waits for the daemon's answer.
pub const REMOTE_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends a `knockoff cases` command to the daemon running on `data`
/// (listening on `addr`) and prints its answer. The access token is read
/// from the data folder; no proxy and no redirect is followed, so the
/// token goes to `addr` only.
pub fn remote_cases(addr: &str, data: &Path, req: &RemoteCases, out: &mut dyn Write) -> CliResult {
    let err = |m: String| -> CliError {
        Error::Other(format!(
            "daemon at {addr}: {m} (it holds the data folder; stop it to use the store directly)"
        ))
        .into()
    };
    let token = access::read_token(data)?;
    let body = serde_json::to_vec(req).map_err(|e| err(e.to_string()))?;
    let url = format!("http://{addr}/cases");
    // `knockoff cases` runs inside the CLI's runtime, synchronously: the
    // request gets a thread and a runtime of its own.
    let answer = std::thread::scope(|s| {
        s.spawn(
            || -> std::result::Result<(u16, Option<i32>, Vec<u8>), String> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async {
                    let client = reqwest::Client::builder()
                        .no_proxy()
                        .redirect(reqwest::redirect::Policy::none())
                        .timeout(REMOTE_TIMEOUT)
                        .build()
                        .map_err(|e| e.to_string())?;
                    let mut resp = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status().as_u16();
                    let code = resp
                        .headers()
                        .get("x-knockoff-exit")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<i32>().ok());
                    let mut text = Vec::new();
                    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
                        if text.len() + chunk.len() > MAX_REMOTE_ANSWER_BYTES {
                            return Err(format!(
                                "answer larger than {MAX_REMOTE_ANSWER_BYTES} bytes"
                            ));
                        }
                        text.extend_from_slice(&chunk);
                    }
                    Ok((status, code, text))
                })
            },
        )
        .join()
        .unwrap_or_else(|_| Err("the request thread panicked".into()))
    });
    let (status, code, text) = answer.map_err(err)?;
    let text = String::from_utf8_lossy(&text).into_owned();
    if code.is_none() {
        return Err(err(format!(
            "refused the request (HTTP {status}): {}",
            text.trim()
        )));
    }
    let answer: RemoteAnswer = serde_json::from_str(&text)
        .map_err(|e| err(format!("unreadable answer (HTTP {status}): {e}")))?;
    let code = answer.exit;
    // Output and errors go where a local run puts them.
    out.write_all(answer.stdout.as_bytes())?;
    if !answer.stderr.is_empty() {
        eprint!("{}", answer.stderr);
    }
    Ok(match code {
        0 => ExitCode::Ok,
        2 => ExitCode::Usage,
        3 => ExitCode::NothingRead,
        _ => ExitCode::Failure,
    })
}
