//! Two API instances (`serve`, each with its worker) and two `worker` processes on one
//! database: no e-mail sent twice, no reference allocated twice, no meeting over capacity.

use std::time::Duration;

use tokio::task::JoinSet;

use crate::rig::eventually;
use crate::rig::process::{Deployment, Instance};
use crate::rig::workflow::{assert_each_row_delivered_once, drained, login, meeting, submitted};
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::forms::request_form;
use crate::support::smtp::{SmtpSink, free_port};
use crate::{on_both_backends, on_postgres};

on_postgres!(
    four_processes_starting_together_on_a_fresh_database_all_come_up,
    the_sign_in_throttle_is_one_limit_across_instances,
    two_api_instances_and_two_workers_never_duplicate_a_mail_a_reference_or_a_place,
);
on_both_backends!(a_slow_smtp_relay_never_makes_two_workers_send_one_message_twice);

/// A deployment of several instances rolls out at once: the first to take the lock migrates,
/// and every one of them must come up (seeding the network and the meetings included).
async fn four_processes_starting_together_on_a_fresh_database_all_come_up(backend: Backend) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let mut a = deployment.spawn_serve_on(free_port());
    let mut b = deployment.spawn_serve_on(free_port());
    let mut w1 = deployment.spawn_worker();
    let mut w2 = deployment.spawn_worker();
    for instance in [&mut a, &mut b, &mut w1, &mut w2] {
        instance.wait_ready().await;
    }
    assert_eq!(
        deployment
            .db
            .count("SELECT COUNT(*) AS n FROM centers")
            .await,
        1
    );
}

/// The first instance migrates and seeds; the three others start together afterwards.
async fn four_processes(deployment: &Deployment) -> (Instance, Instance, Instance, Instance) {
    let a = deployment.serve().await;
    let mut b = deployment.spawn_serve_on(free_port());
    let mut w1 = deployment.spawn_worker();
    let mut w2 = deployment.spawn_worker();
    for instance in [&mut b, &mut w1, &mut w2] {
        instance.wait_ready().await;
    }
    (a, b, w1, w2)
}

async fn two_api_instances_and_two_workers_never_duplicate_a_mail_a_reference_or_a_place(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let (a, b, _w1, _w2) = four_processes(&deployment).await;
    let apis = [a.api(), b.api()];

    // Accounts made with the command line, signed in through both instances.
    let mut requesters = Vec::new();
    for i in 0..4u32 {
        let email = format!("requester{i}@chu-nancy.fr");
        deployment
            .add_user(&email, &rpps(520 + i), &["requester"])
            .await;
        requesters.push(login(&apis[i as usize % 2], &deployment, &email).await);
    }
    let mut coordinators = Vec::new();
    for i in 0..6u32 {
        let email = format!("coordinator{i}@necker.fr");
        deployment
            .add_user(&email, &rpps(530 + i), &["coordinator"])
            .await;
        coordinators.push(login(&apis[i as usize % 2], &deployment, &email).await);
    }

    // 100 drafts created at once through both instances: one reference each, gapless.
    let mut creating = JoinSet::new();
    for i in 0..100usize {
        let request =
            apis[i % 2].create_request(request_form(&format!("multi-{i}")), &requesters[i % 4]);
        creating.spawn(async move { (i % 4, request.try_send().await) });
    }
    // (request id, index of its requester's token)
    let mut drafts: Vec<(String, usize)> = Vec::new();
    while let Some(joined) = creating.join_next().await {
        let (owner, answer) = joined.unwrap();
        let answer = answer.expect("an answer");
        assert_eq!(answer.status, 201, "{}", answer.text);
        drafts.push((answer.id(), owner));
    }
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT reference) AS n FROM requests")
            .await,
        100
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM requests").await, 100);
    let mut numbers: Vec<i64> = db
        .strings("SELECT reference AS a FROM requests")
        .await
        .iter()
        .map(|reference| reference.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=100).collect::<Vec<i64>>(),
        "gapless, none twice"
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 'requests' \
             AND indexdef LIKE 'CREATE UNIQUE INDEX%(reference)%'"
        )
        .await,
        1,
        "the database itself refuses a reference twice"
    );

    // 30 of them submitted at once through both instances.
    let mut submitting = JoinSet::new();
    let mut submitted = Vec::new();
    for (i, (id, owner)) in drafts.iter().take(30).enumerate() {
        submitted.push(id.clone());
        submitting.spawn(apis[i % 2].submit(id, &requesters[*owner]).try_send());
    }
    while let Some(answer) = submitting.join_next().await {
        let answer = answer.unwrap().expect("an answer");
        assert_eq!(answer.status, 200, "{}", answer.text);
    }

    // Six coordinators race for the five places of one meeting through both instances.
    let capacity = 5;
    let meeting_id = meeting(
        &apis[0],
        &coordinators[0],
        chrono::Duration::days(20),
        capacity,
    )
    .await;
    let mut scheduling = JoinSet::new();
    for (i, id) in submitted.iter().enumerate() {
        let request = apis[i % 2].schedule(id, &meeting_id, &coordinators[i % 6]);
        scheduling.spawn(request.try_send());
    }
    let (mut placed, mut full) = (0, 0);
    while let Some(answer) = scheduling.join_next().await {
        let answer = answer.unwrap().expect("an answer");
        match answer.status {
            200 => placed += 1,
            409 => full += 1,
            other => panic!("schedule answered {other}: {}", answer.text),
        }
    }
    let booked = db
        .count(&format!(
            "SELECT COUNT(*) AS n FROM requests WHERE meeting_id = '{meeting_id}' AND status = 'scheduled'"
        ))
        .await;
    eprintln!("capacity {capacity}: {placed} placed, {full} refused, {booked} booked");
    assert!(
        booked <= capacity,
        "{booked} booked in a meeting of {capacity} places"
    );
    assert_eq!(placed, booked, "every 200 is a place, and only those");
    assert_eq!(placed, capacity, "the places are all taken");
    let agenda = apis[1].agenda(&meeting_id, &coordinators[1]).await;
    assert_eq!(agenda.body["booked"], capacity);

    // Four workers drained the outbox: each message once.
    let expected = 30 * (1 + 6) + capacity;
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM outbox").await, expected);
    drained(db, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_each_row_delivered_once(db, &sink).await;
    assert_eq!(sink.count() as i64, expected);
}

