//! Bad input through the built binary: every case gets a clear error that
//! names the file, line, field or host, and the documented exit code.

use std::path::Path;
use std::process::{Command, Output};

fn knockoff(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run knockoff")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const WATCHLIST: &str = r#"[brand]
name = "Aurora"
rights_holder = "Aurora Outfitters Ltd."

[[marks]]
mark = "AURORA"
"#;

fn empty_recording(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("manifest.toml"), "").unwrap();
}

#[test]
fn malformed_watchlist_names_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let wl = tmp.path().join("bad.toml");
    std::fs::write(
        &wl,
        format!("{WATCHLIST}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\nmsrpp = 3\n"),
    )
    .unwrap();
    empty_recording(&tmp.path().join("rec"));
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "bad.toml",
            "--replay",
            "rec",
            "--data",
            "data",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bad.toml:12:"), "{err}");
    assert!(err.contains("products[0]"), "{err}");
    assert!(err.contains("msrpp"), "{err}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), "[brand\nname = 1\n").unwrap();
    empty_recording(&tmp.path().join("rec"));
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "w.toml",
            "--replay",
            "rec",
            "--data",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("w.toml:1:"), "{}", stderr(&out));
}

#[test]
fn missing_official_image_names_the_field_and_path() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("w.toml"),
        format!("{WATCHLIST}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\nimages = [\"official/cup.jpg\"]\n"),
    )
    .unwrap();
    empty_recording(&tmp.path().join("rec"));
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "w.toml",
            "--replay",
            "rec",
            "--data",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("products[0].images[0]"), "{err}");
    assert!(err.contains("official/cup.jpg"), "{err}");
}

#[test]
fn official_image_that_does_not_decode_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("official")).unwrap();
    std::fs::write(tmp.path().join("official/cup.jpg"), b"not a jpeg at all").unwrap();
    std::fs::write(
        tmp.path().join("w.toml"),
        format!("{WATCHLIST}\n[[products]]\nname = \"Cup\"\ncategory = \"drinkware\"\nmsrp = {{ amount = 39.0, currency = \"USD\" }}\nimages = [\"official/cup.jpg\"]\n"),
    )
    .unwrap();
    empty_recording(&tmp.path().join("rec"));
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "w.toml",
            "--replay",
            "rec",
            "--data",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("products[0].images[0]") && err.contains("cup.jpg"),
        "{err}"
    );
}

#[test]
fn recording_with_missing_file_or_escaping_path_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WATCHLIST).unwrap();
    for (file, expect) in [
        ("pages/nope.html", "does not exist"),
        ("../w.toml", "inside the recording"),
    ] {
        let rec = tmp.path().join("rec");
        std::fs::create_dir_all(&rec).unwrap();
        std::fs::write(
            rec.join("manifest.toml"),
            format!("[[page]]\nurl = \"https://www.aliexpress.com/item/1.html\"\nfile = \"{file}\"\ncaptured_at = \"2026-11-02T08:15:00Z\"\nstatus = 200\ncontent_type = \"text/html\"\n"),
        )
        .unwrap();
        let out = knockoff(
            &[
                "scan",
                "--watchlist",
                "w.toml",
                "--replay",
                "rec",
                "--data",
                "d",
            ],
            tmp.path(),
        );
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.contains("manifest.toml") && err.contains(expect),
            "{err}"
        );
    }
}

#[test]
fn manifest_with_unknown_field_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WATCHLIST).unwrap();
    let rec = tmp.path().join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::write(rec.join("a.html"), "<html></html>").unwrap();
    std::fs::write(
        rec.join("manifest.toml"),
        "[[page]]\nurl = \"https://www.aliexpress.com/item/1.html\"\nfile = \"a.html\"\ncaptured_at = \"2026-11-02T08:15:00Z\"\nstatus = 200\ncontent_typ = \"text/html\"\n",
    )
    .unwrap();
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "w.toml",
            "--replay",
            "rec",
            "--data",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 6") && err.contains("content_typ"),
        "{err}"
    );
}

#[test]
fn parse_unknown_host_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.html"), "<html></html>").unwrap();
    let out = knockoff(
        &[
            "parse",
            "--url",
            "https://shop.example.com/item/1",
            "p.html",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("shop.example.com") && err.contains("no marketplace parser"),
        "{err}"
    );
}

#[test]
fn parse_missing_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = knockoff(
        &[
            "parse",
            "--url",
            "https://www.aliexpress.com/item/1.html",
            "nope.html",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.html"), "{}", stderr(&out));
}

#[test]
fn page_that_is_not_html_is_drift_not_listings() {
    let tmp = tempfile::tempdir().unwrap();
    let png = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/photos/horse.png");
    for url in [
        "https://www.aliexpress.com/w/wholesale-aurora.html",
        "https://www.alibaba.com/trade/search?SearchText=aurora",
        "https://s.taobao.com/search?q=aurora",
        "https://list.tmall.com/search_product.htm?q=aurora",
        "https://s.1688.com/selloffer/offer_search.htm?keywords=aurora",
    ] {
        let out = knockoff(&["parse", "--url", url, png.to_str().unwrap()], tmp.path());
        assert_eq!(out.status.code(), Some(0), "{url}: {}", stderr(&out));
        let line = stdout(&out);
        let v: serde_json::Value =
            serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("{url}: {e}: {line}"));
        assert_eq!(v["status"], "drift", "{url}: {line}");
    }
}

#[test]
fn scan_of_a_recording_with_no_readable_page_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WATCHLIST).unwrap();
    let rec = tmp.path().join("rec");
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::write(
        rec.join("p.html"),
        "<html><script>var x = '/_____tmd_____/punish';</script></html>",
    )
    .unwrap();
    std::fs::write(
        rec.join("manifest.toml"),
        "[[page]]\nurl = \"https://www.aliexpress.com/w/wholesale-aurora.html\"\nfile = \"p.html\"\ncaptured_at = \"2026-11-02T08:15:00Z\"\nstatus = 200\ncontent_type = \"text/html\"\n",
    )
    .unwrap();
    let out = knockoff(
        &[
            "scan",
            "--watchlist",
            "w.toml",
            "--replay",
            "rec",
            "--data",
            "d",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // A page that only mentions a punish URL is not a block page: it is a
    // layout the parser does not know (issue 16).
    assert!(stdout(&out).contains("[drift]"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("[blocked]"), "{}", stdout(&out));
}
