//! `Idempotency-Key`: the same key and body replayed answer the first answer and change
//! nothing; the same key with another body is refused (422).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::AppError;
use crate::db::{self, DbConnection};

/// A fingerprint of the request's body.
pub fn fingerprint(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// An answer to send, first or replayed.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A use case's result: fresh (with the status of a first answer), or the stored answer of an
/// earlier call with the same key.
#[derive(Debug)]
pub enum Outcome<T> {
    Fresh { status: u16, value: T },
    Replayed(Answer),
}

/// The key of one call of one use case by one user, and the fingerprint of its input.
#[derive(Debug, Clone)]
pub struct Replay {
    user_id: String,
    key: Option<String>,
    endpoint: String,
    fingerprint: String,
}

impl Replay {
    pub fn new(
        user_id: &str,
        key: Option<String>,
        endpoint: &str,
        input: &serde_json::Value,
    ) -> Replay {
        Replay {
            user_id: user_id.to_owned(),
            key,
            endpoint: endpoint.to_owned(),
            fingerprint: fingerprint(input),
        }
    }

    /// The stored answer for this key, if it was used before with the same input; invalid
    /// when it was used with another.
    pub fn find<T>(&self, conn: &mut DbConnection) -> Result<Option<Outcome<T>>, AppError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let Some(row) = db::idempotency::find(conn, &self.user_id, key, &self.endpoint)? else {
            return Ok(None);
        };
        if row.request_hash != self.fingerprint {
            return Err(AppError::invalid(
                "Idempotency-Key",
                "was already used with a different body",
            ));
        }
        Ok(Some(Outcome::Replayed(Answer {
            status: row.response_status as u16,
            body: row.response_body,
        })))
    }

    /// Stores the answer under the key (if any), in the transaction of the change it
    /// describes, and answers it as fresh.
    pub fn store<T: Serialize>(
        &self,
        conn: &mut DbConnection,
        status: u16,
        value: T,
    ) -> Result<Outcome<T>, AppError> {
        if let Some(key) = &self.key {
            db::idempotency::insert(
                conn,
                &db::idempotency::IdempotencyRow {
                    user_id: self.user_id.clone(),
                    idempotency_key: key.clone(),
                    endpoint: self.endpoint.clone(),
                    request_hash: self.fingerprint.clone(),
                    response_status: i64::from(status),
                    response_body: serde_json::to_string(&value)?,
                    created_at: db::now(),
                },
            )?;
        }
        Ok(Outcome::Fresh { status, value })
    }
}
