//! The test kit both binaries share (`tests/api`, the service in process; `tests/faults`, the
//! real binary as child processes): the SMTP sink, the backends and `on_backends!`, a database
//! per test, the cast of users, complete forms, TOTP codes, the HTTP client with the endpoints
//! by name, and plain-SQL checks.
//!
//! Each binary includes it with `#[path = "../support/mod.rs"] mod support;`; as a `mod.rs` in a
//! folder of its own, Cargo never takes it for a test target.

// Each binary uses its part of the kit.
#![allow(dead_code)]

pub mod api;
pub mod backend;
pub mod cast;
pub mod endpoints;
pub mod forms;
pub mod html;
pub mod library;
pub mod pdf;
pub mod python;
pub mod s3;
pub mod smtp;
pub mod sql;
pub mod tokens;
pub mod totp;
pub mod webdriver;
