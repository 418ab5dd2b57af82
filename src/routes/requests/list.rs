use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::pagination::{Page, PageRequest};
use crate::app::requests::ListFilter;
use crate::app::views::RequestSummary;
use crate::app::{self, AppError};
use crate::domain::request_form::Urgency;
use crate::domain::request_status::RequestStatus;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestsQuery {
    pub status: Option<RequestStatus>,
    /// A staff code.
    pub staff: Option<String>,
    /// Requests scheduled or proposed in this meeting.
    pub meeting_id: Option<String>,
    pub urgency: Option<Urgency>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Requests, newest first: a requester's own; the center's for coordinators and admins; those
/// of their staffs' meetings for experts.
#[utoipa::path(tag = "requests", params(RequestsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<RequestSummary>),
    crate::http::problem::answers::Invalid,
))]
#[get("/requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<RequestsQuery>,
) -> Result<HttpResponse, AppError> {
    let RequestsQuery {
        status,
        staff,
        meeting_id,
        urgency,
        limit,
        cursor,
    } = query.0;
    let filter = ListFilter {
        status,
        staff,
        meeting_id,
        urgency,
    };
    let page = app::requests::list(&state, &user, filter, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}
