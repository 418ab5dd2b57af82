use actix_web::{HttpResponse, patch, web};

use crate::app::meetings::{MeetingView, UpdateMeetingBody};
use crate::app::{self, AppError};
use crate::domain::ids::MeetingId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Cancels or moves one planned meeting, or changes its capacity or link. Requesters whose
/// request is scheduled in it are told the new date.
#[utoipa::path(tag = "meetings", request_body = UpdateMeetingBody, security(("bearer" = [])), responses(
    (status = 200, body = MeetingView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[patch("/meetings/{id}")]
pub async fn update_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<UpdateMeetingBody>,
) -> Result<HttpResponse, AppError> {
    let id = MeetingId::from(path.into_inner());
    let view = app::meetings::update(&state, &user, &id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
