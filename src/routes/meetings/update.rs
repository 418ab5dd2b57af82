use actix_web::{HttpResponse, patch, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{MeetingView, load, next_meeting};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::{ApiError, FieldError};
use crate::extract::Json;
use crate::routes::staffs::create_meeting::check_video_url;
use crate::startup::AppState;
use crate::workflow;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingChange {
    Cancelled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeetingBody {
    /// `cancelled`: the meeting's requests move to the staff's next meeting.
    pub status: Option<MeetingChange>,
    /// Moves this one meeting (the staff's rule is unchanged).
    pub starts_at: Option<DateTime<Utc>>,
    pub capacity: Option<i64>,
    /// An https link; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub video_url: Option<Option<String>>,
}

/// For PATCH fields: absent leaves the field (`None`), `null` clears it (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Cancels or moves one planned meeting, or changes its capacity or link. Requesters whose
/// request is scheduled in it are told the new date.
#[utoipa::path(tag = "meetings", request_body = UpdateMeetingBody, security(("bearer" = [])), responses(
    (status = 200, body = MeetingView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/meetings/{id}")]
pub async fn update_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<UpdateMeetingBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    if body.capacity.is_some_and(|c| !(1..=500).contains(&c)) {
        errors.push(FieldError::new("capacity", "must be between 1 and 500"));
    }
    if body.starts_at.is_some_and(|t| t < Utc::now()) {
        errors.push(FieldError::new("starts_at", "must be in the future"));
    }
    if let Some(url) = &body.video_url {
        check_video_url(url, &mut errors);
    }
    if body.status.is_none()
        && body.starts_at.is_none()
        && body.capacity.is_none()
        && body.video_url.is_none()
    {
        errors.push(FieldError::new(
            "body",
            "give at least one of status, starts_at, capacity, video_url",
        ));
    }
    if body.status.is_some() && body.starts_at.is_some() {
        errors.push(FieldError::new("status", "cancel or move, not both"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = path.into_inner();
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let meeting = db::meetings::lock(conn, &id)?.ok_or(ApiError::NotFound)?;
            if meeting.status != "planned" {
                return Err(ApiError::conflict(format!(
                    "The meeting is {}.",
                    meeting.status
                )));
            }
            db::meetings::update(
                conn,
                &id,
                &db::meetings::MeetingChanges {
                    starts_at: body.starts_at.map(|t| t.naive_utc()),
                    capacity: body.capacity,
                    video_url: body.video_url.clone(),
                    status: body.status.map(|_| "cancelled".to_owned()),
                },
            )?;
            let scheduled = db::requests::scheduled_in(conn, &id)?;
            if body.status.is_some() {
                let next = next_meeting(conn, &meeting.staff_code, meeting.starts_at, &meeting.id)?;
                let next = match (&next, scheduled.is_empty()) {
                    (Some(next), _) => Some(next),
                    (None, true) => None,
                    (None, false) => {
                        return Err(ApiError::conflict(
                            "The staff has no later meeting to move the requests to.",
                        ));
                    }
                };
                for request in scheduled {
                    let next = next.expect("checked above");
                    let changes = db::requests::RequestChanges {
                        meeting_id: Some(Some(next.id.clone())),
                        ..Default::default()
                    };
                    let request = workflow::apply(
                        conn,
                        &user.context,
                        &request,
                        Transition::Reschedule,
                        changes,
                        Some("meeting cancelled"),
                    )?;
                    let requester = workflow::requester_of(conn, &request)?;
                    workflow::notify(
                        conn,
                        &public_url,
                        &request,
                        &requester,
                        EmailKind::RequestScheduled,
                        Some(&next.id),
                        serde_json::json!({"change": "meeting_cancelled"}),
                    )?;
                }
                audit::record(
                    conn,
                    &user.context,
                    "meeting.cancel",
                    "meeting",
                    Some(&id),
                    Outcome::Allowed,
                )?;
            } else {
                if body.starts_at.is_some() {
                    for request in &scheduled {
                        let requester = workflow::requester_of(conn, request)?;
                        workflow::notify(
                            conn,
                            &public_url,
                            request,
                            &requester,
                            EmailKind::RequestScheduled,
                            Some(&id),
                            serde_json::json!({"change": "moved"}),
                        )?;
                    }
                }
                audit::record(
                    conn,
                    &user.context,
                    "meeting.update",
                    "meeting",
                    Some(&id),
                    Outcome::Allowed,
                )?;
            }
            load(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
