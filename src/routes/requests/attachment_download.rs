use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};

use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

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
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}/attachments/{attachment_id}")]
pub async fn download_attachment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (request_id, attachment_id) = path.into_inner();
    let request_id = RequestId::from(request_id);
    let file =
        app::requests::download_attachment(&state, &user, &request_id, &attachment_id).await?;
    Ok(file_response(file))
}

/// A stored file, as a download (the API always answers it so).
pub fn file_response(file: app::requests::AttachmentFile) -> HttpResponse {
    file_answer(file, DispositionType::Attachment)
}

/// The types a browser shows itself (its PDF viewer, an image): the screens open them in
/// the browser; anything else (DICOM) is only ever downloaded.
pub const VIEWABLE: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];

/// A stored file shown in the browser when its type is one the browser views itself, under
/// a policy that runs nothing of the file (no script, no form, no frame of it elsewhere).
pub fn file_inline(file: app::requests::AttachmentFile) -> HttpResponse {
    if !VIEWABLE.contains(&file.content_type.as_str()) {
        return file_response(file);
    }
    let mut answer = file_answer(file, DispositionType::Inline);
    answer.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    answer
}

fn file_answer(file: app::requests::AttachmentFile, disposition: DispositionType) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header(ContentDisposition {
            disposition,
            parameters: vec![DispositionParam::Filename(file.filename)],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(file.bytes)
}
