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
        assert_eq!(v["type"], "drift", "{url}: {line}");
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

/// Runs the binary, killing it if it takes longer than `limit` (a hang
/// fails the test instead of stalling the suite). Returns the output and
/// how long it ran.
fn knockoff_within(
    args: &[&str],
    cwd: &Path,
    limit: std::time::Duration,
) -> (Output, std::time::Duration) {
    use std::process::Stdio;
    let start = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run knockoff");
    // Drain the pipes on threads so a chatty child cannot block on them.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("knockoff {args:?} still running after {limit:?}: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let out = Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    };
    (out, elapsed)
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn page_manifest(entries: &[(&str, &str)]) -> String {
    entries
        .iter()
        .map(|(url, file)| {
            format!("[[page]]\nurl = \"{url}\"\nfile = \"{file}\"\ncaptured_at = \"2026-11-02T08:15:00Z\"\nstatus = 200\ncontent_type = \"text/html\"\n\n")
        })
        .collect()
}

/// Issue 19, finding 6: a recording entry that is a symlink (to
/// `/etc/passwd`), passes through one (a folder linked to `/etc`), or is a
/// FIFO is refused by `scan`, naming the entry, before anything is read;
/// nothing of the linked file reaches the output or the data folder.
#[cfg(unix)]
#[test]
fn regression_issue19_recording_symlink_refused_by_scan() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("w.toml"), WATCHLIST).unwrap();
    let url = "https://www.aliexpress.com/w/wholesale-aurora.html";
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, &str, Make); 3] = [
        ("passwd.html", "is a symbolic link", &|rec: &Path| {
            std::os::unix::fs::symlink("/etc/passwd", rec.join("passwd.html")).unwrap()
        }),
        (
            "etc/passwd",
            "passes through `etc`, a symbolic link",
            &|rec: &Path| std::os::unix::fs::symlink("/etc", rec.join("etc")).unwrap(),
        ),
        ("pipe.html", "is a FIFO", &|rec: &Path| {
            mkfifo(&rec.join("pipe.html"))
        }),
    ];
    for (k, (file, expect, make)) in cases.iter().enumerate() {
        let rec = tmp.path().join(format!("rec{k}"));
        std::fs::create_dir_all(&rec).unwrap();
        make(&rec);
        std::fs::write(rec.join("manifest.toml"), page_manifest(&[(url, file)])).unwrap();
        let rec_arg = format!("rec{k}");
        let data = format!("d{k}");
        let (out, _) = knockoff_within(
            &[
                "scan",
                "--watchlist",
                "w.toml",
                "--replay",
                &rec_arg,
                "--data",
                &data,
                "--json",
            ],
            tmp.path(),
            std::time::Duration::from_secs(60),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(file) && err.contains(expect), "{file}: {err}");
        assert!(!stdout(&out).contains("root:"), "{}", stdout(&out));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf).into_owned();
    let status = buf.get(9..12)?.parse().ok()?;
    Some((status, buf.split_once("\r\n\r\n")?.1.to_string()))
}

