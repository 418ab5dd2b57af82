use actix_web::{HttpResponse, delete, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// A personal calendar feed's address: keep it secret, as it opens the feed to whoever has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedUrl {
    /// `<public_url>/calendar/<token>.ics`
    pub url: String,
}

/// A new address for the caller's calendar feed: a requester's requests' meetings, or a
/// coordinator's or expert's staffs' meetings with their cases and video link. Asking again
/// replaces it: the previous address stops working.
#[utoipa::path(tag = "calendars", security(("bearer" = [])), responses(
    (status = 201, body = FeedUrl),
    crate::http::problem::answers::Unauthorized,
))]
#[post("/me/calendar-feed")]
pub async fn create_feed(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let url = app::calendars::create_feed(&state, &user).await?;
    Ok(HttpResponse::Created().json(FeedUrl { url }))
}

/// Removes the caller's calendar feed: its address stops working.
#[utoipa::path(tag = "calendars", security(("bearer" = [])), responses(
    (status = 204, description = "The feed is removed (or there was none)."),
    crate::http::problem::answers::Unauthorized,
))]
#[delete("/me/calendar-feed")]
pub async fn remove_feed(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    app::calendars::remove_feed(&state, &user).await?;
    Ok(HttpResponse::NoContent().finish())
}
