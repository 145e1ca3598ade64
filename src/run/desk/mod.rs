//! The analyst's desk: a review queue in the browser, served from a data
//! folder by `knockoff ui` or by the daemon that holds the folder.
//!
//! Pages are rendered on the server from templates that escape every value
//! ([`pages`], minijinja with HTML auto-escaping), use no CDN and no network,
//! and work without JavaScript; a small script adds keyboard shortcuts and
//! bulk actions. Decisions go through [`decisions`], which keeps them in the
//! store and applies them to findings and cases.
//!
//! Access (see [`crate::run::access`]): the data folder's token, given
//! once in the URL the command prints and kept in an `HttpOnly`,
//! `SameSite=Strict` cookie; every state change also carries the page's
//! CSRF token and a same-origin `Origin`; a foreign `Host` is refused. No
//! request names a file: photos and captures are addressed by the SHA-256
//! of bytes already in the store.

pub mod pages;
pub mod svg;

use crate::file::cases::deadline::Calendar;
use crate::file::decisions::{self, Action, DismissReason, SellerStatus};
use crate::model::error::{Error, Result};
use crate::model::listing::Platform;
use crate::run::access;
use crate::run::exit::{CliError, CliResult, ExitCode};
use crate::store::Store;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Most listings one bulk request may name.
pub const MAX_BULK: usize = 1_000;

/// `knockoff ui` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct UiArgs {
    /// Data folder a scan or the daemon wrote.
    #[arg(long, env = "KNOCKOFF_DATA", default_value = crate::run::exit::DEFAULT_DATA_DIR)]
    pub data: PathBuf,
    /// Address to serve the desk on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9185")]
    pub listen: String,
    /// Allow `--listen` on an address other than loopback.
    #[arg(long)]
    pub allow_remote: bool,
    /// The name decisions are recorded under (default: $USER).
    #[arg(long)]
    pub analyst: Option<String>,
    /// Holiday list for working-day deadlines (TOML: `holidays = [...]`).
    #[arg(long)]
    pub holidays: Option<PathBuf>,
}

/// What the desk serves from.
pub struct Desk {
    pub store: Store,
    pub calendar: Calendar,
    /// Who decisions are recorded as.
    pub analyst: String,
    /// The CSRF token pages carry (derived from the access token).
    pub csrf: String,
    env: minijinja::Environment<'static>,
}

impl Desk {
    pub fn new(store: Store, calendar: Calendar, analyst: &str, access: &access::Access) -> Desk {
        Desk {
            store,
            calendar,
            analyst: decisions::clean_note(analyst)
                .chars()
                .take(64)
                .collect::<String>(),
            csrf: access.csrf_token(),
            env: pages::environment(),
        }
    }
}

/// The analyst name from `--analyst`, else `$USER`, else `analyst`.
pub fn analyst_name(given: Option<&str>) -> String {
    given
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "analyst".to_string())
}

/// The desk's routes (the caller adds the access guard, as the daemon does
/// for its own).
pub fn routes(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/queue", get(queue_page))
        .route("/listing/{platform}/{id}", get(listing_page))
        .route("/cases", get(cases_page))
        .route("/sellers", get(sellers_page))
        .route("/dashboard", get(dashboard_page))
        .route("/static/desk.css", get(css))
        .route("/static/desk.js", get(js))
        .route("/blob/{sha}", get(blob))
        .route("/capture/{sha}", get(capture))
        .route("/compare/{platform}/{id}/{n}", get(compare))
        .route("/api/decide", post(api_decide))
        .route("/api/seller", post(api_seller))
        .route("/api/cases/move", post(api_move))
        .route("/api/export", post(api_export))
        .with_state(desk)
}

