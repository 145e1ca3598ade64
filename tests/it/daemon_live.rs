//! The daemon crawling live over real loopback HTTP (the mock marketplace
//! serving a recording): cases open from the crawl, per-host metrics come
//! from the fetcher, and a submitted case's removal is verified by fetching
//! the listing's page at the configured base (the mock answers 404).
//!
//! And the daemon binary's endpoint against hostile clients (issue 19,
//! finding 4): no token, a foreign `Host` (DNS rebinding), a foreign or
//! `null` `Origin`, no JSON content type, an oversized body and a
//! client-supplied holiday path are all refused, and nothing changes; the
//! `knockoff cases` client still works with the folder's token. A daemon
//! whose cycles all failed exits 1 (finding 9).

use crate::daemon_support as support;

use chrono::{DateTime, Utc};
use knockoff::fetch::mock::{Faults, MockMarket};
use knockoff::file::cases::book::CaseBook;
use knockoff::file::cases::deadline::Calendar;
use knockoff::file::cases::state::CaseState;
use knockoff::model::config::{Config, PlatformConfig};
use knockoff::model::listing::Platform;
use knockoff::model::watchlist::Watchlist;
use knockoff::run::cycle::PageSource;
use knockoff::run::daemon::clock::FakeClock;
use knockoff::run::daemon::metrics::{render, snapshot};
use knockoff::run::daemon::{Daemon, DaemonSettings};
use std::sync::Arc;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_daemon_verifies_removal_against_the_configured_base() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = support::small_recording(&tmp.path().join("rec"));
    let mock = MockMarket::start(Some(&rec), Faults::none()).await.unwrap();
    let mut config = Config::default();
    config.crawl.requests_per_second = 200.0;
    config.crawl.concurrency_per_host = 4;
    config.crawl.backoff_base_millis = 5;
    config.crawl.max_pages_per_term = 2;
    config.platforms.insert(
        Platform::AliExpress.as_str().into(),
        PlatformConfig {
            base_url: Some(mock.base_url(Platform::AliExpress)),
            ..Default::default()
        },
    );
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let daemon = Daemon::open(
        &tmp.path().join("data"),
        DaemonSettings {
            watchlist: Watchlist::load(support::cup_watchlist(tmp.path())).unwrap(),
            source: PageSource::Live {
                config: Box::new(config),
                record: None,
            },
            gone_after: 3,
            calendar: Calendar::default(),
        },
        clock.clone(),
    )
    .unwrap();

    let c1 = daemon.cycle().await.unwrap();
    assert_eq!(
        c1.report.scan.findings.len(),
        36,
        "{:?}",
        c1.report.scan.problems
    );
    assert!(!c1.after.cases_opened.is_empty());
    let m = snapshot(&daemon.metrics());
    let fetched: u64 = m.pages_fetched.values().sum();
    assert!(fetched >= 2, "{}", render(&m));
    assert_eq!(m.cycles_ok, 1);

    let book = CaseBook::open(daemon.store()).unwrap();
    let case = book.all().unwrap().remove(0);
    book.move_case(
        &case.id,
        CaseState::Approved,
        t("2026-11-30T10:00:00Z"),
        None,
        "cli",
        None,
    )
    .unwrap();
    book.move_case(
        &case.id,
        CaseState::Submitted,
        t("2026-11-30T11:00:00Z"),
        None,
        "cli",
        None,
    )
    .unwrap();

    // The item page is not in the recording: the mock answers 404.
    clock.set(t("2026-12-01T09:00:00Z"));
    let c2 = daemon.cycle().await.unwrap();
    assert_eq!(c2.after.removals_verified, vec![case.id.clone()]);
    let removed = book.get(&case.id).unwrap().unwrap();
    assert_eq!(removed.state, CaseState::Removed);
    let proof = removed.removal_proof().unwrap();
    assert_eq!(proof.status, 404);
    // Evidence cites the marketplace URL, not the mock's.
    assert_eq!(proof.url, case.listing_url);
    assert!(
        mock.requests()
            .iter()
            .any(|r| r.path.contains(&case.listing_id)),
        "the item page was asked of the mock"
    );
}

