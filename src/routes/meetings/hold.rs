use actix_web::{HttpResponse, post, web};

use crate::app::meetings::{HeldBody, MeetingView};
use crate::app::{self, AppError};
use crate::domain::ids::MeetingId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Records that the meeting took place: its attendance (and whether the staff's quorum of
/// specialties was met); the discussed requests become `discussed`, the others scheduled in it
/// are carried over to the staff's next meeting and their requesters told the new date.
/// Refused with 409 before the meeting's start.
#[utoipa::path(tag = "meetings", request_body = HeldBody, security(("bearer" = [])), responses(
    (status = 200, body = MeetingView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[post("/meetings/{id}/held")]
pub async fn hold_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<HeldBody>,
) -> Result<HttpResponse, AppError> {
    let id = MeetingId::from(path.into_inner());
    let view = app::meetings::hold(&state, &user, &id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
