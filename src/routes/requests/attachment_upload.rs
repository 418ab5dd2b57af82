use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::app::views::AttachmentView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// Attaches a report or an image (PDF, PNG, JPEG, DICOM) to the requester's own request, in
/// the multipart field `file`. Stored sealed (AES-256-GCM) under the data directory by id,
/// with the SHA-256 of its content.
#[utoipa::path(tag = "requests", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", description = "Field `file`"),
    responses(
        (status = 201, body = AttachmentView),
        crate::http::problem::answers::NotFound,
        crate::http::problem::answers::Conflict,
        crate::http::problem::answers::PayloadTooLarge,
        crate::http::problem::answers::UnsupportedMediaType,
    ))]
#[post("/requests/{id}/attachments")]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    req: HttpRequest,
    mut payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let view = app::requests::upload_attachment(
        &state,
        &user,
        &RequestId::from(path.into_inner()),
        announced,
        &mut payload,
    )
    .await?;
    Ok(HttpResponse::Created().json(view))
}
