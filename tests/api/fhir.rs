//! FHIR R4 (INTEROP.md): a request read as a `Bundle` that the official R4 JSON Schema and
//! `fhir.resources` accept, whose references resolve inside it; the `Task` follows the request
//! through its whole life; the opinion appears once delivered (never a draft); others get 404;
//! the admin's NDJSON export holds every request changed since an instant.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, Cast, rpps};
use crate::support::forms::{meeting_record, opinion, request_form};
use crate::support::python::fhir_check;

on_both_backends!(
    a_request_reads_as_a_valid_fhir_bundle_through_its_whole_life,
    the_fhir_export_streams_every_request_changed_since_an_instant,
);

async fn bundle(app: &TestApp, id: &str, token: &str) -> Value {
    let answer = app
        .api
        .get(&format!("/api/v1/requests/{id}/fhir"), Some(token))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer.content_type().starts_with("application/fhir+json"),
        "{}",
        answer.content_type()
    );
    serde_json::from_str(&answer.text).unwrap()
}

/// The resources of a bundle of type `type`.
fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

fn one<'a>(bundle: &'a Value, kind: &str) -> &'a Value {
    let found = resources(bundle, kind);
    assert_eq!(found.len(), 1, "one {kind} in {bundle:#}");
    found[0]
}

/// The full URL of the entry holding `resource`.
fn url_of(bundle: &Value, resource: &Value) -> String {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| &e["resource"] == resource)
        .map(|e| e["fullUrl"].as_str().unwrap().to_owned())
        .unwrap()
}

/// Validates the bundle with the independent validators (when installed) and answers its
/// Task's status.
fn valid(bundle: &Value) -> String {
    if let Some(count) = fhir_check(&serde_json::to_string(bundle).unwrap()) {
        assert_eq!(count, bundle["entry"].as_array().unwrap().len());
    }
    assert_eq!(bundle["type"], "collection");
    one(bundle, "Task")["status"].as_str().unwrap().to_owned()
}

