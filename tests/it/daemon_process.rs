//! The daemon binary as a child process: `kill -9` mid-cycle repeatedly,
//! restart, and compare the store with a clean run; one daemon per data
//! folder; SIGTERM stops it with exit 0; `knockoff cases` works through
//! the running daemon's endpoint.

#![cfg(unix)]

use crate::daemon_support as support;

use knockoff::file::cases::book::CaseBook;
use knockoff::run::daemon::tracker::Tracker;
use knockoff::store::lock::{LockInfo, LOCK_FILE};
use knockoff::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{cup_watchlist, http_get, root, small_recording};

/// Generous: only reached when something is broken.
const PATIENCE: Duration = Duration::from_secs(60);

/// A test's watchlist and recording.
struct Setup {
    watchlist: PathBuf,
    recording: PathBuf,
}

fn setup(dir: &Path) -> Setup {
    Setup {
        watchlist: cup_watchlist(dir),
        recording: small_recording(&dir.join("rec")),
    }
}

fn spawn(s: &Setup, data: &Path, log: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .arg("daemon")
        .arg("--watchlist")
        .arg(&s.watchlist)
        .arg("--replay")
        .arg(&s.recording)
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--jitter", "0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .expect("start the daemon")
}

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .output()
        .expect("run knockoff")
}

fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The endpoint of the daemon `child`, once it has written it.
fn endpoint(data: &Path, child: &mut Child) -> String {
    wait_until("the daemon's endpoint", || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("daemon exited early: {status}");
        }
        let bytes = std::fs::read(data.join(LOCK_FILE)).ok()?;
        let info: LockInfo = serde_json::from_slice(&bytes).ok()?;
        (info.pid == child.id()).then_some(info.listen).flatten()
    })
}

fn get(addr: &str, path: &str) -> Option<String> {
    http_get(addr, path).map(|(_, body)| body)
}

fn metric(addr: &str, name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    let text = get(addr, "/metrics")?;
    let samples = knockoff::run::daemon::metrics::parse(&text).ok()?;
    samples
        .into_iter()
        .find(|(n, l, _)| {
            n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
        })
        .map(|s| s.2)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    wait_until("the daemon to exit", || child.try_wait().unwrap())
}

fn signal(child: &Child, sig: i32) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
}

/// Everything the comparison covers, as JSON text per tree.
/// Listing records with their tracking records' cycle numbers set to 0:
/// a run killed and restarted counts more cycles than a clean one, and
/// everything else of the records must be the same.
fn without_cycle_numbers(
    mut listings: Vec<knockoff::store::ListingRecord>,
) -> Vec<knockoff::store::ListingRecord> {
    for rec in &mut listings {
        if let Some(serde_json::Value::Object(t)) = rec.tracking.as_mut() {
            for field in ["first_cycle", "last_seen_cycle", "missed_through_cycle"] {
                t.insert(field.into(), 0.into());
            }
            if let Some(serde_json::Value::Array(events)) = t.get_mut("events") {
                for e in events.iter_mut().filter_map(|e| e.as_object_mut()) {
                    e.insert("cycle".into(), 0.into());
                }
            }
        }
    }
    listings
}

fn dump(data: &Path) -> Vec<(String, String)> {
    let store = Store::open(data).unwrap();
    let book = CaseBook::open(&store).unwrap();
    let complaints: Vec<String> = store
        .dump_tree("complaints")
        .unwrap()
        .into_iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    vec![
        (
            "listings".into(),
            serde_json::to_string_pretty(&without_cycle_numbers(store.listings().unwrap()))
                .unwrap(),
        ),
        (
            "findings".into(),
            serde_json::to_string_pretty(&store.findings().unwrap()).unwrap(),
        ),
        (
            "cases".into(),
            serde_json::to_string_pretty(&book.all().unwrap()).unwrap(),
        ),
        ("complaints".into(), complaints.join("\n")),
    ]
}

