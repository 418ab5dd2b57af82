//! The HTTP API: one folder per resource, one handler per endpoint.

pub mod admin;
pub mod auth;
pub mod health;
pub mod me;
pub mod meetings;
pub mod metrics;
pub mod mfa;
pub mod requests;
pub mod sites;
pub mod staffs;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(
            web::scope("/api/v1")
                .configure(auth::configure)
                .service(me::get_me)
                .configure(mfa::configure)
                .service(sites::list_sites)
                .configure(staffs::configure)
                .configure(requests::configure)
                .configure(meetings::configure)
                .configure(admin::configure),
        );
}
