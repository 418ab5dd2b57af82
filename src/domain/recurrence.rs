//! The meeting start instants of a staff: its RFC 5545 recurrence rule applied in local time
//! (DOMAIN.md "Staff"), turned into UTC instants with the staff's IANA time zone so that a 14:00
//! Europe/Paris meeting stays at 14:00 on both sides of every daylight-saving change.

use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc,
};
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated, Validated};

/// Longest window one call to [`StaffSchedule::occurrences_between`] looks at; a longer one is cut.
pub const MAX_SPAN: Duration = Duration::days(2 * 366);
/// Most instants one call to [`StaffSchedule::occurrences_between`] returns (the earliest ones).
pub const MAX_OCCURRENCES: usize = 1000;

/// A staff's meeting series as configured: the rule, its first date, the local wall-clock start
/// time and the zone that wall clock is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSchedule {
    pub rrule: String,
    pub dtstart: NaiveDate,
    pub start_time: NaiveTime,
    pub time_zone: chrono_tz::Tz,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("invalid recurrence rule {rule:?}: {reason}")]
    InvalidRule { rule: String, reason: String },
    #[error("recurrence rule {0:?} repeats more often than daily; meetings recur at most daily")]
    TooFrequent(String),
    #[error("invalid start date {0:?}: expected YYYY-MM-DD between 2000 and 2100")]
    InvalidDate(String),
    #[error("invalid start time {0:?}: expected HH:MM")]
    InvalidTime(String),
    #[error("unknown time zone {0:?}: expected an IANA name such as Europe/Paris")]
    UnknownTimeZone(String),
}

impl StaffSchedule {
    /// Checks the configured strings and the rule against its start date, so that a schedule
    /// built here always yields occurrences without error.
    pub fn parse(
        rrule: &str,
        dtstart: &str,
        start_time: &str,
        time_zone: &str,
    ) -> Result<StaffSchedule, RecurrenceError> {
        // chrono's %m/%d/%H/%M also take one digit; the config format is the fixed-width one.
        let dtstart_value = NaiveDate::parse_from_str(dtstart, "%Y-%m-%d")
            .ok()
            .filter(|_| dtstart.len() == 10)
            // A rule with COUNT is walked from its start: a start centuries away would make
            // every call walk them (found by the `recurrence` fuzz target).
            .filter(|date| (2000..=2100).contains(&date.year()))
            .ok_or_else(|| RecurrenceError::InvalidDate(dtstart.to_owned()))?;
        let start_time_value = NaiveTime::parse_from_str(start_time, "%H:%M")
            .ok()
            .filter(|_| start_time.len() == 5)
            .ok_or_else(|| RecurrenceError::InvalidTime(start_time.to_owned()))?;
        let time_zone_value = chrono_tz::Tz::from_str(time_zone)
            .map_err(|_| RecurrenceError::UnknownTimeZone(time_zone.to_owned()))?;
        let schedule = StaffSchedule {
            rrule: rrule.trim().to_owned(),
            dtstart: dtstart_value,
            start_time: start_time_value,
            time_zone: time_zone_value,
        };
        let rule = schedule.rule()?;
        // A rule that never matches (FEB 30th) is a configuration mistake, and would make rrule
        // walk its 100 000-period safety limit on every later call: refuse it once here.
        let start = floating(schedule.dtstart.and_time(schedule.start_time));
        if RRuleSet::new(start).rrule(rule).all(1).dates.is_empty() {
            return Err(RecurrenceError::InvalidRule {
                rule: schedule.rrule,
                reason: "the rule yields no date at all".to_owned(),
            });
        }
        Ok(schedule)
    }

