use actix_web::{HttpResponse, get, web};

use crate::app::opinions::OpinionView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// The opinion and its versions. A requester sees only delivered versions (404 before).
#[utoipa::path(tag = "opinions", security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}/opinion")]
pub async fn get_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = app::opinions::get(&state, &user, &RequestId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view))
}
