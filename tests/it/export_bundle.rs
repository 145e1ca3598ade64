//! Export end to end over a real temp sled store: batches, stable ids,
//! bundles, manifests, reproducibility and hostile names.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use image::{DynamicImage, Rgb, RgbImage};
use knockoff::fetch::{Capture, Exchange};
use knockoff::file::export::{self, verify, ExportOptions, MAX_URLS_PER_BATCH};
use knockoff::judge::brand::{MarkHit, MatchRule};
use knockoff::judge::complaint::{self, Grounds};
use knockoff::judge::score::{Finding, PhotoEvidence, Signal, SignalKind, Verdict};
use knockoff::model::listing::{Listing, Platform, Price, Seller};
use knockoff::model::watchlist::Watchlist;
use knockoff::store::{OfficialPhoto, Source, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const WATCHLIST: &str = r#"
[brand]
name = "AURORA"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
aliases = ["奥罗拉"]

[[products]]
name = "Aurora Barista Espresso Cup"
category = "drinkware"
msrp = { amount = 39.00, currency = "USD" }
image_urls = ["https://aurora-outfitters.example/products/barista-espresso-cup"]

[categories]
"drinkware" = [21]

[[rights]]
id = "us-tm-aurora"
kind = "trademark"
jurisdiction = "US"
registration_number = "6123456"
mark = "AURORA"
classes = [16, 21, 28]
expires = 2032-03-14
certificate = "certificates/us-6123456.pdf"

[[rights]]
id = "us-copyright-photos"
kind = "copyright"
jurisdiction = "US"
registration_number = "VA0002345678"
claim_statement = "documents/copyright-claim.pdf"
"#;

fn at(sec: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600 + sec, 0).unwrap()
}

fn filing_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
}

/// The official photo: a real seed image when present, else a drawn one.
fn official_bytes() -> Vec<u8> {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists/demo/official/espresso-cup.jpg");
    if let Ok(bytes) = std::fs::read(&seed) {
        return bytes;
    }
    let img = RgbImage::from_fn(200, 150, |x, y| {
        let v = ((x * 3 + y * 2) % 256) as u8;
        Rgb([v, 255 - v, (x % 64) as u8 * 4])
    });
    png(&DynamicImage::ImageRgb8(img))
}

fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A listing photo: the official photo mirrored.
fn listing_photo(official: &[u8]) -> Vec<u8> {
    png(&image::load_from_memory(official).unwrap().fliph())
}

struct Fixture {
    wl: Watchlist,
    store: Store,
    official_sha: String,
    official: Vec<u8>,
}

impl Fixture {
    fn new(data: &Path) -> Fixture {
        let wl = Watchlist::from_str(Path::new("w.toml"), WATCHLIST).unwrap();
        let store = Store::open(data).unwrap();
        store.put_watchlist_text(WATCHLIST).unwrap();
        // The documents register as a scan keeps it.
        for doc in wl.documents() {
            let bytes = format!("%PDF-1.4 stand-in for {}", doc.path).into_bytes();
            let stored = knockoff::store::StoredDocument {
                sha256: knockoff::fetch::sha256_hex(&bytes),
                doc,
            };
            store.put_document(&stored, &bytes).unwrap();
        }
        let official = official_bytes();
        let official_sha = knockoff::fetch::sha256_hex(&official);
        store
            .put_official(
                &OfficialPhoto {
                    name: "espresso-cup.jpg".into(),
                    product: "Aurora Barista Espresso Cup".into(),
                    published_at: vec![
                        "https://aurora-outfitters.example/products/barista-espresso-cup".into(),
                    ],
                    sha256: official_sha.clone(),
                },
                &official,
            )
            .unwrap();
        Fixture {
            wl,
            store,
            official_sha,
            official,
        }
    }

