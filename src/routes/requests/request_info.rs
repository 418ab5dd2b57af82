use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestInfoBody {
    /// The question to the requester; it joins the request's message thread.
    pub message: String,
}

/// Asks the requester for more information: the request waits in `needs_info` until they
/// answer in the thread or amend the form.
#[utoipa::path(tag = "triage", request_body = RequestInfoBody, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[post("/requests/{id}/request-info")]
pub async fn request_info(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RequestInfoBody>,
) -> Result<HttpResponse, AppError> {
    let id = RequestId::from(path.into_inner());
    let view = app::triage::request_info(&state, &user, &id, body.into_inner().message).await?;
    Ok(HttpResponse::Ok().json(view))
}
