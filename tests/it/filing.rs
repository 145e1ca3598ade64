//! Filing through the built binary on the demo (issue 17): one complaint
//! per flagged listing, no URL in two batches, every batch reason true of
//! each of its URLs, Chinese text in Chinese; cases from the first scan,
//! moved by batch with the platform's complaint number, and never batched
//! again; a missing document and an expiring right named.

use chrono::{Duration, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The listing URLs of a batch file (its lines before the first blank).
fn batch_urls(text: &str) -> Vec<String> {
    text.lines()
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The English and Chinese batch reason of a batch file.
fn batch_reason(text: &str) -> (String, String) {
    let after = text
        .split("Supplement infringement reason(s):\n")
        .nth(1)
        .expect("a reason section");
    let mut parts = after.split("\n\n");
    (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
    )
}

/// Latin words of a Chinese text other than the allowed ones (the mark,
/// its variants as titles write them, registration numbers).
fn stray_latin(zh: &str, allowed: &BTreeSet<String>) -> Vec<String> {
    zh.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !allowed.iter().any(|a| a.eq_ignore_ascii_case(w)))
        .map(str::to_string)
        .collect()
}

#[test]
fn demo_export_files_each_flagged_listing_once_and_says_only_what_is_true() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let findings = json_lines(&ok(&knockoff(&["scan", "--data", d, "--json"])));
    let flagged: BTreeSet<String> = findings
        .iter()
        .filter(|f| f["verdict"] == "flag")
        .map(|f| format!("{}/{}", f["platform"], f["listing_id"]))
        .collect();
    assert!(flagged.len() >= 10, "{}", flagged.len());

    // Cases from the first scan: one per flagged listing.
    let cases = json_lines(&ok(&knockoff(&["cases", "--data", d, "list", "--json"])));
    assert_eq!(cases.len(), flagged.len());
    assert!(cases.iter().all(|c| c["state"] == "drafted"));

    let out = tmp.path().join("export1");
    let o = out.to_str().unwrap();
    ok(&knockoff(&["export", "--data", d, "--out", o]));
    let complaints: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out.join("complaints.json")).unwrap()).unwrap();
    // Exactly one complaint per flagged listing.
    let filed: BTreeSet<String> = complaints
        .iter()
        .map(|c| format!("{}/{}", c["platform"], c["listing_id"]))
        .collect();
    assert_eq!(complaints.len(), filed.len(), "a listing filed twice");
    assert_eq!(filed, flagged);

    // No URL in two batches; every complaint's URL in its batch.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let batch_files: BTreeSet<String> = complaints
        .iter()
        .map(|c| c["batch"].as_str().unwrap().to_string())
        .collect();
    let mut batch_ids = Vec::new();
    for file in &batch_files {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        for url in batch_urls(&text) {
            if let Some(other) = seen.insert(url.clone(), file.clone()) {
                panic!("{url} in {other} and {file}");
            }
        }
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Batch: "))
            .unwrap()
            .to_string();
        batch_ids.push((id, file.clone()));

        // The batch reason is true of each of its URLs.
        let members: Vec<&Value> = complaints.iter().filter(|c| &c["batch"] == file).collect();
        let (en, zh) = batch_reason(&text);
        assert!(en.chars().count() <= 1_000, "{file}: {en}");
        assert!(zh.chars().count() <= 1_000, "{file}: {zh}");
        for c in &members {
            assert!(seen.get(c["listing_url"].as_str().unwrap()) == Some(file));
            let reg = c["registration_number"].as_str().unwrap();
            assert!(en.contains(reg), "{file}: {en}");
            let facts = &c["facts"];
            if let Some(pct) = en
                .split("priced at least ")
                .nth(1)
                .and_then(|r| r.split('%').next())
            {
                let least: f64 = pct.parse().unwrap();
                let below = facts["price_gap"]["below_pct"].as_f64();
                assert!(
                    below.is_some_and(|b| b >= least),
                    "{file} says at least {least}% below, {} is {below:?}",
                    c["listing_url"]
                );
            }
            if en.contains("shows a photograph copied") {
                assert!(facts["official_photo"].is_string(), "{file}: {c}");
            }
            if en.contains("replica or copy") {
                assert!(facts["counterfeit_terms"]
                    .as_array()
                    .is_some_and(|t| !t.is_empty()));
            }
            // Nothing of one listing in the batch reason.
            let id = c["listing_id"].as_str().unwrap();
            assert!(!en.contains(id) && !zh.contains(id), "{file}: {en}");
        }
        // The Chinese text is Chinese: the mark, its variants and
        // registration numbers aside.
        let mut allowed: BTreeSet<String> = ["AURORA".to_string()].into();
        for c in &members {
            allowed.insert(c["registration_number"].as_str().unwrap().to_string());
            // Chinese counterfeit words quoted from the title ("A货").
            for t in c["facts"]["counterfeit_terms"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let t = t.as_str().unwrap();
                if t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
                    for w in t.split(|c: char| !c.is_ascii_alphanumeric()) {
                        allowed.insert(w.to_string());
                    }
                }
            }
            for v in c["facts"]["mark_as_written"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for w in v
                    .as_str()
                    .unwrap()
                    .split(|c: char| !c.is_ascii_alphanumeric())
                {
                    allowed.insert(w.to_string());
                }
            }
        }
        assert_eq!(stray_latin(&zh, &allowed), Vec::<String>::new(), "{zh}");
        for c in &members {
            let details = c["details_zh"].as_str().unwrap();
            assert_eq!(
                stray_latin(details, &allowed),
                Vec::<String>::new(),
                "{details}"
            );
            // No hash or correlation jargon in text for the platform.
            let en = c["details_en"].as_str().unwrap().to_lowercase();
            for j in ["hash", "hamming", "correlat", "trimming", "cropped"] {
                assert!(!en.contains(j), "{j}: {en}");
            }
        }
    }
    assert_eq!(seen.len(), complaints.len());

    // Review listings are part of the export; the mark's spellings are
    // listed for a keyword-blocking request.
    let reviews = findings.iter().filter(|f| f["verdict"] == "review").count();
    let review_csv = std::fs::read_to_string(out.join("needs_review.csv")).unwrap();
    assert_eq!(review_csv.lines().count(), reviews + 1, "{review_csv}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Needs review"));
    let keywords = std::fs::read_to_string(out.join("keyword_blocking.csv")).unwrap();
    for variant in ["AURORA,AURORA,exact", "奥罗拉", "Auorra"] {
        assert!(keywords.contains(variant), "{variant}: {keywords}");
    }

    // The analyst files one batch: approved, then submitted with IPP's
    // complaint number, by batch id.
    let (batch, file) = &batch_ids[0];
    let members: Vec<String> = complaints
        .iter()
        .filter(|c| &c["batch"] == file)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ok(&knockoff(&[
        "cases", "--data", d, "move", "--batch", batch, "approved",
    ]));
    let moved = ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "move",
        "--batch",
        batch,
        "submitted",
        "--ref",
        "IPP-2026-000123",
    ]));
    assert_eq!(
        moved.matches(": submitted at").count(),
        members.len(),
        "{moved}"
    );
    let shown = ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "show",
        &members[0],
        "--json",
    ]));
    let case: Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(case["ipp_ref"], "IPP-2026-000123");
    assert_eq!(case["batches"][0], batch.as_str());

    // A second export batches nothing already filed.
    let out2 = tmp.path().join("export2");
    let summary = ok(&knockoff(&[
        "export",
        "--data",
        d,
        "--out",
        out2.to_str().unwrap(),
    ]));
    assert!(summary.contains("not batched, filed already"), "{summary}");
    let again: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out2.join("complaints.json")).unwrap()).unwrap();
    assert_eq!(again.len(), complaints.len() - members.len());
    for c in &again {
        assert!(!members.contains(&c["id"].as_str().unwrap().to_string()));
    }

    // Several ids at once; one bad id moves nothing (exit 2).
    let o = knockoff(&[
        "cases",
        "--data",
        d,
        "move",
        &members[0],
        "C-999999",
        "removed",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("C-999999"));
    let shown = ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "show",
        &members[0],
        "--json",
    ]));
    assert!(shown.contains("\"state\":\"submitted\""), "{shown}");
    // The platform rejects one; it is refiled with more evidence as a new
    // case linked to the old, and the next export batches the refile.
    ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "move",
        &members[0],
        "rejected",
        "--reason",
        "no proof the goods are fake",
    ]));
    // A missing evidence file is an error naming it; nothing is refiled.
    let missing = tmp.path().join("no-such-report.pdf");
    let o = knockoff(&[
        "cases",
        "--data",
        d,
        "refile",
        &members[0],
        "--reason",
        "x",
        "--evidence",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-report.pdf"));
    let shown = ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "show",
        &members[0],
        "--json",
    ]));
    assert!(!shown.contains("refiled_as"), "{shown}");
    let test_buy = tmp.path().join("test-buy-report.pdf");
    std::fs::write(&test_buy, b"%PDF-1.4 test buy: the cup has no maker's mark").unwrap();
    let refiled = ok(&knockoff(&[
        "cases",
        "--data",
        d,
        "refile",
        &members[0],
        "--reason",
        "test buy shows a fake",
        "--evidence",
        test_buy.to_str().unwrap(),
    ]));
    let new_id = refiled.split(':').next().unwrap().trim().to_string();
    assert_ne!(new_id, members[0], "{refiled}");
    let twice = knockoff(&[
        "cases",
        "--data",
        d,
        "refile",
        &members[0],
        "--reason",
        "twice",
    ]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already refiled"));
    let out3 = tmp.path().join("export3");
    ok(&knockoff(&[
        "export",
        "--data",
        d,
        "--out",
        out3.to_str().unwrap(),
    ]));
    let third: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out3.join("complaints.json")).unwrap()).unwrap();
    let refile = third
        .iter()
        .find(|c| c["id"] == new_id.as_str())
        .unwrap_or_else(|| panic!("{new_id} not exported"));
    assert_eq!(refile["refile_of"], members[0].as_str());
    let bundle = out3.join(refile["evidence_dir"].as_str().unwrap());
    assert!(bundle.join("added/01-test-buy-report.pdf").is_file());
    assert_eq!(
        third
            .iter()
            .filter(|c| c["listing_url"] == refile["listing_url"])
            .count(),
        1
    );

    // An unknown id to show is the user's input: exit 2.
    assert_eq!(
        knockoff(&["cases", "--data", d, "show", "C-999999"])
            .status
            .code(),
        Some(2)
    );
}

