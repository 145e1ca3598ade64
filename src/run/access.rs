//! Who may talk to the daemon's endpoint, and what they may send.
//!
//! The endpoint is an API for the `knockoff cases` client and for
//! monitoring, not a web page; the rules assume the caller may be any local
//! process or any web page a browser on this machine has open.
//!
//! - **Token.** Each data folder has a random access token
//!   ([`TOKEN_BYTES`] bytes from the OS-seeded CSPRNG, hex) in
//!   `DATA/daemon.token` ([`TOKEN_FILE`]), created with mode 0600 on the
//!   daemon's first start and kept across restarts. Every request except
//!   `GET /metrics` and `GET /healthz` must carry `Authorization: Bearer
//!   <token>` (401 otherwise). `knockoff cases` reads the file, so only
//!   users who can read the data folder's token can move cases.
//!   `/metrics` and `/healthz` stay open to read: Prometheus and liveness
//!   probes scrape them, and they hold counters only (no paths, no page
//!   content, no case data); `/healthz` leaves out the last error's text
//!   unless the token is sent.
//! - **Host allow-list** (against DNS rebinding: a hostile page whose name
//!   resolves to 127.0.0.1 sends its own name as `Host`): `127.0.0.1:PORT`,
//!   `localhost:PORT`, `[::1]:PORT`, the bound address and the `--listen`
//!   text; a daemon bound to a non-loopback address (`--allow-remote`) also
//!   accepts any IP literal with its port (rebinding needs a DNS name). Any
//!   other `Host` gets 403 Forbidden, before anything else.
//! - **State changes** (any method but GET/HEAD, i.e. `POST /cases`) also
//!   need `Content-Type: application/json` (a browser cannot send that
//!   cross-origin without a CORS preflight, which this endpoint never
//!   grants), and are refused (403) when they carry an `Origin` that is not
//!   the daemon's own (`http://` + an allowed Host; `Origin: null` included)
//!   or a `Sec-Fetch-Site` other than `same-origin` or `none`. The bearer
//!   token itself is the CSRF defence: a browser never adds it on its own,
//!   unlike a cookie.
//! - **The desk** ([`crate::run::desk`]), served on the same address: a browser
//!   gets the token once from the URL the command prints (`/?token=T`,
//!   accepted on GET only) and keeps it in an `HttpOnly`, `SameSite=Strict`
//!   cookie named for the port ([`session_cookie`]). A state change made
//!   with the cookie (not the bearer header) must also carry the page's
//!   CSRF token in `X-CSRF-Token` ([`Access::csrf_token`], derived from the
//!   access token, so a page of another origin cannot know it) and an
//!   `Origin` that is this server's.
//! - **Body size**: at most [`MAX_REQUEST_BODY_BYTES`] (413 above).
//! - **No client-supplied paths**: a `/cases` request names an action and
//!   nothing else; the holiday list is the daemon's own `--holidays`.

use crate::model::error::{Error, Result};
use axum::http::{header, HeaderMap, Method, StatusCode};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The token file in the data folder.
pub const TOKEN_FILE: &str = "daemon.token";

/// Random bytes in a token (hex in the file: twice as many characters).
pub const TOKEN_BYTES: usize = 32;

/// Largest request body the endpoint reads, in bytes (a `/cases` command
/// is well under 1 KiB).
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// Largest token file read, in bytes (a token is 64 hex characters).
const MAX_TOKEN_FILE_BYTES: u64 = 1024;

/// Where the token of a data folder lives.
pub fn token_path(data: &Path) -> PathBuf {
    data.join(TOKEN_FILE)
}

/// Reads the data folder's token, or creates it (mode 0600) when there is
/// none. A token file readable by others is narrowed to 0600 with a
/// warning; one that is not a regular file or holds no valid token is an
/// error naming it.
pub fn load_or_create_token(data: &Path) -> Result<String> {
    let path = token_path(data);
    std::fs::create_dir_all(data).map_err(|e| Error::io(data, e))?;
    match std::fs::symlink_metadata(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = hex::encode(rand::random::<[u8; TOKEN_BYTES]>());
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(mut f) => {
                    f.write_all(format!("{token}\n").as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(token);
                }
                // Another process made it in between: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(e) => return Err(Error::io(&path, e)),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the token file was readable by others; narrowed to 0600");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io(&path, e))?;
        }
    }
    read_token(data)
}

/// Reads the data folder's token (for `knockoff cases` talking to a
/// running daemon).
pub fn read_token(data: &Path) -> Result<String> {
    let path = token_path(data);
    let bad = |m: String| Error::Other(format!("{}: {m}", path.display()));
    let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
    if !meta.is_file() {
        return Err(bad(
            "not a regular file (delete it; the daemon makes a new token at its next start)".into(),
        ));
    }
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_TOKEN_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| Error::io(&path, e))?;
    let token = text.trim();
    if token.len() != TOKEN_BYTES * 2 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!(
            "not a knockoff access token ({} hex characters expected; delete the file and restart the daemon for a new one)",
            TOKEN_BYTES * 2
        )));
    }
    Ok(token.to_string())
}

