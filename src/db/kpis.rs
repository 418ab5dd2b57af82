//! The activity figures' aggregates, computed by the database over indexed ranges: counts and
//! delay histograms (whole days) per month of the period and per staff, never the requests
//! themselves. The request figures read the indexes that hold each submitted request by its
//! month (of the center's calendar, kept at submission), staff, then topic, urgency and site or
//! the days to a milestone: a year is a range already in the order of its groups, which neither
//! database sorts. The timeline's events and the meetings are fewer: their months are a table of
//! the period's boundaries (computed by the caller in the center's time zone) joined on the
//! instants they hold, and their groups are keyed by integers. The SQL is written once with `?`
//! placeholders.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{DbConnection, DbResult};

/// What the figures are computed over.
#[derive(Debug, Clone)]
pub struct Scope {
    pub center: String,
    /// The start of each month of the period (UTC), then the period's end: month `i` is
    /// `[bounds[i], bounds[i + 1])`.
    pub bounds: Vec<NaiveDateTime>,
    pub staff: Option<String>,
    /// The requester's site (request figures only: a meeting belongs to no site).
    pub site: Option<String>,
    /// The network's staff codes, in its order (the queries group by their positions).
    pub staffs: Vec<String>,
    /// The label (`YYYY-MM`) of each month of the period, in order.
    pub months: Vec<String>,
    /// The period's first and last days, and today, in the center's calendar.
    pub days: (NaiveDate, NaiveDate),
    pub today: NaiveDate,
}