    /// Records one flagged listing with its page (and, with `photo`, a
    /// copied official photo), drafting as the scan does.
    fn add(&self, platform: Platform, id: &str, photo: bool, sec: i64) -> Finding {
        let url = match platform {
            Platform::AliExpress => format!("https://www.aliexpress.com/item/{id}.html"),
            Platform::Alibaba => format!("https://www.alibaba.com/product-detail/_{id}.html"),
            Platform::Taobao => format!("https://item.taobao.com/item.htm?id={id}"),
            Platform::Tmall => format!("https://detail.tmall.com/item.htm?id={id}"),
            Platform::S1688 => format!("https://detail.1688.com/offer/{id}.html"),
        };
        let title = format!("AURORA espresso cup replica {id}");
        let page_url = format!("{url}?page");
        let page = Capture::new(
            page_url.clone(),
            200,
            Some("text/html; charset=utf-8".into()),
            at(sec),
            format!("<html><body><h1>{title}</h1>\u{0}raw\r\n</body></html>").into_bytes(),
        );
        self.store.put_page(&page).unwrap();
        let mut photos = Vec::new();
        let mut images = Vec::new();
        if photo {
            let photo_url = format!("https://ae01.alicdn.com/kf/{}.png", id.len() + sec as usize);
            let bytes = listing_photo(&self.official);
            let cap = Capture::new(
                photo_url.clone(),
                200,
                Some("image/png".into()),
                at(sec + 1),
                bytes,
            );
            self.store.put_page(&cap).unwrap();
            images.push(photo_url.clone());
            photos.push(PhotoEvidence {
                url: photo_url,
                sha256: cap.sha256.clone(),
                reference: "espresso-cup.jpg".into(),
                distance: 3,
                bits: 128,
                transform: Some("mirrored".into()),
                similarity: Some(0.99),
                detail: Some(0.95),
                independent_samples: Some(40.0),
            });
        }
        let listing = Listing {
            platform,
            id: id.to_string(),
            url: url.clone(),
            title: title.clone(),
            price: Some(Price {
                amount: 3.5,
                max: None,
                currency: "USD".into(),
            }),
            seller: Seller {
                name: Some("Copy Shop".into()),
                ..Seller::default()
            },
            images,
            moq: None,
            sales: None,
            location: None,
            sponsored: false,
            source_url: page_url.clone(),
            missing: Vec::new(),
        };
        let marks = [MarkHit {
            mark: "AURORA".into(),
            term: "AURORA".into(),
            variant: "AURORA".into(),
            rule: MatchRule::Exact,
            edits: 0,
            start: 0,
            end: 6,
        }];
        let signals = vec![
            Signal {
                kind: SignalKind::Mark,
                points: 35,
                reason: "title matches mark \"AURORA\"".into(),
                evidence: serde_json::json!({"mark": "AURORA", "variant": "AURORA"}),
            },
            Signal {
                kind: SignalKind::Indicator,
                points: 30,
                reason: "counterfeit indicator term \"replica\"".into(),
                evidence: serde_json::json!({"terms": ["replica"]}),
            },
            Signal {
                kind: SignalKind::Price,
                points: 25,
                reason: "price 3.50 USD is 91% below MSRP 39.00".into(),
                evidence: serde_json::json!({"price": 3.5, "currency": "USD", "product": "Aurora Barista Espresso Cup", "msrp": 39.0, "msrp_currency": "USD", "below_pct": 91.0}),
            },
        ];
        let grounds = Grounds {
            platform: Some(platform),
            listing_url: &url,
            marks: &marks,
            photos: &photos,
            product: Some(("Aurora Barista Espresso Cup", "drinkware")),
            photo_published_at: vec![
                "https://aurora-outfitters.example/products/barista-espresso-cup".into(),
            ],
            ..Grounds::default()
        }
        .with_signals(&signals);
        let (drafts, needs_right) = complaint::draft(&self.wl, &grounds, filing_date());
        let finding = Finding {
            platform,
            listing_id: id.to_string(),
            url: url.clone(),
            title,
            seller: Some("Copy Shop".into()),
            seller_id: None,
            price: listing.price.clone(),
            score: 95,
            verdict: Verdict::Flag,
            priority: 95,
            reasons: signals.iter().map(|s| s.reason.clone()).collect(),
            signals,
            drafts,
            needs_right,
            product: Some("Aurora Barista Espresso Cup".into()),
            photos,
            errors: Vec::new(),
            source_urls: vec![page_url.clone()],
            decision: None,
        };
        let source = Source {
            url: page_url,
            sha256: page.sha256.clone(),
            captured_at: at(sec),
        };
        self.store
            .record(&listing, &[source], at(sec), &finding)
            .unwrap();
        finding
    }
}

