//! The one error of the application layer: what a use case can answer besides its result.
//! Both front doors map it: `http::problem` to problem+json, the screens to an error page.

use crate::db::{DbError, StoreError};
use crate::domain::FieldError;
use crate::domain::request_status::RequestStatus;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
        current_status: Option<RequestStatus>,
    },
    /// What was to be created exists already (a unique key refused it).
    #[error("duplicate: {0}")]
    Duplicate(String),
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

impl AppError {
    pub fn conflict(detail: impl Into<String>) -> Self {
        AppError::Conflict {
            detail: detail.into(),
            current_status: None,
        }
    }

    /// A refused change, naming the request's current status.
    pub fn refused(detail: impl Into<String>, current: RequestStatus) -> Self {
        AppError::Conflict {
            detail: detail.into(),
            current_status: Some(current),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// Field errors found by a check: none is `Ok`.
    pub fn unless_valid(errors: Vec<FieldError>) -> Result<(), AppError> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(errors))
        }
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self, AppError::Unavailable(_))
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::NotFound => AppError::NotFound,
            DbError::Unavailable(cause) => AppError::Unavailable(cause),
            DbError::UniqueViolation(cause) => AppError::Duplicate(cause),
            DbError::Other(cause) => AppError::Internal(cause),
        }
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl StoreError for AppError {
    fn is_unavailable(&self) -> bool {
        AppError::is_unavailable(self)
    }
}
