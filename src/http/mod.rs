//! What the JSON API needs of HTTP and nothing else does: the middleware (correlation id,
//! security headers, metrics, the request log), the strict JSON and query extractors, the
//! authenticated caller, the `Idempotency-Key` header, and the mapping of errors to
//! problem+json.

pub mod current_user;
pub mod extract;
pub mod idempotency;
pub mod middleware;
pub mod problem;
pub mod request_context;
