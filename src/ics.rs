//! iCalendar (RFC 5545) written by hand: the few properties a meeting needs, every text
//! escaped (§3.3.11) and every line folded at 75 octets (§3.1), never inside a UTF-8
//! character, lines ended by CRLF. Checked by its unit tests here and, in the API tests, by
//! Python's `icalendar` parser.

use chrono::{DateTime, Utc};

/// Whether the meeting takes place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Confirmed,
    Cancelled,
}

/// One meeting as a `VEVENT`.
#[derive(Debug, Clone)]
pub struct Event {
    /// Stable for the meeting's whole life: calendars replace the event they hold.
    pub uid: String,
    /// Grows each time the meeting moves or is cancelled.
    pub sequence: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub status: EventStatus,
}

/// A `VCALENDAR` of `events`, named `name`.
pub fn calendar(name: &str, events: &[Event], now: DateTime<Utc>) -> String {
    let mut out = String::with_capacity(256 + events.len() * 256);
    let mut line = |text: &str| {
        fold_into(&mut out, text);
    };
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Consilium//RCP meetings//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape(name)));
    let stamp = stamp(now);
    for event in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape(&event.uid)));
        line(&format!("DTSTAMP:{stamp}"));
        line(&format!("DTSTART:{}", self::stamp(event.start)));
        line(&format!("DTEND:{}", self::stamp(event.end)));
        line(&format!("SEQUENCE:{}", event.sequence));
        line(&format!("SUMMARY:{}", escape(&event.summary)));
        if let Some(description) = &event.description {
            line(&format!("DESCRIPTION:{}", escape(description)));
        }
        if let Some(url) = &event.url {
            line(&format!("URL:{url}"));
        }
        line(match event.status {
            EventStatus::Confirmed => "STATUS:CONFIRMED",
            EventStatus::Cancelled => "STATUS:CANCELLED",
        });
        line("TRANSP:OPAQUE");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// `20261209T130000Z`.
fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value: backslash, semicolon, comma and line breaks escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` folded: at most 75 octets per physical line (the continuation's leading
/// space counts), each ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn texts_are_escaped() {
        assert_eq!(escape("a;b,c\\d\ne\r"), "a\\;b\\,c\\\\d\\ne");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_cutting_a_character() {
        let mut out = String::new();
        let text = format!("SUMMARY:{}", "é".repeat(100));
        fold_into(&mut out, &text);
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 2, "{out}");
        for line in &lines {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        for line in &lines[1..] {
            assert!(line.starts_with(' '));
        }
        // Unfolded (CRLF + space removed), the line is whole again.
        assert_eq!(out.replace("\r\n ", "").trim_end(), text);
        assert!(out.ends_with("\r\n"));
    }

    #[test]
    fn a_calendar_has_its_events_with_uid_sequence_and_status() {
        let event = Event {
            uid: "m1@consilium".into(),
            sequence: 2,
            start: at("2026-12-09T13:00:00Z"),
            end: at("2026-12-09T15:00:00Z"),
            summary: "RCP nationale, MOC".into(),
            description: None,
            url: None,
            status: EventStatus::Cancelled,
        };
        let ics = calendar("RCP", &[event], at("2026-12-01T08:00:00Z"));
        for line in [
            "BEGIN:VCALENDAR\r\n",
            "UID:m1@consilium\r\n",
            "DTSTAMP:20261201T080000Z\r\n",
            "DTSTART:20261209T130000Z\r\n",
            "DTEND:20261209T150000Z\r\n",
            "SEQUENCE:2\r\n",
            "SUMMARY:RCP nationale\\, MOC\r\n",
            "STATUS:CANCELLED\r\n",
            "END:VCALENDAR\r\n",
        ] {
            assert!(ics.contains(line), "{line:?} in {ics}");
        }
        assert!(!ics.replace("\r\n", "").contains('\n'), "CRLF only");
    }
}