#[test]
fn kill_9_mid_cycle_then_restart_matches_a_clean_run() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    let clean = tmp.path().join("clean");
    let crashed = tmp.path().join("crashed");

    // A clean run: two cycles, then exit.
    let started = std::time::Instant::now();
    let mut child = spawn(
        &s,
        &clean,
        &tmp.path().join("clean.log"),
        &["--every", "100ms", "--cycles", "2"],
    );
    let status = wait_exit(&mut child);
    let log = std::fs::read_to_string(tmp.path().join("clean.log")).unwrap();
    assert!(status.success(), "{status}: {log}");
    // Kills about 8 a cycle apart, however fast this build runs one.
    let step =
        (started.elapsed() / 16).clamp(Duration::from_millis(20), Duration::from_millis(200));

    // Kill -9 the first cycle at later and later points, `step` apart,
    // until a kill finds it finished. An interrupted cycle runs again from
    // its start at the next start, so the kills sweep the whole cycle:
    // hashing, page and listing writes, the index, cases.
    let mut mid_cycle = 0;
    let mut points = Vec::new();
    for k in 0..40u32 {
        let log = tmp.path().join(format!("crash{k}.log"));
        let mut child = spawn(&s, &crashed, &log, &["--every", "1h"]);
        let addr = endpoint(&crashed, &mut child);
        wait_until("a cycle to run", || {
            (metric(&addr, "knockoff_cycle_running", None)? == 1.0).then_some(())
        });
        std::thread::sleep(step * k);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let store = Store::open(&crashed).unwrap();
        let cp = Tracker::open(&store).unwrap().checkpoint().unwrap();
        let listings = store.listing_count();
        let cases = CaseBook::open(&store).unwrap().all().unwrap().len();
        drop(store);
        points.push(format!(
            "kill after {} ms: cycle {} {}, {listings} listings, {cases} cases",
            (step * k).as_millis(),
            cp.cycle,
            if cp.running { "interrupted" } else { "done" }
        ));
        if k > 0 {
            let text = std::fs::read_to_string(&log).unwrap();
            assert!(text.contains("stale lock"), "a restart takes over: {text}");
        }
        if !cp.running {
            break;
        }
        mid_cycle += 1;
    }
    assert!(mid_cycle >= 3, "kills mid-cycle: {points:#?}");

    // Restart and let it finish its cycles.
    let log = tmp.path().join("final.log");
    let mut child = spawn(&s, &crashed, &log, &["--every", "100ms", "--cycles", "2"]);
    let status = wait_exit(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status}: {text}");

    let a = dump(&clean);
    let b = dump(&crashed);
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(!x.is_empty() && x != "[]", "{name} is empty");
        assert_eq!(x, y, "{name} differs after kill -9 and restart");
    }
}

