//! One meeting: its agenda, its changes (cancel, move), and the record that it was held.

pub mod get;
pub mod hold;
pub mod update;

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, DbConnection};
use crate::domain::opinion::Participant;
use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get::get_meeting)
        .service(hold::hold_meeting)
        .service(update::update_meeting);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub staff: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `planned` | `held` | `cancelled`
    pub status: String,
    pub capacity: i64,
    /// Requests scheduled into it.
    pub booked: i64,
    pub video_url: Option<String>,
    /// Added by a coordinator rather than generated from the staff's rule.
    pub extraordinary: bool,
    /// Once held: who attended, and whether the staff's quorum of specialties was met.
    pub participants: Vec<Participant>,
    pub quorum_met: Option<bool>,
}

pub fn meeting_view(meeting: db::meetings::MeetingRow, booked: i64) -> MeetingView {
    MeetingView {
        ends_at: (meeting.starts_at + chrono::Duration::minutes(meeting.duration_minutes))
            .and_utc(),
        starts_at: meeting.starts_at.and_utc(),
        participants: meeting
            .attendance
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default(),
        extraordinary: meeting.occurrence.is_none(),
        id: meeting.id,
        staff: meeting.staff_code,
        status: meeting.status,
        capacity: meeting.capacity,
        booked,
        video_url: meeting.video_url,
        quorum_met: meeting.quorum_met,
    }
}

/// The meeting with its booked count.
pub fn load(conn: &mut DbConnection, id: &str) -> Result<MeetingView, ApiError> {
    let meeting = db::meetings::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let booked = db::meetings::booked(conn, id)?;
    Ok(meeting_view(meeting, booked))
}

/// The staff's next planned meeting after `after` (where carried-over and displaced requests go).
pub fn next_meeting(
    conn: &mut DbConnection,
    staff: &str,
    after: chrono::NaiveDateTime,
    excluding: &str,
) -> Result<Option<db::meetings::MeetingRow>, ApiError> {
    Ok(db::meetings::planned_after(conn, staff, after, 5)?
        .into_iter()
        .find(|m| m.id != excluding && m.starts_at > after))
}
