//! Consilium: the request workflow service of a rare-disease reference network.
//!
//! - `domain/`: the vocabulary, with no framework in it;
//! - `db/`: every diesel line;
//! - `app/`: the use cases, one function each, under every front door;
//! - `http/` and `routes/`: the JSON API (extract, call a use case, render);
//! - the services the use cases lean on: `auth/`, `email/`, `outbox/`, `audit`, `attachments`,
//!   `calendar`, `crypto`;
//! - running it: `cli`, `config`, `startup`, `state`, `telemetry`, `metrics`, `openapi`.

pub mod app;
pub mod attachments;
pub mod audit;
pub mod audit_checkpoint;
pub mod auth;
pub mod background;
pub mod backup;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod email;
pub mod fhir;
pub mod http;
pub mod ics;
pub mod key_rotation;
pub mod metrics;
pub mod network;
pub mod openapi;
pub mod outbox;
pub mod report;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod web;
