//! The requester's use cases: create, edit, submit and withdraw a request; read one or a list;
//! the thread of messages (answering a request for information); attachments.

use std::collections::HashMap;

use actix_multipart::Multipart;
use chrono::Datelike;

use super::idempotency::{self, Outcome};
use super::pagination::{self, Page};
use super::views::{
    AttachmentView, MessageView, PersonRef, RequestSummary, RequestView, assemble, parse_form,
    view, view_by,
};
use super::workflow::{self, Change, ExpectedVersion, Tx, check_version, require_status};
use super::{Actor, AppError};
use crate::attachments;
use crate::audit::{self, Outcome as Audited};
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::ids::RequestId;
use crate::domain::mail::EmailKind;
use crate::domain::request_form::{RequestForm, Topic, Urgency, merge_patch};
use crate::domain::request_status::{self, RequestStatus, Transition};
use crate::state::AppState;

pub const MAX_MESSAGE_CHARS: usize = 5_000;

/// The longest text of a message, a question or a rejection reason, checked as `field`.
fn checked_text(text: &str, field: &str, max: usize) -> Result<(), AppError> {
    if text.trim().is_empty() || text.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("is required, at most {max} characters"),
        ));
    }
    Ok(())
}

pub(crate) fn checked_message(text: &str, field: &str) -> Result<(), AppError> {
    checked_text(text, field, MAX_MESSAGE_CHARS)
}

pub(crate) fn checked_reason(text: &str, max: usize) -> Result<(), AppError> {
    checked_text(text, "reason", max)
}

/// Creates a draft; it may be incomplete, but every field given must be well-formed. With an
/// idempotency key, a replay answers the first answer.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    body: serde_json::Value,
    key: Option<String>,
) -> Result<Outcome<RequestView>, AppError> {
    actor.require_any(&[Role::Requester])?;
    let form: RequestForm = super::input::parse_json(body.to_string().as_bytes())?;
    let actor = actor.clone();
    let replay = idempotency::Replay::new(&actor.id, key, "create_request", &body);
    state
        .db
        .write(move |conn| {
            if let Some(replayed) = replay.find(conn)? {
                return Ok(replayed);
            }
            let center = db::network::center(conn)?;
            AppError::unless_valid(form.check_format(workflow::today_in(&center)))?;
            let view = new_draft(conn, &actor, center, form, None, "request.create")?;
            replay.store(conn, 201, view)
        })
        .await
}

/// Writes a new draft of `actor` (its audit row, its reference, its first timeline entry), a
/// follow-up of `parent` (a request and the index of one of its opinion's recommendations)
/// when given. The form is checked already.
pub(crate) fn new_draft(
    conn: &mut DbConnection,
    actor: &Actor,
    center: db::network::CenterRow,
    form: RequestForm,
    parent: Option<(String, Option<i64>)>,
    action: &str,
) -> Result<RequestView, AppError> {
    let now = db::now();
    let id = db::new_id();
    audit::record(
        conn,
        &actor.context,
        action,
        "request",
        Some(&id),
        Audited::Allowed,
    )?;
    // The reference counter's row stays locked until commit, and every creation of the
    // year waits for it: take it last, and read nothing back after it.
    let year = i64::from(now.year());
    let number = db::requests::next_reference_number(conn, &center.code, year)?;
    let urgency = form.urgency.unwrap_or(Urgency::Routine);
    let (parent_id, parent_recommendation) = parent.unzip();
    let request = db::requests::RequestRow {
        id: id.clone(),
        reference: format!("{}-{year}-{number:05}", center.code),
        center_code: center.code,
        requester_id: actor.id.clone(),
        status: RequestStatus::Draft,
        version: 1,
        topic: form.topic,
        urgency,
        form: serde_json::to_string(&RequestForm {
            urgency: Some(urgency),
            ..form
        })?,
        staff_code: None,
        proposed_meeting_id: None,
        meeting_id: None,
        rejection_reason: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        discussed_at: None,
        delivered_at: None,
        submitted_month: None,
        site_code: None,
        discussed_days: None,
        delivered_days: None,
        parent_id,
        parent_recommendation: parent_recommendation.flatten(),
    };
    db::requests::insert(conn, &request)?;
    let created = db::requests::EventRow {
        id: db::new_id(),
        request_id: id,
        at: now,
        from_status: None,
        to_status: RequestStatus::Draft,
        actor_id: Some(actor.id.clone()),
        note: None,
        center_code: request.center_code.clone(),
        staff_code: None,
    };
    db::requests::insert_event(conn, &created)?;
    let requester = PersonRef {
        id: actor.id.clone(),
        full_name: actor.full_name.clone(),
    };
    let parent = match &request.parent_id {
        Some(parent_id) => super::views::parent_ref(conn, parent_id)?,
        None => None,
    };
    assemble(
        request,
        requester,
        vec![created],
        Vec::new(),
        (None, None),
        (parent, Vec::new()),
    )
}

