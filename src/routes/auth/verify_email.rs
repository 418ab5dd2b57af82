use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenBody {
    /// The token from the e-mailed link.
    pub token: String,
}

/// Confirms an e-mail address with the single-use token sent at registration.
#[utoipa::path(tag = "accounts", request_body = TokenBody, responses(
    (status = 204, description = "The account is active."),
    (status = 400, body = crate::http::problem::Problem, content_type = "application/problem+json",
        description = "Unknown, used or expired token."),
))]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<TokenBody>,
) -> Result<HttpResponse, AppError> {
    app::accounts::verify_email(&state, context, &body.into_inner().token).await?;
    Ok(HttpResponse::NoContent().finish())
}