    /// The UTC start instants of the meetings starting in `[from, to)`, sorted. The window is cut
    /// to [`MAX_SPAN`] and the answer to the first [`MAX_OCCURRENCES`] so that one call has
    /// bounded cost. A schedule whose rule does not parse (only possible when built by hand
    /// rather than by [`StaffSchedule::parse`]) has no occurrences.
    pub fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        self.occurrences(from, to, true)
    }

    /// [`StaffSchedule::occurrences_between`], with the fast-forward switchable so that tests can
    /// check it changes nothing.
    fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        fast_forward: bool,
    ) -> Vec<DateTime<Utc>> {
        let to = to.min(from.checked_add_signed(MAX_SPAN).unwrap_or(to));
        if to <= from {
            return Vec::new();
        }
        let Ok(rule) = self.rule() else {
            return Vec::new();
        };
        // The rule runs on wall-clock dates; any local wall clock is within ±26 h of UTC, so two
        // days of margin on each side cover every local date whose meeting can fall in the
        // window. The exact window is applied after conversion.
        let margin = Duration::days(2);
        let (Some(after), Some(before)) = (
            from.naive_utc().checked_sub_signed(margin),
            to.naive_utc().checked_add_signed(margin),
        ) else {
            return Vec::new();
        };
        let mut start = self.dtstart.and_time(self.start_time);
        if fast_forward {
            start = fast_forward_start(&rule, start, after);
        }
        // At most one occurrence per local date (time-of-day parts are refused), so the margins
        // add at most a few dates on top of the window's share.
        let limit = u16::try_from(MAX_OCCURRENCES + 8).unwrap_or(u16::MAX);
        let result = RRuleSet::new(floating(start))
            .rrule(rule)
            .after(floating(after))
            .before(floating(before))
            .all(limit);
        let mut instants: Vec<DateTime<Utc>> = result
            .dates
            .iter()
            .map(|occurrence| {
                resolve_local(
                    self.time_zone,
                    occurrence.date_naive().and_time(self.start_time),
                )
            })
            .filter(|instant| (from..to).contains(instant))
            .collect();
        // Dates come in order and local-to-UTC is monotone per date, but a gap resolution could in
        // theory land two dates on one instant: keep the promise of sorted and unique.
        instants.sort_unstable();
        instants.dedup();
        instants.truncate(MAX_OCCURRENCES);
        instants
    }

    /// The rule, validated against the staff's start, over "floating" wall-clock time.
    ///
    /// rrule applies a zone's offsets while iterating, and cannot express our choice for a start
    /// time that falls in a spring-forward gap. So it runs in UTC, which has no daylight saving,
    /// as a stand-in for the local wall clock: its dates are exactly the local dates of the rule,
    /// and [`resolve_local`] then puts the start time on each one in the real zone.
    fn rule(&self) -> Result<RRule<Validated>, RecurrenceError> {
        let invalid = |reason: &str| RecurrenceError::InvalidRule {
            rule: self.rrule.clone(),
            reason: reason.to_owned(),
        };
        let text = self.rrule.trim();
        let text = text
            .strip_prefix("RRULE:")
            .or_else(|| text.strip_prefix("rrule:"))
            .unwrap_or(text);
        // The start comes from the staff's dtstart and start_time; a rule carrying its own
        // DTSTART (or any other content line) would silently disagree with them.
        // rrule 0.14 slices the text by bytes and panics inside a multi-byte character: a rule
        // is ASCII anyway (found by the `recurrence` fuzz target).
        if !text.is_ascii() {
            return Err(invalid("a rule is plain ASCII (FREQ=WEEKLY;BYDAY=WE)"));
        }
        if text.contains([':', '\n', '\r']) || text.to_ascii_uppercase().contains("DTSTART") {
            return Err(invalid(
                "only the RRULE value is expected (FREQ=...;...), without DTSTART or other lines",
            ));
        }
        let rule = RRule::<Unvalidated>::from_str(text).map_err(|e| invalid(&e.to_string()))?;
        if matches!(
            rule.get_freq(),
            Frequency::Hourly | Frequency::Minutely | Frequency::Secondly
        ) {
            return Err(RecurrenceError::TooFrequent(self.rrule.clone()));
        }
        // The time of day is the staff's start_time; BYHOUR & co. would make several meetings a
        // day at other times.
        if !rule.get_by_hour().is_empty()
            || !rule.get_by_minute().is_empty()
            || !rule.get_by_second().is_empty()
        {
            return Err(invalid(
                "BYHOUR, BYMINUTE and BYSECOND are not allowed: the start time is configured apart",
            ));
        }
        // RFC 5545 allows "2MO" only with MONTHLY, or YEARLY without BYWEEKNO. rrule accepts it
        // elsewhere and drops the BYDAY filter: "FREQ=WEEKLY;BYDAY=2MO" would meet every day.
        let numbered_weekday = rule
            .get_by_weekday()
            .iter()
            .any(|day| matches!(day, NWeekday::Nth(..)));
        let numbered_weekday_allowed = match rule.get_freq() {
            Frequency::Monthly => true,
            Frequency::Yearly => rule.get_by_week_no().is_empty(),
            _ => false,
        };
        if numbered_weekday && !numbered_weekday_allowed {
            return Err(invalid(
                "a numbered BYDAY (such as 2MO) needs FREQ=MONTHLY or FREQ=YEARLY without BYWEEKNO",
            ));
        }
        // rrule parses INTERVAL=0 and then silently yields nothing.
        if rule.get_interval() == 0 {
            return Err(invalid("INTERVAL must be at least 1"));
        }
        let rule = match rule.get_until() {
            None => rule,
            Some(until) => {
                // RFC 5545: with a zoned DTSTART, UNTIL is a UTC date-time (…T…Z). rrule would
                // read any other form in the machine's own zone, which is not ours to depend on.
                if until.timezone() != rrule::Tz::UTC {
                    return Err(invalid(
                        "UNTIL must be a UTC date-time such as 20271231T230000Z",
                    ));
                }
                // Compare in the same floating wall-clock time as the rest of the rule.
                let local_until = until.with_timezone(&self.time_zone).naive_local();
                rule.until(floating(local_until))
            }
        };
        // Validating against the real start also fills in the parts the rule leaves implicit
        // (the weekday of a bare WEEKLY, the day of a bare MONTHLY) from it, once and for all.
        let start = floating(self.dtstart.and_time(self.start_time));
        rule.validate(start).map_err(|e| invalid(&e.to_string()))
    }
}

