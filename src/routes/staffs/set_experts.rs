use actix_web::{HttpResponse, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffExperts {
    /// Users holding the expert role who sit in this staff's meetings.
    pub user_ids: Vec<String>,
}

/// Sets the experts who sit in a staff: they read its meetings' agendas and cases, and draft
/// the opinions.
#[utoipa::path(tag = "meetings", request_body = StaffExperts, security(("bearer" = [])), responses(
    (status = 200, body = StaffExperts),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/staffs/{code}/experts")]
pub async fn set_experts(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<StaffExperts>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Admin, Role::Coordinator])?;
    let mut user_ids = body.into_inner().user_ids;
    user_ids.sort();
    user_ids.dedup();
    if user_ids.len() > 200 {
        return Err(ApiError::invalid("user_ids", "at most 200 experts"));
    }
    let code = path.into_inner();
    let experts = state
        .db
        .write(move |conn| {
            db::network::staff(conn, &code)?.ok_or(ApiError::NotFound)?;
            for (i, id) in user_ids.iter().enumerate() {
                let is_expert = db::users::roles(conn, id)?
                    .iter()
                    .any(|r| r == Role::Expert.as_str());
                if !is_expert {
                    return Err(ApiError::invalid(
                        format!("user_ids[{i}]"),
                        "is not a user with the expert role",
                    ));
                }
            }
            db::meetings::set_staff_experts(conn, &code, &user_ids)?;
            audit::record(
                conn,
                &user.context,
                "staff.set_experts",
                "staff",
                Some(&code),
                Outcome::Allowed,
            )?;
            Ok(StaffExperts {
                user_ids: db::meetings::staff_expert_ids(conn, &code)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(experts))
}
