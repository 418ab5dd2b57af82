//! Failed sign-in attempts, in one fixed window per key (`account:…`, `address:…`), shared by
//! every instance of the service.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::throttle_windows;
use super::{DbConnection, DbResult, write_transaction};

/// A key's window: how many failures since when.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = throttle_windows)]
pub struct ThrottleWindow {
    pub key: String,
    pub failures: i64,
    pub started_at: NaiveDateTime,
}

/// The windows of these keys (absent keys have none).
pub fn windows(conn: &mut DbConnection, keys: &[String]) -> DbResult<Vec<ThrottleWindow>> {
    Ok(throttle_windows::table
        .filter(throttle_windows::key.eq_any(keys))
        .select(ThrottleWindow::as_select())
        .load(conn)?)
}

/// Counts one failure for each key: in its window if the window started after
/// `window_start`, else in a new window starting `now`. Windows ended before `window_start`
/// are removed on the way.
pub fn record_failure(
    conn: &mut DbConnection,
    keys: &[String],
    now: NaiveDateTime,
    window_start: NaiveDateTime,
) -> DbResult<()> {
    write_transaction(conn, |conn| -> DbResult<()> {
        diesel::delete(
            throttle_windows::table.filter(throttle_windows::started_at.le(window_start)),
        )
        .execute(conn)?;
        for key in keys {
            // The window exists first (another instance may create it at the same moment:
            // the loser's insert does nothing), then the failure is counted under its row lock.
            let window = (
                throttle_windows::key.eq(key),
                throttle_windows::failures.eq(0i64),
                throttle_windows::started_at.eq(now),
            );
            match conn {
                DbConnection::Postgresql(pg) => diesel::insert_into(throttle_windows::table)
                    .values(window)
                    .on_conflict_do_nothing()
                    .execute(pg)?,
                DbConnection::Sqlite(sqlite) => {
                    diesel::insert_or_ignore_into(throttle_windows::table)
                        .values(window)
                        .execute(sqlite)?
                }
            };
            diesel::update(throttle_windows::table.find(key))
                .set(throttle_windows::failures.eq(throttle_windows::failures + 1))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Forgets a key's failures (a successful sign-in).
pub fn clear(conn: &mut DbConnection, key: &str) -> DbResult<()> {
    diesel::delete(throttle_windows::table.find(key)).execute(conn)?;
    Ok(())
}