/// A later start for iterating `rule`, by a whole number of its periods, at or before `after`.
///
/// rrule walks every period from the start, so without this a window years after a staff's first
/// meeting costs as much as all the years in between. A start moved by whole periods (days, weeks,
/// months or years times INTERVAL) keeps the rule's phase, and the implicit parts were fixed by
/// validation against the real start; the periods from the new start on are therefore the same.
/// COUNT counts from the real start, so such a rule is not moved.
fn fast_forward_start(
    rule: &RRule<Validated>,
    start: NaiveDateTime,
    after: NaiveDateTime,
) -> NaiveDateTime {
    if rule.get_count().is_some() || after <= start {
        return start;
    }
    let interval = i64::from(rule.get_interval().max(1));
    // Whole days/months from start to after, then the largest multiple of the period that does
    // not pass `after` (the month count can overshoot by one when after's day or time is earlier).
    let (period, elapsed, unit_days) = match rule.get_freq() {
        Frequency::Daily => (interval, (after - start).num_days(), true),
        Frequency::Weekly => (7 * interval, (after - start).num_days(), true),
        Frequency::Monthly | Frequency::Yearly => {
            let months = i64::from(after.year() - start.year()) * 12 + i64::from(after.month())
                - i64::from(start.month());
            let period = if rule.get_freq() == Frequency::Yearly {
                12 * interval
            } else {
                interval
            };
            (period, months, false)
        }
        // Refused by `StaffSchedule::rule`; nothing to gain here anyway.
        Frequency::Hourly | Frequency::Minutely | Frequency::Secondly => return start,
    };
    let move_by = |periods: i64| -> Option<NaiveDateTime> {
        let amount = periods.checked_mul(period)?;
        if unit_days {
            start.checked_add_signed(Duration::try_days(amount)?)
        } else {
            start.checked_add_months(Months::new(u32::try_from(amount).ok()?))
        }
    };
    let periods = elapsed / period;
    let Some(moved) = [periods, periods - 1]
        .into_iter()
        .filter(|periods| *periods > 0)
        .filter_map(move_by)
        .find(|moved| *moved <= after)
    else {
        return start;
    };
    if rule.get_freq() == Frequency::Weekly {
        // rrule's first weekly period runs from the start to the next week start (WKST) only,
        // later ones are whole weeks; BYSETPOS counts within a period. So a moved start must be
        // a week start, where the original's later periods begin, or "BYSETPOS=1" would pick the
        // wrong day of a cut week.
        let week_start = rule.get_week_start().num_days_from_monday();
        let into_week = (7 + moved.weekday().num_days_from_monday() - week_start) % 7;
        return moved - Duration::days(i64::from(into_week));
    }
    moved
}

