//! The desk's pages: what each shows, gathered from the store, and
//! rendered with minijinja templates that escape every value (titles,
//! seller names and URLs are written by counterfeiters).

use super::Desk;
use crate::file::cases::book::{Case, CaseBook};
use crate::file::cases::state::CaseState;
use crate::file::decisions::{self, Decisions, DismissReason, SellerStatus};
use crate::judge::score::{Finding, Verdict};
use crate::model::error::{Error, Result};
use crate::store::ListingRecord;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Most rows the queue shows at once (filters narrow it).
pub const MAX_QUEUE_ROWS: usize = 500;

/// The template environment: HTML auto-escaping for every `.html`
/// template (minijinja's default), templates compiled into the binary.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    for (name, src) in [
        ("base.html", include_str!("templates/base.html")),
        ("queue.html", include_str!("templates/queue.html")),
        ("listing.html", include_str!("templates/listing.html")),
        ("cases.html", include_str!("templates/cases.html")),
        ("sellers.html", include_str!("templates/sellers.html")),
        ("dashboard.html", include_str!("templates/dashboard.html")),
    ] {
        env.add_template(name, src)
            .expect("the desk's templates are valid");
    }
    env
}

fn render(
    desk: &Desk,
    name: &str,
    page: &str,
    title: &str,
    ctx: serde_json::Value,
) -> Result<String> {
    let mut ctx = ctx;
    if let serde_json::Value::Object(m) = &mut ctx {
        m.insert("csrf".into(), json!(desk.csrf));
        m.insert("analyst".into(), json!(desk.analyst));
        m.insert("page".into(), json!(page));
        m.insert("title".into(), json!(title));
        m.insert("brand".into(), json!(brand_name(desk)));
    }
    desk.env
        .get_template(name)
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&ctx))))
        .map_err(|e| Error::Other(format!("desk page {name}: {e}")))
}

