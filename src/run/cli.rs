//! The command line: clap definitions, and each command as a call into the
//! library. Output formatting for people (tables) and machines (NDJSON)
//! lives here too.

use crate::fetch::crawl::Progress;
use crate::fetch::http::HostStats;
use crate::file::export::ExportOptions;
use crate::judge::index::ListingIndex;
use crate::judge::score::{Finding, Verdict};
use crate::marketplaces::{self, PageOutcome};
use crate::model::config::Config;
use crate::model::error::Error;
use crate::model::recording::Recording;
use crate::model::watchlist::Watchlist;
use crate::run::cycle::{run_cycle, PageSource};
pub use crate::run::exit::{
    exit_code_for, CliError, CliResult, ExitCode, DEFAULT_DATA_DIR, DEFAULT_RECORDING,
    DEFAULT_WATCHLIST,
};
use crate::run::ndjson::{self, EmptyPage, HostStatsLine, Line};
use crate::run::scan::ScanReport;
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

#[derive(Parser, Debug)]
#[command(
    name = "knockoff",
    version,
    about = "Hunts counterfeits of a brand on Alibaba Group marketplaces and drafts IPP takedown complaints"
)]
pub struct Cli {
    /// Colour in logs on stderr: `auto` (on a terminal, unless `NO_COLOR`
    /// is set), `always` or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a stream that is (or is not) a
    /// terminal, given the `NO_COLOR` variable (<https://no-color.org>:
    /// any non-empty value turns colour off).
    pub fn enabled(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a recording (default: the demo brand over seeds/) and report findings.
    Scan {
        /// Brand watchlist (TOML).
        #[arg(long, default_value = DEFAULT_WATCHLIST)]
        watchlist: PathBuf,
        /// Recording folder to replay (manifest.toml + files).
        #[arg(long, default_value = DEFAULT_RECORDING, conflicts_with = "live")]
        replay: PathBuf,
        /// Crawl the marketplaces live instead of replaying a recording.
        #[arg(long)]
        live: bool,
        /// Live-crawl configuration (rates, timeouts, user agent, base URLs).
        #[arg(long, requires = "live")]
        config: Option<PathBuf>,
        /// Record every response of the live crawl into this folder
        /// (manifest.toml + files, and a WARC file).
        #[arg(long, requires = "live")]
        record: Option<PathBuf>,
        /// Data folder for the store and index.
        #[arg(long, env = "KNOCKOFF_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// One JSON object per finding (NDJSON) instead of the table.
        #[arg(long)]
        json: bool,
        /// Show cleared listings in the table too.
        #[arg(long)]
        all: bool,
    },
    /// Export complaints from a data folder: IPP batches, CSV/JSON, HTML report, evidence bundles.
    Export {
        /// Data folder a scan wrote.
        #[arg(long, env = "KNOCKOFF_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Output folder (created; re-exporting into it keeps complaint ids).
        #[arg(long)]
        out: PathBuf,
        /// Folders of WARC files from live crawls, to copy the records of
        /// each captured page into its bundle.
        #[arg(long = "warc")]
        warc: Vec<PathBuf>,
        /// Batch cases already filed too (submitted or later); by default
        /// an export batches only cases not yet filed (drafted, approved).
        #[arg(long)]
        include_filed: bool,
        /// Also render each captured page to a dated PNG screenshot with
        /// Chromium (scripts and network off), when one is installed.
        #[arg(long)]
        screenshots: bool,
    },
    /// Verify an export folder or one evidence bundle against its manifest.json.
    Verify {
        /// Export folder or bundle folder.
        dir: PathBuf,
    },
    /// Serve a recording over loopback HTTP as a stand-in marketplace.
    MockMarket {
        /// Recording folder to serve.
        #[arg(long, default_value = DEFAULT_RECORDING)]
        recording: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
    },
    /// Watch one brand on a schedule: rescans, cases, relistings, metrics.
    Daemon(crate::run::daemon::DaemonArgs),
    /// List, show and move complaint cases; deadlines due soon.
    Cases(crate::run::cases::CasesArgs),
    /// Serve the analyst's desk (review queue, listings, cases, sellers,
    /// dashboard) from a data folder in the browser.
    Ui(crate::run::desk::UiArgs),
    /// Show what the parser sees in one saved page.
    Parse {
        /// The URL the page was fetched from (chooses the platform and page type).
        #[arg(long)]
        url: String,
        /// Content-Type the page was served with (for charset sniffing).
        #[arg(long)]
        content_type: Option<String>,
        /// The saved page.
        file: PathBuf,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) to standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output: `knockoff man |
    /// man -l -`.
    Man,
    /// Print the JSON Schema of knockoff's JSON lines (every `type`, as
    /// `docs/ndjson.schema.json` holds it).
    Schema,
    /// Search the listings of a data folder (titles and sellers, fuzzy).
    Search {
        #[arg(long, env = "KNOCKOFF_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Maximum results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// List the spellings of a mark found in the index instead of searching.
        #[arg(long)]
        variants: bool,
        query: String,
    },
    /// Hash image files: one JSON line per file (hashes in hex, width, height).
    Hash {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Match image files against a folder of official photos: one JSON line per file.
    Match {
        /// Folder of official (reference) photos.
        #[arg(long)]
        reference: PathBuf,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Drop the stored bytes of captured pages and photos older than a
    /// limit, keeping every capture that is evidence of a case or of a
    /// listing flagged or in review (the daemon does it after each cycle
    /// with `[daemon] keep_pages`).
    Prune {
        #[arg(long, env = "KNOCKOFF_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
        /// Keep captures younger than this: `90d`, `26w`, `4320h`.
        #[arg(long)]
        older_than: String,
        /// Count what would be dropped; drop nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON line (`type` `retention`) instead of the sentence.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite the store into a fresh database, giving back the space of
    /// the old versions of records it keeps (a year of daemon cycles
    /// leaves most of the store's file to them). Not while a daemon or
    /// another command has the data folder open.
    Compact {
        #[arg(long, env = "KNOCKOFF_DATA", default_value = DEFAULT_DATA_DIR)]
        data: PathBuf,
    },
    /// Evaluate image matching on a folder of photos: recall per transform, false-match rate.
    EvalImages {
        /// Folder of original photos.
        #[arg(long, default_value = "seeds/photos")]
        photos: PathBuf,
    },
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Usage as i32
            } else {
                0
            };
        }
    };
    let json_logs = matches!(&cli.command, Command::Daemon(a) if a.log_format == "json");
    init_tracing(
        json_logs,
        matches!(cli.command, Command::Daemon(_)),
        cli.color,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::Failure as i32;
        }
    };
    let code = runtime.block_on(run(cli));
    code as i32
}

