use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{may_email, new_reset_link, token_link};
use crate::audit::{self, Outcome};
use crate::auth::{new_opaque_token, password_hash};
use crate::db;
use crate::domain::account::{Language, Role};
use crate::domain::email_address::EmailAddress;
use crate::domain::password;
use crate::domain::rpps::Rpps;
use crate::email::{self, EmailKind};
use crate::error::{ApiError, FieldError};
use crate::extract::Json;
use crate::request_context::RequestContext;
use crate::startup::AppState;

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

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationAccepted {
    /// Always `pending_verification`.
    pub status: &'static str,
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

/// Registers a referring physician. Every well-formed registration gets the same 202: when the
/// e-mail or RPPS is already registered, nothing is created and the existing account's owner
/// is told instead (no account enumeration).
#[utoipa::path(tag = "accounts", request_body = RegisterBody, responses(
    (status = 202, body = RegistrationAccepted),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    context: RequestContext,
    body: Json<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let site_code = body.site_code.clone().unwrap_or_default();
    let site_known = if site_code.trim().is_empty() {
        true
    } else {
        state
            .db
            .run(move |conn| Ok(db::network::site_exists(conn, site_code.trim())?))
            .await?
    };
    let registration = tokio::task::spawn_blocking(move || validate(&body, site_known))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(ApiError::Validation)?;
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
                        let language = Language::parse(&owner.language).unwrap_or_default();
                        email::queue(
                            conn,
                            EmailKind::RegistrationAttempt,
                            language,
                            &owner.email,
                            serde_json::json!({"full_name": owner.full_name, "link": link}),
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
                    language: registration.language.as_str(),
                    status: "pending",
                    created_at: now,
                    email_verified_at: None,
                },
            )?;
            db::users::set_roles(conn, &id, &[Role::Requester.as_str()], now)?;
            let (token, token_hash) = new_opaque_token();
            let expires_at =
                now + chrono::Duration::hours(app.settings.auth.verify_email_token_hours.max(1));
            db::tokens::insert_email_token(
                conn,
                &token_hash,
                &id,
                "verify_email",
                now,
                expires_at,
            )?;
            email::queue(
                conn,
                EmailKind::VerifyEmail,
                registration.language,
                registration.email.as_str(),
                serde_json::json!({
                    "full_name": registration.full_name,
                    "link": token_link(&app, "verify-email", &token),
                }),
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
        Ok(()) => {}
        // Two registrations raced for the same e-mail or RPPS: the loser creates nothing.
        Err(ApiError::Internal(error)) if is_unique_violation(&error) => {}
        Err(error) => return Err(error),
    }
    Ok(HttpResponse::Accepted().json(RegistrationAccepted {
        status: "pending_verification",
    }))
}

fn is_unique_violation(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<diesel::result::Error>(),
        Some(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}
