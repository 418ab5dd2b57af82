//! The admins' screens: `/admin/users` (roles granted and removed, accounts disabled and
//! enabled again), `/admin/audit` (the trail with the API's filters) and `/admin/outbox`
//! (messages without their bodies; a dead one queued again), `/admin/exports` (the national
//! data set's file for a period). Every list is paged by cursor.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::admin::AuditFilter;
use crate::app::pagination::PageRequest;
use crate::app::{self, AppError};
use crate::domain::account::{AccountStatus, Role};
use crate::domain::ids::UserId;
use crate::domain::mail::OutboxStatus;
use crate::web::context::{OrPage, Web, WebError, urlencode};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    q: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

const DONE: &[&str] = &["roles", "disabled", "enabled", "requeued", "experts"];

/// `GET /admin/users`.
pub async fn users(web: Web, query: web::Query<PageQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let page = app::admin::users(
        &web.state,
        actor,
        search.clone(),
        PageRequest {
            limit: Some(50),
            cursor: query.cursor.clone().filter(|c| !c.is_empty()),
        },
    )
    .await
    .or_page(&web)?;
    let (experts, staffs) = app::network::experts_by_staff(&web.state, actor)
        .await
        .or_page(&web)?;
    web.page("admin_users.html")
        .with("section", "users")
        .with("q", search)
        .with("experts", &experts)
        .with("staffs", &staffs)
        .with("items", &page.items)
        .with("next_cursor", &page.next_cursor)
        .with(
            "roles",
            Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        )
        .with("done", query.done.as_deref().filter(|d| DONE.contains(d)))
        .render()
}

/// `POST /admin/users/{id}/roles` (`roles`, one per ticked box).
pub async fn set_roles(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let roles: Vec<Role> = form
        .all("roles")
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    app::admin::set_roles(&web.state, actor, &UserId::from(id.into_inner()), roles)
        .await
        .or_page(&web)?;
    Ok(web.redirect("/admin/users?done=roles"))
}

/// `POST /admin/users/{id}/status` (`status`: `active` or `disabled`).
pub async fn set_status(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let status = AccountStatus::parse(&form.text("status"))
        .ok_or_else(|| web.error(AppError::invalid("status", "must be active or disabled")))?;
    app::admin::set_status(&web.state, actor, &UserId::from(id.into_inner()), status)
        .await
        .or_page(&web)?;
    let done = if status == AccountStatus::Disabled {
        "disabled"
    } else {
        "enabled"
    };
    Ok(web.redirect(&format!("/admin/users?done={done}")))
}

/// `POST /admin/staffs/{code}/experts` (`user_ids`, one per ticked box).
pub async fn set_experts(
    web: Web,
    code: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let ids: Vec<UserId> = form.all("user_ids").into_iter().map(UserId::from).collect();
    app::network::set_experts(&web.state, actor, &code.into_inner(), ids)
        .await
        .or_page(&web)?;
    Ok(web.redirect("/admin/users?done=experts"))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    cursor: Option<String>,
}

/// `GET /admin/audit`: the filters are the URL's.
pub async fn audit(web: Web, query: web::Query<AuditQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let blank = |v: &Option<String>| {
        v.clone()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (action, entity_id, actor_id) = (
        blank(&query.action),
        blank(&query.entity_id),
        blank(&query.actor_id),
    );
    let page = app::admin::audit_trail(
        &web.state,
        actor,
        AuditFilter {
            entity_id: entity_id.clone(),
            actor_id: actor_id.clone(),
            action: action.clone(),
            from: None,
            to: None,
        },
        PageRequest {
            limit: Some(50),
            cursor: blank(&query.cursor),
        },
    )
    .await
    .or_page(&web)?;
    let filters: Vec<String> = [
        ("action", &action),
        ("entity_id", &entity_id),
        ("actor_id", &actor_id),
    ]
    .iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", urlencode(v))))
    .collect();
    web.page("admin_audit.html")
        .with("section", "audit")
        .with("items", &page.items)
        .with("next_cursor", &page.next_cursor)
        .with("filters", filters.join("&"))
        .with("action", action)
        .with("entity_id", entity_id)
        .with("actor_id", actor_id)
        .render()
}

#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    status: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

/// `GET /admin/outbox`.
pub async fn outbox(web: Web, query: web::Query<OutboxQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let status = query.status.as_deref().and_then(OutboxStatus::parse);
    let page = app::admin::outbox(
        &web.state,
        actor,
        status,
        PageRequest {
            limit: Some(50),
            cursor: query.cursor.clone().filter(|c| !c.is_empty()),
        },
    )
    .await
    .or_page(&web)?;
    web.page("admin_outbox.html")
        .with("section", "outbox")
        .with("items", &page.items)
        .with("next_cursor", &page.next_cursor)
        .with("status", status.map(|s| s.as_str()))
        .with(
            "statuses",
            OutboxStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        )
        .with("done", query.done.as_deref().filter(|d| DONE.contains(d)))
        .render()
}

/// `POST /admin/outbox/{id}/requeue`.
pub async fn requeue(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let actor = web.actor()?;
    app::admin::requeue(&web.state, actor, &id.into_inner())
        .await
        .or_page(&web)?;
    Ok(web.redirect("/admin/outbox?status=dead&done=requeued"))
}

#[derive(Debug, Deserialize)]
pub struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

fn exports_page(
    web: &Web,
    query: &PeriodQuery,
    errors: &[crate::domain::FieldError],
) -> Result<HttpResponse, WebError> {
    let errors = super::FormErrors::new(web.lang(), errors);
    let status = if errors.summary.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let values: std::collections::BTreeMap<&str, Option<&str>> =
        [("from", query.from.as_deref()), ("to", query.to.as_deref())].into();
    web.page("admin_exports.html")
        .with("section", "exports")
        .with("values", values)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .status(status)
        .render()
}

/// `GET /admin/exports`: the national data set's file, for a period.
pub async fn exports(web: Web) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    actor
        .require_any(&[Role::Admin])
        .map_err(|e| web.error(e))?;
    exports_page(
        &web,
        &PeriodQuery {
            from: None,
            to: None,
        },
        &[],
    )
}

/// `GET /admin/export/sdm-mr.csv`: the file (the API's use case), or the form with its errors.
pub async fn sdm_mr(web: Web, query: web::Query<PeriodQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    match app::exports::sdm_mr(
        &web.state,
        actor,
        query.from.as_deref(),
        query.to.as_deref(),
    )
    .await
    {
        Ok(csv) => Ok(crate::routes::csv_response(
            &format!(
                "sdm-mr-{}-{}.csv",
                query.from.as_deref().unwrap_or_default(),
                query.to.as_deref().unwrap_or_default()
            ),
            csv,
        )),
        Err(AppError::Validation(errors)) => exports_page(&web, &query, &errors),
        Err(error) => Err(web.error(error)),
    }
}
