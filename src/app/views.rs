//! What the use cases answer about requests: the read models both front doors render (the
//! JSON API as they are, the screens through templates). No clinical content in a summary.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppError;
use crate::db::requests::{RequestRow, RequestSummaryRow};
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::request_form::{RequestForm, Topic, Urgency};
use crate::domain::request_status::RequestStatus;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingRef {
    pub id: String,
    pub staff: String,
    pub starts_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub full_name: String,
}

/// One change of status, as the requester sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub from: Option<RequestStatus>,
    pub to: RequestStatus,
    /// The user who made the change.
    pub by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<db::attachments::AttachmentRow> for AttachmentView {
    fn from(row: db::attachments::AttachmentRow) -> Self {
        AttachmentView {
            id: row.id,
            filename: row.filename,
            content_type: row.content_type,
            size: row.size,
            sha256: row.sha256,
            created_at: row.created_at.and_utc(),
        }
    }
}

/// A request as its readers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    /// Increases with every change; send it back in `If-Match` (or `version`) to update.
    pub version: i64,
    #[serde(flatten)]
    pub form: RequestForm,
    /// The staff the request is routed to.
    pub staff: Option<String>,
    pub proposed_meeting: Option<MeetingRef>,
    pub meeting: Option<MeetingRef>,
    pub requester: PersonRef,
    pub rejection_reason: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub timeline: Vec<TimelineEntry>,
    /// The request whose opinion this one follows up (null for a first request).
    pub parent: Option<RequestLink>,
    /// The follow-up requests made from this request's opinion, oldest first.
    pub follow_ups: Vec<FollowUpRef>,
}

/// A request named by its id and reference.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestLink {
    pub id: String,
    pub reference: String,
}

/// A follow-up request of an opinion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpRef {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    /// The index of the opinion's recommendation it follows up (null: the opinion as a whole).
    pub recommendation: Option<i64>,
}

impl From<db::requests::FollowUpRow> for FollowUpRef {
    fn from(row: db::requests::FollowUpRow) -> Self {
        FollowUpRef {
            id: row.id,
            reference: row.reference,
            status: row.status,
            recommendation: row.parent_recommendation,
        }
    }
}