/// Headers every desk answer carries: nothing from elsewhere may run,
/// load or frame the page.
fn harden(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

fn html(result: Result<String>) -> Response {
    match result {
        Ok(body) => {
            harden(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
        }
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn error_page(code: StatusCode, message: &str) -> Response {
    harden((code, format!("error: {message}\n")).into_response())
}

#[derive(Deserialize)]
struct HomeQuery {
    token: Option<String>,
}

/// `/?token=T`: the link the command prints. The guard checked the token;
/// it is put in a cookie and the address bar is cleaned of it.
async fn home(Query(q): Query<HomeQuery>, req_headers: axum::http::HeaderMap) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/queue")]).into_response();
    if let Some(token) = q.token {
        let port = req_headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.rsplit_once(':'))
            .map(|(_, p)| p.to_string())
            .unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&access::session_cookie(&port, &token)) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    harden(resp)
}

async fn queue_page(
    State(desk): State<Arc<Desk>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    html(pages::queue(&desk, &q))
}

async fn listing_page(
    State(desk): State<Arc<Desk>>,
    UrlPath((platform, id)): UrlPath<(String, String)>,
) -> Response {
    let Some(key) = listing_key(&platform, &id) else {
        return error_page(StatusCode::NOT_FOUND, "no such listing");
    };
    match pages::listing(&desk, &key) {
        Ok(Some(body)) => html(Ok(body)),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "no such listing"),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn cases_page(
    State(desk): State<Arc<Desk>>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    html(pages::cases(&desk, q.get("state").map(String::as_str)))
}

async fn sellers_page(State(desk): State<Arc<Desk>>) -> Response {
    html(pages::sellers(&desk))
}

async fn dashboard_page(State(desk): State<Arc<Desk>>) -> Response {
    html(pages::dashboard(&desk, chrono::Utc::now()))
}

async fn css() -> Response {
    harden(
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            include_str!("templates/desk.css"),
        )
            .into_response(),
    )
}

async fn js() -> Response {
    harden(
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            include_str!("templates/desk.js"),
        )
            .into_response(),
    )
}

/// A store key from URL parts: a known platform and an id of the
/// characters marketplace ids use.
fn listing_key(platform: &str, id: &str) -> Option<String> {
    let p = Platform::from_name(platform)?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| format!("{}/{id}", p.as_str()))
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Content types a captured photo is shown inline with; anything else is
/// only ever downloaded.
const INLINE_IMAGES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/bmp",
    "image/avif",
];

/// A photo in the store (official or captured), by its SHA-256.
async fn blob(State(desk): State<Arc<Desk>>, UrlPath(sha): UrlPath<String>) -> Response {
    if !is_sha256(&sha) {
        return error_page(StatusCode::NOT_FOUND, "no such photo");
    }
    let sha = sha.to_ascii_lowercase();
    let official = desk
        .store
        .officials()
        .ok()
        .into_iter()
        .flatten()
        .any(|o| o.sha256 == sha);
    let ctype = desk
        .store
        .page(&sha)
        .ok()
        .flatten()
        .and_then(|p| p.content_type)
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let bytes = match desk.store.blob(&sha) {
        Ok(Some(b)) => b,
        _ => return error_page(StatusCode::NOT_FOUND, "no such photo"),
    };
    let ctype = match ctype {
        Some(c) if INLINE_IMAGES.contains(&c.as_str()) => c,
        _ if official || sniff_image(&bytes) => image::guess_format(&bytes)
            .map(|f| f.to_mime_type().to_string())
            .unwrap_or_else(|_| "application/octet-stream".into()),
        _ => return error_page(StatusCode::NOT_FOUND, "not a photo"),
    };
    if !INLINE_IMAGES.contains(&ctype.as_str()) {
        return error_page(StatusCode::NOT_FOUND, "not a photo");
    }
    harden(([(header::CONTENT_TYPE, ctype)], bytes).into_response())
}

fn sniff_image(bytes: &[u8]) -> bool {
    image::guess_format(bytes).is_ok()
}

/// A captured page's raw bytes as received, as a download (never shown in
/// the desk's origin).
async fn capture(State(desk): State<Arc<Desk>>, UrlPath(sha): UrlPath<String>) -> Response {
    if !is_sha256(&sha) {
        return error_page(StatusCode::NOT_FOUND, "no such capture");
    }
    let sha = sha.to_ascii_lowercase();
    let (Ok(Some(_page)), Ok(Some(bytes))) = (desk.store.page(&sha), desk.store.blob(&sha)) else {
        return error_page(StatusCode::NOT_FOUND, "no such capture");
    };
    harden(
        (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"capture-{sha}.bin\""),
                ),
            ],
            bytes,
        )
            .into_response(),
    )
}

