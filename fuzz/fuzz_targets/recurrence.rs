//! `StaffSchedule::parse` on four lines of text (rrule, dtstart, start_time, time_zone; the
//! input read as lossy UTF-8; missing lines are empty, the fourth takes the rest), then, for an
//! accepted schedule, `occurrences_between` over two one-year windows: one from the staff's
//! start, one from a fixed "now" (2026-11-23, as calendar::top_up would ask, and after most
//! starts, so the fast-forward path runs). Nothing may panic; the instants must be sorted,
//! unique, inside the window, on or after the start date, at most 367 in the year, and read the
//! configured start time on the zone's wall clock unless that time did not exist (a
//! spring-forward gap) that day or the day before. Slowness is caught by libFuzzer's -timeout.
#![no_main]

use chrono::{DateTime, Duration, TimeZone, Utc};
use consilium::domain::recurrence::{MAX_OCCURRENCES, StaffSchedule};
use libfuzzer_sys::fuzz_target;

fn check_window(schedule: &StaffSchedule, from: DateTime<Utc>) {
    let Some(to) = from.checked_add_signed(Duration::days(365)) else {
        return;
    };
    let got = schedule.occurrences_between(from, to);
    assert!(got.len() <= MAX_OCCURRENCES);
    // 365 UTC days overlap at most 367 local dates (offsets stay within ±26 h).
    assert!(got.len() <= 367, "{} instants in one year", got.len());
    assert!(
        got.windows(2).all(|pair| pair[0] < pair[1]),
        "not sorted and unique: {got:?}"
    );
    let zone = schedule.time_zone;
    for instant in &got {
        assert!(
            from <= *instant && *instant < to,
            "{instant} outside [{from}, {to})"
        );
        let local = instant.with_timezone(&zone).naive_local();
        assert!(
            local.date() >= schedule.dtstart,
            "{instant} ({local} local) before the start date {}",
            schedule.dtstart
        );
        let wall_clock_missing = [Some(local.date()), local.date().pred_opt()]
            .into_iter()
            .flatten()
            .any(|day| {
                zone.from_local_datetime(&day.and_time(schedule.start_time))
                    .earliest()
                    .is_none()
            });
        assert!(
            local.time() == schedule.start_time || wall_clock_missing,
            "{instant} reads {local} in {zone}, not {}",
            schedule.start_time
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(4, '\n');
    let rrule = lines.next().unwrap_or_default();
    let dtstart = lines.next().unwrap_or_default();
    let start_time = lines.next().unwrap_or_default();
    let time_zone = lines.next().unwrap_or_default();
    let Ok(schedule) = StaffSchedule::parse(rrule, dtstart, start_time, time_zone) else {
        return;
    };
    let start = schedule.dtstart.and_time(chrono::NaiveTime::MIN).and_utc();
    if let Some(from) = start.checked_sub_signed(Duration::days(2)) {
        check_window(&schedule, from);
    }
    check_window(
        &schedule,
        Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
    );
});
