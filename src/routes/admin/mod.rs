//! Administration: users and roles, the audit trail, the e-mail outbox.

pub mod audit;
pub mod outbox;
pub mod users;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(users::list_users)
        .service(users::set_user_roles)
        .service(users::update_user)
        .service(audit::list_audit)
        .service(outbox::list_outbox);
}