/// The demo watchlist, copied into `dir` with its paths made absolute and
/// `edit` applied.
fn watchlist_copy(dir: &Path, edit: impl Fn(String) -> String) -> String {
    let demo = root().join("watchlists");
    let text = std::fs::read_to_string(demo.join("demo.toml"))
        .unwrap()
        .replace("\"demo/", &format!("\"{}/demo/", demo.display()));
    let path = dir.join("brand.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_missing_certificate_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let wl = watchlist_copy(tmp.path(), |t| {
        t.replace("cn-41234567-certificate.pdf", "cn-41234567-missing.pdf")
    });
    let data = tmp.path().join("data");
    let o = knockoff(&["scan", "--watchlist", &wl, "--data", data.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cn-41234567-missing.pdf"), "{err}");
    assert!(err.contains("rights[1].certificate"), "{err}");
    assert!(!data.join("store").exists(), "nothing scanned");
}

#[test]
fn complaints_on_a_right_pending_with_ipp_are_held_not_batched() {
    let tmp = tempfile::tempdir().unwrap();
    let wl = watchlist_copy(tmp.path(), |t| {
        t.replace(
            "certificate = \"",
            "ipp = { status = \"pending\", since = 2026-11-20 }\ncertificate = \"",
        )
    });
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    ok(&knockoff(&["scan", "--watchlist", &wl, "--data", d]));
    let out = tmp.path().join("out");
    let summary = ok(&knockoff(&[
        "export",
        "--data",
        d,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(summary.contains("held: 20 complaints"), "{summary}");
    let held: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out.join("held.json")).unwrap()).unwrap();
    assert_eq!(held.len(), 20);
    assert!(held[0]["reason"]
        .as_str()
        .unwrap()
        .contains("pending since 2026-11-20"));
    let complaints: Vec<Value> =
        serde_json::from_slice(&std::fs::read(out.join("complaints.json")).unwrap()).unwrap();
    assert!(complaints.is_empty());
}

#[test]
fn an_expiring_right_is_warned_about_by_scan_export_and_cases_due() {
    let tmp = tempfile::tempdir().unwrap();
    let soon = (Utc::now() + Duration::days(30)).date_naive();
    let wl = watchlist_copy(tmp.path(), |t| {
        t.replace("expires = 2031-09-27", &format!("expires = {soon}"))
    });
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let scan = ok(&knockoff(&["scan", "--watchlist", &wl, "--data", d]));
    let warning = format!("WARNING: right cn-tm-aurora (trademark CN 41234567) expires on {soon}");
    assert!(scan.contains(&warning), "{scan}");
    assert!(
        !scan.contains("us-tm-aurora (trademark US"),
        "only within 60 days"
    );
    let out = tmp.path().join("out");
    let export = ok(&knockoff(&[
        "export",
        "--data",
        d,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(export.contains(&warning), "{export}");
    let due = ok(&knockoff(&["cases", "--data", d, "due"]));
    assert!(due.contains(&warning), "{due}");
}
