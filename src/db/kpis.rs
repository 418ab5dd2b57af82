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

/// The filters every request figure shares, binding center, period, staff (twice) and site
/// (twice), in that order.
const REQUEST_FILTER: &str = "r.center_code = ? AND (? IS NULL OR r.staff_code = ?) \
                              AND (? IS NULL OR u.site_code = ?)";

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

/// Runs `sql` (built for the backend by `build`) with the scope's binds: the center, the
/// staff twice, the site twice, then the period's start and end.
fn load<R>(
    conn: &mut DbConnection,
    scope: &Scope,
    build: impl Fn(bool) -> String,
) -> DbResult<Vec<R>>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    let (from, to) = (
        *scope.bounds.first().expect("a period"),
        *scope.bounds.last().expect("a period"),
    );
    macro_rules! bound {
        ($query:expr) => {
            $query
                .bind::<Text, _>(&scope.center)
                .bind::<Nullable<Text>, _>(&scope.staff)
                .bind::<Nullable<Text>, _>(&scope.staff)
                .bind::<Nullable<Text>, _>(&scope.site)
                .bind::<Nullable<Text>, _>(&scope.site)
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(to)
        };
    }
    Ok(match conn {
        DbConnection::Postgresql(pg) => {
            bound!(diesel::sql_query(numbered(&build(true)))).load(pg)?
        }
        DbConnection::Sqlite(sqlite) => bound!(diesel::sql_query(build(false))).load(sqlite)?,
    })
}

/// Requests submitted in each month, by staff, topic, urgency and requester's site.
pub fn submitted(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<SubmittedRow>> {
    load(conn, scope, |_| {
        format!(
            "SELECT {} AS month, r.staff_code AS staff, r.topic AS topic, r.urgency AS urgency, \
             u.site_code AS site, COUNT(*) AS n \
             FROM requests r JOIN users u ON u.id = r.requester_id \
             WHERE {REQUEST_FILTER} AND r.submitted_at >= ? AND r.submitted_at < ? \
             GROUP BY 1, 2, 3, 4, 5",
            month_of("r.submitted_at", &scope.bounds)
        )
    })
}

/// The requests submitted in each month, by staff and by the whole days they took to reach
/// `milestone`: `discussed` (first recorded discussed in a meeting) or `delivered` (the first
/// delivery of their opinion). Those that have not reached it are not counted.
pub fn delays(
    conn: &mut DbConnection,
    scope: &Scope,
    milestone: Milestone,
) -> DbResult<Vec<DelayRow>> {
    let reached = match milestone {
        Milestone::Discussed => {
            "(SELECT MIN(e.at) FROM request_events e \
              WHERE e.request_id = r.id AND e.to_status = 'discussed')"
        }
        Milestone::Delivered => {
            "(SELECT MIN(o.delivered_at) FROM opinions o WHERE o.request_id = r.id)"
        }
    };
    load(conn, scope, |pg| {
        format!(
            "SELECT {} AS month, t.staff AS staff, {} AS days, COUNT(*) AS n FROM (\
               SELECT r.submitted_at AS submitted_at, r.staff_code AS staff, {reached} AS reached \
               FROM requests r JOIN users u ON u.id = r.requester_id \
               WHERE {REQUEST_FILTER} AND r.submitted_at >= ? AND r.submitted_at < ?\
             ) t WHERE t.reached IS NOT NULL GROUP BY 1, 2, 3",
            month_of("t.submitted_at", &scope.bounds),
            days(pg, "t.reached", "t.submitted_at"),
        )
    })
}

/// What a delay runs to.
#[derive(Debug, Clone, Copy)]
pub enum Milestone {
    Discussed,
    Delivered,
}

/// Requests for information, rejections and carry-overs in each month, by staff.
pub fn events(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<EventRow>> {
    let carried = DateChange::CarriedOver.note();
    load(conn, scope, |_| {
        format!(
            "SELECT {} AS month, r.staff_code AS staff, \
               CASE WHEN e.to_status = 'scheduled' THEN 'carried_over' ELSE e.to_status END AS kind, \
               COUNT(*) AS n \
             FROM request_events e JOIN requests r ON r.id = e.request_id \
               JOIN users u ON u.id = r.requester_id \
             WHERE {REQUEST_FILTER} AND e.at >= ? AND e.at < ? \
               AND (e.to_status IN ('needs_info', 'rejected') \
                    OR (e.to_status = 'scheduled' AND e.from_status = 'scheduled' \
                        AND e.note = '{carried}')) \
             GROUP BY 1, 2, 3",
            month_of("e.at", &scope.bounds)
        )
    })
}

/// Meetings held in each month, by staff: how many, with the quorum met, their places and
/// the cases they discussed (the requests still attached to them: those not reached were
/// carried over to another meeting).
pub fn meetings(conn: &mut DbConnection, scope: &Scope) -> DbResult<Vec<MeetingsRow>> {
    // The site binds are not used: `? IS NULL OR ? IS NULL OR TRUE` keeps the binds' order.
    load(conn, scope, |_| {
        format!(
            "SELECT {} AS month, t.staff AS staff, COUNT(*) AS held, \
               CAST(SUM(t.quorum) AS BIGINT) AS quorum_met, \
               CAST(SUM(t.capacity) AS BIGINT) AS capacity, CAST(SUM(t.cases) AS BIGINT) AS cases \
             FROM (SELECT m.starts_at AS starts_at, m.staff_code AS staff, m.capacity AS capacity, \
                     CASE WHEN m.quorum_met THEN 1 ELSE 0 END AS quorum, \
                     (SELECT COUNT(*) FROM requests r WHERE r.meeting_id = m.id) AS cases \
                   FROM meetings m JOIN staffs s ON s.code = m.staff_code \
                   WHERE s.center_code = ? AND (? IS NULL OR m.staff_code = ?) \
                     AND (? IS NULL OR ? IS NULL OR 1 = 1) \
                     AND m.status = 'held' AND m.starts_at >= ? AND m.starts_at < ?) t \
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