#[test]
fn one_daemon_per_folder_sigterm_exits_0_and_cases_go_through_the_endpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    let data = tmp.path().join("data");
    let log = tmp.path().join("d.log");
    let mut child = spawn(&s, &data, &log, &["--every", "1h"]);
    let addr = endpoint(&data, &mut child);
    wait_until("the first cycle", || {
        (metric(&addr, "knockoff_cycles_total", Some(("outcome", "ok")))? >= 1.0).then_some(())
    });
    let health = get(&addr, "/healthz").unwrap();
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    // A second daemon on the same folder is refused, naming the holder.
    let second = tmp.path().join("second.log");
    let mut other = spawn(&s, &data, &second, &["--every", "1h"]);
    let status = wait_exit(&mut other);
    let err = std::fs::read_to_string(&second).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("another daemon already watches"), "{err}");
    assert!(err.contains(&format!("pid {}", child.id())), "{err}");

    // `knockoff cases` reaches the running daemon.
    let d = data.to_str().unwrap();
    let out = knockoff(&["cases", "--data", d, "list"]);
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{listed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listed.contains("C-000001"), "{listed}");
    assert!(listed.contains("drafted"), "{listed}");
    let out = knockoff(&["cases", "--data", d, "move", "1", "removed"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot move from drafted to removed"), "{err}");
    let out = knockoff(&[
        "cases",
        "--data",
        d,
        "move",
        "C-000001",
        "approved",
        "--at",
        "2026-11-30T10:00:00Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        metric(&addr, "knockoff_cases", Some(("state", "approved"))),
        Some(1.0)
    );

    // SIGTERM: exit 0, lock released.
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(!data.join(LOCK_FILE).exists());

    // Without a daemon, `cases` opens the store itself.
    let out = knockoff(&["cases", "--data", d, "show", "1"]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("C-000001  APPROVED"), "{shown}");
    assert!(
        shown.contains("2026-11-30T10:00:00+00:00  drafted -> approved  by cli"),
        "{shown}"
    );
}

#[test]
fn sigterm_during_a_cycle_lets_it_finish_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    let data = tmp.path().join("data");
    let log = tmp.path().join("d.log");
    let mut child = spawn(&s, &data, &log, &["--every", "1h", "--log-format", "json"]);
    let addr = endpoint(&data, &mut child);
    wait_until("a cycle to run", || {
        (metric(&addr, "knockoff_cycle_running", None)? == 1.0).then_some(())
    });
    signal(&child, libc::SIGTERM);
    let status = wait_exit(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    // JSON log lines.
    let json_lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        json_lines
            .iter()
            .any(|v| v["message"] == "stop asked: letting the cycle in flight finish"),
        "{text}"
    );
    let store = Store::open(&data).unwrap();
    let cp = Tracker::open(&store).unwrap().checkpoint().unwrap();
    assert!(!cp.running, "the cycle in flight finished: {cp:?}");
    drop(store);

    // With a short grace the cycle is abandoned: exit 0 all the same, the
    // lock is released, and the checkpoint keeps the cycle to run again.
    let data = tmp.path().join("data2");
    let log = tmp.path().join("d2.log");
    let mut child = spawn(
        &s,
        &data,
        &log,
        &["--every", "1h", "--shutdown-grace", "50ms"],
    );
    let addr = endpoint(&data, &mut child);
    wait_until("a cycle to run", || {
        (metric(&addr, "knockoff_cycle_running", None)? == 1.0).then_some(())
    });
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        text.contains("cycle abandoned at the grace limit"),
        "{text}"
    );
    assert!(!data.join(LOCK_FILE).exists());
    let store = Store::open(&data).unwrap();
    let cp = Tracker::open(&store).unwrap().checkpoint().unwrap();
    assert!(cp.running && cp.cycle == 1, "{cp:?}");
}

#[test]
fn bad_daemon_input_is_a_clear_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let wl = root().join("watchlists/demo.toml");
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--replay",
        root().join("seeds").to_str().unwrap(),
        "--every",
        "5 parsecs",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--every"), "{err}");
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--replay",
        root().join("seeds").to_str().unwrap(),
        "--keep-pages",
        "a while",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--keep-pages"), "{err}");
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        tmp.path().join("missing.toml").to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--replay",
        root().join("seeds").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
    // A bad schedule in the config file names the file and the field.
    let config = tmp.path().join("knockoff.toml");
    std::fs::write(&config, "[daemon]\nevery = \"whenever\"\n").unwrap();
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--data",
        d.to_str().unwrap(),
        "--replay",
        root().join("seeds").to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("knockoff.toml") && err.contains("daemon.every"),
        "{err}"
    );
    assert!(!d.join(LOCK_FILE).exists());
}

