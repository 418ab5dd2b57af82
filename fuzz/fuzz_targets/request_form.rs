//! The JSON body path of POST /requests and PATCH /requests/{id}: the generic extractor
//! (`parse_json::<Value>`, with its depth, string and array limits), then what the routes do
//! with the value: create parses it as a `RequestForm`; update removes `version`, merges the
//! patch (RFC 7396) over the stored form and parses the result. Both checks run on every form
//! that parses. Nothing may panic; besides:
//! - merging the same patch twice changes nothing (RFC 7396 patches are idempotent);
//! - `check_submission` reports every field `check_format` reports, sorted, once each;
//! - a form, stored as the routes store it (`serde_json::to_string`), parses back to itself.
#![no_main]

use std::sync::LazyLock;

use chrono::NaiveDate;
use consilium::domain::request_form::{RequestForm, merge_patch};
use consilium::app::input::parse_json;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

static TODAY: LazyLock<NaiveDate> =
    LazyLock::new(|| NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());

/// Stored forms a patch is merged over: an empty draft and a complete one.
static STORED: LazyLock<[Value; 2]> = LazyLock::new(|| {
    let complete: RequestForm = serde_json::from_value(json!({
        "topic": "diagnosis",
        "urgency": "routine",
        "patient": {"initials": "AB", "sex": "female", "birth_date": "2019-04-12", "local_id": "X1"},
        "question": "Which dysplasia?",
        "clinical_summary": "Short limbs",
        "hpo_terms": ["HP:0004322"],
        "suspected_diagnosis": {"text": "achondroplasia", "orpha_code": "ORPHA:15"},
        "consent_obtained": true
    }))
    .unwrap();
    [
        serde_json::to_value(RequestForm::default()).unwrap(),
        serde_json::to_value(complete).unwrap(),
    ]
});

fn check(form: &RequestForm) {
    let today = *TODAY;
    let format = form.check_format(today);
    let submission = form.check_submission(today);
    for error in &format {
        assert!(
            submission.iter().any(|e| e.field == error.field),
            "check_submission lost {:?}",
            error.field
        );
    }
    assert!(
        submission
            .windows(2)
            .all(|pair| pair[0].field < pair[1].field),
        "check_submission not sorted or not deduplicated"
    );
    let stored = serde_json::to_string(form).expect("a form serialises");
    match parse_json::<RequestForm>(stored.as_bytes()) {
        Ok(back) => assert_eq!(&back, form, "stored form {stored} parses to another form"),
        Err(error) => panic!("stored form {stored} does not parse again: {error:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // The generic extractor for any body type.
    let _ = parse_json::<RequestForm>(data);
    let Ok(mut patch) = parse_json::<Value>(data) else {
        return;
    };
    // Create.
    if let Ok(form) = parse_json::<RequestForm>(patch.to_string().as_bytes()) {
        check(&form);
    }
    // Update. The route refuses a body that is not an object before merging; merge_patch is
    // still run on such bodies here, as it must not panic on any value.
    if let Some(fields) = patch.as_object_mut() {
        fields.remove("version");
    }
    for stored in STORED.iter() {
        let mut document = stored.clone();
        merge_patch(&mut document, &patch);
        let mut twice = document.clone();
        merge_patch(&mut twice, &patch);
        assert_eq!(twice, document, "merge patch not idempotent");
        if let Ok(form) = parse_json::<RequestForm>(document.to_string().as_bytes()) {
            check(&form);
        }
    }
});
