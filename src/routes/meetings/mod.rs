//! One meeting: its agenda, its changes (cancel, move), and the record that it was held.

pub mod get;
pub mod hold;
pub mod update;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get::get_meeting)
        .service(hold::hold_meeting)
        .service(update::update_meeting);
}
