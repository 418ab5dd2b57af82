//! E-mails: templates (subject, text, HTML; French and English) rendered into outbox rows, and
//! the transports that deliver them. No clinical data and no patient identity ever goes in.

pub mod transport;

use std::sync::LazyLock;

use minijinja::Environment;
use serde::Serialize;

use crate::app::AppError;
use crate::crypto::DataKey;
use crate::db::{self, DbConnection};
use crate::domain::account::Language;

pub use crate::domain::mail::EmailKind;

macro_rules! templates {
    ($($kind:literal),* $(,)?) => {
        &[$(
            (concat!($kind, ".fr.subject"), include_str!(concat!("templates/", $kind, ".fr.subject"))),
            (concat!($kind, ".fr.txt"), include_str!(concat!("templates/", $kind, ".fr.txt"))),
            (concat!($kind, ".fr.html"), include_str!(concat!("templates/", $kind, ".fr.html"))),
            (concat!($kind, ".en.subject"), include_str!(concat!("templates/", $kind, ".en.subject"))),
            (concat!($kind, ".en.txt"), include_str!(concat!("templates/", $kind, ".en.txt"))),
            (concat!($kind, ".en.html"), include_str!(concat!("templates/", $kind, ".en.html"))),
        )*]
    };
}

const TEMPLATE_FILES: &[(&str, &str)] = templates![
    "verify_email",
    "password_reset",
    "registration_attempt",
    "request_submitted",
    "request_submitted_coordinator",
    "request_scheduled",
    "info_requested",
    "requester_answered",
    "request_rejected",
    "opinion_delivered",
    "follow_up_reminder",
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_template("layout.html", include_str!("templates/layout.html"))
        .expect("valid layout");
    for (name, source) in TEMPLATE_FILES {
        env.add_template(name, source)
            .expect("valid e-mail template");
    }
    env
});

/// What a message's body holds in place of its single-use link until the worker sends it: the
/// link itself is sealed with the data key beside the body (`outbox.sealed_link`), so neither
/// the database nor its backups ever hold a live token in the clear. Letters, digits and
/// underscores only, so HTML escaping leaves it as it is.
pub const SEALED_LINK: &str = "CONSILIUM_SEALED_LINK_8d1f0b7e";

/// Renders a message. `context` carries only references, statuses, dates and links.
pub fn compose<C: Serialize>(
    kind: EmailKind,
    language: Language,
    recipient: &str,
    context: C,
) -> anyhow::Result<db::outbox::NewEmail> {
    let render = |part: &str| -> anyhow::Result<String> {
        let name = format!("{}.{}.{part}", kind.as_str(), language.as_str());
        Ok(TEMPLATES.get_template(&name)?.render(&context)?)
    };
    // A subject is one header line: no CR/LF can reach it.
    let subject = render("subject")?
        .replace(['\r', '\n'], " ")
        .trim()
        .to_owned();
    Ok(db::outbox::NewEmail {
        kind,
        recipient: recipient.to_owned(),
        subject,
        body_text: render("txt")?,
        body_html: render("html")?,
        sealed_link: None,
    })
}

/// Renders a message carrying a single-use link and writes it to the outbox in the caller's
/// transaction: the stored body holds [`SEALED_LINK`], and the link is stored sealed.
pub fn queue_with_link(
    conn: &mut DbConnection,
    key: &DataKey,
    kind: EmailKind,
    language: Language,
    recipient: &str,
    mut context: serde_json::Value,
    link: &str,
) -> Result<String, AppError> {
    context["link"] = serde_json::Value::String(SEALED_LINK.to_owned());
    let mut email = compose(kind, language, recipient, context)?;
    email.sealed_link = Some(key.seal_text(link));
    Ok(db::outbox::enqueue(conn, &email, db::now())?)
}