/// Issue 19, finding 6: `mock-market` refuses a recording with a symlinked
/// entry (exit 2, naming it), and a file swapped for a symlink to
/// `/etc/passwd` while it serves is answered with an error, not the file.
#[cfg(unix)]
#[test]
fn regression_issue19_mock_market_refuses_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "https://www.aliexpress.com/item/1.html";
    // At start: refused.
    let rec = tmp.path().join("bad");
    std::fs::create_dir_all(&rec).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", rec.join("item.html")).unwrap();
    std::fs::write(
        rec.join("manifest.toml"),
        page_manifest(&[(url, "item.html")]),
    )
    .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let (out, _) = knockoff_within(
        &["mock-market", "--recording", "bad", "--addr", &addr],
        tmp.path(),
        std::time::Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("item.html") && err.contains("symbolic link"),
        "{err}"
    );

    // While serving: the swapped file is refused at the read.
    let rec = tmp.path().join("good");
    std::fs::create_dir_all(&rec).unwrap();
    std::fs::write(rec.join("item.html"), "<html>item</html>").unwrap();
    std::fs::write(
        rec.join("manifest.toml"),
        page_manifest(&[(url, "item.html")]),
    )
    .unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(["mock-market", "--recording", "good", "--addr", &addr])
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let served = loop {
        if let Some(r) = http_get(&addr, "/aliexpress/item/1.html") {
            break r;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "mock-market did not answer"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(served, (200, "<html>item</html>".to_string()));
    std::fs::remove_file(rec.join("item.html")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", rec.join("item.html")).unwrap();
    let answer = http_get(&addr, "/aliexpress/item/1.html");
    child.kill().unwrap();
    child.wait().unwrap();
    let (status, body) = answer.expect("an answer");
    assert_eq!(status, 500, "{body}");
    assert!(!body.contains("root:"), "{body}");
    assert!(
        body.contains("item.html") && body.contains("symbolic link"),
        "{body}"
    );
}

/// Issue 19, finding 6: `verify` on a folder whose listed files were
/// replaced by a symlink to `/dev/zero` and by a FIFO reports both as
/// refused at once (no hang, no unbounded read) and exits 1.
#[cfg(unix)]
#[test]
fn regression_issue19_verify_refuses_symlink_and_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bundle");
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    std::fs::write(dir.join("ok.txt"), b"fine").unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("pages/page.html")).unwrap();
    mkfifo(&dir.join("score.json"));
    let entry = |path: &str, bytes: &[u8]| {
        serde_json::json!({
            "path": path,
            "sha256": knockoff::fetch::sha256_hex(bytes),
            "bytes": bytes.len(),
        })
    };
    let manifest = serde_json::json!({
        "algorithm": "sha256",
        "files": [
            entry("ok.txt", b"fine"),
            entry("pages/page.html", &[0u8; 4096]),
            entry("score.json", b"{}"),
        ],
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let (out, took) = knockoff_within(
        &["verify", "bundle"],
        tmp.path(),
        std::time::Duration::from_secs(30),
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text} {}", stderr(&out));
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert!(
        text.contains("refused  pages/page.html: is a symbolic link"),
        "{text}"
    );
    assert!(text.contains("refused  score.json: is a FIFO"), "{text}");
    assert!(text.contains("1 files match"), "{text}");

    // A symlinked manifest is refused too, naming it.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::os::unix::fs::symlink(dir.join("manifest.json"), other.join("manifest.json")).unwrap();
    let (out, _) = knockoff_within(
        &["verify", "other"],
        tmp.path(),
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("manifest.json") && stderr(&out).contains("symbolic link"),
        "{}",
        stderr(&out)
    );
}

/// Issue 19, finding 9: an I/O failure at run time is exit 1 (a full disk
/// is not a usage error), while an input that cannot be read stays exit 2.
#[cfg(target_os = "linux")]
#[test]
fn regression_issue19_io_failure_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("p.html"), "<html></html>").unwrap();
    // Output to a full disk: /dev/full answers every write with ENOSPC.
    let out = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args([
            "parse",
            "--url",
            "https://www.aliexpress.com/item/1.html",
            "p.html",
        ])
        .current_dir(tmp.path())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("<stdout>") && err.contains("No space left"),
        "{err}"
    );
    // The input named on the command line: still a usage error.
    let out = knockoff(
        &[
            "parse",
            "--url",
            "https://www.aliexpress.com/item/1.html",
            "nope.html",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Regression (issue 19, finding 2): `{"a":` + 100,000 `[` in a page's
/// embedded data (and the same with nested objects and unquoted keys, and in
/// a Taobao `g_page_config`) aborted `knockoff parse` with a stack overflow
/// (exit 134). Now the page is read as far as it goes and the run exits 0.
#[test]
fn regression_issue19_deep_nesting_does_not_overflow_the_stack() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "https://www.aliexpress.com/item/1005006123456789.html",
            format!(
                "<script>window.runParams = {{\"a\":{}}};</script>",
                "[".repeat(100_000)
            ),
        ),
        (
            "https://www.aliexpress.com/w/wholesale-aurora.html",
            format!(
                "<script>window._dida_config_._init_data_= {{ data: {} }}</script>",
                "{a:".repeat(100_000)
            ),
        ),
        (
            "https://s.taobao.com/search?q=aurora",
            format!(
                "<script>g_page_config = {{\"mods\":{}}};</script>",
                "[".repeat(100_000)
            ),
        ),
    ];
    for (i, (url, page)) in cases.iter().enumerate() {
        let file = format!("deep{i}.html");
        std::fs::write(tmp.path().join(&file), page).unwrap();
        let (out, _) = knockoff_within(
            &["parse", "--url", url, &file],
            tmp.path(),
            std::time::Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(0), "{url}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("\"status\""),
            "{url}: {}",
            stdout(&out)
        );
    }
}

