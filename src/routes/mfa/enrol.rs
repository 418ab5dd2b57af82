use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::current_user::EnrollingUser;
use crate::auth::totp;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The shared secret, base32, for apps that cannot scan the URI.
    pub secret: String,
    /// `otpauth://totp/...`, to show as a QR code.
    pub otpauth_uri: String,
}

/// Starts enrolling an authenticator app: answers a new secret. Nothing changes for sign-in
/// until `POST /me/mfa/totp/confirm` with a code from the app. Open to a user whose role
/// requires a second factor they do not have yet.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses(
    (status = 201, body = TotpEnrolment),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/me/mfa/totp")]
pub async fn enrol_totp(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<HttpResponse, ApiError> {
    if user.second_factor_enrolled {
        return Err(ApiError::conflict(
            "A second factor is already enabled; remove it before enrolling another.",
        ));
    }
    let secret = totp::new_secret();
    let bytes = totp::parse_secret(&secret)
        .ok_or_else(|| anyhow::anyhow!("a generated TOTP secret does not parse"))?;
    let otpauth_uri = totp::otpauth_uri(&bytes, &state.settings.auth.issuer, &user.email);
    let sealed = state.data_key.seal_text(&secret);
    state
        .db
        .write(move |conn| {
            db::mfa::set_pending_totp(conn, &user.id, &sealed)?;
            audit::record(
                conn,
                &user.context,
                "mfa.enrol",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(TotpEnrolment {
        secret,
        otpauth_uri,
    }))
}
