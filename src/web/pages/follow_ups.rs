//! `/follow-ups`: the recommendations with a due date — the center's for coordinators (by
//! staff), their own for requesters — due, overdue or done, the nearest date first.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::context::{OrPage, Web, WebError};
use super::super::i18n;
use crate::app;
use crate::app::follow_ups::DueQuery;
use crate::app::pagination::PageRequest;
use crate::domain::account::Role;

#[derive(Debug, Deserialize)]
pub struct FollowUpsParams {
    state: Option<String>,
    staff: Option<String>,
    cursor: Option<String>,
}

/// `GET /follow-ups`.
pub async fn page(web: Web, query: web::Query<FollowUpsParams>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    // An unknown state shows the default list rather than an error page.
    let state = ["due", "overdue", "done"]
        .into_iter()
        .find(|known| query.state.as_deref() == Some(*known))
        .unwrap_or("due");
    let staff = query.staff.clone().filter(|s| !s.is_empty());
    let page = app::follow_ups::list(
        &web.state,
        actor,
        DueQuery {
            state: Some(state.to_owned()),
            staff: staff.clone(),
        },
        PageRequest {
            limit: Some(50),
            cursor: query.cursor.clone(),
        },
    )
    .await
    .or_page(&web)?;
    let staffs = app::network::staffs(&web.state).await.or_page(&web)?;
    let lang = web.lang();
    let items: Vec<serde_json::Value> = page
        .items
        .iter()
        .map(|item| {
            let mut value = serde_json::to_value(item).unwrap_or_default();
            let noon = item.due_on.and_hms_opt(12, 0, 0).expect("noon").and_utc();
            value["due_text"] = i18n::day(lang, noon, chrono_tz::UTC).into();
            value["staff_name"] = item
                .staff
                .as_ref()
                .and_then(|code| staffs.iter().find(|s| &s.code == code))
                .map(|s| s.name.clone())
                .into();
            value
        })
        .collect();
    let coordinator = actor.has_role(Role::Coordinator);
    web.page("follow_ups.html")
        .with("items", items)
        .with("next_cursor", &page.next_cursor)
        .with("state", state)
        .with("staff", staff)
        .with(
            "staffs",
            coordinator.then(|| {
                staffs
                    .iter()
                    .map(|s| (s.code.clone(), s.name.clone()))
                    .collect::<Vec<_>>()
            }),
        )
        .with("is_requester", !coordinator)
        .render()
}
