use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::post_message::MessageView;
use super::{PersonRef, find_visible};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::pagination::{self, Page};
use crate::startup::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagesQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The thread between the requester and the coordinators, oldest first.
#[utoipa::path(tag = "requests", params(MessagesQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<MessageView>),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/requests/{id}/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: Query<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(query.0.limit)?;
    let after = pagination::decode_cursor(query.0.cursor.as_deref())?;
    let (request, access) = find_visible(&state, &user, &path, "message.read").await?;
    if !access.owner && !access.coordinator {
        return Err(ApiError::Forbidden);
    }
    let rows = state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &user.context,
                "message.read",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            Ok(db::messages::list(conn, &request.id, after, limit)?)
        })
        .await?;
    let page = pagination::page(
        rows,
        limit,
        |(row, _)| (row.created_at, row.id.clone()),
        |(row, name)| {
            let author = PersonRef {
                id: row.author_id.clone(),
                full_name: name,
            };
            MessageView::new(row, author)
        },
    );
    Ok(HttpResponse::Ok().json(page))
}
