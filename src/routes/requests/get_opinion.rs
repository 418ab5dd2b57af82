use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::find_visible;
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db::{self, DbConnection};
use crate::domain::opinion::{OpinionContent, Participant};
use crate::error::ApiError;
use crate::startup::AppState;

/// One version of an opinion.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpinionVersion {
    pub version: i64,
    /// `draft` | `delivered`
    pub status: String,
    #[serde(flatten)]
    pub content: OpinionContent,
    pub validated_by: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The opinion: its current version, the meeting's attendance, and the earlier versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpinionView {
    #[serde(flatten)]
    pub current: OpinionVersion,
    pub participants: Vec<Participant>,
    pub quorum_met: Option<bool>,
    pub previous_versions: Vec<OpinionVersion>,
}

fn version(row: db::opinions::OpinionRow) -> Result<OpinionVersion, ApiError> {
    Ok(OpinionVersion {
        version: row.version,
        status: row.status,
        content: serde_json::from_str(&row.content)
            .map_err(|e| anyhow::anyhow!("stored opinion: {e}"))?,
        validated_by: row.validated_by,
        delivered_at: row.delivered_at.map(|t| t.and_utc()),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The opinion as a reader sees it; `delivered_only` hides drafts (requesters).
pub fn opinion_view(
    conn: &mut DbConnection,
    request: &db::requests::RequestRow,
    delivered_only: bool,
) -> Result<Option<OpinionView>, ApiError> {
    let mut versions = db::opinions::versions(conn, &request.id)?
        .into_iter()
        .filter(|row| !delivered_only || row.status == "delivered")
        .map(version)
        .collect::<Result<Vec<_>, _>>()?;
    if versions.is_empty() {
        return Ok(None);
    }
    let current = versions.remove(0);
    let meeting = match &request.meeting_id {
        Some(id) => db::meetings::find(conn, id)?,
        None => None,
    };
    let participants = meeting
        .as_ref()
        .and_then(|m| m.attendance.as_deref())
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    Ok(Some(OpinionView {
        current,
        participants,
        quorum_met: meeting.and_then(|m| m.quorum_met),
        previous_versions: versions,
    }))
}

/// The opinion and its versions. A requester sees only delivered versions (404 before).
#[utoipa::path(tag = "opinions", security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/requests/{id}/opinion")]
pub async fn get_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "opinion.read").await?;
    let delivered_only = !(access.coordinator || access.expert);
    let view = state
        .db
        .write(move |conn| {
            let view = opinion_view(conn, &request, delivered_only)?.ok_or(ApiError::NotFound)?;
            audit::record(
                conn,
                &user.context,
                "opinion.read",
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            Ok(view)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
