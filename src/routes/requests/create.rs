use actix_web::{HttpResponse, post, web};

use crate::app::views::RequestView;
use crate::app::{self, AppError};
use crate::domain::request_form::RequestForm;
use crate::http::current_user::CurrentUser;
use crate::http::extract::Json;
use crate::http::idempotency::{IdempotencyKey, respond};
use crate::state::AppState;

/// Creates a draft request; it may be incomplete, but every field given must be well-formed.
#[utoipa::path(tag = "requests", request_body = RequestForm, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays of the same key and body answer the first answer")),
    responses(
        (status = 201, body = RequestView),
        crate::http::problem::answers::Forbidden,
        crate::http::problem::answers::Invalid,
    ))]
#[post("/requests")]
pub async fn create_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    key: IdempotencyKey,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, AppError> {
    let outcome = app::requests::create(&state, &user, body.into_inner(), key.0).await?;
    Ok(respond(outcome))
}
