//! The life cycle of an opinion request (DOMAIN.md "Life cycle"): its statuses, the named
//! transitions between them, and the single table that says which transition is allowed from
//! which status. Every status change in the service goes through [`next`], so the table below is
//! the one place where the life cycle is defined.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Being written by the requester; not yet visible to the coordinators.
    Draft,
    /// Sent, waiting for a coordinator to schedule it (FHIR `requested`).
    Submitted,
    /// A coordinator asked a question; waiting for the requester (FHIR `on-hold`).
    NeedsInfo,
    /// Placed on a meeting of a staff (FHIR `accepted`).
    Scheduled,
    /// Discussed in its meeting; the opinion is being written (FHIR `in-progress`).
    Discussed,
    /// The opinion has been delivered.
    Completed,
    /// Out of the network's scope.
    Rejected,
    /// Withdrawn by the requester before discussion (FHIR `cancelled`).
    Withdrawn,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 8] = [
        RequestStatus::Draft,
        RequestStatus::Submitted,
        RequestStatus::NeedsInfo,
        RequestStatus::Scheduled,
        RequestStatus::Discussed,
        RequestStatus::Completed,
        RequestStatus::Rejected,
        RequestStatus::Withdrawn,
    ];

    /// The name used in the database, the API and serde.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Submitted => "submitted",
            RequestStatus::NeedsInfo => "needs_info",
            RequestStatus::Scheduled => "scheduled",
            RequestStatus::Discussed => "discussed",
            RequestStatus::Completed => "completed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(value: &str) -> Option<RequestStatus> {
        RequestStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }

    /// The FHIR R4 Task.status code this status is exported as.
    pub fn fhir_code(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Submitted => "requested",
            RequestStatus::NeedsInfo => "on-hold",
            RequestStatus::Scheduled => "accepted",
            RequestStatus::Discussed => "in-progress",
            RequestStatus::Completed => "completed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Withdrawn => "cancelled",
        }
    }

    /// A terminal request can no longer change: no row of the table starts from it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RequestStatus::Completed | RequestStatus::Rejected | RequestStatus::Withdrawn
        )
    }

    /// The transitions the table allows from this status, in table order (for the UI's buttons
    /// and the 409 body).
    pub fn allowed_transitions(self) -> Vec<Transition> {
        TRANSITIONS
            .iter()
            .filter(|(from, _, _)| *from == self)
            .map(|(_, transition, _)| *transition)
            .collect()
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a request; each is recorded in the request's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The requester sends the draft.
    Submit,
    /// A coordinator places the request on a meeting.
    Schedule,
    /// The request moves to another meeting while staying scheduled: a coordinator moves it, or
    /// it was not reached in its meeting and is carried over to the next one.
    Reschedule,
    /// A coordinator asks the requester a question.
    RequestInfo,
    /// The requester answers, which sends the request back to the coordinators.
    Answer,
    /// A coordinator refuses the request as out of scope.
    Reject,
    /// The requester withdraws the request before it is discussed.
    Withdraw,
    /// The meeting took place and the case was discussed.
    HoldMeeting,
    /// After discussion the case goes back to a meeting (more data needed, to be rediscussed).
    Postpone,
    /// The opinion is delivered to the requester.
    Deliver,
}

