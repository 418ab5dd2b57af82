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
pub struct RejectBody {
    /// Why the request is out of the network's scope; shown to the requester in the application.
    pub reason: String,
}

/// Rejects a request as out of the network's scope, with a reason shown to the requester.
#[utoipa::path(tag = "triage", request_body = RejectBody, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[post("/requests/{id}/reject")]
pub async fn reject_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RejectBody>,
) -> Result<HttpResponse, AppError> {
    let id = RequestId::from(path.into_inner());
    let view = app::triage::reject(&state, &user, &id, &body.into_inner().reason).await?;
    Ok(HttpResponse::Ok().json(view))
}
