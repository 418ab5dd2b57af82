use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::accounts::RegisterBody;
use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationAccepted {
    /// Always `pending_verification`.
    pub status: &'static str,
}

/// Registers a referring physician. Every well-formed registration gets the same 202: when the
/// e-mail or RPPS is already registered, nothing is created and the existing account's owner
/// is told instead (no account enumeration).
#[utoipa::path(tag = "accounts", request_body = RegisterBody, responses(
    (status = 202, body = RegistrationAccepted),
    crate::http::problem::answers::Invalid,
))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<RegisterBody>,
) -> Result<HttpResponse, AppError> {
    app::accounts::register(&state, context, body.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(RegistrationAccepted {
        status: "pending_verification",
    }))
}
