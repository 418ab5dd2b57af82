use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::pagination::{Page, PageRequest};
use crate::app::triage::{TriageItem, TriageQuery};
use crate::app::{self, AppError};
use crate::domain::request_form::Urgency;
use crate::domain::request_status::RequestStatus;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct TriageParams {
    /// `submitted` (the default) or `needs_info`: the statuses waiting for a decision.
    pub status: Option<RequestStatus>,
    /// A staff code.
    pub staff: Option<String>,
    pub urgency: Option<Urgency>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The center's requests waiting for a coordinator's decision, urgent first, then the oldest
/// submitted first, each with its requester's site and its proposed meeting with the room
/// left (the list behind the `/triage` screen).
#[utoipa::path(tag = "triage", params(TriageParams), security(("bearer" = [])), responses(
    (status = 200, body = Page<TriageItem>),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/triage")]
pub async fn triage_queue(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<TriageParams>,
) -> Result<HttpResponse, AppError> {
    let TriageParams {
        status,
        staff,
        urgency,
        limit,
        cursor,
    } = query.0;
    let query = TriageQuery {
        status,
        staff,
        urgency,
    };
    let page = app::triage::queue(&state, &user, query, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}
