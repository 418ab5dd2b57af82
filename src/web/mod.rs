//! The web screens: server-rendered HTML beside the JSON API, at the site's root. A handler
//! extracts the form, calls the same use case as the API and renders a template; the rules
//! are the use cases' own. `context` is the session, CSRF and language of every page, `form`
//! turns a submitted form into the API's JSON body, `render` the templates, `i18n` the words.

pub mod assets;
pub mod charts;
pub mod context;
pub mod form;
pub mod i18n;
mod pages;
pub mod render;

use actix_web::web;

pub use context::{Chrome, Web, WebError, error_page};

/// Every screen's route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use pages::{
        account, admin, follow_ups, kpis, meetings, opinion, public, requests, sign_in, triage,
    };
    cfg.route("/static/{name}", web::get().to(assets::serve))
        .route("/", web::get().to(public::home))
        .route("/language", web::post().to(public::language))
        .route("/register", web::get().to(sign_in::register_page))
        .route("/register", web::post().to(sign_in::register))
        .route("/verify-email", web::get().to(sign_in::verify_page))
        .route("/verify-email", web::post().to(sign_in::verify))
        .route("/login", web::get().to(sign_in::login_page))
        .route("/login", web::post().to(sign_in::login))
        .route("/login/mfa", web::get().to(sign_in::mfa_page))
        .route("/login/mfa", web::post().to(sign_in::mfa))
        .route("/logout", web::post().to(sign_in::logout))
        .route("/password-reset", web::get().to(sign_in::reset_ask_page))
        .route("/password-reset", web::post().to(sign_in::reset_ask))
        .route("/reset-password", web::get().to(sign_in::reset_page))
        .route("/reset-password", web::post().to(sign_in::reset))
        .route("/account", web::get().to(account::page))
        .route("/me", web::post().to(account::language))
        .route("/me/password", web::post().to(account::password))
        .route("/me/mfa/totp", web::post().to(account::enrol))
        .route("/me/mfa/totp/confirm", web::post().to(account::confirm))
        .route("/me/mfa/totp/remove", web::post().to(account::remove))
        .route("/me/calendar-feed", web::post().to(account::create_feed))
        .route(
            "/me/calendar-feed/remove",
            web::post().to(account::remove_feed),
        )
        .route("/requests", web::get().to(requests::list))
        .route("/requests", web::post().to(requests::create))
        .route("/requests/new", web::get().to(requests::new_page))
        .route("/requests/{id}", web::get().to(requests::show))
        .route("/requests/{id}", web::post().to(requests::update))
        .route("/requests/{id}/edit", web::get().to(requests::edit_page))
        .route("/requests/{id}/submit", web::post().to(requests::submit))
        .route(
            "/requests/{id}/withdraw",
            web::post().to(requests::withdraw),
        )
        .route("/requests/{id}/messages", web::post().to(requests::message))
        .route(
            "/requests/{id}/follow-ups",
            web::post().to(requests::follow_up),
        )
        .route("/triage", web::get().to(triage::page))
        .route("/follow-ups", web::get().to(follow_ups::page))
        .route("/requests/{id}/opinion", web::get().to(opinion::page))
        .route("/requests/{id}/opinion", web::post().to(opinion::save))
        .route(
            "/requests/{id}/opinion/deliver",
            web::post().to(opinion::deliver),
        )
        .route("/admin/users", web::get().to(admin::users))
        .route("/admin/users/{id}/roles", web::post().to(admin::set_roles))
        .route(
            "/admin/users/{id}/status",
            web::post().to(admin::set_status),
        )
        .route(
            "/admin/staffs/{code}/experts",
            web::post().to(admin::set_experts),
        )
        .route("/admin/audit", web::get().to(admin::audit))
        .route("/admin/outbox", web::get().to(admin::outbox))
        .route("/admin/outbox/{id}/requeue", web::post().to(admin::requeue))
        .route("/admin/exports", web::get().to(admin::exports))
        .route("/kpis", web::get().to(kpis::page))
        .route("/kpis.csv", web::get().to(kpis::csv))
        .route("/admin/export/sdm-mr.csv", web::get().to(admin::sdm_mr))
        .route("/meetings", web::get().to(meetings::list))
        .route("/meetings/{id}", web::get().to(meetings::show))
        .route("/meetings/{id}/held", web::post().to(meetings::held))
        .route("/meetings/{id}/{change}", web::post().to(meetings::change))
        .route("/staffs/{code}/meetings", web::post().to(meetings::create))
        .route("/requests/{id}/schedule", web::post().to(triage::schedule))
        .route(
            "/requests/{id}/request-info",
            web::post().to(triage::request_info),
        )
        .route("/requests/{id}/reject", web::post().to(triage::reject))
        .route(
            "/requests/{id}/attachments",
            web::post().to(requests::upload),
        )
        .route(
            "/requests/{id}/attachments/{attachment_id}",
            web::get().to(requests::download),
        )
        .route("/requests/{id}/opinion.pdf", web::get().to(opinion::pdf));
}