/// Every file under `dir`, relative, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn complaints_json(out: &Path) -> Vec<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(out.join("complaints.json")).unwrap()).unwrap()
}

#[test]
fn export_writes_batches_bundles_and_needs_right() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1005001", true, 0);
    fx.add(Platform::AliExpress, "1005002", false, 10);
    fx.add(Platform::Alibaba, "1600001", false, 20);
    let taobao = fx.add(Platform::Taobao, "7001", false, 30);
    assert!(taobao.drafts.is_empty());
    assert!(taobao.needs_right[0]
        .message
        .contains("Taobao accepts only rights valid in China"));
    drop(fx);

    let out = tmp.path().join("out");
    let summary = export::export(&data, &out).unwrap();
    // One complaint per listing: 1005001 (mark and copied photo) on the
    // trademark, with the copyright named as its alternative; 1005002 and
    // 1600001 on the trademark.
    assert_eq!(summary.complaints, 3, "{summary}");
    assert_eq!(summary.new_complaints, 3);
    assert_eq!(summary.needs_right, 1);
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    let files: Vec<&str> = summary.batches.iter().map(|b| b.file.as_str()).collect();
    assert_eq!(
        files,
        vec![
            "batches/aliexpress_us-tm-aurora_trademark_counterfeit_001.txt",
            "batches/alibaba_us-tm-aurora_trademark_counterfeit_001.txt",
        ]
    );
    let tm = std::fs::read_to_string(out.join(files[0])).unwrap();
    let mut lines = tm.lines();
    assert_eq!(
        lines.next(),
        Some("https://www.aliexpress.com/item/1005001.html")
    );
    assert_eq!(
        lines.next(),
        Some("https://www.aliexpress.com/item/1005002.html")
    );
    assert_eq!(lines.next(), Some(""));
    assert!(
        tm.contains("offers counterfeit goods bearing the trademark AURORA"),
        "{tm}"
    );
    assert!(tm.contains("Supplement infringement reason(s):"), "{tm}");
    assert!(
        tm.contains("Reason: Trademark infringement: counterfeit goods / 商标侵权：假冒商品"),
        "{tm}"
    );
    assert!(tm.contains("下列商品均为假冒"), "{tm}");
    assert!(!tm.contains("alibaba.com"), "batches never mix platforms");
    // The per-URL facts are in the batch's table, one row per URL.
    let table = std::fs::read_to_string(out.join(&summary.batches[0].table)).unwrap();
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(table.contains("91% below the retail price"), "{table}");
    assert!(!tm.contains("91% below the retail price"), "{tm}");

    let complaints = complaints_json(&out);
    let ids: Vec<&str> = complaints
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["C-000001", "C-000002", "C-000003"]);
    let csv = std::fs::read_to_string(out.join("complaints.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("C-0000")).count(), 3);
    let with_alt = complaints
        .iter()
        .find(|c| c["listing_id"] == "1005001")
        .unwrap();
    assert_eq!(
        with_alt["alternatives"][0]["right_id"],
        "us-copyright-photos"
    );
    let needs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("needs_right.json")).unwrap()).unwrap();
    assert_eq!(needs[0]["failures"][0]["rule"], "jurisdiction");

    // The bundle of the complaint with a copied photo.
    let with_photo = complaints
        .iter()
        .find(|c| c["listing_id"] == "1005001" && c["right_id"] == "us-tm-aurora")
        .unwrap();
    let bundle = out.join(with_photo["evidence_dir"].as_str().unwrap());
    let page = std::fs::read(bundle.join("pages/01-1005001.html")).unwrap();
    assert!(
        page.starts_with(b"<html><body><h1>AURORA") && page.contains(&0u8),
        "raw bytes kept"
    );
    assert_eq!(
        std::fs::read(bundle.join("official/espresso-cup.jpg")).unwrap(),
        Store::open(&data)
            .unwrap()
            .blob(&knockoff::fetch::sha256_hex(&official_bytes()))
            .unwrap()
            .unwrap()
    );
    // The certificate the right needs travels with the complaint.
    let cert = std::fs::read(bundle.join("documents/01-us-6123456.pdf")).unwrap();
    assert!(cert.starts_with(b"%PDF-1.4 stand-in for certificates/us-6123456.pdf"));
    let cmp = image::open(bundle.join("comparison-01.png")).unwrap();
    assert!(cmp.width() > 600);
    assert!(bundle.join("photos").read_dir().unwrap().count() == 1);
    let captures: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("captures.json")).unwrap()).unwrap();
    assert_eq!(captures[0]["captured_at"], "2026-01-01T00:00:00Z");
    assert_eq!(
        captures[0]["url"],
        "https://www.aliexpress.com/item/1005001.html?page"
    );
    let score: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("score.json")).unwrap()).unwrap();
    assert_eq!(score["signals"][1]["evidence"]["terms"][0], "replica");
    let listing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("listing.json")).unwrap()).unwrap();
    assert_eq!(listing["listing"]["id"], "1005001");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("comparison-01.png") && html.contains("<style>") && !html.contains("<link")
    );
    assert!(html.contains("Taobao accepts only rights valid in China"));

    // Verify: the whole export and one bundle pass.
    assert!(verify(&out).unwrap().is_ok());
    assert!(verify(&bundle).unwrap().is_ok());
}

