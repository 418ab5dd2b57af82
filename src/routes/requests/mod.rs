//! Opinion requests: the patient's form, its life cycle, triage, messages, attachments and
//! opinions. One file per endpoint.

pub mod attachment_download;
pub mod attachment_upload;
pub mod create;
pub mod deliver_opinion;
pub mod get;
pub mod get_opinion;
pub mod list;
pub mod list_messages;
pub mod post_message;
pub mod put_opinion;
pub mod reject;
pub mod request_info;
pub mod schedule;
pub mod submit;
pub mod update;
pub mod withdraw;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db::requests::RequestRow;
use crate::db::{self, DbConnection};
use crate::domain::request_form::RequestForm;
use crate::domain::request_status::RequestStatus;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::workflow::{self, Access};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create::create_request)
        .service(list::list_requests)
        .service(get::get_request)
        .service(update::update_request)
        .service(submit::submit_request)
        .service(withdraw::withdraw_request)
        .service(schedule::schedule_request)
        .service(request_info::request_info)
        .service(reject::reject_request)
        .service(list_messages::list_messages)
        .service(post_message::post_message)
        .service(attachment_upload::upload_attachment)
        .service(attachment_download::download_attachment)
        .service(put_opinion::put_opinion)
        .service(deliver_opinion::deliver_opinion)
        .service(get_opinion::get_opinion);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingRef {
    pub id: String,
    pub staff: String,
    pub starts_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
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
}

fn meeting_ref(
    conn: &mut DbConnection,
    id: &Option<String>,
) -> Result<Option<MeetingRef>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    Ok(db::meetings::find(conn, id)?.map(|meeting| MeetingRef {
        id: meeting.id,
        staff: meeting.staff_code,
        starts_at: meeting.starts_at.and_utc(),
    }))
}

pub fn parse_form(request: &RequestRow) -> Result<RequestForm, ApiError> {
    serde_json::from_str(&request.form)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored form: {e}")))
}

pub fn status_of(request: &RequestRow) -> Result<RequestStatus, ApiError> {
    RequestStatus::parse(&request.status)
        .ok_or_else(|| anyhow::anyhow!("unknown stored status").into())
}

pub fn view(conn: &mut DbConnection, request: RequestRow) -> Result<RequestView, ApiError> {
    load_view(conn, request, None)
}

/// [`view`] for a caller, who is most often its requester (then not read again).
pub fn view_by(
    conn: &mut DbConnection,
    request: RequestRow,
    caller: &CurrentUser,
) -> Result<RequestView, ApiError> {
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
) -> Result<RequestView, ApiError> {
    let requester = match requester {
        Some(known) => known,
        None => db::users::find_by_id(conn, &request.requester_id)?
            .map(|user| PersonRef {
                id: user.id,
                full_name: user.full_name,
            })
            .ok_or(ApiError::NotFound)?,
    };
    let events = db::requests::events(conn, &request.id)?;
    let attachments = db::attachments::list(conn, &request.id)?;
    let proposed_meeting = meeting_ref(conn, &request.proposed_meeting_id)?;
    let meeting = meeting_ref(conn, &request.meeting_id)?;
    assemble(
        request,
        requester,
        events,
        attachments,
        proposed_meeting,
        meeting,
    )
}

/// The view of a request from its parts (read by [`view`], or just written).
pub fn assemble(
    request: RequestRow,
    requester: PersonRef,
    events: Vec<db::requests::EventRow>,
    attachments: Vec<db::attachments::AttachmentRow>,
    proposed_meeting: Option<MeetingRef>,
    meeting: Option<MeetingRef>,
) -> Result<RequestView, ApiError> {
    let timeline = events
        .into_iter()
        .map(|event| TimelineEntry {
            at: event.at.and_utc(),
            from: event.from_status.as_deref().and_then(RequestStatus::parse),
            to: RequestStatus::parse(&event.to_status).unwrap_or(RequestStatus::Draft),
            by: event.actor_id,
            note: event.note,
        })
        .collect();
    Ok(RequestView {
        form: parse_form(&request)?,
        status: status_of(&request)?,
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
    })
}

/// The request if the caller may see it. Anyone else gets 404, as for a request that does not
/// exist, and the refusal is audited (outside any transaction, so that it stays recorded).
pub async fn find_visible(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: &'static str,
) -> Result<(RequestRow, Access), ApiError> {
    let (id, caller) = (id.to_owned(), user.clone());
    state
        .db
        .run(move |conn| visible(conn, &caller, &id, action))
        .await
}

/// [`find_visible`] on a connection already checked out; not to be called in a transaction
/// that a refusal would roll back.
pub fn visible(
    conn: &mut DbConnection,
    user: &CurrentUser,
    id: &str,
    action: &str,
) -> Result<(RequestRow, Access), ApiError> {
    let request = db::requests::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let access = workflow::access(conn, user, &request)?;
    if access.can_see() {
        return Ok((request, access));
    }
    audit::record(
        conn,
        &user.context,
        action,
        "request",
        Some(&request.id),
        Outcome::Denied,
    )?;
    Err(ApiError::NotFound)
}

/// The version a client expects: `If-Match` (412 when stale) or a `version` in the body (409).
#[derive(Debug, Clone, Copy)]
pub enum ExpectedVersion {
    IfMatch(i64),
    Body(i64),
}

pub fn if_match(req: &actix_web::HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid("If-Match", "must be the request's version"))
}

/// Checks an expected version against the request read.
pub fn check_version(
    request: &RequestRow,
    expected: Option<ExpectedVersion>,
) -> Result<(), ApiError> {
    match expected {
        Some(ExpectedVersion::IfMatch(v)) if v != request.version => {
            Err(ApiError::PreconditionFailed)
        }
        Some(ExpectedVersion::Body(v)) if v != request.version => Err(workflow::stale(request)),
        _ => Ok(()),
    }
}