/// The aligned comparison of a listing's n-th matched photo, as PNG.
async fn compare(
    State(desk): State<Arc<Desk>>,
    UrlPath((platform, id, n)): UrlPath<(String, String, usize)>,
) -> Response {
    let Some(key) = listing_key(&platform, &id) else {
        return error_page(StatusCode::NOT_FOUND, "no such listing");
    };
    let d = desk.clone();
    let made = tokio::task::spawn_blocking(move || pages::comparison_png(&d, &key, n)).await;
    match made {
        Ok(Ok(Some(png))) => harden(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
        Ok(Ok(None)) => error_page(StatusCode::NOT_FOUND, "no such photo match"),
        Ok(Err(e)) => error_page(StatusCode::UNPROCESSABLE_ENTITY, &e),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// A request refused: status and why.
type Refused = (StatusCode, String);

fn refused((code, why): Refused) -> Response {
    error_page(code, &why)
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> std::result::Result<T, Refused> {
    serde_json::from_slice(body).map_err(|e| (StatusCode::BAD_REQUEST, format!("bad request: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideRequest {
    keys: Vec<String>,
    action: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: String,
}

fn checked_keys(keys: &[String]) -> std::result::Result<Vec<String>, Refused> {
    if keys.is_empty() || keys.len() > MAX_BULK {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("name 1 to {MAX_BULK} listings"),
        ));
    }
    keys.iter()
        .map(|k| {
            k.split_once('/')
                .and_then(|(p, id)| listing_key(p, id))
                .ok_or_else(|| {
                    (
                        StatusCode::BAD_REQUEST,
                        format!("`{}` is not a listing key", k.escape_debug()),
                    )
                })
        })
        .collect()
}

async fn api_decide(State(desk): State<Arc<Desk>>, body: axum::body::Bytes) -> Response {
    let req: DecideRequest = match json_body(&body) {
        Ok(r) => r,
        Err(r) => return refused(r),
    };
    let keys = match checked_keys(&req.keys) {
        Ok(k) => k,
        Err(r) => return refused(r),
    };
    let action = match req.action.as_str() {
        "confirm" => Action::Confirmed,
        "dismiss" => Action::Dismissed,
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("action `{}`: confirm or dismiss", other.escape_debug()),
            )
        }
    };
    let reason =
        match (action, req.reason.as_deref()) {
            (Action::Dismissed, Some(r)) => match DismissReason::parse(r) {
                Some(r) => Some(r),
                None => return error_page(
                    StatusCode::BAD_REQUEST,
                    "reason: false_positive, genuine_product, authorised_reseller or not_our_brand",
                ),
            },
            (Action::Dismissed, None) => {
                return error_page(StatusCode::BAD_REQUEST, "a dismissal needs a reason")
            }
            _ => None,
        };
    let d = desk.clone();
    let done = tokio::task::spawn_blocking(move || {
        decisions::decide(
            &d.store,
            &keys,
            action,
            reason,
            &req.note,
            &d.analyst,
            chrono::Utc::now(),
        )
    })
    .await;
    reply_json(done)
}

fn reply_json<T: serde::Serialize>(
    done: std::result::Result<Result<T>, tokio::task::JoinError>,
) -> Response {
    match done {
        Ok(Ok(out)) => harden(axum::Json(out).into_response()),
        Ok(Err(e)) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SellerRequest {
    platform: String,
    seller: String,
    status: String,
    #[serde(default)]
    note: String,
}

async fn api_seller(State(desk): State<Arc<Desk>>, body: axum::body::Bytes) -> Response {
    let req: SellerRequest = match json_body(&body) {
        Ok(r) => r,
        Err(r) => return refused(r),
    };
    let Some(platform) = Platform::from_name(&req.platform) else {
        return error_page(StatusCode::BAD_REQUEST, "unknown platform");
    };
    let Some(status) = SellerStatus::parse(&req.status) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "status: authorised, watched or cleared",
        );
    };
    let seller = decisions::clean_note(&req.seller);
    if seller.is_empty() || seller.chars().count() > 200 {
        return error_page(StatusCode::BAD_REQUEST, "seller: 1 to 200 characters");
    }
    let d = desk.clone();
    let done = tokio::task::spawn_blocking(move || {
        decisions::mark_seller(
            &d.store,
            platform,
            &seller,
            status,
            &req.note,
            &d.analyst,
            chrono::Utc::now(),
        )
    })
    .await;
    reply_json(done)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveRequest {
    ids: Vec<String>,
    state: String,
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(serde::Serialize)]
struct Moved {
    id: String,
    state: String,
    ipp_ref: Option<String>,
}

async fn api_move(State(desk): State<Arc<Desk>>, body: axum::body::Bytes) -> Response {
    let req: MoveRequest = match json_body(&body) {
        Ok(r) => r,
        Err(r) => return refused(r),
    };
    if req.ids.is_empty() || req.ids.len() > MAX_BULK {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("name 1 to {MAX_BULK} cases"),
        );
    }
    let reference = req
        .reference
        .as_deref()
        .map(decisions::clean_note)
        .filter(|r| !r.is_empty());
    if reference.as_ref().is_some_and(|r| r.chars().count() > 64) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "complaint number: at most 64 characters",
        );
    }
    let mut args = req.ids.clone();
    args.push(req.state.clone());
    let action = crate::run::cases::CasesAction::Move {
        args,
        batch: None,
        reference,
        reason: req.reason.map(|r| decisions::clean_note(&r)),
        at: None,
    };
    let d = desk.clone();
    let ids = req.ids.clone();
    let done = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let r = crate::run::cases::run_action(
            &d.store,
            &action,
            &d.calendar,
            chrono::Utc::now(),
            &mut out,
        );
        (r, d)
    })
    .await;
    let (result, d) = match done {
        Ok(x) => x,
        Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match result {
        Ok(_) => {
            let book = match crate::file::cases::book::CaseBook::open(&d.store) {
                Ok(b) => b,
                Err(e) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
            };
            let moved: Vec<Moved> = ids
                .iter()
                .filter_map(|id| book.get(id).ok().flatten())
                .map(|c| Moved {
                    id: c.id,
                    state: c.state.as_str().to_string(),
                    ipp_ref: c.ipp_ref,
                })
                .collect();
            harden(axum::Json(serde_json::json!({ "moved": moved })).into_response())
        }
        Err(CliError::Knockoff(e)) => {
            let code = if crate::run::exit::exit_code_for(&e) == ExitCode::Usage {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            error_page(code, &e.to_string())
        }
        Err(CliError::BrokenPipe) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "broken pipe"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    keys: Vec<String>,
}

async fn api_export(State(desk): State<Arc<Desk>>, body: axum::body::Bytes) -> Response {
    let req: ExportRequest = match json_body(&body) {
        Ok(r) => r,
        Err(r) => return refused(r),
    };
    let keys = match checked_keys(&req.keys) {
        Ok(k) => k,
        Err(r) => return refused(r),
    };
    match pages::selection_csv(&desk, &keys) {
        Ok(csv) => harden(
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"knockoff-selection.csv\"",
                    ),
                ],
                csv,
            )
                .into_response(),
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// `knockoff ui`: serves the desk from a data folder until stopped. When a
/// daemon holds the folder, says where its desk is instead.
pub async fn run(args: UiArgs) -> CliResult {
    let usage = |field: &str, message: String| -> CliError {
        Error::Config {
            path: PathBuf::from(field),
            message,
        }
        .into()
    };
    if !args.data.join("store").is_dir() {
        return Err(usage(
            "--data",
            crate::store::no_store(&args.data).to_string(),
        ));
    }
    if let Some(holder) = crate::store::lock::live_holder(&args.data)? {
        let at = holder
            .listen
            .map(|l| {
                format!(
                    "http://{l}/ (token in {})",
                    access::token_path(&args.data).display()
                )
            })
            .unwrap_or_else(|| "its --listen address".into());
        return Err(usage(
            "--data",
            format!(
                "a daemon (pid {}) holds {}: its desk is at {at}",
                holder.pid,
                args.data.display()
            ),
        ));
    }
    let listen: std::net::SocketAddr = args
        .listen
        .parse()
        .map_err(|e| usage("--listen", format!("`{}`: {e}", args.listen)))?;
    if !listen.ip().is_loopback() && !args.allow_remote {
        return Err(usage(
            "--listen",
            format!("{listen} is not a loopback address: the desk can move cases; add --allow-remote to expose it anyway"),
        ));
    }
    let store = Store::open(&args.data)?;
    let calendar = crate::run::cases::load_calendar(args.holidays.as_deref())?;
    let token = access::load_or_create_token(&args.data)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Other(format!("--listen {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Other(format!("--listen {listen}: {e}")))?;
    if !listen.ip().is_loopback() {
        eprintln!("knockoff ui: warning: the desk listens on {bound}, not on loopback (--allow-remote); the token is all that protects it, and it travels without TLS");
    }
    let access = access::Access::new(&token, bound, &args.listen);
    let desk = Arc::new(Desk::new(
        store.clone(),
        calendar,
        &analyst_name(args.analyst.as_deref()),
        &access,
    ));
    let app = routes(desk).layer(axum::middleware::from_fn_with_state(access, access::guard));
    let app = app.layer(axum::extract::DefaultBodyLimit::max(
        access::MAX_REQUEST_BODY_BYTES,
    ));
    println!(
        "knockoff desk for {} on http://{bound}/",
        args.data.display()
    );
    println!("open: http://{bound}/?token={token}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Error::Other(format!("desk server: {e}")))?;
    store.flush()?;
    Ok(ExitCode::Ok)
}