#[test]
fn verify_reports_changed_missing_and_added_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1005001", true, 0);
    drop(fx);
    let out = tmp.path().join("out");
    export::export(&data, &out).unwrap();
    let bundle = out.join(complaints_json(&out)[0]["evidence_dir"].as_str().unwrap());
    let report = verify(&out).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.ok > 10);

    // Flip one byte of the raw page.
    let page = bundle.join("pages/01-1005001.html");
    let mut bytes = std::fs::read(&page).unwrap();
    bytes[3] ^= 0x01;
    std::fs::write(&page, &bytes).unwrap();
    for dir in [&out, &bundle] {
        let r = verify(dir).unwrap();
        assert!(!r.is_ok());
        assert_eq!(r.changed.len(), 1, "{r}");
        assert!(r.changed[0].ends_with("pages/01-1005001.html"), "{r}");
        assert!(r.to_string().contains("FAILED"));
    }
    bytes[3] ^= 0x01;
    std::fs::write(&page, &bytes).unwrap();
    assert!(verify(&out).unwrap().is_ok());

    // Remove a file, add one.
    std::fs::remove_file(bundle.join("score.json")).unwrap();
    std::fs::write(bundle.join("extra.txt"), b"x").unwrap();
    let r = verify(&bundle).unwrap();
    assert_eq!(r.missing, vec!["score.json"]);
    assert_eq!(r.added, vec!["extra.txt"]);
    let r = verify(&out).unwrap();
    assert_eq!(r.missing.len(), 1);
    assert_eq!(r.added.len(), 1);
    assert!(r.added[0].ends_with("/extra.txt"));

    // A folder without a manifest is an error naming it.
    let err = verify(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("manifest.json"), "{err}");
}

#[test]
fn batches_split_at_300_and_ids_are_stable_across_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    for i in 0..(MAX_URLS_PER_BATCH + 1) {
        fx.add(
            Platform::AliExpress,
            &format!("{}", 2_000_000 + i),
            false,
            i as i64,
        );
    }
    drop(fx);
    let first = export::export(&data, &tmp.path().join("first")).unwrap();
    assert_eq!((first.complaints, first.new_complaints), (301, 301));
    let out = tmp.path().join("out");
    let summary = export::export(&data, &out).unwrap();
    assert_eq!(summary.complaints, 301);
    assert_eq!(
        summary.new_complaints, 0,
        "the first export numbered them all"
    );
    let sizes: Vec<usize> = summary.batches.iter().map(|b| b.urls).collect();
    assert_eq!(sizes, vec![300, 1]);
    let first = std::fs::read_to_string(out.join(&summary.batches[0].file)).unwrap();
    let urls = first.lines().take_while(|l| !l.is_empty()).count();
    assert_eq!(urls, 300);
    assert!(summary.batches[1].file.ends_with("_002.txt"));
    let before = complaints_json(&out);

    // A new listing later: the old ids stay, the new one is 302.
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1000000", false, 9999);
    drop(fx);
    let out2 = tmp.path().join("out2");
    let summary = export::export(&data, &out2).unwrap();
    assert_eq!((summary.complaints, summary.new_complaints), (302, 1));
    let after = complaints_json(&out2);
    for c in &before {
        let same = after
            .iter()
            .find(|a| a["listing_id"] == c["listing_id"])
            .unwrap();
        assert_eq!(same["id"], c["id"]);
    }
    let new = after.iter().find(|a| a["listing_id"] == "1000000").unwrap();
    assert_eq!(new["id"], "C-000302");
}

