//! The coordinators' decisions on a submitted request: schedule it into a meeting (or move it),
//! ask the requester for information, or reject it as out of scope.

use super::requests::{checked_message, checked_reason, insert_message};
use super::views::{RequestView, view};
use super::workflow::{self, Change, Tx};
use super::{Actor, AppError};
use crate::db;
use crate::domain::account::Role;
use crate::domain::ids::{MeetingId, RequestId};
use crate::domain::mail::{DateChange, EmailKind};
use crate::domain::meeting::MeetingStatus;
use crate::domain::request_form::Urgency;
use crate::domain::request_status::{RequestStatus, Transition};
use crate::state::AppState;

pub const MAX_REASON_CHARS: usize = 2_000;

/// Schedules a submitted request into a planned meeting of any staff (a reroute when it is not
/// the request's staff), or moves a scheduled one. Capacity is a hard limit for routine
/// requests; an urgent one may exceed it with `allow_over_capacity`. Of two coordinators
/// taking the last place at once, exactly one succeeds (the meeting is locked).
pub async fn schedule(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    meeting_id: MeetingId,
    allow_over_capacity: bool,
) -> Result<RequestView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    let (context, public_url) = (actor.context.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.schedule",
        Tx::Write,
        move |conn, request, _| {
            let meeting = db::meetings::lock(conn, &meeting_id)?
                .ok_or_else(|| AppError::invalid("meeting_id", "is not a meeting"))?;
            if meeting.status != MeetingStatus::Planned {
                return Err(AppError::conflict(format!(
                    "The meeting is {}.",
                    meeting.status
                )));
            }
            let scheduled = request.status == RequestStatus::Scheduled;
            if scheduled && request.meeting_id.as_deref() == Some(meeting.id.as_str()) {
                return Err(AppError::conflict(
                    "The request is already scheduled in this meeting.",
                ));
            }
            let booked = db::meetings::booked(conn, &meeting.id)?;
            let may_exceed = allow_over_capacity && request.urgency == Urgency::Urgent;
            if booked >= meeting.capacity && !may_exceed {
                return Err(AppError::refused(
                    format!(
                        "The meeting is full ({booked} of {} places).",
                        meeting.capacity
                    ),
                    request.status,
                ));
            }
            let (transition, change) = if scheduled {
                (Transition::Reschedule, DateChange::Moved)
            } else {
                (Transition::Schedule, DateChange::Scheduled)
            };
            let request = Change::new(transition)
                .setting(db::requests::RequestChanges {
                    meeting_id: Some(Some(meeting.id.clone())),
                    staff_code: Some(Some(meeting.staff_code.clone())),
                    proposed_meeting_id: Some(None),
                    ..Default::default()
                })
                .note(change.note())
                .tell_requester(
                    EmailKind::RequestScheduled,
                    Some(&meeting.id),
                    change.template_values(),
                )
                .apply(conn, &context, &public_url, &request)?;
            view(conn, request)
        },
    )
    .await
}

/// Asks the requester for more information: the question joins the thread, and the request
/// waits in `needs_info` until they answer in the thread or amend the form.
pub async fn request_info(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    message: String,
) -> Result<RequestView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    checked_message(&message, "message")?;
    let (caller, public_url) = (actor.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.request_info",
        Tx::Write,
        move |conn, request, _| {
            let request = Change::new(Transition::RequestInfo)
                .tell_requester(EmailKind::InfoRequested, None, serde_json::json!({}))
                .apply(conn, &caller.context, &public_url, &request)?;
            insert_message(conn, &request.id, &caller.id, Role::Coordinator, &message)?;
            view(conn, request)
        },
    )
    .await
}

/// Rejects a request as out of the network's scope, with a reason shown to the requester.
pub async fn reject(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    reason: &str,
) -> Result<RequestView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    let reason = reason.trim().to_owned();
    checked_reason(&reason, MAX_REASON_CHARS)?;
    let (context, public_url) = (actor.context.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.reject",
        Tx::Write,
        move |conn, request, _| {
            let request = Change::new(Transition::Reject)
                .setting(db::requests::RequestChanges {
                    rejection_reason: Some(Some(reason.clone())),
                    proposed_meeting_id: Some(None),
                    ..Default::default()
                })
                .note(reason)
                .tell_requester(EmailKind::RequestRejected, None, serde_json::json!({}))
                .apply(conn, &context, &public_url, &request)?;
            view(conn, request)
        },
    )
    .await
}

