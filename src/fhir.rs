//! FHIR R4 written by hand: the few resources INTEROP.md names, as `serde_json` values. A
//! request is a `Bundle` of type `collection` whose entries refer to each other by their
//! `urn:uuid:` full URLs, so every reference resolves inside the bundle. The ids of the
//! resources derived from a request are stable (a hash of the request's id and the role), so
//! the same request gives the same bundle until it changes. Checked in the API tests against
//! the official R4 JSON Schema (Python `jsonschema`) and by `fhir.resources` 6.4.0.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::domain::network::SiteInfo;
use crate::domain::opinion::{DiagnosisStatus, OpinionContent, Participant, RecommendationKind};
use crate::domain::request_form::{RequestForm, Sex, Urgency};
use crate::domain::request_status::RequestStatus;

/// The identifier system of the French national registry of health professionals (RPPS).
pub const RPPS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";
pub const ORPHA_SYSTEM: &str = "http://www.orpha.net";
pub const HPO_SYSTEM: &str = "http://human-phenotype-ontology.org";
const LOINC: &str = "http://loinc.org";
/// LOINC "Consult note": the RCP's opinion as a document.
const CONSULT_NOTE: (&str, &str) = ("11488-4", "Consult note");

/// A physician as the bundle names them.
#[derive(Debug, Clone)]
pub struct Person<'a> {
    pub rpps: &'a str,
    pub full_name: &'a str,
    pub specialty: &'a str,
}

/// The delivered opinion a bundle carries (the latest delivered version).
#[derive(Debug, Clone)]
pub struct Opinion<'a> {
    pub version: i64,
    pub content: &'a OpinionContent,
    pub delivered_at: DateTime<Utc>,
    pub validator: Option<Person<'a>>,
    pub participants: &'a [Participant],
    pub quorum_met: Option<bool>,
    /// The meeting that gave it.
    pub meeting_start: Option<DateTime<Utc>>,
    /// The address of its PDF report.
    pub pdf_url: String,
}

/// Everything one request's bundle is made of.
#[derive(Debug, Clone)]
pub struct RequestRecord<'a> {
    pub id: &'a str,
    pub reference: &'a str,
    pub status: RequestStatus,
    pub form: &'a RequestForm,
    /// The requester's language (`fr`, `en`): the document's.
    pub language: &'a str,
    pub staff_name: Option<&'a str>,
    /// The reference of the request this one follows up, if it is a follow-up.
    pub parent_reference: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub requester: Person<'a>,
    pub opinion: Option<Opinion<'a>>,
    /// The network's sites (for a referral's name and address).
    pub sites: &'a [SiteInfo],
    /// The service's public address (the system of the request's identifier).
    pub public_url: &'a str,
}

/// A stable UUID for the resource of `role` derived from the request `id`.
fn uuid_of(id: &str, role: &str) -> String {
    let digest = Sha256::digest(format!("{id}/{role}").as_bytes());
    let bytes: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Text as a narrative `div` (XHTML, escaped).
fn narrative(paragraphs: &[String]) -> Value {
    let mut div = String::from(r#"<div xmlns="http://www.w3.org/1999/xhtml">"#);
    for paragraph in paragraphs {
        div.push_str("<p>");
        for c in paragraph.chars() {
            match c {
                '&' => div.push_str("&amp;"),
                '<' => div.push_str("&lt;"),
                '>' => div.push_str("&gt;"),
                '\n' => div.push_str("<br/>"),
                '\r' => {}
                c => div.push(c),
            }
        }
        div.push_str("</p>");
    }
    div.push_str("</div>");
    json!({"status": "generated", "div": div})
}

fn orpha_coding(code: Option<&str>, text: Option<&str>) -> Value {
    let mut concept = json!({});
    if let Some(code) = code {
        concept["coding"] = json!([{
            "system": ORPHA_SYSTEM,
            "code": code.trim_start_matches("ORPHA:"),
        }]);
    }
    if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
        concept["text"] = json!(text);
    }
    concept
}

fn practitioner(full_url: &str, person: &Person<'_>) -> Value {
    let mut resource = json!({
        "resourceType": "Practitioner",
        "id": full_url.trim_start_matches("urn:uuid:"),
        "identifier": [{"system": RPPS_SYSTEM, "value": person.rpps}],
        "name": [{"text": person.full_name}],
    });
    if !person.specialty.trim().is_empty() {
        resource["qualification"] = json!([{"code": {"text": person.specialty}}]);
    }
    resource
}

/// ServiceRequest.status for a request's status.
fn service_request_status(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Draft => "draft",
        RequestStatus::NeedsInfo => "on-hold",
        RequestStatus::Submitted | RequestStatus::Scheduled | RequestStatus::Discussed => "active",
        RequestStatus::Completed => "completed",
        RequestStatus::Rejected | RequestStatus::Withdrawn => "revoked",
    }
}

