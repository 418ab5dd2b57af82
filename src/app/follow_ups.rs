//! Follow-up requests: a delivered opinion's recommendation turned into a new draft of the same
//! requester, linked to the request it follows up and prefilled from it, so nothing is typed
//! again. Nothing is submitted for the requester: they complete and submit it as any draft.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::pagination::{self, Page, PageRequest};
use super::views::{PersonRef, RequestLink, RequestView, view_by};
use super::workflow::{self, Tx};
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db;
use crate::db::follow_ups::{DueFilter, DueState};
use crate::domain::account::Role;
use crate::domain::follow_up;
use crate::domain::ids::RequestId;
use crate::domain::opinion::{OpinionContent, OpinionStatus};
use crate::domain::request_form::Topic;
use crate::domain::request_status::RequestStatus;
use crate::state::AppState;

/// What the follow-up is made for (`POST /requests/{id}/follow-ups`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpAsk {
    /// The index of the opinion's recommendation it follows up; absent: the opinion as a whole.
    #[serde(default)]
    pub recommendation: Option<i64>,
}

/// The follow-up made, and whether it was made now (201) or earlier (200).
pub struct FollowUp {
    pub created: bool,
    pub request: RequestView,
}

/// Makes the follow-up draft of a request whose opinion is delivered, for one of its
/// recommendations (or the opinion as a whole): its requester only. Asking again for the same
/// recommendation answers the draft made the first time.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    ask: FollowUpAsk,
) -> Result<FollowUp, AppError> {
    let caller = actor.clone();
    workflow::on_visible_request(
        state,
        actor,
        id,
        "follow_up.create",
        Tx::Write,
        move |conn, parent, access| {
            access.require_owner()?;
            // The opinion as the requester has it: its last delivered version.
            let delivered = db::opinions::versions(conn, &parent.id)?
                .into_iter()
                .find(|version| version.status == OpinionStatus::Delivered)
                .ok_or_else(|| {
                    AppError::refused(
                        "A follow-up is made from a delivered opinion.",
                        parent.status,
                    )
                })?;
            let opinion: OpinionContent = serde_json::from_str(&delivered.content)
                .map_err(|e| anyhow::anyhow!("stored opinion: {e}"))?;
            let recommendation = match ask.recommendation {
                None => None,
                Some(index) => Some(
                    usize::try_from(index)
                        .ok()
                        .and_then(|i| opinion.recommendations.get(i))
                        .ok_or_else(|| {
                            AppError::invalid(
                                "recommendation",
                                format!(
                                    "must be the index of one of the opinion's {} recommendations",
                                    opinion.recommendations.len()
                                ),
                            )
                        })?,
                ),
            };
            if let Some(made) = db::requests::follow_up_of(conn, &parent.id, ask.recommendation)? {
                return Ok(FollowUp {
                    created: false,
                    request: view_by(conn, made, &caller)?,
                });
            }
            let staff_topics = match recommendation.and_then(|r| r.staff.as_deref()) {
                Some(code) => db::network::staff(conn, code)?.map(|staff| {
                    serde_json::from_str::<Vec<String>>(&staff.topics)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|topic| Topic::parse(topic))
                        .collect::<Vec<_>>()
                }),
                None => None,
            };
            let form = follow_up::form(
                &super::views::parse_form(&parent)?,
                &opinion.diagnosis,
                recommendation,
                staff_topics.as_deref(),
            );
            let center = db::network::center(conn)?;
            let request = super::requests::new_draft(
                conn,
                &caller,
                center,
                form,
                Some((parent.id.clone(), ask.recommendation)),
                "follow_up.create",
            )?;
            if let Some(index) = ask.recommendation {
                db::follow_ups::set_follow_up(conn, &parent.id, index, &request.id, None)?;
            }
            Ok(FollowUp {
                created: true,
                request,
            })
        },
    )
    .await
}

