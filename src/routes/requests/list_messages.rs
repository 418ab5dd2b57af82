use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::pagination::{Page, PageRequest};
use crate::app::views::MessageView;
use crate::app::{self, AppError};
use crate::domain::ids::RequestId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct MessagesQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The thread between the requester and the coordinators, oldest first.
#[utoipa::path(tag = "requests", params(MessagesQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<MessageView>),
    crate::http::problem::answers::NotFound,
))]
#[get("/requests/{id}/messages")]
pub async fn list_messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let MessagesQuery { limit, cursor } = query.0;
    let id = RequestId::from(path.into_inner());
    let page = app::requests::messages(&state, &user, &id, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}
