use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::CodeBody;
use crate::audit::{self, Outcome};
use crate::auth::current_user::EnrollingUser;
use crate::auth::second_factor::{self, Accept};
use crate::auth::{hash_token, totp};
use crate::db;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown once: each signs in once in place of the app.
    pub recovery_codes: Vec<String>,
}

/// Confirms the enrolment with a code from the app: the second factor is on from now, and the
/// answer holds ten recovery codes (stored hashed, never shown again). Sign in again to open a
/// two-factor session.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeBody, responses(
    (status = 200, body = RecoveryCodes),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/me/mfa/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
    body: Json<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let code = body.into_inner().code;
    state
        .throttle
        .allow(&user.email, user.context.client_key())?;
    let app = state.clone();
    let user_id = user.id.clone();
    let context = user.context.clone();
    let codes = state
        .db
        .write(move |conn| {
            let account = db::users::find_by_id(conn, &user_id)?.ok_or(ApiError::Unauthorized)?;
            if account.has_second_factor() {
                return Err(ApiError::conflict("The second factor is already enabled."));
            }
            let Some(sealed) = account.totp_secret.clone() else {
                return Err(ApiError::conflict(
                    "No enrolment in progress: start with POST /api/v1/me/mfa/totp.",
                ));
            };
            if !second_factor::verify_and_spend(
                conn,
                &app.data_key,
                &account,
                &code,
                Accept::TotpOnly,
            )? {
                return Ok(None);
            }
            let now = db::now();
            db::mfa::enable_totp(conn, &account.id, &sealed, now)?;
            let codes = totp::new_recovery_codes();
            let hashes: Vec<String> = codes
                .iter()
                .map(|code| hash_token(&totp::normalise_recovery_code(code)))
                .collect();
            db::mfa::replace_recovery_codes(conn, &account.id, &hashes, now)?;
            audit::record(
                conn,
                &context,
                "mfa.confirm",
                "user",
                Some(&account.id),
                Outcome::Allowed,
            )?;
            Ok(Some(codes))
        })
        .await?;
    match codes {
        Some(recovery_codes) => {
            state.throttle.record_success(&user.email);
            Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes }))
        }
        None => {
            state
                .throttle
                .record_failure(&user.email, user.context.client_key());
            Err(ApiError::invalid(
                "code",
                "is not the current code of your authenticator app",
            ))
        }
    }
}
