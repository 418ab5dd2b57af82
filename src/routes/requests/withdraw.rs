use actix_web::{HttpResponse, post, web};

use super::{RequestView, find_visible, view};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::request_status::Transition;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::workflow;

/// Withdraws a request before its discussion (from draft, submitted, needs_info or scheduled).
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, body = RequestView),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/withdraw")]
pub async fn withdraw_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "request.withdraw").await?;
    if !access.owner {
        return Err(ApiError::Forbidden);
    }
    let view = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            let request = workflow::apply(
                conn,
                &user.context,
                &request,
                Transition::Withdraw,
                Default::default(),
                None,
            )?;
            view(conn, request)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
