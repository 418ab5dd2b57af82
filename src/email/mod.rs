//! E-mails: templates (subject, text, HTML; French and English) rendered into outbox rows, and
//! the transports that deliver them. No clinical data and no patient identity ever goes in.

pub mod transport;

use std::sync::LazyLock;

use minijinja::Environment;
use serde::Serialize;

use crate::db::{self, DbConnection};
use crate::domain::account::Language;
use crate::error::ApiError;

/// Every message the service sends; each has `<kind>.<lang>.{subject,txt,html}` templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    VerifyEmail,
    PasswordReset,
    RegistrationAttempt,
}

impl EmailKind {
    pub const ALL: [EmailKind; 3] = [
        EmailKind::VerifyEmail,
        EmailKind::PasswordReset,
        EmailKind::RegistrationAttempt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::VerifyEmail => "verify_email",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::RegistrationAttempt => "registration_attempt",
        }
    }
}

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

const TEMPLATE_FILES: &[(&str, &str)] =
    templates!["verify_email", "password_reset", "registration_attempt"];

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
        kind: kind.as_str().to_owned(),
        recipient: recipient.to_owned(),
        subject,
        body_text: render("txt")?,
        body_html: render("html")?,
    })
}

/// Renders a message and writes it to the outbox in the caller's transaction.
pub fn queue<C: Serialize>(
    conn: &mut DbConnection,
    kind: EmailKind,
    language: Language,
    recipient: &str,
    context: C,
) -> Result<String, ApiError> {
    let email = compose(kind, language, recipient, context)?;
    Ok(db::outbox::enqueue(conn, &email, db::now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_both_languages() {
        for kind in EmailKind::ALL {
            for language in [Language::Fr, Language::En] {
                let email = compose(
                    kind,
                    language,
                    "a@chu.fr",
                    serde_json::json!({"link": "https://x/verify?token=abc", "full_name": "Dr A", "public_url": "https://x"}),
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
