use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetConfirmBody {
    pub token: String,
    pub password: String,
}

/// Sets a new password with the e-mailed single-use token; every session of the user ends.
#[utoipa::path(tag = "accounts", request_body = PasswordResetConfirmBody, responses(
    (status = 204, description = "The password is changed and every session revoked."),
    crate::http::problem::answers::BadRequest,
    crate::http::problem::answers::Invalid,
))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<PasswordResetConfirmBody>,
) -> Result<HttpResponse, AppError> {
    let PasswordResetConfirmBody { token, password } = body.into_inner();
    app::accounts::reset_password(&state, context, &token, password).await?;
    Ok(HttpResponse::NoContent().finish())
}