/// A wall-clock date-time carried through rrule in its UTC zone (see [`StaffSchedule::rule`]).
fn floating(wall_clock: NaiveDateTime) -> DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&wall_clock)
}

/// The instant at which `zone`'s wall clock reads `local`. In a fall-back overlap the earlier of
/// the two readings is taken (the meeting happens the first time the clock shows its start); in a
/// spring-forward gap, where the clock never shows it, the first instant after the gap.
fn resolve_local(zone: chrono_tz::Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => instant.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => first_instant_after_gap(zone, local),
    }
}

/// The end of the gap `local` is in, found by walking the wall clock forward a minute at a time
/// (transitions fall on whole minutes in practice) and then back by seconds to be exact. Gaps
/// are at most a day long (Samoa skipped 2011-12-30), so the walk is bounded.
fn first_instant_after_gap(zone: chrono_tz::Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let exists = |t: NaiveDateTime| zone.from_local_datetime(&t).earliest();
    let mut after = local;
    for _ in 0..(2 * 24 * 60) {
        after += Duration::minutes(1);
        if exists(after).is_some() {
            break;
        }
    }
    for _ in 0..60 {
        let earlier = after - Duration::seconds(1);
        if earlier <= local || exists(earlier).is_none() {
            break;
        }
        after = earlier;
    }
    // Unreachable with the tz database; should it happen, read the time at the offset in force
    // a day before, which lands after the gap's start rather than failing.
    exists(after).map_or_else(
        || {
            let offset = zone
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix();
            (local - Duration::seconds(i64::from(offset.local_minus_utc()))).and_utc()
        },
        |instant| instant.with_timezone(&Utc),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, Timelike, Weekday};
    use chrono_tz::Europe::Paris;
    use proptest::prelude::*;

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn paris(rule: &str, dtstart: &str, start_time: &str) -> StaffSchedule {
        StaffSchedule::parse(rule, dtstart, start_time, "Europe/Paris").unwrap()
    }

    fn texts(instants: &[DateTime<Utc>]) -> Vec<String> {
        instants
            .iter()
            .map(|i| i.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect()
    }

    #[test]
    fn inputs_found_by_fuzzing_are_refused_quickly() {
        // rrule would panic inside a multi-byte character.
        assert!(matches!(
            StaffSchedule::parse("FREQ=WEEKLY;BYDAY=€", "2026-01-07", "14:00", "Europe/Paris"),
            Err(RecurrenceError::InvalidRule { .. })
        ));
        // A COUNT rule starting centuries ago would be walked day by day on every call.
        assert!(matches!(
            StaffSchedule::parse("FREQ=DAILY;COUNT=4000000", "-999-01-01", "10:00", "UTC"),
            Err(RecurrenceError::InvalidDate(_))
        ));
        assert!(matches!(
            StaffSchedule::parse("FREQ=DAILY;COUNT=4000000", "1000-01-01", "10:00", "UTC"),
            Err(RecurrenceError::InvalidDate(_))
        ));
    }

    #[test]
    fn weekly_keeps_local_time_when_dst_starts() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        let got =
            staff.occurrences_between(utc("2027-03-20T00:00:00Z"), utc("2027-04-01T00:00:00Z"));
        assert_eq!(
            texts(&got),
            ["2027-03-24T13:00:00Z", "2027-03-31T12:00:00Z"]
        );
    }

    #[test]
    fn weekly_keeps_local_time_when_dst_ends() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        let got =
            staff.occurrences_between(utc("2026-10-15T00:00:00Z"), utc("2026-10-29T00:00:00Z"));
        assert_eq!(
            texts(&got),
            ["2026-10-21T12:00:00Z", "2026-10-28T13:00:00Z"]
        );
    }

    #[test]
    fn first_occurrence_is_dtstart_and_nothing_before() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        let got =
            staff.occurrences_between(utc("2025-06-01T00:00:00Z"), utc("2026-01-15T00:00:00Z"));
        assert_eq!(
            texts(&got),
            ["2026-01-07T13:00:00Z", "2026-01-14T13:00:00Z"]
        );
    }

    #[test]
    fn fetal_is_quarterly_on_the_second_monday() {
        let staff = paris("FREQ=MONTHLY;INTERVAL=3;BYDAY=2MO", "2026-01-12", "14:00");
        let got =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-03-01T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2026-01-12T13:00:00Z",
                "2026-04-13T12:00:00Z",
                "2026-07-13T12:00:00Z",
                "2026-10-12T12:00:00Z",
                "2027-01-11T13:00:00Z",
            ]
        );
    }

    #[test]
    fn occipito_cervical_is_the_first_thursday() {
        let staff = paris("FREQ=MONTHLY;BYDAY=1TH", "2026-01-01", "17:00");
        let got =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2026-07-01T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2026-01-01T16:00:00Z",
                "2026-02-05T16:00:00Z",
                "2026-03-05T16:00:00Z",
                "2026-04-02T15:00:00Z",
                "2026-05-07T15:00:00Z",
                "2026-06-04T15:00:00Z",
            ]
        );
    }

    #[test]
    fn radiology_is_the_third_tuesday() {
        let staff = paris("FREQ=MONTHLY;BYDAY=3TU", "2026-01-20", "17:00");
        let got =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2026-01-20T16:00:00Z",
                "2026-02-17T16:00:00Z",
                "2026-03-17T16:00:00Z"
            ]
        );
    }

    #[test]
    fn start_time_in_the_spring_forward_gap_moves_to_the_end_of_the_gap() {
        // 2027-03-28 in Paris: 02:00 CET jumps to 03:00 CEST (01:00Z).
        let staff = paris("FREQ=DAILY", "2027-03-20", "02:30");
        let got =
            staff.occurrences_between(utc("2027-03-27T00:00:00Z"), utc("2027-03-30T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2027-03-27T01:30:00Z",
                "2027-03-28T01:00:00Z",
                "2027-03-29T00:30:00Z"
            ]
        );
    }

    #[test]
    fn start_time_in_the_fall_back_overlap_takes_the_earlier_instant() {
        // 2026-10-25 in Paris: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let staff = paris("FREQ=DAILY", "2026-10-20", "02:30");
        let got =
            staff.occurrences_between(utc("2026-10-24T00:00:00Z"), utc("2026-10-27T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2026-10-24T00:30:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z"
            ]
        );
    }

    #[test]
    fn gap_of_a_whole_day() {
        // Samoa (UTC-10 until then) skipped 2011-12-30 entirely to UTC+14: the meeting of that
        // date starts at the first instant after the gap, 2011-12-31 00:00 local.
        let staff =
            StaffSchedule::parse("FREQ=DAILY", "2011-12-28", "14:00", "Pacific/Apia").unwrap();
        let got =
            staff.occurrences_between(utc("2011-12-29T00:00:00Z"), utc("2012-01-01T00:00:00Z"));
        assert_eq!(
            texts(&got),
            [
                "2011-12-29T00:00:00Z",
                "2011-12-30T00:00:00Z",
                "2011-12-30T10:00:00Z",
                "2011-12-31T00:00:00Z"
            ]
        );
    }

    #[test]
    fn twenty_six_weeks_ahead_gives_twenty_six_meetings() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        for start in [
            "2026-02-09T10:00:00Z",
            "2026-03-18T13:00:01Z",
            "2026-09-30T00:00:00Z",
        ] {
            let from = utc(start);
            let got = staff.occurrences_between(from, from + Duration::weeks(26));
            assert_eq!(got.len(), 26, "from {start}");
            assert!(
                got.iter()
                    .all(|i| i.with_timezone(&Paris).weekday() == Weekday::Wed)
            );
        }
        // 26 weeks are counted in UTC: starting exactly at a winter meeting (13:00Z), the window
        // ends at 13:00Z on a summer Wednesday, whose meeting (12:00Z) is then inside it too.
        let from = utc("2026-03-18T13:00:00Z");
        assert_eq!(
            staff
                .occurrences_between(from, from + Duration::weeks(26))
                .len(),
            27
        );
    }

    #[test]
    fn window_is_half_open() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        let at = utc("2026-01-14T13:00:00Z");
        assert_eq!(
            staff.occurrences_between(at, at + Duration::seconds(1)),
            [at]
        );
        assert!(
            staff
                .occurrences_between(at - Duration::days(1), at)
                .is_empty()
        );
        assert!(staff.occurrences_between(at, at).is_empty());
        assert!(
            staff
                .occurrences_between(at, at - Duration::days(30))
                .is_empty()
        );
    }

    #[test]
    fn work_is_bounded() {
        let daily = paris("FREQ=DAILY", "2026-01-01", "09:00");
        let from = utc("2026-01-01T00:00:00Z");
        let got = daily.occurrences_between(from, utc("2040-01-01T00:00:00Z"));
        assert_eq!(got.len(), 2 * 366);
        assert!(*got.last().unwrap() < from + MAX_SPAN);
        // Far beyond the rule's reach or chrono's range: empty, not a panic.
        assert!(
            daily
                .occurrences_between(
                    DateTime::<Utc>::MAX_UTC - Duration::days(1),
                    DateTime::<Utc>::MAX_UTC
                )
                .is_empty()
        );
        assert!(
            daily
                .occurrences_between(
                    DateTime::<Utc>::MIN_UTC,
                    DateTime::<Utc>::MIN_UTC + Duration::days(1)
                )
                .is_empty()
        );
    }

    #[test]
    fn count_and_until_are_honoured() {
        let staff = paris("FREQ=WEEKLY;BYDAY=WE;COUNT=3", "2026-01-07", "14:00");
        let all =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        assert_eq!(all.len(), 3);
        // UNTIL is an instant: 2026-01-21T13:00Z is the 14:00 Paris meeting of that day.
        let staff = paris(
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260121T130000Z",
            "2026-01-07",
            "14:00",
        );
        let all =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        assert_eq!(texts(&all).last().unwrap(), "2026-01-21T13:00:00Z");
        let staff = paris(
            "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260121T125959Z",
            "2026-01-07",
            "14:00",
        );
        let all =
            staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
        assert_eq!(texts(&all).last().unwrap(), "2026-01-14T13:00:00Z");
    }

    #[test]
    fn every_configured_staff_parses() {
        for (rule, dtstart, time) in [
            ("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00"),
            ("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "12:00"),
            ("FREQ=MONTHLY;BYDAY=1TH", "2026-01-01", "17:00"),
            ("FREQ=MONTHLY;BYDAY=3TU", "2026-01-20", "17:00"),
            ("FREQ=MONTHLY;INTERVAL=3;BYDAY=2MO", "2026-01-12", "14:00"),
            ("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "13:00"),
            ("RRULE:FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "13:00"),
            (
                " FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=15 ",
                "2026-06-15",
                "09:30",
            ),
        ] {
            let staff = paris(rule, dtstart, time);
            assert_eq!(staff.dtstart.to_string(), dtstart);
            let first =
                staff.occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
            assert!(!first.is_empty(), "{rule}");
        }
    }

    #[test]
    fn invalid_rules_are_refused() {
        for rule in [
            "",
            "garbage",
            "BYDAY=WE",
            "FREQ=FORTNIGHTLY",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=WEEKLY;INTERVAL=0",
            "FREQ=WEEKLY;INTERVAL=-1",
            "FREQ=WEEKLY;COUNT=abc",
            "FREQ=WEEKLY;FOO=1",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=DAILY;BYHOUR=9",
            "FREQ=DAILY;BYMINUTE=30",
            "FREQ=WEEKLY;BYDAY=2MO",
            "FREQ=DAILY;BYDAY=1MO",
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO",
            "FREQ=WEEKLY;UNTIL=20261231",
            "FREQ=WEEKLY;UNTIL=20261231T000000",
            "FREQ=WEEKLY;UNTIL=2026-12-31",
            "FREQ=WEEKLY;UNTIL=20251231T000000Z",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31",
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260110T000000Z",
            "DTSTART:20260107T140000Z",
            "DTSTART:20260107T140000Z\nRRULE:FREQ=WEEKLY",
            "FREQ=WEEKLY;DTSTART=20260107T140000Z",
            "RRULE;TZID=Europe/Paris:FREQ=WEEKLY",
        ] {
            let result = StaffSchedule::parse(rule, "2026-01-07", "14:00", "Europe/Paris");
            assert!(
                matches!(result, Err(RecurrenceError::InvalidRule { .. })),
                "{rule:?}: {result:?}"
            );
        }
        for rule in ["FREQ=HOURLY", "FREQ=MINUTELY;INTERVAL=30", "FREQ=SECONDLY"] {
            let result = StaffSchedule::parse(rule, "2026-01-07", "14:00", "Europe/Paris");
            assert_eq!(result, Err(RecurrenceError::TooFrequent(rule.to_owned())));
        }
    }

    #[test]
    fn invalid_dates_times_and_zones_are_refused() {
        let rule = "FREQ=WEEKLY";
        for date in [
            "2026-1-7",
            "2026-02-30",
            "07/01/2026",
            "",
            "2026-01-07T14:00",
        ] {
            assert_eq!(
                StaffSchedule::parse(rule, date, "14:00", "Europe/Paris"),
                Err(RecurrenceError::InvalidDate(date.to_owned()))
            );
        }
        for time in ["2:00", "24:00", "14:00:00", "14h00", ""] {
            assert_eq!(
                StaffSchedule::parse(rule, "2026-01-07", time, "Europe/Paris"),
                Err(RecurrenceError::InvalidTime(time.to_owned()))
            );
        }
        for zone in ["Europe/Pariss", "CEST+1", ""] {
            assert_eq!(
                StaffSchedule::parse(rule, "2026-01-07", "14:00", zone),
                Err(RecurrenceError::UnknownTimeZone(zone.to_owned()))
            );
        }
    }

    #[test]
    fn a_hand_built_invalid_schedule_has_no_occurrences() {
        let mut staff = paris("FREQ=WEEKLY;BYDAY=WE", "2026-01-07", "14:00");
        staff.rrule = "nonsense".to_owned();
        assert!(
            staff
                .occurrences_between(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
                .is_empty()
        );
    }

    const WEEKDAYS: [(Weekday, &str); 7] = [
        (Weekday::Mon, "MO"),
        (Weekday::Tue, "TU"),
        (Weekday::Wed, "WE"),
        (Weekday::Thu, "TH"),
        (Weekday::Fri, "FR"),
        (Weekday::Sat, "SA"),
        (Weekday::Sun, "SU"),
    ];

    proptest! {
        /// Random weekly rules and windows: every instant reads the start time on a Paris wall
        /// clock (or is the end of a gap), lies in the window, is in order and unique; and the
        /// set is exactly the one computed by hand from the weekday mask and the interval.
        #[test]
        fn weekly_rules_in_paris(
            mask in 1u8..128,
            interval in 1u16..4,
            dtstart_offset in 0i64..800,
            hour in 0u32..24,
            minute in prop::sample::select(vec![0u32, 15, 30, 59]),
            from_offset_minutes in 0i64..(3 * 366 * 24 * 60),
            window_minutes in 0i64..(400 * 24 * 60),
        ) {
            let days: Vec<Weekday> = WEEKDAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, (day, _))| *day)
                .collect();
            let byday: Vec<&str> = WEEKDAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, (_, code))| *code)
                .collect();
            let rule = format!("FREQ=WEEKLY;INTERVAL={interval};BYDAY={}", byday.join(","));
            let dtstart = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap() + Duration::days(dtstart_offset);
            let start_time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap();
            let staff = StaffSchedule::parse(
                &rule,
                &dtstart.format("%Y-%m-%d").to_string(),
                &start_time.format("%H:%M").to_string(),
                "Europe/Paris",
            ).unwrap();
            let from = utc("2025-06-01T00:00:00Z") + Duration::minutes(from_offset_minutes);
            let to = from + Duration::minutes(window_minutes);

            let got = staff.occurrences_between(from, to);

            for pair in got.windows(2) {
                prop_assert!(pair[0] < pair[1]);
            }
            for instant in &got {
                prop_assert!(from <= *instant && *instant < to);
                let local = instant.with_timezone(&Paris).naive_local();
                prop_assert!(days.contains(&local.weekday()));
                prop_assert!(local.date() >= dtstart);
                let wall_clock_exists =
                    Paris.from_local_datetime(&local.date().and_time(start_time)).earliest().is_some();
                if wall_clock_exists {
                    prop_assert_eq!(local.time(), start_time);
                } else {
                    // Paris gaps run 02:00-03:00: the meeting starts when the clock reaches 03:00.
                    prop_assert_eq!((local.hour(), local.minute()), (3, 0));
                }
            }

            // The oracle: weeks (Monday-based, as WKST=MO) counted from dtstart's week.
            let week_of = |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
            let mut expected = Vec::new();
            let mut date = (from - Duration::days(2)).date_naive();
            while date <= (to + Duration::days(2)).date_naive() {
                let weeks = (week_of(date) - week_of(dtstart)).num_days() / 7;
                if date >= dtstart && days.contains(&date.weekday()) && weeks % i64::from(interval) == 0 {
                    let instant = resolve_local(Paris, date.and_time(start_time));
                    if from <= instant && instant < to {
                        expected.push(instant);
                    }
                }
                date += Duration::days(1);
            }
            prop_assert_eq!(got, expected);
        }

    }

    proptest! {
        // Each case also runs the slow path from the real start, years back: keep it affordable.
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Starting the iteration later by whole periods never changes the answer, whatever the
        /// rule's shape; only COUNT rules are left alone.
        #[test]
        fn fast_forward_changes_nothing(
            freq in prop::sample::select(vec!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
            interval in 1u16..5,
            byday in prop::sample::select(vec!["", "MO", "TU,FR", "SA,SU", "1MO", "-1FR", "2TU,4TH"]),
            bymonthday in prop::sample::select(vec!["", "1", "15", "29", "30,31", "-1", "31"]),
            bymonth in prop::sample::select(vec!["", "2", "1,7", "3,10,12"]),
            bysetpos in prop::sample::select(vec!["", "1", "-1"]),
            wkst in prop::sample::select(vec!["", "SU"]),
            until in prop::sample::select(vec!["", "20300615T120000Z"]),
            dtstart_offset in 0i64..3000,
            from_offset_days in 0i64..(10 * 366),
            window_days in 0i64..800,
        ) {
            let mut rule = format!("FREQ={freq};INTERVAL={interval}");
            for (name, value) in [
                ("BYDAY", byday),
                ("BYMONTHDAY", bymonthday),
                ("BYMONTH", bymonth),
                ("BYSETPOS", bysetpos),
                ("WKST", wkst),
                ("UNTIL", until),
            ] {
                if !value.is_empty() {
                    rule.push_str(&format!(";{name}={value}"));
                }
            }
            let dtstart = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + Duration::days(dtstart_offset);
            let staff = StaffSchedule::parse(
                &rule,
                &dtstart.format("%Y-%m-%d").to_string(),
                "10:00",
                "Europe/Paris",
            );
            // Some combinations are rightly refused (2TU with WEEKLY, FEB 30th...): nothing to
            // compare then.
            let Ok(staff) = staff else {
                return Ok(());
            };
            let from = dtstart.and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::days(from_offset_days);
            let to = from + Duration::days(window_days);
            prop_assert_eq!(staff.occurrences(from, to, true), staff.occurrences(from, to, false), "{}", rule);
        }
    }
}
