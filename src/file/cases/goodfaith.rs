//! The Good-Faith monitor: the figures IPP's fast-track status depends on.
//!
//! `marketplaces.md`: a rights holder keeps fast-track status while, over 3
//! months and per reason code, its takedown rate stays **≥ 90%** and its
//! successful counter-notices stay **≤ 5%**. So the takedown rate must stay
//! high and the counter-notice share low; the monitor warns when either
//! comes within a margin of its threshold, and says "breach" past it.
//!
//! Definitions (over cases first submitted in the window):
//! - *decided*: the platform acted: the listing was taken down (the case
//!   went through `removed`) or the notice was rejected;
//! - *takedown rate* = taken down / decided;
//! - *successful counter-notices* = taken-down cases whose listing was
//!   reinstated after a counter-notice; their share is of the takedowns.
//!   The share of counter-notices that succeeded is shown beside it.

use crate::file::cases::book::{Case, CaseFacts};
use crate::file::cases::state::CaseState;
use crate::judge::complaint::ReasonCode;
use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The rolling window, in months.
pub const WINDOW_MONTHS: u32 = 3;
/// Lowest takedown rate that keeps fast-track status.
pub const MIN_TAKEDOWN_RATE: f64 = 0.90;
/// Highest share of successful counter-notices that keeps it.
pub const MAX_COUNTER_SUCCESS: f64 = 0.05;
/// Warn when the takedown rate is within this of its floor.
pub const TAKEDOWN_WARN_MARGIN: f64 = 0.02;
/// Warn when the counter-notice share is within this of its ceiling.
pub const COUNTER_WARN_MARGIN: f64 = 0.01;

/// How a figure stands against its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Not enough decided notices to say.
    NoData,
    Ok,
    /// Within the warning margin of the threshold.
    Near,
    /// Past the threshold: fast-track status is at risk.
    Breach,
}

/// The figures for one reason code (or all together).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Figures {
    pub notices: u32,
    pub decided: u32,
    pub taken_down: u32,
    pub rejected: u32,
    pub counter_noticed: u32,
    pub counter_succeeded: u32,
    /// taken_down / decided.
    pub takedown_rate: Option<f64>,
    /// counter_succeeded / taken_down.
    pub counter_success_share: Option<f64>,
    /// counter_succeeded / counter_noticed.
    pub counter_notices_won_by_seller: Option<f64>,
}

impl Figures {
    fn add(&mut self, c: &CaseFacts) {
        self.notices += 1;
        let down = c.taken_down;
        let rejected = c.state == CaseState::Rejected;
        if down || rejected {
            self.decided += 1;
        }
        self.taken_down += u32::from(down);
        self.rejected += u32::from(rejected);
        self.counter_noticed += u32::from(c.counter_noticed);
        self.counter_succeeded += u32::from(c.reinstated);
    }

    fn finish(&mut self) {
        let ratio = |a: u32, b: u32| (b > 0).then(|| f64::from(a) / f64::from(b));
        self.takedown_rate = ratio(self.taken_down, self.decided);
        self.counter_success_share = ratio(self.counter_succeeded, self.taken_down);
        self.counter_notices_won_by_seller = ratio(self.counter_succeeded, self.counter_noticed);
    }

    /// The takedown rate against its floor.
    pub fn takedown_standing(&self) -> Standing {
        match self.takedown_rate {
            None => Standing::NoData,
            Some(r) if r < MIN_TAKEDOWN_RATE => Standing::Breach,
            Some(r) if r < MIN_TAKEDOWN_RATE + TAKEDOWN_WARN_MARGIN => Standing::Near,
            Some(_) => Standing::Ok,
        }
    }

    /// The successful counter-notice share against its ceiling.
    pub fn counter_standing(&self) -> Standing {
        match self.counter_success_share {
            None => Standing::NoData,
            Some(r) if r > MAX_COUNTER_SUCCESS => Standing::Breach,
            Some(r) if r > MAX_COUNTER_SUCCESS - COUNTER_WARN_MARGIN => Standing::Near,
            Some(_) => Standing::Ok,
        }
    }
}

/// The monitor's report.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct GoodFaith {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub overall: Figures,
    pub by_reason: BTreeMap<String, Figures>,
}

impl GoodFaith {
    /// Plain-language warnings, overall first.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |scope: &str, f: &Figures| {
            let pct = |r: Option<f64>| format!("{:.1}%", r.unwrap_or(0.0) * 100.0);
            match f.takedown_standing() {
                Standing::Breach => out.push(format!(
                    "{scope}: takedown rate {} is below {:.0}% ({} of {} decided notices taken down): fast-track status at risk",
                    pct(f.takedown_rate), MIN_TAKEDOWN_RATE * 100.0, f.taken_down, f.decided
                )),
                Standing::Near => out.push(format!(
                    "{scope}: takedown rate {} is near the {:.0}% floor",
                    pct(f.takedown_rate), MIN_TAKEDOWN_RATE * 100.0
                )),
                _ => {}
            }
            match f.counter_standing() {
                Standing::Breach => out.push(format!(
                    "{scope}: successful counter-notices {} exceed {:.0}% ({} of {} takedowns reinstated): fast-track status at risk",
                    pct(f.counter_success_share), MAX_COUNTER_SUCCESS * 100.0, f.counter_succeeded, f.taken_down
                )),
                Standing::Near => out.push(format!(
                    "{scope}: successful counter-notices {} are near the {:.0}% ceiling",
                    pct(f.counter_success_share), MAX_COUNTER_SUCCESS * 100.0
                )),
                _ => {}
            }
        };
        check("overall", &self.overall);
        for (reason, f) in &self.by_reason {
            check(reason, f);
        }
        out
    }
}

/// Computes the figures over cases first submitted in the 3 months up to
/// `now`.
pub fn good_faith(cases: &[Case], now: DateTime<Utc>) -> GoodFaith {
    good_faith_of(cases.iter().map(Case::facts), now)
}

/// [`good_faith`] over cases reduced to their facts (what the daemon's
/// gauges keep of every case).
pub fn good_faith_of<F: std::borrow::Borrow<CaseFacts>>(
    cases: impl IntoIterator<Item = F>,
    now: DateTime<Utc>,
) -> GoodFaith {
    let start = now
        .checked_sub_months(Months::new(WINDOW_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut overall = Figures::default();
    let mut by_reason: BTreeMap<String, Figures> = BTreeMap::new();
    for c in cases {
        let c = c.borrow();
        let Some(at) = c.submitted_at else {
            continue;
        };
        if at < start || at > now {
            continue;
        }
        overall.add(c);
        by_reason
            .entry(reason_name(c.reason_code))
            .or_default()
            .add(c);
    }
    overall.finish();
    for f in by_reason.values_mut() {
        f.finish();
    }
    GoodFaith {
        window_start: start,
        window_end: now,
        overall,
        by_reason,
    }
}

fn reason_name(r: ReasonCode) -> String {
    r.as_str().to_string()
}
