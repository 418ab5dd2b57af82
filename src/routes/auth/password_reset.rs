use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{may_email, new_reset_link};
use crate::audit::{self, Outcome};
use crate::db;
use crate::domain::account::Language;
use crate::domain::email_address::EmailAddress;
use crate::email::{self, EmailKind};
use crate::error::ApiError;
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

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
) -> Result<HttpResponse, ApiError> {
    if let Ok(address) = EmailAddress::parse(&body.into_inner().email) {
        let app = state.clone();
        state
            .db
            .write(move |conn| {
                // Both paths write an audit row, so they commit the same way and take the
                // same time.
                let user = db::users::find_by_email(conn, address.as_str())?;
                audit::record(
                    conn,
                    &context,
                    "user.password_reset_requested",
                    "user",
                    user.as_ref().map(|user| user.id.as_str()),
                    if user.is_some() {
                        Outcome::Allowed
                    } else {
                        Outcome::Denied
                    },
                )?;
                let Some(user) = user else {
                    return Ok(());
                };
                if user.status == "disabled" || !may_email(conn, &app, &user.email)? {
                    return Ok(());
                }
                db::tokens::expire_email_tokens(conn, &user.id, "password_reset", db::now())?;
                let link = new_reset_link(conn, &app, &user.id)?;
                email::queue(
                    conn,
                    EmailKind::PasswordReset,
                    Language::parse(&user.language).unwrap_or_default(),
                    &user.email,
                    serde_json::json!({"full_name": user.full_name, "link": link}),
                )?;
                Ok(())
            })
            .await?;
    }
    Ok(HttpResponse::Accepted().json(ResetAccepted { status: "accepted" }))
}
