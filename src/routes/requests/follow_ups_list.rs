use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::follow_ups::{DueQuery, DueView};
use crate::app::pagination::{Page, PageRequest};
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct FollowUpsQuery {
    /// `due` (the default: not followed up, the date not passed), `overdue` (the date passed
    /// and no follow-up submitted) or `done` (a follow-up submitted).
    pub state: Option<String>,
    /// The staff that should see the follow-up.
    pub staff: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The recommendations with a due date of delivered opinions, by due date: the center's for
/// coordinators, their own for requesters; each with its request's reference, the requester
/// and the follow-up request made for it.
#[utoipa::path(tag = "requests", params(FollowUpsQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<DueView>),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/follow-ups")]
pub async fn list_follow_ups(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<FollowUpsQuery>,
) -> Result<HttpResponse, AppError> {
    let FollowUpsQuery {
        state: due_state,
        staff,
        limit,
        cursor,
    } = query.0;
    let page = app::follow_ups::list(
        &state,
        &user,
        DueQuery {
            state: due_state,
            staff,
        },
        PageRequest { limit, cursor },
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
