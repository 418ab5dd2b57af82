//! Calendars (RFC 5545): a staff's public calendar, and the personal feed behind a secret URL.

pub mod feed;
pub mod feed_url;
pub mod staff;

use actix_web::HttpResponse;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::domain::account::Language;
use crate::web::i18n;

/// The endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(staff::staff_calendar)
        .service(feed_url::create_feed)
        .service(feed_url::remove_feed);
}

/// An iCalendar document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
pub struct Ics(#[allow(dead_code)] String);

pub fn ics(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(body)
}

/// "3 cases", in the feed owner's language.
pub fn cases_words(language: Language, cases: i64) -> String {
    i18n::text(language, "calendar.cases", &[("count", cases.to_string())])
}
