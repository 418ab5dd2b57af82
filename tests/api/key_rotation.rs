//! `consilium keys rotate` under load: the service runs with the new key and the old one
//! listed as previous, downloads go on while the rotation runs, the rotation is killed
//! half-way and run again, and then the old key can leave: every attachment downloads with
//! its SHA-256, every second-factor login works, and a queued e-mail's link still opens.

use std::io::BufRead;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use consilium::crypto::DataKey;
use consilium::startup::{self, Application};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;

use crate::helpers::{consilium, spawn_app, succeeded};
use crate::on_both_backends;
use crate::support::api::Api;
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, rpps};
use crate::support::forms::request_form;

on_both_backends!(the_data_key_rotates_under_load_and_survives_a_kill);

const FILES: usize = 60;
const STAFF: [&str; 3] = ["k.one@chu.fr", "k.two@chu.fr", "k.three@chu.fr"];

/// The service on the application's database and data directory with other keys, as after a
/// restart with new settings.
async fn restarted(app: &crate::helpers::TestApp, current: &str, previous: &[&str]) -> Api {
    let mut settings = app.settings.clone();
    settings.storage.encryption_key = SecretString::from(current.to_owned());
    settings.storage.previous_encryption_keys = previous
        .iter()
        .map(|key| SecretString::from(key.to_string()))
        .collect();
    let server = Application::build(settings, false).await.unwrap();
    let api = Api::new(server.port());
    tokio::spawn(server.run_until_stopped());
    api
}

/// How many attachment files are sealed under `key_id` (the header names the key).
fn files_under(dir: &std::path::Path, key_id: &str) -> usize {
    let mut header = b"CNSLAES2".to_vec();
    header.extend(hex::decode(key_id).unwrap());
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
        .filter(|bytes| bytes.starts_with(&header))
        .count()
}

