//! Dated screenshots in a real Chromium (Debian's `chromium`, which
//! `.ci/run` installs): a captured page is rendered from its saved bytes
//! with scripts and network off, under a caption with its URL and capture
//! time; `export --screenshots` puts one per captured page in each bundle.

use chrono::{TimeZone, Utc};
use knockoff::file::export::screenshot::{find_chromium, render};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn chromium() -> std::path::PathBuf {
    find_chromium().expect(
        "these tests drive a real Chromium: install Debian's chromium (`apt-get install chromium`; .ci/run does)",
    )
}

#[test]
fn a_page_renders_with_scripts_and_network_off_under_its_caption() {
    // A loopback server that counts every connection: the page asks for an
    // image and a stylesheet from it, which must never be fetched.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let server = std::thread::spawn(move || {
        while !stopped.load(Ordering::SeqCst) {
            if let Ok((mut s, _)) = listener.accept() {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    });
    let page = format!(
        "<html><head><link rel=stylesheet href=\"http://127.0.0.1:{port}/s.css\">\
         <style>body{{margin:0;background:#fff}}</style></head>\
         <body><script>document.body.style.background='#f00';</script>\
         <img src=\"http://127.0.0.1:{port}/x.png\" width=10 height=10>\
         <img src=\"https://ae01.alicdn.com/kf/x.jpg\" width=10 height=10>\
         <p>奥罗拉 AURORA cup</p></body></html>"
    );
    let work = tempfile::tempdir().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 4, 12, 9).unwrap();
    let url = "https://www.aliexpress.com/item/1005006123456789.html?Lang=en_US";
    let png = render(
        &chromium(),
        work.path(),
        page.as_bytes(),
        Some("text/html; charset=utf-8"),
        url,
        Some(at),
    )
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the page reached the network"
    );

    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    assert!(w >= 1000 && h > 1000, "{w}x{h}");
    // The caption band on top has dark text on white.
    let dark_in_band = (0..80)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 80))
        .count();
    assert!(dark_in_band > 200, "no caption text: {dark_in_band}");
    // The page itself: the script never ran, so its background is white.
    let px = img.get_pixel(w / 2, h - 20).0;
    assert!(
        px[0] > 200 && px[1] > 200 && px[2] > 200,
        "script ran: {px:?}"
    );
}

#[test]
fn export_with_screenshots_adds_a_dated_png_per_captured_page() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_knockoff"))
            .args(args)
            .current_dir(root)
            .env("KNOCKOFF_CHROMIUM", chromium())
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&["scan", "--data", data.to_str().unwrap()]);
    let out = tmp.path().join("out");
    let summary = run(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--screenshots",
    ]);
    assert!(!summary.contains("no screenshot"), "{summary}");
    let complaints: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(out.join("complaints.json")).unwrap()).unwrap();
    let bundle = out.join(complaints[0]["evidence_dir"].as_str().unwrap());
    let captures: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(bundle.join("captures.json")).unwrap()).unwrap();
    let pages = captures.iter().filter(|c| c["role"] == "page").count();
    let shots: Vec<&serde_json::Value> = captures
        .iter()
        .filter(|c| c["role"] == "screenshot")
        .collect();
    assert!(pages > 0);
    assert_eq!(shots.len(), pages);
    for s in shots {
        assert!(s["captured_at"].is_string());
        let file = bundle.join(s["file"].as_str().unwrap());
        let img = image::open(&file).unwrap();
        assert!(img.width() >= 1000, "{}", file.display());
    }
    // The bundle's manifest covers them: verify passes.
    assert!(knockoff::file::export::verify(&out).unwrap().is_ok());
}
