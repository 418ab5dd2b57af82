//! One invalid field of an input, named by its path: what every check of the domain returns,
//! and what both front doors show (problem+json's `errors`, the message beside a field).

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
