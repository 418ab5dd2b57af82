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

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Dead,
}

/// One e-mail of the outbox (its body is not shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    pub kind: String,
    pub to: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OutboxQuery {
    pub status: Option<OutboxStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The e-mail outbox, newest first.
#[utoipa::path(tag = "admin", params(OutboxQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<OutboxItem>),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin])?;
    let query = query.0;
    let limit = pagination::limit(query.limit)?;
    let before = pagination::decode_cursor(query.cursor.as_deref())?;
    let status = query.status.map(|s| match s {
        OutboxStatus::Pending => "pending",
        OutboxStatus::Sent => "sent",
        OutboxStatus::Dead => "dead",
    });
    let rows = state
        .db
        .run(move |conn| Ok(db::outbox::list(conn, status, before, limit)?))
        .await?;
    let page = pagination::page(
        rows,
        limit,
        |row| (row.created_at, row.id.clone()),
        |row| OutboxItem {
            id: row.id,
            kind: row.kind,
            to: row.recipient,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: row.created_at.and_utc(),
            sent_at: row.sent_at.map(|t| t.and_utc()),
            next_attempt_at: row.next_attempt_at.and_utc(),
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
