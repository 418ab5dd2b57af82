//! The `Idempotency-Key` header, and the answer (first or replayed) as an HTTP response.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};

use crate::app::AppError;
use crate::app::idempotency::{Answer, Outcome};
use actix_web::http::StatusCode;

/// The optional `Idempotency-Key` header (1 to 200 visible ASCII characters).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
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
                    AppError::invalid(
                        "Idempotency-Key",
                        "must be 1 to 200 visible ASCII characters",
                    )
                })
        });
        ready(key.transpose().map(IdempotencyKey))
    }
}

/// The answer of a use case called with an idempotency key: fresh as JSON, or the stored body.
pub fn respond<T: serde::Serialize>(outcome: Outcome<T>) -> HttpResponse {
    match outcome {
        Outcome::Fresh { status, value } => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK)).json(value)
        }
        Outcome::Replayed(Answer { status, body }) => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
                .content_type("application/json")
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body)
        }
    }
}
