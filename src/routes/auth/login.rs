use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{TokenPair, issue_session};
use crate::audit::{self, Outcome};
use crate::auth::password_hash;
use crate::db;
use crate::domain::email_address::EmailAddress;
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// Signs in with e-mail and password. Wrong credentials and unverified or disabled accounts get
/// the same 401; repeated failures get 429 with `Retry-After`.
#[utoipa::path(tag = "accounts", request_body = LoginBody, responses(
    (status = 200, body = TokenPair),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let LoginBody { email, password } = body.into_inner();
    let account = EmailAddress::parse(&email)
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    state
        .throttle
        .check(&account, context.client_key())
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let lookup = account.clone();
    let user = state
        .db
        .run(move |conn| Ok(db::users::find_by_email(conn, &lookup)?))
        .await?;
    // An unknown e-mail is verified against a dummy hash: same cost as a wrong password.
    let password_ok =
        password_hash::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let user = user.filter(|user| password_ok && user.status == "active");
    let app = state.clone();
    match user {
        Some(user) => {
            state.throttle.record_success(&account);
            let pair = state
                .db
                .write(move |conn| {
                    let pair = issue_session(conn, &app, &user.id, None)?;
                    audit::record(
                        conn,
                        &context.with_actor(&user.id),
                        "auth.login",
                        "user",
                        Some(&user.id),
                        Outcome::Allowed,
                    )?;
                    Ok(pair)
                })
                .await?;
            Ok(HttpResponse::Ok().json(pair))
        }
        None => {
            state
                .throttle
                .record_failure(&account, context.client_key());
            state
                .db
                .write(move |conn| {
                    audit::record(conn, &context, "auth.login", "user", None, Outcome::Denied)
                })
                .await?;
            Err(ApiError::Unauthorized)
        }
    }
}
