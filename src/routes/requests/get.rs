use actix_web::{HttpResponse, get, web};

use super::{RequestView, view_by, visible};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::error::ApiError;
use crate::startup::AppState;

/// The request, with its status, staff, meetings and timeline. 404 for anyone but its
/// requester, the center's coordinators and the experts of its meeting.
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, body = RequestView, headers(("ETag" = String, description = "The version"))),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/requests/{id}")]
pub async fn get_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // One connection for the whole read; the audit row is written (and committed) before
    // anything is shown, and the reads need no transaction of their own.
    let view = state
        .db
        .run(move |conn| {
            let (request, _) = visible(conn, &user, &id, "request.read")?;
            audit::record(
                conn,
                &user.context,
                "request.read",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            view_by(conn, request, &user)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            format!("\"{}\"", view.version),
        ))
        .json(view))
}