#[derive(Debug, QueryableByName)]
pub struct SubmittedRow {
    #[diesel(sql_type = BigInt)]
    pub month: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub staff: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub topic: Option<String>,
    #[diesel(sql_type = Text)]
    pub urgency: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub site: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// How many requests of a month and staff took `days` whole days.
#[derive(Debug, QueryableByName)]
pub struct DelayRow {
    #[diesel(sql_type = BigInt)]
    pub month: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub staff: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub days: i64,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Timeline events of a kind (`needs_info`, `rejected`, `carried_over`) in a month.
#[derive(Debug, QueryableByName)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub month: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub staff: Option<String>,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(Debug, QueryableByName)]
pub struct MeetingsRow {
    #[diesel(sql_type = BigInt)]
    pub month: i64,
    #[diesel(sql_type = Text)]
    pub staff: String,
    #[diesel(sql_type = BigInt)]
    pub held: i64,
    #[diesel(sql_type = BigInt)]
    pub quorum_met: i64,
    #[diesel(sql_type = BigInt)]
    pub capacity: i64,
    #[diesel(sql_type = BigInt)]
    pub cases: i64,
}

/// A value bound to a placeholder.
enum Bind<'a> {
    Text(&'a str),
    Time(NaiveDateTime),
    Day(NaiveDate),
}

/// A query's text with `?` placeholders and their values, in order, for one backend.
struct Sql<'a> {
    pg: bool,
    text: String,
    binds: Vec<Bind<'a>>,
}

impl<'a> Sql<'a> {
    fn new(pg: bool) -> Self {
        Sql {
            pg,
            text: String::new(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: Bind<'a>) -> &mut Self {
        self.text.push('?');
        self.binds.push(value);
        self
    }

    /// The period's months, in two ways: SQLite joins a table of their boundaries on the
    /// instants they hold (each month one range of the index, no per-row test: a `CASE` over
    /// twelve boundaries was most of a delay's cost); PostgreSQL, whose planner answers such a
    /// join with a parallel scan of every request, tests the boundaries in a `CASE`.
    ///
    /// SQLite: `WITH months (i, starts, ends) AS (VALUES …) `, before the `SELECT`.
    fn months(&mut self, scope: &'a Scope) -> &mut Self {
        if self.pg {
            return self;
        }
        self.push("WITH months (i, starts, ends) AS (VALUES ");
        for (i, pair) in scope.bounds.windows(2).enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push(&format!("({i}, "))
                .bind(Bind::Time(pair[0]))
                .push(", ")
                .bind(Bind::Time(pair[1]))
                .push(")");
        }
        self.push(") ")
    }

    /// The month index of `column`.
    fn month(&mut self, scope: &'a Scope, column: &str) -> &mut Self {
        if !self.pg {
            return self.push("m.i");
        }
        self.push("(CASE");
        for (i, end) in scope.bounds.iter().enumerate().skip(1) {
            self.push(&format!(" WHEN {column} < "))
                .bind(Bind::Time(*end))
                .push(&format!(" THEN {}", i - 1));
        }
        self.push(" END)")
    }

    /// ` FROM table`, the months joined on `column` (SQLite).
    fn from(&mut self, table: &str, column: &str) -> &mut Self {
        if self.pg {
            self.push(&format!(" FROM {table}"))
        } else {
            self.push(&format!(
                " FROM months m JOIN {table} ON {column} >= m.starts AND {column} < m.ends"
            ))
        }
    }

    /// `CASE column WHEN ? THEN 0 … ELSE n END`: the position of the column's value among
    /// `values` (`n`, their number, when none): an integer the database groups by much faster
    /// than text (SQLite sorts every row to group them).
    fn position(&mut self, column: &str, values: &'a [String]) -> &mut Self {
        self.push(&format!("(CASE {column}"));
        for (i, value) in values.iter().enumerate() {
            self.push(" WHEN ")
                .bind(Bind::Text(value))
                .push(&format!(" THEN {i}"));
        }
        self.push(&format!(" ELSE {} END)", values.len()))
    }

    /// The center and the period on `period_column` (PostgreSQL: SQLite's months join holds
    /// it), then the optional filters (a staff on `staff_column`, a requester's site), each
    /// only when asked for: the planner sees only the conditions that apply.
    fn filters(
        &mut self,
        scope: &'a Scope,
        period_column: &str,
        center_column: &str,
        staff_column: &str,
        with_site: bool,
    ) -> &mut Self {
        self.push(&format!(" WHERE {center_column} = "))
            .bind(Bind::Text(&scope.center));
        if self.pg {
            let (from, to) = (
                *scope.bounds.first().expect("a period"),
                *scope.bounds.last().expect("a period"),
            );
            self.push(&format!(" AND {period_column} >= "))
                .bind(Bind::Time(from))
                .push(&format!(" AND {period_column} < "))
                .bind(Bind::Time(to));
        }
        if let Some(staff) = &scope.staff {
            self.push(&format!(" AND {staff_column} = "))
                .bind(Bind::Text(staff));
        }
        if with_site && let Some(site) = &scope.site {
            self.push(" AND r.site_code = ").bind(Bind::Text(site));
        }
        self
    }
}

/// `?` placeholders numbered for PostgreSQL.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the query `build` writes for the backend (given whether it is PostgreSQL).
fn load<'a, R>(conn: &mut DbConnection, build: impl Fn(bool) -> Sql<'a>) -> DbResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    macro_rules! bound {
        ($text:expr, $binds:expr) => {{
            let mut query = diesel::sql_query($text).into_boxed();
            for bind in $binds {
                query = match bind {
                    Bind::Text(text) => query.bind::<Text, _>(*text),
                    Bind::Time(at) => query.bind::<Timestamp, _>(*at),
                    Bind::Day(day) => query.bind::<diesel::sql_types::Date, _>(*day),
                };
            }
            query
        }};
    }
    Ok(match conn {
        DbConnection::Postgresql(pg) => {
            let sql = build(true);
            bound!(numbered(&sql.text), &sql.binds).load(pg)?
        }
        DbConnection::Sqlite(sqlite) => {
            let sql = build(false);
            bound!(sql.text, &sql.binds).load(sqlite)?
        }
    })
}

/// A group's month and staff, coded by the query as one integer: `month × (staffs + 1) + the
/// staff's position`.
impl Scope {
    /// The cell of the row: the month of `month_column` × (staffs + 1) + the position of
    /// `staff_column` among the staffs.
    fn cell<'a>(&'a self, sql: &mut Sql<'a>, month_column: &str, staff_column: &str) {
        sql.push("CAST(")
            .month(self, month_column)
            .push(&format!(" * {} + ", self.staffs.len() + 1))
            .position(staff_column, &self.staffs)
            .push(" AS BIGINT)");
    }

    fn month_and_staff(&self, cell: i64) -> (i64, Option<String>) {
        let width = self.staffs.len() as i64 + 1;
        (
            cell / width,
            self.staffs.get((cell % width) as usize).cloned(),
        )
    }
}

