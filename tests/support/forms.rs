//! Complete forms, as a careful user fills them in.

use serde_json::{Value, json};

use super::cast::PASSWORD;

/// A request complete enough to submit, full of clinical detail that must never reach an
/// e-mail; `local_id` (the hospital's patient id) finds it again in the database.
pub fn request_form(local_id: &str) -> Value {
    json!({
        "topic": "diagnosis",
        "urgency": "routine",
        "patient": {"initials": "AB", "sex": "female", "birth_date": "2019-04-12", "local_id": local_id},
        "question": "Which skeletal dysplasia? Is FGFR3 testing indicated?",
        "clinical_summary": "Short limbs noted at 2 years, height -3.1 SD",
        "family_history": "Non-consanguineous parents",
        "suspected_diagnosis": {"text": "Hypochondroplasia", "orpha_code": "ORPHA:429"},
        "hpo_terms": ["HP:0004322", "HP:0009826"],
        "consent_obtained": true
    })
}

/// A physician's registration.
pub fn registration(email: &str, rpps: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "full_name": "Jeanne Martin",
        "rpps": rpps,
        "specialty": "Pediatrics",
        "site_code": "nancy",
        "phone": "+33 3 83 15 30 30",
        "language": "en",
    })
}

/// The record of a meeting that took place with a quorum (three specialties, two sites), in
/// which the requests `discussed` were discussed.
pub fn meeting_record(discussed: &[&str]) -> Value {
    json!({
        "participants": [
            {"name": "Pr A", "specialty": "Genetics", "site_code": "necker"},
            {"name": "Dr B", "specialty": "Radiology", "site_code": "necker"},
            {"name": "Dr C", "specialty": "Orthopedics", "site_code": "lyon"}
        ],
        "discussed": discussed
    })
}

/// The staff's opinion on the request of [`request_form`].
pub fn opinion() -> Value {
    json!({
        "summary": "Clinical and radiological features suggest hypochondroplasia.",
        "diagnosis": {"text": "Hypochondroplasia", "orpha_code": "ORPHA:429", "status": "probable"},
        "recommendations": [
            {"kind": "genetic_test", "text": "FGFR3 targeted sequencing"},
            {"kind": "referral", "text": "Follow-up in the nearest competence center", "site_code": "nancy"}
        ],
        "references": ["Unger S. et al., Am J Med Genet A 2023"]
    })
}
