//! Black-box tests of the API over real HTTP, on SQLite and on PostgreSQL.

#[path = "../support/mod.rs"]
mod support;

mod helpers;

mod accounts;
mod backup;
mod browser;
mod calendars;
mod cli;
mod coordination;
mod exports;
mod fhir;
mod follow_ups;
mod http;
mod key_rotation;
mod kpis;
mod mfa;
mod openapi;
mod outbox;
mod reports;
mod screens;
mod security;
mod sessions;
mod statements;
mod workflow;

/// Runs a test body as it is (the tests of this binary run side by side).
pub async fn run_alone(_name: &str, body: impl Future<Output = ()>) {
    body.await
}

/// Runs each named `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $crate::on_backends!($crate::run_alone; [sqlite, postgres]; $($name),*);
    };
}