#[derive(Debug, QueryableByName)]
struct SubmittedGroup {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Nullable<Text>)]
    staff: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    topic: Option<String>,
    #[diesel(sql_type = Text)]
    urgency: String,
    #[diesel(sql_type = Nullable<Text>)]
    site: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl<'a> Sql<'a> {
    /// ` FROM requests r WHERE …`: the requests submitted in the period (the range of months of
    /// the figures' indexes, then the instants of the first and last days), of the staff and
    /// of the requester's site asked for.
    fn submitted_in(&mut self, scope: &'a Scope) -> &mut Self {
        let (first, last) = (
            scope.months.first().expect("a period"),
            scope.months.last().expect("a period"),
        );
        let (from, to) = (
            *scope.bounds.first().expect("a period"),
            *scope.bounds.last().expect("a period"),
        );
        self.push(" FROM requests r WHERE r.center_code = ")
            .bind(Bind::Text(&scope.center))
            .push(" AND r.submitted_month >= ")
            .bind(Bind::Text(first))
            .push(" AND r.submitted_month <= ")
            .bind(Bind::Text(last))
            .push(" AND r.submitted_at >= ")
            .bind(Bind::Time(from))
            .push(" AND r.submitted_at < ")
            .bind(Bind::Time(to));
        if let Some(staff) = &scope.staff {
            self.push(" AND r.staff_code = ").bind(Bind::Text(staff));
        }
        if let Some(site) = &scope.site {
            self.push(" AND r.site_code = ").bind(Bind::Text(site));
        }
        self
    }
}

impl Scope {
    /// The position of a month's label in the period.
    fn month_index(&self, label: &str) -> Option<i64> {
        self.months
            .binary_search_by(|month| month.as_str().cmp(label))
            .ok()
            .map(|i| i as i64)
    }
}

/// Requests submitted in each month, by staff, topic, urgency and requester's site: one range
/// of `requests_figures_submitted`, read in the order of the groups.
pub fn submitted(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<SubmittedRow>> {
    let rows: Vec<SubmittedGroup> = load(conn, |pg| {
        let mut sql = Sql::new(pg);
        sql.push(
            "SELECT r.submitted_month AS month, r.staff_code AS staff, r.topic AS topic, \
               r.urgency AS urgency, r.site_code AS site, COUNT(*) AS n",
        )
        .submitted_in(scope)
        .push(" GROUP BY r.submitted_month, r.staff_code, r.topic, r.urgency, r.site_code");
        sql
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(SubmittedRow {
                month: scope.month_index(&row.month)?,
                staff: row.staff,
                topic: row.topic,
                urgency: row.urgency,
                site: row.site,
                n: row.n,
            })
        })
        .collect())
}

/// What a delay runs to.
#[derive(Debug, Clone, Copy)]
pub enum Milestone {
    Discussed,
    Delivered,
}

#[derive(Debug, QueryableByName)]
struct DelayGroup {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Nullable<Text>)]
    staff: Option<String>,
    #[diesel(sql_type = BigInt)]
    days: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The requests submitted in each month, by staff and by the whole days they took to reach
/// `milestone`: `discussed` (first recorded discussed in a meeting) or `delivered` (the first
/// delivery of their opinion). Those that have not reached it are not counted. One range of
/// the milestone's index, read in the order of the groups.
pub fn delays(
    conn: &mut DbConnection,
    scope: &Scope,
    milestone: Milestone,
) -> DbResult<Vec<DelayRow>> {
    let days = match milestone {
        Milestone::Discussed => "r.discussed_days",
        Milestone::Delivered => "r.delivered_days",
    };
    let rows: Vec<DelayGroup> = load(conn, |pg| {
        let mut sql = Sql::new(pg);
        sql.push(&format!(
            "SELECT r.submitted_month AS month, r.staff_code AS staff, {days} AS days, \
               COUNT(*) AS n"
        ))
        .submitted_in(scope)
        .push(&format!(
            " AND {days} IS NOT NULL GROUP BY r.submitted_month, r.staff_code, {days}"
        ));
        sql
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(DelayRow {
                month: scope.month_index(&row.month)?,
                staff: row.staff,
                days: row.days,
                n: row.n,
            })
        })
        .collect())
}