/// Marketplaces answer a taken-down item with 200 and an "item
/// unavailable" page, not 404: the mock serves AliExpress's not-found page
/// (tests/fixtures/real/gone/aliexpress-page-not-found.html, mirroring the
/// public pages named in tests/real_pages/gone.rs) for every item, and the
/// submitted case is closed as removed with that capture and the marker
/// that decided in its proof.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_daemon_verifies_removal_from_a_200_item_unavailable_page() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = support::small_recording(&tmp.path().join("rec"));
    let gone_page = std::fs::read(
        support::root().join("tests/fixtures/real/gone/aliexpress-page-not-found.html"),
    )
    .unwrap();
    std::fs::write(rec.join("gone.html"), &gone_page).unwrap();
    let mut manifest = std::fs::read_to_string(rec.join("manifest.toml")).unwrap();
    for i in 0..36u64 {
        manifest.push_str(&format!(
            "[[page]]\nurl = \"https://www.aliexpress.com/item/10050080000{i:05}.html\"\nfile = \"gone.html\"\ncaptured_at = \"2026-11-30T08:00:09Z\"\nstatus = 200\ncontent_type = \"text/html; charset=utf-8\"\n\n"
        ));
    }
    std::fs::write(rec.join("manifest.toml"), manifest).unwrap();
    let mock = MockMarket::start(Some(&rec), Faults::none()).await.unwrap();
    let mut config = Config::default();
    config.crawl.requests_per_second = 200.0;
    config.crawl.concurrency_per_host = 4;
    config.crawl.backoff_base_millis = 5;
    config.crawl.max_pages_per_term = 2;
    config.platforms.insert(
        Platform::AliExpress.as_str().into(),
        PlatformConfig {
            base_url: Some(mock.base_url(Platform::AliExpress)),
            ..Default::default()
        },
    );
    let clock = Arc::new(FakeClock::new(t("2026-11-30T09:00:00Z")));
    let daemon = Daemon::open(
        &tmp.path().join("data"),
        DaemonSettings {
            watchlist: Watchlist::load(support::cup_watchlist(tmp.path())).unwrap(),
            source: PageSource::Live {
                config: Box::new(config),
                record: None,
            },
            gone_after: 3,
            calendar: Calendar::default(),
        },
        clock.clone(),
    )
    .unwrap();
    let c1 = daemon.cycle().await.unwrap();
    assert!(!c1.after.cases_opened.is_empty());
    assert!(c1.after.removals_verified.is_empty());

    let book = CaseBook::open(daemon.store()).unwrap();
    let case = book.all().unwrap().remove(0);
    for (state, at) in [
        (CaseState::Approved, "2026-11-30T10:00:00Z"),
        (CaseState::Submitted, "2026-11-30T11:00:00Z"),
    ] {
        book.move_case(&case.id, state, t(at), None, "cli", None)
            .unwrap();
    }
    clock.set(t("2026-12-01T09:00:00Z"));
    let c2 = daemon.cycle().await.unwrap();
    assert_eq!(c2.after.removals_verified, vec![case.id.clone()]);
    let removed = book.get(&case.id).unwrap().unwrap();
    assert_eq!(removed.state, CaseState::Removed);
    let proof = removed.removal_proof().unwrap();
    assert_eq!(proof.status, 200);
    assert_eq!(proof.url, case.listing_url);
    assert_eq!(proof.found_in.as_deref(), Some("main content"));
    assert!(
        proof
            .marker
            .as_deref()
            .unwrap()
            .contains("can not be found"),
        "{proof:?}"
    );
    // The capture is kept: its bytes are the page served.
    let kept = daemon.store().blob(&proof.sha256).unwrap().unwrap();
    assert_eq!(kept, gone_page);
    let reason = removed.history.last().unwrap().reason.clone().unwrap();
    assert!(reason.contains("item-unavailable page"), "{reason}");
}

// ---- The daemon binary's endpoint (issue 19, findings 4 and 9). ----

use knockoff::run::cases::{CasesAction, RemoteCases};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: only reached when something is broken.
const PATIENCE: Duration = Duration::from_secs(90);

fn spawn_daemon(dir: &Path, watchlist: &Path, extra: &[&str]) -> (Child, std::path::PathBuf) {
    let rec = support::small_recording(&dir.join("rec"));
    let log = dir.join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .arg("daemon")
        .arg("--watchlist")
        .arg(watchlist)
        .arg("--replay")
        .arg(&rec)
        .arg("--data")
        .arg(dir.join("data"))
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .args(["--jitter", "0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .expect("start the daemon");
    (child, log)
}

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The endpoint address, from the daemon's start line.
fn endpoint(child: &mut Child, log: &Path) -> String {
    wait_until("the daemon's endpoint", || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "daemon exited early: {status}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        let text = std::fs::read_to_string(log).ok()?;
        let at = text.find("endpoint http://")? + "endpoint http://".len();
        let end = at + text[at..].find('/')?;
        Some(text[at..end].to_string())
    })
}

/// One raw HTTP/1.1 request: (status, lower-case head, body).
fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (and close) before it has read all of an
    // oversized body: a failed write is not the test's concern.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if !buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the answer to {head:?}: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (h, b) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = h.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, h.to_ascii_lowercase(), b.to_string())
}