/// Changes a draft (or a request awaiting information) with a JSON merge patch of its fields;
/// `null` clears a field. Status, reference, requester and ids cannot be set.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    patch: serde_json::Value,
    expected: Option<ExpectedVersion>,
) -> Result<RequestView, AppError> {
    let context = actor.context.clone();
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.update",
        Tx::Write,
        move |conn, request, access| {
            access.require_owner()?;
            check_version(&request, expected)?;
            require_status(&request, &request_status::EDITABLE, |status| {
                format!("A request that is {status} cannot be edited.")
            })?;
            let mut document = serde_json::to_value(parse_form(&request)?)?;
            merge_patch(&mut document, &patch);
            let form: RequestForm = super::input::parse_json(document.to_string().as_bytes())?;
            AppError::unless_valid(form.check_format(workflow::today(conn)?))?;
            let changes = db::requests::RequestChanges {
                topic: Some(form.topic),
                urgency: Some(form.urgency.unwrap_or_default()),
                form: Some(serde_json::to_string(&form)?),
                updated_at: Some(db::now()),
                ..Default::default()
            };
            let updated = db::requests::update_guarded(
                conn,
                &request.id,
                request.status,
                request.version,
                &changes,
            )?
            .ok_or_else(|| workflow::stale(&request))?;
            audit::record(
                conn,
                &context,
                "request.update",
                "request",
                Some(&request.id),
                Audited::Allowed,
            )?;
            view(conn, updated)
        },
    )
    .await
}

/// Submits a draft: checks every required field (all that fail are listed), routes the topic
/// to its staff and proposes the staff's next meeting whose cut-off has not passed and which
/// has room. The requester and the coordinators are e-mailed.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    expected: Option<ExpectedVersion>,
    key: Option<String>,
) -> Result<Outcome<RequestView>, AppError> {
    let (caller, public_url) = (actor.clone(), state.public_url().to_owned());
    let endpoint = format!("submit:{id}");
    let replay = idempotency::Replay::new(
        &actor.id,
        key,
        &endpoint,
        &serde_json::json!({"submit": id}),
    );
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.submit",
        Tx::Write,
        move |conn, request, access| {
            access.require_owner()?;
            if let Some(replayed) = replay.find(conn)? {
                return Ok(replayed);
            }
            check_version(&request, expected)?;
            // Checked before the form, so a second submit is a conflict, not invalid fields.
            workflow::allowed(&request, Transition::Submit)?;
            let form = parse_form(&request)?;
            let center = db::network::center(conn)?;
            AppError::unless_valid(form.check_submission(workflow::today_in(&center)))?;
            let topic: Topic = form.topic.expect("checked above");
            let staff = workflow::route(conn, topic)?.ok_or_else(|| {
                AppError::invalid("topic", "no staff of the network takes this topic")
            })?;
            let proposed = workflow::propose_meeting(conn, &staff)?;
            let proposed_id = proposed.as_ref().map(|m| m.id.clone());
            let now = db::now();
            let request = Change::new(Transition::Submit)
                .setting(db::requests::RequestChanges {
                    staff_code: Some(Some(staff.code.clone())),
                    proposed_meeting_id: Some(proposed_id.clone()),
                    submitted_at: Some(Some(now)),
                    // What the figures count it by, as it is now.
                    submitted_month: Some(Some(db::kpis::month_of(now, workflow::zone(&center)))),
                    site_code: Some(caller.site_code.clone()),
                    ..Default::default()
                })
                .tell_requester(
                    EmailKind::RequestSubmitted,
                    proposed_id.as_deref(),
                    serde_json::json!({}),
                )
                .tell_coordinators(
                    EmailKind::RequestSubmittedCoordinator,
                    proposed_id.as_deref(),
                )
                .apply(conn, &caller.context, &public_url, &request)?;
            // A follow-up submitted: its recommendation is done.
            if let (Some(parent), Some(index)) = (&request.parent_id, request.parent_recommendation)
            {
                db::follow_ups::set_follow_up(
                    conn,
                    parent,
                    index,
                    &request.id,
                    request.submitted_at.map(|at| {
                        let zone = workflow::zone(&center);
                        (at, at.and_utc().with_timezone(&zone).date_naive())
                    }),
                )?;
            }
            let view = view_by(conn, request, &caller)?;
            replay.store(conn, 200, view)
        },
    )
    .await
}

/// Withdraws a request before its discussion.
pub async fn withdraw(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
) -> Result<RequestView, AppError> {
    let (context, public_url) = (actor.context.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.withdraw",
        Tx::Write,
        move |conn, request, access| {
            access.require_owner()?;
            let request =
                Change::new(Transition::Withdraw).apply(conn, &context, &public_url, &request)?;
            view(conn, request)
        },
    )
    .await
}

