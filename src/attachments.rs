//! Attachment files: received from a multipart body under size limits, recognised by their
//! content (never by name or declared type), sealed at rest with the data key, stored under
//! an id (never the client's name), read back whole for download.
//!
//! They are kept in a [`Store`]: files under `<storage.dir>/attachments`, or objects in an
//! S3-compatible bucket (`storage.backend = "s3"`, through the `object_store` crate), so that
//! several instances need no shared volume. Sealed exactly alike in both: the store only ever
//! sees ciphertext.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_multipart::Multipart;
use anyhow::Context;
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::app::AppError;
use crate::config::{Settings, StorageBackend};
use crate::crypto::DataKey;

/// Bytes kept from the start of a file to recognise its type.
const HEAD: usize = 132;

/// The types accepted, recognised by their first bytes (never by name or declared type).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if head.len() >= HEAD && &head[128..132] == b"DICM" {
        Some("application/dicom")
    } else {
        None
    }
}

/// A file name safe to show and to put in a header: no path, no control or quote characters.
pub fn clean_filename(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("attachment")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '\\'))
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "attachment".to_owned()
    } else {
        cleaned
    }
}

/// What the upload may still take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_file: u64,
    /// What the request's attachments may still add up to.
    pub remaining_for_request: u64,
}

/// A file received and stored (sealed) under its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub filename: String,
    pub content_type: &'static str,
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: String,
}

/// Bytes of an object sent whole; larger files go up in parts of this size (S3's smallest).
const PART: usize = 5 * 1024 * 1024;

/// Where the sealed files are.
#[derive(Clone)]
pub enum Store {
    /// `<dir>/<id>`, written as `<id>.partial` then renamed.
    Filesystem(PathBuf),
    /// `<id>` in a bucket: a single `PUT`, or a multipart upload completed only when the
    /// whole file is in (until then there is no object).
    Object(Arc<dyn ObjectStore>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Filesystem(dir) => write!(f, "files under {}", dir.display()),
            Store::Object(store) => write!(f, "objects in {store}"),
        }
    }
}