fn post_cases(addr: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    let mut head = format!(
        "POST /cases HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    raw(addr, &head, body)
}

fn get(addr: &str, host: &str, path: &str) -> (u16, String, String) {
    raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        b"",
    )
}

fn knockoff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .output()
        .expect("run knockoff")
}

fn case_state(data: &str) -> String {
    let out = knockoff(&["cases", "--data", data, "show", "1", "--json"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&text).expect(&text);
    v["state"].as_str().unwrap().to_string()
}

fn stop(child: &mut Child) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait_until("the daemon to stop", || child.try_wait().unwrap());
}

#[cfg(unix)]
#[test]
fn regression_issue19_daemon_endpoint_refuses_hostile_clients() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let wl = support::cup_watchlist(tmp.path());
    let (mut child, log) = spawn_daemon(tmp.path(), &wl, &["--every", "1h"]);
    let addr = endpoint(&mut child, &log);
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();

    // /metrics is open to read (Prometheus), from an allowed Host only.
    wait_until("the first cycle", || {
        let (status, _, text) = get(&addr, &addr, "/metrics");
        assert_eq!(status, 200, "{text}");
        let samples = knockoff::run::daemon::metrics::parse(&text).ok()?;
        samples
            .iter()
            .any(|(n, l, v)| {
                n == "knockoff_cycles_total"
                    && l.get("outcome").map(String::as_str) == Some("ok")
                    && *v >= 1.0
            })
            .then_some(())
    });
    for host in ["evil.example", "rebind.evil.example:80"] {
        let host = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:{}", addr.rsplit_once(':').unwrap().1)
        };
        let (status, _, body) = get(&addr, &host, "/metrics");
        assert_eq!(status, 403, "Host {host}: {body}");
        assert!(!body.contains("knockoff_cases"), "{body}");
    }
    let (status, _, body) = get(&addr, &addr, "/healthz");
    assert_eq!(status, 200, "{body}");

    // The token: 64 hex characters, mode 0600, in the data folder.
    let token_file = data.join(knockoff::run::access::TOKEN_FILE);
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(token.len(), 64);
    let bearer = format!("Bearer {token}");
    let auth = ("Authorization", bearer.as_str());
    let json = ("Content-Type", "application/json");

    // The daemon serves the analyst's desk on the same address, behind
    // the same token; `knockoff ui` on its folder points here.
    let (status, _, _) = get(&addr, &addr, "/queue");
    assert_eq!(status, 401);
    let (status, head, _) = get(&addr, &addr, &format!("/?token={token}"));
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("set-cookie: knockoff_token_"), "{head}");
    let port = addr.rsplit_once(':').unwrap().1;
    let (status, _, body) = raw(
        &addr,
        &format!(
            "GET /queue HTTP/1.1\r\nHost: {addr}\r\nCookie: knockoff_token_{port}={token}\r\nConnection: close\r\n\r\n"
        ),
        b"",
    );
    assert_eq!(status, 200);
    assert!(body.contains("Review queue"), "{body}");
    let ui = knockoff(&["ui", "--data", d, "--listen", "127.0.0.1:0"]);
    assert_eq!(ui.status.code(), Some(2));
    let said = String::from_utf8_lossy(&ui.stderr);
    assert!(said.contains("its desk is at http://"), "{said}");

    assert_eq!(case_state(d), "drafted");
    let approve = serde_json::to_vec(&RemoteCases {
        action: CasesAction::Move {
            args: vec!["1".into(), "approved".into()],
            batch: None,
            reference: None,
            reason: None,
            at: None,
        },
    })
    .unwrap();
    let port = addr.rsplit_once(':').unwrap().1;
    let evil_host = format!("evil.example:{port}");
    let wrong = format!("Bearer {}", "0".repeat(64));
    let refused: Vec<(u16, Vec<(&str, &str)>)> = vec![
        (401, vec![json]),
        (401, vec![json, ("Authorization", wrong.as_str())]),
        (401, vec![json, ("Authorization", token.as_str())]),
        (403, vec![auth, json, ("Origin", "http://evil.example")]),
        (403, vec![auth, json, ("Origin", "null")]),
        (403, vec![auth, json, ("Sec-Fetch-Site", "cross-site")]),
        (403, vec![auth]),
        (403, vec![auth, ("Content-Type", "text/plain")]),
        (
            403,
            vec![auth, ("Content-Type", "application/x-www-form-urlencoded")],
        ),
        (403, vec![auth, json, ("Host", evil_host.as_str())]),
    ];
    for (want, headers) in &refused {
        let (status, head, body) = post_cases(&addr, headers, &approve);
        assert_eq!(status, *want, "{headers:?}: {body}");
        assert!(!head.contains("x-knockoff-exit"), "{headers:?}: {head}");
    }
    // Over the body limit: 413, before anything runs.
    let mut big = approve.clone();
    big.splice(
        1..1,
        format!("\"pad\":\"{}\",", "x".repeat(70 * 1024)).into_bytes(),
    );
    let (status, _, body) = post_cases(&addr, &[auth, json], &big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(case_state(d), "drafted", "a refused request changed a case");

    // A client-supplied holiday path is never read: a FIFO would hang the
    // daemon (the old behaviour), a TOML file would leak its value in the
    // error; the request is refused as malformed and the FIFO is not opened.
    let fifo = tmp.path().join("holidays.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let secret = tmp.path().join("secret.toml");
    std::fs::write(&secret, "holidays = \"s3cret-value\"\n").unwrap();
    for path in [
        fifo.to_str().unwrap(),
        secret.to_str().unwrap(),
        "/etc/shadow",
    ] {
        let body = serde_json::json!({
            "action": {"List": {"state": null, "json": false}},
            "holidays": path,
        });
        let started = Instant::now();
        let (status, head, text) = post_cases(&addr, &[auth, json], body.to_string().as_bytes());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{path}: slow answer"
        );
        assert_eq!(status, 200, "{path}: {text}");
        assert!(head.contains("x-knockoff-exit: 2"), "{path}: {head} {text}");
        assert!(text.contains("unknown field `holidays`"), "{path}: {text}");
        assert!(
            !text.contains("s3cret") && !text.contains(path),
            "{path}: {text}"
        );
    }
    // Nobody opened the FIFO for reading: a non-blocking writer finds no
    // reader (ENXIO).
    // SAFETY: a NUL-terminated path; the descriptor is closed if opened.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    if fd >= 0 {
        unsafe { libc::close(fd) };
    }
    assert_eq!(
        (fd, errno),
        (-1, Some(libc::ENXIO)),
        "the daemon opened the FIFO"
    );

    // The daemon still answers, and `knockoff cases` (with the folder's
    // token) still moves cases; a --holidays given to it is not sent.
    let out = knockoff(&[
        "cases",
        "--data",
        d,
        "--holidays",
        fifo.to_str().unwrap(),
        "move",
        "1",
        "approved",
    ]);
    assert!(
        out.status.success(),
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not used"));
    assert_eq!(case_state(d), "approved");
    stop(&mut child);
}

