use actix_web::{HttpResponse, post, web};

use super::CodeBody;
use crate::app::second_factor::RecoveryCodes;
use crate::app::{self, AppError};
use crate::http::current_user::EnrollingUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Confirms the enrolment with a code from the app: the second factor is on from now, and the
/// answer holds ten recovery codes (stored hashed, never shown again). Sign in again to open a
/// two-factor session.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeBody, responses(
    (status = 200, body = RecoveryCodes),
    crate::http::problem::answers::Unauthorized,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
    crate::http::problem::answers::TooManyRequests,
))]
#[post("/me/mfa/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
    body: Json<CodeBody>,
) -> Result<HttpResponse, AppError> {
    let codes = app::second_factor::confirm(&state, &user, body.into_inner().code).await?;
    Ok(HttpResponse::Ok().json(codes))
}
