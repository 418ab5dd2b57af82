//! Delivery of outbox rows with lettre: SMTP (`smtp://`, `smtp://…?tls=required` for STARTTLS,
//! `smtps://` for TLS) or `.eml` files under the data directory.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{EmailTransport, Settings};
use crate::db::outbox::OutboxRow;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// The right-hand side of Message-IDs.
    message_id_domain: String,
    /// The longest one delivery may take.
    timeout: Duration,
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Mailer> {
        let from: Mailbox = settings.email.from.parse().with_context(|| {
            format!("email.from is not a valid mailbox: {}", settings.email.from)
        })?;
        let transport = match settings.email.transport {
            EmailTransport::Smtp => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(
                    settings.email.smtp_url.expose_secret(),
                )
                .context("email.smtp_url is not a valid smtp:// or smtps:// URL")?
                .timeout(Some(Duration::from_secs(settings.email.timeout_seconds)))
                .build(),
            ),
            EmailTransport::File => {
                let dir = settings.mail_dir();
                std::fs::create_dir_all(&dir).with_context(|| {
                    format!("cannot create the mail directory {}", dir.display())
                })?;
                Transport::File(AsyncFileTransport::new(&dir), dir)
            }
        };
        let message_id_domain = settings
            .server
            .public_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|host| !host.is_empty())
            .unwrap_or("consilium.localhost")
            .to_owned();
        Ok(Mailer {
            transport,
            from,
            message_id_domain,
            timeout: Duration::from_secs(settings.email.timeout_seconds.max(1)),
        })
    }

    /// Where mail goes, for the start-up log line.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::File(_, dir) => format!("files under {}", dir.display()),
        }
    }

    /// The Message-ID of an outbox row: its id, so a duplicate delivery is recognisable.
    pub fn message_id(&self, row_id: &str) -> String {
        format!("<{row_id}@{}>", self.message_id_domain)
    }

    /// Sends one row; the error is a short text for the outbox's `last_error`.
    pub async fn send(&self, row: &OutboxRow) -> Result<(), String> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("bad recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            // Subjects come from our templates; a line break would still never reach a header.
            .subject(row.subject.replace(['\r', '\n'], " "))
            .message_id(Some(self.message_id(&row.id)))
            .multipart(MultiPart::alternative_plain_html(
                row.body_text.clone(),
                row.body_html.clone(),
            ))
            .map_err(|e| format!("cannot build the message: {e}"))?;
        match &self.transport {
            // lettre's timeout covers the connection only: the whole conversation is bounded
            // here, so a relay that stops answering cannot hold the worker.
            Transport::Smtp(smtp) => tokio::time::timeout(self.timeout, smtp.send(message))
                .await
                .map_err(|_| format!("no answer from the relay within {:?}", self.timeout))?
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::File(file, _) => file
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}
