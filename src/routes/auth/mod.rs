//! Accounts and sessions: register, verify e-mail, login, refresh, logout, password reset.

pub mod login;
pub mod login_mfa;
pub mod logout;
pub mod password_reset;
pub mod password_reset_confirm;
pub mod refresh;
pub mod register;
pub mod verify_email;

use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Amr, new_opaque_token};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::startup::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register::register)
        .service(verify_email::verify_email)
        .service(login::login)
        .service(login_mfa::login_mfa)
        .service(refresh::refresh)
        .service(logout::logout)
        .service(password_reset::password_reset)
        .service(password_reset_confirm::password_reset_confirm);
}

/// The answer to a successful sign-in or refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token, in seconds.
    pub expires_in: i64,
    pub refresh_token: String,
}

/// Issues an access token and a refresh token; `family` continues a session (rotation),
/// `None` starts a new one. Runs in the caller's transaction.
pub fn issue_session(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
    family: Option<&str>,
    amr: &Amr,
) -> Result<TokenPair, ApiError> {
    let (refresh_token, refresh_hash) = new_opaque_token();
    let family_id = family.map_or_else(db::new_id, str::to_owned);
    let now = db::now();
    let expires_at = now + chrono::Duration::days(state.settings.auth.refresh_token_days.max(1));
    db::tokens::insert_refresh_token(
        conn,
        &refresh_hash,
        &family_id,
        user_id,
        &amr.stored(),
        now,
        expires_at,
    )?;
    Ok(TokenPair {
        access_token: state.jwt.issue_access(user_id, amr.methods())?,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_seconds(),
        refresh_token,
    })
}

/// `<public_url>/<path>?token=<token>`: the link carried by an e-mail.
pub fn token_link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}?token={token}", state.settings.server.public_url)
}

/// Whether another account e-mail may go to `recipient` this hour (registration and reset
/// e-mails are limited per address).
pub fn may_email(
    conn: &mut DbConnection,
    state: &AppState,
    recipient: &str,
) -> Result<bool, ApiError> {
    let since = db::now() - chrono::Duration::hours(1);
    let sent = db::outbox::count_recent(
        conn,
        recipient,
        &["verify_email", "password_reset", "registration_attempt"],
        since,
    )?;
    Ok(sent < state.settings.email.per_address_per_hour)
}

/// Creates a single-use password-reset token for the user; answers the link.
pub fn new_reset_link(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
) -> Result<String, ApiError> {
    let (token, token_hash) = new_opaque_token();
    let now = db::now();
    let expires_at =
        now + chrono::Duration::minutes(state.settings.auth.password_reset_token_minutes.max(1));
    db::tokens::insert_email_token(
        conn,
        &token_hash,
        user_id,
        "password_reset",
        now,
        expires_at,
    )?;
    Ok(token_link(state, "reset-password", &token))
}
