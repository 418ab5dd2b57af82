use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_form::Urgency;
use crate::domain::request_status::RequestStatus;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::pagination::{self, Page};
use crate::startup::AppState;

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

/// A line of a request list (no clinical content).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestSummary {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub version: i64,
    pub topic: Option<String>,
    pub urgency: String,
    pub staff: Option<String>,
    pub proposed_meeting_id: Option<String>,
    pub meeting_id: Option<String>,
    pub requester: super::PersonRef,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Requests, newest first: a requester's own; the center's for coordinators and admins; those
/// of their staffs' meetings for experts.
#[utoipa::path(tag = "requests", params(RequestsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<RequestSummary>),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/requests")]
pub async fn list_requests(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<RequestsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let limit = pagination::limit(query.limit)?;
    let mut filter = db::requests::RequestFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        staff: query.staff,
        meeting_id: query.meeting_id,
        urgency: query.urgency.map(|u| u.as_str().to_owned()),
        before: pagination::decode_cursor(query.cursor.as_deref())?,
        ..Default::default()
    };
    let user_id = user.id.clone();
    let sees_center = user.has_role(Role::Coordinator) || user.has_role(Role::Admin);
    let expert = user.has_role(Role::Expert);
    let rows = state
        .db
        .run(move |conn| {
            if !sees_center {
                if expert {
                    filter.meeting_staffs = Some(db::meetings::expert_staffs(conn, &user_id)?);
                } else {
                    filter.requester_id = Some(user_id);
                }
            }
            Ok(db::requests::list(conn, &filter, limit)?)
        })
        .await?;
    let page = pagination::page(
        rows,
        limit,
        |(row, _)| (row.created_at, row.id.clone()),
        |(row, requester_name)| RequestSummary {
            requester: super::PersonRef {
                id: row.requester_id,
                full_name: requester_name,
            },
            id: row.id,
            reference: row.reference,
            status: row.status,
            version: row.version,
            topic: row.topic,
            urgency: row.urgency,
            staff: row.staff_code,
            proposed_meeting_id: row.proposed_meeting_id,
            meeting_id: row.meeting_id,
            created_at: row.created_at.and_utc(),
            submitted_at: row.submitted_at.map(|t| t.and_utc()),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
