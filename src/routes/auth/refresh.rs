use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{TokenPair, issue_session};
use crate::audit::{self, Outcome};
use crate::auth::Amr;
use crate::auth::hash_token;
use crate::db;
use crate::db::tokens::RefreshSpend;
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair. The old token stops working; presenting a spent
/// token again revokes its whole family (a stolen token is detected on its first reuse).
#[utoipa::path(tag = "accounts", request_body = RefreshBody, responses(
    (status = 200, body = TokenPair),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let token_hash = hash_token(body.into_inner().refresh_token.trim());
    let app = state.clone();
    let pair = state
        .db
        .write(move |conn| {
            let now = db::now();
            match db::tokens::spend_refresh_token(conn, &token_hash, now)? {
                RefreshSpend::Spent {
                    user_id,
                    family_id,
                    amr,
                } => {
                    let active = db::users::find_by_id(conn, &user_id)?
                        .is_some_and(|u| u.status == "active");
                    if !active {
                        db::tokens::revoke_family(conn, &family_id, now)?;
                        return Ok(None);
                    }
                    let pair =
                        issue_session(conn, &app, &user_id, Some(&family_id), &Amr::parse(&amr))?;
                    audit::record(
                        conn,
                        &context.with_actor(&user_id),
                        "auth.refresh",
                        "user",
                        Some(&user_id),
                        Outcome::Allowed,
                    )?;
                    Ok(Some(pair))
                }
                RefreshSpend::Reused { family_id } => {
                    db::tokens::revoke_family(conn, &family_id, now)?;
                    audit::record(
                        conn,
                        &context,
                        "auth.refresh_reuse",
                        "session",
                        Some(&family_id),
                        Outcome::Denied,
                    )?;
                    Ok(None)
                }
                RefreshSpend::Invalid => Ok(None),
            }
        })
        .await?;
    pair.map(|pair: TokenPair| HttpResponse::Ok().json(pair))
        .ok_or(ApiError::Unauthorized)
}
