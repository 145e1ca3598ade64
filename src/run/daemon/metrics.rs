//! `/metrics` in the Prometheus text format, `/healthz`, and the `/cases`
//! endpoint that lets `knockoff cases` work while the daemon holds the
//! store (sled admits one process per database).
//!
//! Metric names (all prefixed `knockoff_`):
//!
//! | name | type | labels | meaning |
//! |---|---|---|---|
//! | `pages_fetched_total` | counter | `host` | responses received since start |
//! | `pages_failed_total` | counter | `host` | HTTP errors and failed fetches |
//! | `pages_blocked_total` | counter | `host` | captcha, punish, login walls |
//! | `host_blocked` | gauge | `host` | 1 when the host blocked us in the last cycle |
//! | `listings_seen` | gauge | | listings in the store |
//! | `listings_gone` | gauge | | listings counted as gone |
//! | `relistings` | gauge | | listings flagged as relistings |
//! | `findings` | gauge | `verdict` | latest finding per listing, by verdict |
//! | `cases` | gauge | `state` | cases by state (every state, zeros included) |
//! | `cases_overdue` | gauge | | cases past their deadline |
//! | `repeat_offenders` | gauge | | sellers with ≥ 3 takedowns |
//! | `seller_networks` | gauge | | groups of ≥ 2 linked sellers |
//! | `good_faith_takedown_rate` | gauge | | 3-month takedown rate (absent without data) |
//! | `good_faith_counter_success_share` | gauge | | 3-month successful counter-notice share |
//! | `cycles_total` | counter | `outcome` | cycles finished `ok` or `failed` |
//! | `cycle` | gauge | | current cycle number (kept across restarts) |
//! | `cycle_running` | gauge | | 1 while a cycle runs |
//! | `cycle_duration_seconds` | gauge | | duration of the last cycle |
//! | `last_success_timestamp_seconds` | gauge | | Unix time of the last good cycle |

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// What `/metrics` shows; updated by the daemon after each cycle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MetricsState {
    pub pages_fetched: BTreeMap<String, u64>,
    pub pages_failed: BTreeMap<String, u64>,
    pub pages_blocked: BTreeMap<String, u64>,
    pub blocked_hosts: BTreeSet<String>,
    pub listings_seen: u64,
    pub listings_gone: u64,
    pub relistings: u64,
    pub findings: BTreeMap<String, u64>,
    pub cases: BTreeMap<String, u64>,
    pub cases_overdue: u64,
    /// Days left (negative: past) of each right or authorization ending
    /// within the warning period, by what it is.
    pub expiring_days: BTreeMap<String, i64>,
    pub repeat_offenders: u64,
    pub seller_networks: u64,
    pub good_faith_takedown_rate: Option<f64>,
    pub good_faith_counter_success_share: Option<f64>,
    pub cycles_ok: u64,
    pub cycles_failed: u64,
    pub cycle: u64,
    pub cycle_running: bool,
    pub cycle_duration_seconds: f64,
    pub last_success_unix: Option<f64>,
    pub last_error: Option<String>,
}

/// Shared metrics.
pub type Metrics = Arc<Mutex<MetricsState>>;

