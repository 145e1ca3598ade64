//! `scan --live` end to end over real loopback HTTP: the demo brand crawled
//! from the mock marketplace serving `seeds/` gives the same findings as
//! replaying `seeds/`, photos included (fetched through the live fetcher
//! from the mock); the run's recording replays to the same findings again;
//! and the binary reports hosts and exit codes as documented.

use knockoff::fetch::crawl::Progress;
use knockoff::fetch::mock::{Fault, Faults, MockMarket};
use knockoff::judge::score::Finding;
use knockoff::model::config::{Config, PlatformConfig};
use knockoff::model::listing::Platform;
use knockoff::model::watchlist::Watchlist;
use knockoff::run::cycle::{run_cycle, CycleReport, PageSource};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn filing_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

fn mock_config(mock: &MockMarket) -> Config {
    let mut config = Config::default();
    config.crawl.requests_per_second = 500.0;
    config.crawl.concurrency_per_host = 4;
    config.crawl.backoff_base_millis = 5;
    config.crawl.max_pages_per_term = 5;
    for p in Platform::ALL {
        config.platforms.insert(
            p.as_str().into(),
            PlatformConfig {
                base_url: Some(mock.base_url(p)),
                ..Default::default()
            },
        );
    }
    config
}

/// What a finding says, without what legitimately differs between runs.
fn summary(r: &CycleReport) -> Vec<(String, u32, String, Vec<String>, usize)> {
    let mut v: Vec<_> = r
        .scan
        .findings
        .iter()
        .map(|f: &Finding| {
            (
                f.key(),
                f.score,
                f.verdict.as_str().to_string(),
                f.reasons.clone(),
                f.drafts.len(),
            )
        })
        .collect();
    v.sort();
    v
}

