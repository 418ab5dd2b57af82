use actix_web::{HttpResponse, delete, web};

use super::CodeBody;
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Removes the second factor, proven by a fresh code (or a recovery code). Every session ends:
/// the next sign-in is by password alone, and a role that requires a second factor can then
/// only enrol again.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeBody, responses(
    (status = 204, description = "Removed; every session ended"),
    crate::http::problem::answers::Unauthorized,
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
    crate::http::problem::answers::TooManyRequests,
))]
#[delete("/me/mfa/totp")]
pub async fn remove_totp(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Json<CodeBody>,
) -> Result<HttpResponse, AppError> {
    app::second_factor::remove(&state, &user, body.into_inner().code).await?;
    Ok(HttpResponse::NoContent().finish())
}
