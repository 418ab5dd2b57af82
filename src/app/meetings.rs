//! Meetings of the staffs: the agenda, an extraordinary meeting, moving or cancelling one (its
//! requests go to the staff's next meeting and their requesters are told), and the record that
//! a meeting was held (attendance, quorum, the cases discussed; the others carried over).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::PersonRef;
use super::workflow::Change;
use super::{Actor, AppError, RequestContext};
use crate::audit::{self, Outcome};
use crate::db::requests::RequestRow;
use crate::db::{self, DbConnection};
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::ids::MeetingId;
use crate::domain::mail::{DateChange, EmailKind};
use crate::domain::meeting::{MeetingStatus, check_video_url};
use crate::domain::opinion::{Participant, check_participants, quorum_met};
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::{RequestStatus, Transition};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub staff: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: MeetingStatus,
    pub capacity: i64,
    /// Requests scheduled into it.
    pub booked: i64,
    pub video_url: Option<String>,
    /// Added by a coordinator rather than generated from the staff's rule.
    pub extraordinary: bool,
    /// Once held: who attended, and whether the staff's quorum of specialties was met.
    pub participants: Vec<Participant>,
    pub quorum_met: Option<bool>,
}

// ---------------------------------------------------------------- what the use cases take

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldBody {
    pub participants: Vec<Participant>,
    /// The scheduled requests that were discussed; the others are carried over.
    pub discussed: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingChange {
    Cancelled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeetingBody {
    /// `cancelled`: the meeting's requests move to the staff's next meeting.
    pub status: Option<MeetingChange>,
    /// Moves this one meeting (the staff's rule is unchanged).
    pub starts_at: Option<DateTime<Utc>>,
    pub capacity: Option<i64>,
    /// An https link; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub video_url: Option<Option<String>>,
}

/// For PATCH fields: absent leaves the field (`None`), `null` clears it (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl UpdateMeetingBody {
    fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.capacity.is_some_and(|c| !(1..=500).contains(&c)) {
            errors.push(FieldError::new("capacity", "must be between 1 and 500"));
        }
        if self.starts_at.is_some_and(|t| t < crate::clock::now()) {
            errors.push(FieldError::new("starts_at", "must be in the future"));
        }
        if let Some(url) = &self.video_url {
            check_video_url(url, &mut errors);
        }
        if self.status.is_none()
            && self.starts_at.is_none()
            && self.capacity.is_none()
            && self.video_url.is_none()
        {
            errors.push(FieldError::new(
                "body",
                "give at least one of status, starts_at, capacity, video_url",
            ));
        }
        if self.status.is_some() && self.starts_at.is_some() {
            errors.push(FieldError::new("status", "cancel or move, not both"));
        }
        errors
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeetingBody {
    /// May be now, or up to 7 days ago to record a meeting that just took place.
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: Option<i64>,
    pub capacity: Option<i64>,
    /// An https link to the video conference.
    pub video_url: Option<String>,
}

impl NewMeetingBody {
    fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let now = crate::clock::now();
        if self.starts_at < now - chrono::Duration::days(7)
            || self.starts_at > now + chrono::Duration::days(730)
        {
            errors.push(FieldError::new(
                "starts_at",
                "must be between 7 days ago and 2 years ahead",
            ));
        }
        if self
            .duration_minutes
            .is_some_and(|d| !(5..=720).contains(&d))
        {
            errors.push(FieldError::new(
                "duration_minutes",
                "must be between 5 and 720",
            ));
        }
        if self.capacity.is_some_and(|c| !(1..=500).contains(&c)) {
            errors.push(FieldError::new("capacity", "must be between 1 and 500"));
        }
        check_video_url(&self.video_url, &mut errors);
        errors
    }
}

// ---------------------------------------------------------------- the use cases

pub fn meeting_view(meeting: db::meetings::MeetingRow, booked: i64) -> MeetingView {
    MeetingView {
        ends_at: (meeting.starts_at + chrono::Duration::minutes(meeting.duration_minutes))
            .and_utc(),
        starts_at: meeting.starts_at.and_utc(),
        participants: meeting
            .attendance
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default(),
        extraordinary: meeting.occurrence.is_none(),
        id: meeting.id,
        staff: meeting.staff_code,
        status: meeting.status,
        capacity: meeting.capacity,
        booked,
        video_url: meeting.video_url,
        quorum_met: meeting.quorum_met,
    }
}

/// The meeting with its booked count.
fn load(conn: &mut DbConnection, id: &str) -> Result<MeetingView, AppError> {
    let meeting = db::meetings::find(conn, id)?.ok_or(AppError::NotFound)?;
    let booked = db::meetings::booked(conn, id)?;
    Ok(meeting_view(meeting, booked))
}

/// The staff's next planned meeting after `after` (where carried-over and displaced requests go).
fn next_meeting(
    conn: &mut DbConnection,
    staff: &str,
    after: chrono::NaiveDateTime,
    excluding: &str,
) -> Result<Option<db::meetings::MeetingRow>, AppError> {
    Ok(db::meetings::planned_after(conn, staff, after, 5)?
        .into_iter()
        .find(|m| m.id != excluding && m.starts_at > after))
}

/// Runs a coordinator's change of a planned meeting in one write transaction, with the
/// meeting locked (two coordinators never change it at once); a meeting held or cancelled
/// takes no change.
async fn change_planned<T, F>(
    state: &AppState,
    actor: &Actor,
    id: &MeetingId,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(
            &mut DbConnection,
            db::meetings::MeetingRow,
            &RequestContext,
            &str,
        ) -> Result<T, AppError>
        + Send
        + 'static,
    T: Send + 'static,
{
    actor.require_any(&[Role::Coordinator])?;
    let (context, public_url, id) = (
        actor.context.clone(),
        state.public_url().to_owned(),
        id.to_owned(),
    );
    state
        .db
        .write(move |conn| {
            let meeting = db::meetings::lock(conn, &id)?.ok_or(AppError::NotFound)?;
            if meeting.status != MeetingStatus::Planned {
                return Err(AppError::conflict(format!(
                    "The meeting is already {}.",
                    meeting.status
                )));
            }
            f(conn, meeting, &context, &public_url)
        })
        .await
}

/// Moves requests scheduled in a meeting to `next` (carried over, or displaced by a
/// cancellation) and tells each requester the new date.
fn move_to(
    conn: &mut DbConnection,
    context: &RequestContext,
    public_url: &str,
    requests: Vec<RequestRow>,
    next: &db::meetings::MeetingRow,
    change: DateChange,
) -> Result<(), AppError> {
    for request in requests {
        Change::new(Transition::Reschedule)
            .setting(db::requests::RequestChanges {
                meeting_id: Some(Some(next.id.clone())),
                ..Default::default()
            })
            .note(change.note())
            .tell_requester(
                EmailKind::RequestScheduled,
                Some(&next.id),
                change.template_values(),
            )
            .apply(conn, context, public_url, &request)?;
    }
    Ok(())
}

/// A case on a meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    pub urgency: Urgency,
    pub topic: Option<Topic>,
    pub requester: PersonRef,
    pub submitted_at: Option<DateTime<Utc>>,
    /// An opinion is being written (a draft version exists).
    pub opinion_drafted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingWithAgenda {
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// Scheduled and proposed requests, urgent first, then by submission time.
    pub agenda: Vec<AgendaItem>,
}

/// The meeting and its agenda, for coordinators and the experts of its staff (reads and one
/// audit row: no transaction, none to hold SQLite's write lock).
pub async fn agenda(
    state: &AppState,
    actor: &Actor,
    id: &MeetingId,
) -> Result<MeetingWithAgenda, AppError> {
    actor.require_any(&[Role::Coordinator, Role::Admin, Role::Expert])?;
    let sees_all = actor.has_role(Role::Coordinator) || actor.has_role(Role::Admin);
    let (actor, id) = (actor.clone(), id.to_owned());
    state
        .db
        .run(move |conn| {
            let meeting = load(conn, &id)?;
            if !sees_all && !db::meetings::expert_staffs(conn, &actor.id)?.contains(&meeting.staff)
            {
                return Err(AppError::NotFound);
            }
            let mut rows = db::requests::agenda(conn, &id)?;
            rows.sort_by_key(|(row, _)| {
                (
                    row.urgency != Urgency::Urgent,
                    row.submitted_at,
                    row.id.clone(),
                )
            });
            let ids: Vec<String> = rows.iter().map(|(row, _)| row.id.clone()).collect();
            let drafted = db::opinions::drafted_among(conn, &ids)?;
            let agenda = rows
                .into_iter()
                .map(|(row, name)| AgendaItem {
                    opinion_drafted: drafted.contains(&row.id),
                    requester: PersonRef {
                        id: row.requester_id,
                        full_name: name,
                    },
                    id: row.id,
                    reference: row.reference,
                    status: row.status,
                    urgency: row.urgency,
                    topic: row.topic,
                    submitted_at: row.submitted_at.map(|t| t.and_utc()),
                })
                .collect();
            audit::record(
                conn,
                &actor.context,
                "meeting.read",
                "meeting",
                Some(&id),
                Outcome::Allowed,
            )?;
            Ok(MeetingWithAgenda { meeting, agenda })
        })
        .await
}

/// Records that the meeting took place: its attendance (and whether the staff's quorum of
/// specialties was met); the discussed requests become `discussed`, the others scheduled in it
/// are carried over to the staff's next meeting and their requesters told the new date.
/// Refused before the meeting's start.
pub async fn hold(
    state: &AppState,
    actor: &Actor,
    id: &MeetingId,
    held: HeldBody,
) -> Result<MeetingView, AppError> {
    change_planned(
        state,
        actor,
        id,
        move |conn, meeting, context, public_url| {
            if meeting.starts_at > db::now() {
                return Err(AppError::conflict("The meeting has not started yet."));
            }
            let sites: Vec<String> = db::network::sites(conn)?
                .into_iter()
                .map(|s| s.code)
                .collect();
            let mut errors =
                check_participants(&held.participants, |code| sites.iter().any(|s| s == code));
            let scheduled = db::requests::scheduled_in(conn, &meeting.id)?;
            for (i, request_id) in held.discussed.iter().enumerate() {
                if !scheduled.iter().any(|r| &r.id == request_id) {
                    errors.push(FieldError::new(
                        format!("discussed[{i}]"),
                        "is not scheduled in this meeting",
                    ));
                }
            }
            AppError::unless_valid(errors)?;
            let staff = db::network::staff(conn, &meeting.staff_code)?.ok_or(AppError::NotFound)?;
            let quorum = quorum_met(&held.participants, staff.quorum_specialties);
            let attendance = serde_json::to_string(&held.participants)?;
            db::meetings::record_held(conn, &meeting.id, &attendance, quorum, db::now())?;
            let (discussed, not_reached): (Vec<_>, Vec<_>) = scheduled
                .into_iter()
                .partition(|request| held.discussed.contains(&request.id));
            for request in discussed {
                Change::new(Transition::HoldMeeting).apply(conn, context, public_url, &request)?;
            }
            if !not_reached.is_empty() {
                let next = next_meeting(conn, &meeting.staff_code, meeting.starts_at, &meeting.id)?
                    .ok_or_else(|| {
                        AppError::conflict(
                            "The staff has no later meeting to carry the other requests over to.",
                        )
                    })?;
                let change = DateChange::CarriedOver;
                move_to(conn, context, public_url, not_reached, &next, change)?;
            }
            audit::record(
                conn,
                context,
                "meeting.held",
                "meeting",
                Some(&meeting.id),
                Outcome::Allowed,
            )?;
            load(conn, &meeting.id)
        },
    )
    .await
}

/// Cancels or moves one planned meeting, or changes its capacity or link. Requesters whose
/// request is scheduled in it are told the new date.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &MeetingId,
    change: UpdateMeetingBody,
) -> Result<MeetingView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    AppError::unless_valid(change.check())?;
    change_planned(
        state,
        actor,
        id,
        move |conn, meeting, context, public_url| {
            let id = meeting.id.clone();
            let cancelled = change.status.is_some();
            db::meetings::update(
                conn,
                &id,
                &db::meetings::MeetingChanges {
                    starts_at: change.starts_at.map(|t| t.naive_utc()),
                    capacity: change.capacity,
                    video_url: change.video_url.clone(),
                    status: cancelled.then_some(MeetingStatus::Cancelled),
                },
            )?;
            let scheduled = db::requests::scheduled_in(conn, &id)?;
            if cancelled {
                if !scheduled.is_empty() {
                    let next =
                        next_meeting(conn, &meeting.staff_code, meeting.starts_at, &meeting.id)?
                            .ok_or_else(|| {
                                AppError::conflict(
                                    "The staff has no later meeting to move the requests to.",
                                )
                            })?;
                    let change = DateChange::MeetingCancelled;
                    move_to(conn, context, public_url, scheduled, &next, change)?;
                }
            } else if change.starts_at.is_some() {
                for request in &scheduled {
                    let requester = super::workflow::requester_of(conn, request)?;
                    super::workflow::notify(
                        conn,
                        public_url,
                        request,
                        &requester,
                        EmailKind::RequestScheduled,
                        Some(&id),
                        DateChange::Moved.template_values(),
                    )?;
                }
            }
            let action = if cancelled {
                "meeting.cancel"
            } else {
                "meeting.update"
            };
            audit::record(
                conn,
                context,
                action,
                "meeting",
                Some(&id),
                Outcome::Allowed,
            )?;
            load(conn, &id)
        },
    )
    .await
}

