use actix_web::{HttpResponse, post, web};

use crate::app::opinions::OpinionView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// Delivers the draft opinion: it is frozen, the request becomes `completed`, and the
/// requester's e-mail is queued in the same transaction. On a completed request this delivers
/// an amendment (a new version; the earlier ones are kept) and notifies again.
#[utoipa::path(tag = "opinions", security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
))]
#[post("/requests/{id}/opinion/deliver")]
pub async fn deliver_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = app::opinions::deliver(&state, &user, &RequestId::from(path.into_inner())).await?;
    Ok(HttpResponse::Ok().json(view))
}