fn recommendation_kind(kind: RecommendationKind) -> &'static str {
    match kind {
        RecommendationKind::GeneticTest => "Genetic test",
        RecommendationKind::Imaging => "Imaging",
        RecommendationKind::Treatment => "Treatment",
        RecommendationKind::Surgery => "Surgery",
        RecommendationKind::FollowUp => "Follow-up",
        RecommendationKind::Referral => "Referral",
        RecommendationKind::ClinicalTrial => "Clinical trial",
        RecommendationKind::Other => "Other",
    }
}

/// The request as a FHIR R4 `Bundle` (type `collection`).
pub fn bundle(record: &RequestRecord<'_>) -> Value {
    let url = |role: &str| format!("urn:uuid:{}", uuid_of(record.id, role));
    let reference = |full_url: &str| json!({"reference": full_url});
    let id_of = |full_url: &str| full_url.trim_start_matches("urn:uuid:").to_owned();
    let (service_url, task_url, patient_url, requester_url) = (
        url("service-request"),
        url("task"),
        url("patient"),
        url("requester"),
    );
    let form = record.form;
    let mut entries: Vec<(String, Value)> = Vec::new();
    let mut supporting = Vec::new();

    // The patient, minimised: initials, sex, birth date and the hospital's id, no name.
    let mut patient = json!({
        "resourceType": "Patient",
        "id": id_of(&patient_url),
        "gender": match form.patient.sex {
            Some(Sex::Female) => "female",
            Some(Sex::Male) => "male",
            Some(Sex::Undetermined) => "other",
            Some(Sex::Unknown) | None => "unknown",
        },
    });
    if let Some(initials) = form.patient.initials.as_deref() {
        patient["name"] = json!([{"use": "anonymous", "text": initials}]);
    }
    if let Some(birth_date) = form.patient.birth_date {
        patient["birthDate"] = json!(date(birth_date));
    }
    if let Some(local_id) = form.patient.local_id.as_deref() {
        patient["identifier"] = json!([{
            "use": "usual",
            "type": {"text": "Local patient identifier of the requesting hospital"},
            "value": local_id,
        }]);
    }
    let subject = reference(&patient_url);

    let mut practitioners = vec![(requester_url.clone(), record.requester.clone())];

    // The suspected diagnosis (the requester's) and the one the meeting retained.
    let suspected = &form.suspected_diagnosis;
    let suspected_url = (suspected.orpha_code.is_some()
        || suspected
            .text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty()))
    .then(|| url("condition-suspected"));
    if let Some(full_url) = &suspected_url {
        let mut code = orpha_coding(suspected.orpha_code.as_deref(), suspected.text.as_deref());
        if code.get("text").is_none() && code.get("coding").is_none() {
            code = json!({"text": "Suspected diagnosis"});
        }
        entries.push((
            full_url.clone(),
            json!({
                "resourceType": "Condition",
                "id": id_of(full_url),
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "provisional",
                }]},
                "code": code,
                "subject": subject,
                "recorder": reference(&requester_url),
                "note": [{"text": "Suspected by the requester"}],
            }),
        ));
    }

    // One Observation per HPO term, and the gestational age of a fetal case.
    for (i, term) in form.hpo_terms.iter().enumerate() {
        let full_url = url(&format!("hpo/{i}"));
        entries.push((
            full_url.clone(),
            json!({
                "resourceType": "Observation",
                "id": id_of(&full_url),
                "status": "final",
                "category": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "exam",
                }]}],
                "code": {"coding": [{"system": HPO_SYSTEM, "code": term}]},
                "subject": subject,
                "valueBoolean": true,
            }),
        ));
        supporting.push(reference(&full_url));
    }
    if let Some(weeks) = form.patient.gestational_age_weeks {
        let full_url = url("gestational-age");
        entries.push((
            full_url.clone(),
            json!({
                "resourceType": "Observation",
                "id": id_of(&full_url),
                "status": "final",
                "code": {"coding": [{
                    "system": LOINC,
                    "code": "49051-6",
                    "display": "Gestational age in weeks",
                }]},
                "subject": subject,
                "valueQuantity": {
                    "value": weeks,
                    "unit": "wk",
                    "system": "http://unitsofmeasure.org",
                    "code": "wk",
                },
            }),
        ));
        supporting.push(reference(&full_url));
    }

    // The request itself.
    let authored = instant(record.submitted_at.unwrap_or(record.created_at));
    let requests_system = format!("{}/requests", record.public_url.trim_end_matches('/'));
    let mut service = json!({
        "resourceType": "ServiceRequest",
        "id": id_of(&service_url),
        "identifier": [{
            "system": requests_system,
            "value": record.reference,
        }],
        "status": service_request_status(record.status),
        "intent": "order",
        "priority": match form.urgency.unwrap_or_default() {
            Urgency::Routine => "routine",
            Urgency::Urgent => "urgent",
        },
        "code": {"text": "Expert opinion of a rare-disease multidisciplinary meeting (RCP)"},
        "subject": subject,
        "authoredOn": authored,
        "requester": reference(&requester_url),
    });
    if let Some(topic) = form.topic {
        service["category"] = json!([{"text": topic.as_str()}]);
    }
    // A follow-up is based on the request it follows up: a logical reference, by the
    // identifier that request's own bundle gives its ServiceRequest (it is not in this one).
    if let Some(parent) = record.parent_reference {
        service["basedOn"] = json!([{
            "type": "ServiceRequest",
            "identifier": {"system": requests_system, "value": parent},
            "display": parent,
        }]);
    }
    if let Some(staff) = record.staff_name {
        service["performer"] = json!([{"display": staff}]);
    }
    if let Some(full_url) = &suspected_url {
        service["reasonReference"] = json!([reference(full_url)]);
    }
    if !supporting.is_empty() {
        service["supportingInfo"] = Value::Array(supporting);
    }
    let notes: Vec<Value> = [
        ("Question", &form.question),
        ("Clinical summary", &form.clinical_summary),
        ("Family history", &form.family_history),
        ("Growth", &form.growth),
        ("Genetic tests", &form.genetic_tests),
    ]
    .into_iter()
    .filter_map(|(label, text)| {
        text.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| json!({"text": format!("{label}: {t}")}))
    })
    .collect();
    if !notes.is_empty() {
        service["note"] = Value::Array(notes);
    }

    // Its workflow.
    let mut task = json!({
        "resourceType": "Task",
        "id": id_of(&task_url),
        "identifier": [{
            "system": format!("{}/requests", record.public_url.trim_end_matches('/')),
            "value": record.reference,
        }],
        "status": record.status.fhir_code(),
        "businessStatus": {"text": record.status.as_str()},
        "intent": "order",
        "priority": service["priority"].clone(),
        "focus": reference(&service_url),
        "for": subject,
        "authoredOn": instant(record.created_at),
        "lastModified": instant(record.updated_at),
        "requester": reference(&requester_url),
    });

    if let Some(opinion) = &record.opinion {
        let (retained_url, composition_url, document_url) = (
            url("condition-retained"),
            url("composition"),
            url("document-reference"),
        );
        let diagnosis = &opinion.content.diagnosis;
        entries.push((
            retained_url.clone(),
            json!({
                "resourceType": "Condition",
                "id": id_of(&retained_url),
                "verificationStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": match diagnosis.status {
                        DiagnosisStatus::Confirmed => "confirmed",
                        DiagnosisStatus::Probable => "provisional",
                        DiagnosisStatus::Unsolved => "unconfirmed",
                    },
                }]},
                "code": orpha_coding(diagnosis.orpha_code.as_deref(), Some(&diagnosis.text)),
                "subject": subject,
                "recordedDate": instant(opinion.delivered_at),
                "note": [{"text": format!("Retained by the meeting (status: {})", diagnosis.status.as_str())}],
            }),
        ));
        let mut author = json!({"display": record.staff_name.unwrap_or("RCP")});
        if let Some(validator) = &opinion.validator {
            let validator_url = url("validator");
            author = reference(&validator_url);
            practitioners.push((validator_url, validator.clone()));
        }
        let site = |code: &str| record.sites.iter().find(|s| s.code == code);
        let recommendations: Vec<String> = opinion
            .content
            .recommendations
            .iter()
            .map(|r| {
                let mut line = format!("{}: {}", recommendation_kind(r.kind), r.text);
                if let Some(site) = r.site_code.as_deref().and_then(site) {
                    line.push_str(&format!(
                        " — {} ({}, {})",
                        site.name, site.hospital, site.address
                    ));
                }
                line
            })
            .collect();
        let participants: Vec<String> = opinion
            .participants
            .iter()
            .map(|p| {
                let site = site(&p.site_code).map_or(p.site_code.as_str(), |s| s.name.as_str());
                format!("{}, {}, {}", p.name, p.specialty, site)
            })
            .chain(opinion.quorum_met.map(|met| {
                if met {
                    "Quorum met".to_owned()
                } else {
                    "Quorum not met".to_owned()
                }
            }))
            .collect();
        let mut sections = vec![
            json!({"title": "Clinical summary", "text": narrative(std::slice::from_ref(&opinion.content.summary))}),
            json!({
                "title": "Diagnosis retained",
                "text": narrative(&[format!(
                    "{}{} ({})",
                    diagnosis.text,
                    diagnosis.orpha_code.as_deref().map(|c| format!(" — {c}")).unwrap_or_default(),
                    diagnosis.status.as_str()
                )]),
                "entry": [reference(&retained_url)],
            }),
        ];
        if !recommendations.is_empty() {
            sections.push(json!({"title": "Recommendations", "text": narrative(&recommendations)}));
        }
        if !opinion.content.references.is_empty() {
            sections.push(
                json!({"title": "References", "text": narrative(&opinion.content.references)}),
            );
        }
        if !participants.is_empty() {
            sections.push(json!({"title": "Participants", "text": narrative(&participants)}));
        }
        let title = format!(
            "RCP opinion {} (version {})",
            record.reference, opinion.version
        );
        let mut composition = json!({
            "resourceType": "Composition",
            "id": id_of(&composition_url),
            "language": record.language,
            "identifier": {
                "system": format!("{}/opinions", record.public_url.trim_end_matches('/')),
                "value": format!("{}-v{}", record.reference, opinion.version),
            },
            "status": if opinion.version > 1 { "amended" } else { "final" },
            "type": {"coding": [{"system": LOINC, "code": CONSULT_NOTE.0, "display": CONSULT_NOTE.1}]},
            "subject": subject,
            "date": instant(opinion.delivered_at),
            "author": [author.clone()],
            "title": title,
            "attester": [{"mode": "legal", "time": instant(opinion.delivered_at), "party": author}],
            "section": sections,
        });
        if let Some(start) = opinion.meeting_start {
            composition["event"] = json!([{"period": {"start": instant(start)}}]);
        }
        entries.push((composition_url.clone(), composition));
        entries.push((
            document_url.clone(),
            json!({
                "resourceType": "DocumentReference",
                "id": id_of(&document_url),
                "status": "current",
                "docStatus": if opinion.version > 1 { "amended" } else { "final" },
                "type": {"coding": [{"system": LOINC, "code": CONSULT_NOTE.0, "display": CONSULT_NOTE.1}]},
                "subject": subject,
                "date": instant(opinion.delivered_at),
                "description": title,
                "content": [{"attachment": {
                    "contentType": "application/pdf",
                    "language": record.language,
                    "url": opinion.pdf_url,
                    "title": title,
                    "creation": instant(opinion.delivered_at),
                }}],
                "context": {"related": [reference(&composition_url)]},
            }),
        ));
        task["output"] = json!([{
            "type": {"text": "RCP opinion"},
            "valueReference": reference(&composition_url),
        }]);
    }

    let mut all = vec![
        (service_url, service),
        (task_url, task),
        (patient_url, patient),
    ];
    all.extend(
        practitioners
            .iter()
            .map(|(full_url, person)| (full_url.clone(), practitioner(full_url, person))),
    );
    all.extend(entries);
    let timestamp = record
        .opinion
        .as_ref()
        .map_or(record.updated_at, |o| o.delivered_at.max(record.updated_at));
    json!({
        "resourceType": "Bundle",
        "id": record.id,
        "type": "collection",
        "timestamp": instant(timestamp),
        "entry": all
            .into_iter()
            .map(|(full_url, resource)| json!({"fullUrl": full_url, "resource": resource}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_uuids_distinct_per_role() {
        let a = uuid_of("0190-request", "patient");
        assert_eq!(a, uuid_of("0190-request", "patient"));
        assert_ne!(a, uuid_of("0190-request", "task"));
        assert_ne!(a, uuid_of("0190-other", "patient"));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn narratives_are_escaped_xhtml() {
        let text = narrative(&["a < b & c > d\nnext".into()]);
        assert_eq!(
            text["div"],
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>a &lt; b &amp; c &gt; d<br/>next</p></div>"#
        );
    }
}
