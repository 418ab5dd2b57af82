//! Attachment files: received from a multipart body under size limits, recognised by their
//! content (never by name or declared type), sealed at rest with the data key, stored under
//! an id (never the client's name), read back whole for download.

use std::path::Path;
use tokio::io::AsyncWriteExt;

use actix_multipart::Multipart;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::app::AppError;
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

/// Removes the partial file unless the upload completed: also when the future is dropped (the
/// client went away, or shutdown cut the upload short).
struct PartialFile<'a> {
    path: &'a Path,
    done: bool,
}

impl Drop for PartialFile<'_> {
    fn drop(&mut self) {
        if !self.done {
            std::fs::remove_file(self.path).ok();
        }
    }
}

/// Reads the multipart field `file` into `<dir>/<id>`, sealed; other fields are skipped. A
/// body too large is refused as soon as the limit is passed, a malformed or truncated one is
/// 400, an unrecognised type 415; nothing is left on disk after a refusal. `None`: no field
/// `file`.
pub async fn receive(
    payload: &mut Multipart,
    limits: Limits,
    key: &DataKey,
    dir: &Path,
    id: &str,
) -> Result<Option<Received>, AppError> {
    let final_path = dir.join(id);
    let partial_path = dir.join(format!("{id}.partial"));
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(malformed)?;
        if field.name() != Some("file") {
            while let Some(chunk) = field.next().await {
                chunk.map_err(malformed)?;
            }
            continue;
        }
        let filename = clean_filename(field.content_disposition().and_then(|cd| cd.get_filename()));
        // File work goes through tokio's blocking pool, never on the HTTP workers.
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(anyhow::Error::from)?;
        let mut file = tokio::fs::File::create(&partial_path)
            .await
            .map_err(anyhow::Error::from)?;
        let mut partial = PartialFile {
            path: &partial_path,
            done: false,
        };
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
                file.write_all(&sealer.update(&chunk))
                    .await
                    .map_err(anyhow::Error::from)?;
            }
            let content_type = sniff(&head).ok_or_else(|| {
                AppError::UnsupportedMediaType(
                    "Attach a PDF, PNG, JPEG or DICOM file (recognised by its content).".into(),
                )
            })?;
            file.write_all(&sealer.finish())
                .await
                .map_err(anyhow::Error::from)?;
            file.sync_all().await.map_err(anyhow::Error::from)?;
            tokio::fs::rename(&partial_path, &final_path)
                .await
                .map_err(anyhow::Error::from)?;
            Ok(content_type)
        }
        .await;
        partial.done = written.is_ok();
        let content_type = written?;
        return Ok(Some(Received {
            filename,
            content_type,
            size,
            sha256: hex::encode(hasher.finalize()),
        }));
    }
    Ok(None)
}

fn malformed(error: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("Malformed multipart body: {error}"))
}

/// The plaintext of a stored attachment.
pub async fn read(key: &DataKey, dir: &Path, id: &str) -> Result<Vec<u8>, AppError> {
    let sealed = tokio::fs::read(dir.join(id))
        .await
        .map_err(|e| anyhow::anyhow!("attachment {id} unreadable: {e}"))?;
    Ok(key
        .open_file(&sealed)
        .map_err(|e| anyhow::anyhow!("attachment {id}: {e}"))?)
}

/// Removes a stored file (after its database row could not be written).
pub fn remove(dir: &Path, id: &str) {
    std::fs::remove_file(dir.join(id)).ok();
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