fn brand_name(desk: &Desk) -> String {
    desk.store
        .watchlist_text()
        .ok()
        .flatten()
        .and_then(|t| toml::from_str::<crate::model::watchlist::WatchlistFile>(&t).ok())
        .map(|w| w.brand.name)
        .unwrap_or_default()
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn price_text(f: &Finding) -> String {
    f.price
        .as_ref()
        .map(|p| match p.max {
            Some(max) => format!("{:.2}–{max:.2} {}", p.amount, p.currency),
            None => format!("{:.2} {}", p.amount, p.currency),
        })
        .unwrap_or_else(|| "no price".into())
}

fn href(f: &Finding) -> String {
    format!(
        "/listing/{}/{}",
        f.platform.as_str(),
        url_part(&f.listing_id)
    )
}

/// Percent-encodes a path segment (ids are checked when requested; this
/// keeps a link to an odd id from breaking the page).
fn url_part(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A listing's state in the queue: `open`, or what decided it.
fn state_of(f: &Finding, stale: bool) -> &'static str {
    match &f.decision {
        Some(d) if d.action == decisions::Action::Confirmed => "confirmed",
        Some(_) => "dismissed",
        None if stale => "changed since decided",
        None if f
            .reasons
            .first()
            .is_some_and(|r| r.starts_with("seller \"") && r.contains("\" authorised by ")) =>
        {
            "seller authorised"
        }
        None => "open",
    }
}

/// The queue: flag and review findings not yet decided (or another state
/// chosen at the top), filtered and sorted by the query.
pub fn queue(desk: &Desk, q: &BTreeMap<String, String>) -> Result<String> {
    let findings = desk.store.findings()?;
    let listings: HashMap<String, ListingRecord> = desk
        .store
        .listings()?
        .into_iter()
        .map(|r| (r.listing.key(), r))
        .collect();
    let decided = Decisions::load(&desk.store)?;
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    let get = |k: &str| q.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let (platform, verdict, seller) = (
        get("platform"),
        get("verdict"),
        get("seller").to_lowercase(),
    );
    let min_score: u32 = get("min_score").parse().unwrap_or(0);
    let min_priority: u32 = get("min_priority").parse().unwrap_or(0);
    let since = NaiveDate::parse_from_str(&get("since"), "%Y-%m-%d").ok();
    let sort = match get("sort").as_str() {
        s @ ("score" | "platform" | "seller" | "first_seen" | "verdict" | "priority") => {
            s.to_string()
        }
        _ => "priority".to_string(),
    };
    let dir = if get("dir") == "asc" { "asc" } else { "desc" };

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rows = Vec::new();
    for f in &findings {
        let key = f.key();
        let stale = f.decision.is_none() && decided.listings.contains_key(&key);
        let st = state_of(f, stale);
        let in_queue = matches!(f.verdict, Verdict::Flag | Verdict::Review);
        let bucket = match st {
            "open" | "changed since decided" if in_queue => "open",
            "confirmed" => "confirmed",
            "dismissed" => "dismissed",
            "seller authorised" => "seller_authorised",
            _ => "cleared",
        };
        *counts.entry(bucket).or_default() += 1;
        if bucket != state {
            continue;
        }
        if !platform.is_empty() && f.platform.as_str() != platform {
            continue;
        }
        if !verdict.is_empty() && f.verdict.as_str() != verdict {
            continue;
        }
        let seller_name = f.seller.clone().or(f.seller_id.clone()).unwrap_or_default();
        if !seller.is_empty() && !seller_name.to_lowercase().contains(&seller) {
            continue;
        }
        if f.score < min_score || f.priority < min_priority {
            continue;
        }
        let first_seen = listings.get(&key).map(|r| r.first_seen);
        if let (Some(since), Some(first)) = (since, first_seen) {
            if first.date_naive() < since {
                continue;
            }
        }
        rows.push((f, first_seen, seller_name, st, stale));
    }
    rows.sort_by(|a, b| {
        let o = match sort.as_str() {
            "score" => a.0.score.cmp(&b.0.score),
            "platform" => a.0.platform.cmp(&b.0.platform),
            "seller" => a.2.to_lowercase().cmp(&b.2.to_lowercase()),
            "first_seen" => a.1.cmp(&b.1),
            "verdict" => b.0.verdict.as_str().cmp(a.0.verdict.as_str()),
            _ => a.0.priority.cmp(&b.0.priority),
        };
        let o = if dir == "asc" { o } else { o.reverse() };
        o.then_with(|| a.0.key().cmp(&b.0.key()))
    });
    let total = rows.len();
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .take(MAX_QUEUE_ROWS)
        .map(|(f, first, seller_name, st, stale)| {
            let mark = decided
                .seller_mark(f.platform, f.seller_id.as_deref(), f.seller.as_deref())
                .map(|m| m.status.as_str());
            let mut reasons: Vec<&String> = f.reasons.iter().take(3).collect();
            if stale {
                reasons.truncate(2);
            }
            json!({
                "key": f.key(),
                "platform": f.platform.as_str(),
                "verdict": f.verdict.as_str(),
                "score": f.score,
                "priority": f.priority,
                "seller": seller_name,
                "seller_mark": mark,
                "first_seen": first.map(day).unwrap_or_default(),
                "title": f.title,
                "href": href(f),
                "price": price_text(f),
                "reasons": reasons,
                "state": st,
                "decided": f.decision.is_some(),
            })
        })
        .collect();
    let count_list: Vec<serde_json::Value> = [
        ("open", "to decide"),
        ("confirmed", "confirmed"),
        ("dismissed", "dismissed"),
        ("seller_authorised", "seller authorised"),
        ("cleared", "cleared by the scan"),
    ]
    .into_iter()
    .map(|(s, label)| json!({"state": s, "label": label, "n": counts.get(s).copied().unwrap_or(0)}))
    .collect();
    let base = |col: &str| {
        let mut params: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "sort" && k.as_str() != "dir")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        params.push(("sort".into(), col.into()));
        let next_dir = if sort == col && dir == "desc" {
            "asc"
        } else {
            "desc"
        };
        params.push(("dir".into(), next_dir.into()));
        let qs: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", url_part(k), url_part(v)))
            .collect();
        format!("/queue?{}", qs.join("&"))
    };
    let columns: Vec<serde_json::Value> = [
        ("platform", "Platform"),
        ("verdict", "Verdict"),
        ("score", "Score"),
        ("priority", "Priority"),
        ("seller", "Seller"),
        ("first_seen", "First seen"),
    ]
    .into_iter()
    .map(|(k, label)| json!({"key": k, "label": label, "href": base(k)}))
    .chain(std::iter::once(
        json!({"key": "title", "label": "Listing", "href": base("priority")}),
    ))
    .collect();
    render(
        desk,
        "queue.html",
        "queue",
        "Queue",
        json!({
            "counts": count_list,
            "state": state,
            "rows": rows,
            "total": total,
            "truncated": total > MAX_QUEUE_ROWS,
            "columns": columns,
            "platforms": crate::model::listing::Platform::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "reasons": reasons_list(),
            "filter": {
                "platform": platform, "verdict": verdict, "seller": get("seller"),
                "min_score": get("min_score"), "min_priority": get("min_priority"),
                "since": get("since"), "sort": sort, "dir": dir,
            },
        }),
    )
}

