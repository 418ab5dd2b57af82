//! `consilium backup` while requests are being written, then `consilium restore` into an
//! empty data directory: the service starts on it, the audit chain verifies, every request
//! committed before the backup is there, and every attachment downloads whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use consilium::startup::Application;
use secrecy::SecretString;
use sha2::Digest;

use crate::helpers::{consilium, spawn_app, succeeded};
use crate::on_both_backends;
use crate::support::api::Api;
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::forms::request_form;

on_both_backends!(a_backup_taken_under_writes_restores_whole);

async fn a_backup_taken_under_writes_restores_whole(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let pair = app.register_and_login("backup@chu.fr", &rpps(480)).await;
    let token = pair["access_token"].as_str().unwrap().to_owned();
    // Requests committed before the backup, each with a report attached.
    let mut committed = Vec::new();
    for i in 0..3 {
        let id = app.draft(request_form(&format!("b{i}")), &token).await.id();
        let pdf = format!("%PDF-1.7\nreport {i}\n%%EOF").into_bytes();
        let part = reqwest::multipart::Part::bytes(pdf.clone())
            .file_name("report.pdf")
            .mime_str("application/pdf")
            .unwrap();
        let stored = app.upload(&id, part, &token).await;
        assert_eq!(stored.status, 201, "{:?}", stored.body);
        committed.push((id, hex::encode(sha2::Sha256::digest(&pdf))));
    }
    // Writes go on while the backup runs (counted from when it starts).
    let stop = Arc::new(AtomicBool::new(false));
    let backing_up = Arc::new(AtomicBool::new(false));
    let writer = {
        let api = Api::at(app.api.base.clone());
        let (token, stop, backing_up) = (token.clone(), stop.clone(), backing_up.clone());
        tokio::spawn(async move {
            let (mut n, mut during) = (0, 0);
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let started = backing_up.load(Ordering::SeqCst);
                let created = api
                    .create_request(request_form(&format!("w{n}")), &token)
                    .await;
                assert_eq!(created.status, 201, "{:?}", created.body);
                during += usize::from(started);
            }
            during
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let backup_dir = tempfile::tempdir().unwrap();
    let target = backup_dir.path().join("copy");
    let mut backup = consilium(&app, &app.settings.storage.dir, &app.database.url);
    backup.arg("backup").arg(&target);
    backing_up.store(true, Ordering::SeqCst);
    let command = tokio::task::spawn_blocking(move || backup.output())
        .await
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    let written_meanwhile = writer.await.unwrap();
    let out = succeeded(&command.unwrap(), "backup");
    assert!(
        written_meanwhile > 0,
        "requests were written during the backup"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(target.join("manifest.json")).unwrap())
            .unwrap();
    let attachments = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().starts_with("attachments/"))
        .count();
    assert_eq!(attachments, 3, "{manifest}");

    // Restore into a new, empty data directory.
    let restored = tempfile::tempdir().unwrap();
    let restored_url = match &backend {
        Backend::Sqlite => String::new(),
        // PostgreSQL's database is backed up by its own tools: the restore gets the
        // attachments, the database stays where it is.
        Backend::Postgres(_) => app.database.url.clone(),
    };
    if let Backend::Postgres(_) = backend {
        assert_eq!(manifest["backend"], "postgresql");
        assert!(out.contains("pg_dump"), "{out}");
    } else {
        assert_eq!(manifest["backend"], "sqlite");
    }
    succeeded(
        &consilium(&app, restored.path(), &restored_url)
            .arg("restore")
            .arg(&target)
            .output()
            .unwrap(),
        "restore",
    );
    let again = consilium(&app, restored.path(), &restored_url)
        .arg("restore")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!again.status.success(), "a restore never overwrites data");
    let verified = succeeded(
        &consilium(&app, restored.path(), &restored_url)
            .args(["audit", "verify"])
            .output()
            .unwrap(),
        "audit verify on the restored data",
    );
    assert!(verified.contains("intact"), "{verified}");

    // The service starts on the restored data; everything committed before is there.
    let mut settings = app.settings.clone();
    settings.storage.dir = restored.path().to_path_buf();
    settings.database.url = SecretString::from(restored_url);
    let server = Application::build(settings, false).await.unwrap();
    let api = Api::new(server.port());
    tokio::spawn(server.run_until_stopped());
    assert_eq!(api.get("/readyz", None).await.status, 200);
    for (id, sha256) in &committed {
        let read = api.get_request(id, &token).await;
        assert_eq!(read.status, 200, "{id}: {:?}", read.body);
        let attachment = read.body["attachments"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let file = api.attachment(id, &attachment, &token).await;
        assert_eq!(file.status, 200);
        assert_eq!(
            &hex::encode(sha2::Sha256::digest(file.text.as_bytes())),
            sha256
        );
    }
}