#[test]
fn regression_issue19_non_loopback_listen_needs_allow_remote() {
    let tmp = tempfile::tempdir().unwrap();
    let wl = support::cup_watchlist(tmp.path());
    let (mut child, log) = spawn_daemon(tmp.path(), &wl, &["--listen", "0.0.0.0:0"]);
    let status = wait_until("the daemon to exit", || child.try_wait().unwrap());
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(2), "{text}");
    assert!(text.contains("--allow-remote"), "{text}");
    assert!(!tmp.path().join("data").join("daemon.lock").exists());
}

#[test]
fn regression_issue19_daemon_whose_cycles_all_failed_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    // The official photo is not an image: the watchlist loads, and every
    // cycle fails when it hashes the reference photos.
    let garbage = tmp.path().join("not-a-photo.jpg");
    std::fs::write(&garbage, b"this is not a JPEG").unwrap();
    let wl = support::cup_watchlist(tmp.path());
    let text = std::fs::read_to_string(&wl).unwrap();
    let official = support::root().join("watchlists/demo/official/espresso-cup.jpg");
    let text = text.replace(official.to_str().unwrap(), garbage.to_str().unwrap());
    std::fs::write(&wl, text).unwrap();

    for extra in [
        &["--cycles", "2", "--every", "100ms"][..],
        &["--give-up-after", "2", "--every", "100ms"][..],
    ] {
        let run = tmp.path().join(extra[0].trim_start_matches('-'));
        std::fs::create_dir_all(&run).unwrap();
        let (mut child, log) = spawn_daemon(&run, &wl, extra);
        let status = wait_until("the daemon to exit", || child.try_wait().unwrap());
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(1), "{extra:?}: {text}");
        assert!(text.contains("cycle failed"), "{text}");
        assert!(text.contains("last 2 cycle(s) failed"), "{text}");
        assert!(text.contains("not-a-photo.jpg"), "{text}");
    }
}