fn reasons_list() -> Vec<serde_json::Value> {
    DismissReason::ALL
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": r.label()}))
        .collect()
}

fn case_row(c: &Case, desk: &Desk, today: NaiveDate) -> serde_json::Value {
    let deadline = c.deadline(&desk.calendar);
    json!({
        "id": c.id,
        "state": c.state.as_str(),
        "right": c.right_id,
        "ipp_ref": c.ipp_ref,
        "deadline": deadline.as_ref().map(|d| format!("{} ({})", d.due, d.kind.describe())).unwrap_or_default(),
        "overdue": deadline.as_ref().is_some_and(|d| d.is_overdue(today)),
        "platform": c.platform.as_str(),
        "title": c.title,
        "seller": c.seller.clone().or(c.seller_id.clone()).unwrap_or_default(),
        "href": format!("/listing/{}/{}", c.platform.as_str(), url_part(&c.listing_id)),
    })
}

/// One listing: photos beside the official ones, reasons with evidence,
/// history, seller, case and captures.
pub fn listing(desk: &Desk, key: &str) -> Result<Option<String>> {
    let (Some(f), Some(rec)) = (desk.store.finding(key)?, desk.store.listing(key)?) else {
        return Ok(None);
    };
    let decided = Decisions::load(&desk.store)?;
    let today = crate::file::cases::deadline::china_date(Utc::now());
    let by_url = desk.store.pages_by_url()?;
    let photos: Vec<serde_json::Value> = rec
        .listing
        .images
        .iter()
        .take(24)
        .map(|u| {
            let src = by_url
                .get(u.as_str())
                .filter(|p| p.status < 400)
                .map(|p| format!("/blob/{}", p.sha256));
            json!({"url": u, "src": src})
        })
        .collect();
    let matches: Vec<serde_json::Value> = f
        .photos
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "reference": p.reference,
                "url": p.url,
                "compare": format!("/compare/{}/{}/{i}", f.platform.as_str(), url_part(&f.listing_id)),
                "how": format!(
                    "{}/{} bits differ{}",
                    p.distance,
                    p.bits,
                    p.transform.as_deref().map(|t| format!(", {t}")).unwrap_or_default()
                ),
            })
        })
        .collect();
    let signals: Vec<serde_json::Value> = f
        .signals
        .iter()
        .map(|s| json!({"reason": s.reason, "points": s.points, "evidence": evidence_text(&s.evidence)}))
        .collect();
    let signal_reasons: Vec<&String> = f.signals.iter().map(|s| &s.reason).collect();
    let extra: Vec<&String> = f
        .reasons
        .iter()
        .filter(|r| !signal_reasons.contains(r))
        .collect();
    let history: Vec<serde_json::Value> = rec
        .history
        .iter()
        .rev()
        .take(200)
        .map(|h| json!({"at": h.at.to_rfc3339(), "field": h.field, "old": h.old, "new": h.new}))
        .collect();
    let book = CaseBook::open(&desk.store)?;
    let cases: Vec<serde_json::Value> = book
        .all()?
        .iter()
        .filter(|c| c.listing_key() == key)
        .map(|c| case_row(c, desk, today))
        .collect();
    let seller_raw = decisions::finding_seller(&f);
    let others: Vec<serde_json::Value> = match &seller_raw {
        None => Vec::new(),
        Some(s) => desk
            .store
            .findings()?
            .iter()
            .filter(|o| o.key() != key && o.platform == f.platform)
            .filter(|o| decisions::finding_seller(o).as_deref() == Some(s.as_str()))
            .take(50)
            .map(|o| json!({"title": o.title, "href": href(o), "verdict": o.verdict.as_str(), "score": o.score}))
            .collect(),
    };
    let me =
        crate::file::network::seller_node(f.platform, f.seller.as_deref(), f.seller_id.as_deref());
    let network: Vec<String> = {
        let suspects = crate::file::network::suspect_listings(&desk.store)?;
        crate::file::network::networks(&suspects, &by_url)
            .into_iter()
            .find(|n| n.sellers.contains(&me))
            .map(|n| {
                n.edges
                    .iter()
                    .take(30)
                    .map(|e| format!("{} ↔ {} ({} {})", e.a, e.b, e.kind, e.value))
                    .collect()
            })
            .unwrap_or_default()
    };
    let stale = match (&f.decision, decided.listings.get(key)) {
        (None, Some(d)) => {
            let changed = d
                .fingerprint
                .changed(&decisions::Fingerprint::of(&rec.listing));
            Some(format!(
                "Earlier decision: {} — the listing changed since ({}); decide again.",
                d.summary(),
                changed.join(", ")
            ))
        }
        _ => None,
    };
    let sources: Vec<serde_json::Value> = rec
        .sources
        .iter()
        .map(|s| json!({"url": s.url, "sha256": s.sha256, "captured_at": s.captured_at.to_rfc3339(), "href": format!("/capture/{}", s.sha256)}))
        .collect();
    let l = json!({
        "key": key,
        "platform": f.platform.as_str(),
        "id": f.listing_id,
        "url": safe_link(&f.url),
        "title": f.title,
        "verdict": f.verdict.as_str(),
        "score": f.score,
        "priority": f.priority,
        "seller": seller_raw.clone().unwrap_or_else(|| "(unknown)".into()),
        "seller_raw": seller_raw,
        "seller_mark": decided.seller_mark(f.platform, f.seller_id.as_deref(), f.seller.as_deref()).map(|m| m.status.as_str()),
        "price": price_text(&f),
        "first_seen": rec.first_seen.to_rfc3339(),
        "last_seen": rec.last_seen.to_rfc3339(),
        "decision": f.decision.as_ref().map(|d| d.summary()),
        "stale": stale,
        "matches": matches,
        "photos": photos,
        "signals": signals,
        "extra_reasons": extra,
        "history": history,
        "cases": cases,
        "others": others,
        "network": network,
        "sources": sources,
    });
    render(
        desk,
        "listing.html",
        "queue",
        &f.title,
        json!({ "l": l, "reasons": reasons_list() }),
    )
    .map(Some)
}

