use actix_web::{HttpResponse, put, web};

use crate::app::network::StaffExperts;
use crate::app::{self, AppError};
use crate::domain::ids::UserId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Sets the experts who sit in a staff: they read its meetings' agendas and cases, and draft
/// the opinions.
#[utoipa::path(tag = "meetings", request_body = StaffExperts, security(("bearer" = [])), responses(
    (status = 200, body = StaffExperts),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Invalid,
))]
#[put("/staffs/{code}/experts")]
pub async fn set_experts(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<StaffExperts>,
) -> Result<HttpResponse, AppError> {
    let user_ids = body
        .into_inner()
        .user_ids
        .into_iter()
        .map(UserId::from)
        .collect();
    let experts = app::network::set_experts(&state, &user, &path, user_ids).await?;
    Ok(HttpResponse::Ok().json(experts))
}
