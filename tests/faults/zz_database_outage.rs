//! The database away: a SQLite write lock held longer than the busy timeout, and PostgreSQL
//! restarted under load. Requests get 503 problem+json in bounded time (never 500, never a
//! hang), the service recovers by itself, and nothing half-written remains.
//!
//! The restart is of a throwaway cluster the test starts itself (`rig::cluster`): the
//! machine's own server, the one `TEST_DATABASE_URL` names, is never stopped or restarted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use crate::rig::cluster::Cluster;
use crate::rig::eventually;
use crate::rig::process::Deployment;
use crate::rig::workflow::{cast, draft, drained};
use crate::support::api::{Answer, Api};
use crate::support::backend::Backend;
use crate::support::forms::request_form;
use crate::support::smtp::SmtpSink;
use crate::{on_postgres, on_sqlite};

on_sqlite!(a_write_lock_held_past_the_busy_timeout_answers_503_problem_json);
on_postgres!(a_postgresql_restart_under_load_answers_503_and_leaves_nothing_half_written);

const POOL_TIMEOUT: Duration = Duration::from_secs(2);

fn assert_503_problem(answer: &Answer, what: &str) {
    assert!(
        answer.is_problem(503),
        "{what}: expected 503 problem+json, got {} {} {}",
        answer.status,
        answer.content_type(),
        answer.text
    );
}

async fn a_write_lock_held_past_the_busy_timeout_answers_503_problem_json(backend: Backend) {
    let sink = SmtpSink::start().await;
    let mut deployment = Deployment::new(&backend, sink.port);
    deployment.set("DATABASE__SQLITE_BUSY_TIMEOUT_MS", 300);
    let db = &deployment.db;
    let server = deployment.serve().await;
    let api = server.api();
    let cast = cast(&deployment, &api).await;
    let existing = draft(&api, &cast.requester, "before-the-lock").await;
    drained(db, Duration::from_secs(20)).await;
    let requests_before = db.count("SELECT COUNT(*) AS n FROM requests").await;

    let lock = db.hold("BEGIN IMMEDIATE").await;
    let held = Instant::now();
    let mut writes = JoinSet::new();
    for i in 0..6 {
        let form = request_form(&format!("locked-{i}"));
        writes.spawn(api.create_request(form, &cast.requester).try_send());
    }
    writes.spawn(api.submit(&existing, &cast.requester).try_send());
    // Reads go on (WAL): the list and readiness answer while the writers wait.
    let list = api.get("/api/v1/requests", Some(&cast.requester)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(api.get("/readyz", None).await.status, 200);
    let mut slowest = Duration::ZERO;
    while let Some(answer) = writes.join_next().await {
        let answer = answer.unwrap().expect("an answer");
        assert_503_problem(&answer, "a write while another connection holds the lock");
        assert!(
            answer.elapsed < Duration::from_millis(300) + POOL_TIMEOUT,
            "answered after {:?}",
            answer.elapsed
        );
        slowest = slowest.max(answer.elapsed);
    }
    eprintln!("writes answered 503 within {slowest:?} (busy timeout 300 ms)");
    // Still held, longer than the busy timeout several times over.
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(held.elapsed())).await;
    lock.release();

    // Nothing of the refused writes; writes work again.
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM requests").await,
        requests_before
    );
    assert_eq!(
        db.strings(&format!(
            "SELECT status AS a FROM requests WHERE id = '{existing}'"
        ))
        .await,
        ["draft"]
    );
    let created = api
        .create_request(request_form("after"), &cast.requester)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let submitted = api.submit(&existing, &cast.requester).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    assert_complete(&deployment, 1).await;
}

