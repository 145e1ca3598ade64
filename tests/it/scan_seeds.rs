//! The demo scan end to end: the built binary over `seeds/` with the demo
//! watchlist, asserting exactly which listings are flagged, which need
//! review and which are cleared, and why; and that a rescan duplicates
//! nothing in the store.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// `knockoff scan` of the seeds into `data` with `flags` (exit 0): its
/// standard output.
fn scan_stdout(data: &Path, flags: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .arg("scan")
        .args(flags)
        .arg("--data")
        .arg(data)
        .current_dir(root)
        .output()
        .expect("run knockoff");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn scan_json(data: &Path) -> Vec<Value> {
    scan_stdout(data, &["--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

fn key(f: &Value) -> String {
    format!(
        "{}/{}",
        f["platform"].as_str().unwrap(),
        f["listing_id"].as_str().unwrap()
    )
}

fn keys(findings: &[Value], verdict: &str) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f["verdict"] == verdict)
        .map(key)
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn finding<'a>(findings: &'a [Value], k: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| key(f) == k)
        .unwrap_or_else(|| panic!("no finding for {k}"))
}

fn reasons(f: &Value) -> Vec<String> {
    f["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn demo_scan_flags_reviews_and_clears_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let findings = scan_json(tmp.path());

    let flagged = set(&[
        // mark + copied photo + low price + indicator words
        "1688/612345678901",
        "1688/612345678902",
        "1688/612345678903",
        "1688/612345678906",
        "alibaba/1600123456789",
        "alibaba/1600345678901",
        "alibaba/1600678901234",
        "alibaba/1600890123456",
        "aliexpress/1005006123456789",
        "aliexpress/1005006234567890",
        "aliexpress/1005006789012345",
        "aliexpress/1005006890123456",
        "taobao/681234567001",
        "taobao/681234567002",
        "taobao/681234567003",
        "taobao/681234567006",
        "tmall/652345678103",
        "tmall/652345678104",
        // photo theft: no mark in the title, a copied official photo, low price
        "alibaba/1600567890123",
        "aliexpress/1005006678901234",
    ]);
    let review = set(&[
        // accessories "compatible with" / "for" / 适用于
        "1688/612345678904",
        "alibaba/1600789012345",
        "aliexpress/1005006567890123",
        "aliexpress/1005007012345678",
        "taobao/681234567004",
        "tmall/652345678105",
        // the mark with product words, no photo copy, normal price
        "aliexpress/1005007123456789",
        // the common word on goods the mark is registered for (issue 17):
        // "Aurora Cat Toy", a toy, class 28
        "aliexpress/1005007234567890",
    ]);
    let cleared = set(&[
        // the everyday word "aurora" / 极光 on unrelated goods
        "1688/612345678905",
        "alibaba/1600456789012",
        "alibaba/1601012345678",
        "aliexpress/1005006456789012",
        "taobao/681234567005",
        "taobao/681234567007",
        "tmall/652345678106",
        // authorized sellers
        "alibaba/1600234567890",
        "alibaba/1600901234567",
        "aliexpress/1005006345678901",
        "aliexpress/1005006901234567",
        "tmall/652345678101",
        "tmall/652345678102",
    ]);
    assert_eq!(keys(&findings, "flag"), flagged, "flagged");
    assert_eq!(keys(&findings, "review"), review, "needs review");
    assert_eq!(keys(&findings, "clear"), cleared, "cleared");

    // Flags on all five platforms.
    let platforms: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f["verdict"] == "flag")
        .map(|f| f["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms.len(), 5, "{platforms:?}");

    // Why: a typo-squatted title is found by fuzzy matching with the variant.
    let typo = finding(&findings, "alibaba/1600345678901");
    assert!(
        reasons(typo)
            .contains(&"title matches mark \"AURORA\" (fuzzy, 1 edit: \"Auorra\")".to_string()),
        "{:?}",
        reasons(typo)
    );
    // A clear counterfeit carries photo, indicator and price reasons and drafts.
    let fake = finding(&findings, "aliexpress/1005006123456789");
    let r = reasons(fake).join("\n");
    assert!(
        r.contains("photo matches official image espresso-cup.jpg"),
        "{r}"
    );
    assert!(r.contains("counterfeit indicator term"), "{r}");
    assert!(r.contains("% below MSRP 39.00"), "{r}");
    assert!(r.contains("not on authorized list"), "{r}");
    let drafts = fake["drafts"].as_array().unwrap();
    assert!(!drafts.is_empty());
    assert!(drafts.iter().all(|d| d["platform"] == "aliexpress"
        && d["listing_url"] == "https://www.aliexpress.com/item/1005006123456789.html"));
    // Photo theft alone rests on copyright, citing where the photo is published.
    let theft = finding(&findings, "aliexpress/1005006678901234");
    let d = &theft["drafts"].as_array().unwrap()[0];
    assert_eq!(d["right_kind"], "copyright");
    assert!(d["reason_en"]
        .as_str()
        .unwrap()
        .contains("aurora-outfitters.example"));
    // Chinese platforms rest on the CN right only.
    for f in findings.iter().filter(|f| f["verdict"] == "flag") {
        if ["taobao", "tmall", "1688"].contains(&f["platform"].as_str().unwrap()) {
            for d in f["drafts"].as_array().unwrap() {
                assert_eq!(d["jurisdiction"], "CN", "{}", key(f));
            }
            assert!(!f["drafts"].as_array().unwrap().is_empty(), "{}", key(f));
        }
    }
    // Authorized sellers are cleared with that reason.
    let genuine = finding(&findings, "aliexpress/1005006345678901");
    assert!(reasons(genuine)[0].contains("is on the authorized list"));
    // The common word on a toy counts: AURORA is registered in class 28.
    let toy = finding(&findings, "aliexpress/1005007234567890");
    assert!(
        reasons(toy).contains(
            &"title matches mark \"AURORA\" (exact: \"Aurora\") — goods \"toy\" in Nice \
              class 28, covered by us-tm-aurora, cn-tm-aurora"
                .to_string()
        ),
        "{:?}",
        reasons(toy)
    );
    // Wholesale platforms compare with the wholesale price, not the MSRP.
    let theft = finding(&findings, "alibaba/1600567890123");
    let r = reasons(theft).join("\n");
    assert!(
        r.contains("price 0.85 USD is 92% below the wholesale price 10.00"),
        "{r}"
    );
    assert!(!r.contains("MSRP"), "{r}");
    // Within a verdict, findings come by priority (score raised by sales).
    let order: Vec<(u64, u64)> = findings
        .iter()
        .map(|f| {
            let rank = match f["verdict"].as_str().unwrap() {
                "flag" => 0,
                "review" => 1,
                _ => 2,
            };
            (rank, 1000 - f["priority"].as_u64().unwrap())
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "findings by verdict, then priority");
    assert!(
        findings
            .iter()
            .any(|f| f["priority"].as_u64() > f["score"].as_u64()),
        "some seed listing has sales"
    );
    // An accessory is at most review, and says why.
    let acc = finding(&findings, "alibaba/1600789012345");
    assert!(reasons(acc)
        .iter()
        .any(|r| r.contains("accessory context \"compatible with\"")));
    // Every finding has the NDJSON fields the README promises.
    for f in &findings {
        for field in [
            "platform",
            "listing_id",
            "url",
            "title",
            "seller",
            "price",
            "score",
            "verdict",
            "reasons",
            "drafts",
        ] {
            assert!(f.get(field).is_some(), "{} lacks {field}", key(f));
        }
    }
}

#[test]
fn rescanning_the_same_recording_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = scan_json(tmp.path());
    let second = scan_json(tmp.path());
    assert_eq!(first, second, "a rescan gives the same findings");
    let store = knockoff::store::Store::open(tmp.path()).unwrap();
    assert_eq!(store.listing_count(), first.len());
    assert_eq!(store.findings().unwrap().len(), first.len());
    for rec in store.listings().unwrap() {
        assert!(
            rec.history.is_empty(),
            "{}: {:?}",
            rec.listing.key(),
            rec.history
        );
    }
    let index = knockoff::judge::index::ListingIndex::open(tmp.path()).unwrap();
    assert_eq!(index.len().unwrap() as usize, first.len());
}

#[test]
fn table_output_has_reasons_and_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let text = scan_stdout(tmp.path(), &[]);
    assert!(text.starts_with("PLATFORM"), "{text}");
    assert!(
        text.contains("    - title matches mark \"AURORA\""),
        "{text}"
    );
    let summary = text
        .lines()
        .find(|l| l.starts_with("Summary:"))
        .expect("summary line");
    for part in [
        "pages read",
        "aliexpress",
        "alibaba",
        "taobao",
        "tmall",
        "1688",
        "flagged",
        "needs review",
        "cleared",
        "errors",
    ] {
        assert!(summary.contains(part), "{summary}");
    }
    assert!(text.contains("coverage title"), "{text}");
    assert!(
        text.contains("[blocked]")
            && text.contains("punish page")
            && text.contains("in the main content"),
        "{text}"
    );
    // The truncated seed photo: named once, with its error and listing.
    let image = text
        .lines()
        .find(|l| l.trim_start().starts_with("[image]"))
        .expect("image problem line");
    assert_eq!(image.matches("https://").count(), 1, "{image}");
    assert!(
        image.contains("truncated") && image.contains("(listing aliexpress/"),
        "{image}"
    );
    assert!(text.contains("Cases opened: "), "{text}");

    // A rescan opens no second case, and says where the cases are.
    let text = scan_stdout(tmp.path(), &[]);
    assert!(!text.contains("Cases opened: "), "{text}");
    assert!(
        text.contains("No new cases:") && text.contains("knockoff cases list"),
        "{text}"
    );
}
