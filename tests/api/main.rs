//! Black-box tests of the API over real HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod accounts;
mod cli;
mod http;
mod mfa;
mod openapi;
mod outbox;
mod security;
mod sessions;
mod statements;
mod workflow;
