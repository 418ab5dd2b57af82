//! A real S3-compatible server on loopback for the attachments' object storage: the `moto`
//! server from PyPI (`moto[server]`), which `.ci/run` installs into `target/test-venv`. Found
//! through `MOTO_SERVER`, that virtual environment, or `PATH`; without it the S3 runs are
//! skipped with a warning, which `.ci/run` refuses.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::smtp::free_port;

pub const BUCKET: &str = "consilium-attachments";
pub const REGION: &str = "us-east-1";
/// moto accepts any credentials; the service sends these, as it would real ones.
pub const ACCESS_KEY_ID: &str = "AKIATESTCONSILIUM";
pub const SECRET_ACCESS_KEY: &str = "test-secret-access-key";

fn binary() -> Option<PathBuf> {
    let candidates = std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/test-venv/bin/moto_server"
        ))])
        .chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|dir| dir.join("moto_server"))
                .collect::<Vec<_>>(),
        );
    for candidate in candidates {
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    eprintln!(
        "moto_server not found (python3 -m venv target/test-venv && target/test-venv/bin/pip \
         install 'moto[server]'): S3 run skipped"
    );
    None
}

/// A moto server with one empty bucket, killed when dropped.
pub struct S3Server {
    pub port: u16,
    child: Option<Child>,
    client: reqwest::Client,
}

impl S3Server {
    /// `None` when moto is not installed (the run is skipped, loudly).
    pub async fn start() -> Option<S3Server> {
        let binary = binary()?;
        let port = free_port();
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = S3Server {
            port,
            child: Some(child),
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = server.client.put(server.url(BUCKET)).send().await
                && answer.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "moto_server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.endpoint())
    }

    /// The text of an answer of the bucket to `GET /<bucket>?<query>`.
    async fn listing(&self, query: &str) -> String {
        let answer = self
            .client
            .get(self.url(&format!("{BUCKET}?{query}")))
            .send()
            .await
            .unwrap();
        answer.text().await.unwrap()
    }

    /// The keys of the bucket's objects.
    pub async fn objects(&self) -> Vec<String> {
        tags(&self.listing("list-type=2").await, "Key")
    }

    /// The multipart uploads started and neither completed nor aborted.
    pub async fn pending_uploads(&self) -> Vec<String> {
        tags(&self.listing("uploads").await, "UploadId")
    }

    /// An object's bytes as stored (read with signed requests, as the objects are private).
    pub async fn object(&self, key: &str) -> Vec<u8> {
        use object_store::ObjectStoreExt;
        rustls::crypto::ring::default_provider()
            .install_default()
            .ok();
        let store = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region(REGION)
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_access_key_id(ACCESS_KEY_ID)
            .with_secret_access_key(SECRET_ACCESS_KEY)
            .build()
            .unwrap();
        let got = store
            .get(&object_store::path::Path::from(key))
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        got.bytes().await.unwrap().to_vec()
    }

    /// Stops the server: the store is down.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The texts of every `<name>…</name>` of an XML answer.
fn tags(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(text, _)| text.to_owned()))
        .collect()
}
