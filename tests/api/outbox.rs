//! The e-mail outbox: nothing lost, nothing sent twice, back-off, the dead state.

use std::time::Duration;

use consilium::db;
use serde_json::json;

use crate::helpers::{TestOptions, spawn_app, spawn_app_with};
use crate::on_both_backends;
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::forms::registration;
use crate::support::smtp::{SmtpSink, free_port};

on_both_backends!(
    an_emailed_token_is_nowhere_in_the_database,
    mail_waits_while_smtp_is_down_and_is_delivered_once_after,
    a_worker_that_dies_after_claiming_does_not_lose_the_message,
    a_message_that_never_goes_through_is_dead_and_kept,
    the_background_worker_delivers_with_the_row_id_as_message_id,
    the_file_transport_writes_eml_files,
    the_outbox_is_readable_by_admins,
    two_workers_never_send_the_same_message,
);

async fn mail_waits_while_smtp_is_down_and_is_delivered_once_after(backend: Backend) {
    let port = free_port();
    let app = spawn_app_with(
        backend,
        TestOptions {
            smtp_port: Some(port),
            tweak: Box::new(|s| s.email.max_attempts = 50),
        },
    )
    .await;
    let answer = app
        .register(registration("patient@chu.fr", &rpps(40)))
        .await;
    assert_eq!(answer.status, 202, "the API answers while SMTP is down");
    for _ in 0..3 {
        app.worker.deliver_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let attempts = app.count("SELECT attempts AS n FROM outbox").await;
    assert!(attempts >= 2, "retried with back-off: {attempts}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND last_error IS NOT NULL"
        )
        .await,
        1
    );

    let smtp = SmtpSink::start_on(port).await;
    for _ in 0..40 {
        app.worker.deliver_due().await.unwrap();
        if !smtp.mails().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..5 {
        app.worker.deliver_due().await.unwrap();
    }
    assert_eq!(
        smtp.mails_to("patient@chu.fr").len(),
        1,
        "delivered exactly once"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent' AND sent_at IS NOT NULL")
            .await,
        1
    );
}

async fn a_worker_that_dies_after_claiming_does_not_lose_the_message(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("claimed@chu.fr", &rpps(41)))
        .await;
    // A first worker claims the message under a lease, then dies without sending it.
    let claimed = app
        .db
        .run(|conn| {
            let now = db::now();
            db::outbox::claim_due(conn, now, now + chrono::Duration::milliseconds(300), 10)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        app.worker.deliver_due().await.unwrap(),
        0,
        "a claimed message is not sent twice at once"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        app.worker.deliver_due().await.unwrap(),
        1,
        "the lease expired: another worker sends it"
    );
    app.deliver_emails().await;
    assert_eq!(app.smtp.mails_to("claimed@chu.fr").len(), 1);
}

async fn a_message_that_never_goes_through_is_dead_and_kept(backend: Backend) {
    let port = free_port();
    let app = spawn_app_with(
        backend,
        TestOptions {
            smtp_port: Some(port),
            tweak: Box::new(|s| s.email.max_attempts = 3),
        },
    )
    .await;
    app.register(registration("dead@chu.fr", &rpps(42))).await;
    for _ in 0..30 {
        app.worker.deliver_due().await.unwrap();
        if app
            .count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead'")
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'dead' AND attempts = 3")
            .await,
        1
    );
    let smtp = SmtpSink::start_on(port).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.deliver_emails().await;
    assert!(smtp.mails().is_empty(), "a dead message is not retried");
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox").await,
        1,
        "never deleted"
    );
}

async fn the_background_worker_delivers_with_the_row_id_as_message_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = app.new_worker();
    let running = tokio::spawn(worker.run(stopped));
    app.register(registration("bg@chu.fr", &rpps(43))).await;
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = app.smtp.mails_to("bg@chu.fr");
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(mails.len(), 1);
    let (_, admin) = app
        .user_with_roles("admin@chu.fr", &rpps(44), &["admin"])
        .await;
    let outbox = app.get("/api/v1/admin/outbox", Some(&admin)).await;
    let row_id = outbox.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert!(
        mails[0].header("Message-ID").contains(&row_id),
        "{}",
        mails[0].header("Message-ID")
    );
}

async fn the_file_transport_writes_eml_files(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| s.email.transport = consilium::config::EmailTransport::File),
            ..Default::default()
        },
    )
    .await;
    app.register(registration("file@chu.fr", &rpps(45))).await;
    app.deliver_emails().await;
    let files: Vec<_> = std::fs::read_dir(app.settings.mail_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "eml");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains("file@chu.fr"));
}

