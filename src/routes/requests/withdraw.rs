use actix_web::{HttpResponse, post, web};

use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// Withdraws a request before its discussion (from draft, submitted, needs_info or scheduled).
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
))]
#[post("/requests/{id}/withdraw")]
pub async fn withdraw_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = app::requests::withdraw(&state, &user, &RequestId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view))
}
