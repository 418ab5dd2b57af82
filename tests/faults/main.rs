//! Fault injection against the real binary: kills, SMTP and database outages, shutdown,
//! hostile load, several instances on one database.
//!
//! Every test starts `consilium serve` / `consilium worker` as child processes on a fresh
//! database (a SQLite file, or a new PostgreSQL database on `TEST_DATABASE_URL`), with a real
//! SMTP server on loopback. Tests run one at a time (`rig::run_serially`). The PostgreSQL
//! restart (`zz_database_outage`) stops and starts a throwaway cluster of its own, never the
//! server `TEST_DATABASE_URL` names.

#[path = "../support/mod.rs"]
mod support;

mod rig;

mod crash;
mod hostile_load;
mod instances;
mod object_storage;
mod reminders;
mod shutdown;
mod smtp_outage;
mod zz_database_outage;

/// Runs each named `async fn(Backend)` test on SQLite and on PostgreSQL, one test at a time.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $crate::on_backends!($crate::rig::run_serially; [sqlite, postgres]; $($name),*);
    };
}

/// Runs each named `async fn(Backend)` test on PostgreSQL only, one test at a time.
#[macro_export]
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {
        $crate::on_backends!($crate::rig::run_serially; [postgres]; $($name),*);
    };
}

/// Runs each named `async fn(Backend)` test on SQLite only, one test at a time.
#[macro_export]
macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {
        $crate::on_backends!($crate::rig::run_serially; [sqlite]; $($name),*);
    };
}