/// A recommendation with a due date, as the follow-up lists show it (no clinical content but
/// the recommendation's kind).
#[derive(Debug, Serialize, ToSchema)]
pub struct DueView {
    /// The request whose opinion holds the recommendation.
    pub request: RequestLink,
    /// Its index among the opinion's recommendations.
    pub recommendation: i64,
    pub requester: PersonRef,
    pub due_on: NaiveDate,
    /// The staff that should see the follow-up.
    pub staff: Option<String>,
    /// `due` (not followed up, the date not passed), `overdue` (passed, no follow-up
    /// submitted) or `done` (a follow-up submitted).
    #[schema(example = "overdue")]
    pub state: String,
    /// The follow-up request made for it, if any.
    pub follow_up: Option<FollowUpMade>,
}

/// A follow-up request made for a recommendation.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpMade {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
}

/// The dues a list asks for (`GET /follow-ups?state=…&staff=…`).
#[derive(Debug, Clone, Default)]
pub struct DueQuery {
    pub state: Option<String>,
    pub staff: Option<String>,
}

fn state_of(text: Option<&str>) -> Result<DueState, AppError> {
    match text.unwrap_or("due") {
        "due" => Ok(DueState::Due),
        "overdue" => Ok(DueState::Overdue),
        "done" => Ok(DueState::Done),
        _ => Err(AppError::invalid("state", "must be due, overdue or done")),
    }
}

fn state_name(due: &db::follow_ups::DueRow, today: NaiveDate) -> &'static str {
    if due.follow_up_submitted_at.is_some() {
        "done"
    } else if due.due_on < today {
        "overdue"
    } else {
        "due"
    }
}

/// The recommendations due of the center's delivered opinions (coordinators) or of the
/// requester's own, by due date, paged: `due`, `overdue` or `done`, optionally for one staff.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: DueQuery,
    page: PageRequest,
) -> Result<Page<DueView>, AppError> {
    actor.require_any(&[Role::Coordinator, Role::Requester])?;
    let due_state = state_of(query.state.as_deref())?;
    let limit = page.limit()?;
    let after = match page.cursor()? {
        None => None,
        Some((at, key)) => {
            let invalid = || AppError::invalid("cursor", "is not a cursor returned by this list");
            let (request, index) = key.split_once('#').ok_or_else(invalid)?;
            Some((
                at.date(),
                request.to_owned(),
                index.parse::<i64>().map_err(|_| invalid())?,
            ))
        }
    };
    let coordinator = actor.has_role(Role::Coordinator);
    let (user_id, context) = (actor.id.clone(), actor.context.clone());
    let staff = query.staff.filter(|s| !s.is_empty());
    state
        .db
        .write(move |conn| {
            if let Some(code) = &staff
                && db::network::staff(conn, code)?.is_none()
            {
                return Err(AppError::invalid("staff", "is not a staff of the network"));
            }
            let center = db::network::center(conn)?;
            let today = workflow::today_in(&center);
            let filter = DueFilter {
                state: due_state,
                today,
                center_code: coordinator.then(|| center.code.clone()),
                requester_id: (!coordinator).then(|| user_id.clone()),
                staff_code: staff,
                after,
            };
            let rows = db::follow_ups::list(conn, &filter, limit)?;
            audit::record(
                conn,
                &context,
                "follow_up.list",
                "follow_up",
                None,
                Outcome::Allowed,
            )?;
            Ok(pagination::page(
                rows,
                limit,
                |row| {
                    (
                        row.due.due_on.and_hms_opt(0, 0, 0).expect("midnight"),
                        format!("{}#{}", row.due.request_id, row.due.recommendation),
                    )
                },
                |row| DueView {
                    state: state_name(&row.due, today).to_owned(),
                    request: RequestLink {
                        id: row.due.request_id,
                        reference: row.reference,
                    },
                    recommendation: row.due.recommendation,
                    requester: PersonRef {
                        id: row.due.requester_id,
                        full_name: row.requester_name,
                    },
                    due_on: row.due.due_on,
                    staff: row.due.staff_code,
                    follow_up: row.follow_up.map(|(id, reference, status)| FollowUpMade {
                        id,
                        reference,
                        status,
                    }),
                },
            ))
        })
        .await
}

