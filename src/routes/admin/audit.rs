use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::pagination::{self, Page};
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    /// `allowed` | `denied`
    pub outcome: String,
    pub client_addr: Option<String>,
    pub correlation_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 instant, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// RFC 3339 instant, exclusive.
    pub to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The audit trail, newest first.
#[utoipa::path(tag = "admin", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<AuditItem>),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin])?;
    let query = query.0;
    let limit = pagination::limit(query.limit)?;
    let filter = db::audit::AuditFilter {
        entity_id: query.entity_id,
        actor_id: query.actor_id,
        action: query.action,
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
        before: pagination::decode_cursor(query.cursor.as_deref())?,
    };
    let rows = state
        .db
        .run(move |conn| Ok(db::audit::list(conn, &filter, limit)?))
        .await?;
    let page = pagination::page(
        rows,
        limit,
        |row| (row.at, row.id.clone()),
        |row| AuditItem {
            id: row.id,
            at: row.at.and_utc(),
            actor_id: row.actor_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            outcome: row.outcome,
            client_addr: row.client_addr,
            correlation_id: row.correlation_id,
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
