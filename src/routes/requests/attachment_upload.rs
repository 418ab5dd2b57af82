use std::io::Write;

use actix_multipart::Multipart;
use actix_web::{HttpResponse, post, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::{AttachmentView, find_visible};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

/// The types accepted, recognised by their first bytes (never by name or declared type).
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if head.len() >= 132 && &head[128..132] == b"DICM" {
        Some("application/dicom")
    } else {
        None
    }
}

/// A file name safe to show and to put in a header: no path, no control or quote characters.
fn clean_filename(name: Option<&str>) -> String {
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

/// Attaches a report or an image (PDF, PNG, JPEG, DICOM) to the requester's own request, in
/// the multipart field `file`. Stored under the data directory by id, with its SHA-256.
#[utoipa::path(tag = "requests", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "Field `file`"),
    responses(
        (status = 201, body = AttachmentView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "attachment.create").await?;
    if !access.owner {
        return Err(ApiError::Forbidden);
    }
    if !matches!(
        request.status.as_str(),
        "draft" | "submitted" | "needs_info" | "scheduled"
    ) {
        return Err(ApiError::Conflict {
            detail: format!(
                "A request that is {} takes no more attachments.",
                request.status
            ),
            current_status: Some(request.status.clone()),
        });
    }
    let limit = state.settings.storage.max_attachment_bytes;
    let request_limit = state.settings.storage.max_request_attachments_bytes;
    let request_id = request.id.clone();
    let already = state
        .db
        .run(move |conn| Ok(db::attachments::total_size(conn, &request_id)?))
        .await? as u64;
    let dir = state.settings.attachments_dir();
    std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
    let id = db::new_id();
    let final_path = dir.join(&id);
    let partial_path = dir.join(format!("{id}.partial"));

    let mut stored = None;
    while let Some(field) = payload.next().await {
        let mut field =
            field.map_err(|e| ApiError::BadRequest(format!("Malformed multipart body: {e}")))?;
        if field.name() != Some("file") {
            continue;
        }
        let filename = clean_filename(field.content_disposition().and_then(|cd| cd.get_filename()));
        let mut file = std::fs::File::create(&partial_path).map_err(anyhow::Error::from)?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(132);
        let mut size: u64 = 0;
        let outcome: Result<(), ApiError> = async {
            while let Some(chunk) = field.next().await {
                let chunk = chunk
                    .map_err(|e| ApiError::BadRequest(format!("Malformed multipart body: {e}")))?;
                size += chunk.len() as u64;
                if size > limit || already + size > request_limit {
                    return Err(ApiError::PayloadTooLarge);
                }
                if head.len() < 132 {
                    let take = (132 - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                hasher.update(&chunk);
                file.write_all(&chunk).map_err(anyhow::Error::from)?;
            }
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            std::fs::remove_file(&partial_path).ok();
            return Err(error);
        }
        let Some(content_type) = sniff(&head) else {
            std::fs::remove_file(&partial_path).ok();
            return Err(ApiError::UnsupportedMediaType(
                "Attach a PDF, PNG, JPEG or DICOM file (recognised by its content).".into(),
            ));
        };
        file.sync_all().map_err(anyhow::Error::from)?;
        std::fs::rename(&partial_path, &final_path).map_err(anyhow::Error::from)?;
        stored = Some((filename, content_type, size, hex::encode(hasher.finalize())));
        break;
    }
    let Some((filename, content_type, size, sha256)) = stored else {
        return Err(ApiError::invalid(
            "file",
            "is required (multipart field `file`)",
        ));
    };
    let row = db::attachments::AttachmentRow {
        id: id.clone(),
        request_id: request.id.clone(),
        uploaded_by: user.id.clone(),
        filename,
        content_type: content_type.to_owned(),
        size: size as i64,
        sha256,
        created_at: db::now(),
    };
    let saved = row.clone();
    let result = state
        .db
        .write(move |conn| {
            db::attachments::insert(conn, &saved)?;
            audit::record(
                conn,
                &user.context,
                "attachment.create",
                "attachment",
                Some(&saved.id),
                Outcome::Allowed,
            )
        })
        .await;
    if let Err(error) = result {
        std::fs::remove_file(&final_path).ok();
        return Err(error);
    }
    Ok(HttpResponse::Created().json(AttachmentView::from(row)))
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
    }

    #[test]
    fn file_names_lose_paths_and_header_breakers() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("a\"b;c\r\n.pdf")), "abc.pdf");
        assert_eq!(clean_filename(None), "attachment");
    }
}
