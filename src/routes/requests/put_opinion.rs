use actix_web::{HttpResponse, put, web};

use crate::app::opinions::OpinionView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::domain::opinion::OpinionContent;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Creates or replaces the draft opinion of a discussed request. On a completed request, a
/// new draft is an amendment: the delivered versions are kept.
#[utoipa::path(tag = "opinions", request_body = OpinionContent, security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[put("/requests/{id}/opinion")]
pub async fn put_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<OpinionContent>,
) -> Result<HttpResponse, AppError> {
    let id = RequestId::from(path.into_inner());
    let view = app::opinions::write(&state, &user, &id, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