/// Sets up logs on stderr: `RUST_LOG` wins; otherwise warnings only, and
/// the daemon's own progress (info) for `knockoff daemon`. Human lines
/// (coloured on a terminal), or JSON lines with `--log-format json`.
fn init_tracing(json: bool, daemon: bool, color: ColorChoice) {
    use std::io::IsTerminal;
    let default = if daemon { "warn,knockoff=info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Through the progress bars' writer: a line logged while bars are
    // drawn prints above them, not through them (a plain write to stderr
    // when none are).
    let writer = tracing_indicatif::IndicatifWriter::<tracing_indicatif::writer::Stderr>::new(
        crate::fetch::progress::multi(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder
            .with_ansi(color.enabled(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
            ))
            .try_init()
    };
}

/// Runs one command.
pub async fn run(cli: Cli) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        Command::Scan {
            watchlist,
            replay,
            live,
            config,
            record,
            data,
            json,
            all,
        } => {
            // `KNOCKOFF_CONFIG` stands for `--config` on a live scan.
            let config = config.or_else(|| {
                live.then(|| std::env::var_os("KNOCKOFF_CONFIG").map(PathBuf::from))?
            });
            let source = if live {
                match config.as_deref().map(Config::load).transpose() {
                    Ok(c) => Ok(PageSource::Live {
                        config: Box::new(c.unwrap_or_default()),
                        record,
                    }),
                    Err(e) => Err(e),
                }
            } else {
                Ok(PageSource::Replay(replay))
            };
            match source {
                Ok(source) => scan_command(&watchlist, &source, &data, json, all, &mut out).await,
                Err(e) => Err(e.into()),
            }
        }
        Command::Export {
            data,
            out: dir,
            warc,
            include_filed,
            screenshots,
        } => export_command(
            &data,
            &dir,
            ExportOptions {
                warc_dirs: warc,
                include_filed,
                screenshots,
                // `export` has no JSON output: drawn on a terminal.
                progress: crate::fetch::progress::Bars::for_stderr(false),
            },
            &mut out,
        ),
        Command::Verify { dir } => verify_command(&dir, &mut out),
        Command::MockMarket { recording, addr } => {
            eprintln!(
                "serving {} at http://{addr}/<platform>/... (Ctrl-C stops)",
                recording.display()
            );
            crate::fetch::mock::run_mock_market(&recording, addr)
                .await
                .map(|_| ExitCode::Ok)
                .map_err(CliError::from)
        }
        Command::Daemon(args) => crate::run::daemon::run(args).await,
        Command::Cases(args) => crate::run::cases::run(args, &mut out),
        Command::Ui(args) => crate::run::desk::run(args).await,
        Command::Parse {
            url,
            content_type,
            file,
        } => parse_command(&url, content_type.as_deref(), &file, &mut out),
        Command::Search {
            data,
            limit,
            variants,
            query,
        } => search_command(&data, &query, limit, variants, &mut out),
        Command::Prune {
            data,
            older_than,
            dry_run,
            json,
        } => prune_command(&data, &older_than, dry_run, json, &mut out),
        Command::Compact { data } => compact_command(&data, &mut out),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "knockoff", &mut out);
            Ok(ExitCode::Ok)
        }
        Command::Schema => out
            .write_all(ndjson::schema().as_bytes())
            .map(|_| ExitCode::Ok)
            .map_err(CliError::from),
        Command::Man => clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
            .render(&mut out)
            .map(|_| ExitCode::Ok)
            .map_err(|e| Error::Other(format!("man page: {e}")).into()),
        Command::Hash { files } => ndjson::run_hash(&files, &mut out)
            .map(|_| ExitCode::Ok)
            .map_err(CliError::from),
        Command::Match { reference, files } => ndjson::run_match(&reference, &files, &mut out)
            .map(|_| ExitCode::Ok)
            .map_err(CliError::from),
        Command::EvalImages { photos } => {
            let bars = crate::fetch::progress::Bars::for_stderr(false);
            crate::judge::imagehash::eval::run_eval(&photos, bars, &mut out)
                .map(|_| ExitCode::Ok)
                .map_err(CliError::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(CliError::BrokenPipe) => ExitCode::Ok,
        Err(CliError::Knockoff(e)) => {
            eprintln!("error: {e}");
            exit_code_for(&e)
        }
    }
}

