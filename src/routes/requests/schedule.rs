use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::{MeetingId, RequestId};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

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
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    (status = 409, body = crate::http::problem::Problem, content_type = "application/problem+json", description = "Not schedulable now, or the meeting is full"),
    crate::http::problem::answers::Invalid,
))]
#[post("/requests/{id}/schedule")]
pub async fn schedule_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<ScheduleBody>,
) -> Result<HttpResponse, AppError> {
    let ScheduleBody {
        meeting_id,
        allow_over_capacity,
    } = body.into_inner();
    let meeting_id = MeetingId::from(meeting_id);
    let view = app::triage::schedule(
        &state,
        &user,
        &RequestId::from(path.into_inner()),
        meeting_id,
        allow_over_capacity,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
