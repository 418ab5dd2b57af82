use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::meetings::MeetingView;
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct MeetingsQuery {
    /// A day `YYYY-MM-DD` (from its local midnight) or an RFC 3339 instant; default now.
    pub from: Option<String>,
    /// A day `YYYY-MM-DD` (to the end of that local day) or an RFC 3339 instant; default 8
    /// weeks after `from`.
    pub to: Option<String>,
}

/// The meetings of a staff in a period, with their booked places.
#[utoipa::path(tag = "meetings", params(MeetingsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<MeetingView>),
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Invalid,
))]
#[get("/staffs/{code}/meetings")]
pub async fn list_meetings(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<String>,
    query: Query<MeetingsQuery>,
) -> Result<HttpResponse, AppError> {
    let MeetingsQuery { from, to } = query.0;
    let views = app::meetings::of_staff(&state, &path, from, to).await?;
    Ok(HttpResponse::Ok().json(views))
}