async fn scan_command(
    watchlist: &Path,
    source: &PageSource,
    data: &Path,
    json: bool,
    all: bool,
    out: &mut dyn Write,
) -> CliResult {
    if watchlist == Path::new(DEFAULT_WATCHLIST) && !watchlist.exists() {
        // Run outside a checkout (an installed binary): the demo's files
        // are relative to the checkout, so say how to start.
        return Err(Error::Config {
            path: watchlist.to_path_buf(),
            message: "no watchlist given, and the demo's is not in this folder. Run \
                      `knockoff scan` inside a knockoff checkout for the demo brand over its \
                      recorded pages, or give your brand: `knockoff scan --watchlist \
                      BRAND.toml --recording DIR` (recorded pages) or `--live --config \
                      knockoff.toml` (see README.md, \"Watchlist format\" and \"Live \
                      crawling\")"
                .to_string(),
        }
        .into());
    }
    let wl = Watchlist::load(watchlist)?;
    if let PageSource::Replay(dir) = source {
        // Fail on a bad recording before touching the data folder.
        Recording::open(dir)?;
    }
    let store = Store::open(data)?;
    let index = ListingIndex::open(data)?;
    let progress = Progress::for_stderr(json);
    let report = run_cycle(
        &wl,
        source,
        Some(&store),
        Some(&index),
        // The filing date is China's: the platforms count in China time.
        crate::file::cases::deadline::china_date(chrono::Utc::now()),
        &progress,
    )
    .await?;
    // Records of the store that could not be read were skipped (and
    // logged); the summary names them so nothing is lost silently.
    for s in store.skipped() {
        eprintln!("warning: store record skipped: {s}");
    }
    if json {
        // Every line says what it is (`"type"`): findings, then one line
        // per host of a live crawl.
        for f in &report.scan.findings {
            writeln!(out, "{}", Line::Finding(f).to_json())?;
        }
        for (host, stats) in &report.hosts {
            let l = Line::HostStats(HostStatsLine { host, stats });
            writeln!(out, "{}", l.to_json())?;
        }
    } else {
        print_table(&report.scan, all, out)?;
        print_summary(&report.scan, out)?;
        print_hosts(&report.hosts, out)?;
        if let Some(rec) = &report.recorded {
            writeln!(
                out,
                "Recorded {} responses in {} (WARC {})",
                rec.pages,
                rec.dir.display(),
                rec.warc.display()
            )?;
        }
    }
    Ok(if report.fetched == 0 || !report.parsed_any() {
        eprintln!(
            "error: no page could be read: {} fetched, {} read, all failed, blocked or drifted",
            report.fetched, report.scan.pages_read
        );
        ExitCode::NothingRead
    } else {
        ExitCode::Ok
    })
}

