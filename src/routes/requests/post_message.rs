use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::views::MessageView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub body: String,
}

/// Posts to the thread between the requester and the coordinators. The requester's message
/// while the request awaits information answers it: the request returns to `submitted` and
/// the coordinators are told.
#[utoipa::path(tag = "requests", request_body = MessageBody, security(("bearer" = [])), responses(
    (status = 201, body = MessageView),
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Invalid,
))]
#[post("/requests/{id}/messages")]
pub async fn post_message(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<MessageBody>,
) -> Result<HttpResponse, AppError> {
    let id = RequestId::from(path.into_inner());
    let message = app::requests::post_message(&state, &user, &id, body.into_inner().body).await?;
    Ok(HttpResponse::Created().json(message))
}
