//! The meeting's opinion on a request: drafted by its staff, delivered (the requester is
//! e-mailed in the same transaction), amended as a new version with the earlier ones kept.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::FollowUpRef;
use super::workflow::{self, Change, Tx, require_status};
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::ids::RequestId;
use crate::domain::mail::EmailKind;
use crate::domain::opinion::{
    OpinionContent, OpinionDiagnosis, OpinionStatus, Participant, Recommendation,
};
use crate::domain::request_status::{self, RequestStatus, Transition};
use crate::state::AppState;

/// One version of an opinion.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpinionVersion {
    pub version: i64,
    pub status: OpinionStatus,
    /// The content as written (what the report and FHIR read); shown as the fields below.
    #[serde(skip)]
    pub content: OpinionContent,
    pub summary: String,
    pub diagnosis: OpinionDiagnosis,
    pub recommendations: Vec<RecommendationRead>,
    pub references: Vec<String>,
    pub validated_by: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The SHA-256 of this version's content, as printed on its PDF report: a copy of the
    /// report can be checked against it.
    pub content_sha256: String,
}

/// A recommendation as read, with the follow-up request made for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationRead {
    #[serde(flatten)]
    pub recommendation: Recommendation,
    /// The follow-up request its requester made for it, if any.
    pub follow_up: Option<FollowUpRef>,
}

/// The opinion: its current version, the meeting's attendance, and the earlier versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpinionView {
    #[serde(flatten)]
    pub current: OpinionVersion,
    pub participants: Vec<Participant>,
    pub quorum_met: Option<bool>,
    pub previous_versions: Vec<OpinionVersion>,
}