impl Transition {
    pub const ALL: [Transition; 10] = [
        Transition::Submit,
        Transition::Schedule,
        Transition::Reschedule,
        Transition::RequestInfo,
        Transition::Answer,
        Transition::Reject,
        Transition::Withdraw,
        Transition::HoldMeeting,
        Transition::Postpone,
        Transition::Deliver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Schedule => "schedule",
            Transition::Reschedule => "reschedule",
            Transition::RequestInfo => "request_info",
            Transition::Answer => "answer",
            Transition::Reject => "reject",
            Transition::Withdraw => "withdraw",
            Transition::HoldMeeting => "hold_meeting",
            Transition::Postpone => "postpone",
            Transition::Deliver => "deliver",
        }
    }

    pub fn parse(value: &str) -> Option<Transition> {
        Transition::ALL
            .into_iter()
            .find(|transition| transition.as_str() == value)
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use RequestStatus as S;
use Transition as T;

/// The whole life cycle: (from, transition, to). A pair absent from this table is refused.
/// Reject is allowed only before scheduling (submitted, needs_info), as DOMAIN.md draws it;
/// withdraw only before discussion.
pub const TRANSITIONS: &[(RequestStatus, Transition, RequestStatus)] = &[
    (S::Draft, T::Submit, S::Submitted),
    (S::Submitted, T::Schedule, S::Scheduled),
    (S::Scheduled, T::Reschedule, S::Scheduled),
    (S::Submitted, T::RequestInfo, S::NeedsInfo),
    (S::NeedsInfo, T::Answer, S::Submitted),
    (S::Submitted, T::Reject, S::Rejected),
    (S::NeedsInfo, T::Reject, S::Rejected),
    (S::Draft, T::Withdraw, S::Withdrawn),
    (S::Submitted, T::Withdraw, S::Withdrawn),
    (S::NeedsInfo, T::Withdraw, S::Withdrawn),
    (S::Scheduled, T::Withdraw, S::Withdrawn),
    (S::Scheduled, T::HoldMeeting, S::Discussed),
    (S::Discussed, T::Postpone, S::Scheduled),
    (S::Discussed, T::Deliver, S::Completed),
];

/// The statuses in which the requester may still add attachments.
pub const ACCEPTS_ATTACHMENTS: [RequestStatus; 4] =
    [S::Draft, S::Submitted, S::NeedsInfo, S::Scheduled];

/// The statuses in which the requester may edit the form.
pub const EDITABLE: [RequestStatus; 2] = [S::Draft, S::NeedsInfo];

/// Submitted requests waiting for a coordinator's decision: they hold their proposed meeting's
/// place until then.
pub const AWAITING_TRIAGE: [RequestStatus; 2] = [S::Submitted, S::NeedsInfo];

/// The statuses of a request holding a place in its meeting.
pub const BOOKED: [RequestStatus; 1] = [S::Scheduled];

/// The statuses of a request on its meeting's agenda once placed there (before, during and
/// after the discussion).
pub const ON_AGENDA: [RequestStatus; 3] = [S::Scheduled, S::Discussed, S::Completed];

/// The statuses in which the staff writes (or amends) the opinion.
pub const OPINION_WRITABLE: [RequestStatus; 2] = [S::Discussed, S::Completed];

/// A transition the table does not allow from the request's current status (the API answers 409
/// with the current status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {transition} a request that is {from}")]
pub struct TransitionError {
    pub from: RequestStatus,
    pub transition: Transition,
}

/// The status a request reaches by `transition` from `from`, if the table allows it.
pub fn next(from: RequestStatus, transition: Transition) -> Result<RequestStatus, TransitionError> {
    TRANSITIONS
        .iter()
        .find(|(row_from, row_transition, _)| *row_from == from && *row_transition == transition)
        .map(|(_, _, to)| *to)
        .ok_or(TransitionError { from, transition })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StrDeserializer};

    use super::*;

    fn table_target(from: RequestStatus, transition: Transition) -> Option<RequestStatus> {
        TRANSITIONS
            .iter()
            .find(|(f, t, _)| *f == from && *t == transition)
            .map(|(_, _, to)| *to)
    }

    /// Statuses reachable from Draft by following the table (breadth first).
    fn reachable_from_draft() -> BTreeSet<RequestStatus> {
        let mut seen = BTreeSet::from([RequestStatus::Draft]);
        let mut frontier = vec![RequestStatus::Draft];
        while let Some(status) = frontier.pop() {
            for (from, _, to) in TRANSITIONS {
                if *from == status && seen.insert(*to) {
                    frontier.push(*to);
                }
            }
        }
        seen
    }

    #[test]
    fn every_pair_follows_the_table_exactly() {
        let mut allowed = 0;
        for from in RequestStatus::ALL {
            for transition in Transition::ALL {
                match (next(from, transition), table_target(from, transition)) {
                    (Ok(to), Some(expected)) => {
                        assert_eq!(to, expected, "{from} -{transition}->");
                        allowed += 1;
                    }
                    (Err(error), None) => {
                        assert_eq!(error, TransitionError { from, transition });
                    }
                    (got, expected) => panic!("{from} -{transition}->: {got:?} vs {expected:?}"),
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len());
    }

    #[test]
    fn the_table_is_the_one_in_domain_md() {
        use RequestStatus::*;
        use Transition::*;
        let expected: BTreeSet<(&str, &str, &str)> = [
            (Draft, Submit, Submitted),
            (Submitted, Schedule, Scheduled),
            (Scheduled, Reschedule, Scheduled),
            (Submitted, RequestInfo, NeedsInfo),
            (NeedsInfo, Answer, Submitted),
            (Submitted, Reject, Rejected),
            (NeedsInfo, Reject, Rejected),
            (Draft, Withdraw, Withdrawn),
            (Submitted, Withdraw, Withdrawn),
            (NeedsInfo, Withdraw, Withdrawn),
            (Scheduled, Withdraw, Withdrawn),
            (Scheduled, HoldMeeting, Discussed),
            (Discussed, Postpone, Scheduled),
            (Discussed, Deliver, Completed),
        ]
        .into_iter()
        .map(|(f, t, to)| (f.as_str(), t.as_str(), to.as_str()))
        .collect();
        let actual: BTreeSet<_> = TRANSITIONS
            .iter()
            .map(|(f, t, to)| (f.as_str(), t.as_str(), to.as_str()))
            .collect();
        assert_eq!(actual, expected);
        // No duplicate rows: a (from, transition) pair has one target.
        let pairs: BTreeSet<_> = TRANSITIONS
            .iter()
            .map(|(f, t, _)| (f.as_str(), t.as_str()))
            .collect();
        assert_eq!(pairs.len(), TRANSITIONS.len());
    }

    #[test]
    fn specific_refusals() {
        use RequestStatus::*;
        use Transition::*;
        for (from, transition) in [
            (Draft, Schedule),
            (Scheduled, Reject),
            (Discussed, Withdraw),
            (Discussed, Reject),
            (Submitted, Deliver),
            (Scheduled, Deliver),
            (NeedsInfo, Schedule),
            (Submitted, Reschedule),
        ] {
            assert!(next(from, transition).is_err(), "{from} -{transition}->");
        }
    }

    #[test]
    fn terminal_states_allow_nothing() {
        for status in RequestStatus::ALL {
            let allowed = status.allowed_transitions();
            assert_eq!(status.is_terminal(), allowed.is_empty(), "{status}");
            if status.is_terminal() {
                for transition in Transition::ALL {
                    assert!(next(status, transition).is_err());
                }
            }
        }
        let terminal: Vec<_> = RequestStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                RequestStatus::Completed,
                RequestStatus::Rejected,
                RequestStatus::Withdrawn
            ]
        );
    }

    #[test]
    fn allowed_transitions_agree_with_next() {
        for status in RequestStatus::ALL {
            let allowed = status.allowed_transitions();
            for transition in Transition::ALL {
                assert_eq!(
                    allowed.contains(&transition),
                    next(status, transition).is_ok()
                );
            }
        }
        assert_eq!(
            RequestStatus::Scheduled.allowed_transitions(),
            [
                Transition::Reschedule,
                Transition::Withdraw,
                Transition::HoldMeeting
            ]
        );
    }

    #[test]
    fn every_status_is_reachable_and_every_transition_used() {
        assert_eq!(
            reachable_from_draft(),
            RequestStatus::ALL.into_iter().collect()
        );
        for transition in Transition::ALL {
            assert!(TRANSITIONS.iter().any(|(_, t, _)| *t == transition));
        }
    }

    #[test]
    fn names_round_trip() {
        for status in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(status.as_str()), Some(status));
            let de: StrDeserializer<ValueError> = status.as_str().into_deserializer();
            assert_eq!(RequestStatus::deserialize(de), Ok(status));
        }
        for transition in Transition::ALL {
            assert_eq!(Transition::parse(transition.as_str()), Some(transition));
            let de: StrDeserializer<ValueError> = transition.as_str().into_deserializer();
            assert_eq!(Transition::deserialize(de), Ok(transition));
        }
        assert_eq!(RequestStatus::parse("NeedsInfo"), None);
        assert_eq!(RequestStatus::parse("on-hold"), None);
        assert_eq!(Transition::parse("hold meeting"), None);
    }

    #[test]
    fn fhir_codes() {
        let codes: Vec<_> = RequestStatus::ALL.iter().map(|s| s.fhir_code()).collect();
        assert_eq!(
            codes,
            [
                "draft",
                "requested",
                "on-hold",
                "accepted",
                "in-progress",
                "completed",
                "rejected",
                "cancelled"
            ]
        );
    }

    #[test]
    fn error_message() {
        let error = next(RequestStatus::Completed, Transition::Withdraw).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot withdraw a request that is completed"
        );
        let error = next(RequestStatus::Draft, Transition::RequestInfo).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot request_info a request that is draft"
        );
    }

    proptest! {
        /// Any sequence of attempts, allowed or not: a refused one leaves the status unchanged,
        /// an accepted one follows the table, and the status never leaves the reachable set.
        #[test]
        fn random_sequences_stay_within_the_table(
            indices in proptest::collection::vec(0..Transition::ALL.len(), 0..40)
        ) {
            let reachable = reachable_from_draft();
            let mut status = RequestStatus::Draft;
            for index in indices {
                let transition = Transition::ALL[index];
                match next(status, transition) {
                    Ok(to) => {
                        prop_assert_eq!(Some(to), table_target(status, transition));
                        prop_assert!(!status.is_terminal());
                        status = to;
                    }
                    Err(error) => {
                        prop_assert_eq!(table_target(status, transition), None);
                        prop_assert_eq!(error.from, status);
                    }
                }
                prop_assert!(reachable.contains(&status));
            }
        }

        /// Walking only along allowed transitions always succeeds, and stops only at a terminal
        /// status.
        #[test]
        fn walking_allowed_transitions_is_consistent(
            choices in proptest::collection::vec(any::<usize>(), 0..40)
        ) {
            let mut status = RequestStatus::Draft;
            for choice in choices {
                let allowed = status.allowed_transitions();
                if allowed.is_empty() {
                    prop_assert!(status.is_terminal());
                    break;
                }
                let transition = allowed[choice % allowed.len()];
                let to = next(status, transition);
                prop_assert_eq!(to, Ok(table_target(status, transition).unwrap()));
                status = to.unwrap();
            }
        }
    }
}