#[test]
fn two_exports_of_the_same_data_are_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1005001", true, 0);
    fx.add(Platform::Alibaba, "1600001", true, 5);
    fx.add(Platform::Tmall, "9001", false, 7);
    drop(fx);
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    export::export(&data, &a).unwrap();
    export::export(&data, &b).unwrap();
    let sa = snapshot(&a);
    assert!(sa.len() > 20);
    assert_eq!(sa, snapshot(&b));
    // Re-exporting over a previous export replaces it, same bytes.
    export::export(&data, &a).unwrap();
    assert_eq!(sa, snapshot(&a));
}

#[test]
fn hostile_names_cannot_escape_the_export_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    let long = "9".repeat(5000);
    let lossy = String::from_utf8_lossy(b"\xff\xfe../x").into_owned();
    for id in [
        "../../../../escape",
        "/etc/passwd",
        "a\0b",
        long.as_str(),
        lossy.as_str(),
        "..",
        "NUL",
    ] {
        fx.add(Platform::AliExpress, id, true, 0);
    }
    // An official photo whose name tries to climb out.
    let bytes = official_bytes();
    fx.store
        .put_official(
            &OfficialPhoto {
                name: "../../../evil.jpg".into(),
                product: "x".into(),
                published_at: Vec::new(),
                sha256: fx.official_sha.clone(),
            },
            &bytes,
        )
        .unwrap();
    drop(fx);
    let out = tmp.path().join("sub").join("out");
    let summary = export::export(&data, &out).unwrap();
    assert_eq!(summary.complaints, 7, "{summary}");
    // Nothing outside `out` but the data folder.
    let mut top: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, vec!["data", "sub"]);
    assert_eq!(
        std::fs::read_dir(tmp.path().join("sub")).unwrap().count(),
        1
    );
    for (path, _) in snapshot(&out) {
        for c in path.components() {
            let s = c.as_os_str().to_string_lossy();
            assert!(s.len() <= 120, "{path:?}");
            assert!(s != ".." && !s.contains('\0'), "{path:?}");
        }
    }
    assert!(verify(&out).unwrap().is_ok());
}

#[test]
fn warc_records_of_live_captures_go_into_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1005001", false, 0);
    let rec = fx.store.listing("aliexpress/1005001").unwrap().unwrap();
    let sha = rec.sources[0].sha256.clone();
    let body = fx.store.blob(&sha).unwrap().unwrap();
    drop(fx);
    let crawl = tmp.path().join("crawl");
    std::fs::create_dir_all(&crawl).unwrap();
    let info = knockoff::fetch::warc::WarcInfo::new("ua (+mailto:t@example.invalid)", "obey");
    let mut w =
        knockoff::fetch::warc::WarcWriter::create(&crawl.join("live.warc.gz"), &info).unwrap();
    let mut cap = Capture::new(
        rec.sources[0].url.clone(),
        200,
        Some("text/html".into()),
        at(0),
        body.clone(),
    );
    // As the live fetcher leaves it: a redirect hop, then the page, gzip
    // on the wire.
    let hop = |url: &str, status: u16, headers: Vec<(String, Vec<u8>)>, wire: Vec<u8>| Exchange {
        url: url.into(),
        request_line: "GET /x HTTP/1.1".into(),
        request_headers: vec![("host".into(), b"www.aliexpress.com".to_vec())],
        sent_at: at(0),
        received_at: at(0),
        remote_ip: None,
        version: "HTTP/1.1".into(),
        status,
        response_headers: headers,
        wire_body: Some(wire),
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &body).unwrap();
    cap.exchanges = vec![
        hop(
            "https://www.aliexpress.com/i/1005001",
            301,
            vec![("location".into(), cap.url.clone().into_bytes())],
            Vec::new(),
        ),
        hop(
            &cap.url,
            200,
            vec![("content-encoding".into(), b"gzip".to_vec())],
            gz.finish().unwrap(),
        ),
    ];
    w.write_capture(&cap, str::to_string).unwrap();
    w.flush().unwrap();
    drop(w);
    let out = tmp.path().join("out");
    let opts = ExportOptions {
        warc_dirs: vec![crawl],
        ..ExportOptions::default()
    };
    let summary = export::export_with(&data, &out, &opts).unwrap();
    assert_eq!(
        (summary.warc_files, summary.warc_captures),
        (1, 1),
        "{summary}"
    );
    let bundle = out.join(complaints_json(&out)[0]["evidence_dir"].as_str().unwrap());
    let warcs: Vec<_> = std::fs::read_dir(bundle.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(warcs.len(), 1);
    // The whole chain came along: request and response of each hop.
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(&std::fs::read(&warcs[0]).unwrap()[..]),
        &mut text,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&text);
    let types: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("WARC-Type: "))
        .collect();
    assert_eq!(types, ["request", "response", "request", "response"]);
    assert!(text.contains("HTTP/1.1 301 Moved Permanently"));
    let captures: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("captures.json")).unwrap()).unwrap();
    assert!(captures[0]["warc"][0]
        .as_str()
        .unwrap()
        .starts_with("warc/01-"));
}

