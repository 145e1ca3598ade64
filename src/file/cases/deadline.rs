//! Deadlines: working days against a holiday calendar, and the deadline
//! each case state runs under (IPP rules, `marketplaces.md`).
//!
//! - `submitted`: the seller has **3 working days** to answer the notice.
//! - `removed`: a later counter-notice may come within **27 business days**.
//! - `counter_noticed`: the rights holder has **15 days** (PRC E-Commerce Law
//!   art. 43, calendar days) after the counter-notice is forwarded to show
//!   that it sued or complained to an authority, or the listing comes back.
//!
//! Dates are China-time calendar dates: the platforms count working days in
//! China (UTC+8, no daylight saving), so a notice submitted at 06:00 UTC+8
//! counts from that China date, not from the UTC date before it. The case
//! history keeps UTC instants; [`china_date`] gives their date. A deadline
//! is the end of its (China) day: a case is overdue from the next day on.

use crate::file::cases::state::CaseState;
use crate::model::error::{Error, Result};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// China's offset from UTC, in hours (no daylight saving since 1991).
pub const CHINA_UTC_OFFSET_HOURS: i32 = 8;

/// The China-time date of an instant.
pub fn china_date(t: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    let offset = chrono::FixedOffset::east_opt(CHINA_UTC_OFFSET_HOURS * 3600)
        .expect("UTC+8 is a valid offset");
    t.with_timezone(&offset).date_naive()
}

/// Midnight China time of a date, as an instant.
pub fn china_midnight(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    (d.and_time(chrono::NaiveTime::MIN)
        - chrono::Duration::hours(i64::from(CHINA_UTC_OFFSET_HOURS)))
    .and_utc()
}

/// Working days the seller has to answer a notice.
pub const SELLER_ANSWER_WORKING_DAYS: u32 = 3;
/// Business days after a removal within which a counter-notice may come.
pub const LATE_COUNTER_NOTICE_BUSINESS_DAYS: u32 = 27;
/// Calendar days the rights holder has after a counter-notice is forwarded.
pub const HOLDER_RESPONSE_DAYS: u64 = 15;

/// Which days are working days: Monday to Friday, minus holidays, plus
/// make-up working days (China moves weekend days around its holidays).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    /// Days off that fall on weekdays.
    #[serde(default)]
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days.
    #[serde(default)]
    pub workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Loads a holiday file:
    ///
    /// ```toml
    /// holidays = [2026-10-01, 2026-10-02]
    /// workdays = [2026-09-27]   # optional make-up working days
    /// ```
    pub fn load(path: &Path) -> Result<Calendar> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            holidays: Vec<toml::Value>,
            #[serde(default)]
            workdays: Vec<toml::Value>,
        }
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message: format!("holiday list: {message}"),
        };
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        let raw: Raw = toml::from_str(&text).map_err(|e| {
            bad(format!(
                "{} (expected `holidays = [YYYY-MM-DD, ...]` and optionally `workdays = [...]`)",
                e.message()
            ))
        })?;
        let dates = |field: &str, values: &[toml::Value]| -> Result<BTreeSet<NaiveDate>> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let text = match v {
                        toml::Value::Datetime(dt) if dt.time.is_none() => {
                            dt.date.map(|d| d.to_string()).unwrap_or_default()
                        }
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
                        bad(format!(
                            "{field}[{i}]: expected a date like 2026-10-01, got {text}"
                        ))
                    })
                })
                .collect()
        };
        Ok(Calendar {
            holidays: dates("holidays", &raw.holidays)?,
            workdays: dates("workdays", &raw.workdays)?,
        })
    }

    /// True for a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The date `n` working days after `start` (the start day itself does
    /// not count: a notice on Friday with 3 working days is due Wednesday).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d + Days::new(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days from `from` (exclusive) to `to` (inclusive); negative
    /// when `to` is before `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0i64;
        let mut d = a;
        while d < b {
            d = d + Days::new(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// The seller's 3 working days to answer the notice.
    SellerAnswer,
    /// The 27 business days in which a late counter-notice may come.
    LateCounterNotice,
    /// The rights holder's 15 days to show it sued or complained.
    HolderResponse,
}

impl DeadlineKind {
    pub fn describe(self) -> &'static str {
        match self {
            DeadlineKind::SellerAnswer => "seller's 3 working days to answer the notice",
            DeadlineKind::LateCounterNotice => {
                "27 business days in which the seller may still counter-notice"
            }
            DeadlineKind::HolderResponse => {
                "YOUR 15 days to show a lawsuit or complaint to an authority (or the listing comes back)"
            }
        }
    }
}

/// A deadline a case runs under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The day the clock started.
    pub from: NaiveDate,
    /// The last day (inclusive).
    pub due: NaiveDate,
}

