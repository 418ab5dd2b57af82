//! Accounts: a physician registers (without revealing whether an address or RPPS is already
//! known), confirms the e-mail, and resets a forgotten password; the links e-mailed for it.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{AppError, RequestContext};
use crate::audit::{self, Outcome};
use crate::auth::{hash_token, new_opaque_token, password_hash};
use crate::db::{self, DbConnection};
use crate::domain::FieldError;
use crate::domain::account::{AccountStatus, Language, Role};
use crate::domain::email_address::EmailAddress;
use crate::domain::mail::{EmailKind, TokenPurpose};
use crate::domain::password;
use crate::domain::rpps::Rpps;
use crate::email;
use crate::state::AppState;

/// A physician's registration. Roles, status and ids cannot be set: unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    #[schema(example = "jeanne.martin@chu-nancy.fr")]
    pub email: Option<String>,
    /// 12 to 128 characters, not guessable.
    pub password: Option<String>,
    pub full_name: Option<String>,
    /// 11 digits with a Luhn check key.
    #[schema(example = "10005173140")]
    pub rpps: Option<String>,
    pub specialty: Option<String>,
    pub site_code: Option<String>,
    pub phone: Option<String>,
    #[schema(value_type = Option<Language>)]
    pub language: Option<String>,
}

struct Registration {
    email: EmailAddress,
    password: String,
    full_name: String,
    rpps: Rpps,
    specialty: String,
    site_code: Option<String>,
    phone: Option<String>,
    language: Language,
}

fn required<'a>(
    value: &'a Option<String>,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(text) if text.chars().count() > max => {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
            None
        }
        Some(text) if text.chars().any(char::is_control) => {
            errors.push(FieldError::new(
                field,
                "must not contain control characters",
            ));
            None
        }
        Some(text) => Some(text),
    }
}

/// Checks every field and lists every invalid one at once.
fn validate(body: &RegisterBody, site_known: bool) -> Result<Registration, Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = match EmailAddress::parse(body.email.as_deref().unwrap_or_default()) {
        Ok(email) => Some(email),
        Err(message) => {
            errors.push(FieldError::new("email", message));
            None
        }
    };
    let full_name = required(&body.full_name, "full_name", 200, &mut errors);
    let specialty = required(&body.specialty, "specialty", 100, &mut errors);
    let rpps = match Rpps::parse(body.rpps.as_deref().unwrap_or_default()) {
        Ok(rpps) => Some(rpps),
        Err(error) => {
            errors.push(FieldError::new("rpps", error.to_string()));
            None
        }
    };
    let password = body.password.as_deref().unwrap_or_default();
    let user_inputs: Vec<&str> = [
        body.email.as_deref(),
        email.as_ref().map(EmailAddress::local_part),
        body.full_name.as_deref(),
        body.rpps.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Err(message) = password::check_strength(password, &user_inputs) {
        errors.push(FieldError::new("password", message));
    }
    let site_code = body
        .site_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if site_code.is_some() && !site_known {
        errors.push(FieldError::new("site_code", "is not a site of the network"));
    }
    let phone = body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(phone) = phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c));
        if !allowed || !(6..=20).contains(&digits) || phone.len() > 30 {
            errors.push(FieldError::new("phone", "is not a valid phone number"));
        }
    }
    let language = match body.language.as_deref() {
        None => Some(Language::Fr),
        Some(value) => Language::parse(value).or_else(|| {
            errors.push(FieldError::new("language", "must be fr or en"));
            None
        }),
    };
    match (email, full_name, specialty, rpps, language) {
        (Some(email), Some(full_name), Some(specialty), Some(rpps), Some(language))
            if errors.is_empty() =>
        {
            Ok(Registration {
                email,
                password: password.to_owned(),
                full_name: full_name.to_owned(),
                rpps,
                specialty: specialty.to_owned(),
                site_code: site_code.map(str::to_owned),
                phone: phone.map(str::to_owned),
                language,
            })
        }
        _ => Err(errors),
    }
}

/// `<public_url>/<path>?token=<token>`: the link carried by an e-mail.
fn token_link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}/{path}?token={token}", state.public_url())
}

/// Whether another account e-mail may go to `recipient` this hour (registration and reset
/// e-mails are limited per address).
fn may_email(conn: &mut DbConnection, state: &AppState, recipient: &str) -> Result<bool, AppError> {
    let since = db::now() - chrono::Duration::hours(1);
    let sent = db::outbox::count_recent(conn, recipient, &EmailKind::ACCOUNT_MAIL, since)?;
    Ok(sent < state.settings.email.per_address_per_hour)
}

