//! The coordinators' screens for what came in: `/triage` (the requests waiting for a decision,
//! urgent first, each proposed meeting confirmed in one action from its row) and the decisions
//! taken on a request's page (schedule, request information, reject).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::requests::{load, request_page, request_path};
use crate::app::pagination::PageRequest;
use crate::app::triage::TriageQuery;
use crate::app::{self, AppError};
use crate::domain::ids::{MeetingId, RequestId};
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::{AWAITING_TRIAGE, RequestStatus};
use crate::web::context::{OrPage, Web, WebError, safe_next, urlencode};
use crate::web::i18n;
use crate::web::pages::field_errors;

#[derive(Debug, Deserialize)]
pub struct TriageParams {
    status: Option<String>,
    staff: Option<String>,
    urgency: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
    reference: Option<String>,
}

/// `GET /triage`: the filters are the URL's, so a filtered list can be kept as a bookmark.
pub async fn page(web: Web, query: web::Query<TriageParams>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let blank = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let status = blank(&query.status).and_then(|s| RequestStatus::parse(&s));
    let urgency = blank(&query.urgency).and_then(|u| Urgency::parse(&u));
    let staff = blank(&query.staff);
    let page = app::triage::queue(
        &web.state,
        actor,
        TriageQuery {
            status,
            staff: staff.clone(),
            urgency,
        },
        PageRequest {
            limit: Some(50),
            cursor: blank(&query.cursor),
        },
    )
    .await
    .or_page(&web)?;
    let staffs = app::network::staffs(&web.state).await.or_page(&web)?;
    let staff_names: HashMap<String, String> = staffs
        .iter()
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    // The filters, as the pager and each row's return address keep them.
    let mut filters = Vec::new();
    if let Some(status) = status {
        filters.push(format!("status={}", status.as_str()));
    }
    if let Some(staff) = &staff {
        filters.push(format!("staff={}", urlencode(staff)));
    }
    if let Some(urgency) = urgency {
        filters.push(format!("urgency={}", urgency.as_str()));
    }
    let here = if filters.is_empty() {
        "/triage".to_owned()
    } else {
        format!("/triage?{}", filters.join("&"))
    };
    // The words of each proposed meeting and of each topic, once for the page (its 50 rows
    // share a few meetings): what the rows would otherwise each look up and format.
    let (lang, zone) = (
        web.lang(),
        web.chrome.zone.parse().unwrap_or(chrono_tz::Europe::Paris),
    );
    let mut proposed: HashMap<&str, (String, String)> = HashMap::new();
    for meeting in page
        .items
        .iter()
        .filter_map(|item| item.proposed_meeting.as_ref())
    {
        proposed.entry(meeting.id.as_str()).or_insert_with(|| {
            let staff = staff_names
                .get(&meeting.staff)
                .cloned()
                .unwrap_or_else(|| meeting.staff.clone());
            let room = i18n::text(
                lang,
                "triage.room",
                &[("count", (meeting.capacity - meeting.booked).to_string())],
            );
            (
                i18n::day_and_time(lang, meeting.starts_at, zone),
                format!("{staff} · {room}"),
            )
        });
    }
    let topics: HashMap<&str, String> = Topic::ALL
        .iter()
        .map(|t| {
            (
                t.as_str(),
                i18n::text(lang, &format!("topic.{}", t.as_str()), &[]),
            )
        })
        .collect();
    web.page("triage.html")
        .with("items", &page.items)
        .with("proposed", &proposed)
        .with("topics", &topics)
        .with("next_cursor", &page.next_cursor)
        .with("filters", filters.join("&"))
        .with("here", here)
        .with("status", status.map(|s| s.as_str()))
        .with("staff", staff)
        .with("urgency", urgency.map(|u| u.as_str()))
        .with(
            "statuses",
            AWAITING_TRIAGE
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        )
        .with(
            "urgencies",
            Urgency::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        )
        .with(
            "staffs",
            staffs
                .iter()
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect::<Vec<_>>(),
        )
        .with("done", query.done.as_deref().filter(|d| *d == "scheduled"))
        .with("done_reference", query.reference.clone())
        .render()
}

/// `POST /requests/{id}/schedule` (`meeting_id`, `allow_over_capacity`; `return_to`: the
/// triage list it was confirmed from, filters kept).
pub async fn schedule(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let meeting = form.text("meeting_id");
    let over = form.get("allow_over_capacity").is_some();
    match app::triage::schedule(&web.state, actor, &id, MeetingId::from(meeting), over).await {
        Ok(view) => {
            let back = safe_next(form.get("return_to"), "");
            Ok(
                web.redirect(&match Some(back).filter(|to| to.starts_with("/triage")) {
                    Some(to) => {
                        let join = if to.contains('?') { '&' } else { '?' };
                        format!(
                            "{to}{join}done=scheduled&reference={}",
                            urlencode(&view.reference)
                        )
                    }
                    None => request_path(&id, "scheduled"),
                }),
            )
        }
        Err(error) => decision_refused(&web, &id, error).await,
    }
}

/// `POST /requests/{id}/request-info` (`message`).
pub async fn request_info(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    match app::triage::request_info(&web.state, actor, &id, form.text("message")).await {
        Ok(_) => Ok(web.redirect(&request_path(&id, "info_requested"))),
        Err(error) => decision_refused(&web, &id, error).await,
    }
}

/// `POST /requests/{id}/reject` (`reason`).
pub async fn reject(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    match app::triage::reject(&web.state, actor, &id, &form.text("reason")).await {
        Ok(_) => Ok(web.redirect(&request_path(&id, "rejected"))),
        Err(error) => decision_refused(&web, &id, error).await,
    }
}

/// A decision refused for its input: the request's page again, the errors at their fields;
/// any other refusal is its error page.
async fn decision_refused(
    web: &Web,
    id: &RequestId,
    error: AppError,
) -> Result<HttpResponse, WebError> {
    let errors = field_errors(error).or_page(web)?;
    let view = load(web, id).await?;
    request_page(web, view, None, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
}
