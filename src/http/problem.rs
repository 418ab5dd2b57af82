//! The mapping of the application's errors to RFC 9457 problem+json, in one place.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::domain::FieldError;
use crate::domain::request_status::RequestStatus;

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
    pub current_status: Option<RequestStatus>,
}

/// The problem type and detail of each application error.
impl AppError {
    fn slug_and_detail(&self) -> (&'static str, String) {
        match self {
            AppError::BadRequest(detail) => ("bad-request", detail.clone()),
            AppError::Unauthorized => (
                "unauthorized",
                "Authentication is required, or the credentials are invalid.".into(),
            ),
            AppError::Forbidden => ("forbidden", "You are not allowed to do this.".into()),
            AppError::SecondFactorRequired { enrolled: false } => (
                "mfa-enrollment-required",
                "Your role requires two-factor sign-in: enrol an authenticator app with \
                 POST /api/v1/me/mfa/totp, then sign in again."
                    .into(),
            ),
            AppError::SecondFactorRequired { enrolled: true } => (
                "mfa-required",
                "Your role requires two-factor sign-in: sign in again with your code.".into(),
            ),
            AppError::NotFound => ("not-found", "No such resource.".into()),
            AppError::Conflict { detail, .. } => ("conflict", detail.clone()),
            AppError::Duplicate(_) => ("conflict", "This already exists.".into()),
            AppError::PreconditionFailed => (
                "precondition-failed",
                "The resource has changed since you read it.".into(),
            ),
            AppError::PayloadTooLarge => ("payload-too-large", "The body is too large.".into()),
            AppError::UnsupportedMediaType(detail) => ("unsupported-media-type", detail.clone()),
            AppError::Validation(errors) => (
                "validation-error",
                format!("{} invalid field(s).", errors.len()),
            ),
            AppError::TooManyRequests { retry_after_secs } => (
                "too-many-requests",
                format!("Too many attempts; retry in {retry_after_secs} s."),
            ),
            AppError::Unavailable(_) => (
                "service-unavailable",
                "The service is temporarily unavailable; retry shortly.".into(),
            ),
            AppError::Internal(_) => (
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

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::SecondFactorRequired { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::Duplicate(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let (slug, detail) = self.slug_and_detail();
        let problem = Problem {
            problem_type: format!("/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors: match self {
                AppError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
            current_status: match self {
                AppError::Conflict { current_status, .. } => *current_status,
                _ => None,
            },
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if let AppError::TooManyRequests { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let AppError::Unauthorized = self {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(problem)
    }
}

/// The problem answers handlers name in their OpenAPI `responses(...)`, each written once
/// here (the answers every operation shares are added by `openapi::complete`).
pub mod answers {
    use super::Problem;

    /// The link or the input is not usable as sent
    #[derive(utoipa::IntoResponses)]
    #[response(status = 400, content_type = "application/problem+json")]
    pub struct BadRequest(#[allow(dead_code)] Problem);

    /// No valid access token, or wrong credentials
    #[derive(utoipa::IntoResponses)]
    #[response(status = 401, content_type = "application/problem+json")]
    pub struct Unauthorized(#[allow(dead_code)] Problem);

    /// Not allowed for this caller
    #[derive(utoipa::IntoResponses)]
    #[response(status = 403, content_type = "application/problem+json")]
    pub struct Forbidden(#[allow(dead_code)] Problem);

    /// No such resource, or none this caller may see
    #[derive(utoipa::IntoResponses)]
    #[response(status = 404, content_type = "application/problem+json")]
    pub struct NotFound(#[allow(dead_code)] Problem);

    /// Not possible in the resource's current state (named in `current_status`)
    #[derive(utoipa::IntoResponses)]
    #[response(status = 409, content_type = "application/problem+json")]
    pub struct Conflict(#[allow(dead_code)] Problem);

    /// `If-Match` names a version that is no longer the current one
    #[derive(utoipa::IntoResponses)]
    #[response(status = 412, content_type = "application/problem+json")]
    pub struct PreconditionFailed(#[allow(dead_code)] Problem);

    /// The file or the body is too large
    #[derive(utoipa::IntoResponses)]
    #[response(status = 413, content_type = "application/problem+json")]
    pub struct PayloadTooLarge(#[allow(dead_code)] Problem);

    /// The file's type is not accepted
    #[derive(utoipa::IntoResponses)]
    #[response(status = 415, content_type = "application/problem+json")]
    pub struct UnsupportedMediaType(#[allow(dead_code)] Problem);

    /// Invalid fields, all listed in `errors`
    #[derive(utoipa::IntoResponses)]
    #[response(status = 422, content_type = "application/problem+json")]
    pub struct Invalid(#[allow(dead_code)] Problem);

    /// A dependency (the database) is unavailable; retry shortly
    #[derive(utoipa::IntoResponses)]
    #[response(status = 503, content_type = "application/problem+json")]
    pub struct Unavailable(#[allow(dead_code)] Problem);

    /// Too many attempts; retry after `Retry-After` seconds
    #[derive(utoipa::IntoResponses)]
    #[response(status = 429, content_type = "application/problem+json")]
    pub struct TooManyRequests(#[allow(dead_code)] Problem);
}
