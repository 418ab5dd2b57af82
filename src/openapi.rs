//! The OpenAPI document, generated from the handlers; committed as `openapi/openapi.json`
//! (a test fails when it is stale; `consilium openapi > openapi/openapi.json` refreshes it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Consilium API",
        version = "1",
        description = "Request workflow of a rare-disease reference network: referring physicians' opinion requests, multidisciplinary meetings (RCP), opinions. Errors are RFC 9457 problem+json.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::metrics::metrics
    ),
    nest((path = "/api/v1", api = V1Api)),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Probes"),
        (name = "accounts", description = "Registration, sign-in, sessions"),
        (name = "network", description = "Sites and staffs of the network"),
        (name = "requests", description = "Opinion requests: the form, its life cycle, messages, attachments"),
        (name = "triage", description = "Coordinators' decisions on requests"),
        (name = "meetings", description = "Meetings of the staffs, their agendas and attendance"),
        (name = "opinions", description = "The RCP's opinions"),
        (name = "admin", description = "Users, roles, audit trail, e-mail outbox"),
    )
)]
pub struct ApiDoc;

/// The endpoints under `/api/v1`.
#[derive(OpenApi)]
#[openapi(paths(
    routes::auth::register::register,
    routes::auth::verify_email::verify_email,
    routes::auth::login::login,
    routes::auth::login_mfa::login_mfa,
    routes::auth::refresh::refresh,
    routes::auth::logout::logout,
    routes::auth::password_reset::password_reset,
    routes::auth::password_reset_confirm::password_reset_confirm,
    routes::me::get_me,
    routes::mfa::enrol::enrol_totp,
    routes::mfa::confirm::confirm_totp,
    routes::mfa::remove::remove_totp,
    routes::sites::list_sites,
    routes::staffs::list::list_staffs,
    routes::staffs::list_meetings::list_meetings,
    routes::staffs::create_meeting::create_meeting,
    routes::staffs::set_experts::set_experts,
    routes::requests::create::create_request,
    routes::requests::list::list_requests,
    routes::requests::get::get_request,
    routes::requests::update::update_request,
    routes::requests::submit::submit_request,
    routes::requests::withdraw::withdraw_request,
    routes::requests::schedule::schedule_request,
    routes::requests::request_info::request_info,
    routes::requests::reject::reject_request,
    routes::requests::list_messages::list_messages,
    routes::requests::post_message::post_message,
    routes::requests::attachment_upload::upload_attachment,
    routes::requests::attachment_download::download_attachment,
    routes::requests::put_opinion::put_opinion,
    routes::requests::deliver_opinion::deliver_opinion,
    routes::requests::get_opinion::get_opinion,
    routes::meetings::get::get_meeting,
    routes::meetings::hold::hold_meeting,
    routes::meetings::update::update_meeting,
    routes::admin::users::list_users,
    routes::admin::users::set_user_roles,
    routes::admin::users::update_user,
    routes::admin::outbox::list_outbox,
    routes::admin::audit::list_audit,
))]
struct V1Api;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