impl Deadline {
    /// True when `today` is past the last day.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        today > self.due
    }
}

/// The deadline of a case that entered `state` on `since`, if that state
/// runs under one.
pub fn deadline_for(state: CaseState, since: NaiveDate, cal: &Calendar) -> Option<Deadline> {
    let (kind, due) = match state {
        CaseState::Submitted => (
            DeadlineKind::SellerAnswer,
            cal.add_working_days(since, SELLER_ANSWER_WORKING_DAYS),
        ),
        CaseState::Removed => (
            DeadlineKind::LateCounterNotice,
            cal.add_working_days(since, LATE_COUNTER_NOTICE_BUSINESS_DAYS),
        ),
        CaseState::CounterNoticed => (
            DeadlineKind::HolderResponse,
            since + Days::new(HOLDER_RESPONSE_DAYS),
        ),
        _ => return None,
    };
    Some(Deadline {
        kind,
        from: since,
        due,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn three_working_days_skip_the_weekend() {
        let cal = Calendar::default();
        // 2026-11-27 is a Friday.
        assert_eq!(cal.add_working_days(d("2026-11-27"), 3), d("2026-12-02"));
        // From a Saturday: Mon, Tue, Wed.
        assert_eq!(cal.add_working_days(d("2026-11-28"), 3), d("2026-12-02"));
        // From a Monday: Tue, Wed, Thu.
        assert_eq!(cal.add_working_days(d("2026-11-23"), 3), d("2026-11-26"));
    }

    #[test]
    fn holidays_and_make_up_days_count_right() {
        let mut cal = Calendar::default();
        // National Day week 2026: Oct 1-7 off (Thu to Wed), Sat Oct 10 worked.
        for day in 1..=7 {
            cal.holidays
                .insert(NaiveDate::from_ymd_opt(2026, 10, day).unwrap());
        }
        cal.workdays.insert(d("2026-10-10"));
        // Notice on Wed Sep 30: Thu 8, Fri 9, Sat 10 (make-up day).
        assert_eq!(cal.add_working_days(d("2026-09-30"), 3), d("2026-10-10"));
        assert_eq!(
            cal.working_days_between(d("2026-09-30"), d("2026-10-10")),
            3
        );
        assert_eq!(
            cal.working_days_between(d("2026-10-10"), d("2026-09-30")),
            -3
        );
    }

    #[test]
    fn each_state_runs_under_its_own_deadline() {
        let cal = Calendar::default();
        let since = d("2026-11-27"); // Friday
        let s = deadline_for(CaseState::Submitted, since, &cal).unwrap();
        assert_eq!(s.kind, DeadlineKind::SellerAnswer);
        assert_eq!(s.due, d("2026-12-02"));
        let r = deadline_for(CaseState::Removed, since, &cal).unwrap();
        // 27 business days = 5 weeks + 2 days after a Friday.
        assert_eq!(r.due, d("2027-01-05"));
        let c = deadline_for(CaseState::CounterNoticed, since, &cal).unwrap();
        assert_eq!(c.due, d("2026-12-12"));
        assert!(c.is_overdue(d("2026-12-13")));
        assert!(!c.is_overdue(d("2026-12-12")));
        assert!(deadline_for(CaseState::Drafted, since, &cal).is_none());
    }

    #[test]
    fn a_bad_holiday_file_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hol.toml");
        std::fs::write(&p, "holidays = [\"not a date\"]\n").unwrap();
        let e = Calendar::load(&p).unwrap_err().to_string();
        assert!(e.contains("hol.toml"), "{e}");
        assert!(e.contains("holidays[0]: expected a date"), "{e}");
        std::fs::write(
            &p,
            "holidays = [2026-10-01, \"2026-10-02\"]\nworkdays = [2026-09-27]\n",
        )
        .unwrap();
        let cal = Calendar::load(&p).unwrap();
        assert_eq!(cal.holidays.len(), 2);
        assert!(cal.is_working_day(d("2026-09-27")));
    }

    proptest! {
        #[test]
        fn working_days_land_on_working_days_and_invert(
            start in 0i64..3650, n in 0u32..60, hol in proptest::collection::vec(0i64..3700, 0..40)
        ) {
            let base = d("2024-01-01");
            let mut cal = Calendar::default();
            for h in hol {
                cal.holidays.insert(base + chrono::Duration::days(h));
            }
            let s = base + chrono::Duration::days(start);
            let due = cal.add_working_days(s, n);
            prop_assert!(due >= s);
            if n > 0 {
                prop_assert!(cal.is_working_day(due));
            }
            prop_assert_eq!(cal.working_days_between(s, due), i64::from(n));
        }
    }
}
