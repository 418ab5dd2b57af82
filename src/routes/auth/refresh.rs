use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::sessions::TokenPair;
use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair. The old token stops working; presenting a spent
/// token again revokes its whole family (a stolen token is detected on its first reuse).
#[utoipa::path(tag = "accounts", request_body = RefreshBody, responses(
    (status = 200, body = TokenPair),
    crate::http::problem::answers::Unauthorized,
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, AppError> {
    let pair = app::sessions::refresh(&state, context, &body.into_inner().refresh_token).await?;
    Ok(HttpResponse::Ok().json(pair))
}
