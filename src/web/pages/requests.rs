//! A requester's screens: their requests, the patient's form (new and edit; save as draft or
//! save and submit), and a request's page (status in words, the meeting date, the thread and
//! the answer to a request for information, attachments, withdrawal, the delivered opinion).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::super::context::{OrPage, Web, WebError};
use super::super::form::{Kind, Submitted};
use super::super::i18n;
use super::{FormErrors, field_errors};
use crate::app::pagination::PageRequest;
use crate::app::requests::ListFilter;
use crate::app::views::RequestView;
use crate::app::workflow::ExpectedVersion;
use crate::app::{self, AppError};
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::ids::RequestId;
use crate::domain::opinion::OpinionStatus;
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::{self, RequestStatus, Transition};

/// The form's fields, named as the API names them.
const FORM_FIELDS: &[(&str, Option<Kind>)] = &[
    ("topic", None),
    ("urgency", None),
    ("patient.initials", None),
    ("patient.sex", None),
    ("patient.birth_date", None),
    ("patient.gestational_age_weeks", Some(Kind::Integer)),
    ("patient.local_id", None),
    ("question", None),
    ("clinical_summary", None),
    ("family_history", None),
    ("growth", None),
    ("suspected_diagnosis.text", None),
    ("suspected_diagnosis.orpha_code", None),
    ("genetic_tests", None),
    ("hpo_terms", Some(Kind::List)),
    ("consent_obtained", Some(Kind::Checkbox)),
];

const SEXES: &[&str] = &["female", "male", "undetermined", "unknown"];

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    cursor: Option<String>,
}

/// `GET /requests`: the requester's own, newest first, by status; paged.
pub async fn list(web: Web, query: web::Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(RequestStatus::parse);
    let page = app::requests::list(
        &web.state,
        actor,
        ListFilter {
            status,
            staff: None,
            meeting_id: None,
            urgency: None,
        },
        PageRequest {
            limit: Some(25),
            cursor: query.cursor.clone(),
        },
    )
    .await
    .or_page(&web)?;
    web.page("requests.html")
        .with("items", &page.items)
        .with("next_cursor", &page.next_cursor)
        .with("status", status.map(|s| s.as_str()))
        .with(
            "statuses",
            RequestStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
        )
        .with("can_create", actor.has_role(Role::Requester))
        .render()
}

/// The form's values as the template shows them: dotted names, text values.
fn flatten(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let name = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                flatten(&name, member, out);
            }
        }
        Value::Null => {}
        Value::Bool(_) | Value::Array(_) => {
            out.insert(prefix.to_owned(), value.clone());
        }
        Value::Number(n) => {
            out.insert(prefix.to_owned(), Value::String(n.to_string()));
        }
        Value::String(_) => {
            out.insert(prefix.to_owned(), value.clone());
        }
    }
}

/// What the form template needs besides its values.
struct FormPage<'a> {
    action: String,
    reference: Option<String>,
    version: Option<i64>,
    autosave_key: String,
    errors: &'a [FieldError],
}

async fn form_page(
    web: &Web,
    page: FormPage<'_>,
    values: Map<String, Value>,
    hpo_terms: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let language = web.lang();
    let errors = FormErrors::new(language, page.errors);
    let ahead = app::network::staffs_ahead(&web.state).await.or_page(web)?;
    // Each topic's staff and next meeting: the table of the form, and the line under the
    // topic (the chosen one's, kept up to date by the script as the choice changes).
    let routes: Vec<Value> = ahead
        .iter()
        .flat_map(|a| {
            a.staff.topics.iter().map(|topic| {
                serde_json::json!({
                    "code": topic.as_str(),
                    "topic": i18n::text(language, &format!("topic.{topic}"), &[]),
                    "staff": a.staff.name,
                    "next": a.next_meeting.as_ref().map(|m| m.starts_at),
                })
            })
        })
        .collect();
    let chosen_route = values
        .get("topic")
        .and_then(Value::as_str)
        .and_then(|code| routes.iter().find(|r| r["code"] == code))
        .cloned();
    let topics = i18n::choices(language, "topic", Topic::ALL.iter().map(|t| t.as_str()));
    let urgencies = i18n::choices(language, "urgency", Urgency::ALL.iter().map(|u| u.as_str()));
    let sexes = i18n::choices(language, "sex", SEXES.iter().copied());
    let mut values = values;
    values
        .entry("urgency")
        .or_insert_with(|| Value::String("routine".into()));
    values
        .entry("consent_obtained")
        .or_insert(Value::Bool(false));
    let mut hpo_terms = hpo_terms;
    let wanted = (hpo_terms.len() + 1).max(3);
    hpo_terms.resize(wanted, String::new());
    let hpo_error = errors
        .fields
        .iter()
        .find(|(field, _)| field.starts_with("hpo_terms"))
        .map(|(_, message)| message.clone());
    web.page("request_form.html")
        .with("action", page.action)
        .with("reference", page.reference)
        .with("version", page.version)
        .with("autosave_key", page.autosave_key)
        .with("values", values)
        .with("hpo_terms", hpo_terms)
        .with("hpo_error", hpo_error)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .with("topics", topics)
        .with("urgencies", urgencies)
        .with("sexes", sexes)
        .with("routes", routes)
        .with("chosen_route", chosen_route)
        .status(status)
        .render()
}

