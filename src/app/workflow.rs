//! What the use cases of the request workflow share: who may see a request (read once, in the
//! use case's own transaction), applying a transition (the state machine, the guarded update,
//! the timeline, the audit row and the requester's e-mail, in one [`Change`]), routing a topic
//! to its staff, proposing a meeting, and telling people by e-mail.

use serde_json::json;

use super::{Actor, AppError, RequestContext};
use crate::audit::{self, Outcome};
use crate::db::kpis::whole_days;
use crate::db::network::StaffRow;
use crate::db::requests::{RequestChanges, RequestRow};
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::ids::RequestId;
use crate::domain::mail::EmailKind;
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::{self, RequestStatus, Transition};
use crate::email;
use crate::state::AppState;

/// What the caller may do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// The requester who owns it.
    pub owner: bool,
    /// A coordinator (or admin) of its center.
    pub coordinator: bool,
    /// An expert of the staff whose meeting it is scheduled or proposed in.
    pub expert: bool,
}

impl Access {
    pub fn can_see(self) -> bool {
        self.owner || self.coordinator || self.expert
    }

    /// Forbidden unless the caller is a party to the request's thread: its requester or a
    /// coordinator (experts read the file, not the conversation).
    pub fn require_party(self) -> Result<(), AppError> {
        if self.owner || self.coordinator {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Forbidden unless the caller owns the request.
    pub fn require_owner(self) -> Result<(), AppError> {
        if self.owner {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

pub fn access(
    conn: &mut DbConnection,
    actor: &Actor,
    request: &RequestRow,
) -> Result<Access, AppError> {
    let owner = request.requester_id == actor.id;
    let coordinator = actor.has_role(Role::Coordinator) || actor.has_role(Role::Admin);
    let mut expert = false;
    if actor.has_role(Role::Expert) {
        let staffs = db::meetings::expert_staffs(conn, &actor.id)?;
        for meeting_id in [&request.meeting_id, &request.proposed_meeting_id]
            .into_iter()
            .flatten()
        {
            if let Some(meeting) = db::meetings::find(conn, meeting_id)? {
                expert |= staffs.contains(&meeting.staff_code);
            }
        }
    }
    Ok(Access {
        owner,
        coordinator,
        expert,
    })
}

/// The request if the caller may see it, read once: `Ok(Err(NotFound))` for anyone else, as
/// for a request that does not exist, with the refusal audited on `conn` (the caller commits
/// it: nothing else was written yet).
fn visible(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: &str,
) -> Result<Result<(RequestRow, Access), AppError>, AppError> {
    let request = db::requests::find(conn, id)?.ok_or(AppError::NotFound)?;
    let access = access(conn, actor, &request)?;
    if access.can_see() {
        return Ok(Ok((request, access)));
    }
    audit::record(
        conn,
        &actor.context,
        action,
        "request",
        Some(&request.id),
        Outcome::Denied,
    )?;
    Ok(Err(AppError::NotFound))
}

/// How a use case on a request reaches the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tx {
    /// One write transaction: everything commits together or not at all.
    Write,
    /// Reads on one connection with no transaction (the audit row commits on its own, and
    /// SQLite's write lock is not taken).
    Read,
}

/// Runs a use case on a request the caller may see: the request is read once, there. Anyone
/// who may not see it is answered "not found" and only the audit row of the refusal commits;
/// with [`Tx::Write`] any error of `f` rolls back everything `f` wrote.
pub async fn on_visible_request<T, F>(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    action: &'static str,
    tx: Tx,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, RequestRow, Access) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let (actor, id) = (actor.clone(), id.clone());
    let job = move |conn: &mut DbConnection| match visible(conn, &actor, &id, action)? {
        Ok((request, access)) => f(conn, request, access).map(Ok),
        Err(refused) => Ok(Err(refused)),
    };
    match tx {
        Tx::Write => state.db.write(job).await?,
        Tx::Read => state.db.run(job).await?,
    }
}

/// The version a client expects: `If-Match` (precondition failed when stale) or a `version`
/// in the body (conflict).
#[derive(Debug, Clone, Copy)]
pub enum ExpectedVersion {
    IfMatch(i64),
    Body(i64),
}

/// Checks an expected version against the request read.
pub fn check_version(
    request: &RequestRow,
    expected: Option<ExpectedVersion>,
) -> Result<(), AppError> {
    match expected {
        Some(ExpectedVersion::IfMatch(v)) if v != request.version => {
            Err(AppError::PreconditionFailed)
        }
        Some(ExpectedVersion::Body(v)) if v != request.version => Err(stale(request)),
        _ => Ok(()),
    }
}

/// Conflict unless the request is in one of `statuses`.
pub fn require_status(
    request: &RequestRow,
    statuses: &[RequestStatus],
    refusal: impl FnOnce(RequestStatus) -> String,
) -> Result<(), AppError> {
    if statuses.contains(&request.status) {
        Ok(())
    } else {
        Err(AppError::refused(refusal(request.status), request.status))
    }
}

/// A change of a request's status: the transition, the columns it sets, the timeline's note,
/// and what the requester is told. [`Change::apply`] does it all in the caller's transaction.
#[must_use]
pub struct Change {
    transition: Transition,
    changes: RequestChanges,
    note: Option<String>,
    tell: Vec<Tell>,
}

/// An e-mail a change sends: to whom, which, about which meeting, with which template values.
struct Tell {
    coordinators: bool,
    kind: EmailKind,
    meeting_id: Option<String>,
    extra: serde_json::Value,
}

impl Change {
    pub fn new(transition: Transition) -> Change {
        Change {
            transition,
            changes: RequestChanges::default(),
            note: None,
            tell: Vec::new(),
        }
    }

    /// The columns the change sets besides the status.
    pub fn setting(mut self, changes: RequestChanges) -> Change {
        self.changes = changes;
        self
    }

    /// The timeline entry's note.
    pub fn note(mut self, note: impl Into<String>) -> Change {
        self.note = Some(note.into());
        self
    }

    /// E-mails the requester `kind` about the change (with the date of `meeting_id`, and the
    /// template's `extra` values).
    pub fn tell_requester(
        mut self,
        kind: EmailKind,
        meeting_id: Option<&str>,
        extra: serde_json::Value,
    ) -> Change {
        self.tell.push(Tell {
            coordinators: false,
            kind,
            meeting_id: meeting_id.map(str::to_owned),
            extra,
        });
        self
    }

    /// E-mails the center's coordinators `kind` about the change.
    pub fn tell_coordinators(mut self, kind: EmailKind, meeting_id: Option<&str>) -> Change {
        self.tell.push(Tell {
            coordinators: true,
            kind,
            meeting_id: meeting_id.map(str::to_owned),
            extra: serde_json::json!({}),
        });
        self
    }

    /// Applies the transition through the state machine, guarded by the status and version
    /// read (a conflict naming the current status when it is not allowed, or someone changed
    /// the request first), writes the timeline entry and the audit row, and queues the
    /// e-mails. Answers the request as it now is.
    pub fn apply(
        self,
        conn: &mut DbConnection,
        context: &RequestContext,
        public_url: &str,
        request: &RequestRow,
    ) -> Result<RequestRow, AppError> {
        let Change {
            transition,
            mut changes,
            note,
            tell,
        } = self;
        let (from, to) = allowed(request, transition)?;
        let now = db::now();
        changes.status = Some(to);
        changes.updated_at = Some(now);
        // The milestones the activity figures measure delays to: set once, the first time.
        match transition {
            Transition::HoldMeeting if request.discussed_at.is_none() => {
                changes.discussed_at = Some(Some(now));
                changes.discussed_days = Some(request.submitted_at.map(|at| whole_days(at, now)));
            }
            Transition::Deliver if request.delivered_at.is_none() => {
                changes.delivered_at = Some(Some(now));
                changes.delivered_days = Some(request.submitted_at.map(|at| whole_days(at, now)));
            }
            _ => {}
        }
        let Some(updated) =
            db::requests::update_guarded(conn, &request.id, from, request.version, &changes)?
        else {
            let current = db::requests::find(conn, &request.id)?.ok_or(AppError::NotFound)?;
            return Err(stale(&current));
        };
        db::requests::insert_event(
            conn,
            &db::requests::EventRow {
                id: db::new_id(),
                request_id: request.id.clone(),
                at: now,
                from_status: Some(from),
                to_status: to,
                actor_id: context.actor_id.clone(),
                note,
                center_code: updated.center_code.clone(),
                staff_code: updated.staff_code.clone(),
            },
        )?;
        audit::record(
            conn,
            context,
            &format!("request.{}", transition.as_str()),
            "request",
            Some(&request.id),
            Outcome::Allowed,
        )?;
        for tell in tell {
            let recipients = if tell.coordinators {
                coordinators(conn)?
            } else {
                requester_of(conn, &updated)?
            };
            notify(
                conn,
                public_url,
                &updated,
                &recipients,
                tell.kind,
                tell.meeting_id.as_deref(),
                tell.extra,
            )?;
        }
        Ok(updated)
    }
}

/// The statuses before and after `transition`, or a conflict naming the current status when
/// the state machine does not allow it.
pub fn allowed(
    request: &RequestRow,
    transition: Transition,
) -> Result<(RequestStatus, RequestStatus), AppError> {
    let from = request.status;
    let to = request_status::next(from, transition)
        .map_err(|error| AppError::refused(error.to_string(), from))?;
    Ok((from, to))
}

/// The answer to a stale version: a conflict naming the current status and version.
pub fn stale(current: &RequestRow) -> AppError {
    AppError::refused(
        format!(
            "The request has changed since you read it (now version {}, {}).",
            current.version, current.status
        ),
        current.status,
    )
}

/// The staff that takes a topic.
pub fn route(conn: &mut DbConnection, topic: Topic) -> Result<Option<StaffRow>, AppError> {
    Ok(db::network::staffs_with_zone(conn)?
        .into_iter()
        .map(|(staff, _)| staff)
        .find(|staff| {
            serde_json::from_str::<Vec<String>>(&staff.topics)
                .is_ok_and(|topics| topics.iter().any(|t| t == topic.as_str()))
        }))
}

/// The staff's next planned meeting whose cut-off has not passed and that has room.
pub fn propose_meeting(
    conn: &mut DbConnection,
    staff: &StaffRow,
) -> Result<Option<db::meetings::MeetingRow>, AppError> {
    let earliest = db::now() + chrono::Duration::minutes(staff.cutoff_minutes);
    let meetings = db::meetings::planned_after(conn, &staff.code, earliest, 60)?;
    let ids: Vec<String> = meetings.iter().map(|m| m.id.clone()).collect();
    let taken = db::meetings::taken_or_proposed_counts(conn, &ids)?;
    Ok(meetings
        .into_iter()
        .find(|m| taken.get(&m.id).copied().unwrap_or(0) < m.capacity))
}

/// The center's time zone.
fn time_zone(conn: &mut DbConnection, request: &RequestRow) -> Result<chrono_tz::Tz, AppError> {
    let zone = db::network::center_time_zone(conn, &request.center_code)?;
    Ok(zone.parse().unwrap_or(chrono_tz::UTC))
}

/// Queues an e-mail about a request to each recipient, in their language: the reference, a
/// link, and the meeting date where relevant — never clinical data.
pub fn notify(
    conn: &mut DbConnection,
    public_url: &str,
    request: &RequestRow,
    recipients: &[db::users::UserRow],
    kind: EmailKind,
    meeting_id: Option<&str>,
    extra: serde_json::Value,
) -> Result<(), AppError> {
    let meeting = match meeting_id {
        Some(id) => db::meetings::find(conn, id)?,
        None => None,
    };
    let zone = time_zone(conn, request)?;
    let staff_name = match &request.staff_code {
        Some(code) => db::network::staff_name(conn, code)?,
        None => None,
    };
    for recipient in recipients {
        let language = recipient.language;
        let mut context = json!({
            "reference": request.reference,
            "status": request.status,
            "link": format!("{public_url}/requests/{}", request.id),
            "meeting_date": meeting.as_ref().map(|m| email::local_date(m.starts_at, zone, language)),
            "staff_name": staff_name,
            "urgent": request.urgency == Urgency::Urgent,
        });
        if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
            target.extend(extra.clone());
        }
        email::queue(conn, kind, language, &recipient.email, context)?;
    }
    Ok(())
}

pub fn requester_of(
    conn: &mut DbConnection,
    request: &RequestRow,
) -> Result<Vec<db::users::UserRow>, AppError> {
    Ok(db::users::find_by_id(conn, &request.requester_id)?
        .into_iter()
        .collect())
}

pub fn coordinators(conn: &mut DbConnection) -> Result<Vec<db::users::UserRow>, AppError> {
    Ok(db::users::with_role(conn, Role::Coordinator)?)
}

/// Today in the center's calendar (for birth-date checks).
pub fn today(conn: &mut DbConnection) -> Result<chrono::NaiveDate, AppError> {
    Ok(today_in(&db::network::center(conn)?))
}

/// Today in the calendar of a center already read.
pub fn today_in(center: &db::network::CenterRow) -> chrono::NaiveDate {
    crate::clock::now()
        .with_timezone(&zone(center))
        .date_naive()
}

/// The time zone of a center's calendar.
pub fn zone(center: &db::network::CenterRow) -> chrono_tz::Tz {
    center.time_zone.parse().unwrap_or(chrono_tz::UTC)
}
