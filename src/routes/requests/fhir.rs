use actix_web::{HttpResponse, get, web};

use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// A FHIR R4 resource (here a `Bundle` of type `collection`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct FhirBundle(#[allow(dead_code)] serde_json::Value);

/// The request as a FHIR R4 `Bundle`: its `ServiceRequest`, its `Task` (the workflow status),
/// a minimised `Patient`, the requester as a `Practitioner` (RPPS), the suspected and retained
/// diagnoses as `Condition`s (ORPHA), one `Observation` per HPO term, and once delivered the
/// opinion as a `Composition` with a `DocumentReference` to its PDF. References resolve inside
/// the bundle. For whoever may read the request (404 for anyone else); audited.
#[utoipa::path(tag = "fhir", security(("bearer" = [])), responses(
    (status = 200, body = FhirBundle, content_type = "application/fhir+json"),
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}/fhir")]
pub async fn request_fhir(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let bundle = app::fhir::bundle(&state, &user, &RequestId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+json; charset=utf-8")
        .body(serde_json::to_string(&bundle)?))
}
