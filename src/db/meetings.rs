//! Meetings (occurrences of a staff) and the experts who sit in each staff.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::ids::UserId;
use crate::domain::meeting::MeetingStatus;
use crate::domain::request_status::{self, RequestStatus};

use super::DbConnection;
use super::schema::{meetings, requests, staff_experts};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = meetings)]
pub struct MeetingRow {
    pub id: String,
    pub staff_code: String,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i64,
    pub status: MeetingStatus,
    pub capacity: i64,
    pub video_url: Option<String>,
    pub occurrence: Option<String>,
    pub attendance: Option<String>,
    pub quorum_met: Option<bool>,
    pub held_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// The iCalendar SEQUENCE of its event: grows when it moves or is cancelled.
    pub sequence: i64,
}

pub fn insert(conn: &mut DbConnection, meeting: &MeetingRow) -> DbResult<()> {
    diesel::insert_into(meetings::table)
        .values(meeting)
        .execute(conn)?;
    Ok(())
}

/// When each of the meetings `ids` starts, in one query.
pub fn starts_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, NaiveDateTime>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(meetings::table
        .filter(meetings::id.eq_any(ids))
        .select((meetings::id, meetings::starts_at))
        .load::<(String, NaiveDateTime)>(conn)?
        .into_iter()
        .collect())
}

