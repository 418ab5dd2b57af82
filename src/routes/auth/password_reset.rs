use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetBody {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetAccepted {
    /// Always `accepted`, whether the address exists or not.
    pub status: &'static str,
}

/// Asks for a password-reset link. The answer is the same whether the address exists or not.
#[utoipa::path(tag = "accounts", request_body = PasswordResetBody, responses(
    (status = 202, body = ResetAccepted),
))]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<PasswordResetBody>,
) -> Result<HttpResponse, AppError> {
    app::accounts::request_password_reset(&state, context, &body.into_inner().email).await?;
    Ok(HttpResponse::Accepted().json(ResetAccepted { status: "accepted" }))
}
