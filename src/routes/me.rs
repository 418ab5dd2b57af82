//! The signed-in user.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::current_user::EnrollingUser;
use crate::domain::account::{Language, Role};
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub roles: Vec<Role>,
    pub site_code: Option<String>,
    pub language: Language,
    pub mfa: MfaStatus,
}

/// The user's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatus {
    /// An authenticator app is enrolled and confirmed.
    pub enrolled: bool,
    /// The user's roles require signing in with it.
    pub required: bool,
    /// This session was opened with it.
    pub session_verified: bool,
}

/// The signed-in user, with the roles they hold now and the state of their second factor.
/// Open to a user who must still enrol one.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<HttpResponse, ApiError> {
    let required = user
        .roles
        .iter()
        .any(|role| state.settings.mfa_required_for(role.as_str()));
    let context = user.context.clone();
    let id = user.id.clone();
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &context,
                "user.read",
                "user",
                Some(&id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(Me {
        id: user.id,
        email: user.email,
        full_name: user.full_name,
        rpps: user.rpps,
        specialty: user.specialty,
        roles: user.roles,
        site_code: user.site_code,
        language: user.language,
        mfa: MfaStatus {
            enrolled: user.second_factor_enrolled,
            required,
            session_verified: user.session_has_second_factor,
        },
    }))
}
