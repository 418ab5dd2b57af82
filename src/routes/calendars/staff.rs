use actix_web::{HttpResponse, get, web};

use super::{Ics, ics};
use crate::app::{self, AppError, RequestContext};
use crate::state::AppState;

/// A staff's meetings from four weeks ago to the last one generated, as an iCalendar feed to
/// subscribe to: no case, no patient, no video link. Moved meetings keep their UID with a
/// higher SEQUENCE; cancelled ones stay, `STATUS:CANCELLED`.
#[utoipa::path(tag = "calendars", responses(
    (status = 200, body = Ics, content_type = "text/calendar"),
    crate::http::problem::answers::NotFound,
))]
#[get("/staffs/{code}/calendar.ics")]
pub async fn staff_calendar(
    state: web::Data<AppState>,
    context: RequestContext,
    code: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(ics(
        app::calendars::staff_calendar(&state, context, &code).await?
    ))
}
