use actix_web::{HttpRequest, HttpResponse, post, web};

use super::if_match;
use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::idempotency::{IdempotencyKey, respond};
use crate::state::AppState;

/// Submits a draft: checks every required field (422 lists all that fail), routes the topic
/// to its staff and proposes the staff's next meeting whose cut-off has not passed and which
/// has room. The requester and the coordinators are e-mailed.
#[utoipa::path(tag = "requests", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays of the same key answer the first answer")),
    responses(
        (status = 200, body = RequestView),
        crate::http::problem::answers::NotFound,
        crate::http::problem::answers::Conflict,
        crate::http::problem::answers::Invalid,
    ))]
#[post("/requests/{id}/submit")]
pub async fn submit_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    key: IdempotencyKey,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let outcome = app::requests::submit(
        &state,
        &user,
        &RequestId::from(path.into_inner()),
        if_match(&req)?,
        key.0,
    )
    .await?;
    Ok(respond(outcome))
}
