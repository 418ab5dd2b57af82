use actix_web::{HttpResponse, get, web};

use super::{Ics, cases_words, ics};
use crate::app::{self, AppError, RequestContext};
use crate::state::AppState;

/// The personal feed of the account whose address this is (no other credential: the token
/// is the secret). 404 once the address was replaced or removed.
#[utoipa::path(tag = "calendars", responses(
    (status = 200, body = Ics, content_type = "text/calendar"),
    crate::http::problem::answers::NotFound,
))]
#[get("/calendar/{token}.ics")]
pub async fn calendar_feed(
    state: web::Data<AppState>,
    context: RequestContext,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(ics(app::calendars::feed(
        &state,
        context,
        &token,
        cases_words,
    )
    .await?))
}