/// Creates a single-use password-reset token for the user; answers the link.
fn new_reset_link(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
) -> Result<String, AppError> {
    let (token, token_hash) = new_opaque_token();
    let now = db::now();
    let expires_at =
        now + chrono::Duration::minutes(state.settings.auth.password_reset_token_minutes.max(1));
    db::tokens::insert_email_token(
        conn,
        &token_hash,
        user_id,
        TokenPurpose::PasswordReset,
        now,
        expires_at,
    )?;
    Ok(token_link(state, "reset-password", &token))
}

/// Registers a referring physician. Every well-formed registration is accepted alike: when the
/// e-mail or RPPS is already registered, nothing is created and the existing account's owner
/// is told instead (no account enumeration).
pub async fn register(
    state: &AppState,
    context: RequestContext,
    body: RegisterBody,
) -> Result<(), AppError> {
    let site_code = body.site_code.clone().unwrap_or_default();
    let site_known = if site_code.trim().is_empty() {
        true
    } else {
        state
            .db
            .run(move |conn| db::network::site_exists(conn, site_code.trim()))
            .await?
    };
    let registration = tokio::task::spawn_blocking(move || validate(&body, site_known))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(AppError::Validation)?;
    // Hash even for a duplicate, so both answers take the same time.
    let hash = password_hash::hash(registration.password.clone()).await?;
    let app = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            let existing = db::users::find_by_email_or_rpps(
                conn,
                registration.email.as_str(),
                registration.rpps.as_str(),
            )?;
            if !existing.is_empty() {
                for owner in existing {
                    audit::record(
                        conn,
                        &context,
                        "user.register_duplicate",
                        "user",
                        Some(&owner.id),
                        Outcome::Denied,
                    )?;
                    if may_email(conn, &app, &owner.email)? {
                        let link = new_reset_link(conn, &app, &owner.id)?;
                        email::queue_with_link(
                            conn,
                            &app.data_key,
                            EmailKind::RegistrationAttempt,
                            owner.language,
                            &owner.email,
                            serde_json::json!({"full_name": owner.full_name}),
                            &link,
                        )?;
                    }
                }
                return Ok(());
            }
            let id = db::new_id();
            let now = db::now();
            db::users::insert(
                conn,
                &db::users::NewUser {
                    id: &id,
                    email: registration.email.as_str(),
                    password_hash: &hash,
                    full_name: &registration.full_name,
                    rpps: registration.rpps.as_str(),
                    specialty: &registration.specialty,
                    site_code: registration.site_code.as_deref(),
                    phone: registration.phone.as_deref(),
                    language: registration.language,
                    status: AccountStatus::Pending,
                    created_at: now,
                    email_verified_at: None,
                },
            )?;
            db::users::set_roles(conn, &id, &[Role::Requester], now)?;
            let (token, token_hash) = new_opaque_token();
            let expires_at =
                now + chrono::Duration::hours(app.settings.auth.verify_email_token_hours.max(1));
            db::tokens::insert_email_token(
                conn,
                &token_hash,
                &id,
                TokenPurpose::VerifyEmail,
                now,
                expires_at,
            )?;
            email::queue_with_link(
                conn,
                &app.data_key,
                EmailKind::VerifyEmail,
                registration.language,
                registration.email.as_str(),
                serde_json::json!({"full_name": registration.full_name}),
                &token_link(&app, "verify-email", &token),
            )?;
            audit::record(
                conn,
                &context.clone().with_actor(&id),
                "user.register",
                "user",
                Some(&id),
                Outcome::Allowed,
            )?;
            Ok(())
        })
        .await;
    match outcome {
        // Two registrations raced for the same e-mail or RPPS: the loser creates nothing.
        Ok(()) | Err(AppError::Duplicate(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

fn unknown_link() -> AppError {
    AppError::BadRequest("This link is unknown, already used or expired.".into())
}

/// Confirms an e-mail address with the single-use token sent at registration: the account is
/// active.
pub async fn verify_email(
    state: &AppState,
    context: RequestContext,
    token: &str,
) -> Result<String, AppError> {
    let token_hash = hash_token(token.trim());
    state
        .db
        .write(move |conn| {
            let now = db::now();
            let user_id =
                db::tokens::consume_email_token(conn, &token_hash, TokenPurpose::VerifyEmail, now)?
                    .ok_or_else(unknown_link)?;
            db::users::verify_email(conn, &user_id, now)?;
            audit::record(
                conn,
                &context.with_actor(&user_id),
                "user.verify_email",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?;
            let email = db::users::find_by_id(conn, &user_id)?.map(|u| u.email);
            Ok(email.unwrap_or_default())
        })
        .await
}

/// Asks for a password-reset link. The outcome is the same whether the address exists or not
/// (both paths write an audit row, so they commit the same way and take the same time).
pub async fn request_password_reset(
    state: &AppState,
    context: RequestContext,
    address: &str,
) -> Result<(), AppError> {
    let Ok(address) = EmailAddress::parse(address) else {
        return Ok(());
    };
    let app = state.clone();
    state
        .db
        .write(move |conn| {
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
            if user.status == AccountStatus::Disabled || !may_email(conn, &app, &user.email)? {
                return Ok(());
            }
            db::tokens::expire_email_tokens(
                conn,
                &user.id,
                TokenPurpose::PasswordReset,
                db::now(),
            )?;
            let link = new_reset_link(conn, &app, &user.id)?;
            email::queue_with_link(
                conn,
                &app.data_key,
                EmailKind::PasswordReset,
                user.language,
                &user.email,
                serde_json::json!({"full_name": user.full_name}),
                &link,
            )?;
            Ok(())
        })
        .await
}

/// Sets a new password with the e-mailed single-use token; every session of the user ends.
pub async fn reset_password(
    state: &AppState,
    context: RequestContext,
    token: &str,
    new_password: String,
) -> Result<(), AppError> {
    let token_hash = hash_token(token.trim());
    let lookup = token_hash.clone();
    let user = state
        .db
        .run(move |conn| {
            let user_id = db::tokens::peek_email_token(
                conn,
                &lookup,
                TokenPurpose::PasswordReset,
                db::now(),
            )?
            .ok_or_else(unknown_link)?;
            db::users::find_by_id(conn, &user_id)?.ok_or_else(unknown_link)
        })
        .await?;
    let inputs = [
        user.email.as_str(),
        user.full_name.as_str(),
        user.rpps.as_str(),
    ];
    password::check_strength(&new_password, &inputs)
        .map_err(|message| AppError::invalid("password", message))?;
    let hash = password_hash::hash(new_password).await?;
    state
        .db
        .write(move |conn| {
            let now = db::now();
            let user_id = db::tokens::consume_email_token(
                conn,
                &token_hash,
                TokenPurpose::PasswordReset,
                now,
            )?
            .ok_or_else(unknown_link)?;
            db::users::set_password_hash(conn, &user_id, &hash)?;
            db::tokens::revoke_all_for_user(conn, &user_id, now)?;
            db::tokens::expire_email_tokens(conn, &user_id, TokenPurpose::PasswordReset, now)?;
            // Following the e-mailed link proves the address: a pending account becomes active.
            if user.status == AccountStatus::Pending {
                db::users::verify_email(conn, &user_id, now)?;
            }
            Ok(audit::record(
                conn,
                &context.with_actor(&user_id),
                "user.password_reset",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?)
        })
        .await
}

/// Sets the language of the user's screens and e-mails.
pub async fn set_language(
    state: &AppState,
    actor: &crate::app::Actor,
    language: Language,
) -> Result<(), AppError> {
    let (context, user_id) = (actor.context.clone(), actor.id.clone());
    state
        .db
        .write(move |conn| {
            db::users::set_language(conn, &user_id, language)?;
            Ok(audit::record(
                conn,
                &context,
                "user.set_language",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?)
        })
        .await
}

/// Changes the password, given the current one (checked and throttled as a sign-in). Every
/// other session of the user ends; the caller signs in again.
pub async fn change_password(
    state: &AppState,
    actor: &crate::app::Actor,
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let inputs = [
        actor.email.as_str(),
        actor.full_name.as_str(),
        actor.rpps.as_str(),
    ];
    password::check_strength(&new_password, &inputs)
        .map_err(|message| AppError::invalid("password", message))?;
    let checked = crate::app::sessions::check_password(
        state,
        &actor.context,
        &actor.email,
        current_password,
        "user.change_password",
    )
    .await;
    if let Err(AppError::Unauthorized) = checked {
        return Err(AppError::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    let user = checked?;
    let hash = password_hash::hash(new_password).await?;
    let context = actor.context.clone();
    state
        .db
        .write(move |conn| {
            db::users::set_password_hash(conn, &user.id, &hash)?;
            db::tokens::revoke_all_for_user(conn, &user.id, db::now())?;
            Ok(audit::record(
                conn,
                &context,
                "user.change_password",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?)
        })
        .await
}
