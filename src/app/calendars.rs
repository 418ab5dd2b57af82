//! Calendars (RFC 5545, INTEROP.md): the public calendar of a staff, and each account's
//! personal feed behind a secret URL (the token stored hashed, replaced on request). Every
//! event is a meeting, with a UID that never changes and a SEQUENCE that grows when it moves
//! or is cancelled; a cancelled meeting stays, `STATUS:CANCELLED`. Nothing clinical is in a
//! calendar: a requester's events name their requests' references, a staff member's the
//! number of cases and the video link.

use chrono::{Duration, Utc};

use super::context::RequestContext;
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::meetings::MeetingRow;
use crate::db::{self, DbConnection};
use crate::domain::account::{AccountStatus, Language, Role};
use crate::domain::meeting::MeetingStatus;
use crate::ics::{self, Event, EventStatus};
use crate::state::AppState;

/// "3 cases" in a language: the words are the screens' catalogue's, given by the caller.
pub type CasesWords = fn(Language, i64) -> String;

/// How far back a calendar reaches; forward, it holds every meeting generated.
const PAST: Duration = Duration::weeks(4);
const AHEAD: Duration = Duration::days(400);

fn event(meeting: &MeetingRow, summary: String) -> Event {
    let start = meeting.starts_at.and_utc();
    Event {
        uid: format!("{}@consilium", meeting.id),
        sequence: meeting.sequence,
        start,
        end: start + Duration::minutes(meeting.duration_minutes),
        summary,
        description: None,
        url: None,
        status: if meeting.status == MeetingStatus::Cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        },
    }
}

/// `GET /api/v1/staffs/{code}/calendar.ics`: the staff's meetings, for anyone; no case, no
/// patient, no video link.
pub async fn staff_calendar(
    state: &AppState,
    context: RequestContext,
    code: &str,
) -> Result<String, AppError> {
    let code = code.to_owned();
    state
        .db
        .write(move |conn| {
            let staff = db::network::staff(conn, &code)?.ok_or(AppError::NotFound)?;
            let now = crate::clock::now();
            let meetings = db::meetings::list_for_staff(
                conn,
                &staff.code,
                (now - PAST).naive_utc(),
                (now + AHEAD).naive_utc(),
            )?;
            let events: Vec<Event> = meetings
                .iter()
                .map(|m| event(m, staff.name.clone()))
                .collect();
            audit::record(
                conn,
                &context,
                "calendar.staff",
                "staff",
                Some(&staff.code),
                Outcome::Allowed,
            )?;
            Ok(ics::calendar(&staff.name, &events, now))
        })
        .await
}