/// The endpoint's rules for one running daemon.
#[derive(Clone)]
pub struct Access {
    token: Arc<str>,
    /// Allowed `Host` values, lower case, with port.
    hosts: Arc<Vec<String>>,
    port: u16,
    /// Any IP literal with our port is a valid `Host` (non-loopback bind).
    ip_literals: bool,
}

/// Whether a request carried the right token (handlers may show more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated(pub bool);

/// Why a request was refused: status and a one-line reason.
pub type Refusal = (StatusCode, String);

impl Access {
    /// The rules for a daemon bound to `bound`, started with `--listen
    /// listen`.
    pub fn new(token: &str, bound: SocketAddr, listen: &str) -> Access {
        let port = bound.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
            bound.to_string(),
            listen.to_ascii_lowercase(),
        ];
        hosts.sort();
        hosts.dedup();
        Access {
            token: token.into(),
            hosts: Arc::new(hosts),
            port,
            ip_literals: !bound.ip().is_loopback(),
        }
    }

    /// The CSRF token the desk's pages carry: SHA-256 of the access token
    /// with a fixed label, hex. A page of another origin can neither read
    /// it nor work it out.
    pub fn csrf_token(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"knockoff desk csrf\0");
        h.update(self.token.as_bytes());
        hex::encode(h.finalize())
    }

    /// Checks a request's headers; `Ok` says whether it carried the token.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> std::result::Result<Authenticated, Refusal> {
        self.check_uri(method, path, None, headers)
    }

    /// [`Access::check`] with the request's query string (where the desk's
    /// first link carries the token).
    pub fn check_uri(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> std::result::Result<Authenticated, Refusal> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase);
        let host = match host {
            Some(h) if self.host_allowed(&h) => h,
            Some(h) => {
                return Err((
                    StatusCode::FORBIDDEN,
                    format!("Host `{}` is not this server", h.escape_debug()),
                ))
            }
            None => return Err((StatusCode::FORBIDDEN, "no Host header".to_string())),
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| same(t.trim().as_bytes(), self.token.as_bytes()));
        let cookie_name = cookie_name(&self.port.to_string());
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .any(|(k, v)| k == cookie_name && same(v.trim().as_bytes(), self.token.as_bytes()));
        let read_only = *method == Method::GET || *method == Method::HEAD;
        let in_query = read_only
            && query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .filter_map(|kv| kv.split_once('='))
                .any(|(k, v)| k == "token" && same(v.as_bytes(), self.token.as_bytes()));
        let authed = bearer || cookie || in_query;
        let open = read_only && (path == "/metrics" || path == "/healthz");
        if !authed && !open {
            return Err((
                StatusCode::UNAUTHORIZED,
                format!(
                    "send `Authorization: Bearer <token>` (the token is in the data folder's {TOKEN_FILE})"
                ),
            ));
        }
        if !read_only {
            let json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
            if !json {
                return Err((
                    StatusCode::FORBIDDEN,
                    "a state change needs `Content-Type: application/json`".into(),
                ));
            }
            if let Some(origin) = headers.get(header::ORIGIN) {
                let own = origin
                    .to_str()
                    .ok()
                    .map(str::to_ascii_lowercase)
                    .is_some_and(|o| o == format!("http://{host}"));
                if !own {
                    return Err((
                        StatusCode::FORBIDDEN,
                        format!(
                            "Origin `{}` is not this daemon",
                            String::from_utf8_lossy(origin.as_bytes()).escape_debug()
                        ),
                    ));
                }
            }
            if let Some(site) = headers.get("sec-fetch-site") {
                let ok = matches!(site.to_str(), Ok("same-origin") | Ok("none"));
                if !ok {
                    return Err((
                        StatusCode::FORBIDDEN,
                        "a cross-site request cannot change state".into(),
                    ));
                }
            }
            // A browser sends the cookie by itself: a change made with it
            // needs the page's CSRF token and an Origin (a browser always
            // sends one with a POST from a page).
            if !bearer {
                let csrf = headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| same(t.trim().as_bytes(), self.csrf_token().as_bytes()));
                if !csrf {
                    return Err((
                        StatusCode::FORBIDDEN,
                        "a state change needs the page's CSRF token (X-CSRF-Token)".into(),
                    ));
                }
                if headers.get(header::ORIGIN).is_none() {
                    return Err((
                        StatusCode::FORBIDDEN,
                        "a state change from a browser needs its Origin".into(),
                    ));
                }
            }
        }
        Ok(Authenticated(authed))
    }

    fn host_allowed(&self, host: &str) -> bool {
        if self.hosts.iter().any(|h| h == host) {
            return true;
        }
        if !self.ip_literals {
            return false;
        }
        let Some((name, port)) = host.rsplit_once(':') else {
            return false;
        };
        let name = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        port.parse::<u16>().ok() == Some(self.port) && name.parse::<IpAddr>().is_ok()
    }
}