/// Adds an extraordinary meeting to a staff (for urgent cases).
pub async fn create(
    state: &AppState,
    actor: &Actor,
    staff_code: &str,
    new: NewMeetingBody,
) -> Result<MeetingView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    AppError::unless_valid(new.check())?;
    let (context, code) = (actor.context.clone(), staff_code.to_owned());
    state
        .db
        .write(move |conn| {
            let staff = db::network::staff(conn, &code)?.ok_or(AppError::NotFound)?;
            let meeting = db::meetings::MeetingRow {
                id: db::new_id(),
                staff_code: staff.code,
                starts_at: new.starts_at.naive_utc(),
                duration_minutes: new.duration_minutes.unwrap_or(staff.duration_minutes),
                status: MeetingStatus::Planned,
                capacity: new.capacity.unwrap_or(staff.capacity),
                video_url: new.video_url,
                occurrence: None,
                attendance: None,
                quorum_met: None,
                held_at: None,
                created_at: db::now(),
                sequence: 0,
            };
            db::meetings::insert(conn, &meeting)?;
            audit::record(
                conn,
                &context,
                "meeting.create",
                "meeting",
                Some(&meeting.id),
                Outcome::Allowed,
            )?;
            Ok(meeting_view(meeting, 0))
        })
        .await
}

