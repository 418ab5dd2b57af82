use actix_web::{HttpResponse, get, web};

use super::{RequestView, find_visible, view};
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
    let (request, _) = find_visible(&state, &user, &path, "request.read").await?;
    let view = state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &user.context,
                "request.read",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            format!("\"{}\"", view.version),
        ))
        .json(view))
}
