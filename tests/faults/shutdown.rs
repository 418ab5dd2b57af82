//! Graceful shutdown: SIGTERM under load lets every request already sent finish with its
//! answer, then stops the e-mail worker between two messages, leaving every outbox row pending
//! or sent; after a restart nothing is sent twice.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::rig::eventually;
use crate::rig::process::{Deployment, Instance};
use crate::rig::workflow::{assert_each_row_delivered_once, cast, drained, submitted};
use crate::support::api::{Answer, Api, Call};
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, REQUESTER};
use crate::support::forms::request_form;
use crate::support::smtp::SmtpSink;
use crate::{on_both_backends, on_sqlite};

on_both_backends!(
    sigterm_lets_every_request_in_flight_finish_with_its_answer,
    sigterm_stops_the_worker_between_two_messages,
);
on_sqlite!(sigint_lets_every_request_in_flight_finish_as_the_readme_says);

#[derive(Clone, Copy, Debug)]
enum Signal {
    Term,
    Int,
}

async fn sigterm_lets_every_request_in_flight_finish_with_its_answer(backend: Backend) {
    in_flight_requests_finish(backend, Signal::Term).await
}

/// The README: "SIGTERM/SIGINT stop the server gracefully: in-flight requests finish".
async fn sigint_lets_every_request_in_flight_finish_as_the_readme_says(backend: Backend) {
    in_flight_requests_finish(backend, Signal::Int).await
}

/// Outbox rows are either waiting or sent, never anything in between.
async fn assert_pending_or_sent(deployment: &Deployment) {
    let other = deployment
        .db
        .strings("SELECT status AS a FROM outbox WHERE status NOT IN ('pending', 'sent')")
        .await;
    assert!(
        other.is_empty(),
        "outbox rows neither pending nor sent: {other:?}"
    );
}

