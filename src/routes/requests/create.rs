use actix_web::{HttpResponse, post, web};
use chrono::Datelike;

use super::{PersonRef, RequestView, assemble};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_form::{RequestForm, Urgency};
use crate::error::ApiError;
use crate::extract::Json;
use crate::idempotency::{self, IdempotencyKey};
use crate::startup::AppState;
use crate::workflow;

/// Creates a draft request; it may be incomplete, but every field given must be well-formed.
#[utoipa::path(tag = "requests", request_body = RequestForm, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays of the same key and body answer the first answer")),
    responses(
        (status = 201, body = RequestView),
        (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    key: IdempotencyKey,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Requester])?;
    let body = body.into_inner();
    let form: RequestForm = crate::extract::parse_json(body.to_string().as_bytes())?;
    let fingerprint = idempotency::fingerprint(&body);
    state
        .db
        .write(move |conn| {
            if let Some(key) = &key.0
                && let Some(replayed) =
                    idempotency::replay(conn, &user.id, key, "create_request", &fingerprint)?
            {
                return Ok(replayed);
            }
            let center = db::network::center(conn)?;
            let errors = form.check_format(workflow::today_in(&center));
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let now = db::now();
            let id = db::new_id();
            audit::record(
                conn,
                &user.context,
                "request.create",
                "request",
                Some(&id),
                Outcome::Allowed,
            )?;
            // The reference counter's row stays locked until commit, and every creation of the
            // year waits for it: take it last, and read nothing back after it.
            let year = i64::from(now.year());
            let number = db::requests::next_reference_number(conn, &center.code, year)?;
            let request = db::requests::RequestRow {
                id: id.clone(),
                reference: format!("{}-{year}-{number:05}", center.code),
                center_code: center.code,
                requester_id: user.id.clone(),
                status: "draft".into(),
                version: 1,
                topic: form.topic.map(|t| t.as_str().to_owned()),
                urgency: form.urgency.unwrap_or_default().as_str().to_owned(),
                form: serde_json::to_string(&RequestForm {
                    urgency: Some(form.urgency.unwrap_or(Urgency::Routine)),
                    ..form
                })
                .map_err(anyhow::Error::from)?,
                staff_code: None,
                proposed_meeting_id: None,
                meeting_id: None,
                rejection_reason: None,
                created_at: now,
                updated_at: now,
                submitted_at: None,
            };
            db::requests::insert(conn, &request)?;
            let created = db::requests::EventRow {
                id: db::new_id(),
                request_id: id,
                at: now,
                from_status: None,
                to_status: "draft".into(),
                actor_id: Some(user.id.clone()),
                note: None,
            };
            db::requests::insert_event(conn, &created)?;
            let requester = PersonRef {
                id: user.id.clone(),
                full_name: user.full_name.clone(),
            };
            let view = assemble(request, requester, vec![created], Vec::new(), None, None)?;
            let body = serde_json::to_string(&view).map_err(anyhow::Error::from)?;
            if let Some(key) = &key.0 {
                idempotency::store(
                    conn,
                    &user.id,
                    key,
                    "create_request",
                    &fingerprint,
                    201,
                    &body,
                )?;
            }
            Ok(idempotency::Answer::new(201, body))
        })
        .await
        .map(idempotency::Answer::into_response)
}
