//! Meetings generated from each staff's recurrence rule, at least 26 weeks ahead; run at start
//! and topped up by the worker. A generated meeting keeps the occurrence it comes from, so a
//! moved or cancelled one is never generated again.

use chrono::{DateTime, Utc};

use crate::db::{self, Db, DbConnection};
use crate::domain::meeting::MeetingStatus;
use crate::domain::recurrence::StaffSchedule;

/// How far ahead meetings exist.
pub const HORIZON_WEEKS: i64 = 27;

/// The key of an occurrence: its UTC start, RFC 3339 (sorts as text).
pub fn occurrence_key(start: DateTime<Utc>) -> String {
    start.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates the missing meetings of every staff from `now` to the horizon; answers how many.
pub fn top_up(conn: &mut DbConnection, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let horizon = now + chrono::Duration::weeks(HORIZON_WEEKS);
    let mut created = 0;
    for (staff, time_zone) in db::network::staffs_with_zone(conn)? {
        let schedule = match StaffSchedule::parse(
            &staff.rrule,
            &staff.dtstart,
            &staff.start_time,
            &time_zone,
        ) {
            Ok(schedule) => schedule,
            Err(error) => {
                tracing::error!(staff = %staff.code, %error, "invalid recurrence; no meetings generated");
                continue;
            }
        };
        created += db::write_transaction(conn, |conn| -> anyhow::Result<usize> {
            let existing = db::meetings::occurrences_from(conn, &staff.code, &occurrence_key(now))?;
            let mut created = 0;
            for start in schedule.occurrences_between(now, horizon) {
                let key = occurrence_key(start);
                if existing.contains(&key) {
                    continue;
                }
                db::meetings::insert(
                    conn,
                    &db::meetings::MeetingRow {
                        id: db::new_id(),
                        staff_code: staff.code.clone(),
                        starts_at: start.naive_utc(),
                        duration_minutes: staff.duration_minutes,
                        status: MeetingStatus::Planned,
                        capacity: staff.capacity,
                        video_url: None,
                        occurrence: Some(key),
                        attendance: None,
                        quorum_met: None,
                        held_at: None,
                        created_at: db::now(),
                        sequence: 0,
                    },
                )?;
                created += 1;
            }
            Ok(created)
        })?;
    }
    if created > 0 {
        tracing::info!(created, "meetings generated");
    }
    Ok(created)
}

/// Tops the calendar up in the background, once an hour.
pub async fn keep_topped_up(db: Db, shutdown: tokio::sync::watch::Receiver<bool>) {
    crate::background::supervise(
        "calendar top-up",
        std::time::Duration::from_secs(3600),
        shutdown,
        |_| {
            let db = db.clone();
            async move {
                db.run(|conn| {
                    crate::db::with_setup_lock(conn, |conn| top_up(conn, crate::clock::now()))
                })
                .await?;
                Ok(crate::background::Next::Pause)
            }
        },
    )
    .await;
}
