use actix_web::{HttpRequest, HttpResponse, patch, web};

use super::{
    ExpectedVersion, RequestView, check_version, find_visible, if_match, parse_form, view,
};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::request_form::{RequestForm, merge_patch};
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;
use crate::workflow;

/// Changes a draft (or a request awaiting information) with a JSON merge patch of its fields;
/// `null` clears a field. Carry the version in `If-Match` (412 when stale) or in `version`
/// (409 when stale). Status, reference, requester and ids cannot be set.
#[utoipa::path(tag = "requests", request_body = RequestForm, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 412, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/requests/{id}")]
pub async fn update_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "request.update").await?;
    if !access.owner {
        return Err(ApiError::Forbidden);
    }
    let mut patch = body.into_inner();
    let Some(fields) = patch.as_object_mut() else {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    };
    let expected = match (if_match(&req)?, fields.remove("version")) {
        (Some(v), _) => Some(ExpectedVersion::IfMatch(v)),
        (None, Some(v)) => {
            Some(ExpectedVersion::Body(v.as_i64().ok_or_else(|| {
                ApiError::invalid("version", "must be an integer")
            })?))
        }
        (None, None) => None,
    };
    let id = request.id;
    let view = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            check_version(&request, expected)?;
            if !matches!(request.status.as_str(), "draft" | "needs_info") {
                return Err(ApiError::Conflict {
                    detail: format!("A request that is {} cannot be edited.", request.status),
                    current_status: Some(request.status.clone()),
                });
            }
            let mut document =
                serde_json::to_value(parse_form(&request)?).map_err(anyhow::Error::from)?;
            merge_patch(&mut document, &patch);
            let form: RequestForm = crate::extract::parse_json(document.to_string().as_bytes())?;
            let errors = form.check_format(workflow::today(conn)?);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let changes = db::requests::RequestChanges {
                topic: Some(form.topic.map(|t| t.as_str().to_owned())),
                urgency: Some(form.urgency.unwrap_or_default().as_str().to_owned()),
                form: Some(serde_json::to_string(&form).map_err(anyhow::Error::from)?),
                updated_at: Some(db::now()),
                ..Default::default()
            };
            if db::requests::update_guarded(
                conn,
                &request.id,
                &request.status,
                request.version,
                &changes,
            )? == 0
            {
                return Err(workflow::stale(&request));
            }
            audit::record(
                conn,
                &user.context,
                "request.update",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
