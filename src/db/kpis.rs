//! The activity figures' aggregates, computed by the database over indexed ranges: counts and
//! delay histograms (whole days) per month of the period and per staff, never the requests
//! themselves. The SQL is written once with `?` placeholders and two backend fragments (the
//! month of an instant, from boundaries computed by the caller in the center's time zone; the
//! whole days between two instants).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::{DbConnection, DbResult};
use crate::domain::mail::DateChange;

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

/// The month index of `column`: a `CASE` over the period's boundaries (timestamps the caller
/// computed, written as literals: no text of a user reaches the SQL).
fn month_of(column: &str, bounds: &[NaiveDateTime]) -> String {
    let mut case = String::from("CAST(CASE");
    for (i, end) in bounds.iter().enumerate().skip(1) {
        case.push_str(&format!(
            " WHEN {column} < '{}' THEN {}",
            end.format("%Y-%m-%d %H:%M:%S%.f"),
            i - 1
        ));
    }
    case.push_str(" END AS BIGINT)");
    case
}

/// The whole days from `from` to `to`.
fn days(pg: bool, to: &str, from: &str) -> String {
    if pg {
        format!("CAST(FLOOR(EXTRACT(EPOCH FROM ({to} - {from})) / 86400) AS BIGINT)")
    } else {
        format!("CAST(julianday({to}) - julianday({from}) AS INTEGER)")
    }
}

/// A value bound to a placeholder.
enum Bind<'a> {
    Text(&'a str),
    Time(NaiveDateTime),
}

/// The period's filter on `column`, then the optional ones (a staff on `staff_column`, a
/// requester's site), each only when asked for: the planner sees only the conditions that
/// apply. Answers the SQL and the values of its placeholders, in order.
fn filter<'a>(
    scope: &'a Scope,
    center_column: &str,
    staff_column: &str,
    time_column: &str,
    with_site: bool,
) -> (String, Vec<Bind<'a>>) {
    let (from, to) = (
        *scope.bounds.first().expect("a period"),
        *scope.bounds.last().expect("a period"),
    );
    let mut sql = format!("{center_column} = ? AND {time_column} >= ? AND {time_column} < ?");
    let mut binds = vec![Bind::Text(&scope.center), Bind::Time(from), Bind::Time(to)];
    if let Some(staff) = &scope.staff {
        sql.push_str(&format!(" AND {staff_column} = ?"));
        binds.push(Bind::Text(staff));
    }
    if with_site && let Some(site) = &scope.site {
        sql.push_str(" AND r.requester_id IN (SELECT s.id FROM users s WHERE s.site_code = ?)");
        binds.push(Bind::Text(site));
    }
    (sql, binds)
}

