//! Retention (`knockoff prune`) on the data folder of a real demo scan:
//! old captures that are nobody's evidence lose their bytes, the evidence
//! of every case and of every flagged or review listing keeps them, the
//! records of dropped pages stay, a dry run drops nothing, a second run
//! finds nothing more, and the export still carries every case's pages.
//! Compaction (`knockoff compact`) rewrites the store and keeps every
//! record.

use knockoff::file::cases::book::CaseBook;
use knockoff::file::retention::{evidence, Evidence};
use knockoff::store::Store;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn prune_json(data: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["prune", "--data", data, "--json"];
    args.extend_from_slice(extra);
    let out = knockoff(&args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["type"], "retention", "{v}");
    v
}

/// sha256 → whether its bytes are in the store.
fn bytes_present(data: &Path) -> BTreeMap<String, bool> {
    let store = Store::open(data).unwrap();
    store
        .pages()
        .unwrap()
        .into_iter()
        .map(|p| {
            let present = store.blob(&p.sha256).unwrap().is_some();
            assert_eq!(present, p.bytes_dropped_at.is_none(), "{p:?}");
            (p.sha256, present)
        })
        .collect()
}

#[test]
fn prune_drops_old_bytes_but_never_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let scan = knockoff(&["scan", "--data", d, "--json"]);
    assert_eq!(scan.status.code(), Some(0), "{scan:?}");

    let (keep, case_sources): (Evidence, HashSet<String>) = {
        let store = Store::open(&data).unwrap();
        let keep = evidence(&store).unwrap();
        let mut case_sources = HashSet::new();
        let cases = CaseBook::open(&store).unwrap().all().unwrap();
        assert!(!cases.is_empty(), "the demo scan opens cases");
        for c in cases {
            let rec = store.listing(&c.listing_key()).unwrap().unwrap();
            case_sources.extend(rec.sources.iter().map(|s| s.sha256.clone()));
            let f = store.finding(&c.listing_key()).unwrap().unwrap();
            case_sources.extend(f.photos.iter().map(|p| p.sha256.clone()));
        }
        (keep, case_sources)
    };
    assert!(case_sources.iter().all(|s| keep.contains(s)));
    assert!(keep.len() >= case_sources.len());
    let before = bytes_present(&data);
    assert!(before.values().all(|p| *p));
    let old_and_free: Vec<&String> = before.keys().filter(|s| !keep.contains(s)).collect();
    assert!(
        !old_and_free.is_empty(),
        "the demo has pages that are nobody's evidence (cleared listings, empty pages)"
    );

    // Seeds are from 2026-11-03: none is younger than 10,000 days.
    let young = prune_json(d, &["--older-than", "10000d"]);
    assert_eq!(young["dropped"], 0, "{young}");
    assert_eq!(young["kept_young"], before.len(), "{young}");

    let dry = prune_json(d, &["--older-than", "1d", "--dry-run"]);
    assert_eq!(dry["dropped"], old_and_free.len(), "{dry}");
    assert_eq!(bytes_present(&data), before, "a dry run drops nothing");

    let real = prune_json(d, &["--older-than", "1d"]);
    assert_eq!(real["dropped"], dry["dropped"], "{real}");
    assert_eq!(real["bytes_dropped"], dry["bytes_dropped"], "{real}");
    let kept = before.keys().filter(|s| keep.contains(s)).count();
    assert!(kept > 0);
    assert_eq!(real["kept_as_evidence"], kept, "{real}");
    let after = bytes_present(&data);
    for (sha, present) in &after {
        assert_eq!(*present, keep.contains(sha), "{sha}");
    }
    assert_eq!(after.len(), before.len(), "no page record is lost");

    let again = prune_json(d, &["--older-than", "1d"]);
    assert_eq!(again["dropped"], 0, "{again}");

    // Every case's pages are still exported, and the export verifies.
    let out = tmp.path().join("export");
    let o = out.to_str().unwrap();
    let export = knockoff(&["export", "--data", d, "--out", o]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&export.stdout),
        String::from_utf8_lossy(&export.stderr)
    );
    assert_eq!(export.status.code(), Some(0), "{text}");
    assert!(!text.contains("not in the store"), "{text}");
    let verify = knockoff(&["verify", o]);
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

#[test]
fn prune_refuses_a_bad_duration_and_a_missing_store() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let bad = knockoff(&["prune", "--data", d, "--older-than", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--older-than"));
    let none = knockoff(&["prune", "--data", d, "--older-than", "90d"]);
    assert_ne!(none.status.code(), Some(0), "{none:?}");
    assert!(String::from_utf8_lossy(&none.stderr).contains("no store here"));
    assert!(!tmp.path().join("store").exists(), "no store is created");
}

/// Every tree of a store, as text (a tree `name` that is not there reads
/// as empty).
fn store_content(data: &Path) -> Vec<(String, Vec<(String, String)>)> {
    let store = Store::open(data).unwrap();
    let mut out: Vec<(String, Vec<(String, String)>)> = [
        "listings",
        "pages",
        "page_urls",
        "live_on_page",
        "suspect_briefs",
        "official",
        "complaints",
        "cases",
        "hash_references",
        "hash_matches",
        "hash_photos",
    ]
    .iter()
    .map(|t| (t.to_string(), store.dump_tree(t).unwrap()))
    .collect();
    out.push((
        "findings".into(),
        vec![(
            String::new(),
            serde_json::to_string(&store.findings().unwrap()).unwrap(),
        )],
    ));
    out
}

/// `knockoff compact` rewrites the store of a real demo scan into a fresh
/// database: every record is the same after, a scan goes on from it, a
/// store still open elsewhere is refused, named, and a folder without a
/// store is refused without getting one.
#[test]
fn compact_keeps_every_record() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let scan = knockoff(&["scan", "--data", d, "--json"]);
    assert_eq!(scan.status.code(), Some(0), "{scan:?}");
    let before = store_content(&data);
    assert!(before
        .iter()
        .all(|(t, rows)| t == "hash_references" || t == "official" || !rows.is_empty()));

    let out = knockoff(&["compact", "--data", d]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("compacted ") && text.contains(" keys"),
        "{text}"
    );
    assert_eq!(store_content(&data), before);
    for left in ["store.rewrite", "store.replaced"] {
        assert!(!data.join(left).exists(), "{left}");
    }
    let again = knockoff(&["scan", "--data", d, "--json"]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert_eq!(store_content(&data), before, "a rescan of the same pages");

    {
        let _open = Store::open(&data).unwrap();
        let busy = knockoff(&["compact", "--data", d]);
        assert_ne!(busy.status.code(), Some(0), "{busy:?}");
        let stderr = String::from_utf8_lossy(&busy.stderr);
        assert!(
            stderr.contains("in use by another knockoff process"),
            "{stderr}"
        );
    }
    assert_eq!(store_content(&data), before);

    let empty = tmp.path().join("empty");
    let none = knockoff(&["compact", "--data", empty.to_str().unwrap()]);
    assert_ne!(none.status.code(), Some(0), "{none:?}");
    assert!(String::from_utf8_lossy(&none.stderr).contains("no store here"));
    assert!(!empty.join("store").exists(), "no store is created");
}