async fn the_data_key_rotates_under_load_and_survives_a_kill(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let old_key = app
        .settings
        .storage
        .encryption_key
        .expose_secret()
        .to_owned();
    let new_key = DataKey::generate_base64();
    let new_id = DataKey::from_base64(&new_key).unwrap().current_id();

    // Under the old key: attachments (each longer than one sealed chunk), three accounts with
    // a second factor, and a queued e-mail carrying a sealed single-use link.
    let pair = app.register_and_login("keys@chu.fr", &rpps(490)).await;
    let token = pair["access_token"].as_str().unwrap().to_owned();
    let request = app.draft(request_form("keys"), &token).await.id();
    let mut files = Vec::new();
    for i in 0..FILES {
        let mut pdf = format!("%PDF-1.7\n% file {i}\n").into_bytes();
        // Text bytes: the client reads the answer as text.
        pdf.extend((0..70_000).map(|j| b'a' + ((i * 7 + j) % 26) as u8));
        let part = reqwest::multipart::Part::bytes(pdf.clone())
            .file_name("report.pdf")
            .mime_str("application/pdf")
            .unwrap();
        let stored = app.upload(&request, part, &token).await;
        assert_eq!(stored.status, 201, "{:?}", stored.body);
        files.push((stored.id(), hex::encode(sha2::Sha256::digest(&pdf))));
    }
    for (i, email) in STAFF.iter().enumerate() {
        app.user_with_roles(email, &rpps(491 + i as u32), &["coordinator"])
            .await;
    }
    assert_eq!(app.password_reset("keys@chu.fr").await.status, 202);
    assert_eq!(
        app.count("SELECT COUNT(*) AS n FROM outbox WHERE sealed_link IS NOT NULL")
            .await,
        1
    );
    let dir = app.settings.attachments_dir();

    // The service restarted with the new key, the old one listed as previous.
    let api = Arc::new(restarted(&app, &new_key, &[&old_key]).await);
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (api, stop, files) = (api.clone(), stop.clone(), files.clone());
        let (request, token) = (request.clone(), token.clone());
        tokio::spawn(async move {
            let mut downloads = 0;
            while !stop.load(Ordering::SeqCst) {
                let (attachment, sha256) = &files[downloads % files.len()];
                let file = api.attachment(&request, attachment, &token).await;
                assert_eq!(file.status, 200, "{attachment} during the rotation");
                assert_eq!(
                    &hex::encode(sha2::Sha256::digest(file.text.as_bytes())),
                    sha256
                );
                downloads += 1;
            }
            downloads
        })
    };

    let rotate = || {
        let mut command = consilium(&app, &app.settings.storage.dir, &app.database.url);
        command
            .env("CONSILIUM__STORAGE__ENCRYPTION_KEY", &new_key)
            .env(
                "CONSILIUM__STORAGE__PREVIOUS_ENCRYPTION_KEYS",
                format!("[\"{old_key}\"]"),
            )
            .args(["keys", "rotate"]);
        command
    };
    // Killed as soon as it reports its first re-sealed files.
    let mut first = rotate();
    first.stdout(Stdio::piped()).stderr(Stdio::piped());
    let printed = tokio::task::spawn_blocking(move || {
        let mut child = first.spawn().unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let progress = line.starts_with("attachments:");
            printed.push(line);
            if progress {
                child.kill().unwrap();
                break;
            }
        }
        assert!(!child.wait().unwrap().success(), "killed: {printed:?}");
        printed
    })
    .await
    .unwrap();
    assert!(
        printed[0].starts_with("second-factor secrets: 3 re-sealed, 0 already"),
        "{printed:?}"
    );
    assert!(
        printed[1].starts_with("e-mail links: 1 re-sealed"),
        "{printed:?}"
    );
    let done = files_under(&dir, &new_id);
    assert!(
        done > 0 && done < FILES,
        "killed half-way: {done} of {FILES}"
    );

    // A second-factor login while the secrets are under the new key and the files half-way.
    let signed_in = api.sign_in(STAFF[0], PASSWORD, &app.totp).await;
    assert!(signed_in["access_token"].is_string(), "{signed_in}");

    // Run again: it goes on with what is left.
    let again = succeeded(&rotate().output().unwrap(), "the second rotation");
    assert!(
        again.contains(&format!(
            "attachments: {} re-sealed, {done} already under key {new_id}, 0 changed",
            FILES - done
        )),
        "{again}"
    );
    assert!(
        again.contains(&format!(
            "second-factor secrets: 0 re-sealed, 3 already under key {new_id}"
        )),
        "{again}"
    );
    assert!(again.contains("the previous keys can leave"), "{again}");
    stop.store(true, Ordering::SeqCst);
    let downloads = load.await.unwrap();
    assert!(downloads > 0, "downloads went on during the rotation");
    assert_eq!(files_under(&dir, &new_id), FILES);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Nothing in the database is sealed under another key.
    let pattern = format!("'aes2:{new_id}:%'");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE {pattern}"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE sealed_link IS NOT NULL AND sealed_link NOT LIKE {pattern}"
        ))
        .await,
        0
    );

    // The old key leaves: everything still reads.
    let api = restarted(&app, &new_key, &[]).await;
    let old = DataKey::from_base64(&old_key).unwrap();
    for (attachment, sha256) in &files {
        let file = api.attachment(&request, attachment, &token).await;
        assert_eq!(file.status, 200, "{attachment} without the old key");
        assert_eq!(
            &hex::encode(sha2::Sha256::digest(file.text.as_bytes())),
            sha256
        );
        assert!(
            old.open_file(&std::fs::read(dir.join(attachment)).unwrap())
                .is_err()
        );
    }
    for email in &STAFF[1..] {
        let signed_in = api.sign_in(email, PASSWORD, &app.totp).await;
        assert!(
            signed_in["access_token"].is_string(),
            "{email}: {signed_in}"
        );
    }
    let mut settings = app.settings.clone();
    settings.storage.encryption_key = SecretString::from(new_key.clone());
    let worker = startup::worker(&settings, app.db.clone()).unwrap();
    while worker.deliver_due().await.unwrap() > 0 {}
    let reset = app
        .smtp
        .mails_to("keys@chu.fr")
        .pop()
        .expect("the reset e-mail");
    assert!(reset.subject().contains("reset"), "{}", reset.subject());
    let confirm = api
        .confirm_password_reset(&reset.token(), "quartz-lagoon-Pyrenees-78")
        .await;
    assert_eq!(
        confirm.status, 204,
        "the link sealed under the old key still works"
    );
}
