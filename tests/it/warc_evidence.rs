//! WARC evidence end to end: a live crawl through a real HTTP server on
//! loopback (a raw socket server, so the test sees every byte sent) that
//! answers with a redirect and then a gzip-encoded, chunked page. The WARC
//! written is read back here (records, digests, the request headers
//! byte for byte as the server received them) and by the archive world's
//! own tool, `warcio check` and `warcio index` (Python, from PyPI; `.ci/run`
//! installs it, and this test fails saying how when it is missing).

use crate::warc_reader::{read_warc, WarcRecord as Record};
use knockoff::fetch::http::{HttpFetcher, HttpSettings};
use knockoff::fetch::record::RecordingFetcher;
use knockoff::fetch::warc::sha1_base32;
use knockoff::fetch::{sha256_hex, Fetcher, ResourceKind};
use knockoff::model::config::{BaseUrl, Config, PlatformConfig};
use knockoff::model::listing::Platform;
use std::io::{Read, Write};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const UA: &str = "knockoff-test/1 (+mailto:evidence@example.invalid)";
const PAGE: &str = "<html><head><title>AURORA cup</title></head><body>item 1005001: Aurora Barista Espresso Cup</body></html>";

/// Request heads as received, by path.
type Heads = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// One connection: read the request head, log it, answer by path, close.
async fn answer(mut socket: tokio::net::TcpStream, heads: Heads) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let path = text.split(' ').nth(1).unwrap_or_default().to_string();
    heads.lock().unwrap().push((path.clone(), head));
    let mut out = Vec::new();
    match path.as_str() {
        "/aliexpress/w/start.html" => out.extend_from_slice(
            b"HTTP/1.1 302 Found\r\nLocation: /aliexpress/item/1005001.html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
        "/aliexpress/item/1005001.html" => {
            // gzip on the wire, sent in two chunks.
            let body = gzip(PAGE.as_bytes());
            let (a, b) = body.split_at(body.len() / 2);
            out.extend_from_slice(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            );
            for chunk in [a, b] {
                out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        }
        _ => out.extend_from_slice(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ),
    }
    let _ = socket.write_all(&out).await;
    let _ = socket.shutdown().await;
}

/// Starts the server; returns its `http://127.0.0.1:PORT` and the log.
async fn server() -> (String, Heads) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads: Heads = Arc::default();
    let log = heads.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket, log.clone()));
        }
    });
    (format!("http://{addr}"), heads)
}

