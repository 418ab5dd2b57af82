//! The workflow steps the scenarios need: accounts and sign-in (with the second factor), a
//! complete form, a submitted request, a meeting that took place, a draft opinion; and the
//! outbox checks (drained, each row delivered exactly once).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::api::Api;
use super::db::TestDb;
use super::eventually;
use super::process::{Deployment, PASSWORD};
use super::smtp::SmtpSink;

/// Signs in (answering the TOTP challenge for staff accounts); answers the access token.
pub async fn login(api: &Api, deployment: &Deployment, email: &str) -> String {
    let answer = api
        .send(api.post(
            "/api/v1/auth/login",
            None,
            &json!({"email": email, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(answer.status, 200, "login {email}: {}", answer.text);
    if answer.body["mfa_required"] != json!(true) {
        return answer.body["access_token"].as_str().unwrap().to_owned();
    }
    let code = deployment.totp_code(email).await;
    let answer = api
        .send(api.post(
            "/api/v1/auth/login/mfa",
            None,
            &json!({"mfa_token": answer.body["mfa_token"], "code": code}),
        ))
        .await;
    assert_eq!(
        answer.status, 200,
        "second factor of {email}: {}",
        answer.text
    );
    answer.body["access_token"].as_str().unwrap().to_owned()
}

/// A requester and a coordinator (and an admin, if asked), made with `users add`, signed in.
pub struct Cast {
    pub requester_email: String,
    pub requester: String,
    pub coordinator: String,
    pub admin: Option<String>,
}

impl Cast {
    pub async fn new(deployment: &Deployment, api: &Api, with_admin: bool) -> Cast {
        let requester_email = "requester@chu-nancy.fr".to_owned();
        let coordinator_email = "coordinator@necker.fr".to_owned();
        deployment
            .add_user(&requester_email, &super::rpps(500), &["requester"])
            .await;
        deployment
            .add_user(&coordinator_email, &super::rpps(501), &["coordinator"])
            .await;
        if with_admin {
            deployment
                .add_user("admin@necker.fr", &super::rpps(502), &["admin"])
                .await;
        }
        let admin = if with_admin {
            Some(login(api, deployment, "admin@necker.fr").await)
        } else {
            None
        };
        Cast {
            requester: login(api, deployment, &requester_email).await,
            coordinator: login(api, deployment, &coordinator_email).await,
            requester_email,
            admin,
        }
    }
}

/// A form complete enough to submit; `marker` is kept in `patient.local_id` to find the row.
pub fn complete_form(marker: &str) -> Value {
    json!({
        "topic": "diagnosis",
        "urgency": "routine",
        "patient": {"initials": "AB", "sex": "female", "birth_date": "2019-04-12", "local_id": marker},
        "question": "Which skeletal dysplasia? Is FGFR3 testing indicated?",
        "clinical_summary": "Short limbs noted at 2 years, height -3.1 SD",
        "hpo_terms": ["HP:0004322"],
        "consent_obtained": true
    })
}

/// A draft with a complete form: answers its id and reference.
pub async fn draft(api: &Api, requester: &str, marker: &str) -> (String, String) {
    let answer = api
        .send(api.post("/api/v1/requests", Some(requester), &complete_form(marker)))
        .await;
    assert_eq!(answer.status, 201, "create: {}", answer.text);
    (
        answer.id(),
        answer.body["reference"].as_str().unwrap().to_owned(),
    )
}

pub async fn submit(api: &Api, requester: &str, id: &str) {
    let answer = api
        .send(api.post(
            &format!("/api/v1/requests/{id}/submit"),
            Some(requester),
            &json!({}),
        ))
        .await;
    assert_eq!(answer.status, 200, "submit: {}", answer.text);
}

/// An extraordinary meeting of rcp-national starting at `starts_in` from now (negative: it
/// started already and can be held).
pub async fn meeting(
    api: &Api,
    coordinator: &str,
    starts_in: chrono::Duration,
    capacity: i64,
) -> String {
    let starts_at = (chrono::Utc::now() + starts_in).to_rfc3339();
    let answer = api
        .send(api.post(
            "/api/v1/staffs/rcp-national/meetings",
            Some(coordinator),
            &json!({"starts_at": starts_at, "capacity": capacity}),
        ))
        .await;
    assert_eq!(answer.status, 201, "meeting: {}", answer.text);
    answer.id()
}

pub fn opinion() -> Value {
    json!({
        "summary": "Clinical and radiological features suggest hypochondroplasia.",
        "diagnosis": {"text": "Hypochondroplasia", "orpha_code": "ORPHA:429", "status": "probable"},
        "recommendations": [{"kind": "genetic_test", "text": "FGFR3 targeted sequencing"}]
    })
}

/// A request discussed in a meeting that took place, with a draft opinion ready to deliver.
pub struct Case {
    pub id: String,
    pub reference: String,
}

pub async fn discussed_case(api: &Api, cast: &Cast, marker: &str) -> Case {
    let (id, reference) = draft(api, &cast.requester, marker).await;
    submit(api, &cast.requester, &id).await;
    let meeting = meeting(api, &cast.coordinator, chrono::Duration::hours(-1), 10).await;
    let scheduled = api
        .send(api.post(
            &format!("/api/v1/requests/{id}/schedule"),
            Some(&cast.coordinator),
            &json!({"meeting_id": meeting}),
        ))
        .await;
    assert_eq!(scheduled.status, 200, "schedule: {}", scheduled.text);
    let held = api
        .send(api.post(
            &format!("/api/v1/meetings/{meeting}/held"),
            Some(&cast.coordinator),
            &json!({
                "participants": [
                    {"name": "Pr A", "specialty": "Genetics", "site_code": "necker"},
                    {"name": "Dr B", "specialty": "Radiology", "site_code": "necker"},
                    {"name": "Dr C", "specialty": "Orthopedics", "site_code": "lyon"}
                ],
                "discussed": [id]
            }),
        ))
        .await;
    assert_eq!(held.status, 200, "held: {}", held.text);
    let drafted = api
        .send(api.put(
            &format!("/api/v1/requests/{id}/opinion"),
            Some(&cast.coordinator),
            &opinion(),
        ))
        .await;
    assert_eq!(drafted.status, 200, "opinion: {}", drafted.text);
    assert_eq!(drafted.body["status"], "draft");
    Case { id, reference }
}

pub fn deliver_request(api: &Api, coordinator: &str, id: &str) -> reqwest::RequestBuilder {
    api.post(
        &format!("/api/v1/requests/{id}/opinion/deliver"),
        Some(coordinator),
        &json!({}),
    )
}

/// Waits until no outbox row is pending any more.
pub async fn drained(db: &TestDb, limit: Duration) {
    eventually(
        limit,
        Duration::from_millis(100),
        "the outbox drains",
        || async {
            let pending = db
                .count("SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'")
                .await;
            (pending == 0).then_some(())
        },
    )
    .await;
}

/// Every outbox row was received exactly once by the sink, at its recipient, and the sink
/// received nothing else.
pub async fn assert_each_row_delivered_once(db: &TestDb, sink: &SmtpSink) {
    let rows = db
        .rows("SELECT id AS a, recipient AS b, status AS c FROM outbox")
        .await;
    let received = sink.by_outbox_id();
    let duplicated: Vec<(&String, &usize)> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "{} message(s) sent more than once: {duplicated:?}",
        duplicated.len()
    );
    let ids: HashSet<&str> = rows.iter().map(|row| row.a()).collect();
    let missing: Vec<&&str> = ids
        .iter()
        .filter(|id| !received.contains_key(**id))
        .collect();
    assert!(
        missing.is_empty(),
        "outbox rows never received: {missing:?}"
    );
    let unknown: Vec<&String> = received
        .keys()
        .filter(|id| !ids.contains(id.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "messages with no outbox row: {unknown:?}"
    );
    let recipients: HashMap<String, Vec<String>> = sink
        .mails()
        .into_iter()
        .map(|mail| (mail.outbox_id(), mail.to))
        .collect();
    for row in &rows {
        assert_eq!(row.c(), "sent", "row {} is {}", row.a(), row.c());
        assert_eq!(
            recipients[row.a()],
            vec![row.b().to_owned()],
            "recipient of {}",
            row.a()
        );
    }
    assert_eq!(sink.count(), rows.len(), "one message per outbox row");
}