async fn the_outbox_is_readable_by_admins(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("o@chu.fr", &rpps(46))).await;
    app.deliver_emails().await;
    let (_, admin) = app
        .user_with_roles("admin@chu.fr", &rpps(47), &["admin"])
        .await;
    let outbox = app
        .get("/api/v1/admin/outbox?status=sent", Some(&admin))
        .await;
    assert_eq!(outbox.status, 200);
    let item = &outbox.body["items"][0];
    assert_eq!(item["kind"], "verify_email");
    assert_eq!(item["to"], "o@chu.fr");
    assert_eq!(item["status"], "sent");
    assert_eq!(item["attempts"], 1);
    assert!(item["sent_at"].is_string());
    assert!(
        item.get("body_text").is_none(),
        "bodies (with their links) are not shown"
    );
    let pending = app
        .get("/api/v1/admin/outbox?status=pending", Some(&admin))
        .await;
    assert_eq!(pending.body["items"], json!([]));
}

async fn two_workers_never_send_the_same_message(backend: Backend) {
    let app = spawn_app_with(
        backend,
        TestOptions {
            tweak: Box::new(|s| {
                s.email.batch_size = 3;
                s.email.lease_seconds = 60;
            }),
            ..Default::default()
        },
    )
    .await;
    for i in 0..12 {
        let email = format!("w{i}@chu.fr");
        app.register(registration(&email, &rpps(70 + i))).await;
    }
    let workers = (0..2).map(|_| std::sync::Arc::new(app.new_worker()));
    let running: Vec<_> = workers
        .map(|worker| tokio::spawn(async move { while worker.deliver_due().await.unwrap() > 0 {} }))
        .collect();
    for task in running {
        task.await.unwrap();
    }
    for i in 0..12 {
        assert_eq!(
            app.smtp.mails_to(&format!("w{i}@chu.fr")).len(),
            1,
            "w{i} received exactly one message"
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent' AND attempts = 1")
            .await,
        12
    );
}

/// Every place the database keeps text: on SQLite the bytes of its files (freed pages and the
/// write-ahead log included), on PostgreSQL every row of every table as text.
async fn database_holds(app: &crate::helpers::TestApp, needle: &str) -> Vec<String> {
    let url = app.settings.database_url();
    if !url.starts_with("postgres") {
        let mut found = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = format!("{url}{suffix}");
            if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
        return found;
    }
    let tables = crate::support::sql::strings(
        &app.db,
        "SELECT CAST(table_name AS TEXT) AS a FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .await;
    assert!(tables.iter().any(|t| t == "outbox"), "{tables:?}");
    let mut found = Vec::new();
    for table in tables {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) AS n FROM \"{table}\" AS t \
                 WHERE CAST(row_to_json(t) AS TEXT) LIKE '%{needle}%'"
            ))
            .await;
        if n > 0 {
            found.push(table);
        }
    }
    found
}

/// The single-use links of account e-mails (verification, password reset) are never stored
/// in the clear: the stored body holds a placeholder, the link is sealed with the data key and
/// opened only to send, then dropped. After delivery no byte of the token is in the database.
async fn an_emailed_token_is_nowhere_in_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register(registration("rest@chu.fr", &rpps(46))).await;
    app.deliver_emails().await;
    let verify = app.wait_for_mail_to("rest@chu.fr").await;
    let token = verify.token();
    assert!(token.len() >= 32, "{token}");
    assert!(
        verify
            .text()
            .contains(&format!("verify-email?token={token}"))
    );
    assert!(
        verify.html().contains(&token),
        "the HTML part carries the link too"
    );
    assert!(!verify.text().contains("CONSILIUM_SEALED_LINK"));
    assert!(
        app.verify_email(&token).await.status == 204,
        "the link works"
    );
    app.password_reset("rest@chu.fr").await;
    app.deliver_emails().await;
    let reset = app
        .smtp
        .mails_to("rest@chu.fr")
        .into_iter()
        .find(|mail| mail.text().contains("reset-password?token="))
        .expect("the reset e-mail");
    let reset_token = reset.token();
    for token in [&token, &reset_token] {
        let found = database_holds(&app, token).await;
        assert!(found.is_empty(), "the token {token} is stored in {found:?}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE sealed_link IS NOT NULL")
            .await,
        0,
        "sent messages keep no sealed link"
    );
    let confirmed = app
        .confirm_password_reset(&reset_token, "A-new-long-passphrase-31")
        .await;
    assert_eq!(confirmed.status, 204, "{:?}", confirmed.body);
}