/// Per-host fetch statistics of a live scan.
pub fn print_hosts(
    hosts: &std::collections::BTreeMap<String, HostStats>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if hosts.is_empty() {
        return Ok(());
    }
    writeln!(out, "Hosts:")?;
    for (host, s) in hosts {
        write!(
            out,
            "  {host}: {} fetched, {} failed, {} retried, {} blocked, {} disallowed by robots.txt, {} bytes",
            s.fetched, s.failed, s.retried, s.blocked, s.disallowed, s.bytes
        )?;
        if s.slowed > 0 {
            write!(
                out,
                "; slowed {} times (down to {:.0}% of its rate)",
                s.slowed,
                s.slowest_rate_fraction * 100.0
            )?;
        }
        if s.longest_pause_secs > 0.0 {
            write!(
                out,
                "; paused up to {:.1} s by Retry-After",
                s.longest_pause_secs
            )?;
        }
        match &s.backed_off {
            Some(why) => {
                writeln!(out, "; LEFT ALONE for the rest of the run: {why}")?;
                for url in &s.refused_urls {
                    writeln!(out, "    refused: {url}")?;
                }
            }
            None => writeln!(out)?,
        }
    }
    Ok(())
}

fn export_command(data: &Path, dir: &Path, opts: ExportOptions, out: &mut dyn Write) -> CliResult {
    let summary = crate::file::export::export_with(data, dir, &opts)?;
    write_block(out, &summary.to_string())?;
    Ok(ExitCode::Ok)
}

