//! Cases through the built binary (deadlines across weekends and holidays,
//! illegal moves, rejection reasons), and the Good-Faith figures on a
//! constructed history.

use crate::daemon_support as support;

use chrono::{DateTime, Duration, Utc};
use knockoff::file::cases::book::{Case, Transition};
use knockoff::file::cases::goodfaith::{good_faith, Standing};
use knockoff::file::cases::state::CaseState;
use knockoff::judge::complaint::ReasonCode;
use knockoff::model::listing::Platform;
use std::path::Path;
use std::process::{Command, Output};

fn knockoff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_knockoff"))
        .args(args)
        .output()
        .expect("run knockoff")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn cases(data: &Path, holidays: Option<&Path>, args: &[&str]) -> Output {
    let mut all = vec!["cases", "--data", data.to_str().unwrap()];
    if let Some(h) = holidays {
        all.extend(["--holidays", h.to_str().unwrap()]);
    }
    all.extend(args);
    knockoff(&all)
}

#[test]
fn deadlines_follow_working_days_and_holidays_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // One daemon cycle opens the cases.
    let wl = support::cup_watchlist(tmp.path());
    let rec = support::small_recording(&tmp.path().join("rec"));
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--replay",
        rec.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--cycles",
        "1",
    ]);
    let (_, err) = text(&out);
    assert!(out.status.success(), "{err}");
    let (list, _) = text(&cases(&data, None, &["list"]));
    assert!(list.contains("C-000001"), "{list}");
    assert!(list.contains("drafted"), "{list}");

    // Every store sells replicas on the same cup photo: one network, joined
    // by that photo; no takedown yet, so no offender.
    let (nets, _) = text(&cases(&data, None, &["networks"]));
    assert!(nets.contains("network 1: 7 sellers"), "{nets}");
    assert!(nets.contains("by photo"), "{nets}");
    assert!(!nets.contains("network 2"), "{nets}");
    let (offenders, _) = text(&cases(&data, None, &["offenders"]));
    assert!(offenders.contains("No takedown yet."), "{offenders}");

    let hol = tmp.path().join("holidays.toml");
    // Times given to `cases move` lie between the case's opening (the
    // recording's capture, Monday 30 November 2026) and now.
    std::fs::write(&hol, "holidays = [2026-12-03, 2027-01-01]\n").unwrap();

    // Illegal move, then a rejection without reason: usage errors.
    let o = cases(&data, None, &["move", "1", "submitted"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains(
            "cannot move from drafted to submitted (allowed from drafted: approved, withdrawn)"
        ),
        "{}",
        text(&o).1
    );
    let o = cases(
        &data,
        None,
        &[
            "move",
            "C-000001",
            "approved",
            "--at",
            "2026-11-30T09:00:00Z",
        ],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    // Submitted on Wednesday 2 December.
    let o = cases(
        &data,
        Some(&hol),
        &["move", "1", "submitted", "--at", "2026-12-02T10:00:00Z"],
    );
    let (moved, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // Thu 3 is a holiday: Fri 4, then the weekend: Mon 7, Tue 8.
    assert!(moved.contains("deadline: 2026-12-08"), "{moved}");
    // Without the holiday list: Thu 3, Fri 4, Mon 7.
    let (due, _) = text(&cases(
        &data,
        None,
        &["due", "--within", "3d", "--as-of", "2026-12-04"],
    ));
    assert!(
        due.contains("C-000001  submitted        due 2026-12-07 (1 working days left)"),
        "{due}"
    );
    let (due, _) = text(&cases(
        &data,
        Some(&hol),
        &["due", "--within", "4d", "--as-of", "2026-12-04"],
    ));
    assert!(
        due.contains("due 2026-12-08 (2 working days left)"),
        "{due}"
    );
    let (due, _) = text(&cases(
        &data,
        Some(&hol),
        &["due", "--within", "1d", "--as-of", "2026-12-02"],
    ));
    assert!(due.contains("No deadline within 1d"), "{due}");
    let (due, _) = text(&cases(&data, Some(&hol), &["due", "--as-of", "2026-12-09"]));
    assert!(due.contains("OVERDUE since 2026-12-08"), "{due}");

    let o = cases(&data, None, &["move", "1", "rejected"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("needs --reason"), "{}", text(&o).1);

    // The seller counter-notices: our 15 calendar days start.
    let o = cases(
        &data,
        Some(&hol),
        &[
            "move",
            "1",
            "counter-noticed",
            "--at",
            "2026-12-02T18:00:00Z",
        ],
    );
    let (moved, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // 18:00 UTC on the 2nd is 02:00 on the 3rd in China, where the
    // platform counts: the 15 days run from the 3rd.
    assert!(moved.contains("deadline: 2026-12-18"), "{moved}");
    let (shown, _) = text(&cases(&data, Some(&hol), &["show", "1"]));
    for line in [
        "C-000001  COUNTER_NOTICED",
        "drafted -> approved  by cli",
        "approved -> submitted  by cli",
        "submitted -> counter_noticed  by cli",
        "YOUR 15 days",
    ] {
        assert!(shown.contains(line), "{line}: {shown}");
    }
    let (json, _) = text(&cases(&data, None, &["show", "1", "--json"]));
    let case: Case = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(case.history.len(), 4);
    assert_eq!(case.state, CaseState::CounterNoticed);

    let o = cases(&data, None, &["show", "C-999999"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).1.contains("no case C-999999"), "{}", text(&o).1);
    let o = cases(&data, None, &["list", "--state", "gone"]);
    assert!(
        text(&o).1.contains("unknown case state `gone`"),
        "{}",
        text(&o).1
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "holidays = [\"Christmas\"]\n").unwrap();
    let o = cases(&data, Some(&bad), &["due"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("bad.toml"), "{}", text(&o).1);
}

/// Issue 19, finding 9: a time given to `cases move` must not be in the
/// future nor before the case's last change; the error names the case and
/// both times, exits 2, and the case does not move.
#[test]
fn regression_issue19_cases_move_at_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let wl = support::cup_watchlist(tmp.path());
    let rec = support::small_recording(&tmp.path().join("rec"));
    let out = knockoff(&[
        "daemon",
        "--watchlist",
        wl.to_str().unwrap(),
        "--replay",
        rec.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--cycles",
        "1",
    ]);
    assert!(out.status.success(), "{}", text(&out).1);
    let opened = {
        let (json, _) = text(&cases(&data, None, &["show", "1", "--json"]));
        let case: Case = serde_json::from_str(json.trim()).unwrap();
        case.history.last().unwrap().at
    };
    for (at, expect) in [
        ("9999-12-31T23:59:59Z", "in the future"),
        ("2026-11-29", "before the case's last change"),
    ] {
        let o = cases(&data, None, &["move", "C-000001", "approved", "--at", at]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{at}: {err}");
        assert!(err.contains("C-000001") && err.contains(expect), "{err}");
        assert!(
            err.contains(&opened.to_rfc3339()) || expect.contains("future"),
            "{err}"
        );
    }
    let (json, _) = text(&cases(&data, None, &["show", "1", "--json"]));
    let case: Case = serde_json::from_str(json.trim()).unwrap();
    assert_eq!((case.state, case.history.len()), (CaseState::Drafted, 1));
    // Later than the last change and not in the future: moved; a next move
    // may not go back before it.
    let at = (opened + Duration::hours(1)).to_rfc3339();
    let o = cases(&data, None, &["move", "1", "approved", "--at", &at]);
    assert!(o.status.success(), "{}", text(&o).1);
    let before = (opened + Duration::minutes(30)).to_rfc3339();
    let o = cases(&data, None, &["move", "1", "submitted", "--at", &before]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains(&format!("last change ({at}")),
        "{}",
        text(&o).1
    );
    // Without --at, now is used: always allowed.
    let o = cases(&data, None, &["move", "1", "submitted"]);
    assert!(o.status.success(), "{}", text(&o).1);
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A case whose history walks through `states`, one day apart from `start`.
fn case(n: u64, reason: ReasonCode, start: DateTime<Utc>, states: &[CaseState]) -> Case {
    let mut history = Vec::new();
    let mut from = None;
    for (i, s) in states.iter().enumerate() {
        history.push(Transition {
            at: start + Duration::days(i as i64),
            from,
            to: *s,
            reason: (*s == CaseState::Rejected).then(|| "not convinced".to_string()),
            by: "cli".into(),
            proof: None,
            reference: None,
        });
        from = Some(*s);
    }
    Case {
        id: format!("C-{n:06}"),
        number: n,
        key: format!("aliexpress/r/{n}"),
        platform: Platform::AliExpress,
        right_id: "r".into(),
        reason_code: reason,
        listing_id: n.to_string(),
        listing_url: format!("https://www.aliexpress.com/item/{n}.html"),
        title: "t".into(),
        seller: Some(format!("seller {}", n % 4)),
        seller_id: None,
        state: *states.last().unwrap(),
        rejected_reason: None,
        history,
        relisting_of: None,
        batches: Vec::new(),
        ipp_ref: None,
        refile_of: None,
        refiled_as: None,
        added_evidence: Vec::new(),
    }
}

#[test]
fn good_faith_figures_on_a_constructed_history() {
    use CaseState::*;
    let now = t("2026-12-01T00:00:00Z");
    let recent = t("2026-10-01T00:00:00Z");
    let old = t("2026-08-01T00:00:00Z"); // four months back: outside
    let mut all = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // Trademark counterfeit: 18 taken down, 2 rejected; one takedown came
    // back after a counter-notice we let lapse.
    for _ in 0..17 {
        all.push(case(
            next(),
            ReasonCode::TrademarkCounterfeit,
            recent,
            &[Drafted, Approved, Submitted, Removed],
        ));
    }
    all.push(case(
        next(),
        ReasonCode::TrademarkCounterfeit,
        recent,
        &[
            Drafted,
            Approved,
            Submitted,
            Removed,
            CounterNoticed,
            Lapsed,
            Reinstated,
        ],
    ));
    for _ in 0..2 {
        all.push(case(
            next(),
            ReasonCode::TrademarkCounterfeit,
            recent,
            &[Drafted, Approved, Submitted, Rejected],
        ));
    }
    // Copyright: 10 taken down; one counter-noticed and answered in time.
    for _ in 0..9 {
        all.push(case(
            next(),
            ReasonCode::CopyrightImageTheft,
            recent,
            &[Drafted, Approved, Submitted, Removed],
        ));
    }
    all.push(case(
        next(),
        ReasonCode::CopyrightImageTheft,
        recent,
        &[
            Drafted,
            Approved,
            Submitted,
            Removed,
            CounterNoticed,
            Responded,
        ],
    ));
    // Outside the window, or never submitted, or still pending.
    for _ in 0..5 {
        all.push(case(
            next(),
            ReasonCode::CopyrightImageTheft,
            old,
            &[Drafted, Approved, Submitted, Rejected],
        ));
    }
    all.push(case(
        next(),
        ReasonCode::CopyrightImageTheft,
        recent,
        &[Drafted],
    ));
    all.push(case(
        next(),
        ReasonCode::CopyrightImageTheft,
        recent,
        &[Drafted, Approved, Submitted],
    ));

    let gf = good_faith(&all, now);
    assert_eq!(gf.window_start, t("2026-09-01T00:00:00Z"));
    let o = &gf.overall;
    assert_eq!(
        (o.notices, o.decided, o.taken_down, o.rejected),
        (31, 30, 28, 2)
    );
    assert_eq!((o.counter_noticed, o.counter_succeeded), (2, 1));
    assert!((o.takedown_rate.unwrap() - 28.0 / 30.0).abs() < 1e-9);
    assert!((o.counter_success_share.unwrap() - 1.0 / 28.0).abs() < 1e-9);
    assert_eq!(o.counter_notices_won_by_seller, Some(0.5));
    assert_eq!(o.takedown_standing(), Standing::Ok);
    assert_eq!(o.counter_standing(), Standing::Ok);

    let tm = &gf.by_reason["trademark_counterfeit"];
    assert_eq!((tm.notices, tm.decided, tm.taken_down), (20, 20, 18));
    assert_eq!(tm.takedown_rate, Some(0.9));
    // Exactly at the 90% floor: still allowed, but near it.
    assert_eq!(tm.takedown_standing(), Standing::Near);
    // 1 of 18 takedowns reinstated = 5.6% > 5%.
    assert_eq!(tm.counter_standing(), Standing::Breach);
    let cr = &gf.by_reason["copyright_image_theft"];
    assert_eq!(
        (cr.notices, cr.decided, cr.taken_down, cr.counter_succeeded),
        (11, 10, 10, 0)
    );
    assert_eq!(cr.takedown_standing(), Standing::Ok);
    assert_eq!(cr.counter_standing(), Standing::Ok);

    let warnings = gf.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("trademark_counterfeit: takedown rate 90.0% is near the 90% floor"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("successful counter-notices 5.6% exceed 5%"),
        "{warnings:?}"
    );

    // One more rejection tips the trademark rate below the floor.
    all.push(case(
        999,
        ReasonCode::TrademarkCounterfeit,
        recent,
        &[Drafted, Approved, Submitted, Rejected],
    ));
    let gf = good_faith(&all, now);
    assert_eq!(
        gf.by_reason["trademark_counterfeit"].takedown_standing(),
        Standing::Breach
    );

    // Repeat offenders: sellers with 3 or more takedowns.
    let offenders = knockoff::file::network::offenders(&all);
    assert!(offenders.iter().all(|o| o.repeat == (o.takedowns >= 3)));
    assert!(offenders.iter().any(|o| o.repeat));
}
