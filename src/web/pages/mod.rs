//! The screens' handlers, by who uses them.

pub mod account;
pub mod admin;
pub mod follow_ups;
pub mod kpis;
pub mod meetings;
pub mod opinion;
pub mod public;
pub mod requests;
pub mod sign_in;
pub mod triage;

use serde::Serialize;

use super::i18n;
use super::render::field_id;
use crate::app::AppError;
use crate::domain::FieldError;
use crate::domain::account::Language;

/// The errors of a form: the summary's entries (label, message, link) and each field's
/// message, in the page's language.
#[derive(Debug, Default, Serialize)]
pub struct FormErrors {
    pub summary: Vec<SummaryEntry>,
    pub fields: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct SummaryEntry {
    pub field: String,
    pub id: String,
    pub label: String,
    pub message: String,
}

impl FormErrors {
    pub fn new(language: Language, errors: &[FieldError]) -> FormErrors {
        let mut out = FormErrors::default();
        for error in errors {
            let message = i18n::api_message(language, &error.message);
            // A list's own error links to its first item.
            let field = match error.field.as_str() {
                "hpo_terms" => "hpo_terms[0]".to_owned(),
                other => other.to_owned(),
            };
            let base = field.split('[').next().unwrap_or(&field).to_owned();
            let label_key = format!("fields.{base}");
            let label = i18n::text(language, &label_key, &[]);
            let label = if label == label_key {
                base.clone()
            } else {
                label
            };
            out.fields.entry(base).or_insert_with(|| message.clone());
            out.fields
                .entry(field.clone())
                .or_insert_with(|| message.clone());
            out.summary.push(SummaryEntry {
                id: field_id(&field),
                field,
                label,
                message,
            });
        }
        out
    }
}

/// The field errors of a validation error; other errors are not a form's.
pub fn field_errors(error: AppError) -> Result<Vec<FieldError>, AppError> {
    match error {
        AppError::Validation(errors) => Ok(errors),
        other => Err(other),
    }
}
