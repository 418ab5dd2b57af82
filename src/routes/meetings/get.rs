use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{MeetingView, load};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::error::ApiError;
use crate::routes::requests::PersonRef;
use crate::startup::AppState;

/// A case on a meeting's agenda.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgendaItem {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub urgency: String,
    pub topic: Option<String>,
    pub requester: PersonRef,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingWithAgenda {
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// Scheduled and proposed requests, urgent first, then by submission time.
    pub agenda: Vec<AgendaItem>,
}

/// The meeting and its agenda, for coordinators and the experts of its staff.
#[utoipa::path(tag = "meetings", security(("bearer" = [])), responses(
    (status = 200, body = MeetingWithAgenda),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/meetings/{id}")]
pub async fn get_meeting(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator, Role::Admin, Role::Expert])?;
    let id = path.into_inner();
    let sees_all = user.has_role(Role::Coordinator) || user.has_role(Role::Admin);
    // Reads and one audit row: no transaction needed (and none to hold SQLite's write lock).
    let view = state
        .db
        .run(move |conn| {
            let meeting = load(conn, &id)?;
            if !sees_all && !db::meetings::expert_staffs(conn, &user.id)?.contains(&meeting.staff) {
                return Ok(None);
            }
            let mut rows = db::requests::agenda(conn, &id)?;
            rows.sort_by(|(a, _), (b, _)| {
                (a.urgency != "urgent", a.submitted_at, &a.id).cmp(&(
                    b.urgency != "urgent",
                    b.submitted_at,
                    &b.id,
                ))
            });
            let agenda = rows
                .into_iter()
                .map(|(row, name)| AgendaItem {
                    requester: PersonRef {
                        id: row.requester_id,
                        full_name: name,
                    },
                    id: row.id,
                    reference: row.reference,
                    status: row.status,
                    urgency: row.urgency,
                    topic: row.topic,
                    submitted_at: row.submitted_at.map(|t| t.and_utc()),
                })
                .collect();
            audit::record(
                conn,
                &user.context,
                "meeting.read",
                "meeting",
                Some(&id),
                Outcome::Allowed,
            )?;
            Ok(Some(MeetingWithAgenda { meeting, agenda }))
        })
        .await?;
    view.map(|view| HttpResponse::Ok().json(view))
        .ok_or(ApiError::NotFound)
}
