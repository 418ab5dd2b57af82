use actix_web::{HttpResponse, get, web};

use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// The request, with its status, staff, meetings and timeline. 404 for anyone but its
/// requester, the center's coordinators and the experts of its meeting.
#[utoipa::path(tag = "requests", security(("bearer" = [])), responses(
    (status = 200, body = RequestView, headers(("ETag" = String, description = "The version"))),
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}")]
pub async fn get_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = app::requests::get(&state, &user, &RequestId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::ETAG,
            format!("\"{}\"", view.version),
        ))
        .json(view))
}
