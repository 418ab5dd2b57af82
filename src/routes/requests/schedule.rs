use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{RequestView, find_visible, view};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;
use crate::workflow;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// Any planned meeting, of any staff (a reroute when it is not the request's staff).
    pub meeting_id: String,
    /// Only for an urgent request: place it even if the meeting is full.
    #[serde(default)]
    pub allow_over_capacity: bool,
}

/// Schedules a submitted request into a planned meeting, or moves a scheduled one. Capacity is
/// a hard limit for routine requests; an urgent one may exceed it with `allow_over_capacity`.
/// Of two coordinators taking the last place at once, exactly one succeeds.
#[utoipa::path(tag = "triage", request_body = ScheduleBody, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json", description = "Not schedulable now, or the meeting is full"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/schedule")]
pub async fn schedule_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let (request, _) = find_visible(&state, &user, &path, "request.schedule").await?;
    let body = body.into_inner();
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let meeting = db::meetings::lock(conn, &body.meeting_id)?
                .ok_or_else(|| ApiError::invalid("meeting_id", "is not a meeting"))?;
            if meeting.status != "planned" {
                return Err(ApiError::Conflict {
                    detail: format!("The meeting is {}.", meeting.status),
                    current_status: None,
                });
            }
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            if request.meeting_id.as_deref() == Some(meeting.id.as_str())
                && request.status == "scheduled"
            {
                return Err(ApiError::conflict(
                    "The request is already scheduled in this meeting.",
                ));
            }
            let booked = db::meetings::booked(conn, &meeting.id)?;
            let may_exceed = body.allow_over_capacity && request.urgency == "urgent";
            if booked >= meeting.capacity && !may_exceed {
                return Err(ApiError::Conflict {
                    detail: format!(
                        "The meeting is full ({booked} of {} places).",
                        meeting.capacity
                    ),
                    current_status: Some(request.status.clone()),
                });
            }
            let (transition, change) = if request.status == "scheduled" {
                (Transition::Reschedule, "moved")
            } else {
                (Transition::Schedule, "scheduled")
            };
            let changes = db::requests::RequestChanges {
                meeting_id: Some(Some(meeting.id.clone())),
                staff_code: Some(Some(meeting.staff_code.clone())),
                proposed_meeting_id: Some(None),
                ..Default::default()
            };
            let request = workflow::apply(
                conn,
                &user.context,
                &request,
                transition,
                changes,
                Some(change),
            )?;
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::RequestScheduled,
                Some(&meeting.id),
                serde_json::json!({"change": change}),
            )?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
