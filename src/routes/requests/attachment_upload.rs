use actix_multipart::Multipart;
use actix_web::{HttpResponse, post, web};

use super::{AttachmentView, find_visible};
use crate::attachments;
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

/// Attaches a report or an image (PDF, PNG, JPEG, DICOM) to the requester's own request, in
/// the multipart field `file`. Stored sealed (AES-256-GCM) under the data directory by id,
/// with the SHA-256 of its content.
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
    req: actix_web::HttpRequest,
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
    // A body announced larger than a file may be is refused before it is read.
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > state.settings.storage.max_attachment_bytes + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge);
    }
    let request_id = request.id.clone();
    let already = state
        .db
        .run(move |conn| Ok(db::attachments::total_size(conn, &request_id)?))
        .await? as u64;
    let storage = &state.settings.storage;
    let limits = attachments::Limits {
        per_file: storage.max_attachment_bytes,
        remaining_for_request: storage
            .max_request_attachments_bytes
            .saturating_sub(already),
    };
    let dir = state.settings.attachments_dir();
    let id = db::new_id();
    let Some(received) =
        attachments::receive(&mut payload, limits, &state.data_key, &dir, &id).await?
    else {
        return Err(ApiError::invalid(
            "file",
            "is required (multipart field `file`)",
        ));
    };
    let row = db::attachments::AttachmentRow {
        id: id.clone(),
        request_id: request.id.clone(),
        uploaded_by: user.id.clone(),
        filename: received.filename,
        content_type: received.content_type.to_owned(),
        size: received.size as i64,
        sha256: received.sha256,
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
        attachments::remove(&dir, &id);
        return Err(error);
    }
    Ok(HttpResponse::Created().json(AttachmentView::from(row)))
}
