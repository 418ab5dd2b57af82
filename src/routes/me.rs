//! The signed-in user.

use actix_web::{HttpResponse, get, web};

use crate::app::sessions::Me;
use crate::app::{self, AppError};
use crate::http::current_user::EnrollingUser;
use crate::state::AppState;

/// The signed-in user, with the roles they hold now and the state of their second factor.
/// Open to a user who must still enrol one.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    crate::http::problem::answers::Unauthorized,
))]
#[get("/me")]
pub async fn get_me(
    state: web::Data<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(app::sessions::me(&state, user).await?))
}
