//! The e-mail worker: claims due outbox rows, sends them, and records the outcome — sent,
//! retried later with exponential back-off and jitter, or `dead` after the last attempt.
//! Delivery is at least once; the Message-ID carries the row id.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;

use crate::background::Next;
use crate::config::EmailSettings;
use crate::crypto::DataKey;
use crate::db::{self, Db};
use crate::email::transport::Mailer;

pub struct Worker {
    pub db: Db,
    pub mailer: Mailer,
    pub settings: EmailSettings,
    /// Opens the single-use links sealed in messages, at send time only.
    pub data_key: Arc<DataKey>,
}

/// The delay before attempt `attempts + 1`: base · 2^(attempts-1), capped, with ±20 % jitter.
pub fn backoff(settings: &EmailSettings, attempts: i64) -> Duration {
    let exponent = (attempts - 1).clamp(0, 30) as i32;
    let delay = (settings.retry_base_seconds * 2f64.powi(exponent)).min(settings.retry_max_seconds);
    let jitter = rand::rng().random_range(0.8..=1.2);
    Duration::from_secs_f64((delay * jitter).max(0.0))
}

impl Worker {
    /// One pass: claims a batch of due messages and delivers them. Answers how many were claimed.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        self.deliver(&|| false).await
    }

    /// A pass that stops between two messages once `stopping` says so. A message is sent only
    /// while its lease surely outlasts the send (the SMTP timeout), so no other worker can
    /// take it meanwhile; the rows not sent are given back.
    async fn deliver(&self, stopping: &(dyn Fn() -> bool + Sync)) -> anyhow::Result<usize> {
        let now = db::now();
        let lease_until = now + chrono::Duration::seconds(self.settings.lease_seconds.max(1));
        let batch_size = self.settings.batch_size.max(1);
        let rows = self
            .db
            .run(move |conn| db::outbox::claim_due(conn, now, lease_until, batch_size))
            .await?;
        let claimed = rows.len();
        let send_time = chrono::Duration::seconds(self.settings.timeout_seconds as i64 + 1);
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            if stopping() || db::now() + send_time >= lease_until {
                let ids: Vec<String> = std::iter::once(row.id).chain(rows.map(|r| r.id)).collect();
                self.db
                    .run(move |conn| db::outbox::release(conn, &ids))
                    .await?;
                break;
            }
            let outcome = match crate::email::with_link_opened(&row, &self.data_key) {
                Ok(message) => self.mailer.send(&message).await,
                Err(error) => Err(error),
            };
            let attempts = row.attempts + 1;
            let max_attempts = self.settings.max_attempts.max(1);
            let retry_at = db::now()
                + chrono::Duration::from_std(backoff(&self.settings, attempts)).unwrap_or_default();
            let id = row.id.clone();
            match &outcome {
                Ok(()) => tracing::info!(outbox_id = %row.id, kind = %row.kind, "e-mail sent"),
                Err(error) => {
                    tracing::warn!(outbox_id = %row.id, kind = %row.kind, attempts, %error, "e-mail not sent")
                }
            }
            self.db
                .run(move |conn| -> db::DbResult<()> {
                    match outcome {
                        Ok(()) => db::outbox::mark_sent(conn, &id, db::now())?,
                        Err(error) => db::outbox::mark_failed(
                            conn,
                            &id,
                            &truncate(&error, 500),
                            retry_at,
                            attempts >= max_attempts,
                        )?,
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(claimed)
    }

    /// Runs until `shutdown` turns true, stopping between messages, never in the middle of one.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let idle = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        tracing::info!(transport = %self.mailer.describe(), "e-mail worker started");
        let worker = &self;
        crate::background::supervise("e-mail worker", idle, shutdown, |shutdown| async move {
            let stopping = || *shutdown.borrow();
            Ok(match worker.deliver(&stopping).await? {
                0 => Next::Pause,
                _ => Next::Again,
            })
        })
        .await;
        tracing::info!("e-mail worker stopped");
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings() -> EmailSettings {
        EmailSettings {
            transport: crate::config::EmailTransport::File,
            smtp_url: SecretString::from(String::new()),
            from: "a@b.c".into(),
            timeout_seconds: 1,
            max_attempts: 8,
            retry_base_seconds: 30.0,
            retry_max_seconds: 3600.0,
            poll_interval_ms: 100,
            lease_seconds: 60,
            batch_size: 10,
            per_address_per_hour: 5,
        }
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        let settings = settings();
        for (attempts, expected) in [(1, 30.0), (2, 60.0), (3, 120.0), (5, 480.0), (20, 3600.0)] {
            let delay = backoff(&settings, attempts).as_secs_f64();
            assert!(
                delay >= expected * 0.8 && delay <= expected * 1.2,
                "{attempts}: {delay}"
            );
        }
    }
}
