//! The analyst's desk (`knockoff ui`), through the built binary serving a
//! temp data folder scanned from `seeds/`: HTTP access rules, and a real
//! headless Chromium (Debian's `chromium` + `chromium-driver`, which
//! `.ci/run` installs) driven over WebDriver with the keyboard.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_knockoff");

fn scan(data: &Path) {
    let out = Command::new(BIN)
        .args(["scan", "--data"])
        .arg(data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `knockoff ui`, stopped (SIGINT, as Ctrl-C) when dropped.
struct Ui {
    child: Child,
    base: String,
    /// The link it printed, with the token.
    open: String,
}

impl Ui {
    fn start(data: &Path, port: u16) -> Ui {
        let mut child = Command::new(BIN)
            .args(["ui", "--analyst", "tester", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut open = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("open: ") {
                open = Some(url.to_string());
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let open = open.expect("knockoff ui printed no link");
        Ui {
            child,
            base: format!("http://127.0.0.1:{port}"),
            open,
        }
    }

    fn stop(mut self) {
        self.signal();
    }

    fn signal(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "knockoff ui exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("knockoff ui did not stop on SIGINT");
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn token(data: &Path) -> String {
    std::fs::read_to_string(data.join("daemon.token"))
        .unwrap()
        .trim()
        .to_string()
}

/// Puts a counterfeiter's markup into a stored finding's title and seller.
fn plant_markup(data: &Path, key: &str) {
    let store = knockoff::store::Store::open(data).unwrap();
    let mut f = store.finding(key).unwrap().unwrap();
    f.title = "AURORA <script>alert('title')</script> cup".into();
    f.seller = Some("<img src=x onerror=alert(1)>Shop".into());
    store.put_finding(&f).unwrap();
    store.flush().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_access_rules_and_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scan(&data);
    // The data folder's token exists once `ui` ran; made here by starting.
    let key = "taobao/681234567003";
    plant_markup(&data, key);
    let port = free_port();
    let ui = Ui::start(&data, port);
    let token = token(&data);
    assert!(
        ui.open.ends_with(&format!("/?token={token}")),
        "{}",
        ui.open
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = &ui.base;
    let cookie = format!("knockoff_token_{port}={token}");

    // No token: 401 for pages and actions.
    for path in ["/queue", "/listing/taobao/681234567003", "/dashboard"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    // The printed link sets the cookie and cleans the address bar.
    let r = http.get(&ui.open).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with(&cookie), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );

    let page = http
        .get(format!("{base}/queue"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let body = page.text().await.unwrap();
    let csrf = body
        .split("name=\"csrf\" content=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    // Counterfeiter-written strings show as text.
    assert!(body.contains("&lt;script&gt;alert("), "title not escaped");
    assert!(!body.contains("<script>alert("), "raw markup in the queue");
    assert!(
        !body.contains("<img src=x"),
        "raw seller markup in the queue"
    );
    let listing = http
        .get(format!("{base}/listing/taobao/681234567003"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("&lt;script&gt;alert("), "{listing}");
    assert!(!listing.contains("<script>alert("));

    // State changes refused, and nothing changed.
    let decide =
        serde_json::json!({"keys": [key], "action": "dismiss", "reason": "false_positive"});
    let origin = base.clone();
    let evil_host = "rebind.evil.example:80".to_string();
    let refusals: Vec<(u16, Vec<(&str, String)>)> = vec![
        (
            401,
            vec![("origin", origin.clone()), ("x-csrf-token", csrf.clone())],
        ),
        (
            403,
            vec![("cookie", cookie.clone()), ("origin", origin.clone())],
        ),
        (
            403,
            vec![
                ("cookie", cookie.clone()),
                ("origin", origin.clone()),
                ("x-csrf-token", "0".repeat(64)),
            ],
        ),
        (
            403,
            vec![
                ("cookie", cookie.clone()),
                ("origin", "http://evil.example".into()),
                ("x-csrf-token", csrf.clone()),
            ],
        ),
        (
            403,
            vec![
                ("cookie", cookie.clone()),
                ("origin", "null".into()),
                ("x-csrf-token", csrf.clone()),
            ],
        ),
        (
            403,
            vec![("cookie", cookie.clone()), ("x-csrf-token", csrf.clone())],
        ),
        (
            403,
            vec![
                ("cookie", cookie.clone()),
                ("origin", origin.clone()),
                ("x-csrf-token", csrf.clone()),
                ("host", evil_host.clone()),
            ],
        ),
    ];
    for (want, headers) in &refusals {
        let mut req = http
            .post(format!("{base}/api/decide"))
            .header("content-type", "application/json")
            .body(decide.to_string());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), *want, "{headers:?}");
    }
    let open = http
        .get(format!("{base}/queue?state=dismissed"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !open.contains("data-key=\"taobao&#x2f;681234567003\""),
        "a refused request changed state"
    );
    // A foreign Host is refused for reads too (DNS rebinding).
    let r = http
        .get(format!("{base}/queue"))
        .header("cookie", &cookie)
        .header("host", &evil_host)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Photos and captures only by the SHA-256 of stored bytes.
    for path in ["/blob/..%2F..%2Fetc%2Fpasswd", "/capture/etc", "/blob/zz"] {
        let r = http
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // With everything right, the decision is taken.
    let r = http
        .post(format!("{base}/api/decide"))
        .header("content-type", "application/json")
        .header("cookie", &cookie)
        .header("origin", &origin)
        .header("x-csrf-token", &csrf)
        .body(decide.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(out["decided"][0], key, "{out}");
    ui.stop();
}

fn chromedriver() -> PathBuf {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("this test drives a real Chromium: install Debian's chromium and chromium-driver (.ci/run does)")
}

fn shots_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/desk-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn press(client: &fantoccini::Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
    client.release_actions().await.unwrap();
}

async fn wait_for_text(client: &fantoccini::Client, css: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "`{css}` never said `{want}`: `{text}`"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn attr_of(client: &fantoccini::Client, css: &str, attr: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .attr(attr)
        .await
        .unwrap()
        .unwrap()
}

async fn keys_in(client: &fantoccini::Client, page: &str) -> Vec<String> {
    client.goto(page).await.unwrap();
    let mut out = Vec::new();
    for row in client
        .find_all(Locator::Css("#queue tbody tr[data-key]"))
        .await
        .unwrap()
    {
        out.push(row.attr("data-key").await.unwrap().unwrap());
    }
    out
}

async fn shot(client: &fantoccini::Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert!(img.width() > 600, "{name}: {}", img.width());
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_decides_with_the_keyboard_and_decisions_stick() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    scan(&data);
    let port = free_port();
    let ui = Ui::start(&data, port);

    let driver_port = free_port();
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _driver = Kill(
        Command::new(chromedriver())
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = dir.path().join("chrome-profile");
    let caps: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": knockoff::file::export::screenshot::find_chromium()
                    .expect("install Debian's chromium (.ci/run does)"),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        }))
        .unwrap();
    let webdriver = format!("http://127.0.0.1:{driver_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&webdriver)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                assert!(Instant::now() < deadline, "chromedriver: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let base = ui.base.clone();

    // The printed link: the token goes into a cookie, the queue opens.
    client.goto(&ui.open).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/queue");
    assert!(!client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("token"));
    shot(&client, "queue").await;
    let open_before = keys_in(&client, &format!("{base}/queue")).await;
    assert!(open_before.len() >= 3, "{open_before:?}");

    // Confirm the first listing with `c`, then dismiss the next with `d`
    // (reason from the toolbar: genuine product).
    let first = attr_of(&client, "#queue tbody tr.current", "data-key").await;
    assert_eq!(first, open_before[0]);
    press(&client, 'c').await;
    wait_for_text(&client, "#status", "Confirmed 1").await;
    let second = attr_of(&client, "#queue tbody tr.current", "data-key").await;
    assert_eq!(second, open_before[1], "`c` moved to the next listing");
    client
        .find(Locator::Css(
            "#dismiss-reason option[value=genuine_product]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Back to the page (the select had focus), then `d`.
    client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    press(&client, 'd').await;
    wait_for_text(&client, "#status", "Dismissed 1").await;

    // Reload: both decisions are kept.
    client.refresh().await.unwrap();
    let open_after = keys_in(&client, &format!("{base}/queue")).await;
    assert!(
        !open_after.contains(&first) && !open_after.contains(&second),
        "{open_after:?}"
    );
    assert_eq!(
        keys_in(&client, &format!("{base}/queue?state=confirmed")).await,
        vec![first.clone()]
    );
    assert_eq!(
        keys_in(&client, &format!("{base}/queue?state=dismissed")).await,
        vec![second.clone()]
    );
    let why = wait_for_text(&client, "#queue tbody tr .why", "genuine product").await;
    assert!(why.contains("by tester"), "{why}");

    // The listing page, with its aligned photo comparison.
    let (platform, id) = first.split_once('/').unwrap();
    client
        .goto(&format!("{base}/listing/{platform}/{id}"))
        .await
        .unwrap();
    wait_for_text(&client, ".decision", "confirmed by tester").await;
    // Every photo shows: the aligned comparison and the captured photos.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let loaded = client
            .execute(
                "const i = Array.from(document.images); \
                 return [i.length, i.filter(x => x.complete && x.naturalWidth > 0).length];",
                vec![],
            )
            .await
            .unwrap();
        let (all, ok) = (loaded[0].as_u64().unwrap(), loaded[1].as_u64().unwrap());
        if all >= 2 && ok == all {
            break;
        }
        assert!(Instant::now() < deadline, "{ok} of {all} photos shown");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shot(&client, "listing").await;

    // Rescan (the desk lets go of the folder first): the dismissed listing
    // stays dismissed, the confirmed one confirmed.
    ui.stop();
    scan(&data);
    let ui = Ui::start(&data, port);
    assert_eq!(
        keys_in(&client, &format!("{base}/queue?state=dismissed")).await,
        vec![second.clone()]
    );
    assert_eq!(
        keys_in(&client, &format!("{base}/queue?state=confirmed")).await,
        vec![first.clone()]
    );
    assert!(!keys_in(&client, &format!("{base}/queue"))
        .await
        .contains(&second));

    // Bulk: approve two drafted cases, then mark them submitted with the
    // platform's complaint number.
    client
        .goto(&format!("{base}/cases?state=drafted"))
        .await
        .unwrap();
    let rows = client
        .find_all(Locator::Css("#cases tbody tr[data-case]"))
        .await
        .unwrap();
    assert!(rows.len() >= 2, "{} drafted cases", rows.len());
    let mut ids = Vec::new();
    for row in rows.iter().take(2) {
        ids.push(row.attr("data-case").await.unwrap().unwrap());
        row.find(Locator::Css(".sel"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    client
        .find(Locator::Css("[data-move=approved]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#status", "to approved").await;
    client
        .goto(&format!("{base}/cases?state=approved"))
        .await
        .unwrap();
    for id in &ids {
        client
            .find(Locator::Css(&format!("tr[data-case=\"{id}\"] .sel")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    client
        .find(Locator::Css("#ipp-ref"))
        .await
        .unwrap()
        .send_keys("IPP-2026-778899")
        .await
        .unwrap();
    client
        .find(Locator::Css("[data-move=submitted]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "#status", "to submitted").await;
    client
        .goto(&format!("{base}/cases?state=submitted"))
        .await
        .unwrap();
    for id in &ids {
        let row = wait_for_text(
            &client,
            &format!("tr[data-case=\"{id}\"]"),
            "IPP-2026-778899",
        )
        .await;
        assert!(row.contains("submitted"), "{row}");
    }
    shot(&client, "cases").await;
    client.goto(&format!("{base}/sellers")).await.unwrap();
    shot(&client, "sellers").await;
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    assert!(!client
        .find_all(Locator::Css("svg.chart"))
        .await
        .unwrap()
        .is_empty());
    shot(&client, "dashboard").await;
    client.close().await.unwrap();
    ui.stop();

    // The decisions are in the data folder, shown by `knockoff cases`.
    let out = Command::new(BIN)
        .args(["cases", "--data"])
        .arg(&data)
        .arg("list")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for id in &ids {
        let line = text
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_default();
        assert!(line.contains("submitted"), "{id}: {text}");
    }
    assert!(
        text.contains("dismissed (genuine product) by tester"),
        "{text}"
    );
    // And in the export's report; the dismissed listing is filed nowhere.
    let out_dir = dir.path().join("export");
    let out = Command::new(BIN)
        .args(["export", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        report.contains("Analyst decisions"),
        "no decisions in the report"
    );
    assert!(report.contains("dismissed (genuine product) by tester"));
    assert!(report.contains("confirmed by tester"));
    let (_, dismissed_id) = second.split_once('/').unwrap();
    let complaints = std::fs::read_to_string(out_dir.join("complaints.json")).unwrap();
    assert!(
        !complaints.contains(&format!("\"listing_id\": \"{dismissed_id}\"")),
        "a dismissed listing was drafted into a complaint"
    );
}

/// A review finding confirmed in the desk has no complaint draft yet: the
/// next scan raises it to flag, drafts its complaint and opens its case
/// approved, in the analyst's name.
#[test]
fn a_confirmed_review_listing_is_drafted_and_approved_at_the_next_scan() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args(["scan", "--json", "--data"])
        .arg(&data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let review: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|f| f["verdict"] == "review")
        .expect("the demo has a review finding");
    let key = format!(
        "{}/{}",
        review["platform"].as_str().unwrap(),
        review["listing_id"].as_str().unwrap()
    );
    {
        let store = knockoff::store::Store::open(&data).unwrap();
        let done = knockoff::file::decisions::decide(
            &store,
            std::slice::from_ref(&key),
            knockoff::file::decisions::Action::Confirmed,
            None,
            "seen it in a test buy",
            "ana",
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(done.pending_draft, vec![key.clone()], "{done:?}");
        assert!(done.cases.is_empty());
    }
    scan(&data);
    let store = knockoff::store::Store::open(&data).unwrap();
    let f = store.finding(&key).unwrap().unwrap();
    assert_eq!(
        f.verdict,
        knockoff::judge::score::Verdict::Flag,
        "{:?}",
        f.reasons
    );
    assert!(f.filing_draft().is_some(), "no draft: {:?}", f.needs_right);
    assert!(
        f.reasons[0].starts_with("confirmed by ana"),
        "{:?}",
        f.reasons
    );
    let book = knockoff::file::cases::book::CaseBook::open(&store).unwrap();
    let case = book
        .all()
        .unwrap()
        .into_iter()
        .find(|c| c.listing_key() == key)
        .expect("a case for the confirmed listing");
    assert_eq!(
        case.state,
        knockoff::file::cases::state::CaseState::Approved
    );
    assert_eq!(case.history.last().unwrap().by, "ana");
}
