use actix_web::{HttpResponse, post, web};

use super::refresh::RefreshBody;
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::auth::hash_token;
use crate::db;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;

/// Ends the session the refresh token belongs to.
#[utoipa::path(tag = "accounts", request_body = RefreshBody, security(("bearer" = [])), responses(
    (status = 204, description = "The session is revoked."),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let token_hash = hash_token(body.into_inner().refresh_token.trim());
    state
        .db
        .write(move |conn| {
            db::tokens::revoke_session_of(conn, &token_hash, &user.id, db::now())?;
            audit::record(
                conn,
                &user.context,
                "auth.logout",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
