use actix_web::{HttpResponse, put, web};

use super::find_visible;
use super::get_opinion::{OpinionView, opinion_view};
use crate::audit::{self, Outcome};
use crate::auth::current_user::CurrentUser;
use crate::db;
use crate::domain::opinion::OpinionContent;
use crate::error::ApiError;
use crate::extract::Json;
use crate::startup::AppState;

/// Creates or replaces the draft opinion of a discussed request. On a completed request, a
/// new draft is an amendment: the delivered versions are kept.
#[utoipa::path(tag = "opinions", request_body = OpinionContent, security(("bearer" = [])), responses(
    (status = 200, body = OpinionView),
    (status = 403, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/requests/{id}/opinion")]
pub async fn put_opinion(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: Json<OpinionContent>,
) -> Result<HttpResponse, ApiError> {
    let (request, access) = find_visible(&state, &user, &path, "opinion.write").await?;
    if !access.coordinator && !access.expert {
        return Err(ApiError::Forbidden);
    }
    let content = body.into_inner();
    let view = state
        .db
        .write(move |conn| {
            let sites: Vec<String> = db::network::sites(conn)?
                .into_iter()
                .map(|s| s.code)
                .collect();
            let errors = content.check(|code| sites.iter().any(|s| s == code));
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let request = db::requests::find(conn, &request.id)?.ok_or(ApiError::NotFound)?;
            if !matches!(request.status.as_str(), "discussed" | "completed") {
                return Err(ApiError::Conflict {
                    detail: "An opinion is written once the request was discussed in a meeting."
                        .into(),
                    current_status: Some(request.status.clone()),
                });
            }
            let text = serde_json::to_string(&content).map_err(anyhow::Error::from)?;
            let now = db::now();
            let versions = db::opinions::versions(conn, &request.id)?;
            match versions.first() {
                Some(draft) if draft.status == "draft" => {
                    db::opinions::update_draft(conn, &draft.id, &text, &user.id, now)?;
                }
                latest => db::opinions::insert(
                    conn,
                    &db::opinions::OpinionRow {
                        id: db::new_id(),
                        request_id: request.id.clone(),
                        version: latest.map_or(1, |l| l.version + 1),
                        status: "draft".into(),
                        content: text,
                        author_id: user.id.clone(),
                        validated_by: None,
                        created_at: now,
                        updated_at: now,
                        delivered_at: None,
                    },
                )?,
            }
            audit::record(
                conn,
                &user.context,
                "opinion.write",
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            opinion_view(conn, &request, false)?.ok_or(ApiError::NotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