// ---------------------------------------------------------------- the queue

/// One request of the triage list: the request, its requester's site, and the meeting it is
/// proposed for with its places (room left = capacity − booked).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TriageItem {
    #[serde(flatten)]
    pub request: super::views::RequestSummary,
    pub requester_site: Option<String>,
    pub proposed_meeting: Option<super::meetings::MeetingView>,
}

/// Which requests the triage list shows: `status` one of those waiting for a coordinator
/// (submitted by default, or those waiting for the requester's answer), of a staff, of an
/// urgency.
#[derive(Debug, Default, Clone)]
pub struct TriageQuery {
    pub status: Option<RequestStatus>,
    pub staff: Option<String>,
    pub urgency: Option<Urgency>,
}

/// The center's requests waiting for a decision, urgent first, then the oldest submitted
/// first; paged by cursor (four queries a page, whatever its length).
pub async fn queue(
    state: &AppState,
    actor: &Actor,
    query: TriageQuery,
    page: super::pagination::PageRequest,
) -> Result<super::pagination::Page<TriageItem>, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    let limit = page.limit()?;
    let after = match page.cursor()? {
        None => None,
        Some((at, key)) => {
            let invalid = || AppError::invalid("cursor", "is not a cursor returned by this list");
            let (urgency, id) = key.split_once(':').ok_or_else(invalid)?;
            Some((
                Urgency::parse(urgency).ok_or_else(invalid)?,
                at,
                id.to_owned(),
            ))
        }
    };
    let statuses = match query.status {
        Some(status) if crate::domain::request_status::AWAITING_TRIAGE.contains(&status) => {
            vec![status]
        }
        Some(_) => return Err(AppError::invalid("status", "is not waiting for a decision")),
        None => vec![RequestStatus::Submitted],
    };
    let filter = db::requests::TriageFilter {
        statuses,
        staff: query.staff,
        urgency: query.urgency,
        after,
    };
    let (rows, sites, meetings) = state
        .db
        .run(move |conn| {
            let rows = db::requests::triage(conn, &filter, limit)?;
            let requesters: Vec<String> =
                rows.iter().map(|(r, _)| r.requester_id.clone()).collect();
            let sites = db::requests::sites_of(conn, &requesters)?;
            let mut ids: Vec<String> = rows
                .iter()
                .filter_map(|(r, _)| r.proposed_meeting_id.clone())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let booked: std::collections::HashMap<String, i64> =
                db::meetings::booked_counts(conn, &ids)?
                    .into_iter()
                    .collect();
            let meetings: std::collections::HashMap<String, super::meetings::MeetingView> =
                db::meetings::by_ids(conn, &ids)?
                    .into_iter()
                    .map(|m| {
                        let n = booked.get(&m.id).copied().unwrap_or(0);
                        (m.id.clone(), super::meetings::meeting_view(m, n))
                    })
                    .collect();
            Ok::<_, db::DbError>((rows, sites, meetings))
        })
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last())
        .flatten()
        .and_then(|(row, _)| {
            let at = row.submitted_at?;
            Some(super::pagination::encode_cursor(
                at,
                &format!("{}:{}", row.urgency.as_str(), row.id),
            ))
        });
    let items = rows
        .into_iter()
        .map(|(row, name)| {
            let proposed_meeting = row
                .proposed_meeting_id
                .as_ref()
                .and_then(|id| meetings.get(id))
                .cloned();
            let requester_site = sites.get(&row.requester_id).cloned();
            let starts = proposed_meeting.as_ref().map(|m| m.starts_at);
            TriageItem {
                request: super::views::RequestSummary::new(row, name, None, starts),
                requester_site,
                proposed_meeting,
            }
        })
        .collect();
    Ok(super::pagination::Page { items, next_cursor })
}