/// The follow-ups made from a request's opinion, oldest first. They are made from a delivered
/// opinion only: a request before it has none (and costs no query).
pub fn follow_ups_of(
    conn: &mut DbConnection,
    request: &RequestRow,
) -> Result<Vec<FollowUpRef>, AppError> {
    if request.status != RequestStatus::Completed {
        return Ok(Vec::new());
    }
    Ok(db::requests::follow_ups(conn, &request.id)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// The parent of a follow-up, by its id.
pub fn parent_ref(
    conn: &mut DbConnection,
    parent_id: &str,
) -> Result<Option<RequestLink>, AppError> {
    Ok(
        db::requests::reference_of(conn, parent_id)?.map(|reference| RequestLink {
            id: parent_id.to_owned(),
            reference,
        }),
    )
}

/// A line of a request list (no clinical content).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestSummary {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    pub version: i64,
    pub topic: Option<Topic>,
    pub urgency: Urgency,
    pub staff: Option<String>,
    pub proposed_meeting_id: Option<String>,
    pub meeting_id: Option<String>,
    pub requester: PersonRef,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// The patient's initials, as the form has them.
    #[schema(example = "AB")]
    pub patient_initials: Option<String>,
    /// When its meeting starts: the scheduled one, else the proposed one.
    pub meeting_starts_at: Option<DateTime<Utc>>,
}

impl RequestSummary {
    pub fn new(
        row: RequestSummaryRow,
        requester_name: String,
        patient_initials: Option<String>,
        meeting_starts_at: Option<DateTime<Utc>>,
    ) -> RequestSummary {
        RequestSummary {
            patient_initials,
            meeting_starts_at,
            requester: PersonRef {
                id: row.requester_id,
                full_name: requester_name,
            },
            id: row.id,
            reference: row.reference,
            status: row.status,
            version: row.version,
            topic: row.topic,
            urgency: row.urgency,
            staff: row.staff_code,
            proposed_meeting_id: row.proposed_meeting_id,
            meeting_id: row.meeting_id,
            created_at: row.created_at.and_utc(),
            submitted_at: row.submitted_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAuthor {
    pub id: String,
    pub full_name: String,
    /// `requester` or `coordinator`.
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub author: MessageAuthor,
    pub body: String,
    pub at: DateTime<Utc>,
}

impl MessageView {
    pub fn new(row: db::messages::MessageRow, author: PersonRef) -> MessageView {
        MessageView {
            id: row.id,
            author: MessageAuthor {
                id: author.id,
                full_name: author.full_name,
                role: row.author_role,
            },
            body: row.body,
            at: row.created_at.and_utc(),
        }
    }
}

fn meeting_ref(
    conn: &mut DbConnection,
    id: &Option<String>,
) -> Result<Option<MeetingRef>, AppError> {
    let Some(id) = id else { return Ok(None) };
    Ok(db::meetings::find(conn, id)?.map(|meeting| MeetingRef {
        id: meeting.id,
        staff: meeting.staff_code,
        starts_at: meeting.starts_at.and_utc(),
    }))
}

pub fn parse_form(request: &RequestRow) -> Result<RequestForm, AppError> {
    serde_json::from_str(&request.form)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored form: {e}")))
}

/// The view of a request, its requester read from the database.
pub fn view(conn: &mut DbConnection, request: RequestRow) -> Result<RequestView, AppError> {
    load_view(conn, request, None)
}

/// [`view`] for a caller, who is most often its requester (then not read again).
pub fn view_by(
    conn: &mut DbConnection,
    request: RequestRow,
    caller: &super::Actor,
) -> Result<RequestView, AppError> {
    let requester = (request.requester_id == caller.id).then(|| PersonRef {
        id: caller.id.clone(),
        full_name: caller.full_name.clone(),
    });
    load_view(conn, request, requester)
}

fn load_view(
    conn: &mut DbConnection,
    request: RequestRow,
    requester: Option<PersonRef>,
) -> Result<RequestView, AppError> {
    let requester = match requester {
        Some(known) => known,
        None => db::users::find_by_id(conn, &request.requester_id)?
            .map(|user| PersonRef {
                id: user.id,
                full_name: user.full_name,
            })
            .ok_or(AppError::NotFound)?,
    };
    let events = db::requests::events(conn, &request.id)?;
    let attachments = db::attachments::list(conn, &request.id)?;
    let proposed_meeting = meeting_ref(conn, &request.proposed_meeting_id)?;
    let meeting = meeting_ref(conn, &request.meeting_id)?;
    let parent = match &request.parent_id {
        Some(parent_id) => parent_ref(conn, parent_id)?,
        None => None,
    };
    let follow_ups = follow_ups_of(conn, &request)?;
    assemble(
        request,
        requester,
        events,
        attachments,
        (proposed_meeting, meeting),
        (parent, follow_ups),
    )
}

/// The view of a request from its parts (read by [`view`], or just written).
pub fn assemble(
    request: RequestRow,
    requester: PersonRef,
    events: Vec<db::requests::EventRow>,
    attachments: Vec<db::attachments::AttachmentRow>,
    (proposed_meeting, meeting): (Option<MeetingRef>, Option<MeetingRef>),
    (parent, follow_ups): (Option<RequestLink>, Vec<FollowUpRef>),
) -> Result<RequestView, AppError> {
    let timeline = events
        .into_iter()
        .map(|event| TimelineEntry {
            at: event.at.and_utc(),
            from: event.from_status,
            to: event.to_status,
            by: event.actor_id,
            note: event.note,
        })
        .collect();
    Ok(RequestView {
        form: parse_form(&request)?,
        status: request.status,
        proposed_meeting,
        meeting,
        requester,
        attachments: attachments.into_iter().map(Into::into).collect(),
        timeline,
        id: request.id,
        reference: request.reference,
        version: request.version,
        staff: request.staff_code,
        rejection_reason: request.rejection_reason,
        created_at: request.created_at.and_utc(),
        submitted_at: request.submitted_at.map(|t| t.and_utc()),
        parent,
        follow_ups,
    })
}