/// The desk's cookie name for a server on `port` (two servers on one
/// machine keep their own).
pub fn cookie_name(port: &str) -> String {
    let port: String = port.chars().filter(char::is_ascii_digit).take(5).collect();
    format!("knockoff_token_{port}")
}

/// The `Set-Cookie` value that keeps the token in the browser.
pub fn session_cookie(port: &str, token: &str) -> String {
    let token: String = token.chars().filter(char::is_ascii_hexdigit).collect();
    format!(
        "{}={token}; HttpOnly; SameSite=Strict; Path=/",
        cookie_name(port)
    )
}

/// Constant-time comparison (the token must not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The axum middleware applying [`Access::check`] before any handler (so
/// before any body is read).
pub async fn guard(
    axum::extract::State(access): axum::extract::State<Access>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match access.check_uri(
        req.method(),
        req.uri().path(),
        req.uri().query(),
        req.headers(),
    ) {
        Ok(authed) => {
            req.extensions_mut().insert(authed);
            next.run(req).await
        }
        Err((code, why)) => {
            let mut resp = (code, format!("error: {why}\n")).into_response();
            if code == StatusCode::UNAUTHORIZED {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn access() -> Access {
        Access::new(TOKEN, "127.0.0.1:9184".parse().unwrap(), "127.0.0.1:9184")
    }

    #[test]
    fn hosts_tokens_and_origins() {
        let a = access();
        let bearer = format!("Bearer {TOKEN}");
        let get = |h: &[(&str, &str)], path: &str| a.check(&Method::GET, path, &headers(h));
        let post = |h: &[(&str, &str)]| a.check(&Method::POST, "/cases", &headers(h));
        assert_eq!(
            get(&[("host", "127.0.0.1:9184")], "/metrics").unwrap(),
            Authenticated(false)
        );
        assert_eq!(
            get(&[("host", "localhost:9184")], "/healthz").unwrap(),
            Authenticated(false)
        );
        for host in [
            "evil.example:9184",
            "localhost:80",
            "localhost",
            "10.0.0.1:9184",
        ] {
            let e = get(&[("host", host)], "/metrics").unwrap_err();
            assert_eq!(e.0, StatusCode::FORBIDDEN, "{host}");
        }
        assert_eq!(get(&[], "/metrics").unwrap_err().0, StatusCode::FORBIDDEN);
        let ok = [
            ("host", "[::1]:9184"),
            ("authorization", bearer.as_str()),
            ("content-type", "application/json; charset=utf-8"),
        ];
        assert_eq!(post(&ok).unwrap(), Authenticated(true));
        let with = |extra: (&'static str, &'static str)| {
            let mut h = ok.to_vec();
            h.push(extra);
            post(&h)
        };
        assert!(with(("origin", "http://[::1]:9184")).is_ok());
        for origin in ["null", "http://evil.example", "http://127.0.0.1:9184"] {
            assert_eq!(
                with(("origin", origin)).unwrap_err().0,
                StatusCode::FORBIDDEN,
                "{origin}"
            );
        }
        assert_eq!(
            with(("sec-fetch-site", "cross-site")).unwrap_err().0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(&ok[..2]).unwrap_err().0,
            StatusCode::FORBIDDEN,
            "no content type"
        );
        assert_eq!(
            post(&[ok[0], ("content-type", "application/json")])
                .unwrap_err()
                .0,
            StatusCode::UNAUTHORIZED
        );
        let wrong = format!("Bearer {}", TOKEN.replace('0', "1"));
        assert_eq!(
            post(&[ok[0], ok[2], ("authorization", wrong.as_str())])
                .unwrap_err()
                .0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn a_non_loopback_daemon_accepts_ip_literals_but_not_names() {
        let a = Access::new(TOKEN, "0.0.0.0:9184".parse().unwrap(), "0.0.0.0:9184");
        let get = |host: &str| a.check(&Method::GET, "/metrics", &headers(&[("host", host)]));
        assert!(get("192.168.1.20:9184").is_ok());
        assert!(get("[fe80::1]:9184").is_ok());
        assert!(get("192.168.1.20:9185").is_err());
        assert!(get("rebind.evil.example:9184").is_err());
    }

    #[test]
    fn the_token_file_is_made_once_with_mode_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let t1 = load_or_create_token(&data).unwrap();
        assert_eq!(t1.len(), TOKEN_BYTES * 2);
        assert_eq!(load_or_create_token(&data).unwrap(), t1);
        assert_eq!(read_token(&data).unwrap(), t1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = token_path(&data);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(load_or_create_token(&data).unwrap(), t1);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(token_path(&data), "short\n").unwrap();
        let e = read_token(&data).unwrap_err().to_string();
        assert!(e.contains(TOKEN_FILE), "{e}");
    }
}
