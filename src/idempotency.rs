//! `Idempotency-Key`: the same key and body replayed answer the first answer and change
//! nothing; the same key with another body is refused (422).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use sha2::{Digest, Sha256};

use crate::db::{self, DbConnection};
use crate::error::ApiError;

/// The optional `Idempotency-Key` header (1 to 200 visible ASCII characters).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let key = req.headers().get("idempotency-key").map(|value| {
            value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|key| {
                    (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
                })
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "Idempotency-Key",
                        "must be 1 to 200 visible ASCII characters",
                    )
                })
        });
        ready(key.transpose().map(IdempotencyKey))
    }
}

/// A fingerprint of the request's body.
pub fn fingerprint(body: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// An answer to send, first or replayed.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

impl Answer {
    pub fn new(status: u16, body: String) -> Answer {
        Answer {
            status,
            body,
            replayed: false,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::OK);
        let mut response = HttpResponse::build(status);
        response.content_type("application/json");
        if self.replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.body(self.body)
    }
}

/// The stored answer for this key, if it was used before with the same body.
pub fn replay(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    endpoint: &str,
    fingerprint: &str,
) -> Result<Option<Answer>, ApiError> {
    let Some(row) = db::idempotency::find(conn, user_id, key, endpoint)? else {
        return Ok(None);
    };
    if row.request_hash != fingerprint {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "was already used with a different body",
        ));
    }
    Ok(Some(Answer {
        status: row.response_status as u16,
        body: row.response_body,
        replayed: true,
    }))
}

/// Stores the answer, in the transaction of the change it describes.
pub fn store(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    endpoint: &str,
    fingerprint: &str,
    status: u16,
    body: &str,
) -> Result<(), ApiError> {
    db::idempotency::insert(
        conn,
        &db::idempotency::IdempotencyRow {
            user_id: user_id.to_owned(),
            idempotency_key: key.to_owned(),
            endpoint: endpoint.to_owned(),
            request_hash: fingerprint.to_owned(),
            response_status: i64::from(status),
            response_body: body.to_owned(),
            created_at: db::now(),
        },
    )?;
    Ok(())
}