async fn a_request_reads_as_a_valid_fhir_bundle_through_its_whole_life(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let requester_rpps = app.me(Some(&cast.requester)).await.body["rpps"]
        .as_str()
        .unwrap()
        .to_owned();

    // A draft: its Task is a draft; the patient, the practitioner, the codings are there.
    let draft = app.draft(request_form("FHIR-1"), &cast.requester).await;
    let (id, reference) = (
        draft.id(),
        draft.body["reference"].as_str().unwrap().to_owned(),
    );
    let first = bundle(&app, &id, &cast.requester).await;
    assert_eq!(valid(&first), "draft");
    let service = one(&first, "ServiceRequest");
    assert_eq!(service["status"], "draft");
    assert_eq!(service["identifier"][0]["value"], reference.as_str());
    assert_eq!(service["priority"], "routine");
    let patient = one(&first, "Patient");
    assert_eq!(patient["gender"], "female");
    assert_eq!(patient["birthDate"], "2019-04-12");
    assert_eq!(patient["identifier"][0]["value"], "FHIR-1");
    assert!(patient.get("address").is_none() && patient.get("telecom").is_none());
    assert_eq!(
        service["subject"]["reference"],
        url_of(&first, patient).as_str()
    );
    let task = one(&first, "Task");
    assert_eq!(task["focus"]["reference"], url_of(&first, service).as_str());
    let practitioner = one(&first, "Practitioner");
    assert_eq!(
        practitioner["identifier"][0],
        json!({"system": "urn:oid:1.2.250.1.71.4.2.1", "value": requester_rpps})
    );
    assert_eq!(
        service["requester"]["reference"],
        url_of(&first, practitioner).as_str()
    );
    let suspected = one(&first, "Condition");
    assert_eq!(
        suspected["code"]["coding"][0],
        json!({"system": "http://www.orpha.net", "code": "429"})
    );
    assert_eq!(
        suspected["verificationStatus"]["coding"][0]["code"],
        "provisional"
    );
    let hpo: Vec<&Value> = resources(&first, "Observation")
        .into_iter()
        .map(|o| &o["code"]["coding"][0])
        .collect();
    assert_eq!(
        hpo,
        [
            &json!({"system": "http://human-phenotype-ontology.org", "code": "HP:0004322"}),
            &json!({"system": "http://human-phenotype-ontology.org", "code": "HP:0009826"}),
        ]
    );
    assert!(resources(&first, "Composition").is_empty());
    assert_eq!(
        bundle(&app, &id, &cast.requester).await,
        first,
        "the same request reads as the same bundle"
    );

    // Submitted, asked for information, answered, scheduled, discussed, completed.
    app.submit_draft(&id, &cast.requester).await;
    assert_eq!(
        valid(&bundle(&app, &id, &cast.coordinator).await),
        "requested"
    );
    let asked = app
        .request_info(&id, "Please attach the skeletal survey.", &cast.coordinator)
        .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    let on_hold = bundle(&app, &id, &cast.requester).await;
    assert_eq!(valid(&on_hold), "on-hold");
    assert_eq!(one(&on_hold, "ServiceRequest")["status"], "on-hold");
    assert_eq!(
        app.post_message(&id, "Attached.", &cast.requester)
            .await
            .status,
        201
    );
    assert_eq!(
        valid(&bundle(&app, &id, &cast.requester).await),
        "requested"
    );
    let starts_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let meeting = app
        .create_meeting("rcp-national", &starts_at, 10, &cast.coordinator)
        .await
        .id();
    assert_eq!(
        app.schedule(&id, &meeting, &cast.coordinator).await.status,
        200
    );
    assert_eq!(valid(&bundle(&app, &id, &cast.requester).await), "accepted");
    let held = app
        .hold(&meeting, meeting_record(&[&id]), &cast.coordinator)
        .await;
    assert_eq!(held.status, 200, "{:?}", held.body);
    assert_eq!(
        app.put_opinion(&id, opinion(), &cast.coordinator)
            .await
            .status,
        200
    );
    let discussed = bundle(&app, &id, &cast.requester).await;
    assert_eq!(valid(&discussed), "in-progress");
    assert!(
        resources(&discussed, "Composition").is_empty(),
        "a draft opinion is not in the requester's bundle"
    );
    assert!(
        resources(&bundle(&app, &id, &cast.coordinator).await, "Composition").is_empty(),
        "nor in anyone's: only a delivered opinion is a document"
    );
    assert_eq!(app.deliver(&id, &cast.coordinator).await.status, 200);
    let completed = bundle(&app, &id, &cast.requester).await;
    assert_eq!(valid(&completed), "completed");
    assert_eq!(one(&completed, "ServiceRequest")["status"], "completed");

    // The opinion: the retained diagnosis, the sections, the participants, the PDF.
    let conditions = resources(&completed, "Condition");
    assert_eq!(
        conditions.len(),
        2,
        "the suspected and the retained diagnosis"
    );
    let composition = one(&completed, "Composition");
    assert_eq!(composition["status"], "final");
    assert_eq!(composition["language"], "en");
    assert_eq!(
        composition["subject"]["reference"],
        url_of(&completed, one(&completed, "Patient")).as_str()
    );
    let sections: Vec<&str> = composition["section"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        [
            "Clinical summary",
            "Diagnosis retained",
            "Recommendations",
            "References",
            "Participants"
        ]
    );
    let text = serde_json::to_string(composition).unwrap();
    for expected in [
        "FGFR3 targeted sequencing",
        "Follow-up in the nearest competence center",
        "Unger S. et al.",
        "Pr A, Genetics",
        "Quorum met",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let retained = composition["section"][1]["entry"][0]["reference"]
        .as_str()
        .unwrap();
    let retained = conditions
        .iter()
        .find(|c| url_of(&completed, c) == retained)
        .expect("the diagnosis section points at the retained condition");
    assert_eq!(retained["code"]["coding"][0]["code"], "429");
    let document = one(&completed, "DocumentReference");
    let pdf = document["content"][0]["attachment"]["url"]
        .as_str()
        .unwrap();
    assert!(
        pdf.ends_with(&format!("/api/v1/requests/{id}/opinion.pdf?version=1")),
        "{pdf}"
    );
    assert_eq!(
        document["context"]["related"][0]["reference"],
        url_of(&completed, composition).as_str()
    );

    // Another requester, and nobody signed in, cannot read it.
    let other = app
        .register_and_login("other@chu-lille.fr", &rpps(90))
        .await;
    let other = other["access_token"].as_str().unwrap();
    let path = format!("/api/v1/requests/{id}/fhir");
    assert_eq!(app.api.get(&path, Some(other)).await.status, 404);
    assert_eq!(app.api.get(&path, None).await.status, 401);

    // A rejected request and a withdrawn one.
    let rejected = app
        .draft(request_form("FHIR-2"), &cast.requester)
        .await
        .id();
    app.submit_draft(&rejected, &cast.requester).await;
    assert_eq!(
        app.reject(&rejected, "Outside the network's field.", &cast.coordinator)
            .await
            .status,
        200
    );
    let rejected = bundle(&app, &rejected, &cast.requester).await;
    assert_eq!(valid(&rejected), "rejected");
    assert_eq!(one(&rejected, "ServiceRequest")["status"], "revoked");
    let withdrawn = app
        .draft(request_form("FHIR-3"), &cast.requester)
        .await
        .id();
    app.submit_draft(&withdrawn, &cast.requester).await;
    assert_eq!(app.withdraw(&withdrawn, &cast.requester).await.status, 200);
    assert_eq!(
        valid(&bundle(&app, &withdrawn, &cast.requester).await),
        "cancelled"
    );
    assert!(
        app.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'fhir.read'")
            .await
            >= 12,
        "every read is audited"
    );
}

async fn the_fhir_export_streams_every_request_changed_since_an_instant(backend: Backend) {
    let app = spawn_app(backend).await;
    let cast = Cast::new(&app).await;
    let (_, admin) = app.staff(&ADMIN).await;
    let old = app
        .draft(request_form("FHIR-OLD"), &cast.requester)
        .await
        .id();
    app.execute(&format!(
        "UPDATE requests SET updated_at = '2020-01-01 00:00:00', created_at = '2020-01-01 00:00:00' WHERE id = '{old}'"
    ))
    .await;
    let mut recent = Vec::new();
    for marker in ["FHIR-N1", "FHIR-N2", "FHIR-N3"] {
        let id = app.draft(request_form(marker), &cast.requester).await.id();
        app.submit_draft(&id, &cast.requester).await;
        recent.push(id);
    }
    let since = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let path = format!("/api/v1/admin/export/fhir?since={since}");
    let export = app.api.get(&path, Some(&admin)).await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(export.content_type().starts_with("application/fhir+ndjson"));
    let lines: Vec<Value> = export
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids, recent,
        "the changed requests, in creation order, not the old one"
    );
    if let Some(count) = fhir_check(&export.text) {
        assert!(count >= lines.len() * 5);
    }
    let everything = app
        .api
        .get("/api/v1/admin/export/fhir?since=2019-12-31", Some(&admin))
        .await;
    assert_eq!(everything.text.lines().count(), 4);

    // Admins only; `since` is required and checked.
    assert_eq!(
        app.api.get(&path, Some(&cast.coordinator)).await.status,
        403
    );
    let missing = app.api.get("/api/v1/admin/export/fhir", Some(&admin)).await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert!(missing.text.contains("since"));
    let bad = app
        .api
        .get("/api/v1/admin/export/fhir?since=yesterday", Some(&admin))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'export.fhir'")
            .await,
        2
    );
}