/// The attendance (JSON) of the staff's last held meeting before `before`, if any.
pub fn last_attendance(
    conn: &mut DbConnection,
    staff: &str,
    before: NaiveDateTime,
) -> DbResult<Option<String>> {
    Ok(meetings::table
        .filter(
            meetings::staff_code
                .eq(staff)
                .and(meetings::status.eq(MeetingStatus::Held))
                .and(meetings::starts_at.lt(before)),
        )
        .order(meetings::starts_at.desc())
        .select(meetings::attendance)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The meetings `ids` (one query).
pub fn by_ids(conn: &mut DbConnection, ids: &[String]) -> DbResult<Vec<MeetingRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(meetings::table
        .filter(meetings::id.eq_any(ids))
        .select(MeetingRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<MeetingRow>> {
    Ok(meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Reads the meeting and, on PostgreSQL, locks it until the transaction ends, so two
/// coordinators filling its last place are served one after the other (SQLite's write
/// transactions are already serialised).
pub fn lock(conn: &mut DbConnection, id: &str) -> DbResult<Option<MeetingRow>> {
    match conn {
        DbConnection::Postgresql(pg) => Ok(meetings::table
            .find(id)
            .select(MeetingRow::as_select())
            .for_update()
            .first(pg)
            .optional()?),
        DbConnection::Sqlite(_) => find(conn, id),
    }
}

/// The occurrence keys a staff already has meetings for, from `from` on.
pub fn occurrences_from(conn: &mut DbConnection, staff: &str, from: &str) -> DbResult<Vec<String>> {
    Ok(meetings::table
        .filter(
            meetings::staff_code
                .eq(staff)
                .and(meetings::occurrence.ge(from)),
        )
        .select(meetings::occurrence.assume_not_null())
        .load(conn)?)
}

pub fn list_for_staff(
    conn: &mut DbConnection,
    staff: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<MeetingRow>> {
    Ok(meetings::table
        .filter(
            meetings::staff_code
                .eq(staff)
                .and(meetings::starts_at.ge(from))
                .and(meetings::starts_at.lt(to)),
        )
        .order((meetings::starts_at, meetings::id))
        .limit(1_000)
        .select(MeetingRow::as_select())
        .load(conn)?)
}

/// The meetings of several staffs starting in `[from, to)`, soonest first (one query).
pub fn list_for_staffs(
    conn: &mut DbConnection,
    staffs: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<MeetingRow>> {
    Ok(meetings::table
        .filter(
            meetings::staff_code
                .eq_any(staffs)
                .and(meetings::starts_at.ge(from))
                .and(meetings::starts_at.lt(to)),
        )
        .order((meetings::starts_at, meetings::id))
        .limit(5_000)
        .select(MeetingRow::as_select())
        .load(conn)?)
}

/// Planned meetings of a staff starting at or after `after`, soonest first.
pub fn planned_after(
    conn: &mut DbConnection,
    staff: &str,
    after: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<MeetingRow>> {
    Ok(meetings::table
        .filter(
            meetings::staff_code
                .eq(staff)
                .and(meetings::status.eq(MeetingStatus::Planned))
                .and(meetings::starts_at.ge(after)),
        )
        .order((meetings::starts_at, meetings::id))
        .limit(limit)
        .select(MeetingRow::as_select())
        .load(conn)?)
}

/// Requests holding a place in the meeting (scheduled into it).
pub fn booked(conn: &mut DbConnection, meeting_id: &str) -> DbResult<i64> {
    Ok(requests::table
        .filter(
            requests::meeting_id
                .eq(meeting_id)
                .and(requests::status.eq_any(request_status::BOOKED)),
        )
        .count()
        .get_result(conn)?)
}

/// Places taken or promised in each of several meetings (one query each for the scheduled
/// and the proposed requests, whatever the number of meetings): meetings with none are absent.
pub fn taken_or_proposed_counts(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, i64>> {
    let proposed: Vec<(String, i64)> = requests::table
        .filter(
            requests::proposed_meeting_id
                .eq_any(ids)
                .and(requests::status.eq_any(request_status::AWAITING_TRIAGE)),
        )
        .group_by(requests::proposed_meeting_id)
        .select((
            requests::proposed_meeting_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut counts: std::collections::HashMap<String, i64> =
        booked_counts(conn, ids)?.into_iter().collect();
    for (id, n) in proposed {
        *counts.entry(id).or_default() += n;
    }
    Ok(counts)
}

/// Booked counts for several meetings at once (one query, for lists).
pub fn booked_counts(conn: &mut DbConnection, ids: &[String]) -> DbResult<Vec<(String, i64)>> {
    Ok(requests::table
        .filter(
            requests::meeting_id
                .eq_any(ids)
                .and(requests::status.eq_any(request_status::BOOKED)),
        )
        .group_by(requests::meeting_id)
        .select((
            requests::meeting_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load(conn)?)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = meetings)]
pub struct MeetingChanges {
    pub starts_at: Option<NaiveDateTime>,
    pub capacity: Option<i64>,
    pub video_url: Option<Option<String>>,
    pub status: Option<MeetingStatus>,
}

/// Applies the changes; a new start or status also moves the event's SEQUENCE on, so that
/// calendars replace the event they hold.
pub fn update(conn: &mut DbConnection, id: &str, changes: &MeetingChanges) -> DbResult<usize> {
    let bump = i64::from(changes.starts_at.is_some() || changes.status.is_some());
    Ok(diesel::update(meetings::table.find(id))
        .set((changes, meetings::sequence.eq(meetings::sequence + bump)))
        .execute(conn)?)
}

/// The meetings (any status) of a requester's requests, proposed or scheduled, starting at or
/// after `from`, each with the references of those requests.
pub fn of_requester(
    conn: &mut DbConnection,
    requester_id: &str,
    from: NaiveDateTime,
) -> DbResult<Vec<(MeetingRow, Vec<String>)>> {
    let linked: Vec<(Option<String>, Option<String>, RequestStatus, String)> = requests::table
        .filter(requests::requester_id.eq(requester_id))
        .filter(
            requests::meeting_id
                .is_not_null()
                .or(requests::proposed_meeting_id.is_not_null()),
        )
        .select((
            requests::meeting_id,
            requests::proposed_meeting_id,
            requests::status,
            requests::reference,
        ))
        .load(conn)?;
    let mut references: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (meeting, proposed, status, reference) in linked {
        let meeting = match (meeting, proposed) {
            (Some(meeting), _) if request_status::BOOKED.contains(&status) => Some(meeting),
            (_, Some(proposed)) if request_status::AWAITING_TRIAGE.contains(&status) => {
                Some(proposed)
            }
            _ => None,
        };
        if let Some(meeting) = meeting {
            references.entry(meeting).or_default().push(reference);
        }
    }
    let ids: Vec<String> = references.keys().cloned().collect();
    let mut rows: Vec<(MeetingRow, Vec<String>)> = by_ids(conn, &ids)?
        .into_iter()
        .filter(|m| m.starts_at >= from)
        .map(|m| {
            let refs = references.remove(&m.id).unwrap_or_default();
            (m, refs)
        })
        .collect();
    rows.sort_by(|a, b| (a.0.starts_at, &a.0.id).cmp(&(b.0.starts_at, &b.0.id)));
    Ok(rows)
}

/// Records that a planned meeting was held; zero rows if it was not planned any more.
pub fn record_held(
    conn: &mut DbConnection,
    id: &str,
    attendance: &str,
    quorum_met: bool,
    now: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::update(
        meetings::table
            .find(id)
            .filter(meetings::status.eq(MeetingStatus::Planned)),
    )
    .set((
        meetings::status.eq(MeetingStatus::Held),
        meetings::attendance.eq(attendance),
        meetings::quorum_met.eq(quorum_met),
        meetings::held_at.eq(now),
    ))
    .execute(conn)?)
}

pub fn expert_staffs(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<String>> {
    Ok(staff_experts::table
        .filter(staff_experts::user_id.eq(user_id))
        .select(staff_experts::staff_code)
        .load(conn)?)
}

pub fn staff_expert_ids(conn: &mut DbConnection, staff: &str) -> DbResult<Vec<String>> {
    Ok(staff_experts::table
        .filter(staff_experts::staff_code.eq(staff))
        .select(staff_experts::user_id)
        .order(staff_experts::user_id)
        .load(conn)?)
}

/// Replaces the experts who sit in a staff.
pub fn set_staff_experts(
    conn: &mut DbConnection,
    staff: &str,
    user_ids: &[UserId],
) -> DbResult<()> {
    diesel::delete(staff_experts::table.filter(staff_experts::staff_code.eq(staff)))
        .execute(conn)?;
    for user_id in user_ids {
        diesel::insert_into(staff_experts::table)
            .values((
                staff_experts::staff_code.eq(staff),
                staff_experts::user_id.eq(user_id.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
