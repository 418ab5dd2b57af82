use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Since {
    /// A day (YYYY-MM-DD, the center's time zone, from its midnight) or an RFC 3339 instant.
    pub since: Option<String>,
}

/// FHIR bundles as NDJSON, one per line.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
pub struct Ndjson(#[allow(dead_code)] String);

/// The FHIR bundle of every request changed (or whose opinion was delivered) since `since`,
/// one per line (NDJSON), streamed in the order the requests were created. Admin only;
/// audited.
#[utoipa::path(tag = "fhir", params(Since), security(("bearer" = [])), responses(
    (status = 200, body = Ndjson, content_type = "application/fhir+ndjson"),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/admin/export/fhir")]
pub async fn export_fhir(
    state: web::Data<AppState>,
    user: CurrentUser,
    Query(query): Query<Since>,
) -> Result<HttpResponse, AppError> {
    let export = app::fhir::export(&state, &user, query.since.as_deref()).await?;
    let lines = futures_util::stream::unfold(export, |mut export| async move {
        let batch = export.next_batch().await?;
        if let Err(error) = &batch {
            tracing::error!(%error, "the FHIR export stopped");
        }
        Some((batch.map(Bytes::from), export))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+ndjson")
        .streaming(lines))
}
