//! The use cases of the request workflow that several endpoints share: who may see a request,
//! applying a transition (state machine, guarded update, timeline, audit), routing a topic to a
//! staff, proposing a meeting, and telling people by e-mail.

use chrono::Utc;
use serde_json::json;

use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db::network::StaffRow;
use crate::db::requests::{RequestChanges, RequestRow};
use crate::db::{self, DbConnection};
use crate::domain::account::{Language, Role};
use crate::domain::request_status::{self, RequestStatus, Transition};
use crate::email::{self, EmailKind};
use crate::error::ApiError;
use crate::request_context::RequestContext;

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
}

pub fn access(
    conn: &mut DbConnection,
    user: &CurrentUser,
    request: &RequestRow,
) -> Result<Access, ApiError> {
    let owner = request.requester_id == user.id;
    let coordinator = user.has_role(Role::Coordinator) || user.has_role(Role::Admin);
    let mut expert = false;
    if user.has_role(Role::Expert) {
        let staffs = db::meetings::expert_staffs(conn, &user.id)?;
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

/// Applies `transition` through the state machine, guarded by the status and version read:
/// 409 with the current status when it is not allowed or someone changed the request first.
/// Writes the timeline entry and the audit row in the caller's transaction.
pub fn apply(
    conn: &mut DbConnection,
    context: &RequestContext,
    request: &RequestRow,
    transition: Transition,
    mut changes: RequestChanges,
    note: Option<&str>,
) -> Result<RequestRow, ApiError> {
    let (from, to) = allowed(request, transition)?;
    let now = db::now();
    changes.status = Some(to.as_str().to_owned());
    changes.updated_at = Some(now);
    if db::requests::update_guarded(conn, &request.id, from.as_str(), request.version, &changes)?
        == 0
    {
        let current = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
        return Err(stale(&current));
    }
    db::requests::insert_event(
        conn,
        &db::requests::EventRow {
            id: db::new_id(),
            request_id: request.id.clone(),
            at: now,
            from_status: Some(from.as_str().to_owned()),
            to_status: to.as_str().to_owned(),
            actor_id: context.actor_id.clone(),
            note: note.map(str::to_owned),
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
    db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)
}

/// The statuses before and after `transition`, or 409 with the current status when the state
/// machine does not allow it.
pub fn allowed(
    request: &RequestRow,
    transition: Transition,
) -> Result<(RequestStatus, RequestStatus), ApiError> {
    let from = RequestStatus::parse(&request.status)
        .ok_or_else(|| anyhow::anyhow!("unknown stored status {}", request.status))?;
    let to = request_status::next(from, transition).map_err(|error| ApiError::Conflict {
        detail: error.to_string(),
        current_status: Some(from.as_str().to_owned()),
    })?;
    Ok((from, to))
}

/// The answer to a stale version: 409 naming the current status and version.
pub fn stale(current: &RequestRow) -> ApiError {
    ApiError::Conflict {
        detail: format!(
            "The request has changed since you read it (now version {}, {}).",
            current.version, current.status
        ),
        current_status: Some(current.status.clone()),
    }
}

/// The staff that takes a topic.
pub fn route(conn: &mut DbConnection, topic: &str) -> Result<Option<StaffRow>, ApiError> {
    Ok(db::network::staffs_with_zone(conn)?
        .into_iter()
        .map(|(staff, _)| staff)
        .find(|staff| {
            serde_json::from_str::<Vec<String>>(&staff.topics)
                .is_ok_and(|topics| topics.iter().any(|t| t == topic))
        }))
}

/// The staff's next planned meeting whose cut-off has not passed and that has room.
pub fn propose_meeting(
    conn: &mut DbConnection,
    staff: &StaffRow,
) -> Result<Option<db::meetings::MeetingRow>, ApiError> {
    let earliest = db::now() + chrono::Duration::minutes(staff.cutoff_minutes);
    let meetings = db::meetings::planned_after(conn, &staff.code, earliest, 60)?;
    let ids: Vec<String> = meetings.iter().map(|m| m.id.clone()).collect();
    let taken = db::meetings::taken_or_proposed_counts(conn, &ids)?;
    Ok(meetings
        .into_iter()
        .find(|m| taken.get(&m.id).copied().unwrap_or(0) < m.capacity))
}

/// The center's time zone.
fn time_zone(conn: &mut DbConnection, request: &RequestRow) -> Result<chrono_tz::Tz, ApiError> {
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
) -> Result<(), ApiError> {
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
        let language = Language::parse(&recipient.language).unwrap_or_default();
        let mut context = json!({
            "reference": request.reference,
            "status": request.status,
            "link": format!("{public_url}/requests/{}", request.id),
            "meeting_date": meeting.as_ref().map(|m| email::local_date(m.starts_at, zone, language)),
            "staff_name": staff_name,
            "urgent": request.urgency == "urgent",
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
) -> Result<Vec<db::users::UserRow>, ApiError> {
    Ok(db::users::find_by_id(conn, &request.requester_id)?
        .into_iter()
        .collect())
}

pub fn coordinators(conn: &mut DbConnection) -> Result<Vec<db::users::UserRow>, ApiError> {
    Ok(db::users::with_role(conn, Role::Coordinator.as_str())?)
}

/// Today in the center's calendar (for birth-date checks).
pub fn today(conn: &mut DbConnection) -> Result<chrono::NaiveDate, ApiError> {
    Ok(today_in(&db::network::center(conn)?))
}

/// Today in the calendar of a center already read.
pub fn today_in(center: &db::network::CenterRow) -> chrono::NaiveDate {
    let zone: chrono_tz::Tz = center.time_zone.parse().unwrap_or(chrono_tz::UTC);
    Utc::now().with_timezone(&zone).date_naive()
}
