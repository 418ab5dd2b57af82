use actix_web::{HttpResponse, post, web};

use super::refresh::RefreshBody;
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Ends the session the refresh token belongs to.
#[utoipa::path(tag = "accounts", request_body = RefreshBody, security(("bearer" = [])), responses(
    (status = 204, description = "The session is revoked."),
    crate::http::problem::answers::Unauthorized,
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    app::sessions::logout(&state, &user, &body.into_inner().refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
