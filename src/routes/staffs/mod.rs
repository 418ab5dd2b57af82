//! The staffs (meeting series) of the network, their meetings and their experts.

pub mod create_meeting;
pub mod list;
pub mod list_meetings;
pub mod set_experts;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list::list_staffs)
        .service(list_meetings::list_meetings)
        .service(create_meeting::create_meeting)
        .service(set_experts::set_experts);
}