/// The request, with its status, staff, meetings and timeline; not found for anyone but its
/// requester, the center's coordinators and the experts of its meeting. The audit row is
/// written (and committed) before anything is shown.
pub async fn get(state: &AppState, actor: &Actor, id: &RequestId) -> Result<RequestView, AppError> {
    let caller = actor.clone();
    workflow::on_visible_request(
        state,
        actor,
        id,
        "request.read",
        Tx::Read,
        move |conn, request, _| {
            audit::record(
                conn,
                &caller.context,
                "request.read",
                "request",
                Some(&request.id),
                Audited::Allowed,
            )?;
            view_by(conn, request, &caller)
        },
    )
    .await
}

/// Which requests a list shows.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<RequestStatus>,
    pub staff: Option<String>,
    pub meeting_id: Option<String>,
    pub urgency: Option<Urgency>,
}

/// Requests, newest first: a requester's own; the center's for coordinators and admins; those
/// of their staffs' meetings for experts.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: ListFilter,
    page: pagination::PageRequest,
) -> Result<Page<RequestSummary>, AppError> {
    let limit = page.limit()?;
    let mut filter = db::requests::RequestFilter {
        status: filter.status,
        staff: filter.staff,
        meeting_id: filter.meeting_id,
        urgency: filter.urgency,
        before: page.cursor()?,
        ..Default::default()
    };
    let user_id = actor.id.clone();
    let sees_center = actor.has_role(Role::Coordinator) || actor.has_role(Role::Admin);
    let expert = actor.has_role(Role::Expert);
    let rows = state
        .db
        .run(move |conn| {
            if !sees_center {
                if expert {
                    filter.meeting_staffs = Some(db::meetings::expert_staffs(conn, &user_id)?);
                } else {
                    filter.requester_id = Some(user_id);
                }
            }
            let rows = db::requests::list(conn, &filter, limit)?;
            // What the list shows of each form and meeting: two queries for the page.
            let ids: Vec<String> = rows.iter().map(|(row, _)| row.id.clone()).collect();
            let initials: HashMap<String, String> = db::requests::forms_of(conn, &ids)?
                .into_iter()
                .filter_map(|(id, form)| {
                    let form: RequestForm = serde_json::from_str(&form).ok()?;
                    Some((id, form.patient.initials?))
                })
                .collect();
            let mut meeting_ids: Vec<String> = rows
                .iter()
                .filter_map(|(row, _)| row.meeting_id.clone().or(row.proposed_meeting_id.clone()))
                .collect();
            meeting_ids.sort_unstable();
            meeting_ids.dedup();
            let starts = db::meetings::starts_of(conn, &meeting_ids)?;
            Ok::<_, db::DbError>((rows, initials, starts))
        })
        .await?;
    let (rows, initials, starts) = rows;
    Ok(pagination::page(
        rows,
        limit,
        |(row, _)| (row.created_at, row.id.clone()),
        |(row, name)| {
            let patient_initials = initials.get(&row.id).cloned();
            let starts_at = row
                .meeting_id
                .as_ref()
                .or(row.proposed_meeting_id.as_ref())
                .and_then(|id| starts.get(id))
                .map(|at| at.and_utc());
            RequestSummary::new(row, name, patient_initials, starts_at)
        },
    ))
}

/// The thread between the requester and the coordinators, oldest first.
pub async fn messages(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    page: pagination::PageRequest,
) -> Result<Page<MessageView>, AppError> {
    let limit = page.limit()?;
    let after = page.cursor()?;
    let context = actor.context.clone();
    let rows = workflow::on_visible_request(
        state,
        actor,
        id,
        "message.read",
        Tx::Write,
        move |conn, request, access| {
            access.require_party()?;
            audit::record(
                conn,
                &context,
                "message.read",
                "request",
                Some(&request.id),
                Audited::Allowed,
            )?;
            Ok(db::messages::list(conn, &request.id, after, limit)?)
        },
    )
    .await?;
    Ok(pagination::page(
        rows,
        limit,
        |(row, _)| (row.created_at, row.id.clone()),
        |(row, name)| {
            let author = PersonRef {
                id: row.author_id.clone(),
                full_name: name,
            };
            MessageView::new(row, author)
        },
    ))
}

/// Adds a message to a request's thread.
pub(crate) fn insert_message(
    conn: &mut DbConnection,
    request_id: &str,
    author_id: &str,
    role: Role,
    body: &str,
) -> Result<db::messages::MessageRow, AppError> {
    let row = db::messages::MessageRow {
        id: db::new_id(),
        request_id: request_id.to_owned(),
        author_id: author_id.to_owned(),
        author_role: role,
        body: body.to_owned(),
        created_at: db::now(),
    };
    db::messages::insert(conn, &row)?;
    Ok(row)
}

