use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::post_message::{MAX_MESSAGE_CHARS, insert_message};
use super::{RequestView, find_visible, view};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;
use crate::workflow;

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
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/request-info")]
pub async fn request_info(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RequestInfoBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let message = body.into_inner().message;
    if message.trim().is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(
            "message",
            format!("is required, at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let (request, _) = find_visible(&state, &user, &path, "request.request_info").await?;
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            let request = workflow::apply(
                conn,
                &user.context,
                &request,
                Transition::RequestInfo,
                Default::default(),
                None,
            )?;
            insert_message(conn, &request.id, &user.id, Role::Coordinator, &message)?;
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::InfoRequested,
                None,
                serde_json::json!({}),
            )?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
