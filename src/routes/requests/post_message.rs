use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PersonRef, find_visible};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;
use crate::workflow;

pub const MAX_MESSAGE_CHARS: usize = 5_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAuthor {
    pub id: String,
    pub full_name: String,
    /// `requester` or `coordinator`.
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub author: MessageAuthor,
    pub body: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl MessageView {
    pub fn new(row: db::messages::MessageRow, author: PersonRef) -> MessageView {
        MessageView {
            id: row.id,
            author: MessageAuthor {
                id: author.id,
                full_name: author.full_name,
                role: Role::parse(&row.author_role).unwrap_or(Role::Requester),
            },
            body: row.body,
            at: row.created_at.and_utc(),
        }
    }
}

/// Adds a message to a request's thread.
pub fn insert_message(
    conn: &mut DbConnection,
    request_id: &str,
    author_id: &str,
    role: Role,
    body: &str,
) -> Result<db::messages::MessageRow, ApiError> {
    let row = db::messages::MessageRow {
        id: db::new_id(),
        request_id: request_id.to_owned(),
        author_id: author_id.to_owned(),
        author_role: role.as_str().to_owned(),
        body: body.to_owned(),
        created_at: db::now(),
    };
    db::messages::insert(conn, &row)?;
    Ok(row)
}

/// Posts to the thread between the requester and the coordinators. The requester's message
/// while the request awaits information answers it: the request returns to `submitted` and
/// the coordinators are told.
#[utoipa::path(tag = "requests", request_body = MessageBody, security(("bearer" = [])), responses(
    (status = 201, body = MessageView),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/messages")]
pub async fn post_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<MessageBody>,
) -> Result<HttpResponse, ApiError> {
    let text = body.into_inner().body;
    if text.trim().is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(
            "body",
            format!("is required, at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let (request, access) = find_visible(&state, &user, &path, "message.create").await?;
    if !access.owner && !access.coordinator {
        return Err(ApiError::Forbidden);
    }
    let public_url = state.settings.server.public_url.clone();
    let message = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            let role = if access.owner {
                Role::Requester
            } else {
                Role::Coordinator
            };
            let row = insert_message(conn, &request.id, &user.id, role, &text)?;
            audit::record(
                conn,
                &user.context,
                "message.create",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            if access.owner && request.status == "needs_info" {
                let request = workflow::apply(
                    conn,
                    &user.context,
                    &request,
                    Transition::Answer,
                    Default::default(),
                    None,
                )?;
                let coordinators = workflow::coordinators(conn)?;
                workflow::notify(
                    conn,
                    &public_url,
                    &request,
                    &coordinators,
                    EmailKind::RequesterAnswered,
                    None,
                    serde_json::json!({}),
                )?;
            }
            Ok(MessageView::new(
                row,
                PersonRef {
                    id: user.id.clone(),
                    full_name: user.full_name.clone(),
                },
            ))
        })
        .await?;
    Ok(HttpResponse::Created().json(message))
}