async fn cycle(source: PageSource) -> CycleReport {
    let wl = Watchlist::load(root().join("watchlists/demo.toml")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let store = knockoff::store::Store::open(data.path()).unwrap();
    let index = knockoff::judge::index::ListingIndex::open(data.path()).unwrap();
    run_cycle(
        &wl,
        &source,
        Some(&store),
        Some(&index),
        filing_date(),
        &Progress::silent(),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_scan_of_the_mock_finds_what_replay_finds() {
    let mock = MockMarket::start(Some(&root().join("seeds")), Faults::none())
        .await
        .unwrap();
    let rec = tempfile::tempdir().unwrap();
    let live = cycle(PageSource::Live {
        config: Box::new(mock_config(&mock)),
        record: Some(rec.path().to_path_buf()),
    })
    .await;
    let replay = cycle(PageSource::Replay(root().join("seeds"))).await;

    let got = summary(&live);
    let want = summary(&replay);
    // Every listing the crawl reached scores exactly as in the replay.
    let missing: Vec<&String> = want
        .iter()
        .map(|w| &w.0)
        .filter(|k| !got.iter().any(|g| &g.0 == *k))
        .collect();
    assert!(missing.is_empty(), "live scan missed {missing:?}");
    assert_eq!(got, want, "same findings, scores, reasons and drafts");
    // Photos came over HTTP from the mock, under their marketplace URLs.
    assert!(live.scan.findings.iter().any(|f| !f.photos.is_empty()));
    assert!(live
        .scan
        .findings
        .iter()
        .flat_map(|f| &f.photos)
        .all(|p| !p.url.contains("127.0.0.1")));
    assert!(mock.requests().iter().any(|r| r.path.contains("alicdn")));
    assert!(!live.hosts.is_empty());

    // The recording of the live run replays to the same findings.
    let recorded = live.recorded.as_ref().expect("recorded");
    assert!(recorded.pages > 0);
    assert!(recorded.warc.is_file());
    let again = cycle(PageSource::Replay(rec.path().to_path_buf())).await;
    assert_eq!(summary(&again), got);
}

fn write_config(dir: &Path, mock: &MockMarket, extra: &str) -> PathBuf {
    let mut text = String::from(
        "[crawl]\nrequests_per_second = 500.0\nconcurrency_per_host = 4\nbackoff_base_millis = 5\nmax_retries = 1\nmax_pages_per_term = 5\n",
    );
    text.push_str(extra);
    for p in Platform::ALL {
        text.push_str(&format!(
            "\n[platforms.\"{}\"]\nbase_url = \"{}\"\n",
            p.as_str(),
            mock.base_url(p)
        ));
    }
    let path = dir.join("knockoff.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn knockoff(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_scans_live_reports_a_refusing_host_and_exits_zero() {
    // Taobao's host answers 429 (Retry-After: 1) to everything: it is
    // paused and slowed, then given up when its refusal budget (1 s here,
    // 10 minutes by default) is spent, and the scan goes on without it.
    let faults = Faults::none().always(
        "/taobao",
        Fault::TooManyRequests(knockoff::fetch::mock::RetryAfter::Seconds(1)),
    );
    let mock = MockMarket::start(Some(&root().join("seeds")), faults)
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &mock, "give_up_after_refusing_secs = 1\n");
    let data = tmp.path().join("data");
    let out = tokio::task::spawn_blocking({
        let config = config.clone();
        let data = data.clone();
        move || {
            knockoff(&[
                "scan",
                "--live",
                "--config",
                config.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
            ])
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Hosts:"), "{stdout}");
    assert!(stdout.contains("FLAG"), "{stdout}");
    let taobao = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("taobao:") && l.contains("fetched"))
        .unwrap_or_else(|| panic!("no taobao host line in {stdout}"));
    assert!(taobao.contains("LEFT ALONE"), "{taobao}");
    assert!(taobao.contains("slowed"), "{taobao}");
    assert!(stdout.contains("    refused: "), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_scan_that_reaches_nothing_exits_3() {
    // Nothing listens on the configured port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[crawl]\nrequests_per_second = 500.0\nmax_retries = 0\nconnect_timeout_secs = 2\n",
    );
    for p in [Platform::AliExpress, Platform::Alibaba] {
        text.push_str(&format!(
            "\n[platforms.{}]\nbase_url = \"http://127.0.0.1:{port}/{}\"\n",
            p.as_str(),
            p.as_str()
        ));
    }
    let config = tmp.path().join("knockoff.toml");
    std::fs::write(&config, text).unwrap();
    let data = tmp.path().join("data");
    let out = knockoff(&[
        "scan",
        "--live",
        "--config",
        config.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no page could be read"));
}

#[test]
fn a_bad_config_is_a_usage_error_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("knockoff.toml");
    std::fs::write(&config, "[crawl]\nrequests_per_secnd = 2.0\n").unwrap();
    let out = knockoff(&["scan", "--live", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("knockoff.toml"), "{err}");
    assert!(err.contains("requests_per_secnd"), "{err}");
}

/// A stand-in internal service on another loopback port: answers anything
/// with 200 and a secret body, and counts the connections it accepted.
fn internal_service() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = b"INTERNAL-SECRET-7f3a";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    (port, hits)
}

/// Issue 19, finding 7: a listing photo answering `302` to another
/// loopback port (an internal service) is not followed: nothing reaches
/// the service, the scan names the refused redirect per photo, and nothing
/// of the service is in the store or in an export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_issue19_redirect_to_internal_service_is_refused() {
    let (secret_port, hits) = internal_service();
    let secret = format!("http://127.0.0.1:{secret_port}/secret.txt");
    let faults = Faults::none().always(
        "/aliexpress/ae01.alicdn.com/",
        Fault::RedirectTo(secret.clone()),
    );
    let mock = MockMarket::start(Some(&root().join("seeds")), faults)
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &mock, "");
    let data = tmp.path().join("data");
    let rec = tmp.path().join("rec");
    let out_dir = tmp.path().join("out");
    let (scan, export) = tokio::task::spawn_blocking({
        let (config, data, rec, out_dir) =
            (config.clone(), data.clone(), rec.clone(), out_dir.clone());
        move || {
            let scan = knockoff(&[
                "scan",
                "--live",
                "--config",
                config.to_str().unwrap(),
                "--data",
                data.to_str().unwrap(),
                "--record",
                rec.to_str().unwrap(),
            ]);
            let export = knockoff(&[
                "export",
                "--data",
                data.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ]);
            (scan, export)
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&scan.stdout);
    let stderr = String::from_utf8_lossy(&scan.stderr);
    assert_eq!(scan.status.code(), Some(0), "{stdout}\n{stderr}");
    // The photos were asked for, and each redirect was refused.
    assert!(mock
        .requests()
        .iter()
        .any(|r| r.path.starts_with("/aliexpress/ae01.alicdn.com/")));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the internal service was contacted"
    );
    let refused: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("[image]") && l.contains("refused by the network policy"))
        .collect();
    assert!(!refused.is_empty(), "{stdout}");
    assert!(
        refused
            .iter()
            .all(|l| l.contains(&secret) && l.contains("listing aliexpress/")),
        "{refused:?}"
    );
    assert!(export.status.success(), "{export:?}");

    // Nothing of the service in the store, the recording or the export.
    let store = knockoff::store::Store::open(&data).unwrap();
    for tree in ["pages", "page_urls", "blobs"] {
        for (k, v) in store.dump_tree(tree).unwrap() {
            assert!(
                !k.contains(&secret_port.to_string())
                    && !v.contains("INTERNAL-SECRET")
                    && !v.contains(&secret),
                "{tree} holds {k}"
            );
        }
    }
    drop(store);
    // The raw bytes kept (blob files) are searched with the recording and
    // the export.
    let blobs = data.join(knockoff::store::blobfiles::BLOBS_DIR);
    assert!(blobs.is_dir(), "the scan kept the pages' bytes as files");
    let mut files = vec![rec.clone(), out_dir.clone(), blobs];
    let mut seen = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            seen += 1;
            let bytes = std::fs::read(&p).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("INTERNAL-SECRET"),
                "{} holds the internal service's answer",
                p.display()
            );
            // The service's URL appears only in the refusal reported on
            // the listing, never as a capture.
            let at = format!("127.0.0.1:{secret_port}");
            for (n, _) in text.match_indices(&at) {
                let after = &text[n..(n + at.len() + 80).min(text.len())];
                assert!(
                    after.contains(": refused by the network policy"),
                    "{} names {at} other than as a refusal: {after}",
                    p.display()
                );
            }
            assert!(
                !(p.ends_with("captures.json") || p.ends_with("manifest.toml"))
                    || !text.contains(&at),
                "{} names {at}",
                p.display()
            );
        }
    }
    assert!(seen > 3, "export and recording written");
}

/// Issue 19, finding 1 (store half), through the binary: a data folder
/// with one unreadable listing record (the `"amount": null` a NaN price
/// once left behind) still exports and scans; the bad key is named, the
/// other listings are all there, and a newer schema version is refused.
#[test]
fn regression_issue19_corrupt_record_does_not_break_the_data_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let scan = knockoff(&["scan", "--data", d]);
    assert_eq!(scan.status.code(), Some(0), "{scan:?}");

    // Corrupt the listing record of a flagged finding.
    let bad_key = {
        let store = knockoff::store::Store::open(&data).unwrap();
        let bad_key = store
            .findings()
            .unwrap()
            .into_iter()
            .find(|f| f.verdict == knockoff::judge::score::Verdict::Flag)
            .unwrap()
            .key();
        store.flush().unwrap();
        drop(store);
        // sled lets go of its file lock a moment after the last handle.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let db = sled::open(data.join("store")).unwrap();
        let listings = db.open_tree("listings").unwrap();
        // The listing's record damaged; its finding, in the same entry,
        // left as it was.
        let entry = listings
            .get(&bad_key)
            .unwrap()
            .expect("the listing's entry");
        let mut entry: serde_json::Value = serde_json::from_slice(&entry).unwrap();
        assert!(entry["finding"].is_object(), "{entry}");
        entry["listing"] = serde_json::json!(
            {"platform": "aliexpress", "price": {"amount": null, "currency": "USD"}}
        );
        listings
            .insert(bad_key.as_bytes(), serde_json::to_vec(&entry).unwrap())
            .unwrap();
        db.flush().unwrap();
        bad_key
    };
    let count = || {
        let store = knockoff::store::Store::open(&data).unwrap();
        store.listings().unwrap().len()
    };
    let before = count();

    let out = tmp.path().join("out");
    let export = knockoff(&["export", "--data", d, "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&export.stderr);
    assert_eq!(export.status.code(), Some(0), "{export:?}");
    assert!(stderr.contains(&format!("listings/{bad_key}")), "{stderr}");
    assert!(out.join("complaints.json").is_file());
    assert!(std::fs::read_dir(out.join("evidence")).unwrap().count() > 1);

    let again = knockoff(&["scan", "--data", d]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert!(stderr.contains(&format!("listings/{bad_key}")), "{stderr}");
    assert!(String::from_utf8_lossy(&again.stdout).contains("FLAG"));
    // Rescanned: the listing is whole again, its old bytes kept aside.
    assert_eq!(count(), before + 1);
    {
        let store = knockoff::store::Store::open(&data).unwrap();
        assert!(store.listing(&bad_key).unwrap().is_some());
        let corrupt = store.dump_tree("corrupt").unwrap();
        assert!(
            corrupt
                .iter()
                .any(|(k, _)| k == &format!("listings/{bad_key}")),
            "{corrupt:?}"
        );
    }

    // A store written by a newer schema is refused, naming the folder.
    {
        let db = sled::open(data.join("store")).unwrap();
        db.insert("meta/schema", "99").unwrap();
        db.flush().unwrap();
    }
    let newer = knockoff(&["scan", "--data", d]);
    let stderr = String::from_utf8_lossy(&newer.stderr);
    assert_ne!(newer.status.code(), Some(0), "{newer:?}");
    assert!(stderr.contains("schema version `99`"), "{stderr}");
    assert!(
        stderr.contains(&data.join("store").display().to_string()),
        "{stderr}"
    );
}
