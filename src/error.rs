//! The one error type of the API and its mapping to RFC 9457 problem+json.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path, e.g. `patient.birth_date`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For a refused transition: the resource's current status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    /// The user's role requires a second factor that this session was not opened with.
    #[error("second factor required")]
    SecondFactorRequired { enrolled: bool },
    #[error("not found")]
    NotFound,
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        current_status: Option<String>,
    },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn conflict(detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            detail: detail.into(),
            current_status: None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_and_detail(&self) -> (&'static str, String) {
        match self {
            ApiError::BadRequest(detail) => ("bad-request", detail.clone()),
            ApiError::Unauthorized => (
                "unauthorized",
                "Authentication is required, or the credentials are invalid.".into(),
            ),
            ApiError::Forbidden => ("forbidden", "You are not allowed to do this.".into()),
            ApiError::SecondFactorRequired { enrolled: false } => (
                "mfa-enrollment-required",
                "Your role requires two-factor sign-in: enrol an authenticator app with \
                 POST /api/v1/me/mfa/totp, then sign in again."
                    .into(),
            ),
            ApiError::SecondFactorRequired { enrolled: true } => (
                "mfa-required",
                "Your role requires two-factor sign-in: sign in again with your code.".into(),
            ),
            ApiError::NotFound => ("not-found", "No such resource.".into()),
            ApiError::Conflict { detail, .. } => ("conflict", detail.clone()),
            ApiError::PreconditionFailed => (
                "precondition-failed",
                "The resource has changed since you read it.".into(),
            ),
            ApiError::PayloadTooLarge => ("payload-too-large", "The body is too large.".into()),
            ApiError::UnsupportedMediaType(detail) => ("unsupported-media-type", detail.clone()),
            ApiError::Validation(errors) => (
                "validation-error",
                format!("{} invalid field(s).", errors.len()),
            ),
            ApiError::TooManyRequests { retry_after_secs } => (
                "too-many-requests",
                format!("Too many attempts; retry in {retry_after_secs} s."),
            ),
            ApiError::Unavailable(_) => (
                "service-unavailable",
                "The service is temporarily unavailable; retry shortly.".into(),
            ),
            ApiError::Internal(_) => (
                "internal-error",
                "An unexpected error occurred; quote the X-Request-Id to support.".into(),
            ),
        }
    }
}

/// Builds a problem+json response; also used for errors raised outside handlers.
pub fn problem_response(status: StatusCode, slug: &str, detail: String) -> HttpResponse {
    let problem = Problem {
        problem_type: format!("/problems/{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors: None,
        current_status: None,
    };
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(problem)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::SecondFactorRequired { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let (slug, detail) = self.slug_and_detail();
        let problem = Problem {
            problem_type: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            current_status: match self {
                ApiError::Conflict { current_status, .. } => current_status.clone(),
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let ApiError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(problem)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                ApiError::Unavailable(info.message().to_owned())
            }
            Error::DatabaseError(kind, info) if is_unavailable(info.message()) => {
                ApiError::Unavailable(format!("{kind:?}: {}", info.message()))
            }
            Error::BrokenTransactionManager => {
                ApiError::Unavailable("broken transaction manager".into())
            }
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Database faults that are the database being away or busy, not a bug: answer 503.
fn is_unavailable(message: &str) -> bool {
    const TRANSIENT: [&str; 8] = [
        "database is locked",
        "database is busy",
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "could not connect",
        "no connection to the server",
        "the database system is",
    ];
    TRANSIENT.iter().any(|needle| message.contains(needle))
}

impl From<r2d2::Error> for ApiError {
    fn from(error: r2d2::Error) -> Self {
        ApiError::Unavailable(error.to_string())
    }
}
