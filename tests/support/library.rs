//! The kit's only paths into the library beyond its configuration and start-up: when `src/` is
//! reorganised, this file (and `tests/api/helpers.rs` for the in-process application) is where
//! the tests follow.

pub use consilium::auth::jwt::{ACCESS_TOKEN_TYPE, AUDIENCE, Claims, JwtKeys};
pub use consilium::db::Db;

/// Whether `candidate` is an RPPS number the service accepts.
pub fn rpps_is_valid(candidate: &str) -> bool {
    consilium::domain::rpps::Rpps::parse(candidate).is_ok()
}

/// The code of a base32 TOTP `secret` at time step `step` (30 s each).
pub fn totp_code(secret: &str, step: i64) -> String {
    let bytes = consilium::auth::totp::parse_secret(secret).expect("a valid TOTP secret");
    consilium::auth::totp::code_at(&bytes, (step * 30) as u64)
}

/// A small pool of the test's own connections to the database at `url`.
pub fn open_pool(url: &str) -> Db {
    Db::new(
        url,
        &consilium::db::PoolOptions {
            max_size: 4,
            connection_timeout: std::time::Duration::from_secs(10),
            sqlite_busy_timeout: std::time::Duration::from_secs(10),
        },
    )
    .expect("the test opens its database")
}

/// The OpenAPI document the code generates.
pub fn openapi_document() -> String {
    consilium::openapi::document()
}