/// Parses a bound: a local day (its start, or the next day's start when `end`) or an instant.
pub fn parse_bound(
    value: &str,
    field: &str,
    zone: chrono_tz::Tz,
    end: bool,
) -> Result<DateTime<Utc>, AppError> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 instant")
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::invalid(field, "is not a valid local day"))
}

/// The meetings of a staff in a period (`from`, `to`: a local day or an RFC 3339 instant;
/// by default the 8 weeks from now), with their booked places.
pub async fn of_staff(
    state: &AppState,
    staff_code: &str,
    from: Option<String>,
    to: Option<String>,
) -> Result<Vec<MeetingView>, AppError> {
    let code = staff_code.to_owned();
    state
        .db
        .run(move |conn| {
            let staff = db::network::staff(conn, &code)?.ok_or(AppError::NotFound)?;
            let zone: chrono_tz::Tz = db::network::center_time_zone(conn, &staff.center_code)?
                .parse()
                .unwrap_or(chrono_tz::UTC);
            let from = match &from {
                Some(value) => parse_bound(value, "from", zone, false)?,
                None => crate::clock::now(),
            };
            let to = match &to {
                Some(value) => parse_bound(value, "to", zone, true)?,
                None => from + chrono::Duration::weeks(8),
            };
            if to <= from || to - from > chrono::Duration::days(400) {
                return Err(AppError::invalid(
                    "to",
                    "must be after `from`, within 400 days",
                ));
            }
            let meetings =
                db::meetings::list_for_staff(conn, &staff.code, from.naive_utc(), to.naive_utc())?;
            let ids: Vec<String> = meetings.iter().map(|m| m.id.clone()).collect();
            let counts = db::meetings::booked_counts(conn, &ids)?;
            Ok(meetings
                .into_iter()
                .map(|m| {
                    let booked = counts
                        .iter()
                        .find(|(id, _)| *id == m.id)
                        .map_or(0, |(_, n)| *n);
                    meeting_view(m, booked)
                })
                .collect())
        })
        .await
}

