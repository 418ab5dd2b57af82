use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{TokenPair, issue_session};
use crate::audit::{self, Outcome};
use crate::auth::{Amr, new_opaque_token, password_hash};
use crate::db::{self, DbConnection};
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

/// The second step of a sign-in: what `POST /auth/login/mfa` takes.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaChallenge {
    /// Always true.
    pub mfa_required: bool,
    /// Short-lived and single-use; good for nothing but `POST /auth/login/mfa`.
    pub mfa_token: String,
    /// Lifetime of `mfa_token`, in seconds.
    pub expires_in: i64,
}

/// The answer to a password: the token pair, or, for an account with a second factor, the
/// challenge to answer with a code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Tokens(TokenPair),
    Mfa(MfaChallenge),
}

/// Signs in with e-mail and password. Wrong credentials and unverified or disabled accounts get
/// the same 401; repeated failures get 429 with `Retry-After`. An account with a second factor
/// gets `{"mfa_required": true, "mfa_token": ...}` instead of tokens.
#[utoipa::path(tag = "accounts", request_body = LoginBody, responses(
    (status = 200, body = LoginAnswer),
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
    state.throttle.allow(&account, context.client_key())?;
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
            let answer = state
                .db
                .write(move |conn| {
                    let answer = if user.has_second_factor() {
                        LoginAnswer::Mfa(new_challenge(conn, &app, &user.id)?)
                    } else {
                        LoginAnswer::Tokens(issue_session(
                            conn,
                            &app,
                            &user.id,
                            None,
                            &Amr::password(),
                        )?)
                    };
                    audit::record(
                        conn,
                        &context.with_actor(&user.id),
                        "auth.login",
                        "user",
                        Some(&user.id),
                        Outcome::Allowed,
                    )?;
                    Ok(answer)
                })
                .await?;
            Ok(HttpResponse::Ok().json(answer))
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

/// A single-use challenge for the second step of the sign-in.
fn new_challenge(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
) -> Result<MfaChallenge, ApiError> {
    let (token, token_hash) = new_opaque_token();
    let now = db::now();
    let lifetime = state.settings.auth.mfa_token_minutes.clamp(1, 15) * 60;
    let expires_at = now + chrono::Duration::seconds(lifetime);
    db::mfa::insert_challenge(conn, &token_hash, user_id, now, expires_at)?;
    Ok(MfaChallenge {
        mfa_required: true,
        mfa_token: token,
        expires_in: lifetime,
    })
}
