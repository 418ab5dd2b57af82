use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::admin::OutboxItem;
use crate::app::pagination::{Page, PageRequest};
use crate::app::{self, AppError};
use crate::domain::mail::OutboxStatus;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct OutboxQuery {
    pub status: Option<OutboxStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The e-mail outbox, newest first.
#[utoipa::path(tag = "admin", params(OutboxQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<OutboxItem>),
    crate::http::problem::answers::Forbidden,
))]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    let OutboxQuery {
        status,
        limit,
        cursor,
    } = query.0;
    let page = app::admin::outbox(&state, &user, status, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Queues a dead message again: due now, its attempts counted afresh; audited
/// (`outbox.requeue`). Any other message answers 409.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses(
    (status = 200, body = OutboxItem),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
))]
#[post("/admin/outbox/{id}/requeue")]
pub async fn requeue_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let item = app::admin::requeue(&state, &user, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(item))
}
