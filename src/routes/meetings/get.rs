use actix_web::{HttpResponse, get, web};

use crate::app::meetings::MeetingWithAgenda;
use crate::app::{self, AppError};
use crate::domain::ids::MeetingId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// The meeting and its agenda, for coordinators and the experts of its staff.
#[utoipa::path(tag = "meetings", security(("bearer" = [])), responses(
    (status = 200, body = MeetingWithAgenda),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
))]
#[get("/meetings/{id}")]
pub async fn get_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = app::meetings::agenda(&state, &user, &MeetingId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view))
}
