use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::sessions::LoginAnswer;
use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Signs in with e-mail and password. Wrong credentials and unverified or disabled accounts get
/// the same 401; repeated failures get 429 with `Retry-After`. An account with a second factor
/// gets `{"mfa_required": true, "mfa_token": ...}` instead of tokens.
#[utoipa::path(tag = "accounts", request_body = LoginBody, responses(
    (status = 200, body = LoginAnswer),
    crate::http::problem::answers::Unauthorized,
    crate::http::problem::answers::TooManyRequests,
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<LoginBody>,
) -> Result<HttpResponse, AppError> {
    let LoginBody { email, password } = body.into_inner();
    let answer = app::sessions::login(&state, context, &email, password).await?;
    Ok(HttpResponse::Ok().json(answer))
}
