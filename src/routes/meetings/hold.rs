use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{MeetingView, load, next_meeting};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::opinion::{Participant, check_participants, quorum_met};
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::{ApiError, FieldError};
use crate::extract::Json;
use crate::startup::AppState;
use crate::workflow;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldBody {
    pub participants: Vec<Participant>,
    /// The scheduled requests that were discussed; the others are carried over.
    pub discussed: Vec<String>,
}

/// Records that the meeting took place: its attendance (and whether the staff's quorum of
/// specialties was met); the discussed requests become `discussed`, the others scheduled in it
/// are carried over to the staff's next meeting and their requesters told the new date.
/// Refused with 409 before the meeting's start.
#[utoipa::path(tag = "meetings", request_body = HeldBody, security(("bearer" = [])), responses(
    (status = 200, body = MeetingView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/meetings/{id}/held")]
pub async fn hold_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<HeldBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let body = body.into_inner();
    let id = path.into_inner();
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let meeting = db::meetings::lock(conn, &id)?.ok_or(ApiError::NotFound)?;
            if meeting.status != "planned" {
                return Err(ApiError::conflict(format!(
                    "The meeting is already {}.",
                    meeting.status
                )));
            }
            if meeting.starts_at > db::now() {
                return Err(ApiError::conflict("The meeting has not started yet."));
            }
            let sites: Vec<String> = db::network::sites(conn)?
                .into_iter()
                .map(|s| s.code)
                .collect();
            let mut errors =
                check_participants(&body.participants, |code| sites.iter().any(|s| s == code));
            let scheduled = db::requests::scheduled_in(conn, &meeting.id)?;
            for (i, request_id) in body.discussed.iter().enumerate() {
                if !scheduled.iter().any(|r| &r.id == request_id) {
                    errors.push(FieldError::new(
                        format!("discussed[{i}]"),
                        "is not scheduled in this meeting",
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let staff = db::network::staff(conn, &meeting.staff_code)?.ok_or(ApiError::NotFound)?;
            let quorum = quorum_met(&body.participants, staff.quorum_specialties);
            let attendance =
                serde_json::to_string(&body.participants).map_err(anyhow::Error::from)?;
            db::meetings::record_held(conn, &meeting.id, &attendance, quorum, db::now())?;
            let next = next_meeting(conn, &meeting.staff_code, meeting.starts_at, &meeting.id)?;
            for request in scheduled {
                if body.discussed.contains(&request.id) {
                    workflow::apply(
                        conn,
                        &user.context,
                        &request,
                        Transition::HoldMeeting,
                        Default::default(),
                        None,
                    )?;
                    continue;
                }
                let next = next.as_ref().ok_or_else(|| {
                    ApiError::conflict(
                        "The staff has no later meeting to carry the other requests over to.",
                    )
                })?;
                let changes = db::requests::RequestChanges {
                    meeting_id: Some(Some(next.id.clone())),
                    ..Default::default()
                };
                let request = workflow::apply(
                    conn,
                    &user.context,
                    &request,
                    Transition::Reschedule,
                    changes,
                    Some("carried over"),
                )?;
                let requester = workflow::requester_of(conn, &request)?;
                workflow::notify(
                    conn,
                    &public_url,
                    &request,
                    &requester,
                    EmailKind::RequestScheduled,
                    Some(&next.id),
                    serde_json::json!({"change": "carried_over"}),
                )?;
            }
            audit::record(
                conn,
                &user.context,
                "meeting.held",
                "meeting",
                Some(&meeting.id),
                Outcome::Allowed,
            )?;
            load(conn, &meeting.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
