//! SIGKILL around the delivery of an opinion: after the commit the e-mail still goes out,
//! exactly once, when the service is back; before the commit nothing of the delivery remains.

use std::time::Duration;

use crate::on_both_backends;
use crate::rig::eventually;
use crate::rig::process::Deployment;
use crate::rig::workflow::{Case, assert_each_row_delivered_once, cast, discussed_case, drained};
use crate::support::backend::Backend;
use crate::support::cast::REQUESTER;
use crate::support::smtp::SmtpSink;
use crate::support::sql::Row;

on_both_backends!(
    a_kill_after_the_delivery_commits_mails_the_requester_exactly_once_after_restart,
    a_kill_before_the_delivery_commits_leaves_neither_the_opinion_nor_the_mail,
);

/// The opinion mails carried by the sink, by outbox row id.
async fn opinion_rows(deployment: &Deployment) -> Vec<Row> {
    deployment
        .db
        .rows(
            "SELECT id AS a, status AS b, recipient AS c, CAST(attempts AS TEXT) AS d \
             FROM outbox WHERE kind = 'opinion_delivered'",
        )
        .await
}

async fn a_kill_after_the_delivery_commits_mails_the_requester_exactly_once_after_restart(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let mut first = deployment.serve().await;
    let api = first.api();
    let cast = cast(&deployment, &api).await;
    let case = discussed_case(&api, &cast, "crash-after").await;
    drained(&deployment.db, Duration::from_secs(20)).await;

    // SMTP goes down; the opinion is delivered; the process dies right after answering.
    sink.down().await;
    let delivered = api.deliver(&case.id, &cast.coordinator).await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    first.kill();

    let rows = opinion_rows(&deployment).await;
    assert_eq!(
        rows.len(),
        1,
        "the e-mail was queued with the delivery: {rows:?}"
    );
    let row = rows[0].clone();
    assert_eq!(row.b(), "pending", "not sent yet: {row:?}");
    assert_eq!(row.c(), REQUESTER.email);
    assert_eq!(
        deployment
            .db
            .strings(&format!(
                "SELECT status AS a FROM requests WHERE id = '{}'",
                case.id
            ))
            .await,
        ["completed"]
    );

    // SMTP and the service come back: the e-mail goes out once.
    sink.up().await;
    let second = deployment.serve_on(first.port.unwrap()).await;
    eventually(
        Duration::from_secs(20),
        Duration::from_millis(100),
        "the opinion e-mail arrives after the restart",
        || async { sink.by_outbox_id().contains_key(row.a()).then_some(()) },
    )
    .await;
    drained(&deployment.db, Duration::from_secs(20)).await;
    // Longer than a lease, so a second claim of the same row would have happened by now.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mails: Vec<_> = sink
        .mails()
        .into_iter()
        .filter(|mail| mail.outbox_id() == row.a())
        .collect();
    assert_eq!(mails.len(), 1, "exactly one message with this Message-ID");
    assert_eq!(mails[0].to, [REQUESTER.email]);
    assert!(
        mails[0].header("Subject").contains(&case.reference),
        "{}",
        mails[0].header("Subject")
    );
    assert_eq!(opinion_rows(&deployment).await[0].b(), "sent");
    let read = second.api().get_opinion(&case.id, &cast.requester).await;
    assert_eq!(
        read.status, 200,
        "the requester reads the opinion: {}",
        read.text
    );
    assert_eq!(read.body["status"], "delivered");
}

/// Nothing of a delivery that did not commit: the request is still `discussed`, the opinion
/// still a draft, no opinion e-mail queued, no timeline entry or audit row of it.
async fn assert_nothing_delivered(deployment: &Deployment, case: &Case) {
    let db = &deployment.db;
    let id = &case.id;
    assert_eq!(
        db.strings(&format!(
            "SELECT status AS a FROM requests WHERE id = '{id}'"
        ))
        .await,
        ["discussed"],
        "the request is not completed"
    );
    assert_eq!(
        db.strings(&format!(
            "SELECT status AS a FROM opinions WHERE request_id = '{id}' AND delivered_at IS NULL"
        ))
        .await,
        ["draft"],
        "the opinion is still an undelivered draft"
    );
    for (what, sql) in [
        (
            "opinion outbox rows",
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'opinion_delivered'".to_owned(),
        ),
        (
            "timeline entries to completed",
            format!(
                "SELECT COUNT(*) AS n FROM request_events WHERE request_id = '{id}' AND to_status = 'completed'"
            ),
        ),
        (
            "delivery audit rows",
            "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('opinion.deliver', 'request.deliver')"
                .to_owned(),
        ),
    ] {
        assert_eq!(db.count(&sql).await, 0, "{what} left by a delivery that never committed");
    }
}