/// Writes text, ending it with a newline if it has none.
fn write_block(out: &mut dyn Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

fn verify_command(dir: &Path, out: &mut dyn Write) -> CliResult {
    let report = crate::file::export::verify(dir)?;
    write_block(out, &report.to_string())?;
    Ok(if report.is_ok() {
        ExitCode::Ok
    } else {
        ExitCode::Failure
    })
}

/// The findings table: one row per listing, reasons one per line below.
pub fn print_table(report: &ScanReport, all: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let rows: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| all || f.verdict != Verdict::Clear)
        .collect();
    if rows.is_empty() {
        writeln!(out, "No listing flagged or in need of review.")?;
        return Ok(());
    }
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|f| {
            [
                f.platform.as_str().to_string(),
                f.listing_id.clone(),
                truncate(f.seller.as_deref().unwrap_or("-"), 28),
                f.price
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                f.score.to_string(),
                f.verdict.as_str().to_uppercase(),
            ]
        })
        .collect();
    let headers = [
        "PLATFORM",
        "LISTING ID",
        "SELLER",
        "PRICE",
        "SCORE",
        "VERDICT",
    ];
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(c));
        }
    }
    let line = |cols: &[String]| {
        cols.iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(display_width(c)))))
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(out, "{}", line(&headers.map(String::from)).trim_end())?;
    for (f, row) in rows.iter().zip(&cells) {
        writeln!(out, "{}", line(row).trim_end())?;
        writeln!(out, "    {}", truncate(&f.title, 100))?;
        for r in &f.reasons {
            writeln!(out, "    - {r}")?;
        }
        if let Some(d) = f.filing_draft() {
            writeln!(
                out,
                "    > draft: {} complaint on {} {} ({}), reason {}",
                d.platform,
                d.right_kind.as_str(),
                d.registration_number,
                d.jurisdiction,
                d.reason_code.as_str()
            )?;
            for a in &d.alternatives {
                writeln!(
                    out,
                    "      (also possible, not filed: {} {} ({}))",
                    a.right_kind.as_str(),
                    a.registration_number,
                    a.jurisdiction
                )?;
            }
        }
        for n in &f.needs_right {
            writeln!(out, "    ! needs_right: {}", n.message)?;
        }
        for e in &f.errors {
            writeln!(out, "    ! {e}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// The summary: pages, listings per platform, verdicts, errors, coverage.
pub fn print_summary(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    let per: Vec<String> = report
        .per_platform
        .iter()
        .map(|(p, s)| format!("{p} {}", s.listings))
        .collect();
    writeln!(
        out,
        "Summary: {} pages read; listings parsed: {}; flagged {}, needs review {}, cleared {}; errors {}",
        report.pages_read,
        if per.is_empty() { "none".to_string() } else { per.join(", ") },
        report.count(Verdict::Flag),
        report.count(Verdict::Review),
        report.count(Verdict::Clear),
        report.problems.len()
    )?;
    for (p, s) in &report.per_platform {
        let cov: Vec<String> = s
            .coverage()
            .iter()
            .map(|(name, share)| format!("{name} {:.0}%", share * 100.0))
            .collect();
        let warn = if s.drifting() {
            "  WARNING: parser drift — check the layout"
        } else {
            ""
        };
        writeln!(
            out,
            "  {p}: {} pages ({} blocked, {} drift, {} failed); coverage {}{warn}",
            s.pages,
            s.blocked,
            s.drift,
            s.failed,
            cov.join(", ")
        )?;
    }
    for e in &report.expiring {
        writeln!(out, "WARNING: {e}")?;
    }
    if !report.cases_opened.is_empty() {
        writeln!(
            out,
            "Cases opened: {} (one per flagged listing with a right to file on; `knockoff cases list`, then `knockoff export`)",
            report.cases_opened.len()
        )?;
    } else if report.count(Verdict::Flag) > 0 {
        // A rescan: say where the flagged listings' cases are, rather than
        // nothing (no listing gets a second case).
        writeln!(
            out,
            "No new cases: the flagged listings have theirs from an earlier scan, or no right to file on (`knockoff cases list`)"
        )?;
    }
    if !report.problems.is_empty() {
        writeln!(out, "Problems:")?;
        for p in &report.problems {
            // A message that names its URL already (a photo's decode or
            // fetch error) is not prefixed with it a second time.
            if p.message.contains(&p.url) {
                writeln!(out, "  [{}] {}", p.kind, p.message)?;
            } else {
                writeln!(out, "  [{}] {}: {}", p.kind, p.url, p.message)?;
            }
        }
    }
    Ok(())
}

/// Columns a cell takes on a terminal (CJK and full-width forms take two,
/// combining marks none), by Unicode's East Asian Width (`unicode-width`).
fn display_width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` terminal columns, with `…` when cut; never
/// splits a wide character.
fn truncate(s: &str, max: usize) -> String {
    if display_width(s) <= max {
        return s.to_string();
    }
    let mut t = String::new();
    let mut width = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if width + w > max.saturating_sub(1) {
            break;
        }
        width += w;
        t.push(c);
    }
    t.push('…');
    t
}

fn parse_command(
    url: &str,
    content_type: Option<&str>,
    file: &Path,
    out: &mut dyn Write,
) -> CliResult {
    let (platform, parsed) = marketplaces::platform_for_url(url)?;
    let bytes = std::fs::read(file).map_err(|e| Error::input(file, e))?;
    let outcome = marketplaces::parse_page(platform, &parsed, &bytes, content_type);
    match &outcome {
        PageOutcome::Ok {
            listings,
            page,
            total,
            ..
        } if listings.is_empty() => {
            let l = Line::EmptyPage(EmptyPage {
                platform,
                page: *page,
                total: *total,
                url,
            });
            writeln!(out, "{}", l.to_json())?;
        }
        PageOutcome::Ok { listings, .. } => {
            for l in listings {
                writeln!(out, "{}", Line::Listing(l).to_json())?;
            }
        }
        other => {
            if let Some(l) = Line::of_page(other) {
                writeln!(out, "{}", l.to_json())?;
            }
        }
    }
    Ok(ExitCode::Ok)
}

fn prune_command(
    data: &Path,
    older_than: &str,
    dry_run: bool,
    json: bool,
    out: &mut dyn Write,
) -> CliResult {
    let older =
        crate::run::daemon::schedule::parse_duration(older_than).map_err(|m| Error::Config {
            path: PathBuf::from("--older-than"),
            message: m,
        })?;
    let store = Store::open_existing(data)?;
    let r = crate::file::retention::prune(&store, older, chrono::Utc::now(), dry_run)?;
    if json {
        writeln!(out, "{}", ndjson::Line::Retention(&r).to_json())?;
    } else {
        writeln!(
            out,
            "{} {} captures ({:.1} MB) older than {older_than}; kept {} as evidence, {} younger; {} examined",
            if dry_run { "would drop" } else { "dropped" },
            r.dropped,
            r.bytes_dropped as f64 / 1e6,
            r.kept_as_evidence,
            r.kept_young,
            r.examined
        )?;
    }
    Ok(ExitCode::Ok)
}

fn compact_command(data: &Path, out: &mut dyn Write) -> CliResult {
    let c = Store::compact(data)?;
    writeln!(
        out,
        "compacted {}: {:.1} MB -> {:.1} MB, {} keys, in {:.1} s",
        data.join("store").display(),
        c.bytes_before as f64 / 1e6,
        c.bytes_after as f64 / 1e6,
        c.keys,
        c.seconds
    )?;
    Ok(ExitCode::Ok)
}

fn search_command(
    data: &Path,
    query: &str,
    limit: usize,
    variants: bool,
    out: &mut dyn Write,
) -> CliResult {
    if !data.join("index").is_dir() {
        return Err(Error::Other(format!(
            "{}: no index here (run `knockoff scan --data {}` first)",
            data.display(),
            data.display()
        ))
        .into());
    }
    let index = ListingIndex::open(data)?;
    if variants {
        for v in index.mark_variants(query)? {
            writeln!(out, "{}", Line::MarkVariant(&v).to_json())?;
        }
    } else {
        for hit in index.search(query, limit)? {
            writeln!(out, "{}", Line::SearchHit(&hit).to_json())?;
        }
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::{display_width, truncate, ColorChoice};
    use std::ffi::OsStr;

    #[test]
    fn table_cells_are_measured_and_cut_in_terminal_columns() {
        assert_eq!(display_width("AURORA"), 6);
        assert_eq!(display_width("奥罗拉旗舰店"), 12);
        assert_eq!(display_width("ＡＵＲＯＲＡ"), 12); // full-width letters
        assert_eq!(display_width("e\u{301}"), 1); // a combining accent takes no column
        assert_eq!(truncate("short", 28), "short");
        // Cut by columns: 奥罗拉旗舰店 is 12 columns; 7 allowed means three
        // wide characters (6) and the ellipsis, never half a character.
        assert_eq!(truncate("奥罗拉旗舰店", 7), "奥罗拉…");
        assert_eq!(display_width(&truncate("奥罗拉旗舰店", 8)), 7);
        assert_eq!(truncate("Best Coffee Gear Store", 10), "Best Coff…");
    }

    #[test]
    fn no_color_turns_auto_off_on_a_terminal_and_flags_win() {
        assert!(ColorChoice::Auto.enabled(true, None));
        assert!(!ColorChoice::Auto.enabled(true, Some(OsStr::new("1"))));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(ColorChoice::Auto.enabled(true, Some(OsStr::new(""))));
        assert!(!ColorChoice::Auto.enabled(false, None));
        assert!(ColorChoice::Always.enabled(false, Some(OsStr::new("1"))));
        assert!(!ColorChoice::Never.enabled(true, None));
    }
}
