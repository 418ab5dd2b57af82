//! Fault injection against the real binary: kills, SMTP and database outages, shutdown,
//! hostile load, several instances on one database.
//!
//! Every test starts `consilium serve` / `consilium worker` as child processes on a fresh
//! database (a SQLite file, or a new PostgreSQL database on `TEST_DATABASE_URL`), with a real
//! SMTP server on loopback. Tests run one at a time (`support::SERIAL`); the PostgreSQL restart
//! runs last (`zz_database_outage`).

mod support;

mod crash;
mod hostile_load;
mod instances;
mod shutdown;
mod smtp_outage;
mod zz_database_outage;
