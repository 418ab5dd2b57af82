//! Opinion requests: the patient's form, its life cycle, triage, messages, attachments and
//! opinions. One file per endpoint; each extracts, calls its use case in `app`, and renders.

pub mod attachment_download;
pub mod attachment_upload;
pub mod create;
pub mod deliver_opinion;
pub mod fhir;
pub mod follow_up;
pub mod follow_ups_list;
pub mod get;
pub mod get_opinion;
pub mod list;
pub mod list_messages;
pub mod opinion_pdf;
pub mod post_message;
pub mod put_opinion;
pub mod reject;
pub mod request_info;
pub mod schedule;
pub mod submit;
pub mod triage;
pub mod update;
pub mod withdraw;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::app::AppError;
use crate::app::workflow::ExpectedVersion;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create::create_request)
        .service(list::list_requests)
        .service(get::get_request)
        .service(update::update_request)
        .service(submit::submit_request)
        .service(withdraw::withdraw_request)
        .service(schedule::schedule_request)
        .service(request_info::request_info)
        .service(reject::reject_request)
        .service(triage::triage_queue)
        .service(list_messages::list_messages)
        .service(post_message::post_message)
        .service(attachment_upload::upload_attachment)
        .service(attachment_download::download_attachment)
        .service(put_opinion::put_opinion)
        .service(deliver_opinion::deliver_opinion)
        .service(get_opinion::get_opinion)
        .service(opinion_pdf::opinion_pdf)
        .service(fhir::request_fhir)
        .service(follow_up::create_follow_up)
        .service(follow_ups_list::list_follow_ups);
}

/// The version in `If-Match`, if any.
pub fn if_match(req: &actix_web::HttpRequest) -> Result<Option<ExpectedVersion>, AppError> {
    let Some(value) = req.headers().get(actix_web::http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(|v| Some(ExpectedVersion::IfMatch(v)))
        .ok_or_else(|| AppError::invalid("If-Match", "must be the request's version"))
}