/// Issue 19, finding 5: the lock file's content is information, not the
/// lock. A file naming a live process that is not a knockoff daemon (pid 1
/// after a container restart, a reused pid: here this test process itself)
/// or a truncated file does not stop a start.
#[test]
fn regression_issue19_lock_held_by_foreign_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let foreign = |pid: u32| LockInfo {
        pid,
        host: knockoff::store::lock::hostname(),
        started_at: chrono::Utc::now(),
        listen: Some("127.0.0.1:9".into()),
    };
    let contents = [
        serde_json::to_vec(&foreign(1)).unwrap(),
        serde_json::to_vec(&foreign(std::process::id())).unwrap(),
        b"{\"pid\": 1, \"ho".to_vec(),
    ];
    for (k, content) in contents.iter().enumerate() {
        std::fs::write(data.join(LOCK_FILE), content).unwrap();
        let log = tmp.path().join(format!("d{k}.log"));
        let mut child = spawn(&s, &data, &log, &["--every", "1h"]);
        let addr = endpoint(&data, &mut child);
        assert!(get(&addr, "/healthz").is_some());
        signal(&child, libc::SIGTERM);
        let status = wait_exit(&mut child);
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(0), "{text}");
        assert!(!text.contains("another daemon"), "{text}");
    }
}

/// Issue 19, finding 5: two daemons started at once on one folder: exactly
/// one runs, the other exits 1 naming the winner, and the winner's lock
/// file stays (the loser neither deletes nor rewrites it).
#[test]
fn regression_issue19_lock_start_race_one_wins() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    for round in 0..4 {
        let data = tmp.path().join(format!("data{round}"));
        let logs = [
            tmp.path().join(format!("a{round}.log")),
            tmp.path().join(format!("b{round}.log")),
        ];
        let mut kids = [
            spawn(&s, &data, &logs[0], &["--every", "1h"]),
            spawn(&s, &data, &logs[1], &["--every", "1h"]),
        ];
        // The loser gives up within a second or so; the winner runs on.
        let loser = wait_until("one daemon to give up", || {
            (0..2).find(|&i| kids[i].try_wait().unwrap().is_some())
        });
        let winner = 1 - loser;
        let status = kids[loser].wait().unwrap();
        let err = std::fs::read_to_string(&logs[loser]).unwrap();
        assert_eq!(status.code(), Some(1), "round {round}: {err}");
        assert!(err.contains("another daemon already watches"), "{err}");
        // The winner still runs, its lock file names it, and it answers.
        let addr = endpoint(&data, &mut kids[winner]);
        assert!(get(&addr, "/healthz").is_some());
        std::thread::sleep(Duration::from_millis(200));
        assert!(kids[winner].try_wait().unwrap().is_none(), "round {round}");
        let info: LockInfo =
            serde_json::from_slice(&std::fs::read(data.join(LOCK_FILE)).unwrap()).unwrap();
        assert_eq!(info.pid, kids[winner].id());
        // A third start is refused too, naming the winner.
        let third = tmp.path().join(format!("c{round}.log"));
        let mut other = spawn(&s, &data, &third, &["--every", "1h"]);
        let status = wait_exit(&mut other);
        let err = std::fs::read_to_string(&third).unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("pid {}", kids[winner].id())), "{err}");
        signal(&kids[winner], libc::SIGTERM);
        assert_eq!(wait_exit(&mut kids[winner]).code(), Some(0));
        assert!(!data.join(LOCK_FILE).exists());
    }
}

/// Issue 19, finding 5: `kill -9` of the holder frees the lock at once (the
/// kernel releases it); the next start names the gone holder as stale.
#[test]
fn regression_issue19_lock_freed_by_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let s = setup(tmp.path());
    let data = tmp.path().join("data");
    let mut child = spawn(&s, &data, &tmp.path().join("a.log"), &["--every", "1h"]);
    endpoint(&data, &mut child);
    let dead = child.id();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(knockoff::store::lock::live_holder(&data).unwrap(), None);
    let log = tmp.path().join("b.log");
    let mut next = spawn(&s, &data, &log, &["--every", "1h"]);
    endpoint(&data, &mut next);
    signal(&next, libc::SIGTERM);
    assert_eq!(wait_exit(&mut next).code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("stale lock") && text.contains(&format!("pid {dead}")),
        "{text}"
    );
}
