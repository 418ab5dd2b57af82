//! The meetings' screens: `/meetings` (each staff's meetings of the last week and the coming
//! eight, with their places, cut-off and status) and `/meetings/{id}` (the agenda, and for a
//! coordinator, once it has started, the record that it was held: attendance rows offered
//! from the staff's previous meeting, the cases discussed, the quorum shown before sending).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{FormErrors, field_errors};
use crate::app;
use crate::app::meetings::HeldBody;
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::ids::MeetingId;
use crate::domain::meeting::MeetingStatus;
use crate::domain::opinion::{Participant, quorum_met};
use crate::domain::request_status::RequestStatus;
use crate::web::context::{OrPage, Web, WebError};
use crate::web::form::Submitted;

/// `GET /meetings`.
pub async fn list(web: Web) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let staffs = app::meetings::coming(&web.state, actor)
        .await
        .or_page(&web)?;
    web.page("meetings.html")
        .with("staffs", &staffs)
        .with("now", chrono::Utc::now())
        .render()
}

#[derive(Debug, serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `GET /meetings/{id}`.
pub async fn show(
    web: Web,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let id = MeetingId::from(id.into_inner());
    let done = query.done.as_deref().filter(|d| *d == "held");
    meeting_page(&web, &id, None, &[], done, StatusCode::OK).await
}

/// Extra rows offered beyond those filled in, for the ones who came this time.
const BLANK_ROWS: usize = 2;

async fn meeting_page(
    web: &Web,
    id: &MeetingId,
    typed: Option<Vec<Participant>>,
    errors: &[FieldError],
    done: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let meeting = app::meetings::agenda(&web.state, actor, id)
        .await
        .or_page(web)?;
    let staffs = app::network::staffs(&web.state).await.or_page(web)?;
    let staff = staffs.iter().find(|s| s.code == meeting.meeting.staff);
    let quorum = staff.map_or(0, |s| s.quorum_specialties);
    let can_hold = actor.has_role(Role::Coordinator)
        && meeting.meeting.status == MeetingStatus::Planned
        && meeting.meeting.starts_at <= chrono::Utc::now();
    let mut participants = match typed {
        Some(typed) => typed,
        None if can_hold => app::meetings::regulars(&web.state, actor, &meeting.meeting)
            .await
            .or_page(web)?,
        None => Vec::new(),
    };
    let offered_from_last = !participants.is_empty() && errors.is_empty();
    let filled = participants.len();
    participants.resize(
        filled + BLANK_ROWS,
        Participant {
            name: String::new(),
            specialty: String::new(),
            site_code: String::new(),
        },
    );
    let mut values = serde_json::Map::new();
    for (i, row) in participants.iter().enumerate() {
        for (part, value) in [
            ("name", &row.name),
            ("specialty", &row.specialty),
            ("site_code", &row.site_code),
        ] {
            values.insert(format!("participants[{i}].{part}"), json!(value));
        }
    }
    let sites = app::network::sites(&web.state, None).await.or_page(web)?;
    let form_errors = FormErrors::new(web.lang(), errors);
    let scheduled: Vec<&app::meetings::AgendaItem> = meeting
        .agenda
        .iter()
        .filter(|item| item.status == RequestStatus::Scheduled)
        .collect();
    web.page("meeting.html")
        .with("meeting", &meeting.meeting)
        .with("agenda", &meeting.agenda)
        .with("scheduled", &scheduled)
        .with("staff_name", staff.map(|s| s.name.clone()))
        .with("quorum", quorum)
        .with(
            "quorum_met",
            quorum_met(&participants[..filled.min(participants.len())], quorum),
        )
        .with("can_hold", can_hold)
        .with("participants", &participants)
        .with("offered_from_last", offered_from_last)
        .with(
            "sites",
            sites
                .iter()
                .map(|s| (s.site.code.clone(), s.site.name.clone()))
                .collect::<Vec<_>>(),
        )
        .with("errors", &form_errors.fields)
        .with("summary", &form_errors.summary)
        .with("values", values)
        .with("done", done)
        .status(status)
        .render()
}

/// The attendance rows of the form (`participants[i].name`, `.specialty`, `.site_code`), in
/// the order of their indexes, rows left wholly empty dropped.
fn participants_of(form: &Submitted) -> Vec<Participant> {
    let mut indexes: Vec<usize> = form
        .pairs
        .iter()
        .filter_map(|(name, _)| {
            let rest = name.strip_prefix("participants[")?;
            rest.split_once(']')?.0.parse().ok()
        })
        .filter(|i| *i < 500)
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes
        .into_iter()
        .map(|i| {
            let text = |part: &str| {
                form.get(&format!("participants[{i}].{part}"))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            Participant {
                name: text("name"),
                specialty: text("specialty"),
                site_code: text("site_code"),
            }
        })
        .filter(|p| !(p.name.is_empty() && p.specialty.is_empty() && p.site_code.is_empty()))
        .collect()
}

/// `POST /meetings/{id}/held`: attendance and the cases discussed; the others are carried
/// over to the staff's next meeting.
pub async fn held(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = Submitted::parse(&body);
    web.check_post(form.get("csrf_token"))?;
    let actor = web.actor()?;
    let id = MeetingId::from(id.into_inner());
    let participants = participants_of(&form);
    let discussed: Vec<String> = form.all("discussed");
    let body = HeldBody {
        participants: participants.clone(),
        discussed,
    };
    match app::meetings::hold(&web.state, actor, &id, body).await {
        Ok(_) => Ok(web.redirect(&format!("/meetings/{id}?done=held"))),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            meeting_page(
                &web,
                &id,
                Some(participants),
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