/// A relay that takes 150 ms per message, and three workers sharing a backlog of 40 messages
/// (leases of 2 s, batches of 20): a worker must not send a message whose lease it lost.
async fn a_slow_smtp_relay_never_makes_two_workers_send_one_message_twice(backend: Backend) {
    let sink = SmtpSink::down_on_free_port();
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let server = deployment.serve().await;
    let api = server.api();
    deployment
        .add_user("requester@chu-nancy.fr", &rpps(540), &["requester"])
        .await;
    deployment
        .add_user("coordinator@necker.fr", &rpps(541), &["coordinator"])
        .await;
    let requester = login(&api, &deployment, "requester@chu-nancy.fr").await;
    for i in 0..20 {
        submitted(&api, &requester, &format!("slow-{i}")).await;
    }
    let _w1 = deployment.worker().await;
    let _w2 = deployment.worker().await;
    eventually(
        Duration::from_secs(10),
        Duration::from_millis(100),
        "every message attempted once while SMTP is down",
        || async {
            (db.count("SELECT COUNT(*) AS n FROM outbox WHERE attempts = 0")
                .await
                == 0)
                .then_some(())
        },
    )
    .await;
    db.execute("UPDATE outbox SET next_attempt_at = created_at")
        .await;
    sink.set_delay(Duration::from_millis(150));
    sink.up().await;
    drained(db, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let twice = sink.by_outbox_id().values().filter(|n| **n > 1).count();
    eprintln!(
        "{} messages received for 40 outbox rows, {twice} of them more than once",
        sink.count()
    );
    assert_each_row_delivered_once(db, &sink).await;
}

/// Failed sign-ins are counted in the database: five wrong passwords through instance A, and
/// the sixth attempt through instance B is refused with 429 and `Retry-After`, as through A.
async fn the_sign_in_throttle_is_one_limit_across_instances(backend: Backend) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let a = deployment.serve().await;
    let mut b = deployment.spawn_serve_on(free_port());
    b.wait_ready().await;
    let email = "throttled@chu-nancy.fr";
    deployment.add_user(email, &rpps(540), &["requester"]).await;
    let (through_a, through_b) = (a.api(), b.api());
    for attempt in 1..=5 {
        let wrong = through_a.login(email, "not-the-password-at-all").await;
        assert_eq!(wrong.status, 401, "attempt {attempt}: {}", wrong.text);
    }
    for (name, api) in [("B", &through_b), ("A", &through_a)] {
        let refused = api.login(email, crate::support::cast::PASSWORD).await;
        assert_eq!(
            refused.status, 429,
            "the sixth, through {name}: {}",
            refused.text
        );
        let wait: u64 = refused
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=300).contains(&wait), "{wait}");
    }
}
