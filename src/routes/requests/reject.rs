use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

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
pub struct RejectBody {
    /// Why the request is out of the network's scope; shown to the requester in the application.
    pub reason: String,
}

pub const MAX_REASON_CHARS: usize = 2_000;

/// Rejects a request as out of the network's scope, with a reason shown to the requester.
#[utoipa::path(tag = "triage", request_body = RejectBody, security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/reject")]
pub async fn reject_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RejectBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::invalid(
            "reason",
            format!("is required, at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let (request, _) = find_visible(&state, &user, &path, "request.reject").await?;
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            let changes = db::requests::RequestChanges {
                rejection_reason: Some(Some(reason.clone())),
                proposed_meeting_id: Some(None),
                ..Default::default()
            };
            let request = workflow::apply(
                conn,
                &user.context,
                &request,
                Transition::Reject,
                changes,
                Some(&reason),
            )?;
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::RequestRejected,
                None,
                serde_json::json!({}),
            )?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