/// Only http(s) links are made clickable (a `javascript:` URL from a page
/// is shown, never followed).
fn safe_link(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.to_string(),
        _ => "#".to_string(),
    }
}

fn evidence_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
    .chars()
    .take(600)
    .collect()
}

/// Cases by state, overdue first, then by deadline.
pub fn cases(desk: &Desk, state: Option<&str>) -> Result<String> {
    let book = CaseBook::open(&desk.store)?;
    let all = book.all()?;
    let today = crate::file::cases::deadline::china_date(Utc::now());
    let filter = state.and_then(CaseState::parse);
    let decided = Decisions::load(&desk.store)?;
    let counts: Vec<serde_json::Value> = CaseState::ALL
        .iter()
        .map(|s| (s, all.iter().filter(|c| c.state == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| json!({"state": s.as_str(), "n": n}))
        .collect();
    let mut shown: Vec<&Case> = all
        .iter()
        .filter(|c| filter.is_none_or(|s| c.state == s))
        .collect();
    let key = |c: &Case| {
        let d = c.deadline(&desk.calendar);
        (
            !d.as_ref().is_some_and(|d| d.is_overdue(today)),
            d.map(|d| d.due).unwrap_or(NaiveDate::MAX),
            c.number,
        )
    };
    shown.sort_by_key(|c| key(c));
    let rows: Vec<serde_json::Value> = shown
        .iter()
        .map(|c| {
            let mut row = case_row(c, desk, today);
            row["decision"] = json!(decided
                .listings
                .get(&c.listing_key())
                .map(|d| d.summary())
                .unwrap_or_default());
            row
        })
        .collect();
    render(
        desk,
        "cases.html",
        "cases",
        "Cases",
        json!({"cases": rows, "counts": counts, "state": state.unwrap_or("")}),
    )
}

/// Sellers: analyst marks, sellers with flagged or review listings
/// (repeat offenders marked), and seller networks.
pub fn sellers(desk: &Desk) -> Result<String> {
    let decided = Decisions::load(&desk.store)?;
    let marks: Vec<serde_json::Value> = decided
        .sellers
        .values()
        .filter(|m| m.status != SellerStatus::Cleared)
        .map(|m| json!({"platform": m.platform.as_str(), "seller": m.seller, "status": m.status.as_str(), "by": m.by, "at": m.at.to_rfc3339(), "note": m.note}))
        .collect();
    let cases = CaseBook::open(&desk.store)?.all()?;
    let offenders: HashMap<String, crate::file::network::Offender> =
        crate::file::network::offenders(&cases)
            .into_iter()
            .map(|o| (o.seller.clone(), o))
            .collect();
    let mut by: BTreeMap<String, (usize, usize, Option<&'static str>)> = BTreeMap::new();
    for f in desk.store.findings()? {
        if !matches!(f.verdict, Verdict::Flag | Verdict::Review) {
            continue;
        }
        let node = crate::file::network::seller_node(
            f.platform,
            f.seller.as_deref(),
            f.seller_id.as_deref(),
        );
        let e = by.entry(node).or_default();
        if f.verdict == Verdict::Flag {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
        e.2 = decided
            .seller_mark(f.platform, f.seller_id.as_deref(), f.seller.as_deref())
            .map(|m| m.status.as_str());
    }
    let mut sellers: Vec<serde_json::Value> = by
        .into_iter()
        .map(|(name, (flag, review, mark))| {
            let o = offenders.get(&name);
            json!({"name": name, "flag": flag, "review": review, "takedowns": o.map(|o| o.takedowns).unwrap_or(0), "repeat": o.is_some_and(|o| o.repeat), "mark": mark})
        })
        .collect();
    sellers.sort_by_key(|s| {
        std::cmp::Reverse((
            s["takedowns"].as_u64().unwrap_or(0),
            s["flag"].as_u64().unwrap_or(0),
        ))
    });
    let suspects = crate::file::network::suspect_listings(&desk.store)?;
    let pages = desk.store.pages_by_url()?;
    let networks: Vec<serde_json::Value> = crate::file::network::networks(&suspects, &pages)
        .into_iter()
        .take(100)
        .map(|n| {
            json!({
                "sellers": n.sellers,
                "edges": n.edges.iter().take(20).map(|e| format!("{} ↔ {}: shared {} {}", e.a, e.b, e.kind, e.value)).collect::<Vec<_>>(),
            })
        })
        .collect();
    render(
        desk,
        "sellers.html",
        "sellers",
        "Sellers",
        json!({"marks": marks, "sellers": sellers, "networks": networks}),
    )
}

#[derive(Serialize)]
struct ExpiringRow {
    what: String,
    expires: String,
    days_left: i64,
}

/// The dashboard: findings per day, takedowns per week, time to removal,
/// Good-Faith figures, rights expiring.
pub fn dashboard(desk: &Desk, now: DateTime<Utc>) -> Result<String> {
    let listings: HashMap<String, ListingRecord> = desk
        .store
        .listings()?
        .into_iter()
        .map(|r| (r.listing.key(), r))
        .collect();
    let mut per_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for f in desk.store.findings()? {
        if matches!(f.verdict, Verdict::Flag | Verdict::Review) || f.decision.is_some() {
            if let Some(r) = listings.get(&f.key()) {
                *per_day.entry(r.first_seen.date_naive()).or_default() += 1.0;
            }
        }
    }
    let per_day: Vec<(String, f64)> = last(per_day, 60)
        .into_iter()
        .map(|(d, n)| (d.format("%m-%d").to_string(), n))
        .collect();
    let cases = CaseBook::open(&desk.store)?.all()?;
    let mut per_week: BTreeMap<(i32, u32), f64> = BTreeMap::new();
    let mut days_to_removal: Vec<f64> = Vec::new();
    for c in &cases {
        if let Some(t) = c.history.iter().find(|t| t.to == CaseState::Removed) {
            let w = t.at.iso_week();
            *per_week.entry((w.year(), w.week())).or_default() += 1.0;
            let first = listings
                .get(&c.listing_key())
                .map(|r| r.first_seen)
                .unwrap_or_else(|| c.since());
            days_to_removal.push((t.at - first).num_hours().max(0) as f64 / 24.0);
        }
    }
    let per_week: Vec<(String, f64)> = last(per_week, 26)
        .into_iter()
        .map(|((y, w), n)| (format!("{y}-W{w:02}"), n))
        .collect();
    let mut buckets: Vec<(String, f64)> = ["0–1", "1–3", "3–7", "7–14", "14–30", "30+"]
        .iter()
        .map(|l| (format!("{l} d"), 0.0))
        .collect();
    for d in &days_to_removal {
        let i = match *d {
            d if d < 1.0 => 0,
            d if d < 3.0 => 1,
            d if d < 7.0 => 2,
            d if d < 14.0 => 3,
            d if d < 30.0 => 4,
            _ => 5,
        };
        buckets[i].1 += 1.0;
    }
    let median = {
        let mut v = days_to_removal.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            "–".to_string()
        } else {
            format!("{:.1}", v[v.len() / 2])
        }
    };
    let gf = crate::file::cases::goodfaith::good_faith(&cases, now);
    let pct = |r: Option<f64>| {
        r.map(|r| format!("{:.1}%", r * 100.0))
            .unwrap_or_else(|| "–".into())
    };
    let o = &gf.overall;
    let today = crate::file::cases::deadline::china_date(now);
    let expiring: Vec<ExpiringRow> = desk
        .store
        .watchlist_text()?
        .and_then(|t| toml::from_str::<crate::model::watchlist::WatchlistFile>(&t).ok())
        .map(|w| w.expiring(today, crate::model::watchlist::EXPIRY_WARNING_DAYS))
        .unwrap_or_default()
        .into_iter()
        .map(|e| ExpiringRow {
            what: e.what,
            expires: e.expires.to_string(),
            days_left: e.days_left,
        })
        .collect();
    render(
        desk,
        "dashboard.html",
        "dashboard",
        "Dashboard",
        json!({
            "g": {
                "takedown_rate": pct(o.takedown_rate),
                "takedown_standing": standing(o.takedown_standing()),
                "counter_share": pct(o.counter_success_share),
                "counter_standing": standing(o.counter_standing()),
                "notices": o.notices, "decided": o.decided, "taken_down": o.taken_down, "rejected": o.rejected,
            },
            "warnings": gf.warnings(),
            "removal_median": median,
            "chart_findings": super::svg::bars("Flagged and review findings per day (first seen)", "", &per_day),
            "chart_takedowns": super::svg::bars("Takedowns per week", "", &per_week),
            "chart_removal": super::svg::bars("Days from first seen to removal", "", &buckets),
            "expiring": expiring,
            "expiry_days": crate::model::watchlist::EXPIRY_WARNING_DAYS,
        }),
    )
}

fn standing(s: crate::file::cases::goodfaith::Standing) -> &'static str {
    use crate::file::cases::goodfaith::Standing;
    match s {
        Standing::NoData => "no decided notice yet",
        Standing::Ok => "within the limit",
        Standing::Near => "near the limit",
        Standing::Breach => "past the limit",
    }
}

/// The last `n` entries of an ordered map.
fn last<K: Ord + Clone, V: Clone>(m: BTreeMap<K, V>, n: usize) -> Vec<(K, V)> {
    let skip = m.len().saturating_sub(n);
    m.into_iter().skip(skip).collect()
}

/// The aligned comparison PNG of a listing's n-th matched photo.
pub fn comparison_png(
    desk: &Desk,
    key: &str,
    n: usize,
) -> std::result::Result<Option<Vec<u8>>, String> {
    let f = match desk.store.finding(key) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let Some(photo) = f.photos.get(n) else {
        return Ok(None);
    };
    let officials = desk.store.officials().map_err(|e| e.to_string())?;
    let Some(official) = officials.iter().find(|o| o.name == photo.reference) else {
        return Err(format!(
            "official photo {} is not in the store",
            photo.reference
        ));
    };
    let get = |sha: &str| -> std::result::Result<Vec<u8>, String> {
        desk.store
            .blob(sha)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("photo {sha} is not in the store"))
    };
    let official_bytes = get(&official.sha256)?;
    let listing_bytes = get(&photo.sha256)?;
    let captured = desk
        .store
        .page(&photo.sha256)
        .ok()
        .flatten()
        .map(|p| p.captured_at);
    let (png, _) = crate::file::export::compare::side_by_side(
        &official_bytes,
        &listing_bytes,
        photo,
        captured,
    )?;
    Ok(Some(png))
}

/// The selected listings as CSV: what an analyst hands on.
pub fn selection_csv(desk: &Desk, keys: &[String]) -> Result<String> {
    let book = CaseBook::open(&desk.store)?;
    let cases = book.all()?;
    let mut out = String::from(
        "platform,listing_id,url,title,seller,price,verdict,score,priority,decision,case,case_state,ipp_ref,reasons\n",
    );
    for key in keys {
        let Some(f) = desk.store.finding(key)? else {
            continue;
        };
        let case = cases.iter().find(|c| c.listing_key() == *key);
        let fields = [
            f.platform.as_str().to_string(),
            f.listing_id.clone(),
            f.url.clone(),
            f.title.clone(),
            f.seller.clone().or(f.seller_id.clone()).unwrap_or_default(),
            price_text(&f),
            f.verdict.as_str().to_string(),
            f.score.to_string(),
            f.priority.to_string(),
            f.decision.as_ref().map(|d| d.summary()).unwrap_or_default(),
            case.map(|c| c.id.clone()).unwrap_or_default(),
            case.map(|c| c.state.as_str().to_string())
                .unwrap_or_default(),
            case.and_then(|c| c.ipp_ref.clone()).unwrap_or_default(),
            f.reasons.join(" | "),
        ];
        let line: Vec<String> = fields.iter().map(|v| csv_field(v)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// A CSV field, quoted; a leading `=`, `+`, `-` or `@` (a spreadsheet
/// formula) is neutralised with a `'`.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_load_and_csv_fields_are_safe() {
        let env = environment();
        assert!(env.get_template("queue.html").is_ok());
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(safe_link("javascript:alert(1)"), "#");
        assert_eq!(url_part("a/b c"), "a%2Fb%20c");
    }
}