impl Store {
    /// The store of the settings (`storage.backend`).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Store> {
        let storage = &settings.storage;
        match storage.backend {
            StorageBackend::Filesystem => Ok(Store::Filesystem(settings.attachments_dir())),
            StorageBackend::S3 => {
                if storage.s3_bucket.is_empty() {
                    anyhow::bail!("storage.backend = \"s3\" needs storage.s3_bucket");
                }
                // TLS to the store through rustls with ring, the tree's one provider.
                rustls::crypto::ring::default_provider()
                    .install_default()
                    .ok();
                // Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the
                // instance's role); a store that does not answer fails fast, as a 503.
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&storage.s3_bucket)
                    .with_retry(object_store::RetryConfig {
                        max_retries: 2,
                        retry_timeout: Duration::from_secs(5),
                        ..Default::default()
                    })
                    .with_client_options(
                        object_store::ClientOptions::new()
                            .with_connect_timeout(Duration::from_secs(2))
                            .with_timeout(Duration::from_secs(60)),
                    );
                if !storage.s3_region.is_empty() {
                    builder = builder.with_region(&storage.s3_region);
                }
                if !storage.s3_endpoint.is_empty() {
                    builder = builder
                        .with_endpoint(&storage.s3_endpoint)
                        .with_allow_http(storage.s3_endpoint.starts_with("http://"));
                }
                let store = builder
                    .build()
                    .context("storage.backend = \"s3\": the bucket's settings")?;
                Ok(Store::Object(Arc::new(store)))
            }
        }
    }

    /// Reads the multipart field `file` into the store under `id`, sealed; other fields are
    /// skipped. A body too large is refused as soon as the limit is passed, a malformed or
    /// truncated one is 400, an unrecognised type 415, a store that does not answer 503;
    /// nothing is left in the store after a refusal. `None`: no field `file`.
    pub async fn receive(
        &self,
        payload: &mut Multipart,
        limits: Limits,
        key: &DataKey,
        id: &str,
    ) -> Result<Option<Received>, AppError> {
        while let Some(field) = payload.next().await {
            let mut field = field.map_err(malformed)?;
            if field.name() != Some("file") {
                while let Some(chunk) = field.next().await {
                    chunk.map_err(malformed)?;
                }
                continue;
            }
            let filename =
                clean_filename(field.content_disposition().and_then(|cd| cd.get_filename()));
            let mut sink = self.sink(id).await?;
            let mut sealer = key.file_sealer();
            let mut hasher = Sha256::new();
            let mut head = Vec::with_capacity(HEAD);
            let mut size: u64 = 0;
            let written: Result<&'static str, AppError> = async {
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(malformed)?;
                    size += chunk.len() as u64;
                    if size > limits.per_file || size > limits.remaining_for_request {
                        return Err(AppError::PayloadTooLarge);
                    }
                    if head.len() < HEAD {
                        let take = (HEAD - head.len()).min(chunk.len());
                        head.extend_from_slice(&chunk[..take]);
                    }
                    hasher.update(&chunk);
                    sink.write(sealer.update(&chunk)).await?;
                }
                let content_type = sniff(&head).ok_or_else(|| {
                    AppError::UnsupportedMediaType(
                        "Attach a PDF, PNG, JPEG or DICOM file (recognised by its content).".into(),
                    )
                })?;
                sink.write(sealer.finish()).await?;
                Ok(content_type)
            }
            .await;
            let content_type = match written {
                Ok(content_type) => {
                    sink.finish().await?;
                    content_type
                }
                Err(error) => {
                    sink.abort().await;
                    return Err(error);
                }
            };
            return Ok(Some(Received {
                filename,
                content_type,
                size,
                sha256: hex::encode(hasher.finalize()),
            }));
        }
        Ok(None)
    }

    async fn sink(&self, id: &str) -> Result<Sink, AppError> {
        Ok(match self {
            Store::Filesystem(dir) => {
                // File work goes through tokio's blocking pool, never on the HTTP workers.
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(anyhow::Error::from)?;
                let partial = dir.join(format!("{id}.partial"));
                let file = tokio::fs::File::create(&partial)
                    .await
                    .map_err(anyhow::Error::from)?;
                Sink::File {
                    file,
                    guard: PartialFile {
                        path: partial,
                        done: false,
                    },
                    path: dir.join(id),
                }
            }
            Store::Object(store) => Sink::Object {
                store: store.clone(),
                path: ObjectPath::from(id),
                pending: Vec::new(),
                upload: None,
            },
        })
    }

    /// The plaintext of a stored attachment.
    pub async fn read(&self, key: &DataKey, id: &str) -> Result<Vec<u8>, AppError> {
        let sealed = self
            .read_sealed(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("attachment {id} is missing from {self:?}"))?;
        Ok(key
            .open_file(&sealed)
            .map_err(|e| anyhow::anyhow!("attachment {id}: {e}"))?)
    }

    /// The sealed bytes of an attachment; `None` when there is none under `id`.
    pub async fn read_sealed(&self, id: &str) -> Result<Option<Vec<u8>>, AppError> {
        match self {
            Store::Filesystem(dir) => match tokio::fs::read(dir.join(id)).await {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(anyhow::anyhow!("attachment {id} unreadable: {e}").into()),
            },
            Store::Object(store) => {
                let got = match store.get(&ObjectPath::from(id)).await {
                    Ok(got) => got,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(error) => return Err(unavailable(error)),
                };
                Ok(Some(got.bytes().await.map_err(unavailable)?.to_vec()))
            }
        }
    }

    /// Replaces an attachment's sealed bytes whole (the key rotation): a reader gets the old
    /// bytes or the new ones, never a mix.
    pub async fn replace_sealed(&self, id: &str, sealed: Vec<u8>) -> Result<(), AppError> {
        match self {
            Store::Filesystem(dir) => {
                let (dir, id) = (dir.clone(), id.to_owned());
                tokio::task::spawn_blocking(move || replace_file(&dir, &id, &sealed))
                    .await
                    .map_err(anyhow::Error::from)??;
                Ok(())
            }
            Store::Object(store) => {
                store
                    .put(&ObjectPath::from(id), PutPayload::from(sealed))
                    .await
                    .map_err(unavailable)?;
                Ok(())
            }
        }
    }

    /// Removes a stored file (after its database row could not be written).
    pub async fn remove(&self, id: &str) {
        match self {
            Store::Filesystem(dir) => {
                tokio::fs::remove_file(dir.join(id)).await.ok();
            }
            Store::Object(store) => {
                if let Err(error) = store.delete(&ObjectPath::from(id)).await {
                    tracing::warn!(%error, attachment = id, "an orphan object stays in the bucket");
                }
            }
        }
    }

    /// The ids of every stored attachment (complete ones: no upload in progress), in order.
    pub async fn ids(&self) -> anyhow::Result<Vec<String>> {
        let mut ids = match self {
            Store::Filesystem(dir) => {
                if !dir.exists() {
                    return Ok(Vec::new());
                }
                std::fs::read_dir(dir)?
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|name| !name.ends_with(".partial"))
                    .collect()
            }
            Store::Object(store) => {
                let mut ids = Vec::new();
                let mut listing = store.list(None);
                while let Some(meta) = listing.next().await {
                    ids.push(meta?.location.to_string());
                }
                ids
            }
        };
        ids.sort();
        Ok(ids)
    }

    /// Makes the last renames durable (the filesystem's directory entry).
    pub fn sync(&self) {
        if let Store::Filesystem(dir) = self
            && let Ok(dir) = std::fs::File::open(dir)
        {
            dir.sync_all().ok();
        }
    }
}