/// [`filter`] for a figure of requests (`r`), in the period on `time_column`.
fn requests_filter<'a>(scope: &'a Scope, time_column: &str) -> (String, Vec<Bind<'a>>) {
    filter(scope, "r.center_code", "r.staff_code", time_column, true)
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

/// Runs `sql` (built for the backend by `build`, given whether it is PostgreSQL) with `binds`.
fn load<R>(
    conn: &mut DbConnection,
    binds: &[Bind<'_>],
    build: impl Fn(bool) -> String,
) -> DbResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    macro_rules! bound {
        ($query:expr) => {{
            let mut query = $query;
            for bind in binds {
                query = match bind {
                    Bind::Text(text) => query.bind::<Text, _>(*text),
                    Bind::Time(at) => query.bind::<Timestamp, _>(*at),
                };
            }
            query
        }};
    }
    Ok(match conn {
        DbConnection::Postgresql(pg) => {
            bound!(diesel::sql_query(numbered(&build(true))).into_boxed()).load(pg)?
        }
        DbConnection::Sqlite(sqlite) => {
            bound!(diesel::sql_query(build(false)).into_boxed()).load(sqlite)?
        }
    })
}

/// Requests submitted in each month, by staff, topic, urgency and requester's site.
pub fn submitted(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<SubmittedRow>> {
    let (filter, binds) = requests_filter(scope, "r.submitted_at");
    load(conn, &binds, |_| {
        format!(
            "SELECT {} AS month, r.staff_code AS staff, r.topic AS topic, r.urgency AS urgency, \
             u.site_code AS site, COUNT(*) AS n \
             FROM requests r JOIN users u ON u.id = r.requester_id \
             WHERE {filter} GROUP BY 1, 2, 3, 4, 5",
            month_of("r.submitted_at", &scope.bounds)
        )
    })
}

/// What a delay runs to.
#[derive(Debug, Clone, Copy)]
pub enum Milestone {
    Discussed,
    Delivered,
}

/// The requests submitted in each month, by staff and by the whole days they took to reach
/// `milestone`: `discussed` (first recorded discussed in a meeting) or `delivered` (the first
/// delivery of their opinion). Those that have not reached it are not counted. Without a site
/// filter, the index on the figures answers it alone.
pub fn delays(
    conn: &mut DbConnection,
    scope: &Scope,
    milestone: Milestone,
) -> DbResult<Vec<DelayRow>> {
    let reached = match milestone {
        Milestone::Discussed => "r.discussed_at",
        Milestone::Delivered => "r.delivered_at",
    };
    let (filter, binds) = requests_filter(scope, "r.submitted_at");
    load(conn, &binds, |pg| {
        format!(
            "SELECT {} AS month, r.staff_code AS staff, {} AS days, COUNT(*) AS n \
             FROM requests r WHERE {filter} AND {reached} IS NOT NULL GROUP BY 1, 2, 3",
            month_of("r.submitted_at", &scope.bounds),
            days(pg, reached, "r.submitted_at"),
        )
    })
}

/// Requests for information, rejections and carry-overs in each month, by staff: each kind
/// found through the index on the timeline's status, previous status and time.
pub fn events(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<EventRow>> {
    let carried = DateChange::CarriedOver.note();
    let mut rows = Vec::new();
    for (kind, condition) in [
        ("needs_info", "e.to_status = 'needs_info'".to_owned()),
        ("rejected", "e.to_status = 'rejected'".to_owned()),
        (
            "carried_over",
            format!(
                "e.to_status = 'scheduled' AND e.from_status = 'scheduled' AND e.note = '{carried}'"
            ),
        ),
    ] {
        let (filter, binds) = requests_filter(scope, "e.at");
        rows.extend(load::<EventRow>(conn, &binds, |_| {
            format!(
                "SELECT {} AS month, r.staff_code AS staff, '{kind}' AS kind, COUNT(*) AS n \
                 FROM request_events e JOIN requests r ON r.id = e.request_id \
                 WHERE {condition} AND {filter} GROUP BY 1, 2",
                month_of("e.at", &scope.bounds)
            )
        })?);
    }
    Ok(rows)
}

/// Meetings held in each month, by staff: how many, with the quorum met, their places and
/// the cases they discussed (the requests still attached to them: those not reached were
/// carried over to another meeting). A meeting belongs to no site: the site filter is not
/// applied.
pub fn meetings(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<MeetingsRow>> {
    let (filter, binds) = filter(scope, "s.center_code", "m.staff_code", "m.starts_at", false);
    load(conn, &binds, |_| {
        format!(
            "SELECT {} AS month, t.staff AS staff, COUNT(*) AS held, \
               CAST(SUM(t.quorum) AS BIGINT) AS quorum_met, \
               CAST(SUM(t.capacity) AS BIGINT) AS capacity, CAST(SUM(t.cases) AS BIGINT) AS cases \
             FROM (SELECT m.starts_at AS starts_at, m.staff_code AS staff, m.capacity AS capacity, \
                     CASE WHEN m.quorum_met THEN 1 ELSE 0 END AS quorum, \
                     (SELECT COUNT(*) FROM requests r WHERE r.meeting_id = m.id) AS cases \
                   FROM meetings m JOIN staffs s ON s.code = m.staff_code \
                   WHERE m.status = 'held' AND {filter}) t \
             GROUP BY 1, 2",
            month_of("t.starts_at", &scope.bounds)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgresql() {
        assert_eq!(numbered("a = ? AND (? IS NULL)"), "a = $1 AND ($2 IS NULL)");
    }
}
