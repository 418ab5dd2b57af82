use actix_web::{HttpRequest, HttpResponse, patch, web};

use super::if_match;
use crate::app::views::RequestView;
use crate::app::workflow::ExpectedVersion;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::domain::request_form::RequestForm;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Changes a draft (or a request awaiting information) with a JSON merge patch of its fields;
/// `null` clears a field. Carry the version in `If-Match` (412 when stale) or in `version`
/// (409 when stale). Status, reference, requester and ids cannot be set.
#[utoipa::path(tag = "requests", request_body = RequestForm, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::PreconditionFailed,
    crate::http::problem::answers::Invalid,
))]
#[patch("/requests/{id}")]
pub async fn update_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let mut patch = body.into_inner();
    let Some(fields) = patch.as_object_mut() else {
        return Err(AppError::invalid("body", "must be a JSON object"));
    };
    let expected = match (if_match(&req)?, fields.remove("version")) {
        (Some(v), _) => Some(v),
        (None, Some(v)) => {
            Some(ExpectedVersion::Body(v.as_i64().ok_or_else(|| {
                AppError::invalid("version", "must be an integer")
            })?))
        }
        (None, None) => None,
    };
    let view = app::requests::update(
        &state,
        &user,
        &RequestId::from(path.into_inner()),
        patch,
        expected,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
