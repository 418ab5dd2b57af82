//! Administration: users and roles, the audit trail, the e-mail outbox, the national data
//! set's export.

pub mod audit;
pub mod export_fhir;
pub mod export_sdm_mr;
pub mod kpis;
pub mod outbox;
pub mod users;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(users::list_users)
        .service(users::set_user_roles)
        .service(users::update_user)
        .service(audit::list_audit)
        .service(outbox::list_outbox)
        .service(outbox::requeue_message)
        .service(export_sdm_mr::export_sdm_mr)
        .service(export_fhir::export_fhir)
        .service(kpis::kpis)
        .service(kpis::kpis_csv);
}