/// Runs warcio's command line (`python3 -c`, so no PATH entry is needed)
/// and returns its stdout; fails, saying how to install it, when missing.
fn warcio(args: &[&str]) -> String {
    let have = Command::new("python3")
        .args(["-c", "import warcio"])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        have,
        "warcio is not installed: run `python3 -m pip install warcio` \
         (.ci/run installs it; this test checks our WARC files with it)"
    );
    let out = Command::new("python3")
        .args(["-c", "import sys; from warcio.cli import main; main()"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "warcio {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn a_gzip_page_behind_a_redirect_is_recorded_as_received_and_warcio_agrees() {
    let (origin, heads) = server().await;
    let base_url = format!("{origin}/aliexpress");
    let mut config = Config::default();
    config.crawl.user_agent = UA.into();
    config.crawl.requests_per_second = 50.0;
    config.platforms.insert(
        "aliexpress".into(),
        PlatformConfig {
            base_url: Some(base_url.clone()),
            ..Default::default()
        },
    );
    let mut settings = HttpSettings::from_config(&config);
    settings.timeout = Duration::from_secs(5);
    let live = HttpFetcher::new(settings).unwrap();
    let out = tempfile::tempdir().unwrap();
    let base = BaseUrl::new(
        Platform::AliExpress,
        Some(url::Url::parse(&base_url).unwrap()),
    );
    let rec = RecordingFetcher::create(live, out.path(), UA)
        .unwrap()
        .with_bases(vec![base]);
    let start = format!("{base_url}/w/start.html");
    let capture = rec.fetch(&start, ResourceKind::Page).await.unwrap();
    let summary = rec.finish().await.unwrap();

    // What the scan sees: the decoded page, reached through the redirect.
    assert_eq!(capture.status, 200);
    assert_eq!(capture.body, PAGE.as_bytes());
    assert_eq!(capture.final_url, format!("{base_url}/item/1005001.html"));
    assert_eq!(capture.redirects, [start]);
    assert_eq!(capture.sha256, sha256_hex(PAGE.as_bytes()));

    let records = read_warc(&summary.warc);
    let types: Vec<&str> = records
        .iter()
        .map(|r| r.get("WARC-Type").unwrap())
        .collect();
    assert_eq!(
        types,
        ["warcinfo", "request", "response", "request", "response"]
    );
    let info = String::from_utf8_lossy(&records[0].block).into_owned();
    for want in [
        format!("software: knockoff/{}\r\n", env!("CARGO_PKG_VERSION")),
        "operator: mailto:evidence@example.invalid\r\n".to_string(),
        "robots: obey\r\n".to_string(),
        format!("http-header-user-agent: {UA}\r\n"),
    ] {
        assert!(info.contains(&want), "{want:?} not in {info}");
    }
    for r in &records {
        assert_eq!(
            r.get("WARC-Block-Digest"),
            Some(sha1_base32(&r.block).as_str())
        );
    }

    // Each request record holds the head the server received, byte for
    // byte (robots.txt was asked for first and is not a capture).
    let heads = heads.lock().unwrap().clone();
    let paths: Vec<&str> = heads.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/aliexpress/robots.txt",
            "/aliexpress/w/start.html",
            "/aliexpress/item/1005001.html"
        ]
    );
    let real = [
        "https://www.aliexpress.com/w/start.html",
        "https://www.aliexpress.com/item/1005001.html",
    ];
    for (i, pair) in records[1..].chunks(2).enumerate() {
        let (req, resp) = (&pair[0], &pair[1]);
        assert_eq!(req.block, heads[i + 1].1, "request {i} as sent");
        assert_eq!(req.get("WARC-Concurrent-To"), resp.get("WARC-Record-ID"));
        assert_eq!(resp.get("WARC-Target-URI"), Some(real[i]));
        assert_eq!(resp.get("WARC-IP-Address"), Some("127.0.0.1"));
        assert!(resp.get("WARC-Date").unwrap() >= req.get("WARC-Date").unwrap());
        let payload = resp.payload();
        assert_eq!(
            resp.get("WARC-Payload-Digest"),
            Some(sha1_base32(payload).as_str())
        );
        assert_eq!(
            resp.get("X-Knockoff-Payload-SHA256"),
            Some(sha256_hex(payload).as_str())
        );
    }
    let text = |r: &Record| String::from_utf8_lossy(&r.block).into_owned();
    assert!(text(&records[1]).contains("accept-encoding: gzip\r\n"));
    assert!(text(&records[1]).contains(&format!("user-agent: {UA}\r\n")));
    assert!(text(&records[2]).starts_with("HTTP/1.1 302 Found\r\n"));
    assert!(text(&records[2]).contains("location: /aliexpress/item/1005001.html\r\n"));
    // The answer: gzip bytes kept, chunking gone and said so, its body
    // SHA-256 the capture's, its hop named.
    let answer = &records[4];
    assert!(text(answer).starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text(answer).contains("content-encoding: gzip\r\n"));
    assert!(text(answer).contains("X-Knockoff-Orig-Transfer-Encoding: chunked\r\n"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(answer.payload())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, PAGE.as_bytes());
    assert_ne!(answer.payload(), PAGE.as_bytes());
    assert_eq!(
        answer.get("X-Knockoff-Body-SHA256"),
        Some(capture.sha256.as_str())
    );
    assert_eq!(
        answer.all("X-Knockoff-Redirect-Hop"),
        [records[2].get("WARC-Record-ID").unwrap()]
    );

    // warcio: every digest checks, and the index sees both hops.
    let warc = summary.warc.to_str().unwrap();
    let check = warcio(&["check", "-v", warc]);
    assert_eq!(check.matches("digest pass").count(), 5, "{check}");
    let index = warcio(&[
        "index",
        "-f",
        "warc-type,warc-target-uri,http:status,http:content-encoding",
        warc,
    ]);
    eprintln!("warcio check -v:\n{check}\nwarcio index:\n{index}");
    let lines: Vec<serde_json::Value> = index
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let responses: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["warc-type"] == "response")
        .map(|l| {
            (
                l["warc-target-uri"].as_str().unwrap(),
                l["http:status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(responses, [(real[0], "302"), (real[1], "200")], "{index}");
    assert_eq!(lines.len(), 5, "{index}");
    assert_eq!(lines[4]["http:content-encoding"], "gzip", "{index}");
}
