use actix_web::{HttpResponse, post, web};

use super::find_visible;
use super::get_opinion::{OpinionView, opinion_view};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::account::Role;
use crate::domain::request_status::Transition;
use crate::email::EmailKind;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::workflow;

/// Delivers the draft opinion: it is frozen, the request becomes `completed`, and the
/// requester's e-mail is queued in the same transaction. On a completed request this delivers
/// an amendment (a new version; the earlier ones are kept) and notifies again.
#[utoipa::path(tag = "opinions", security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/requests/{id}/opinion/deliver")]
pub async fn deliver_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require_any(&[Role::Coordinator])?;
    let (request, _) = find_visible(&state, &user, &path, "opinion.deliver").await?;
    let public_url = state.settings.server.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            let draft = db::opinions::versions(conn, &request.id)?
                .into_iter()
                .next()
                .filter(|latest| latest.status == "draft")
                .ok_or_else(|| ApiError::Conflict {
                    detail: "There is no draft opinion to deliver.".into(),
                    current_status: Some(request.status.clone()),
                })?;
            let amended = request.status == "completed";
            let request = if amended {
                request
            } else {
                workflow::apply(
                    conn,
                    &user.context,
                    &request,
                    Transition::Deliver,
                    Default::default(),
                    None,
                )?
            };
            if db::opinions::deliver(conn, &draft.id, &user.id, db::now())? == 0 {
                return Err(ApiError::conflict("The opinion was delivered meanwhile."));
            }
            let action = if amended {
                "opinion.amend"
            } else {
                "opinion.deliver"
            };
            audit::record(
                conn,
                &user.context,
                action,
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::OpinionDelivered,
                request.meeting_id.as_deref(),
                serde_json::json!({"amended": amended}),
            )?;
            opinion_view(conn, &request, false)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