/// The submitted values, shown again as they were typed.
fn typed_values(form: &Submitted) -> (Map<String, Value>, Vec<String>) {
    let mut values = Map::new();
    for (name, kind) in FORM_FIELDS {
        match kind {
            Some(Kind::Checkbox) => {
                values.insert((*name).to_owned(), Value::Bool(form.get(name).is_some()));
            }
            Some(Kind::List) => {}
            _ => {
                if let Some(text) = form.get(name) {
                    values.insert((*name).to_owned(), Value::String(text.to_owned()));
                }
            }
        }
    }
    let terms = form
        .all("hpo_terms")
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    (values, terms)
}

fn view_values(view: &RequestView) -> (Map<String, Value>, Vec<String>) {
    let mut values = Map::new();
    if let Ok(json) = serde_json::to_value(&view.form) {
        flatten("", &json, &mut values);
    }
    values.remove("hpo_terms");
    (values, view.form.hpo_terms.clone())
}

/// `GET /requests/new`: the patient's form.
pub async fn new_page(web: Web) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    actor.require_any(&[Role::Requester]).or_page(&web)?;
    form_page(
        &web,
        FormPage {
            action: "/requests".into(),
            reference: None,
            version: None,
            autosave_key: format!("new:{}", actor.id),
            errors: &[],
        },
        Map::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub(super) fn request_path(id: &str, done: &str) -> String {
    format!("/requests/{id}?done={done}")
}

/// After a save: with `intent=submit`, the submission; its refusal shows the saved draft's
/// form again with what is missing.
async fn then_submit(
    web: &Web,
    form: &Submitted,
    view: RequestView,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    if form.get("intent") != Some("submit") {
        return Ok(web.redirect(&request_path(&view.id, "saved")));
    }
    let id = RequestId::from(view.id.clone());
    match app::requests::submit(&web.state, actor, &id, None, None).await {
        Ok(_) => Ok(web.redirect(&request_path(&view.id, "submitted"))),
        Err(AppError::Validation(errors)) => {
            let (values, terms) = typed_values(form);
            form_page(
                web,
                FormPage {
                    action: format!("/requests/{}", view.id),
                    reference: Some(view.reference.clone()),
                    version: Some(view.version),
                    autosave_key: format!("request:{}", view.id),
                    errors: &errors,
                },
                values,
                terms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(web.error(other)),
    }
}

/// `POST /requests`: a new draft (`intent=save`) or a new draft submitted (`intent=submit`).
pub async fn create(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let json = match form.to_json(FORM_FIELDS) {
        Ok(json) => json,
        Err(errors) => return new_form_refused(&web, &form, errors).await,
    };
    match app::requests::create(&web.state, actor, json, None).await {
        Ok(app::idempotency::Outcome::Fresh { value, .. }) => then_submit(&web, &form, value).await,
        Ok(app::idempotency::Outcome::Replayed(_)) => Ok(web.redirect("/requests")),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            new_form_refused(&web, &form, errors).await
        }
    }
}

/// The new request's form again, as typed, with its errors (nothing was saved).
async fn new_form_refused(
    web: &Web,
    form: &Submitted,
    errors: Vec<FieldError>,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let (values, terms) = typed_values(form);
    form_page(
        web,
        FormPage {
            action: "/requests".into(),
            reference: None,
            version: None,
            autosave_key: format!("new:{}", actor.id),
            errors: &errors,
        },
        values,
        terms,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// The request, and whether its page's actions are offered to this actor.
pub(super) async fn load(web: &Web, id: &RequestId) -> Result<RequestView, WebError> {
    let actor = web.actor()?;
    app::requests::get(&web.state, actor, id).await.or_page(web)
}

/// `GET /requests/{id}/edit`: while `draft` or `needs_info`.
pub async fn edit_page(web: Web, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let id = RequestId::from(id.into_inner());
    let view = load(&web, &id).await?;
    let actor = web.actor()?;
    if view.requester.id != actor.id || !request_status::EDITABLE.contains(&view.status) {
        return Err(web.error(AppError::refused("not editable", view.status)));
    }
    let (values, terms) = view_values(&view);
    form_page(
        &web,
        FormPage {
            action: format!("/requests/{}", view.id),
            reference: Some(view.reference.clone()),
            version: Some(view.version),
            autosave_key: format!("request:{}", view.id),
            errors: &[],
        },
        values,
        terms,
        StatusCode::OK,
    )
    .await
}

/// `POST /requests/{id}`: saves the form (a merge patch of every field), then submits it
/// with `intent=submit`.
pub async fn update(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = match form.to_json(FORM_FIELDS) {
        Ok(json) => {
            app::requests::update(
                &web.state,
                actor,
                &id,
                json,
                version.map(ExpectedVersion::Body),
            )
            .await
        }
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match result {
        Ok(view) => then_submit(&web, &form, view).await,
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            let (values, terms) = typed_values(&form);
            let view = load(&web, &id).await?;
            form_page(
                &web,
                FormPage {
                    action: format!("/requests/{id}"),
                    reference: Some(view.reference.clone()),
                    version,
                    autosave_key: format!("request:{id}"),
                    errors: &errors,
                },
                values,
                terms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

const DONE: &[&str] = &[
    "saved",
    "submitted",
    "withdrawn",
    "message",
    "answered",
    "attached",
    "scheduled",
    "info_requested",
    "rejected",
    "opinion_saved",
    "delivered",
    "follow_up",
];

/// `GET /requests/{id}`: the request as its requester follows it.
pub async fn show(
    web: Web,
    id: web::Path<String>,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let id = RequestId::from(id.into_inner());
    let view = load(&web, &id).await?;
    request_page(&web, view, query.done.as_deref(), &[], StatusCode::OK).await
}

pub(super) async fn request_page(
    web: &Web,
    view: RequestView,
    done: Option<&str>,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let id = RequestId::from(view.id.clone());
    // The thread is the requester's and the coordinators' (experts read the file, not it).
    let messages = match app::requests::messages(
        &web.state,
        actor,
        &id,
        PageRequest {
            limit: Some(100),
            cursor: None,
        },
    )
    .await
    {
        Ok(page) => Some(page),
        Err(AppError::Forbidden) => None,
        Err(other) => return Err(web.error(other)),
    };
    let thread_visible = messages.is_some();
    let messages = messages.unwrap_or(crate::app::pagination::Page {
        items: Vec::new(),
        next_cursor: None,
    });
    let opinion = if matches!(
        view.status,
        RequestStatus::Completed | RequestStatus::Discussed
    ) {
        match app::opinions::get(&web.state, actor, &id).await {
            Ok(opinion) => Some(opinion),
            Err(AppError::NotFound) => None,
            Err(other) => return Err(web.error(other)),
        }
    } else {
        None
    };
    let owner = view.requester.id == actor.id;
    let allowed = view.status.allowed_transitions();
    let needs_answer = owner && view.status == RequestStatus::NeedsInfo;
    let question = messages
        .items
        .iter()
        .rev()
        .find(|m| m.author.role == Role::Coordinator)
        .map(|m| m.body.clone());
    let staffs = app::network::staffs(&web.state).await.or_page(web)?;
    let staff_name_of = |code: &str| {
        staffs
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.name.clone())
    };
    let staff_name = view.staff.as_deref().and_then(staff_name_of);
    let follow_ups = follow_up_rows(&view, opinion.as_ref(), staff_name_of, web.lang());
    let chain: Vec<serde_json::Value> = app::follow_ups::chain(&web.state, actor, &view)
        .await
        .or_page(web)?
        .into_iter()
        .map(|link| {
            let staff_name = link.staff.as_deref().and_then(staff_name_of);
            let mut value = serde_json::to_value(&link).unwrap_or_default();
            value["staff_name"] = staff_name.into();
            value
        })
        .collect();
    let decide = if actor.has_role(Role::Coordinator) {
        Some(decisions(web, &view, &allowed).await?)
    } else {
        None
    };
    let can_write_opinion = (actor.has_role(Role::Coordinator) || actor.has_role(Role::Expert))
        && request_status::OPINION_WRITABLE.contains(&view.status);
    let form_errors = FormErrors::new(web.lang(), errors);
    let max_file = (web.state.settings.storage.max_attachment_bytes / 1_048_576).to_string();
    web.page("request.html")
        .with("autosave_key", format!("request:{}", view.id))
        .with("done", done.filter(|d| DONE.contains(d)))
        .with("staff_name", staff_name)
        .with(
            "can_edit",
            owner && request_status::EDITABLE.contains(&view.status),
        )
        .with("can_submit", owner && allowed.contains(&Transition::Submit))
        .with(
            "can_withdraw",
            owner && allowed.contains(&Transition::Withdraw),
        )
        .with(
            "can_attach",
            owner && request_status::ACCEPTS_ATTACHMENTS.contains(&view.status),
        )
        .with("can_write", thread_visible && !view.status.is_terminal())
        .with("thread_visible", thread_visible)
        .with("is_owner", owner)
        .with("needs_answer", needs_answer)
        .with("question", question)
        .with("messages", &messages.items)
        .with("opinion", opinion)
        .with("follow_ups", follow_ups)
        .with("chain", chain)
        .with("decide", decide)
        .with("can_write_opinion", can_write_opinion)
        .with("max_file", max_file)
        .with(
            "viewable",
            crate::routes::requests::attachment_download::VIEWABLE,
        )
        .with("values", serde_json::json!({}))
        .with("errors", &form_errors.fields)
        .with("summary", &form_errors.summary)
        .with("request", &view)
        .status(status)
        .render()
}

/// The delivered opinion's recommendations that call for a follow-up (a due date or a staff),
/// each with the follow-up made for it, if any.
fn follow_up_rows(
    view: &RequestView,
    opinion: Option<&app::opinions::OpinionView>,
    staff_name: impl Fn(&str) -> Option<String>,
    lang: crate::domain::account::Language,
) -> Vec<serde_json::Value> {
    let Some(opinion) = opinion else {
        return Vec::new();
    };
    let Some(delivered) = std::iter::once(&opinion.current)
        .chain(&opinion.previous_versions)
        .find(|version| version.status == OpinionStatus::Delivered)
    else {
        return Vec::new();
    };
    delivered
        .content
        .recommendations
        .iter()
        .enumerate()
        .filter(|(_, r)| r.due_on.is_some() || r.staff.is_some())
        .map(|(i, r)| {
            serde_json::json!({
                "index": i,
                "kind": r.kind,
                "text": r.text,
                "due_on": r.due_on.map(|day| {
                    let noon = day.and_hms_opt(12, 0, 0).expect("noon").and_utc();
                    i18n::day(lang, noon, chrono_tz::UTC)
                }),
                "staff_name": r.staff.as_deref().and_then(&staff_name),
                "made": view
                    .follow_ups
                    .iter()
                    .find(|f| f.recommendation == Some(i as i64)),
            })
        })
        .collect()
}

/// `POST /requests/{id}/follow-ups`: the follow-up of one of the opinion's recommendations (or
/// of the opinion as a whole), prepared as a draft; its page follows.
pub async fn follow_up(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let recommendation = match form.text("recommendation").trim() {
        "" => None,
        index => Some(
            index
                .parse::<i64>()
                .map_err(|_| web.error(AppError::invalid("recommendation", "must be a number")))?,
        ),
    };
    let made = app::follow_ups::create(
        &web.state,
        actor,
        &id,
        app::follow_ups::FollowUpAsk { recommendation },
    )
    .await
    .or_page(&web)?;
    Ok(web.redirect(&request_path(&made.request.id, "follow_up")))
}

/// `POST /requests/{id}/submit`.
pub async fn submit(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match app::requests::submit(
        &web.state,
        actor,
        &id,
        version.map(ExpectedVersion::Body),
        None,
    )
    .await
    {
        Ok(_) => Ok(web.redirect(&request_path(&id, "submitted"))),
        Err(AppError::Validation(errors)) => {
            let view = load(&web, &id).await?;
            let (values, terms) = view_values(&view);
            form_page(
                &web,
                FormPage {
                    action: format!("/requests/{id}"),
                    reference: Some(view.reference.clone()),
                    version: Some(view.version),
                    autosave_key: format!("request:{id}"),
                    errors: &errors,
                },
                values,
                terms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(web.error(other)),
    }
}

/// What a coordinator may decide on the request: the meetings it can go to (the planned ones
/// to come of every staff, with their room left), and which of the decisions its status
/// allows.
async fn decisions(
    web: &Web,
    view: &RequestView,
    allowed: &[Transition],
) -> Result<Value, WebError> {
    let actor = web.actor()?;
    let can_schedule =
        allowed.contains(&Transition::Schedule) || allowed.contains(&Transition::Reschedule);
    let meetings = if can_schedule {
        let now = crate::clock::now();
        app::meetings::coming(&web.state, actor)
            .await
            .or_page(web)?
            .into_iter()
            .map(|staff| {
                let meetings: Vec<Value> = staff
                    .meetings
                    .iter()
                    .filter(|m| {
                        m.status == crate::domain::meeting::MeetingStatus::Planned
                            && m.starts_at > now
                    })
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id,
                            "starts_at": m.starts_at,
                            "room": m.capacity - m.booked,
                        })
                    })
                    .collect();
                serde_json::json!({"code": staff.code, "name": staff.name, "meetings": meetings})
            })
            .collect()
    } else {
        Vec::new()
    };
    let selected = view
        .meeting
        .as_ref()
        .or(view.proposed_meeting.as_ref())
        .map(|m| m.id.clone());
    Ok(serde_json::json!({
        "can_schedule": can_schedule,
        "can_request_info": allowed.contains(&Transition::RequestInfo),
        "can_reject": allowed.contains(&Transition::Reject),
        "meetings": meetings,
        "selected": selected,
        "urgent": view.form.urgency == Some(Urgency::Urgent),
    }))
}

/// `POST /requests/{id}/withdraw`.
pub async fn withdraw(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    app::requests::withdraw(&web.state, actor, &id)
        .await
        .or_page(&web)?;
    Ok(web.redirect(&request_path(&id, "withdrawn")))
}

/// `POST /requests/{id}/messages`: a message; while information is awaited, the answer.
pub async fn message(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let before = load(&web, &id).await?;
    match app::requests::post_message(&web.state, actor, &id, form.text("body")).await {
        Ok(_) => {
            let done = if before.status == RequestStatus::NeedsInfo {
                "answered"
            } else {
                "message"
            };
            Ok(web.redirect(&request_path(&id, done)))
        }
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            request_page(
                &web,
                before,
                None,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /requests/{id}/attachments` (multipart: `csrf_token` first, then `file`).
pub async fn upload(
    web: Web,
    req: HttpRequest,
    id: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, WebError> {
    // The token is the form's first field: read it (bounded) before any file byte.
    let mut token = None;
    if let Some(Ok(mut field)) = payload.next().await
        && field.name() == Some("csrf_token")
    {
        let mut bytes = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > 256 {
                break;
            }
        }
        token = String::from_utf8(bytes).ok();
    }
    web.check_post(token.as_deref())?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let announced = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    match app::requests::upload_attachment(&web.state, actor, &id, announced, &mut payload).await {
        Ok(_) => Ok(web.redirect(&request_path(&id, "attached"))),
        Err(error @ (AppError::PayloadTooLarge | AppError::UnsupportedMediaType(_))) => {
            let message = match error {
                AppError::PayloadTooLarge => "is larger than allowed",
                _ => "is not a PDF, an image or a DICOM file",
            };
            let view = load(&web, &id).await?;
            request_page(
                &web,
                view,
                None,
                &[FieldError::new("file", message)],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            let view = load(&web, &id).await?;
            request_page(&web, view, None, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    view: Option<String>,
}

/// `GET /requests/{id}/attachments/{attachment_id}`: a download, or with `?view=1` a PDF or an
/// image shown in the browser (a DICOM file is always downloaded).
pub async fn download(
    web: Web,
    path: web::Path<(String, String)>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let (id, attachment_id) = path.into_inner();
    let file =
        app::requests::download_attachment(&web.state, actor, &RequestId::from(id), &attachment_id)
            .await
            .or_page(&web)?;
    use crate::routes::requests::attachment_download::{file_inline, file_response};
    Ok(if query.view.is_some() {
        file_inline(file)
    } else {
        file_response(file)
    })
}
