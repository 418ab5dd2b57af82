//! The meetings' screens: `/meetings` (each staff's meetings of the last week and the coming
//! eight, with their places, cut-off and status) and `/meetings/{id}` (the agenda, and for a
//! coordinator, once it has started, the record that it was held: attendance rows offered
//! from the staff's previous meeting, the cases discussed, the quorum shown before sending).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::{FormErrors, field_errors};
use crate::app::meetings::HeldBody;
use crate::app::{self, AppError};
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::ids::MeetingId;
use crate::domain::meeting::MeetingStatus;
use crate::domain::opinion::{Participant, quorum_met};
use crate::domain::request_status::RequestStatus;
use crate::web::context::{OrPage, Web, WebError};
use crate::web::form::Submitted;

/// `GET /meetings`.
pub async fn list(web: Web, query: web::Query<DoneQuery>) -> Result<HttpResponse, WebError> {
    let done = query.done.as_deref().filter(|d| *d == "created");
    meetings_page(&web, None, &[], done, StatusCode::OK).await
}

/// The list, with the add form of `staff` filled with `values` and its `errors` if refused.
async fn meetings_page(
    web: &Web,
    refused: Option<(&str, Map<String, Value>)>,
    errors: &[FieldError],
    done: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let staffs = app::meetings::coming(&web.state, actor)
        .await
        .or_page(web)?;
    let form_errors = FormErrors::new(web.lang(), errors);
    let (form_staff, values) = match refused {
        Some((staff, values)) => (Some(staff.to_owned()), values),
        None => (None, Map::new()),
    };
    web.page("meetings.html")
        .with("staffs", &staffs)
        .with("can_add", actor.has_role(Role::Coordinator))
        .with("form_staff", form_staff)
        .with("values", values)
        .with("errors", &form_errors.fields)
        .with("summary", &form_errors.summary)
        .with("done", done)
        .status(status)
        .render()
}

/// A `datetime-local` field's value (`2026-12-09T14:00`), in the center's time zone.
fn local_instant(web: &Web, value: &str, field: &str) -> Result<DateTime<Utc>, FieldError> {
    let zone: chrono_tz::Tz = web.chrome.zone.parse().unwrap_or(chrono_tz::Europe::Paris);
    chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|local| zone.from_local_datetime(&local).earliest())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| FieldError::new(field, "is not a date and time"))
}

/// `POST /staffs/{code}/meetings` (`starts_at`, `duration_minutes`, `capacity`): an
/// extraordinary meeting.
pub async fn create(
    web: Web,
    code: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let code = code.into_inner();
    let mut values = Map::new();
    for name in ["starts_at", "duration_minutes", "capacity"] {
        values.insert(name.into(), json!(form.text(name)));
    }
    let mut errors = Vec::new();
    let starts_at = local_instant(&web, &form.text("starts_at"), "starts_at")
        .map_err(|e| errors.push(e))
        .ok();
    let number = |name: &str, errors: &mut Vec<FieldError>| {
        let text = form.text(name);
        if text.trim().is_empty() {
            return None;
        }
        text.trim().parse::<i64>().map_or_else(
            |_| {
                errors.push(FieldError::new(name, "must be a whole number"));
                None
            },
            Some,
        )
    };
    let duration_minutes = number("duration_minutes", &mut errors);
    let capacity = number("capacity", &mut errors);
    let outcome = match starts_at {
        Some(starts_at) if errors.is_empty() => app::meetings::create(
            &web.state,
            actor,
            &code,
            app::meetings::NewMeetingBody {
                starts_at,
                duration_minutes,
                capacity,
                video_url: None,
            },
        )
        .await
        .map(|_| ()),
        _ => Err(AppError::Validation(errors)),
    };
    match outcome {
        Ok(()) => Ok(web.redirect("/meetings?done=created")),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            meetings_page(
                &web,
                Some((&code, values)),
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /meetings/{id}/move` (`starts_at`) and `POST /meetings/{id}/cancel`: the
/// requesters whose request is in it are told the new date, as the API does.
pub async fn change(
    web: Web,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let (id, what) = path.into_inner();
    let id = MeetingId::from(id);
    let change = match what.as_str() {
        "cancel" => app::meetings::UpdateMeetingBody {
            status: Some(app::meetings::MeetingChange::Cancelled),
            starts_at: None,
            capacity: None,
            video_url: None,
        },
        "move" => match local_instant(&web, &form.text("starts_at"), "starts_at") {
            Ok(starts_at) => app::meetings::UpdateMeetingBody {
                status: None,
                starts_at: Some(starts_at),
                capacity: None,
                video_url: None,
            },
            Err(error) => {
                return meeting_page(
                    &web,
                    &id,
                    None,
                    &[error],
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
        _ => return Err(web.error(AppError::NotFound)),
    };
    match app::meetings::update(&web.state, actor, &id, change).await {
        Ok(_) => {
            let done = if what == "cancel" {
                "cancelled"
            } else {
                "moved"
            };
            Ok(web.redirect(&format!("/meetings/{id}?done={done}")))
        }
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            meeting_page(
                &web,
                &id,
                None,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
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
    let done = query
        .done
        .as_deref()
        .filter(|d| ["held", "moved", "cancelled"].contains(d));
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
        && meeting.meeting.starts_at <= crate::clock::now();
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
        .with("quorum_met", quorum_met(&participants[..filled], quorum))
        .with("can_hold", can_hold)
        .with(
            "can_change",
            actor.has_role(Role::Coordinator)
                && meeting.meeting.status == MeetingStatus::Planned
                && meeting.meeting.starts_at > crate::clock::now(),
        )
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
    form.row_indexes("participants")
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
    let form = web.form(&body)?;
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
