//! Case states and the transitions between them.
//!
//! A case follows one IPP complaint from draft to its end:
//!
//! ```text
//! drafted ─► approved ─► submitted ─► removed ─────────┐
//!    │          │           │ │ └──► rejected(reason)   │
//!    │          │           │ └────► counter_noticed ◄──┘ (late: 27 business days)
//!    │          │           │              │ ├─► responded
//!    │          │           │              │ └─► lapsed ─► reinstated
//!    └──────────┴───────────┴──► withdrawn (from any open state)
//! ```
//!
//! A counter-notice can come while the seller still has its 3 working days
//! (from `submitted`) or later, within 27 business days of the removal
//! (from `removed`). Anything else is an [`IllegalTransition`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a case stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Drafted,
    Approved,
    Submitted,
    Removed,
    Rejected,
    CounterNoticed,
    Responded,
    Lapsed,
    Reinstated,
    Withdrawn,
}

impl CaseState {
    /// Every state, in lifecycle order (used for reports and metrics).
    pub const ALL: [CaseState; 10] = [
        CaseState::Drafted,
        CaseState::Approved,
        CaseState::Submitted,
        CaseState::Removed,
        CaseState::Rejected,
        CaseState::CounterNoticed,
        CaseState::Responded,
        CaseState::Lapsed,
        CaseState::Reinstated,
        CaseState::Withdrawn,
    ];

    /// The name used on the command line, in JSON and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Drafted => "drafted",
            CaseState::Approved => "approved",
            CaseState::Submitted => "submitted",
            CaseState::Removed => "removed",
            CaseState::Rejected => "rejected",
            CaseState::CounterNoticed => "counter_noticed",
            CaseState::Responded => "responded",
            CaseState::Lapsed => "lapsed",
            CaseState::Reinstated => "reinstated",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    /// Parses a state name; `-` and `_` are interchangeable
    /// (`counter-noticed` = `counter_noticed`).
    pub fn parse(name: &str) -> Option<CaseState> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        CaseState::ALL.into_iter().find(|s| s.as_str() == n)
    }

    /// The states a case may move to from this one.
    pub fn next_states(self) -> &'static [CaseState] {
        use CaseState::*;
        match self {
            Drafted => &[Approved, Withdrawn],
            Approved => &[Submitted, Withdrawn],
            Submitted => &[Removed, Rejected, CounterNoticed, Withdrawn],
            Removed => &[CounterNoticed, Withdrawn],
            CounterNoticed => &[Responded, Lapsed, Withdrawn],
            Lapsed => &[Reinstated],
            Rejected | Responded | Reinstated | Withdrawn => &[],
        }
    }

    /// True while the complaint has not been filed with the platform
    /// (`drafted`, `approved`): what an export batches.
    pub fn is_unfiled(self) -> bool {
        matches!(self, CaseState::Drafted | CaseState::Approved)
    }

    /// True when no move is possible any more.
    pub fn is_final(self) -> bool {
        self.next_states().is_empty()
    }

    /// True when the platform took the listing down at this point of the
    /// case's life (a takedown, for repeat offenders and relistings).
    pub fn is_taken_down(self) -> bool {
        matches!(
            self,
            CaseState::Removed | CaseState::CounterNoticed | CaseState::Responded
        )
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {case}: cannot move from {from} to {to} (allowed from {from}: {allowed})")]
pub struct IllegalTransition {
    pub case: String,
    pub from: CaseState,
    pub to: CaseState,
    /// The states allowed from `from`, comma separated (`none` when final).
    pub allowed: String,
}

/// Checks a move; `rejected` needs a reason.
pub fn check_transition(
    case: &str,
    from: CaseState,
    to: CaseState,
    reason: Option<&str>,
) -> Result<(), TransitionError> {
    if !from.next_states().contains(&to) {
        let allowed: Vec<&str> = from.next_states().iter().map(|s| s.as_str()).collect();
        return Err(TransitionError::Illegal(IllegalTransition {
            case: case.to_string(),
            from,
            to,
            allowed: if allowed.is_empty() {
                "none, the case is closed".into()
            } else {
                allowed.join(", ")
            },
        }));
    }
    if to == CaseState::Rejected && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(TransitionError::ReasonRequired {
            case: case.to_string(),
        });
    }
    Ok(())
}

/// Why a move was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error(transparent)]
    Illegal(IllegalTransition),
    #[error("case {case}: moving to rejected needs --reason (the platform's reason for rejecting the notice)")]
    ReasonRequired { case: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_accept_dashes() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(
            CaseState::parse("Counter-Noticed"),
            Some(CaseState::CounterNoticed)
        );
        assert_eq!(CaseState::parse("gone"), None);
    }

    #[test]
    fn illegal_moves_are_typed_errors_naming_the_allowed_states() {
        let e =
            check_transition("C-000001", CaseState::Drafted, CaseState::Removed, None).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, TransitionError::Illegal(_)));
        assert!(msg.contains("C-000001"), "{msg}");
        assert!(msg.contains("drafted to removed"), "{msg}");
        assert!(msg.contains("approved, withdrawn"), "{msg}");
        let e =
            check_transition("C-1", CaseState::Reinstated, CaseState::Drafted, None).unwrap_err();
        assert!(e.to_string().contains("closed"), "{e}");
    }

    #[test]
    fn rejection_needs_a_reason() {
        assert_eq!(
            check_transition("C-1", CaseState::Submitted, CaseState::Rejected, Some(" ")),
            Err(TransitionError::ReasonRequired { case: "C-1".into() })
        );
        assert!(check_transition(
            "C-1",
            CaseState::Submitted,
            CaseState::Rejected,
            Some("certificate unreadable")
        )
        .is_ok());
    }

    #[test]
    fn the_whole_happy_path_is_allowed() {
        use CaseState::*;
        let path = [
            Drafted,
            Approved,
            Submitted,
            Removed,
            CounterNoticed,
            Lapsed,
            Reinstated,
        ];
        for w in path.windows(2) {
            assert!(check_transition("C", w[0], w[1], None).is_ok(), "{w:?}");
        }
        assert!(check_transition("C", Submitted, CounterNoticed, None).is_ok());
        assert!(check_transition("C", CounterNoticed, Responded, None).is_ok());
    }
}