/// Posts to the thread between the requester and the coordinators. The requester's message
/// while the request awaits information answers it: the request returns to `submitted` and
/// the coordinators are told.
pub async fn post_message(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    text: String,
) -> Result<MessageView, AppError> {
    checked_message(&text, "body")?;
    let (caller, public_url) = (actor.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "message.create",
        Tx::Write,
        move |conn, request, access| {
            access.require_party()?;
            let role = if access.owner {
                Role::Requester
            } else {
                Role::Coordinator
            };
            let row = insert_message(conn, &request.id, &caller.id, role, &text)?;
            audit::record(
                conn,
                &caller.context,
                "message.create",
                "request",
                Some(&request.id),
                Audited::Allowed,
            )?;
            if access.owner && request.status == RequestStatus::NeedsInfo {
                Change::new(Transition::Answer)
                    .tell_coordinators(EmailKind::RequesterAnswered, None)
                    .apply(conn, &caller.context, &public_url, &request)?;
            }
            Ok(MessageView::new(
                row,
                PersonRef {
                    id: caller.id.clone(),
                    full_name: caller.full_name.clone(),
                },
            ))
        },
    )
    .await
}

/// Attaches a report or an image (PDF, PNG, JPEG, DICOM) to the requester's own request, from
/// the multipart field `file`; stored sealed under the data directory by id, with the SHA-256
/// of its content. `announced` is the body's declared length: one larger than a file may be
/// is refused before anything is read.
pub async fn upload_attachment(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    announced: Option<u64>,
    payload: &mut Multipart,
) -> Result<AttachmentView, AppError> {
    let storage = &state.settings.storage;
    let already = workflow::on_visible_request(
        state,
        actor,
        id,
        "attachment.create",
        Tx::Read,
        |conn, request, access| {
            access.require_owner()?;
            require_status(&request, &request_status::ACCEPTS_ATTACHMENTS, |status| {
                format!("A request that is {status} takes no more attachments.")
            })?;
            Ok(db::attachments::total_size(conn, &request.id)? as u64)
        },
    )
    .await?;
    if announced.is_some_and(|len| len > storage.max_attachment_bytes + 64 * 1024) {
        return Err(AppError::PayloadTooLarge);
    }
    let limits = attachments::Limits {
        per_file: storage.max_attachment_bytes,
        remaining_for_request: storage
            .max_request_attachments_bytes
            .saturating_sub(already),
    };
    let attachment_id = db::new_id();
    let received = state
        .attachments
        .receive(payload, limits, &state.data_key, &attachment_id)
        .await?
        .ok_or_else(|| AppError::invalid("file", "is required (multipart field `file`)"))?;
    let row = db::attachments::AttachmentRow {
        id: attachment_id.clone(),
        request_id: id.to_string(),
        uploaded_by: actor.id.clone(),
        filename: received.filename,
        content_type: received.content_type.to_owned(),
        size: received.size as i64,
        sha256: received.sha256,
        created_at: db::now(),
    };
    let (saved, context) = (row.clone(), actor.context.clone());
    let result = state
        .db
        .write(move |conn| -> Result<(), AppError> {
            db::attachments::insert(conn, &saved)?;
            Ok(audit::record(
                conn,
                &context,
                "attachment.create",
                "attachment",
                Some(&saved.id),
                Audited::Allowed,
            )?)
        })
        .await;
    if let Err(error) = result {
        state.attachments.remove(&attachment_id).await;
        return Err(error);
    }
    Ok(AttachmentView::from(row))
}

/// A stored file, opened for a reader of its request.
pub struct AttachmentFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The bytes of an attachment of a request the caller may see (audited).
pub async fn download_attachment(
    state: &AppState,
    actor: &Actor,
    request_id: &RequestId,
    attachment_id: &str,
) -> Result<AttachmentFile, AppError> {
    let (context, attachment_id) = (actor.context.clone(), attachment_id.to_owned());
    let attachment = workflow::on_visible_request(
        state,
        actor,
        request_id,
        "attachment.read",
        Tx::Write,
        move |conn, request, _| {
            let attachment = db::attachments::find(conn, &request.id, &attachment_id)?
                .ok_or(AppError::NotFound)?;
            audit::record(
                conn,
                &context,
                "attachment.read",
                "attachment",
                Some(&attachment.id),
                Audited::Allowed,
            )?;
            Ok(attachment)
        },
    )
    .await?;
    let bytes = state
        .attachments
        .read(&state.data_key, &attachment.id)
        .await?;
    Ok(AttachmentFile {
        filename: attachment.filename,
        content_type: attachment.content_type,
        bytes,
    })
}
