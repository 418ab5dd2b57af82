use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{TokenPair, issue_session};
use crate::audit::{self, Outcome};
use crate::auth::second_factor::{self, Accept};
use crate::auth::{Amr, hash_token};
use crate::db;
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

/// Wrong codes a challenge survives; the next one needs the password again.
const MAX_FAILURES_PER_CHALLENGE: i64 = 5;

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
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login/mfa")]
pub async fn login_mfa(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<LoginMfaBody>,
) -> Result<HttpResponse, ApiError> {
    let LoginMfaBody { mfa_token, code } = body.into_inner();
    let token_hash = hash_token(mfa_token.trim());
    let lookup = token_hash.clone();
    let (user, live) = state
        .db
        .run(move |conn| {
            let Some((user_id, used, failures)) =
                db::mfa::find_challenge(conn, &lookup, db::now())?
            else {
                return Ok(None);
            };
            let live = !used && failures < MAX_FAILURES_PER_CHALLENGE;
            Ok(db::users::find_by_id(conn, &user_id)?.map(|user| (user, live)))
        })
        .await?
        .filter(|(user, _)| user.status == "active")
        .ok_or(ApiError::Unauthorized)?;
    // The account's throttle first: a blocked account learns nothing more from its codes.
    state.throttle.allow(&user.email, context.client_key())?;
    if !live {
        return Err(ApiError::Unauthorized);
    }
    let app = state.clone();
    let account = user.email.clone();
    let audit_context = context.clone().with_actor(&user.id);
    let pair = state
        .db
        .write(move |conn| {
            let good = second_factor::verify_and_spend(
                conn,
                &app.data_key,
                &user,
                &code,
                Accept::TotpOrRecoveryCode,
            )?;
            if !good || !db::mfa::consume_challenge(conn, &token_hash, db::now())? {
                return Ok(None);
            }
            let pair = issue_session(conn, &app, &user.id, None, &Amr::password_and_otp())?;
            audit::record(
                conn,
                &audit_context,
                "auth.login_mfa",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            Ok(Some(pair))
        })
        .await?;
    match pair {
        Some(pair) => {
            state.throttle.record_success(&account);
            Ok(HttpResponse::Ok().json(pair))
        }
        None => {
            state
                .throttle
                .record_failure(&account, context.client_key());
            let hash = hash_token(mfa_token.trim());
            state
                .db
                .write(move |conn| {
                    db::mfa::record_challenge_failure(conn, &hash)?;
                    audit::record(
                        conn,
                        &context,
                        "auth.login_mfa",
                        "user",
                        None,
                        Outcome::Denied,
                    )
                })
                .await?;
            Err(ApiError::Unauthorized)
        }
    }
}
