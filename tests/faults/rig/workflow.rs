//! The workflow steps the scenarios need beyond the shared endpoints: accounts made with
//! `users add` and signed in, a meeting, a request discussed in a meeting that took place with a
//! draft opinion; and the outbox checks (drained, each row delivered exactly once).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::db::TestDb;
use super::eventually;
use super::process::Deployment;
use crate::support::api::Api;
use crate::support::cast::{Cast, PASSWORD, Person, Stage};
use crate::support::forms::{meeting_record, opinion, request_form};
use crate::support::smtp::SmtpSink;

/// Signs in (answering the TOTP challenge for staff accounts); answers the access token.
pub async fn login(api: &Api, deployment: &Deployment, email: &str) -> String {
    let pair = api.sign_in(email, PASSWORD, &deployment.totp).await;
    pair["access_token"].as_str().unwrap().to_owned()
}

/// The deployment's accounts, made by the operator with `users add`, signed in through `api`.
pub struct Scene<'a> {
    pub deployment: &'a Deployment,
    pub api: &'a Api,
}

impl Stage for Scene<'_> {
    async fn enter(&self, person: &Person) -> String {
        self.deployment
            .add_user(person.email, &person.rpps(), person.roles)
            .await;
        login(self.api, self.deployment, person.email).await
    }
}

/// The requester and the coordinator, made with `users add` and signed in through `api`.
pub async fn cast(deployment: &Deployment, api: &Api) -> Cast {
    Cast::new(&Scene { deployment, api }).await
}

/// A draft with a complete form, `marker` as its patient's local id: answers its id.
pub async fn draft(api: &Api, requester: &str, marker: &str) -> String {
    api.draft(request_form(marker), requester).await.id()
}

/// A submitted request, `marker` as its patient's local id.
pub async fn submitted(api: &Api, requester: &str, marker: &str) {
    let id = draft(api, requester, marker).await;
    api.submit_draft(&id, requester).await;
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
        .create_meeting("rcp-national", &starts_at, capacity, coordinator)
        .await;
    assert_eq!(answer.status, 201, "meeting: {}", answer.text);
    answer.id()
}

/// A request discussed in a meeting that took place, with a draft opinion ready to deliver.
pub struct Case {
    pub id: String,
    pub reference: String,
}

pub async fn discussed_case(api: &Api, cast: &Cast, marker: &str) -> Case {
    let draft = api.draft(request_form(marker), &cast.requester).await;
    let id = draft.id();
    let reference = draft.body["reference"].as_str().unwrap().to_owned();
    api.submit_draft(&id, &cast.requester).await;
    let meeting = meeting(api, &cast.coordinator, chrono::Duration::hours(-1), 10).await;
    let scheduled = api.schedule(&id, &meeting, &cast.coordinator).await;
    assert_eq!(scheduled.status, 200, "schedule: {}", scheduled.text);
    let held = api
        .hold(&meeting, meeting_record(&[&id]), &cast.coordinator)
        .await;
    assert_eq!(held.status, 200, "held: {}", held.text);
    let drafted = api.put_opinion(&id, opinion(), &cast.coordinator).await;
    assert_eq!(drafted.status, 200, "opinion: {}", drafted.text);
    assert_eq!(drafted.body["status"], "draft");
    Case { id, reference }
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