fn version(
    row: db::opinions::OpinionRow,
    follow_ups: &[FollowUpRef],
) -> Result<OpinionVersion, AppError> {
    let content: OpinionContent =
        serde_json::from_str(&row.content).map_err(|e| anyhow::anyhow!("stored opinion: {e}"))?;
    Ok(OpinionVersion {
        content_sha256: super::reports::content_sha256(&row.content),
        version: row.version,
        status: row.status,
        summary: content.summary.clone(),
        diagnosis: content.diagnosis.clone(),
        recommendations: content
            .recommendations
            .iter()
            .enumerate()
            .map(|(i, recommendation)| RecommendationRead {
                recommendation: recommendation.clone(),
                follow_up: follow_ups
                    .iter()
                    .find(|f| f.recommendation == Some(i as i64))
                    .cloned(),
            })
            .collect(),
        references: content.references.clone(),
        content,
        validated_by: row.validated_by,
        delivered_at: row.delivered_at.map(|t| t.and_utc()),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The opinion as a reader sees it; `delivered_only` hides drafts (requesters).
pub(crate) fn opinion_view(
    conn: &mut DbConnection,
    request: &db::requests::RequestRow,
    delivered_only: bool,
) -> Result<Option<OpinionView>, AppError> {
    let follow_ups = super::views::follow_ups_of(conn, request)?;
    let mut versions = db::opinions::versions(conn, &request.id)?
        .into_iter()
        .filter(|row| !delivered_only || row.status == OpinionStatus::Delivered)
        .map(|row| version(row, &follow_ups))
        .collect::<Result<Vec<_>, _>>()?;
    if versions.is_empty() {
        return Ok(None);
    }
    let current = versions.remove(0);
    let meeting = match &request.meeting_id {
        Some(id) => db::meetings::find(conn, id)?,
        None => None,
    };
    let participants = meeting
        .as_ref()
        .and_then(|m| m.attendance.as_deref())
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    Ok(Some(OpinionView {
        current,
        participants,
        quorum_met: meeting.and_then(|m| m.quorum_met),
        previous_versions: versions,
    }))
}

/// The opinion and its versions. A requester sees only delivered versions (not found before).
pub async fn get(state: &AppState, actor: &Actor, id: &RequestId) -> Result<OpinionView, AppError> {
    let context = actor.context.clone();
    workflow::on_visible_request(
        state,
        actor,
        id,
        "opinion.read",
        Tx::Write,
        move |conn, request, access| {
            let delivered_only = !(access.coordinator || access.expert);
            let view = opinion_view(conn, &request, delivered_only)?.ok_or(AppError::NotFound)?;
            audit::record(
                conn,
                &context,
                "opinion.read",
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            Ok(view)
        },
    )
    .await
}

/// Creates or replaces the draft opinion of a discussed request. On a completed request, a
/// new draft is an amendment: the delivered versions are kept.
pub async fn write(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    content: OpinionContent,
) -> Result<OpinionView, AppError> {
    let caller = actor.clone();
    workflow::on_visible_request(
        state,
        actor,
        id,
        "opinion.write",
        Tx::Write,
        move |conn, request, access| {
            if !access.coordinator && !access.expert {
                return Err(AppError::Forbidden);
            }
            let sites: Vec<String> = db::network::sites(conn)?
                .into_iter()
                .map(|s| s.code)
                .collect();
            let staffs = db::network::staff_codes(conn)?;
            AppError::unless_valid(content.check(
                |code| sites.iter().any(|s| s == code),
                |code| staffs.iter().any(|s| s == code),
            ))?;
            require_status(&request, &request_status::OPINION_WRITABLE, |_| {
                "An opinion is written once the request was discussed in a meeting.".into()
            })?;
            let text = serde_json::to_string(&content)?;
            let now = db::now();
            let versions = db::opinions::versions(conn, &request.id)?;
            match versions.first() {
                Some(draft) if draft.status == OpinionStatus::Draft => {
                    db::opinions::update_draft(conn, &draft.id, &text, &caller.id, now)?;
                }
                latest => db::opinions::insert(
                    conn,
                    &db::opinions::OpinionRow {
                        id: db::new_id(),
                        request_id: request.id.clone(),
                        version: latest.map_or(1, |l| l.version + 1),
                        status: OpinionStatus::Draft,
                        content: text,
                        author_id: caller.id.clone(),
                        validated_by: None,
                        created_at: now,
                        updated_at: now,
                        delivered_at: None,
                    },
                )?,
            }
            audit::record(
                conn,
                &caller.context,
                "opinion.write",
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            opinion_view(conn, &request, false)?.ok_or(AppError::NotFound)
        },
    )
    .await
}

/// Delivers the draft opinion: it is frozen, the request becomes `completed`, and the
/// requester's e-mail is queued in the same transaction. On a completed request this delivers
/// an amendment (a new version; the earlier ones are kept) and notifies again.
pub async fn deliver(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
) -> Result<OpinionView, AppError> {
    actor.require_any(&[Role::Coordinator])?;
    let (caller, public_url) = (actor.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "opinion.deliver",
        Tx::Write,
        move |conn, request, _| {
            let draft = db::opinions::versions(conn, &request.id)?
                .into_iter()
                .next()
                .filter(|latest| latest.status == OpinionStatus::Draft)
                .ok_or_else(|| {
                    AppError::refused("There is no draft opinion to deliver.", request.status)
                })?;
            let content: OpinionContent = serde_json::from_str(&draft.content)
                .map_err(|e| anyhow::anyhow!("stored opinion: {e}"))?;
            AppError::unless_valid(content.check_due_dates(workflow::today(conn)?))?;
            let amended = request.status == RequestStatus::Completed;
            let request = if amended {
                request
            } else {
                Change::new(Transition::Deliver).apply(
                    conn,
                    &caller.context,
                    &public_url,
                    &request,
                )?
            };
            // The opinion is frozen before the requester is told of it.
            if db::opinions::deliver(conn, &draft.id, &caller.id, db::now())? == 0 {
                return Err(AppError::conflict("The opinion was delivered meanwhile."));
            }
            // Its recommendations with a date, for the follow-up lists.
            let dues: Vec<db::follow_ups::Due> = content
                .recommendations
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    Some(db::follow_ups::Due {
                        recommendation: i as i64,
                        staff_code: r.staff.clone(),
                        due_on: r.due_on?,
                    })
                })
                .collect();
            db::follow_ups::replace(
                conn,
                &request.id,
                &request.center_code,
                &request.requester_id,
                &dues,
            )?;
            let action = if amended {
                "opinion.amend"
            } else {
                "opinion.deliver"
            };
            audit::record(
                conn,
                &caller.context,
                action,
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            let requester = workflow::requester_of(conn, &request)?;
            workflow::notify(
                conn,
                &public_url,
                &request,
                &requester,
                EmailKind::OpinionDelivered,
                request.meeting_id.as_deref(),
                serde_json::json!({"amended": amended}),
            )?;
            opinion_view(conn, &request, false)?.ok_or(AppError::NotFound)
        },
    )
    .await
}
