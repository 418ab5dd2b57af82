//! Attachments in an S3-compatible bucket (a real moto server on loopback): two instances with
//! no shared volume serve each other's files, sealed in the bucket exactly as on disk; the size
//! limit and a dropped upload leave no object behind; a store that is down answers 503 and
//! nothing is half-written.

use std::time::Duration;

use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::on_both_backends;
use crate::rig::eventually;
use crate::rig::process::Deployment;
use crate::rig::workflow::{draft, login};
use crate::support::backend::Backend;
use crate::support::cast::rpps;
use crate::support::s3::{self, S3Server};
use crate::support::smtp::SmtpSink;

on_both_backends!(attachments_in_a_bucket_need_no_shared_volume_and_survive_its_outage);

/// A PDF of `len` bytes (text bytes: the client reads answers as text).
fn pdf(len: usize, marker: &str) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {marker}\n").into_bytes();
    bytes.extend((0..len - bytes.len()).map(|i| b'a' + (i % 26) as u8));
    bytes
}

fn part(bytes: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes)
        .file_name("scan.pdf")
        .mime_str("application/pdf")
        .unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Sends the head of an upload of `announced` bytes, `sent` of them, then hangs up.
async fn dropped_upload(port: u16, request: &str, token: &str, announced: usize, sent: usize) {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/requests/{request}/attachments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
         Content-Length: {announced}\r\n\r\n--XyZ\r\nContent-Disposition: form-data; \
         name=\"file\"; filename=\"cut.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let body = pdf(sent, "cut short");
    for chunk in body.chunks(256 * 1024) {
        socket.write_all(chunk).await.unwrap();
    }
    socket.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(socket);
}

async fn attachments_in_a_bucket_need_no_shared_volume_and_survive_its_outage(backend: Backend) {
    let Some(mut store) = S3Server::start().await else {
        return;
    };
    let sink = SmtpSink::start().await;
    let mut deployment = Deployment::new(&backend, sink.port);
    deployment.set("STORAGE__BACKEND", "s3");
    deployment.set("STORAGE__S3_BUCKET", s3::BUCKET);
    deployment.set("STORAGE__S3_ENDPOINT", store.endpoint());
    deployment.set("STORAGE__S3_REGION", s3::REGION);
    deployment.set("STORAGE__MAX_ATTACHMENT_BYTES", 7_000_000);
    deployment.set_env("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY_ID);
    deployment.set_env("AWS_SECRET_ACCESS_KEY", s3::SECRET_ACCESS_KEY);
    deployment
        .add_user("bucket@chu.fr", &rpps(495), &["requester"])
        .await;
    let a = deployment.serve().await;
    let api_a = a.api();
    let token = login(&api_a, &deployment, "bucket@chu.fr").await;
    let request = draft(&api_a, &token, "bucket").await;

    // A small file goes up in one PUT, a 6 MiB one in parts: both sealed in the bucket.
    let small = pdf(200_000, "small scan");
    let large = pdf(6 * 1024 * 1024, "large scan");
    let mut stored = Vec::new();
    for bytes in [&small, &large] {
        let answer = api_a.upload(&request, part(bytes.clone()), &token).await;
        assert_eq!(answer.status, 201, "{:?}\n{}", answer.body, a.log_tail(20));
        stored.push((answer.id(), sha256(bytes)));
    }
    let mut objects = store.objects().await;
    objects.sort();
    let mut ids: Vec<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    assert_eq!(objects, ids, "one object per attachment, named by its id");
    for id in &ids {
        let sealed = store.object(id).await;
        assert!(sealed.starts_with(b"CNSLAES2"), "sealed at rest");
        assert!(
            !sealed
                .windows(10)
                .any(|w| w == b"small scan" || w == b"large scan")
        );
    }
    assert!(
        !deployment.dir.path().join("storage/attachments").exists(),
        "nothing on the instance's disk"
    );

    // A second instance with a data directory of its own serves them.
    deployment.set(
        "STORAGE__DIR",
        deployment.dir.path().join("elsewhere").display(),
    );
    let b = deployment.serve().await;
    let api_b = b.api();
    for (id, sum) in &stored {
        let file = api_b.attachment(&request, id, &token).await;
        assert_eq!(file.status, 200, "{id} through the other instance");
        assert_eq!(&sha256(file.text.as_bytes()), sum);
    }

    // Too large: refused (413) once past the limit, the parts already sent aborted.
    let too_large = api_b
        .upload(&request, part(pdf(7_500_000, "too large")), &token)
        .await;
    assert_eq!(too_large.status, 413, "{:?}", too_large.body);
    // Cut short by the client, once in one piece and once past the first part.
    dropped_upload(b.port.unwrap(), &request, &token, 2_000_000, 1_000_000).await;
    dropped_upload(b.port.unwrap(), &request, &token, 6_900_000, 6_000_000).await;
    // Every part sent is dropped once the server sees the body end (parts go up slowly).
    eventually(
        Duration::from_secs(20),
        Duration::from_millis(200),
        "the cut uploads' parts aborted",
        || async { store.pending_uploads().await.is_empty().then_some(()) },
    )
    .await;
    assert_eq!(
        store.objects().await.len(),
        2,
        "no object for a refused upload"
    );
    let read = api_b.get_request(&request, &token).await;
    assert_eq!(read.status, 200, "{:?}\n{}", read.body, b.log_tail(30));
    assert_eq!(read.body["attachments"].as_array().unwrap().len(), 2);

    // The store goes down: 503, and nothing is recorded.
    store.stop();
    let refused = api_b.upload(&request, part(small.clone()), &token).await;
    assert!(
        refused.is_problem(503),
        "{} {:?}",
        refused.status,
        refused.body
    );
    let unreadable = api_b.attachment(&request, &stored[0].0, &token).await;
    assert!(
        unreadable.is_problem(503),
        "{} {:?}",
        unreadable.status,
        unreadable.body
    );
    let read = api_b.get_request(&request, &token).await;
    assert_eq!(read.status, 200, "the request itself still reads");
    assert_eq!(read.body["attachments"].as_array().unwrap().len(), 2);
    assert_eq!(
        deployment
            .db
            .count("SELECT COUNT(*) AS n FROM attachments")
            .await,
        2
    );
}
