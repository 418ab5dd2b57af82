//! The list of staffs.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Staff {
    pub code: String,
    pub name: String,
    pub topics: Vec<String>,
    /// RFC 5545 recurrence rule, in the center's local time.
    pub rrule: String,
    pub dtstart: String,
    /// Local start time `HH:MM`.
    pub start_time: String,
    pub time_zone: String,
    pub duration_minutes: i64,
    /// Cases per meeting.
    pub capacity: i64,
    /// Submissions close this long before a meeting starts.
    pub cutoff_minutes: i64,
    /// Distinct specialties a meeting needs for its opinions to meet the quorum.
    pub quorum_specialties: i64,
}

/// The staffs with their recurrence, capacity, cut-off and topics.
#[utoipa::path(tag = "network", security(("bearer" = [])), responses(
    (status = 200, body = Vec<Staff>),
    (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/staffs")]
pub async fn list_staffs(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let rows = state
        .db
        .run(|conn| Ok(db::network::staffs_with_zone(conn)?))
        .await?;
    let staffs: Vec<Staff> = rows
        .into_iter()
        .map(|(row, time_zone)| Staff {
            topics: serde_json::from_str(&row.topics).unwrap_or_default(),
            code: row.code,
            name: row.name,
            rrule: row.rrule,
            dtstart: row.dtstart,
            start_time: row.start_time,
            time_zone,
            duration_minutes: row.duration_minutes,
            capacity: row.capacity,
            cutoff_minutes: row.cutoff_minutes,
            quorum_specialties: row.quorum_specialties,
        })
        .collect();
    Ok(HttpResponse::Ok().json(staffs))
}