/// `POST /api/v1/me/calendar-feed`: a new personal feed URL (the previous one stops working).
pub async fn create_feed(state: &AppState, actor: &Actor) -> Result<String, AppError> {
    let (token, hash) = crate::auth::new_opaque_token();
    let (user_id, context) = (actor.id.clone(), actor.context.clone());
    state
        .db
        .write(move |conn| {
            db::calendar_feeds::replace(conn, &user_id, &hash, db::now())?;
            Ok::<_, AppError>(audit::record(
                conn,
                &context,
                "calendar.feed_create",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?)
        })
        .await?;
    Ok(format!("{}/calendar/{token}.ics", state.public_url()))
}

/// `DELETE /api/v1/me/calendar-feed`: the feed URL stops working.
pub async fn remove_feed(state: &AppState, actor: &Actor) -> Result<(), AppError> {
    let (user_id, context) = (actor.id.clone(), actor.context.clone());
    state
        .db
        .write(move |conn| {
            db::calendar_feeds::remove(conn, &user_id)?;
            Ok(audit::record(
                conn,
                &context,
                "calendar.feed_remove",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?)
        })
        .await
}

/// Whether the actor has a feed, and since when (the account page).
pub async fn feed_since(
    state: &AppState,
    actor: &Actor,
) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    let user_id = actor.id.clone();
    state
        .db
        .run(move |conn| Ok(db::calendar_feeds::created_at(conn, &user_id)?.map(|at| at.and_utc())))
        .await
}

/// `GET /calendar/{token}.ics`: the feed of the account holding this token; 404 for an
/// unknown or replaced token and for an account that is not active.
pub async fn feed(
    state: &AppState,
    context: RequestContext,
    token: &str,
    cases_words: CasesWords,
) -> Result<String, AppError> {
    let hash = crate::auth::hash_token(token);
    state
        .db
        .write(move |conn| {
            let user_id = db::calendar_feeds::owner(conn, &hash)?.ok_or(AppError::NotFound)?;
            let (user, roles) =
                db::users::find_with_roles(conn, &user_id)?.ok_or(AppError::NotFound)?;
            if user.status != AccountStatus::Active {
                return Err(AppError::NotFound);
            }
            let context = context.with_actor(&user.id);
            let now = crate::clock::now();
            let events = if roles
                .iter()
                .any(|r| matches!(r, Role::Coordinator | Role::Admin | Role::Expert))
            {
                staff_events(conn, &user.id, &roles, user.language, cases_words, now)?
            } else {
                requester_events(conn, &user.id, now)?
            };
            audit::record(
                conn,
                &context,
                "calendar.feed",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            Ok(ics::calendar("Consilium", &events, now))
        })
        .await
}

/// A requester's: the meetings where their requests are proposed or scheduled, each event
/// naming the requests' references only.
fn requester_events(
    conn: &mut DbConnection,
    user_id: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Event>, AppError> {
    let names = staff_names(conn)?;
    Ok(
        db::meetings::of_requester(conn, user_id, (now - PAST).naive_utc())?
            .into_iter()
            .map(|(meeting, references)| {
                let staff = names
                    .get(&meeting.staff_code)
                    .cloned()
                    .unwrap_or_else(|| meeting.staff_code.clone());
                event(&meeting, format!("{staff} — {}", references.join(", ")))
            })
            .collect(),
    )
}

/// A coordinator's or an admin's (every staff) or an expert's (their staffs): each meeting
/// with its number of cases and its video link.
fn staff_events(
    conn: &mut DbConnection,
    user_id: &str,
    roles: &[Role],
    language: Language,
    cases_words: CasesWords,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Event>, AppError> {
    let names = staff_names(conn)?;
    let mut codes: Vec<String> = names.keys().cloned().collect();
    if !roles.contains(&Role::Coordinator) && !roles.contains(&Role::Admin) {
        let own = db::meetings::expert_staffs(conn, user_id)?;
        codes.retain(|code| own.contains(code));
    }
    let meetings = db::meetings::list_for_staffs(
        conn,
        &codes,
        (now - PAST).naive_utc(),
        (now + AHEAD).naive_utc(),
    )?;
    let ids: Vec<String> = meetings.iter().map(|m| m.id.clone()).collect();
    let booked: std::collections::HashMap<String, i64> = db::meetings::booked_counts(conn, &ids)?
        .into_iter()
        .collect();
    Ok(meetings
        .iter()
        .map(|meeting| {
            let cases = booked.get(&meeting.id).copied().unwrap_or(0);
            let staff = names
                .get(&meeting.staff_code)
                .cloned()
                .unwrap_or_else(|| meeting.staff_code.clone());
            let cases = cases_words(language, cases);
            let mut event = event(meeting, format!("{staff} — {cases}"));
            if let Some(video) = &meeting.video_url {
                event.description = Some(video.clone());
                event.url = Some(video.clone());
            }
            event
        })
        .collect())
}

fn staff_names(
    conn: &mut DbConnection,
) -> Result<std::collections::BTreeMap<String, String>, AppError> {
    Ok(db::network::staffs_with_zone(conn)?
        .into_iter()
        .map(|(staff, _)| (staff.code, staff.name))
        .collect())
}