/// Regression (issue 19, finding 3): a page of
/// `window._dida_config_._init_data_={` repeated took quadratic time (1 MB:
/// 12 s, 4 MB: over 120 s). 4 MB now parses in one pass; the run is only
/// guarded against a hang, not timed.
#[test]
fn regression_issue19_repeated_markers_parse_in_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let page = "window._dida_config_._init_data_={".repeat(4 * 1024 * 1024 / 34);
    std::fs::write(tmp.path().join("rep.html"), &page).unwrap();
    let (out, _) = knockoff_within(
        &[
            "parse",
            "--url",
            "https://www.aliexpress.com/w/wholesale-aurora.html",
            "rep.html",
        ],
        tmp.path(),
        std::time::Duration::from_secs(100),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"drift\""), "{}", stdout(&out));
}

/// The CLI contract (issue 21): every NDJSON line of `scan --json` says
/// its `type`; `KNOCKOFF_DATA` stands for `--data`; completions and the
/// man page are generated; `NO_COLOR` and `--color` decide colour.
#[test]
fn cli_contract_types_env_completions_and_color() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("from-env");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(["scan", "--json"])
        .env("KNOCKOFF_DATA", &data)
        .current_dir(repo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for l in &lines {
        assert_eq!(l["type"], "finding", "{l}");
    }
    assert!(data.join("store").is_dir(), "KNOCKOFF_DATA was not used");
    // The other commands' JSON lines say what they are too.
    let typed = |args: &[&str], kind: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_knockoff"))
            .args(args)
            .env("KNOCKOFF_DATA", &data)
            .current_dir(repo)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(!text.trim().is_empty(), "{args:?}: no output");
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["type"], kind, "{args:?}: {l}");
        }
    };
    typed(&["search", "aurora"], "search_hit");
    typed(&["search", "--variants", "aurora"], "mark_variant");
    typed(&["cases", "list", "--json"], "case");
    typed(&["cases", "good-faith", "--json"], "good_faith");
    typed(
        &[
            "parse",
            "--url",
            "https://www.aliexpress.com/w/wholesale-aurora.html",
            "seeds/aliexpress/search-aurora-p1.html",
        ],
        "listing",
    );

    for shell in ["bash", "zsh", "fish"] {
        let o = knockoff(&["completions", shell], repo);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(
            script.contains("knockoff") && script.contains("scan"),
            "{shell}"
        );
        assert!(script.contains("desk") || script.contains("ui"), "{shell}");
    }
    let man = knockoff(&["man"], repo);
    assert!(man.status.success());
    assert!(stdout(&man).contains(".TH knockoff"), "{}", stdout(&man));

    // Colour is checked on the debug log of a search (the index and the
    // store log as they open): `--color always` colours even off a
    // terminal; `auto` off a terminal, and `never`, stay plain.
    let warn = |args: &[&str], no_color: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_knockoff"));
        c.args(args).current_dir(repo).env("RUST_LOG", "debug");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&c.output().unwrap().stderr).into_owned()
    };
    let d = data.to_str().unwrap();
    let always = warn(
        &["--color", "always", "search", "--data", d, "aurora"],
        true,
    );
    assert!(
        always.contains("\u{1b}["),
        "no colour with --color always: {always}"
    );
    let auto = warn(&["search", "--data", d, "aurora"], true);
    assert!(!auto.contains("\u{1b}["), "colour off a terminal: {auto}");
    let never = warn(
        &["--color", "never", "search", "--data", d, "aurora"],
        false,
    );
    assert!(!never.contains("\u{1b}["));
}

/// Issue 21: an installed binary run outside a checkout, with no
/// watchlist, says how to start instead of a bare file error, exits 2 and
/// creates no data folder.
#[test]
fn scan_outside_a_checkout_says_how_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let out = knockoff(&["scan"], tmp.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("watchlists/demo.toml"), "{err}");
    assert!(err.contains("inside a knockoff checkout"), "{err}");
    assert!(err.contains("--watchlist BRAND.toml"), "{err}");
    assert!(!tmp.path().join("knockoff-data").exists());
}

/// Issue 21: the README documents every flag of every command and
/// subcommand (read from the clap definition itself, so a new flag without
/// its line in the README fails here).
#[test]
fn the_readme_names_every_flag_of_every_command() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: String, out: &mut Vec<(String, String)>) {
        for a in cmd.get_arguments() {
            if let Some(long) = a.get_long() {
                if long != "help" && long != "version" {
                    out.push((path.clone(), format!("--{long}")));
                }
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut flags = Vec::new();
    walk(
        &knockoff::run::cli::Cli::command(),
        "knockoff".into(),
        &mut flags,
    );
    assert!(flags.len() > 40, "{flags:?}");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let missing: Vec<String> = flags
        .iter()
        .filter(|(_, f)| !readme.contains(f.as_str()))
        .map(|(c, f)| format!("{c} {f}"))
        .collect();
    assert!(
        missing.is_empty(),
        "flags the README does not name: {missing:?}"
    );
}
