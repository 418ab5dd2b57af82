use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::hash_token;
use crate::db;
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenBody {
    /// The token from the e-mailed link.
    pub token: String,
}

/// Confirms an e-mail address with the single-use token sent at registration.
#[utoipa::path(tag = "accounts", request_body = TokenBody, responses(
    (status = 204, description = "The account is active."),
    (status = 400, body = crate::error::Problem, content_type = "application/problem+json",
        description = "Unknown, used or expired token."),
))]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    let token_hash = hash_token(body.into_inner().token.trim());
    state
        .db
        .write(move |conn| {
            let now = db::now();
            let user_id = db::tokens::consume_email_token(conn, &token_hash, "verify_email", now)?
                .ok_or_else(|| {
                    ApiError::BadRequest("This link is unknown, already used or expired.".into())
                })?;
            db::users::verify_email(conn, &user_id, now)?;
            audit::record(
                conn,
                &context.with_actor(&user_id),
                "user.verify_email",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