/// Every request stored is whole: a reference, its timeline, its audit rows, and for a
/// submitted one its e-mails (`coordinators` of them to coordinators); references gapless.
async fn assert_complete(
    deployment: &Deployment,
    coordinators: i64,
) -> Vec<(String, String, String)> {
    let db = &deployment.db;
    let rows = db
        .rows("SELECT id AS a, reference AS b, status AS c, form AS d FROM requests")
        .await;
    let events = db
        .rows("SELECT request_id AS a, to_status AS b FROM request_events")
        .await;
    let audits = db
        .rows("SELECT entity_id AS a, action AS b FROM audit_log WHERE entity_type = 'request'")
        .await;
    let mails = db.rows("SELECT kind AS a, subject AS b FROM outbox").await;
    let mut problems = Vec::new();
    let mut numbers = Vec::new();
    for row in &rows {
        let (id, reference, status) = (row.a(), row.b(), row.c());
        numbers.push(
            reference
                .rsplit('-')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(-1),
        );
        let has_event = |to: &str| events.iter().filter(|e| e.a() == id && e.b() == to).count();
        let has_audit = |action: &str| {
            audits
                .iter()
                .filter(|a| a.a() == id && a.b() == action)
                .count()
        };
        let mails_of = |kind: &str| {
            mails
                .iter()
                .filter(|m| m.a() == kind && m.b().contains(reference))
                .count() as i64
        };
        if has_event("draft") != 1 || has_audit("request.create") != 1 {
            problems.push(format!(
                "{reference} ({status}): creation events/audit missing"
            ));
        }
        match status {
            "draft" => {
                if has_event("submitted") + has_audit("request.submit") != 0
                    || mails_of("request_submitted") + mails_of("request_submitted_coordinator")
                        != 0
                {
                    problems.push(format!("{reference}: a draft with traces of a submission"));
                }
            }
            "submitted" => {
                if has_event("submitted") != 1
                    || has_audit("request.submit") != 1
                    || mails_of("request_submitted") != 1
                    || mails_of("request_submitted_coordinator") != coordinators
                {
                    problems.push(format!(
                        "{reference}: submitted, but events {} audit {} mails {}+{}",
                        has_event("submitted"),
                        has_audit("request.submit"),
                        mails_of("request_submitted"),
                        mails_of("request_submitted_coordinator")
                    ));
                }
            }
            other => problems.push(format!("{reference}: unexpected status {other}")),
        }
    }
    numbers.sort();
    if numbers != (1..=rows.len() as i64).collect::<Vec<_>>() {
        problems.push(format!("references not gapless: {numbers:?}"));
    }
    assert!(
        problems.is_empty(),
        "half-written requests:\n{}",
        problems.join("\n")
    );
    rows.iter()
        .map(|row| {
            let form: Value = serde_json::from_str(row.d()).unwrap_or(Value::Null);
            (
                row.a().to_owned(),
                row.c().to_owned(),
                form["patient"]["local_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// When a PostgreSQL server last started (microseconds since the epoch).
fn started_at(server: &str) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Started {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::PgConnection::establish(server).expect("the machine's server answers");
    diesel::sql_query(
        "SELECT CAST(EXTRACT(EPOCH FROM pg_postmaster_start_time()) * 1000000 AS BIGINT) AS n",
    )
    .get_result::<Started>(&mut conn)
    .expect("the server's start time")
    .n
}

#[derive(Debug)]
struct Record {
    op: &'static str,
    marker: String,
    started: Duration,
    answer: Result<Answer, String>,
}

async fn a_postgresql_restart_under_load_answers_503_and_leaves_nothing_half_written(
    backend: Backend,
) {
    // A cluster of its own, never the server `TEST_DATABASE_URL` names (asking for the
    // PostgreSQL runs is what `backend` says).
    let Backend::Postgres(machine_server) = backend else {
        unreachable!()
    };
    let machine_started = started_at(&machine_server);
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let backend = Backend::Postgres(cluster.url());
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let mut server = deployment.serve().await;
    let api = server.api();
    let cast = Arc::new(cast(&deployment, &api).await);
    let pid = server.pid();

    // Load: clients creating and submitting requests, and reading lists, without pause.
    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = JoinSet::new();
    for client in 0..6 {
        let (api, cast, stop) = (Api::new(server.port.unwrap()), cast.clone(), stop.clone());
        clients.spawn(async move {
            let mut records = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let marker = format!("pg-{client}-{n}");
                let started = origin.elapsed();
                let created = api
                    .create_request(request_form(&marker), &cast.requester)
                    .try_send()
                    .await
                    .map_err(|e| format!("{e:?}"));
                let id = created
                    .as_ref()
                    .ok()
                    .filter(|a| a.status == 201)
                    .map(Answer::id);
                records.push(Record {
                    op: "create",
                    marker: marker.clone(),
                    started,
                    answer: created,
                });
                if let Some(id) = id {
                    let started = origin.elapsed();
                    let submitted = api
                        .submit(&id, &cast.requester)
                        .try_send()
                        .await
                        .map_err(|e| format!("{e:?}"));
                    records.push(Record {
                        op: "submit",
                        marker: marker.clone(),
                        started,
                        answer: submitted,
                    });
                }
                let started = origin.elapsed();
                let listed = api
                    .get("/api/v1/requests?limit=5", Some(&cast.requester))
                    .try_send()
                    .await
                    .map_err(|e| format!("{e:?}"));
                records.push(Record {
                    op: "list",
                    marker,
                    started,
                    answer: listed,
                });
                if records
                    .last()
                    .is_some_and(|r| r.answer.as_ref().is_ok_and(|a| a.status == 503))
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            records
        });
    }

    // PostgreSQL stops (fast: sessions terminated), stays down longer than the pool timeout
    // while the clients go on, then starts again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stopping = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || stopping.pg_ctl("stop"))
        .await
        .unwrap();
    let down_at = origin.elapsed();
    tokio::time::sleep(POOL_TIMEOUT * 3).await;
    let start_began = origin.elapsed();
    let starting = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || starting.pg_ctl("start"))
        .await
        .unwrap();
    let restart_ended = origin.elapsed();
    eprintln!("PostgreSQL down from {down_at:?} to {start_began:?}, up again at {restart_ended:?}");
    // The service comes back by itself.
    let recovered = eventually(
        Duration::from_secs(15),
        Duration::from_millis(100),
        "the service answers again after the restart",
        || async {
            let ready = api.get("/readyz", None).try_send().await.ok()?;
            (ready.status == 200).then(|| origin.elapsed())
        },
    )
    .await;
    eprintln!(
        "ready again {:.1} s after PostgreSQL was back",
        (recovered.saturating_sub(restart_ended)).as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    stop.store(true, Ordering::SeqCst);
    let mut records = Vec::new();
    while let Some(done) = clients.join_next().await {
        records.extend(done.unwrap());
    }
    assert!(server.running(), "the same process serves throughout");
    assert_eq!(server.pid(), pid);
    assert_eq!(
        started_at(&machine_server),
        machine_started,
        "the server TEST_DATABASE_URL names was not restarted"
    );

    // Answers: 2xx, or 503 problem+json within the pool timeout; never 500, never a hang.
    let mut tally: HashMap<String, usize> = HashMap::new();
    let mut wrong = Vec::new();
    let mut slowest = Duration::ZERO;
    for record in &records {
        match &record.answer {
            Ok(answer) => {
                *tally
                    .entry(format!("{} {}", record.op, answer.status))
                    .or_default() += 1;
                slowest = slowest.max(answer.elapsed);
                let fine = (200..300).contains(&answer.status) || answer.is_problem(503);
                if !fine {
                    wrong.push(format!(
                        "{} {} at {:?}: {} {} {}",
                        record.op,
                        record.marker,
                        record.started,
                        answer.status,
                        answer.content_type(),
                        answer.text
                    ));
                }
                if answer.elapsed > POOL_TIMEOUT + Duration::from_secs(3) {
                    wrong.push(format!(
                        "{} {} at {:?}: answered after {:?}",
                        record.op, record.marker, record.started, answer.elapsed
                    ));
                }
            }
            Err(error) => {
                *tally.entry(format!("{} no answer", record.op)).or_default() += 1;
                wrong.push(format!(
                    "{} {} at {:?}: no answer: {error}",
                    record.op, record.marker, record.started
                ));
            }
        }
    }
    eprintln!("answers: {tally:?}; slowest {slowest:?}");
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // A request made and answered while PostgreSQL was down can only be a 503.
    let during: Vec<&Record> = records
        .iter()
        .filter(|r| {
            r.started >= down_at
                && r.answer
                    .as_ref()
                    .is_ok_and(|a| r.started + a.elapsed <= start_began)
        })
        .collect();
    for record in &during {
        let answer = record.answer.as_ref().unwrap();
        assert_503_problem(
            answer,
            &format!("{} {} during the outage", record.op, record.marker),
        );
    }
    eprintln!(
        "{} requests made and answered during the outage, all 503",
        during.len()
    );
    assert!(
        during.len() >= 3,
        "the clients saw the outage: {}",
        during.len()
    );

    // Nothing half-written: every stored request whole, every 201 stored once, every 200
    // submission stored as submitted.
    let stored = assert_complete(&deployment, 1).await;
    let mut by_marker: HashMap<&str, Vec<&(String, String, String)>> = HashMap::new();
    for row in &stored {
        by_marker.entry(row.2.as_str()).or_default().push(row);
    }
    for record in &records {
        let Ok(answer) = &record.answer else { continue };
        let rows = by_marker
            .get(record.marker.as_str())
            .cloned()
            .unwrap_or_default();
        match (record.op, answer.status) {
            ("create", 201) => {
                assert_eq!(rows.len(), 1, "{} answered 201: {rows:?}", record.marker)
            }
            ("submit", 200) => assert_eq!(rows[0].1, "submitted", "{}", record.marker),
            _ => {}
        }
        assert!(rows.len() <= 1, "{} stored twice", record.marker);
    }
    let created_201 = records
        .iter()
        .filter(|r| r.op == "create" && r.answer.as_ref().is_ok_and(|a| a.status == 201))
        .count();
    eprintln!(
        "{} requests stored for {created_201} answered 201 ({} creates answered 503)",
        stored.len(),
        records
            .iter()
            .filter(|r| r.op == "create" && r.answer.as_ref().is_ok_and(|a| a.status == 503))
            .count()
    );

    // The worker recovered too: every e-mail goes out (hundreds, one by one: a generous limit).
    drained(db, Duration::from_secs(120)).await;
    let received = sink.by_outbox_id();
    for id in db.strings("SELECT id AS a FROM outbox").await {
        assert!(received.contains_key(&id), "e-mail {id} never sent");
    }
    let _ = server.log_tail(1);
}
