use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::meetings::{MeetingView, meeting_view};
use crate::startup::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct MeetingsQuery {
    /// A day `YYYY-MM-DD` (from its local midnight) or an RFC 3339 instant; default now.
    pub from: Option<String>,
    /// A day `YYYY-MM-DD` (to the end of that local day) or an RFC 3339 instant; default 8
    /// weeks after `from`.
    pub to: Option<String>,
}

/// Parses a bound: a local day (its start, or the next day's start when `end`) or an instant.
pub fn parse_bound(
    value: &str,
    field: &str,
    zone: chrono_tz::Tz,
    end: bool,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 instant")
    })?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::invalid(field, "is not a valid local day"))
}

/// The meetings of a staff in a period, with their booked places.
#[utoipa::path(tag = "meetings", params(MeetingsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<MeetingView>),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/staffs/{code}/meetings")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<String>,
    query: Query<MeetingsQuery>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    let query = query.0;
    let views = state
        .db
        .run(move |conn| {
            let staff = db::network::staff(conn, &code)?.ok_or(ApiError::NotFound)?;
            let zone: chrono_tz::Tz = db::network::center_time_zone(conn, &staff.center_code)?
                .parse()
                .unwrap_or(chrono_tz::UTC);
            let from = match &query.from {
                Some(value) => parse_bound(value, "from", zone, false)?,
                None => Utc::now(),
            };
            let to = match &query.to {
                Some(value) => parse_bound(value, "to", zone, true)?,
                None => from + chrono::Duration::weeks(8),
            };
            if to <= from || to - from > chrono::Duration::days(400) {
                return Err(ApiError::invalid(
                    "to",
                    "must be after `from`, within 400 days",
                ));
            }
            let meetings =
                db::meetings::list_for_staff(conn, &staff.code, from.naive_utc(), to.naive_utc())?;
            let ids: Vec<String> = meetings.iter().map(|m| m.id.clone()).collect();
            let counts = db::meetings::booked_counts(conn, &ids)?;
            Ok(meetings
                .into_iter()
                .map(|m| {
                    let booked = counts
                        .iter()
                        .find(|(id, _)| *id == m.id)
                        .map_or(0, |(_, n)| *n);
                    meeting_view(m, booked)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}