async fn a_kill_before_the_delivery_commits_leaves_neither_the_opinion_nor_the_mail(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let deployment = Deployment::new(&backend, sink.port);
    let db = &deployment.db;
    let mut first = deployment.serve().await;
    let port = first.port.unwrap();
    let api = first.api();
    let cast = cast(&deployment, &api).await;
    let case = discussed_case(&api, &cast, "crash-before").await;
    drained(db, Duration::from_secs(20)).await;

    // Another connection makes the delivery's transaction wait: on PostgreSQL at its outbox
    // insert, after the request and the opinion were written; on SQLite for the write lock.
    let lock = if db.is_postgres() {
        db.hold("BEGIN; LOCK TABLE outbox IN EXCLUSIVE MODE").await
    } else {
        db.hold("BEGIN IMMEDIATE").await
    };
    let pending = tokio::spawn(api.deliver(&case.id, &cast.coordinator).try_send());
    if db.is_postgres() {
        eventually(
            Duration::from_secs(10),
            Duration::from_millis(50),
            "the delivery waits at its outbox insert, the opinion already updated",
            || async {
                let waiting = db
                    .count(
                        "SELECT COUNT(*) AS n FROM pg_stat_activity a \
                         WHERE a.datname = current_database() AND a.wait_event_type = 'Lock' \
                         AND a.query LIKE 'INSERT INTO \"outbox\"%' \
                         AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted \
                           AND l.relation = 'opinions'::regclass AND l.mode = 'RowExclusiveLock') \
                         AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted \
                           AND l.relation = 'requests'::regclass AND l.mode = 'RowExclusiveLock')",
                    )
                    .await;
                (waiting == 1).then_some(())
            },
        )
        .await;
    } else {
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    assert!(!pending.is_finished(), "the delivery is still waiting");
    first.kill();
    let answer = pending.await.unwrap();
    assert!(
        answer.is_err(),
        "no answer from a killed server: {:?}",
        answer.map(|a| (a.status, a.text))
    );
    lock.release();
    if db.is_postgres() {
        // The killed client's backend takes the lock, then finds its client gone and rolls back.
        eventually(
            Duration::from_secs(10),
            Duration::from_millis(50),
            "the orphaned delivery transaction ends",
            || async {
                let left = db
                    .count(
                        "SELECT COUNT(*) AS n FROM pg_stat_activity \
                         WHERE datname = current_database() AND query LIKE 'INSERT INTO \"outbox\"%' \
                         AND state <> 'idle'",
                    )
                    .await;
                (left == 0).then_some(())
            },
        )
        .await;
    }
    assert_nothing_delivered(&deployment, &case).await;

    if !db.is_postgres() {
        // SQLite has no table locks: stall the transaction inside it instead, with a trigger
        // that spins before the opinion e-mail is inserted (after the request and the opinion
        // were updated), and kill the server while it spins.
        db.execute(
            "CREATE TABLE fault_spin (x INTEGER); \
             INSERT INTO fault_spin WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000) SELECT x FROM c; \
             CREATE TRIGGER fault_stall BEFORE INSERT ON outbox WHEN NEW.kind = 'opinion_delivered' \
             BEGIN SELECT COUNT(*) FROM fault_spin a, fault_spin b, fault_spin c; END;",
        )
        .await;
        let mut stalled = deployment.serve_on(port).await;
        let api = stalled.api();
        let pending = tokio::spawn(api.deliver(&case.id, &cast.coordinator).try_send());
        tokio::time::sleep(Duration::from_millis(500)).await;
        eventually(
            Duration::from_secs(10),
            Duration::from_millis(20),
            "the delivery transaction holds the write lock, stalled before its outbox insert",
            || async {
                for _ in 0..6 {
                    if !db.sqlite_write_locked().await {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Some(())
            },
        )
        .await;
        assert!(
            !pending.is_finished(),
            "the delivery is still in its transaction"
        );
        stalled.kill();
        assert!(
            pending.await.unwrap().is_err(),
            "no answer from a killed server"
        );
        db.execute("DROP TRIGGER fault_stall; DROP TABLE fault_spin;")
            .await;
        assert_nothing_delivered(&deployment, &case).await;
    }

    // Back up: delivering again works, and the requester gets one e-mail.
    let second = deployment.serve_on(port).await;
    let api = second.api();
    let delivered = api.deliver(&case.id, &cast.coordinator).await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    drained(db, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_row_delivered_once(db, &sink).await;
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'opinion_delivered'")
            .await,
        1
    );
}