/// Reads the state, surviving a poisoned lock (metrics are best effort).
pub fn snapshot(m: &Metrics) -> MetricsState {
    m.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Renders the Prometheus text exposition format (version 0.0.4).
pub fn render(s: &MetricsState) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP knockoff_{name} {help}");
        let _ = writeln!(out, "# TYPE knockoff_{name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "knockoff_{name}{labels} {}", number(v));
        }
    };
    let by = |label: &str, m: &BTreeMap<String, u64>| -> Vec<(String, f64)> {
        m.iter()
            .map(|(k, v)| (format!("{{{label}=\"{}\"}}", escape(k)), *v as f64))
            .collect()
    };
    let one = |v: f64| vec![(String::new(), v)];
    family(
        "pages_fetched_total",
        "counter",
        "Responses received, by host.",
        by("host", &s.pages_fetched),
    );
    family(
        "pages_failed_total",
        "counter",
        "HTTP errors and fetches without a response, by host.",
        by("host", &s.pages_failed),
    );
    family(
        "pages_blocked_total",
        "counter",
        "Block pages (captcha, punish, login wall), by host.",
        by("host", &s.pages_blocked),
    );
    let hosts: BTreeSet<&String> = s
        .pages_fetched
        .keys()
        .chain(s.pages_failed.keys())
        .chain(s.blocked_hosts.iter())
        .collect();
    family(
        "host_blocked",
        "gauge",
        "1 when the host blocked the last cycle.",
        hosts
            .into_iter()
            .map(|h| {
                (
                    format!("{{host=\"{}\"}}", escape(h)),
                    f64::from(u8::from(s.blocked_hosts.contains(h))),
                )
            })
            .collect(),
    );
    family(
        "right_expiring_days",
        "gauge",
        "Days left before a right or the agent's authorization ends, for those ending within 60 days (negative: ended).",
        s.expiring_days
            .iter()
            .map(|(k, v)| (format!("{{what=\"{}\"}}", escape(k)), *v as f64))
            .collect(),
    );
    family(
        "listings_seen",
        "gauge",
        "Listings in the store.",
        one(s.listings_seen as f64),
    );
    family(
        "listings_gone",
        "gauge",
        "Listings counted as gone (404, or missing from results for N cycles).",
        one(s.listings_gone as f64),
    );
    family(
        "relistings",
        "gauge",
        "Listings that relist one taken down before.",
        one(s.relistings as f64),
    );
    family(
        "findings",
        "gauge",
        "Latest finding per listing, by verdict.",
        by("verdict", &s.findings),
    );
    family(
        "cases",
        "gauge",
        "Complaint cases by state.",
        by("state", &s.cases),
    );
    family(
        "cases_overdue",
        "gauge",
        "Cases past their deadline.",
        one(s.cases_overdue as f64),
    );
    family(
        "repeat_offenders",
        "gauge",
        "Sellers with 3 or more takedowns.",
        one(s.repeat_offenders as f64),
    );
    family(
        "seller_networks",
        "gauge",
        "Groups of two or more linked sellers.",
        one(s.seller_networks as f64),
    );
    family(
        "good_faith_takedown_rate",
        "gauge",
        "Takedown rate over 3 months (IPP floor 0.90).",
        s.good_faith_takedown_rate.map(one).unwrap_or_default(),
    );
    family(
        "good_faith_counter_success_share",
        "gauge",
        "Successful counter-notices per takedown over 3 months (IPP ceiling 0.05).",
        s.good_faith_counter_success_share
            .map(one)
            .unwrap_or_default(),
    );
    family(
        "cycles_total",
        "counter",
        "Cycles finished since start, by outcome.",
        vec![
            ("{outcome=\"ok\"}".into(), s.cycles_ok as f64),
            ("{outcome=\"failed\"}".into(), s.cycles_failed as f64),
        ],
    );
    family(
        "cycle",
        "gauge",
        "Current cycle number (kept across restarts).",
        one(s.cycle as f64),
    );
    family(
        "cycle_running",
        "gauge",
        "1 while a cycle runs.",
        one(f64::from(u8::from(s.cycle_running))),
    );
    family(
        "cycle_duration_seconds",
        "gauge",
        "Duration of the last cycle.",
        one(s.cycle_duration_seconds),
    );
    family(
        "last_success_timestamp_seconds",
        "gauge",
        "Unix time of the last successful cycle.",
        s.last_success_unix.map(one).unwrap_or_default(),
    );
    out
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One parsed sample of the text format: name, labels, value.
pub type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the text format (what `render` writes; enough for tests and for
/// checking a scrape by hand). Comment lines are skipped.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("line {}: {why}: {line}", n + 1);
        let (head, value) = line.rsplit_once(' ').ok_or_else(|| bad("no value"))?;
        let value: f64 = value.parse().map_err(|_| bad("bad value"))?;
        let (name, labels) = match head.find('{') {
            None => (head.to_string(), BTreeMap::new()),
            Some(i) => {
                let body = head[i + 1..]
                    .strip_suffix('}')
                    .ok_or_else(|| bad("unclosed labels"))?;
                let mut labels = BTreeMap::new();
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").ok_or_else(|| bad("bad label"))?;
                    labels.insert(
                        k.trim().to_string(),
                        v.trim_end_matches('"').replace("\\\"", "\""),
                    );
                }
                (head[..i].to_string(), labels)
            }
        };
        out.push((name, labels, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_then_parse_round_trips() {
        let mut s = MetricsState::default();
        s.pages_fetched.insert("www.aliexpress.com".into(), 3);
        s.blocked_hosts.insert("s.taobao.com".into());
        s.cases.insert("drafted".into(), 2);
        s.cycle_duration_seconds = 0.25;
        s.expiring_days
            .insert("right cn-tm (trademark CN 41234567)".into(), -3);
        let text = render(&s);
        let samples = parse(&text).unwrap();
        let get = |name: &str, label: Option<(&str, &str)>| {
            samples
                .iter()
                .find(|(n, l, _)| {
                    n == name && label.is_none_or(|(k, v)| l.get(k).map(String::as_str) == Some(v))
                })
                .map(|s| s.2)
        };
        assert_eq!(
            get(
                "knockoff_pages_fetched_total",
                Some(("host", "www.aliexpress.com"))
            ),
            Some(3.0)
        );
        assert_eq!(
            get("knockoff_host_blocked", Some(("host", "s.taobao.com"))),
            Some(1.0)
        );
        assert_eq!(get("knockoff_cases", Some(("state", "drafted"))), Some(2.0));
        assert_eq!(get("knockoff_cycle_duration_seconds", None), Some(0.25));
        assert_eq!(get("knockoff_good_faith_takedown_rate", None), None);
        assert_eq!(
            get(
                "knockoff_right_expiring_days",
                Some(("what", "right cn-tm (trademark CN 41234567)"))
            ),
            Some(-3.0)
        );
    }
}
