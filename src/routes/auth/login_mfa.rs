use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::sessions::TokenPair;
use crate::app::{self, AppError};
use crate::http::extract::Json;
use crate::http::request_context::RequestContext;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginMfaBody {
    /// From the answer of `POST /auth/login`.
    pub mfa_token: String,
    /// The 6-digit code of the authenticator app, or an unused recovery code.
    pub code: String,
}

/// The second step of a sign-in: the challenge and a TOTP or recovery code give the token
/// pair (`amr` = `["pwd", "otp"]`). The challenge is single-use; wrong codes count against the
/// account's throttle, and a challenge dies after five of them.
#[utoipa::path(tag = "accounts", request_body = LoginMfaBody, responses(
    (status = 200, body = TokenPair),
    crate::http::problem::answers::Unauthorized,
    crate::http::problem::answers::TooManyRequests,
))]
#[post("/auth/login/mfa")]
pub async fn login_mfa(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<LoginMfaBody>,
) -> Result<HttpResponse, AppError> {
    let LoginMfaBody { mfa_token, code } = body.into_inner();
    let pair = app::sessions::login_second_factor(&state, context, &mfa_token, code).await?;
    Ok(HttpResponse::Ok().json(pair))
}
