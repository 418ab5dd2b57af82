use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::reports::Report;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Version {
    /// A delivered version (by default the latest).
    pub version: Option<i64>,
}

/// A PDF document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Pdf(#[allow(dead_code)] Vec<u8>);

/// The report as the answer: a PDF to keep (`attachment`) or to show in the browser
/// (`inline`), named after the request's reference and the version.
pub fn pdf_response(report: Report, disposition: DispositionType) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(ContentDisposition {
            disposition,
            parameters: vec![DispositionParam::Filename(report.filename)],
        })
        .insert_header(("Cache-Control", "private, no-store"))
        .body(report.pdf)
}

/// The RCP report ("fiche RCP") of a delivered opinion, for the patient's file: a tagged PDF
/// (PDF/UA-1) in the requester's language with the center, the staff, the meeting's date and
/// participants with the quorum, the patient as the form has them, the question, the clinical
/// summary, the diagnosis retained, the recommendations, the references, who validated it,
/// and a line identifying the document (reference, version, SHA-256 of the content). For
/// whoever may read the opinion; a draft has no report (404). Audited.
#[utoipa::path(tag = "opinions", params(Version), security(("bearer" = [])), responses(
    (status = 200, body = Pdf, content_type = "application/pdf"),
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}/opinion.pdf")]
pub async fn opinion_pdf(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    Query(query): Query<Version>,
) -> Result<HttpResponse, AppError> {
    let report = app::reports::opinion_pdf(
        &state,
        &user,
        &RequestId::from(path.into_inner()),
        query.version,
    )
    .await?;
    Ok(pdf_response(report, DispositionType::Attachment))
}