/// The message as it is sent: its sealed link, if any, opened and put in place of
/// [`SEALED_LINK`] in both parts.
pub fn with_link_opened(
    row: &db::outbox::OutboxRow,
    key: &DataKey,
) -> Result<db::outbox::OutboxRow, String> {
    let mut row = row.clone();
    if let Some(sealed) = row.sealed_link.take() {
        let link = key
            .open_text(&sealed)
            .map_err(|e| format!("the message's link cannot be opened: {e}"))?;
        row.body_text = row.body_text.replace(SEALED_LINK, &link);
        row.body_html = row
            .body_html
            .replace(SEALED_LINK, &html_escape_attribute(&link));
    }
    Ok(row)
}

/// A link as the HTML templates write it (minijinja's auto-escaping of `{{ link }}`).
fn html_escape_attribute(text: &str) -> String {
    minijinja::HtmlEscape(text).to_string()
}

/// Renders a message and writes it to the outbox in the caller's transaction.
pub fn queue<C: Serialize>(
    conn: &mut DbConnection,
    kind: EmailKind,
    language: Language,
    recipient: &str,
    context: C,
) -> Result<String, AppError> {
    let email = compose(kind, language, recipient, context)?;
    Ok(db::outbox::enqueue(conn, &email, db::now())?)
}

/// A meeting's start as people read it, in the center's time zone and the reader's language:
/// "mercredi 2 décembre 2026 à 14:00" / "Wednesday 2 December 2026 at 14:00".
pub fn local_date(
    starts_at: chrono::NaiveDateTime,
    time_zone: chrono_tz::Tz,
    language: Language,
) -> String {
    words(starts_at, time_zone, language, true)
}

fn words(
    starts_at: chrono::NaiveDateTime,
    time_zone: chrono_tz::Tz,
    language: Language,
    time_of_day: bool,
) -> String {
    use chrono::{Datelike, Timelike};
    let local = starts_at.and_utc().with_timezone(&time_zone);
    let weekday = local.weekday().num_days_from_monday() as usize;
    let month = local.month0() as usize;
    const FR_DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    const FR_MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN_DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const EN_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (days, months, at) = match language {
        Language::Fr => (FR_DAYS, FR_MONTHS, "à"),
        Language::En => (EN_DAYS, EN_MONTHS, "at"),
    };
    let day = format!(
        "{} {} {} {}",
        days[weekday],
        local.day(),
        months[month],
        local.year()
    );
    if time_of_day {
        format!("{day} {at} {:02}:{:02}", local.hour(), local.minute())
    } else {
        day
    }
}

/// A day as people read it: "mercredi 2 décembre 2026" / "Wednesday 2 December 2026".
pub fn local_day(day: chrono::NaiveDate, language: Language) -> String {
    let noon = day.and_hms_opt(12, 0, 0).expect("noon");
    words(noon, chrono_tz::UTC, language, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_both_languages() {
        for &kind in EmailKind::ALL {
            for language in [Language::Fr, Language::En] {
                let email = compose(
                    kind,
                    language,
                    "a@chu.fr",
                    serde_json::json!({"link": "https://x/verify?token=abc", "full_name": "Dr A", "reference": "MOC-2026-00001", "meeting_date": "mercredi 2 décembre 2026 à 14:00", "change": "moved"}),
                )
                .unwrap();
                assert!(!email.subject.is_empty(), "{kind:?}");
                assert!(email.body_html.contains("<html"), "{kind:?}");
                assert!(!email.body_text.contains("{{"), "{kind:?}");
            }
        }
    }

    #[test]
    fn html_parts_escape_their_values() {
        let email = compose(
            EmailKind::VerifyEmail,
            Language::En,
            "a@chu.fr",
            serde_json::json!({"link": "https://x/?a=<script>", "full_name": "<b>x</b>"}),
        )
        .unwrap();
        assert!(!email.body_html.contains("<script>"));
        assert!(!email.body_html.contains("<b>x</b>"));
    }
}
