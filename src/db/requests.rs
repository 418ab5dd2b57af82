//! Opinion requests, their timeline and their references.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::{self, RequestStatus};

use super::DbConnection;
use super::schema::{reference_counters, request_events, requests, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requests)]
pub struct RequestRow {
    pub id: String,
    pub reference: String,
    pub center_code: String,
    pub requester_id: String,
    pub status: RequestStatus,
    pub version: i64,
    pub topic: Option<Topic>,
    pub urgency: Urgency,
    pub form: String,
    pub staff_code: Option<String>,
    pub proposed_meeting_id: Option<String>,
    pub meeting_id: Option<String>,
    pub rejection_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    /// When a meeting first recorded it discussed (the activity figures' delays).
    pub discussed_at: Option<NaiveDateTime>,
    /// When its opinion was first delivered.
    pub delivered_at: Option<NaiveDateTime>,
    /// What the activity figures count it by, as it was at submission: the month of its
    /// center's calendar (`YYYY-MM`) and its requester's site.
    pub submitted_month: Option<String>,
    pub site_code: Option<String>,
    /// The whole days from submission to the first discussion and to the first delivery.
    pub discussed_days: Option<i64>,
    pub delivered_days: Option<i64>,
    /// The request whose opinion this one follows up, and the index of the recommendation it
    /// follows (none: the opinion as a whole).
    pub parent_id: Option<String>,
    pub parent_recommendation: Option<i64>,
}

/// A follow-up of a request, as its parent lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct FollowUpRow {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    pub parent_recommendation: Option<i64>,
}

/// A request as a link of a chain of follow-ups.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct ChainRow {
    pub id: String,
    pub reference: String,
    pub status: RequestStatus,
    pub staff_code: Option<String>,
    pub parent_id: Option<String>,
}

pub fn chain_row(conn: &mut DbConnection, id: &str) -> DbResult<Option<ChainRow>> {
    Ok(requests::table
        .find(id)
        .select(ChainRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The follow-ups of any of `parents`, oldest first.
pub fn chain_children(conn: &mut DbConnection, parents: &[String]) -> DbResult<Vec<ChainRow>> {
    Ok(requests::table
        .filter(requests::parent_id.eq_any(parents))
        .select(ChainRow::as_select())
        .order((requests::created_at, requests::id))
        .load(conn)?)
}

/// The follow-ups of `parent_id`, oldest first.
pub fn follow_ups(conn: &mut DbConnection, parent_id: &str) -> DbResult<Vec<FollowUpRow>> {
    Ok(requests::table
        .filter(requests::parent_id.eq(parent_id))
        .select(FollowUpRow::as_select())
        .order((requests::created_at, requests::id))
        .load(conn)?)
}

/// The follow-up of `parent_id` made for its recommendation `recommendation` (none: for the
/// opinion as a whole), if there is one.
pub fn follow_up_of(
    conn: &mut DbConnection,
    parent_id: &str,
    recommendation: Option<i64>,
) -> DbResult<Option<RequestRow>> {
    let query = requests::table
        .filter(requests::parent_id.eq(parent_id))
        .select(RequestRow::as_select())
        .order((requests::created_at, requests::id))
        .into_boxed();
    let query = match recommendation {
        Some(index) => query.filter(requests::parent_recommendation.eq(index)),
        None => query.filter(requests::parent_recommendation.is_null()),
    };
    Ok(query.first(conn).optional()?)
}

/// The reference of a request.
pub fn reference_of(conn: &mut DbConnection, id: &str) -> DbResult<Option<String>> {
    Ok(requests::table
        .find(id)
        .select(requests::reference)
        .get_result(conn)
        .optional()?)
}

/// A request without its form: what lists and agendas show (the form is the bulk of a row,
/// and they never show it).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct RequestSummaryRow {
    pub id: String,
    pub reference: String,
    pub requester_id: String,
    pub status: RequestStatus,
    pub version: i64,
    pub topic: Option<Topic>,
    pub urgency: Urgency,
    pub staff_code: Option<String>,
    pub proposed_meeting_id: Option<String>,
    pub meeting_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
}

/// Columns a use case changes; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = requests)]
pub struct RequestChanges {
    pub status: Option<RequestStatus>,
    pub topic: Option<Option<Topic>>,
    pub urgency: Option<Urgency>,
    pub form: Option<String>,
    pub staff_code: Option<Option<String>>,
    pub proposed_meeting_id: Option<Option<String>>,
    pub meeting_id: Option<Option<String>>,
    pub rejection_reason: Option<Option<String>>,
    pub submitted_at: Option<Option<NaiveDateTime>>,
    pub updated_at: Option<NaiveDateTime>,
    pub discussed_at: Option<Option<NaiveDateTime>>,
    pub delivered_at: Option<Option<NaiveDateTime>>,
    pub submitted_month: Option<Option<String>>,
    pub site_code: Option<Option<String>>,
    pub discussed_days: Option<Option<i64>>,
    pub delivered_days: Option<Option<i64>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_events)]
pub struct EventRow {
    pub id: String,
    pub request_id: String,
    pub at: NaiveDateTime,
    pub from_status: Option<RequestStatus>,
    pub to_status: RequestStatus,
    pub actor_id: Option<String>,
    pub note: Option<String>,
    /// The request's center and staff when the event happened (what the figures count by).
    pub center_code: String,
    pub staff_code: Option<String>,
}

/// The next number of the center's references for `year`: gapless, because it is taken in
/// the transaction that creates the request (a rollback gives the number back).
pub fn next_reference_number(conn: &mut DbConnection, center: &str, year: i64) -> DbResult<i64> {
    let key = reference_counters::center_code
        .eq(center)
        .and(reference_counters::year.eq(year));
    let bump = |conn: &mut DbConnection| {
        diesel::update(reference_counters::table.filter(key))
            .set(reference_counters::last_value.eq(reference_counters::last_value + 1))
            .returning(reference_counters::last_value)
            .get_result::<i64>(conn)
            .optional()
    };
    if let Some(number) = bump(conn)? {
        return Ok(number);
    }
    let first = (
        reference_counters::center_code.eq(center),
        reference_counters::year.eq(year),
        reference_counters::last_value.eq(0i64),
    );
    // The first request of a year: two may race to create the counter; both then bump it.
    match conn {
        DbConnection::Postgresql(pg) => diesel::insert_into(reference_counters::table)
            .values(first)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::insert_or_ignore_into(reference_counters::table)
            .values(first)
            .execute(sqlite)?,
    };
    bump(conn)?.ok_or(super::DbError::NotFound)
}

/// How many requests there are.
pub fn count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(requests::table.count().get_result(conn)?)
}

