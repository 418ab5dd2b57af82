use actix_web::{HttpResponse, post, web};

use crate::app::second_factor::TotpEnrolment;
use crate::app::{self, AppError};
use crate::http::current_user::EnrollingUser;
use crate::state::AppState;

/// Starts enrolling an authenticator app: answers a new secret. Nothing changes for sign-in
/// until `POST /me/mfa/totp/confirm` with a code from the app. Open to a user whose role
/// requires a second factor they do not have yet.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses(
    (status = 201, body = TotpEnrolment),
    crate::http::problem::answers::Unauthorized,
    crate::http::problem::answers::Conflict,
))]
#[post("/me/mfa/totp")]
pub async fn enrol_totp(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Created().json(app::second_factor::enrol(&state, &user).await?))
}