/// Writes `sealed` beside `<dir>/<id>`, syncs it and renames it over the old file.
fn replace_file(dir: &Path, id: &str, sealed: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    // `.partial`: never taken for an attachment by a backup or a listing.
    let partial = dir.join(format!("{id}.rotating.partial"));
    {
        let mut file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        file.write_all(sealed)?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, dir.join(id))?;
    Ok(())
}

/// The store did not answer, or refused: the service is unavailable for files, not broken.
fn unavailable(error: object_store::Error) -> AppError {
    tracing::warn!(%error, "the attachment store failed");
    AppError::Unavailable("The attachment store does not answer; try again shortly.".into())
}

/// Where a file being received goes.
enum Sink {
    File {
        file: tokio::fs::File,
        guard: PartialFile,
        path: PathBuf,
    },
    Object {
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        pending: Vec<u8>,
        upload: Option<WriteMultipart>,
    },
}

impl Sink {
    async fn write(&mut self, bytes: Vec<u8>) -> Result<(), AppError> {
        match self {
            Sink::File { file, .. } => {
                file.write_all(&bytes).await.map_err(anyhow::Error::from)?;
            }
            Sink::Object {
                store,
                path,
                pending,
                upload,
            } => {
                pending.extend(bytes);
                if upload.is_none() && pending.len() > PART {
                    let started = store.put_multipart(path).await.map_err(unavailable)?;
                    *upload = Some(WriteMultipart::new_with_chunk_size(started, PART));
                }
                if let Some(upload) = upload {
                    upload.wait_for_capacity(2).await.map_err(unavailable)?;
                    upload.write(pending);
                    pending.clear();
                }
            }
        }
        Ok(())
    }

    async fn finish(self) -> Result<(), AppError> {
        match self {
            Sink::File {
                file,
                mut guard,
                path,
            } => {
                file.sync_all().await.map_err(anyhow::Error::from)?;
                drop(file);
                tokio::fs::rename(&guard.path, &path)
                    .await
                    .map_err(anyhow::Error::from)?;
                guard.done = true;
            }
            Sink::Object {
                store,
                path,
                pending,
                upload,
            } => match upload {
                Some(upload) => {
                    upload.finish().await.map_err(unavailable)?;
                }
                None => {
                    store
                        .put(&path, PutPayload::from(pending))
                        .await
                        .map_err(unavailable)?;
                }
            },
        }
        Ok(())
    }

    /// Drops what was written (the partial file; the multipart upload, never completed).
    async fn abort(self) {
        match self {
            Sink::File { file, guard, .. } => {
                drop(file);
                drop(guard);
            }
            Sink::Object { upload, .. } => {
                if let Some(upload) = upload {
                    upload.abort().await.ok();
                }
            }
        }
    }
}

/// Removes the partial file unless the upload completed: also when the future is dropped (the
/// client went away, or shutdown cut the upload short).
struct PartialFile {
    path: PathBuf,
    done: bool,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            std::fs::remove_file(&self.path).ok();
        }
    }
}

fn malformed(error: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("Malformed multipart body: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(sniff(&dicom), Some("application/dicom"));
        assert_eq!(sniff(b"MZ\x90\x00 an executable"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b"PK\x03\x04 a zip"), None);
    }

    #[test]
    fn file_names_lose_paths_and_header_breakers() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("a\"b;c\r\n.pdf")), "abc.pdf");
        assert_eq!(clean_filename(None), "attachment");
    }
}