pub fn insert(conn: &mut DbConnection, request: &RequestRow) -> DbResult<()> {
    diesel::insert_into(requests::table)
        .values(request)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<RequestRow>> {
    Ok(requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Applies `changes` and bumps the version, only if the request is still in `status` at
/// `version`; answers the row as it now is, or `None` when someone else changed it first.
pub fn update_guarded(
    conn: &mut DbConnection,
    id: &str,
    status: RequestStatus,
    version: i64,
    changes: &RequestChanges,
) -> DbResult<Option<RequestRow>> {
    Ok(diesel::update(
        requests::table.find(id).filter(
            requests::status
                .eq(status)
                .and(requests::version.eq(version)),
        ),
    )
    .set((changes, requests::version.eq(requests::version + 1)))
    .returning(requests::all_columns)
    .get_result::<RequestRow>(conn)
    .optional()?)
}

pub fn insert_event(conn: &mut DbConnection, event: &EventRow) -> DbResult<()> {
    diesel::insert_into(request_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

pub fn events(conn: &mut DbConnection, request_id: &str) -> DbResult<Vec<EventRow>> {
    Ok(request_events::table
        .filter(request_events::request_id.eq(request_id))
        .order((request_events::at, request_events::id))
        .select(EventRow::as_select())
        .load(conn)?)
}

#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub requester_id: Option<String>,
    /// Only requests scheduled or proposed in meetings of these staffs (experts).
    pub meeting_staffs: Option<Vec<String>>,
    pub status: Option<RequestStatus>,
    pub staff: Option<String>,
    pub meeting_id: Option<String>,
    pub urgency: Option<Urgency>,
    pub before: Option<(NaiveDateTime, String)>,
}

/// A page of requests, newest first, with their requester's name.
pub fn list(
    conn: &mut DbConnection,
    filter: &RequestFilter,
    limit: i64,
) -> DbResult<Vec<(RequestSummaryRow, String)>> {
    let mut query = requests::table
        .select(RequestSummaryRow::as_select())
        .order((requests::created_at.desc(), requests::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(requester) = &filter.requester_id {
        query = query.filter(requests::requester_id.eq(requester.clone()));
    }
    if let Some(staffs) = &filter.meeting_staffs {
        let meeting_ids = super::schema::meetings::table
            .filter(super::schema::meetings::staff_code.eq_any(staffs.clone()))
            .select(super::schema::meetings::id);
        query = query.filter(requests::meeting_id.assume_not_null().eq_any(meeting_ids));
    }
    if let Some(status) = &filter.status {
        query = query.filter(requests::status.eq(*status));
    }
    if let Some(staff) = &filter.staff {
        query = query.filter(requests::staff_code.eq(staff.clone()));
    }
    if let Some(meeting) = &filter.meeting_id {
        query = query.filter(
            requests::meeting_id
                .eq(meeting.clone())
                .or(requests::proposed_meeting_id.eq(meeting.clone())),
        );
    }
    if let Some(urgency) = &filter.urgency {
        query = query.filter(requests::urgency.eq(*urgency));
    }
    if let Some((at, id)) = &filter.before {
        query = query.filter(
            requests::created_at.lt(*at).or(requests::created_at
                .eq(*at)
                .and(requests::id.lt(id.clone()))),
        );
    }
    let rows = query.load(conn)?;
    with_requester_names(conn, rows)
}

/// What the triage list shows, in its order.
pub struct TriageFilter {
    pub statuses: Vec<RequestStatus>,
    pub staff: Option<String>,
    pub urgency: Option<Urgency>,
    /// The last row of the previous page: its urgency, submission time and id.
    pub after: Option<(Urgency, NaiveDateTime, String)>,
}

/// The requests waiting for a coordinator, urgent first, then the oldest submitted first.
/// Urgencies are stored as their names, and `urgent` sorts after `routine`: descending puts
/// the urgent ones first (`domain::request_form` tests that order).
pub fn triage(
    conn: &mut DbConnection,
    filter: &TriageFilter,
    limit: i64,
) -> DbResult<Vec<(RequestSummaryRow, String)>> {
    let mut query = requests::table
        .filter(requests::status.eq_any(filter.statuses.clone()))
        .select(RequestSummaryRow::as_select())
        .order((
            requests::urgency.desc(),
            requests::submitted_at.asc(),
            requests::id.asc(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(staff) = &filter.staff {
        query = query.filter(requests::staff_code.eq(staff.clone()));
    }
    if let Some(urgency) = &filter.urgency {
        query = query.filter(requests::urgency.eq(*urgency));
    }
    if let Some((urgency, at, id)) = &filter.after {
        let submitted = requests::submitted_at.assume_not_null();
        query = query.filter(
            requests::urgency
                .lt(*urgency)
                .or(requests::urgency.eq(*urgency).and(
                    submitted
                        .gt(*at)
                        .or(submitted.eq(*at).and(requests::id.gt(id.clone()))),
                )),
        );
    }
    let rows = query.load(conn)?;
    with_requester_names(conn, rows)
}

/// The network site of each of the users `ids` that has one (one query).
pub fn sites_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(users::table
        .filter(users::id.eq_any(ids).and(users::site_code.is_not_null()))
        .select((users::id, users::site_code.assume_not_null()))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// The forms (JSON text) of the requests `ids`, in one query: what a list needs of them
/// (the patient's initials) without loading them with every row.
pub fn forms_of(conn: &mut DbConnection, ids: &[String]) -> DbResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(requests::table
        .filter(requests::id.eq_any(ids))
        .select((requests::id, requests::form))
        .load(conn)?)
}

/// Rows with their requesters' names, read by id in one query. Joined instead, PostgreSQL
/// hashed the whole users table for every page or agenda once the requests outnumbered it.
fn with_requester_names(
    conn: &mut DbConnection,
    rows: Vec<RequestSummaryRow>,
) -> DbResult<Vec<(RequestSummaryRow, String)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut requester_ids: Vec<&str> = rows.iter().map(|r| r.requester_id.as_str()).collect();
    requester_ids.sort_unstable();
    requester_ids.dedup();
    let names: std::collections::HashMap<String, String> = users::table
        .filter(users::id.eq_any(requester_ids))
        .select((users::id, users::full_name))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names.get(&row.requester_id).cloned().unwrap_or_default();
            (row, name)
        })
        .collect())
}

/// The meeting's agenda: requests scheduled into it, or proposed for it and awaiting triage.
pub fn agenda(
    conn: &mut DbConnection,
    meeting_id: &str,
) -> DbResult<Vec<(RequestSummaryRow, String)>> {
    let rows = requests::table
        .filter(
            requests::meeting_id
                .eq(meeting_id)
                .and(requests::status.eq_any(request_status::ON_AGENDA))
                .or(requests::proposed_meeting_id
                    .eq(meeting_id)
                    .and(requests::status.eq_any(request_status::AWAITING_TRIAGE))),
        )
        .select(RequestSummaryRow::as_select())
        .load(conn)?;
    with_requester_names(conn, rows)
}

/// Requests scheduled into a meeting.
pub fn scheduled_in(conn: &mut DbConnection, meeting_id: &str) -> DbResult<Vec<RequestRow>> {
    Ok(requests::table
        .filter(
            requests::meeting_id
                .eq(meeting_id)
                .and(requests::status.eq_any(request_status::BOOKED)),
        )
        .order((requests::submitted_at, requests::id))
        .select(RequestRow::as_select())
        .load(conn)?)
}

/// The requests changed at or after `since`, or whose opinion was delivered then (an
/// amendment does not change the request): their ids, in the order they were created.
pub fn changed_since(conn: &mut DbConnection, since: NaiveDateTime) -> DbResult<Vec<String>> {
    use super::schema::opinions;
    let mut ids: Vec<String> = requests::table
        .filter(requests::updated_at.ge(since))
        .select(requests::id)
        .load(conn)?;
    ids.extend(
        opinions::table
            .filter(opinions::delivered_at.ge(since))
            .select(opinions::request_id)
            .load::<String>(conn)?,
    );
    // Ids are UUIDv7: their order is their creation's.
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