#[derive(Debug, QueryableByName)]
struct FollowUpGroup {
    #[diesel(sql_type = diesel::sql_types::Date)]
    day: NaiveDate,
    #[diesel(sql_type = Nullable<Text>)]
    staff: Option<String>,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    in_time: i64,
}

/// The recommendations due in a month, by the staff of the request whose opinion made them.
#[derive(Debug)]
pub struct FollowUpRow {
    pub month: i64,
    pub staff: Option<String>,
    /// Due in the month, the date come (or followed up already).
    pub due: i64,
    /// Of those, followed up by a request submitted on or before the date.
    pub in_time: i64,
}

/// The follow-ups of the recommendations due in each month of the period: how many came due
/// (or were followed up before), and how many were followed up in time. Grouped by day and
/// staff in the database (a few rows a day), by month here.
pub fn follow_ups(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<FollowUpRow>> {
    let rows: Vec<FollowUpGroup> = load(conn, |pg| {
        let mut sql = Sql::new(pg);
        sql.push(
            "SELECT d.due_on AS day, r.staff_code AS staff, COUNT(*) AS due, \
               CAST(SUM(CASE WHEN d.follow_up_in_time THEN 1 ELSE 0 END) AS BIGINT) AS in_time \
             FROM follow_up_dues d JOIN requests r ON r.id = d.request_id \
             WHERE d.center_code = ",
        )
        .bind(Bind::Text(&scope.center))
        .push(" AND d.due_on >= ")
        .bind(Bind::Day(scope.days.0))
        .push(" AND d.due_on <= ")
        .bind(Bind::Day(scope.days.1))
        .push(" AND (d.due_on < ")
        .bind(Bind::Day(scope.today))
        .push(" OR d.follow_up_submitted_at IS NOT NULL)");
        if let Some(staff) = &scope.staff {
            sql.push(" AND r.staff_code = ").bind(Bind::Text(staff));
        }
        if let Some(site) = &scope.site {
            sql.push(" AND r.site_code = ").bind(Bind::Text(site));
        }
        sql.push(" GROUP BY d.due_on, r.staff_code");
        sql
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(FollowUpRow {
                month: scope.month_index(&row.day.format("%Y-%m").to_string())?,
                staff: row.staff,
                due: row.due,
                in_time: row.in_time,
            })
        })
        .collect())
}

/// The month of an instant (UTC) in a center's calendar, as the figures label it: `YYYY-MM`.
pub fn month_of(at: NaiveDateTime, zone: chrono_tz::Tz) -> String {
    use chrono::TimeZone;
    zone.from_utc_datetime(&at).format("%Y-%m").to_string()
}

/// The whole days from `from` to `to` (a delay of the figures).
pub fn whole_days(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
    (to - from).num_seconds().div_euclid(86_400)
}

/// Fills the month of the requests submitted before the month was kept (see the migration
/// `figures_by_month`): one statement per month of each center's calendar. Answers how many
/// requests were filled; none once done, found at once through the partial index of those
/// left.
pub fn fill_months(conn: &mut DbConnection) -> DbResult<usize> {
    use super::schema::{centers, requests};
    use chrono::{Datelike, Months, NaiveDate, TimeZone};
    let mut filled = 0;
    let zones: Vec<(String, String)> = centers::table
        .select((centers::code, centers::time_zone))
        .load(conn)?;
    for (center, zone) in zones {
        let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
        let missing = requests::submitted_at
            .is_not_null()
            .and(requests::submitted_month.is_null())
            .and(requests::center_code.eq(center.clone()));
        let (first, last): (Option<NaiveDateTime>, Option<NaiveDateTime>) = requests::table
            .filter(missing.clone())
            .select((
                diesel::dsl::min(requests::submitted_at),
                diesel::dsl::max(requests::submitted_at),
            ))
            .get_result(conn)?;
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        let local = zone.from_utc_datetime(&first);
        let mut month = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).expect("a month");
        let start_of = |day: NaiveDate| {
            zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
                .earliest()
                .map_or(day.and_hms_opt(0, 0, 0).expect("midnight"), |t| {
                    t.naive_utc()
                })
        };
        while start_of(month) <= last {
            let next = month
                .checked_add_months(Months::new(1))
                .expect("a next month");
            filled += diesel::update(
                requests::table
                    .filter(missing.clone())
                    .filter(requests::submitted_at.ge(start_of(month)))
                    .filter(requests::submitted_at.lt(start_of(next))),
            )
            .set(requests::submitted_month.eq(month.format("%Y-%m").to_string()))
            .execute(conn)?;
            month = next;
        }
    }
    Ok(filled)
}

