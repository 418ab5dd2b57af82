use actix_web::{HttpResponse, delete, web};

use super::CodeBody;
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::auth::second_factor::{self, Accept};
use crate::db;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;

/// Removes the second factor, proven by a fresh code (or a recovery code). Every session ends:
/// the next sign-in is by password alone, and a role that requires a second factor can then
/// only enrol again.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeBody, responses(
    (status = 204, description = "Removed; every session ended"),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/me/mfa/totp")]
pub async fn remove_totp(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Json<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let code = body.into_inner().code;
    state
        .throttle
        .allow(&user.email, user.context.client_key())?;
    let app = state.clone();
    let user_id = user.id.clone();
    let context = user.context.clone();
    let removed = state
        .db
        .write(move |conn| {
            let account = db::users::find_by_id(conn, &user_id)?.ok_or(ApiError::Unauthorized)?;
            if !account.has_second_factor() {
                return Err(ApiError::conflict("No second factor is enabled."));
            }
            if !second_factor::verify_and_spend(
                conn,
                &app.data_key,
                &account,
                &code,
                Accept::TotpOrRecoveryCode,
            )? {
                return Ok(false);
            }
            db::mfa::disable_totp(conn, &account.id)?;
            db::tokens::revoke_all_for_user(conn, &account.id, db::now())?;
            audit::record(
                conn,
                &context,
                "mfa.remove",
                "user",
                Some(&account.id),
                Outcome::Allowed,
            )?;
            Ok(true)
        })
        .await?;
    if removed {
        state.throttle.record_success(&user.email);
        Ok(HttpResponse::NoContent().finish())
    } else {
        state
            .throttle
            .record_failure(&user.email, user.context.client_key());
        Err(ApiError::invalid("code", "is not a valid code"))
    }
}
