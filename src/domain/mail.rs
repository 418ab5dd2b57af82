//! What the service e-mails, the life of a message in the outbox, and the single-use links
//! that e-mails carry.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every message the service sends; each has `<kind>.<lang>.{subject,txt,html}` templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    VerifyEmail,
    PasswordReset,
    RegistrationAttempt,
    RequestSubmitted,
    RequestSubmittedCoordinator,
    RequestScheduled,
    InfoRequested,
    RequesterAnswered,
    RequestRejected,
    OpinionDelivered,
    /// A recommendation's due date is near (seven days before) or come, and no follow-up
    /// request was submitted for it.
    FollowUpReminder,
}

crate::named_enum!(EmailKind {
    VerifyEmail => "verify_email",
    PasswordReset => "password_reset",
    RegistrationAttempt => "registration_attempt",
    RequestSubmitted => "request_submitted",
    RequestSubmittedCoordinator => "request_submitted_coordinator",
    RequestScheduled => "request_scheduled",
    InfoRequested => "info_requested",
    RequesterAnswered => "requester_answered",
    RequestRejected => "request_rejected",
    OpinionDelivered => "opinion_delivered",
    FollowUpReminder => "follow_up_reminder",
});

impl EmailKind {
    /// The messages that go to an address on its owner's behalf, before any sign-in (counted
    /// against `email.per_address_per_hour`).
    pub const ACCOUNT_MAIL: [EmailKind; 3] = [
        EmailKind::VerifyEmail,
        EmailKind::PasswordReset,
        EmailKind::RegistrationAttempt,
    ];
}

/// Why a requester is told a meeting date (the `change` of `request_scheduled` e-mails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateChange {
    /// A coordinator placed the request on a meeting.
    Scheduled,
    /// A coordinator moved it, or moved its meeting.
    Moved,
    /// Not reached in its meeting: on the staff's next one.
    CarriedOver,
    /// Its meeting was cancelled: on the staff's next one.
    MeetingCancelled,
}

crate::named_enum!(DateChange {
    Scheduled => "scheduled",
    Moved => "moved",
    CarriedOver => "carried_over",
    MeetingCancelled => "meeting_cancelled",
});

impl DateChange {
    /// The note of the request's timeline entry.
    pub fn note(self) -> &'static str {
        match self {
            DateChange::Scheduled => "scheduled",
            DateChange::Moved => "moved",
            DateChange::CarriedOver => "carried over",
            DateChange::MeetingCancelled => "meeting cancelled",
        }
    }

    /// The e-mail's template values.
    pub fn template_values(self) -> serde_json::Value {
        serde_json::json!({"change": self.as_str()})
    }
}

/// Where a message of the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for (another) attempt.
    Pending,
    Sent,
    /// Every attempt failed; an operator may queue it again.
    Dead,
}

crate::named_enum!(OutboxStatus {
    Pending => "pending",
    Sent => "sent",
    Dead => "dead",
});

/// What a single-use link sent by e-mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    VerifyEmail,
    PasswordReset,
}

crate::named_enum!(TokenPurpose {
    VerifyEmail => "verify_email",
    PasswordReset => "password_reset",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in EmailKind::ALL {
            assert_eq!(EmailKind::parse(kind.as_str()), Some(*kind));
        }
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(*status));
        }
        for purpose in TokenPurpose::ALL {
            assert_eq!(TokenPurpose::parse(purpose.as_str()), Some(*purpose));
        }
        assert_eq!(OutboxStatus::parse("queued"), None);
    }
}
