use actix_web::{HttpResponse, post, web};

use crate::app::meetings::{MeetingView, NewMeetingBody};
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Adds an extraordinary meeting to a staff (for urgent cases).
#[utoipa::path(tag = "meetings", request_body = NewMeetingBody, security(("bearer" = [])), responses(
    (status = 201, body = MeetingView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Invalid,
))]
#[post("/staffs/{code}/meetings")]
pub async fn create_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<NewMeetingBody>,
) -> Result<HttpResponse, AppError> {
    let view = app::meetings::create(&state, &user, &path, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(view))
}
