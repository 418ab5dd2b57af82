//! The HTTP API: one folder per resource, one handler per endpoint. [`configure`] is the one
//! list of endpoints: it registers them with actix and, through utoipa-actix-web, in the
//! OpenAPI document (`openapi::build`).

pub mod admin;
pub mod auth;
pub mod calendars;
pub mod health;
pub mod me;
pub mod meetings;
pub mod metrics;
pub mod mfa;
pub mod requests;
pub mod sites;
pub mod staffs;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(calendars::feed::calendar_feed)
        .service(
            scope("/api/v1")
                .configure(auth::configure)
                .service(me::get_me)
                .configure(mfa::configure)
                .service(sites::list_sites)
                .configure(staffs::configure)
                .configure(calendars::configure)
                .configure(requests::configure)
                .configure(meetings::configure)
                .configure(admin::configure),
        );
}

/// A CSV file to save, named `filename` (the exports and figures, from the API and the
/// screens alike).
pub fn csv_response(filename: &str, csv: String) -> actix_web::HttpResponse {
    use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
    actix_web::HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename.to_owned())],
        })
        .body(csv)
}
