//! The signed-in user's second factor: enrol a TOTP authenticator, confirm it (which gives the
//! recovery codes), remove it.

pub mod confirm;
pub mod enrol;
pub mod remove;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(enrol::enrol_totp)
        .service(confirm::confirm_totp)
        .service(remove::remove_totp);
}

/// The body of the endpoints that take a code.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The 6-digit code of the authenticator app (or, to remove the factor, a recovery code).
    pub code: String,
}
