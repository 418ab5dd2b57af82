//! Consilium: the request workflow service of a rare-disease reference network.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod email;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod network;
pub mod openapi;
pub mod outbox;
pub mod request_context;
pub mod routes;
pub mod startup;
pub mod strict_json;
pub mod telemetry;
pub mod workflow;