/// Queues the reminders due at `now` (the worker's pass): to the requester, seven days before a
/// recommendation's due date and again on it, as long as no follow-up was submitted for it.
/// Each in its own transaction with its mark and its audit row, so that a reminder goes once
/// whatever stops or runs twice. No clinical data: the request's reference, the date, a link.
/// Answers how many were queued.
pub fn remind(
    conn: &mut db::DbConnection,
    public_url: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, AppError> {
    use db::follow_ups::Reminder;
    let center = db::network::center(conn)?;
    let today = now.with_timezone(&workflow::zone(&center)).date_naive();
    let mut queued = 0;
    loop {
        let dues = db::follow_ups::to_remind(conn, today, 100)?;
        let batch = dues.len();
        for due in dues {
            let reminder = if due.due_on <= today {
                Reminder::OnTheDay
            } else {
                Reminder::Before
            };
            queued += db::write_transaction(conn, |conn| -> Result<usize, AppError> {
                if !db::follow_ups::mark_reminded(conn, &due, reminder, now.naive_utc())? {
                    return Ok(0);
                }
                let (Some(requester), Some(reference)) = (
                    db::users::find_by_id(conn, &due.requester_id)?,
                    db::requests::reference_of(conn, &due.request_id)?,
                ) else {
                    return Ok(0);
                };
                crate::email::queue(
                    conn,
                    crate::domain::mail::EmailKind::FollowUpReminder,
                    requester.language,
                    &requester.email,
                    serde_json::json!({
                        "reference": reference,
                        "due_date": crate::email::local_day(due.due_on, requester.language),
                        "on_the_day": reminder == Reminder::OnTheDay,
                        "link": format!("{public_url}/requests/{}", due.request_id),
                    }),
                )?;
                audit::record(
                    conn,
                    &super::RequestContext::default(),
                    "follow_up.remind",
                    "request",
                    Some(&due.request_id),
                    Outcome::Allowed,
                )?;
                Ok(1)
            })?;
        }
        if batch < 100 {
            return Ok(queued);
        }
    }
}

/// A request of a chain of follow-ups, as the request's page tells the story.
#[derive(Debug, Serialize)]
pub struct ChainLink {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    pub staff: Option<String>,
    /// The request the page shows.
    pub current: bool,
}

/// The longest chain a page walks each way (a loop of follow-ups cannot be made, but the walk
/// is bounded all the same).
const CHAIN_DEPTH: usize = 20;

/// The chain of follow-ups `view` belongs to, oldest first: the requests it follows up, itself,
/// and the follow-ups made from it and from them (e.g. the diagnosis RCP, the genomic RCP, and
/// back). Its requester's and the coordinators': every request of a chain is the same
/// requester's, and an expert sees only the requests of their staffs' meetings. Empty for a
/// request with no parent and no follow-up.
pub async fn chain(
    state: &AppState,
    actor: &Actor,
    view: &RequestView,
) -> Result<Vec<ChainLink>, AppError> {
    let owner = view.requester.id == actor.id;
    if (view.parent.is_none() && view.follow_ups.is_empty())
        || !(owner || actor.has_role(Role::Coordinator))
    {
        return Ok(Vec::new());
    }
    let id = view.id.clone();
    let rows = state
        .db
        .run(move |conn| {
            let mut up = Vec::new();
            let mut next = db::requests::chain_row(conn, &id)?;
            let current = next.clone();
            for _ in 0..CHAIN_DEPTH {
                let Some(parent) = next.and_then(|row| row.parent_id) else {
                    break;
                };
                next = db::requests::chain_row(conn, &parent)?;
                up.extend(next.clone());
            }
            up.reverse();
            up.extend(current);
            let mut frontier = vec![id.clone()];
            for _ in 0..CHAIN_DEPTH {
                let children = db::requests::chain_children(conn, &frontier)?;
                if children.is_empty() {
                    break;
                }
                frontier = children.iter().map(|c| c.id.clone()).collect();
                up.extend(children);
            }
            Ok::<_, AppError>(up)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ChainLink {
            current: row.id == view.id,
            id: row.id,
            reference: row.reference,
            status: row.status,
            staff: row.staff_code,
        })
        .collect())
}