/// A staff and its meetings of a period, for the screens' lists.
#[derive(Debug, Serialize)]
pub struct StaffMeetings {
    pub code: String,
    pub name: String,
    pub capacity: i64,
    pub cutoff_minutes: i64,
    pub quorum_specialties: i64,
    pub meetings: Vec<MeetingView>,
}

/// The meetings of the last week and the coming eight of each staff the actor works with
/// (every staff for coordinators and admins, their own for experts), with their places
/// taken: three queries, whatever the number of staffs and meetings.
pub async fn coming(state: &AppState, actor: &Actor) -> Result<Vec<StaffMeetings>, AppError> {
    actor.require_any(&[Role::Coordinator, Role::Admin, Role::Expert])?;
    let sees_all = actor.has_role(Role::Coordinator) || actor.has_role(Role::Admin);
    let actor = actor.clone();
    state
        .db
        .run(move |conn| {
            let mut staffs: Vec<db::network::StaffRow> = db::network::staffs_with_zone(conn)?
                .into_iter()
                .map(|(staff, _)| staff)
                .collect();
            if !sees_all {
                let own = db::meetings::expert_staffs(conn, &actor.id)?;
                staffs.retain(|s| own.contains(&s.code));
            }
            let codes: Vec<String> = staffs.iter().map(|s| s.code.clone()).collect();
            let now = db::now();
            let rows = db::meetings::list_for_staffs(
                conn,
                &codes,
                now - chrono::Duration::days(7),
                now + chrono::Duration::weeks(8),
            )?;
            let ids: Vec<String> = rows.iter().map(|m| m.id.clone()).collect();
            let booked: std::collections::HashMap<String, i64> =
                db::meetings::booked_counts(conn, &ids)?
                    .into_iter()
                    .collect();
            let mut by_staff: std::collections::HashMap<String, Vec<MeetingView>> =
                Default::default();
            for row in rows {
                let n = booked.get(&row.id).copied().unwrap_or(0);
                by_staff
                    .entry(row.staff_code.clone())
                    .or_default()
                    .push(meeting_view(row, n));
            }
            Ok(staffs
                .into_iter()
                .map(|s| StaffMeetings {
                    meetings: by_staff.remove(&s.code).unwrap_or_default(),
                    code: s.code,
                    name: s.name,
                    capacity: s.capacity,
                    cutoff_minutes: s.cutoff_minutes,
                    quorum_specialties: s.quorum_specialties,
                })
                .collect())
        })
        .await
}

/// Who attended the staff's previous held meeting: a weekly meeting's regulars, offered again
/// so they are not typed again each week.
pub async fn regulars(
    state: &AppState,
    actor: &Actor,
    meeting: &MeetingView,
) -> Result<Vec<Participant>, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    let (staff, before) = (meeting.staff.clone(), meeting.starts_at.naive_utc());
    state
        .db
        .run(move |conn| {
            Ok(db::meetings::last_attendance(conn, &staff, before)?
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default())
        })
        .await
}
