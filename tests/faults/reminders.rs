//! The follow-ups' reminders with the service's clock moved forward (`clock.offset_seconds`,
//! no sleeping): seven days before a recommendation's due date and on it, each once, across a
//! kill between its queuing and its sending; none once the follow-up is submitted.

use std::time::Duration;

use consilium::domain::account::Language;
use serde_json::json;

use crate::on_both_backends;
use crate::rig::eventually;
use crate::rig::process::Deployment;
use crate::rig::workflow::{cast, discussed_case, drained};
use crate::support::backend::Backend;
use crate::support::cast::REQUESTER;
use crate::support::smtp::SmtpSink;

on_both_backends!(reminders_go_once_before_and_on_the_day_whatever_stops);

const DAY: i64 = 86_400;

async fn reminder_rows(deployment: &Deployment) -> i64 {
    deployment
        .db
        .count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'follow_up_reminder'")
        .await
}

/// The reminders the sink received, by their subjects as queued, each checked received once
/// at the requester's address.
async fn reminders_received(deployment: &Deployment, sink: &SmtpSink) -> Vec<String> {
    let rows = deployment
        .db
        .rows(
            "SELECT id AS a, subject AS b, recipient AS c, status AS d FROM outbox \
             WHERE kind = 'follow_up_reminder' ORDER BY created_at",
        )
        .await;
    let received = sink.by_outbox_id();
    rows.iter()
        .filter(|row| received.contains_key(row.a()))
        .map(|row| {
            assert_eq!(received[row.a()], 1, "received once: {row:?}");
            assert_eq!(row.c(), REQUESTER.email);
            assert_eq!(row.d(), "sent");
            row.b().to_owned()
        })
        .collect()
}

async fn reminders_go_once_before_and_on_the_day_whatever_stops(backend: Backend) {
    let sink = SmtpSink::start().await;
    let mut deployment = Deployment::new(&backend, sink.port);
    let mut first = deployment.serve().await;
    let port = first.port.unwrap();
    let api = first.api();
    let cast = cast(&deployment, &api).await;
    let case = discussed_case(&api, &cast, "remind").await;
    // Two recommendations due in ten days: one will be followed up, the other not.
    let due = (chrono::Utc::now().date_naive() + chrono::Duration::days(10)).to_string();
    let opinion = json!({
        "summary": "Achondroplasia is confirmed.",
        "diagnosis": {"text": "Achondroplasia", "status": "confirmed"},
        "recommendations": [
            {"kind": "genetic_test", "text": "Sequence FGFR3", "due_on": due},
            {"kind": "follow_up", "text": "Re-evaluate growth", "due_on": due}
        ],
        "references": []
    });
    let drafted = api.put_opinion(&case.id, opinion, &cast.coordinator).await;
    assert_eq!(drafted.status, 200, "{}", drafted.text);
    assert_eq!(api.deliver(&case.id, &cast.coordinator).await.status, 200);
    let follow_up = api
        .follow_up(&case.id, json!({"recommendation": 0}), &cast.requester)
        .await;
    assert_eq!(follow_up.status, 201, "{}", follow_up.text);
    let follow_up = follow_up.id();
    let summary = json!({"clinical_summary": "FGFR3 sequencing found p.Gly380Arg."});
    assert_eq!(
        api.update_request(&follow_up, summary, &cast.requester)
            .await
            .status,
        200
    );
    assert_eq!(api.submit(&follow_up, &cast.requester).await.status, 200);
    drained(&deployment.db, Duration::from_secs(20)).await;
    assert_eq!(reminder_rows(&deployment).await, 0, "ten days ahead: none");
    first.kill();

    // Four days later, six before the date: the reminder is queued while SMTP is down, and
    // the service dies before it could send it.
    deployment.set("CLOCK__OFFSET_SECONDS", 4 * DAY);
    sink.down().await;
    let mut second = deployment.serve_on(port).await;
    eventually(
        Duration::from_secs(20),
        Duration::from_millis(100),
        "the reminder a week before is queued",
        || async { (reminder_rows(&deployment).await == 1).then_some(()) },
    )
    .await;
    second.kill();
    sink.up().await;
    let mut third = deployment.serve_on(port).await;
    drained(&deployment.db, Duration::from_secs(20)).await;
    // Longer than a lease, so a second claim of the same row would have happened by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        reminders_received(&deployment, &sink).await,
        [format!(
            "Consilium : suivi attendu le {} pour la demande {}",
            consilium::email::local_day(due.parse().unwrap(), Language::Fr),
            case.reference
        )],
        "once, in the requester's language, and only for the recommendation not followed up"
    );
    third.kill();

    // The day itself, then the day after: one more, and no other.
    deployment.set("CLOCK__OFFSET_SECONDS", 10 * DAY);
    let mut fourth = deployment.serve_on(port).await;
    eventually(
        Duration::from_secs(20),
        Duration::from_millis(100),
        "the reminder on the day is queued",
        || async { (reminder_rows(&deployment).await == 2).then_some(()) },
    )
    .await;
    drained(&deployment.db, Duration::from_secs(20)).await;
    fourth.kill();
    deployment.set("CLOCK__OFFSET_SECONDS", 11 * DAY);
    let fifth = deployment.serve_on(port).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(reminder_rows(&deployment).await, 2, "no third one");
    // Past its date with nothing submitted, the re-evaluation is the one overdue.
    let overdue = fifth
        .api()
        .get("/api/v1/follow-ups?state=overdue", Some(&cast.requester))
        .await;
    assert_eq!(overdue.status, 200, "{}", overdue.text);
    let items = overdue.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", overdue.text);
    assert_eq!(items[0]["recommendation"], 1);
    assert_eq!(items[0]["state"], "overdue");
    let received = reminders_received(&deployment, &sink).await;
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(
        received[1],
        format!(
            "Consilium : suivi attendu aujourd'hui pour la demande {}",
            case.reference
        )
    );
    assert_eq!(
        deployment
            .db
            .count(
                "SELECT COUNT(*) AS n FROM audit_log \
                 WHERE action = 'follow_up.remind' AND outcome = 'allowed'"
            )
            .await,
        2
    );
    drop(fifth);
}