/// Runs `sha256sum -c manifest-sha256.txt` in `dir` (coreutils).
fn sha256sum_check(dir: &Path) -> std::process::Output {
    std::process::Command::new("sha256sum")
        .args(["--strict", "-c", "manifest-sha256.txt"])
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn bundles_carry_a_manifest_that_sha256sum_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fx = Fixture::new(&data);
    fx.add(Platform::AliExpress, "1005001", true, 0);
    fx.add(Platform::Alibaba, "1600001", false, 20);
    drop(fx);
    let out = tmp.path().join("out");
    export::export(&data, &out).unwrap();
    let bundle = out.join(complaints_json(&out)[0]["evidence_dir"].as_str().unwrap());
    for dir in [&out, &bundle] {
        let text = std::fs::read_to_string(dir.join("manifest-sha256.txt")).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let files = manifest["files"].as_array().unwrap();
        // Every payload file, `<hex>  <relative path>`, in manifest order.
        let want: String = files
            .iter()
            .map(|f| {
                format!(
                    "{}  {}\n",
                    f["sha256"].as_str().unwrap(),
                    f["path"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(text, want);
        assert!(text.lines().count() >= 5, "{text}");
        // Not its own manifests (the top one lists the bundles' ones).
        assert!(!text
            .lines()
            .any(|l| l.ends_with("  manifest-sha256.txt") || l.ends_with("  manifest.json")));
        let run = sha256sum_check(dir);
        let said = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{}: {said}{}",
            dir.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(said.matches(": OK").count(), files.len(), "{said}");
    }
    // The top manifest covers the bundles' files by their paths below it.
    let top = std::fs::read_to_string(out.join("manifest-sha256.txt")).unwrap();
    assert!(top.contains("/photos/") || top.contains("/pages/"), "{top}");
    assert!(top.contains("evidence/") && top.contains("/manifest-sha256.txt\n"));

    // A changed file fails both checks; so does a text manifest that no
    // longer says what manifest.json says.
    std::fs::write(bundle.join("listing.json"), b"{}\n").unwrap();
    assert!(!sha256sum_check(&bundle).status.success());
    assert_eq!(verify(&bundle).unwrap().changed, ["listing.json"]);
    export::export(&data, &out).unwrap();
    let path = bundle.join("manifest-sha256.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.lines().skip(1).collect::<Vec<_>>().join("\n")).unwrap();
    assert_eq!(verify(&bundle).unwrap().changed, ["manifest-sha256.txt"]);
}

#[test]
fn export_refuses_a_folder_it_did_not_write_and_a_missing_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    Fixture::new(&data).add(Platform::AliExpress, "1", false, 0);
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("thesis.docx"), b"precious").unwrap();
    let err = export::export(&data, &out).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(std::fs::read(out.join("thesis.docx")).unwrap(), b"precious");
    let err = export::export(&tmp.path().join("nowhere"), &tmp.path().join("o"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no store here"), "{err}");
}

/// One export over an open store, and what it read: finding, listing and
/// case records.
fn export_reads(data: &Path, out: &Path) -> (export::ExportSummary, [u64; 3]) {
    let store = Store::open_existing(data).unwrap();
    let counts = |s: &Store| [s.finding_reads(), s.listing_reads(), s.case_reads()];
    let before = counts(&store);
    let summary = export::export_store(&store, data, out, &ExportOptions::default()).unwrap();
    let after = counts(&store);
    (summary, [0, 1, 2].map(|i| after[i] - before[i]))
}

#[test]
fn export_reads_what_it_files_not_the_history() {
    use knockoff::file::cases::book::CaseBook;
    use knockoff::file::cases::state::CaseState;
    const OLD: u64 = 12;
    // `old_briefs`: the briefs as a knockoff before they carried the
    // complaint key wrote them (written again at open).
    let run = |history: bool, old_briefs: bool| {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let fx = Fixture::new(&data);
        if history {
            let book = CaseBook::open(&fx.store).unwrap();
            for i in 0..OLD as i64 {
                // Flagged once, cleared by an analyst since.
                let mut f = fx.add(
                    Platform::AliExpress,
                    &format!("{}", 3_000_000 + i),
                    false,
                    i,
                );
                f.verdict = Verdict::Clear;
                f.drafts.clear();
                fx.store.put_finding(&f).unwrap();
                // Filed long ago and taken down.
                let f = fx.add(
                    Platform::AliExpress,
                    &format!("{}", 4_000_000 + i),
                    false,
                    i,
                );
                let case = book.open_cases(&f, at(i), None, "scan").unwrap().remove(0);
                for to in [
                    CaseState::Approved,
                    CaseState::Submitted,
                    CaseState::Removed,
                ] {
                    book.move_case(&case.id, to, at(100 + i), None, "test", None)
                        .unwrap();
                }
            }
        }
        for i in 0..3 {
            fx.add(
                Platform::Alibaba,
                &format!("{}", 1_700_000 + i),
                true,
                1000 + i,
            );
        }
        drop(fx);
        if old_briefs {
            let stripped = strip_brief_complaints(&data.join("store"));
            assert_eq!(
                stripped,
                OLD + 3,
                "every flagged listing's brief had its key"
            );
        }
        let out = export_reads(&data, &tmp.path().join("out"));
        if old_briefs {
            let store = Store::open_existing(&data).unwrap();
            let keyed = store
                .dump_tree("suspect_briefs")
                .unwrap()
                .iter()
                .filter(|(_, v)| v.contains("\"complaint\":\"aliexpress/"))
                .count() as u64;
            assert_eq!(
                keyed, OLD,
                "the briefs got their complaint key back at open"
            );
        }
        out
    };
    let (alone, alone_reads) = run(false, false);
    let (with, with_reads) = run(true, false);
    assert_eq!((alone.complaints, with.complaints), (3, 3));
    assert_eq!(with.already_filed.len() as u64, OLD);
    assert_eq!(
        with.storefront, 1,
        "the takedowns' seller is a repeat offender"
    );
    let [findings, listings, cases] = alone_reads;
    assert_eq!(findings, 3, "the findings it files, each read once");
    assert_eq!(
        with_reads,
        [findings, listings, cases + 2 * OLD],
        "a cleared listing costs no read; a filed one no finding (its brief \
         names its complaint) and its case twice (its state, and the \
         store-front scan)"
    );
    // A store whose briefs lack the key gets it at open, and reads the same.
    let (old, old_reads) = run(true, true);
    assert_eq!(old.already_filed, with.already_filed);
    assert_eq!(old_reads, with_reads);
}

/// Removes the complaint key from every suspect brief of the store at
/// `store_dir`, and the mark that they carry it, as a knockoff before
/// them wrote the store; returns how many briefs had one.
fn strip_brief_complaints(store_dir: &Path) -> u64 {
    let db = sled::open(store_dir).unwrap();
    let briefs = db.open_tree("suspect_briefs").unwrap();
    let mut stripped = 0;
    for item in briefs.iter() {
        let (k, v) = item.unwrap();
        let mut brief: serde_json::Value = serde_json::from_slice(&v).unwrap();
        if brief.as_object_mut().unwrap().remove("complaint").is_some() {
            stripped += 1;
            briefs
                .insert(k, serde_json::to_vec(&brief).unwrap())
                .unwrap();
        }
    }
    assert!(db
        .remove("meta/suspect_brief_complaints")
        .unwrap()
        .is_some());
    db.flush().unwrap();
    stripped
}
