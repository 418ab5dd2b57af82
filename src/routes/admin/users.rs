use actix_web::{HttpResponse, get, patch, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::{AccountStatus, Role};
use crate::error::ApiError;
use crate::extract::{Json, Query};
use crate::routes::pagination::{self, Page};
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub site_code: Option<String>,
    pub language: String,
    pub status: AccountStatus,
    pub roles: Vec<Role>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn view(conn: &mut db::DbConnection, row: db::users::UserRow) -> Result<UserView, ApiError> {
    let mut roles: Vec<Role> = db::users::roles(conn, &row.id)?
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    roles.sort();
    Ok(UserView {
        roles,
        status: AccountStatus::parse(&row.status).unwrap_or(AccountStatus::Disabled),
        created_at: row.created_at.and_utc(),
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        rpps: row.rpps,
        specialty: row.specialty,
        site_code: row.site_code,
        language: row.language,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsersQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The accounts, by id.
#[utoipa::path(tag = "admin", params(UsersQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<UserView>),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/admin/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin])?;
    let limit = pagination::limit(query.0.limit)?;
    let after = query.0.cursor.clone();
    let page = state
        .db
        .run(move |conn| {
            let rows = db::users::list(conn, after.as_deref(), limit)?;
            let full = rows.len() as i64 == limit;
            let items = rows
                .into_iter()
                .map(|row| view(conn, row))
                .collect::<Result<Vec<_>, _>>()?;
            let next_cursor = full.then(|| items.last().map(|u| u.id.clone())).flatten();
            Ok(Page { items, next_cursor })
        })
        .await?;
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
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/admin/users/{id}/roles")]
pub async fn set_user_roles(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<RolesBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin])?;
    let target = path.into_inner();
    let mut roles: Vec<&'static str> = body.into_inner().roles.iter().map(|r| r.as_str()).collect();
    roles.sort_unstable();
    roles.dedup();
    let updated = state
        .db
        .write(move |conn| {
            let row = db::users::find_by_id(conn, &target)?.ok_or(ApiError::NotFound)?;
            db::users::set_roles(conn, &target, &roles, db::now())?;
            audit::record(
                conn,
                &user.context,
                "role.set",
                "user",
                Some(&target),
                Outcome::Allowed,
            )?;
            view(conn, row)
        })
        .await?;
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
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/admin/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<UpdateUserBody>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin])?;
    let status = body.into_inner().status;
    if status == AccountStatus::Pending {
        return Err(ApiError::invalid("status", "must be active or disabled"));
    }
    let target = path.into_inner();
    let updated = state
        .db
        .write(move |conn| {
            db::users::find_by_id(conn, &target)?.ok_or(ApiError::NotFound)?;
            db::users::set_status(conn, &target, status.as_str())?;
            if status == AccountStatus::Disabled {
                db::tokens::revoke_all_for_user(conn, &target, db::now())?;
            }
            audit::record(
                conn,
                &user.context,
                "user.set_status",
                "user",
                Some(&target),
                Outcome::Allowed,
            )?;
            let row = db::users::find_by_id(conn, &target)?.ok_or(ApiError::NotFound)?;
            view(conn, row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(updated))
}
