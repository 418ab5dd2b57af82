//! The list of staffs.

use actix_web::{HttpResponse, get, web};

use crate::app::network::Staff;
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::state::AppState;

/// The staffs with their recurrence, capacity, cut-off and topics.
#[utoipa::path(tag = "network", security(("bearer" = [])), responses(
    (status = 200, body = Vec<Staff>),
    crate::http::problem::answers::Unauthorized,
))]
#[get("/staffs")]
pub async fn list_staffs(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(&*app::network::staffs(&state).await?))
}
