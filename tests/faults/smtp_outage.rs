//! The SMTP server refuses connections, or accepts them and never answers, then comes back: the
//! API keeps answering, every e-mail waits in the outbox with its attempts and last error, backs
//! off, and is delivered exactly once after the recovery.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::on_both_backends;
use crate::rig::eventually;
use crate::rig::process::Deployment;
use crate::rig::workflow::{Scene, assert_each_row_delivered_once, cast, drained};
use crate::support::api::Api;
use crate::support::backend::Backend;
use crate::support::cast::{ADMIN, Cast, Stage, rpps};
use crate::support::forms::{registration, request_form};
use crate::support::smtp::{Mode, SmtpSink};

on_both_backends!(
    an_smtp_outage_loses_nothing_and_each_message_goes_out_once_after_it,
    a_silent_smtp_relay_does_not_freeze_the_worker,
);

/// Queues e-mails through the API (a submitted request: one to the requester, one to the
/// coordinator); the API must answer at once, whatever SMTP does.
async fn submit_one(api: &Api, cast: &Cast, marker: &str) {
    let created = api
        .create_request(request_form(marker), &cast.requester)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let submitted = api.submit(&created.id(), &cast.requester).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    for answer in [&created, &submitted] {
        assert!(
            answer.elapsed < Duration::from_secs(2),
            "the API answered in {:?} while SMTP is down",
            answer.elapsed
        );
    }
}

async fn outbox_page(api: &Api, admin: &str) -> Vec<Value> {
    let page = api.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["items"].as_array().unwrap().clone()
}

async fn an_smtp_outage_loses_nothing_and_each_message_goes_out_once_after_it(backend: Backend) {
    let sink = SmtpSink::down_on_free_port();
    let mut deployment = Deployment::new(&backend, sink.port);
    deployment.set("EMAIL__TIMEOUT_SECONDS", 1);
    let server = deployment.serve().await;
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    let admin = Scene {
        deployment: &deployment,
        api: &api,
    }
    .enter(&ADMIN)
    .await;

    // 1. Connections refused: the API answers, the e-mails queue.
    let outage = Instant::now();
    for i in 0..8 {
        submit_one(&api, &cast, &format!("outage-{i}")).await;
    }
    for i in 0..4 {
        let answer = api
            .register(registration(
                &format!("newcomer{i}@chu-lille.fr"),
                &rpps(600 + i),
            ))
            .await;
        assert_eq!(answer.status, 202, "{}", answer.text);
    }
    let queued = 8 * 2 + 4;
    assert_eq!(
        deployment
            .db
            .count("SELECT COUNT(*) AS n FROM outbox")
            .await,
        queued
    );

    // Back-off is visible to an admin: every message retried, with the error kept.
    let items = eventually(
        Duration::from_secs(15),
        Duration::from_millis(200),
        "every message attempted at least twice, its error recorded",
        || async {
            let items = outbox_page(&api, &admin).await;
            items
                .iter()
                .all(|item| {
                    item["status"] == "pending"
                        && item["attempts"].as_i64().unwrap() >= 2
                        && item["last_error"].as_str().is_some_and(|e| !e.is_empty())
                })
                .then_some(items)
        },
    )
    .await;
    assert_eq!(items.len() as i64, queued);
    let most = items
        .iter()
        .map(|item| item["attempts"].as_i64().unwrap())
        .max()
        .unwrap();
    let elapsed = outage.elapsed().as_secs_f64();
    eprintln!("after {elapsed:.1} s of outage: at most {most} attempts per message");
    assert!(
        (most as f64) <= 3.0 + elapsed,
        "{most} attempts in {elapsed:.1} s: the worker does not back off (it polls every 100 ms)"
    );

    // Still answering, still queueing.
    for i in 0..2 {
        submit_one(&api, &cast, &format!("late-{i}")).await;
    }

    // 2. SMTP is back: everything goes out, once.
    sink.up().await;
    drained(&deployment.db, Duration::from_secs(40)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_each_row_delivered_once(&deployment.db, &sink).await;
    assert_eq!(sink.count() as i64, queued + 4, "nothing lost");
    let retried = deployment
        .db
        .count(
            "SELECT COUNT(*) AS n FROM outbox \
             WHERE status = 'sent' AND attempts > 1 AND last_error IS NOT NULL",
        )
        .await;
    assert!(
        retried >= queued,
        "each message queued early records its failed attempts and last error: {retried}"
    );
    assert_eq!(api.get("/readyz", None).await.status, 200, "still serving");
}

/// A relay that accepts connections and never says a word (overloaded, tarpitting, half-dead):
/// each attempt must give up after `email.timeout_seconds`, so the worker keeps recording
/// attempts and goes on with the other messages instead of waiting forever on one.
async fn a_silent_smtp_relay_does_not_freeze_the_worker(backend: Backend) {
    let sink = SmtpSink::down_on_free_port();
    sink.set_mode(Mode::Hang);
    sink.up().await;
    let mut deployment = Deployment::new(&backend, sink.port);
    deployment.set("EMAIL__TIMEOUT_SECONDS", 1);
    let server = deployment.serve().await;
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    for i in 0..3 {
        submit_one(&api, &cast, &format!("silent-{i}")).await;
    }
    let attempts = "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) AS n FROM outbox";
    let started = Instant::now();
    let recorded = eventually(
        Duration::from_secs(10),
        Duration::from_millis(200),
        "attempts on a silent relay end after email.timeout_seconds (1 s) and are recorded",
        || async {
            let n = deployment.db.count(attempts).await;
            (n >= 3).then_some(n)
        },
    )
    .await;
    eprintln!(
        "{recorded} attempts recorded in {:.1} s against a silent relay",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(api.get("/readyz", None).await.status, 200, "still serving");

    // The relay recovers: everything goes out, once.
    sink.down().await;
    sink.set_mode(Mode::Accept);
    sink.up().await;
    drained(&deployment.db, Duration::from_secs(40)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_each_row_delivered_once(&deployment.db, &sink).await;
    assert_eq!(sink.count(), 6, "nothing lost");
}
