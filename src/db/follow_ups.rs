//! The due recommendations of delivered opinions (`follow_up_dues`), and the follow-up made
//! for each.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{follow_up_dues, requests, users};
use super::{DbConnection, DbResult};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = follow_up_dues)]
pub struct DueRow {
    pub request_id: String,
    pub recommendation: i64,
    pub center_code: String,
    pub requester_id: String,
    pub staff_code: Option<String>,
    pub due_on: NaiveDate,
    pub follow_up_id: Option<String>,
    pub follow_up_submitted_at: Option<NaiveDateTime>,
    /// Whether it was submitted on or before the due date.
    pub follow_up_in_time: Option<bool>,
    /// When the reminders were queued: seven days before, and on the day.
    pub reminded_before_at: Option<NaiveDateTime>,
    pub reminded_on_at: Option<NaiveDateTime>,
}

/// A recommendation due: the index, its staff, its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub recommendation: i64,
    pub staff_code: Option<String>,
    pub due_on: NaiveDate,
}

/// Keeps the dues of `request_id` those of its opinion just delivered: a recommendation
/// gone, or without a date now, is removed; the others are written, keeping the follow-up
/// already made for them.
pub fn replace(
    conn: &mut DbConnection,
    request_id: &str,
    center_code: &str,
    requester_id: &str,
    dues: &[Due],
) -> DbResult<()> {
    let kept: Vec<i64> = dues.iter().map(|d| d.recommendation).collect();
    diesel::delete(
        follow_up_dues::table
            .filter(follow_up_dues::request_id.eq(request_id))
            .filter(follow_up_dues::recommendation.ne_all(&kept)),
    )
    .execute(conn)?;
    for due in dues {
        // The same date keeps its reminders; a new one is reminded again.
        let same = diesel::update(
            follow_up_dues::table
                .find((request_id, due.recommendation))
                .filter(follow_up_dues::due_on.eq(due.due_on)),
        )
        .set(follow_up_dues::staff_code.eq(&due.staff_code))
        .execute(conn)?;
        let moved = if same == 0 {
            diesel::update(follow_up_dues::table.find((request_id, due.recommendation)))
                .set((
                    follow_up_dues::staff_code.eq(&due.staff_code),
                    follow_up_dues::due_on.eq(due.due_on),
                    follow_up_dues::reminded_before_at.eq(None::<NaiveDateTime>),
                    follow_up_dues::reminded_on_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?
        } else {
            0
        };
        let updated = same + moved;
        if updated == 0 {
            let follow_up: Option<(String, Option<NaiveDateTime>)> = requests::table
                .filter(requests::parent_id.eq(request_id))
                .filter(requests::parent_recommendation.eq(due.recommendation))
                .select((requests::id, requests::submitted_at))
                .order(requests::created_at)
                .first(conn)
                .optional()?;
            let (follow_up_id, follow_up_submitted_at) = follow_up.unzip();
            diesel::insert_into(follow_up_dues::table)
                .values(&DueRow {
                    request_id: request_id.to_owned(),
                    recommendation: due.recommendation,
                    center_code: center_code.to_owned(),
                    requester_id: requester_id.to_owned(),
                    staff_code: due.staff_code.clone(),
                    due_on: due.due_on,
                    follow_up_id,
                    follow_up_submitted_at: follow_up_submitted_at.flatten(),
                    follow_up_in_time: None,
                    reminded_before_at: None,
                    reminded_on_at: None,
                })
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Notes the follow-up made for a recommendation (if it is due) and when it was submitted:
/// the instant and the day of the center's calendar, to tell whether it was on time (none: not,
/// or no longer, submitted).
pub fn set_follow_up(
    conn: &mut DbConnection,
    parent_id: &str,
    recommendation: i64,
    follow_up_id: &str,
    submitted: Option<(NaiveDateTime, NaiveDate)>,
) -> DbResult<()> {
    let row = follow_up_dues::table.find((parent_id, recommendation));
    match submitted {
        Some((at, day)) => diesel::update(row)
            .set((
                follow_up_dues::follow_up_id.eq(follow_up_id),
                follow_up_dues::follow_up_submitted_at.eq(at),
                follow_up_dues::follow_up_in_time.eq(follow_up_dues::due_on.ge(day).nullable()),
            ))
            .execute(conn)?,
        None => diesel::update(row)
            .set((
                follow_up_dues::follow_up_id.eq(follow_up_id),
                follow_up_dues::follow_up_submitted_at.eq(None::<NaiveDateTime>),
                follow_up_dues::follow_up_in_time.eq(None::<bool>),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Which dues a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueState {
    /// Not followed up yet, the date not passed.
    Due,
    /// The date passed and no follow-up submitted.
    Overdue,
    /// A follow-up submitted.
    Done,
}

#[derive(Debug, Clone)]
pub struct DueFilter {
    pub state: DueState,
    pub today: NaiveDate,
    /// A center's (coordinators) or a requester's own.
    pub center_code: Option<String>,
    pub requester_id: Option<String>,
    pub staff_code: Option<String>,
    /// After this `(due date, request id, recommendation)`.
    pub after: Option<(NaiveDate, String, i64)>,
}

/// A due recommendation with its request's reference and requester's name, and the follow-up
/// made for it.
#[derive(Debug, Clone)]
pub struct DueListRow {
    pub due: DueRow,
    pub reference: String,
    pub requester_name: String,
    pub follow_up: Option<(String, String, crate::domain::request_status::RequestStatus)>,
}

/// The dues of the filter, by due date, at most `limit`.
pub fn list(conn: &mut DbConnection, filter: &DueFilter, limit: i64) -> DbResult<Vec<DueListRow>> {
    let mut query = follow_up_dues::table
        .inner_join(requests::table)
        .inner_join(users::table.on(users::id.eq(follow_up_dues::requester_id)))
        .select((DueRow::as_select(), requests::reference, users::full_name))
        .into_boxed();
    if let Some(center) = &filter.center_code {
        query = query.filter(follow_up_dues::center_code.eq(center));
    }
    if let Some(requester) = &filter.requester_id {
        query = query.filter(follow_up_dues::requester_id.eq(requester));
    }
    if let Some(staff) = &filter.staff_code {
        query = query.filter(follow_up_dues::staff_code.eq(staff));
    }
    query = match filter.state {
        DueState::Done => query.filter(follow_up_dues::follow_up_submitted_at.is_not_null()),
        DueState::Due => query
            .filter(follow_up_dues::follow_up_submitted_at.is_null())
            .filter(follow_up_dues::due_on.ge(filter.today)),
        DueState::Overdue => query
            .filter(follow_up_dues::follow_up_submitted_at.is_null())
            .filter(follow_up_dues::due_on.lt(filter.today)),
    };
    if let Some((day, request, index)) = &filter.after {
        query = query.filter(
            follow_up_dues::due_on
                .gt(*day)
                .or(follow_up_dues::due_on.eq(*day).and(
                    follow_up_dues::request_id
                        .gt(request.clone())
                        .or(follow_up_dues::request_id
                            .eq(request.clone())
                            .and(follow_up_dues::recommendation.gt(*index))),
                )),
        );
    }
    let rows: Vec<(DueRow, String, String)> = query
        .order((
            follow_up_dues::due_on,
            follow_up_dues::request_id,
            follow_up_dues::recommendation,
        ))
        .limit(limit)
        .load(conn)?;
    // The follow-ups made, in one query for the page.
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|(due, _, _)| due.follow_up_id.clone())
        .collect();
    let made: Vec<(String, String, crate::domain::request_status::RequestStatus)> =
        if ids.is_empty() {
            Vec::new()
        } else {
            requests::table
                .filter(requests::id.eq_any(&ids))
                .select((requests::id, requests::reference, requests::status))
                .load(conn)?
        };
    Ok(rows
        .into_iter()
        .map(|(due, reference, requester_name)| {
            let follow_up = due
                .follow_up_id
                .as_ref()
                .and_then(|id| made.iter().find(|(made_id, _, _)| made_id == id).cloned());
            DueListRow {
                due,
                reference,
                requester_name,
                follow_up,
            }
        })
        .collect())
}

/// A reminder: seven days before the due date, or on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    Before,
    OnTheDay,
}

/// The dues with a reminder to queue on `today` (nothing submitted for them yet): those due
/// within seven days not yet reminded, and those due today or before not yet reminded on the
/// day. At most `limit`, by due date.
pub fn to_remind(conn: &mut DbConnection, today: NaiveDate, limit: i64) -> DbResult<Vec<DueRow>> {
    let week = today + chrono::Duration::days(7);
    Ok(follow_up_dues::table
        .filter(follow_up_dues::follow_up_submitted_at.is_null())
        .filter(follow_up_dues::reminded_on_at.is_null())
        .filter(
            follow_up_dues::due_on
                .le(today)
                .or(follow_up_dues::reminded_before_at
                    .is_null()
                    .and(follow_up_dues::due_on.le(week))),
        )
        .select(DueRow::as_select())
        .order((follow_up_dues::due_on, follow_up_dues::request_id))
        .limit(limit)
        .load(conn)?)
}

/// Marks `reminder` queued for a due at `at`, if it was not already (and nothing was submitted
/// meanwhile); answers whether this call marked it. On the day, the reminder before counts as
/// sent too: one message says both.
pub fn mark_reminded(
    conn: &mut DbConnection,
    due: &DueRow,
    reminder: Reminder,
    at: NaiveDateTime,
) -> DbResult<bool> {
    let row = follow_up_dues::table
        .find((&due.request_id, due.recommendation))
        .filter(follow_up_dues::follow_up_submitted_at.is_null());
    let marked = match reminder {
        Reminder::Before => {
            diesel::update(row.filter(follow_up_dues::reminded_before_at.is_null()))
                .set(follow_up_dues::reminded_before_at.eq(at))
                .execute(conn)?
        }
        Reminder::OnTheDay => {
            let marked = diesel::update(row.filter(follow_up_dues::reminded_on_at.is_null()))
                .set(follow_up_dues::reminded_on_at.eq(at))
                .execute(conn)?;
            diesel::update(row.filter(follow_up_dues::reminded_before_at.is_null()))
                .set(follow_up_dues::reminded_before_at.eq(at))
                .execute(conn)?;
            marked
        }
    };
    Ok(marked == 1)
}
