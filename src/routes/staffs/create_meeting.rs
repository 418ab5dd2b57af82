use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::error::{ApiError, FieldError};
use crate::extract::Json;
use crate::routes::meetings::{MeetingView, meeting_view};
use crate::startup::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeetingBody {
    /// May be now, or up to 7 days ago to record a meeting that just took place.
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: Option<i64>,
    pub capacity: Option<i64>,
    /// An https link to the video conference.
    pub video_url: Option<String>,
}

pub fn check_video_url(url: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(url) = url
        && (!url.starts_with("https://")
            || url.len() > 500
            || url.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        errors.push(FieldError::new("video_url", "must be an https:// URL"));
    }
}

/// Adds an extraordinary meeting to a staff (for urgent cases).
#[utoipa::path(tag = "meetings", request_body = NewMeetingBody, security(("bearer" = [])), responses(
    (status = 201, body = MeetingView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/staffs/{code}/meetings")]
pub async fn create_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<NewMeetingBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let body = body.into_inner();
    let mut errors = Vec::new();
    let now = Utc::now();
    if body.starts_at < now - chrono::Duration::days(7)
        || body.starts_at > now + chrono::Duration::days(730)
    {
        errors.push(FieldError::new(
            "starts_at",
            "must be between 7 days ago and 2 years ahead",
        ));
    }
    if body
        .duration_minutes
        .is_some_and(|d| !(5..=720).contains(&d))
    {
        errors.push(FieldError::new(
            "duration_minutes",
            "must be between 5 and 720",
        ));
    }
    if body.capacity.is_some_and(|c| !(1..=500).contains(&c)) {
        errors.push(FieldError::new("capacity", "must be between 1 and 500"));
    }
    check_video_url(&body.video_url, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let code = path.into_inner();
    let view = state
        .db
        .write(move |conn| {
            let staff = db::network::staff(conn, &code)?.ok_or(ApiError::NotFound)?;
            let meeting = db::meetings::MeetingRow {
                id: db::new_id(),
                staff_code: staff.code,
                starts_at: body.starts_at.naive_utc(),
                duration_minutes: body.duration_minutes.unwrap_or(staff.duration_minutes),
                status: "planned".into(),
                capacity: body.capacity.unwrap_or(staff.capacity),
                video_url: body.video_url,
                occurrence: None,
                attendance: None,
                quorum_met: None,
                held_at: None,
                created_at: db::now(),
            };
            db::meetings::insert(conn, &meeting)?;
            audit::record(
                conn,
                &user.context,
                "meeting.create",
                "meeting",
                Some(&meeting.id),
                Outcome::Allowed,
            )?;
            Ok(meeting_view(meeting, 0))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}
