use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};

use super::find_visible;
use crate::attachments;
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

/// The bytes of a file, as sent.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

/// The file's bytes, with its content type, always as a download.
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, description = "The file, of the type recognised at upload", content(
        (FileBytes = "application/pdf"),
        (FileBytes = "image/png"),
        (FileBytes = "image/jpeg"),
        (FileBytes = "application/dicom"),
    )),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/requests/{id}/attachments/{attachment_id}")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (request_id, attachment_id) = path.into_inner();
    let (request, _) = find_visible(&state, &user, &request_id, "attachment.read").await?;
    let attachment = state
        .db
        .write(move |conn| {
            let attachment = db::attachments::find(conn, &request.id, &attachment_id)?
                .ok_or(ApiError::NotFound)?;
            audit::record(
                conn,
                &user.context,
                "attachment.read",
                "attachment",
                Some(&attachment.id),
                Outcome::Allowed,
            )?;
            Ok(attachment)
        })
        .await?;
    let bytes = attachments::read(
        &state.data_key,
        &state.settings.attachments_dir(),
        &attachment.id,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(attachment.content_type.as_str())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(attachment.filename)],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
