//! The home page (how to ask for an opinion, each staff's next meeting, which site serves a
//! département) and the language switch.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::context::{OrPage, Web, WebError, home_of, safe_next};
use super::super::i18n;
use crate::app::{self, AppError, web_sessions::Visitor};
use crate::domain::account::Language;

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    departement: Option<String>,
    signed_out: Option<String>,
}

/// The labels of a staff's topics in the page's language.
pub fn topic_labels(
    language: Language,
    topics: &[crate::domain::request_form::Topic],
) -> Vec<String> {
    topics
        .iter()
        .map(|topic| i18n::text(language, &format!("topic.{topic}"), &[]))
        .collect()
}

/// `GET /`: the way to ask; a signed-in visitor is sent to their home.
pub async fn home(web: Web, query: web::Query<HomeQuery>) -> Result<HttpResponse, WebError> {
    match &web.visitor {
        Visitor::SignedIn(actor) => return Ok(web.redirect(home_of(actor))),
        Visitor::MustEnrol(_) => return Ok(web.redirect("/account")),
        _ => {}
    }
    let language = web.lang();
    let ahead = app::network::staffs_ahead(&web.state).await.or_page(&web)?;
    let staffs: Vec<_> = ahead
        .iter()
        .map(|a| {
            serde_json::json!({
                "name": a.staff.name,
                "topics": topic_labels(language, &a.staff.topics),
                "next": a.next_meeting.as_ref().map(|m| m.starts_at),
                "cutoff": a.cutoff,
            })
        })
        .collect();
    let departement = query
        .departement
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let (sites, departement_error) = match departement {
        None => (Vec::new(), None),
        Some(code) => match app::network::sites(&web.state, Some(code)).await {
            Ok(sites) => (sites, None),
            Err(AppError::Validation(errors)) => (
                Vec::new(),
                errors
                    .first()
                    .map(|e| i18n::api_message(language, &e.message)),
            ),
            Err(other) => return Err(web.error(other)),
        },
    };
    let center = web
        .state
        .db
        .run(|conn| crate::db::network::center(conn).map(|c| c.name))
        .await
        .map_err(|e| web.error(e.into()))?;
    web.page("home.html")
        .with("center", center)
        .with("staffs", staffs)
        .with("departement", departement)
        .with(
            "sites",
            sites
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "name": s.site.name,
                        "hospital": s.site.hospital,
                        "city": s.site.city,
                        "distance_km": s.distance_km.map(|d| d.round() as i64),
                    })
                })
                .collect::<Vec<_>>(),
        )
        .with("departement_error", departement_error)
        .with("signed_out", query.signed_out.is_some())
        .render()
}

/// `POST /language`: the language of the pages; a signed-in user's own setting changes too.
pub async fn language(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let language = i18n::parse_language(&form.text("language")).unwrap_or_default();
    if let Visitor::SignedIn(actor) | Visitor::MustEnrol(actor) = &web.visitor {
        app::accounts::set_language(&web.state, actor, language)
            .await
            .or_page(&web)?;
    }
    let next = safe_next(form.get("next"), "/");
    Ok(web.redirect_with_language(&next, language))
}
