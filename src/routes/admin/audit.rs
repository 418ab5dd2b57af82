use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::admin::{AuditFilter, AuditItem};
use crate::app::pagination::{Page, PageRequest};
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

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
    crate::http::problem::answers::Forbidden,
))]
#[get("/admin/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let AuditQuery {
        entity_id,
        actor_id,
        action,
        from,
        to,
        limit,
        cursor,
    } = query.0;
    let filter = AuditFilter {
        entity_id,
        actor_id,
        action,
        from,
        to,
    };
    let page =
        app::admin::audit_trail(&state, &user, filter, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}
