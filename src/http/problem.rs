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
