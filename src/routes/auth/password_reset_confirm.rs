use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::{hash_token, password_hash};
use crate::db;
use crate::domain::password;
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetConfirmBody {
    pub token: String,
    pub password: String,
}

fn invalid_token() -> ApiError {
    ApiError::BadRequest("This link is unknown, already used or expired.".into())
}

/// Sets a new password with the e-mailed single-use token; every session of the user ends.
#[utoipa::path(tag = "accounts", request_body = PasswordResetConfirmBody, responses(
    (status = 204, description = "The password is changed and every session revoked."),
    (status = 400, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<PasswordResetConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let token_hash = hash_token(body.token.trim());
    let lookup = token_hash.clone();
    let user = state
        .db
        .run(move |conn| {
            let user_id = db::tokens::peek_email_token(conn, &lookup, "password_reset", db::now())?
                .ok_or_else(invalid_token)?;
            db::users::find_by_id(conn, &user_id)?.ok_or_else(invalid_token)
        })
        .await?;
    let inputs = [
        user.email.as_str(),
        user.full_name.as_str(),
        user.rpps.as_str(),
    ];
    password::check_strength(&body.password, &inputs)
        .map_err(|message| ApiError::invalid("password", message))?;
    let hash = password_hash::hash(body.password).await?;
    state
        .db
        .write(move |conn| {
            let now = db::now();
            let user_id =
                db::tokens::consume_email_token(conn, &token_hash, "password_reset", now)?
                    .ok_or_else(invalid_token)?;
            db::users::set_password_hash(conn, &user_id, &hash)?;
            db::tokens::revoke_all_for_user(conn, &user_id, now)?;
            db::tokens::expire_email_tokens(conn, &user_id, "password_reset", now)?;
            // Following the e-mailed link proves the address: a pending account becomes active.
            if user.status == "pending" {
                db::users::verify_email(conn, &user_id, now)?;
            }
            audit::record(
                conn,
                &context.with_actor(&user_id),
                "user.password_reset",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
