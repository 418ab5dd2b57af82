//! The patient's form of an opinion request: a draft may be incomplete, but every field present
//! must be well-formed; a submission must also be complete. Every failing field is reported.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Diagnosis,
    Treatment,
    Molecular,
    OccipitoCervical,
    Radiology,
    Fetal,
    GenomeSequencing,
}

crate::named_enum!(Topic {
    Diagnosis => "diagnosis",
    Treatment => "treatment",
    Molecular => "molecular",
    OccipitoCervical => "occipito_cervical",
    Radiology => "radiology",
    Fetal => "fetal",
    GenomeSequencing => "genome_sequencing",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    #[default]
    Routine,
    Urgent,
}

crate::named_enum!(Urgency {
    Routine => "routine",
    Urgent => "urgent",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Undetermined,
    Unknown,
}

/// The patient, minimised: no name, no full identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    #[schema(example = "AB")]
    pub initials: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    /// For the `fetal` topic, instead of a birth date: 10 to 42.
    pub gestational_age_weeks: Option<i64>,
    /// The patient's id at the requester's hospital.
    pub local_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspectedDiagnosis {
    pub text: Option<String>,
    /// `ORPHA:<digits>`
    #[schema(example = "ORPHA:429")]
    pub orpha_code: Option<String>,
}

/// Everything a requester may write on a request (create and PATCH take any subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    pub topic: Option<Topic>,
    pub urgency: Option<Urgency>,
    #[serde(default)]
    pub patient: Patient,
    pub question: Option<String>,
    pub clinical_summary: Option<String>,
    pub family_history: Option<String>,
    pub growth: Option<String>,
    #[serde(default)]
    pub suspected_diagnosis: SuspectedDiagnosis,
    pub genetic_tests: Option<String>,
    #[serde(default)]
    #[schema(example = json!(["HP:0004322"]))]
    pub hpo_terms: Vec<String>,
    #[serde(default)]
    pub consent_obtained: bool,
}

pub const MAX_HPO_TERMS: usize = 100;

/// Whether `code` is `ORPHA:` followed by 1 to 7 digits.
pub fn is_orpha_code(code: &str) -> bool {
    code.strip_prefix("ORPHA:").is_some_and(|digits| {
        (1..=7).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Whether `term` is `HP:` followed by exactly 7 digits.
pub fn is_hpo_term(term: &str) -> bool {
    term.strip_prefix("HP:")
        .is_some_and(|digits| digits.len() == 7 && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn check_text(value: &Option<String>, field: &str, max: usize, errors: &mut Vec<FieldError>) {
    if let Some(text) = value {
        if text.chars().count() > max {
            errors.push(FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        } else if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errors.push(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
    }
}

fn missing(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|text| text.trim().is_empty())
}

impl RequestForm {
    /// Checks every field present (drafts and submissions alike).
    pub fn check_format(&self, today: NaiveDate) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(initials) = &self.patient.initials {
            let letters = initials.chars().filter(|c| c.is_alphabetic()).count();
            let allowed = initials
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '.');
            if !allowed || !(1..=4).contains(&letters) {
                errors.push(FieldError::new(
                    "patient.initials",
                    "must be 1 to 4 letters",
                ));
            }
        }
        if let Some(birth_date) = self.patient.birth_date {
            if birth_date > today {
                errors.push(FieldError::new(
                    "patient.birth_date",
                    "must not be in the future",
                ));
            } else if birth_date.year() < today.year() - 120
                || (birth_date.year() == today.year() - 120
                    && birth_date.ordinal() < today.ordinal())
            {
                errors.push(FieldError::new(
                    "patient.birth_date",
                    "must not be more than 120 years ago",
                ));
            }
        }
        if let Some(weeks) = self.patient.gestational_age_weeks
            && !(10..=42).contains(&weeks)
        {
            errors.push(FieldError::new(
                "patient.gestational_age_weeks",
                "must be between 10 and 42 weeks",
            ));
        }
        check_text(&self.patient.local_id, "patient.local_id", 64, &mut errors);
        check_text(&self.question, "question", 2_000, &mut errors);
        check_text(
            &self.clinical_summary,
            "clinical_summary",
            10_000,
            &mut errors,
        );
        check_text(&self.family_history, "family_history", 5_000, &mut errors);
        check_text(&self.growth, "growth", 5_000, &mut errors);
        check_text(&self.genetic_tests, "genetic_tests", 5_000, &mut errors);
        check_text(
            &self.suspected_diagnosis.text,
            "suspected_diagnosis.text",
            500,
            &mut errors,
        );
        if let Some(code) = &self.suspected_diagnosis.orpha_code
            && !is_orpha_code(code)
        {
            errors.push(FieldError::new(
                "suspected_diagnosis.orpha_code",
                "must be ORPHA:<digits>",
            ));
        }
        if self.hpo_terms.len() > MAX_HPO_TERMS {
            errors.push(FieldError::new(
                "hpo_terms",
                format!("must hold at most {MAX_HPO_TERMS} terms"),
            ));
        }
        for (i, term) in self.hpo_terms.iter().enumerate() {
            if !is_hpo_term(term) {
                errors.push(FieldError::new(
                    format!("hpo_terms[{i}]"),
                    "must be HP:<7 digits>",
                ));
            }
        }
        errors
    }

    /// Checks that a submission is complete, as well as well-formed.
    pub fn check_submission(&self, today: NaiveDate) -> Vec<FieldError> {
        let mut errors = self.check_format(today);
        let required = "is required to submit";
        if self.topic.is_none() {
            errors.push(FieldError::new("topic", required));
        }
        if missing(&self.patient.initials) {
            errors.push(FieldError::new("patient.initials", required));
        }
        if self.patient.sex.is_none() {
            errors.push(FieldError::new("patient.sex", required));
        }
        if self.topic == Some(Topic::Fetal) {
            if self.patient.gestational_age_weeks.is_none() {
                errors.push(FieldError::new(
                    "patient.gestational_age_weeks",
                    "is required to submit a fetal case",
                ));
            }
        } else if self.patient.birth_date.is_none() {
            errors.push(FieldError::new("patient.birth_date", required));
        }
        if missing(&self.question) {
            errors.push(FieldError::new("question", required));
        }
        if missing(&self.clinical_summary) {
            errors.push(FieldError::new("clinical_summary", required));
        }
        if !self.consent_obtained {
            errors.push(FieldError::new(
                "consent_obtained",
                "must be true: the patient was informed and did not object",
            ));
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        errors.dedup_by(|a, b| a.field == b.field);
        errors
    }
}

/// Applies an RFC 7396 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(entries) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            let map = target.as_object_mut().expect("an object");
            for (key, value) in entries {
                if value.is_null() {
                    map.remove(key);
                } else {
                    merge_patch(
                        map.entry(key.clone()).or_insert(serde_json::Value::Null),
                        value,
                    );
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn complete() -> RequestForm {
        serde_json::from_value(json!({
            "topic": "diagnosis",
            "patient": {"initials": "AB", "sex": "female", "birth_date": "2019-04-12"},
            "question": "Which dysplasia?",
            "clinical_summary": "Short limbs",
            "hpo_terms": ["HP:0004322"],
            "suspected_diagnosis": {"orpha_code": "ORPHA:429"},
            "consent_obtained": true
        }))
        .unwrap()
    }

    #[test]
    fn a_complete_form_submits() {
        assert_eq!(complete().check_submission(today()), vec![]);
    }

    #[test]
    fn an_empty_draft_is_fine_but_cannot_be_submitted() {
        let empty = RequestForm::default();
        assert!(empty.check_format(today()).is_empty());
        let fields: Vec<_> = empty
            .check_submission(today())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "clinical_summary",
                "consent_obtained",
                "patient.birth_date",
                "patient.initials",
                "patient.sex",
                "question",
                "topic"
            ]
        );
    }

    #[test]
    fn fetal_cases_need_a_gestational_age_instead_of_a_birth_date() {
        let mut form = complete();
        form.topic = Some(Topic::Fetal);
        form.patient.birth_date = None;
        let fields: Vec<_> = form
            .check_submission(today())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["patient.gestational_age_weeks"]);
        form.patient.gestational_age_weeks = Some(22);
        assert!(form.check_submission(today()).is_empty());
        for weeks in [9, 43] {
            form.patient.gestational_age_weeks = Some(weeks);
            assert_eq!(
                form.check_format(today())[0].field,
                "patient.gestational_age_weeks"
            );
        }
    }

    #[test]
    fn dates_codes_and_lengths_are_checked() {
        let mut form = complete();
        form.patient.birth_date = NaiveDate::from_ymd_opt(2026, 11, 24);
        form.suspected_diagnosis.orpha_code = Some("429".into());
        form.hpo_terms = vec!["HP:0004322".into(), "HP:12".into()];
        form.question = Some("x".repeat(2_001));
        form.patient.initials = Some("ABCDE".into());
        let fields: Vec<_> = form
            .check_format(today())
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "patient.initials",
                "patient.birth_date",
                "question",
                "suspected_diagnosis.orpha_code",
                "hpo_terms[1]"
            ]
        );
        form = complete();
        form.patient.birth_date = NaiveDate::from_ymd_opt(1906, 11, 22);
        assert_eq!(form.check_format(today())[0].field, "patient.birth_date");
        form.patient.birth_date = NaiveDate::from_ymd_opt(1906, 11, 23);
        assert!(form.check_format(today()).is_empty());
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }

    proptest! {
        #[test]
        fn code_parsers_never_panic_and_accept_only_the_canonical_shape(input in "\\PC{0,20}") {
            if is_orpha_code(&input) {
                prop_assert!(input.starts_with("ORPHA:"));
            }
            if is_hpo_term(&input) {
                prop_assert_eq!(input.len(), 10);
            }
        }

        #[test]
        fn canonical_codes_are_accepted(digits in "[0-9]{7}", orpha in "[0-9]{1,7}") {
            let hpo = format!("HP:{digits}");
            let orpha_code = format!("ORPHA:{orpha}");
            prop_assert!(is_hpo_term(&hpo));
            prop_assert!(is_orpha_code(&orpha_code));
        }
    }
}