async fn in_flight_requests_finish(backend: Backend, signal: Signal) {
    let sink = SmtpSink::start().await;
    let mut deployment = Deployment::new(&backend, sink.port);
    deployment.set("DATABASE__SQLITE_BUSY_TIMEOUT_MS", 20_000);
    deployment.set("DATABASE__POOL_SIZE", 20);
    let mut server = deployment.serve().await;
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    let db = &deployment.db;
    for i in 0..3 {
        submitted(&api, &cast.requester, &format!("s{i}")).await;
    }

    // Writes are made to wait on a lock held by another connection, so they are surely in
    // flight when the signal comes; sign-ins (argon2) and reads run beside them.
    let lock = if db.is_postgres() {
        db.hold("BEGIN; LOCK TABLE requests IN EXCLUSIVE MODE")
            .await
    } else {
        db.hold("BEGIN IMMEDIATE").await
    };
    let fresh = Api::fresh_connections(server.port.unwrap());
    let mut calls: Vec<(&'static str, Call)> = Vec::new();
    for i in 0..8 {
        let form = request_form(&format!("in-flight-{i}"));
        calls.push(("create", fresh.create_request(form, &cast.requester)));
    }
    for _ in 0..4 {
        calls.push(("login", fresh.login(REQUESTER.email, PASSWORD)));
    }
    for _ in 0..4 {
        calls.push(("list", fresh.get("/api/v1/requests", Some(&cast.requester))));
    }
    let mut in_flight: JoinSet<(&'static str, Result<Answer, String>)> = JoinSet::new();
    for (what, call) in calls {
        in_flight.spawn(async move { (what, call.try_send().await.map_err(|e| format!("{e:?}"))) });
    }
    if db.is_postgres() {
        eventually(
            Duration::from_secs(10),
            Duration::from_millis(50),
            "the creates wait for the lock",
            || async {
                let waiting = db
                    .count(
                        "SELECT COUNT(*) AS n FROM pg_stat_activity \
                         WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    )
                    .await;
                (waiting >= 8).then_some(())
            },
        )
        .await;
    } else {
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    assert!(in_flight.len() >= 8, "the writes are still waiting");

    let signalled = Instant::now();
    match signal {
        Signal::Term => server.terminate(),
        Signal::Int => server.interrupt(),
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        server.running(),
        "the server waits for the requests in flight ({signal:?})"
    );
    lock.release();

    let mut failures = Vec::new();
    let mut created = 0;
    while let Some(joined) = in_flight.join_next().await {
        let (what, answer) = joined.unwrap();
        match answer {
            Ok(answer) if what == "create" && answer.status == 201 => created += 1,
            Ok(answer) if what != "create" && answer.status == 200 => {}
            Ok(answer) => failures.push(format!("{what}: {} {}", answer.status, answer.text)),
            Err(error) => failures.push(format!("{what}: no answer: {error}")),
        }
    }
    assert!(
        failures.is_empty(),
        "requests in flight at {signal:?} without their answer:\n{}",
        failures.join("\n")
    );
    let status = server.wait_exit(Duration::from_secs(15)).await;
    eprintln!(
        "exited {:?} after {:.1} s",
        status,
        signalled.elapsed().as_secs_f64()
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the server exits cleanly after its requests: {status:?}"
    );
    assert_eq!(created, 8);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM requests").await,
        3 + 8,
        "every create answered 201 exists, and nothing else"
    );
    assert_pending_or_sent(&deployment).await;

    let _back = deployment.serve_on(server.port.unwrap()).await;
    drained(db, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_row_delivered_once(db, &sink).await;
}

/// A slow relay (300 ms a message) and a backlog: after SIGTERM the worker finishes the message
/// it is sending and starts no other one; the process exits promptly; every row is pending or
/// sent, and exactly the sent rows reached the relay.
async fn sigterm_stops_the_worker_between_two_messages(backend: Backend) {
    let sink = SmtpSink::down_on_free_port();
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let mut server: Instance = deployment.serve().await;
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    for i in 0..13 {
        submitted(&api, &cast.requester, &format!("b{i}")).await;
    }
    // Every message has failed once (SMTP down); make them all due together, so the next pass
    // claims a full batch.
    eventually(
        Duration::from_secs(10),
        Duration::from_millis(100),
        "every message attempted once",
        || async {
            let fresh = db
                .count("SELECT COUNT(*) AS n FROM outbox WHERE attempts = 0")
                .await;
            (fresh == 0).then_some(())
        },
    )
    .await;
    db.execute("UPDATE outbox SET next_attempt_at = created_at")
        .await;
    sink.set_delay(Duration::from_millis(300));
    sink.up().await;
    eventually(
        Duration::from_secs(10),
        Duration::from_millis(10),
        "the worker is sending",
        || async { (sink.count() >= 3).then_some(()) },
    )
    .await;

    // No idle keep-alive connection of ours may hold the HTTP server's graceful stop.
    drop(api);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = sink.count();
    let signalled = Instant::now();
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(30)).await;
    let took = signalled.elapsed();
    let after = sink.count();
    eprintln!(
        "SIGTERM with {before} messages received: exited {status:?} after {:.1} s, {} more messages sent meanwhile",
        took.as_secs_f64(),
        after - before
    );
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert_eq!(sink.aborted_data(), 0, "no message cut in the middle");
    assert_pending_or_sent(&deployment).await;
    let sent: std::collections::HashSet<String> = db
        .strings("SELECT id AS a FROM outbox WHERE status = 'sent'")
        .await
        .into_iter()
        .collect();
    let received: std::collections::HashSet<String> = sink.by_outbox_id().into_keys().collect();
    assert_eq!(
        received, sent,
        "the relay got exactly the messages marked sent (none sent and left pending)"
    );
    assert!(
        after - before <= 2 && took < Duration::from_secs(3),
        "after SIGTERM the worker sent {} more messages and the process took {:.1} s to exit: \
         it stops between batches ({} messages claimed at once), not between two messages",
        after - before,
        took.as_secs_f64(),
        20
    );

    sink.set_delay(Duration::ZERO);
    let _back = deployment.serve_on(server.port.unwrap()).await;
    drained(db, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_each_row_delivered_once(db, &sink).await;
    assert_eq!(sink.count(), 26);
}
