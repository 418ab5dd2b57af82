use actix_web::{HttpResponse, get, patch, put, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::admin::UserView;
use crate::app::pagination::{Page, PageRequest};
use crate::app::{self, AppError};
use crate::domain::account::{AccountStatus, Role};
use crate::domain::ids::UserId;
use crate::http::current_user::CurrentUser;
use crate::http::extract::{Json, Query};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsersQuery {
    /// Part of an e-mail address or a name, whatever the case.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The accounts, by id.
#[utoipa::path(tag = "admin", params(UsersQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<UserView>),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/admin/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<UsersQuery>,
) -> Result<HttpResponse, AppError> {
    let UsersQuery { q, limit, cursor } = query.0;
    let page = app::admin::users(&state, &user, q, PageRequest { limit, cursor }).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    pub roles: Vec<Role>,
}

/// Replaces a user's roles; the change applies to their next request.
#[utoipa::path(tag = "admin", request_body = RolesBody, security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
))]
#[put("/admin/users/{id}/roles")]
pub async fn set_user_roles(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RolesBody>,
) -> Result<HttpResponse, AppError> {
    let id = UserId::from(path.into_inner());
    let updated = app::admin::set_roles(&state, &user, &id, body.into_inner().roles).await?;
    Ok(HttpResponse::Ok().json(updated))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserBody {
    /// `active` or `disabled`; a disabled user is refused at once, and their sessions end.
    pub status: AccountStatus,
}

/// Enables or disables an account.
#[utoipa::path(tag = "admin", request_body = UpdateUserBody, security(("bearer" = [])), responses(
    (status = 200, body = UserView),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::NotFound,
    crate::http::problem::answers::Invalid,
))]
#[patch("/admin/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<UpdateUserBody>,
) -> Result<HttpResponse, AppError> {
    let id = UserId::from(path.into_inner());
    let updated = app::admin::set_status(&state, &user, &id, body.into_inner().status).await?;
    Ok(HttpResponse::Ok().json(updated))
}
