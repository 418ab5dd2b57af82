use actix_web::{HttpResponse, post, web};

use crate::app::follow_ups::FollowUpAsk;
use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

/// Prepares the follow-up of a request whose opinion is delivered (its requester only): a new
/// draft linked to it, the patient and the clinical content copied, the suspected diagnosis
/// replaced by the one retained, the topic chosen from the recommendation's staff and the
/// question from its text. `{}` follows up the opinion as a whole. Asking again for the same
/// recommendation answers the draft made the first time (200).
#[utoipa::path(tag = "requests", request_body = FollowUpAsk, security(("bearer" = [])), responses(
    (status = 201, description = "The follow-up draft, made now", body = RequestView),
    (status = 200, description = "The follow-up draft made earlier for this recommendation", body = RequestView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Conflict,
    crate::http::problem::answers::Invalid,
))]
#[post("/requests/{id}/follow-ups")]
pub async fn create_follow_up(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<FollowUpAsk>,
) -> Result<HttpResponse, AppError> {
    let id = RequestId::from(path.into_inner());
    let made = app::follow_ups::create(&state, &user, &id, body.into_inner()).await?;
    Ok(if made.created {
        HttpResponse::Created().json(made.request)
    } else {
        HttpResponse::Ok().json(made.request)
    })
}