/// The timeline's events the figures count: requests for information, rejections and
/// carry-overs. Word for word the condition of the partial index `request_events_figures`
/// (the planners use a partial index only for a query that states its condition).
pub const COUNTED_EVENTS: &str = "(to_status IN ('needs_info', 'rejected') OR (to_status = 'scheduled' AND from_status = 'scheduled' AND note = 'carried over'))";

#[derive(Debug, QueryableByName)]
struct EventCell {
    #[diesel(sql_type = BigInt)]
    cell: i64,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Requests for information, rejections and carry-overs in each month, by the staff the
/// request had then: one pass over the partial index of those events (the request is read only
/// for a site filter).
pub fn events(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<EventRow>> {
    let rows: Vec<EventCell> = load(conn, |pg| {
        let mut sql = Sql::new(pg);
        sql.months(scope).push("SELECT ");
        scope.cell(&mut sql, "e.at", "e.staff_code");
        sql.push(
            " AS cell, \
               CASE WHEN e.to_status = 'scheduled' THEN 'carried_over' ELSE e.to_status END AS kind, \
               COUNT(*) AS n",
        )
        .from("request_events e", "e.at");
        if scope.site.is_some() {
            sql.push(" JOIN requests r ON r.id = e.request_id");
        }
        sql.filters(scope, "e.at", "e.center_code", "e.staff_code", true)
            .push(&format!(" AND {COUNTED_EVENTS} GROUP BY 1, 2"));
        sql
    })?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (month, staff) = scope.month_and_staff(row.cell);
            EventRow {
                month,
                staff,
                kind: row.kind,
                n: row.n,
            }
        })
        .collect())
}

/// Meetings held in each month, by staff: how many, with the quorum met, their places and
/// the cases they discussed (the requests still attached to them: those not reached were
/// carried over to another meeting). A meeting belongs to no site: the site filter is not
/// applied.
pub fn meetings(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<MeetingsRow>> {
    load(conn, |pg| {
        let mut sql = Sql::new(pg);
        sql.months(scope)
            .push(
                "SELECT CAST(t.i AS BIGINT) AS month, t.staff AS staff, COUNT(*) AS held, \
                   CAST(SUM(t.quorum) AS BIGINT) AS quorum_met, \
                   CAST(SUM(t.capacity) AS BIGINT) AS capacity, \
                   CAST(SUM(t.cases) AS BIGINT) AS cases \
                 FROM (SELECT ",
            )
            .month(scope, "g.starts_at")
            .push(
                " AS i, g.staff_code AS staff, g.capacity AS capacity, \
                   CASE WHEN g.quorum_met THEN 1 ELSE 0 END AS quorum, \
                   (SELECT COUNT(*) FROM requests r WHERE r.meeting_id = g.id) AS cases",
            )
            .from("meetings g", "g.starts_at")
            .push(" JOIN staffs s ON s.code = g.staff_code")
            .filters(scope, "g.starts_at", "s.center_code", "g.staff_code", false)
            .push(" AND g.status = 'held') t GROUP BY 1, 2");
        sql
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mail::DateChange;

    #[test]
    fn the_counted_events_are_those_of_the_partial_index() {
        let carried = format!("note = '{}'", DateChange::CarriedOver.note());
        assert!(COUNTED_EVENTS.contains(&carried), "{COUNTED_EVENTS}");
        for up in [
            include_str!("../../migrations/sqlite/2026-12-04-000002_kpis/up.sql"),
            include_str!("../../migrations/postgres/2026-12-04-000002_kpis/up.sql"),
        ] {
            assert!(up.contains(&format!("WHERE {COUNTED_EVENTS};")), "{up}");
        }
    }

    #[test]
    fn placeholders_are_numbered_for_postgresql() {
        assert_eq!(numbered("a = ? AND (? IS NULL)"), "a = $1 AND ($2 IS NULL)");
    }
}
