use actix_web::{HttpRequest, HttpResponse, post, web};

use super::{
    ExpectedVersion, RequestView, check_version, find_visible, if_match, parse_form, view_by,
};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::ApiError;
use crate::idempotency::{self, IdempotencyKey};
use crate::startup::AppState;
use crate::workflow;

/// Submits a draft: checks every required field (422 lists all that fail), routes the topic
/// to its staff and proposes the staff's next meeting whose cut-off has not passed and which
/// has room. The requester and the coordinators are e-mailed.
#[utoipa::path(tag = "requests", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays of the same key answer the first answer")),
    responses(
        (status = 200, body = RequestView),
        (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests/{id}/submit")]
pub async fn submit_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    key: IdempotencyKey,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "request.submit").await?;
    if !access.owner {
        return Err(ApiError::Forbidden);
    }
    let expected = if_match(&req)?.map(ExpectedVersion::IfMatch);
    let fingerprint = idempotency::fingerprint(&serde_json::json!({"submit": request.id}));
    let public_url = state.settings.server.public_url.clone();
    state
        .db
        .write(move |conn| {
            let endpoint = format!("submit:{}", request.id);
            if let Some(key) = &key.0
                && let Some(replayed) =
                    idempotency::replay(conn, &user.id, key, &endpoint, &fingerprint)?
            {
                return Ok(replayed);
            }
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            check_version(&request, expected)?;
            // Checked before the form, so a second submit answers 409, not 422.
            workflow::allowed(&request, Transition::Submit)?;
            let form = parse_form(&request)?;
            let errors = form.check_submission(workflow::today(conn)?);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let topic = form.topic.expect("checked above").as_str();
            let staff = workflow::route(conn, topic)?.ok_or_else(|| {
                ApiError::invalid("topic", "no staff of the network takes this topic")
            })?;
            let proposed = workflow::propose_meeting(conn, &staff)?;
            let changes = db::requests::RequestChanges {
                staff_code: Some(Some(staff.code.clone())),
                proposed_meeting_id: Some(proposed.as_ref().map(|m| m.id.clone())),
                submitted_at: Some(Some(db::now())),
                ..Default::default()
            };
            let request = workflow::apply(
                conn,
                &user.context,
                &request,
                Transition::Submit,
                changes,
                None,
            )?;
            let proposed_id = proposed.as_ref().map(|m| m.id.as_str());
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::RequestSubmitted,
                proposed_id,
                serde_json::json!({}),
            )?;
            let coordinators = workflow::coordinators(conn)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &coordinators,
                EmailKind::RequestSubmittedCoordinator,
                proposed_id,
                serde_json::json!({}),
            )?;
            let view = view_by(conn, request, &user)?;
            let body = serde_json::to_string(&view).map_err(anyhow::Error::from)?;
            if let Some(key) = &key.0 {
                idempotency::store(conn, &user.id, key, &endpoint, &fingerprint, 200, &body)?;
            }
            Ok(idempotency::Answer::new(200, body))
        })
        .await
        .map(idempotency::Answer::into_response)
}
