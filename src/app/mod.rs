//! The application layer: one function per use case, called by every front door (the JSON API
//! under `routes/`, the screens). A use case takes the caller, typed input and the state; it
//! opens the transaction, checks who may do it, applies transitions through the one state
//! machine (`workflow::Change`), writes the timeline, audit and outbox rows, and returns domain
//! values or one [`AppError`].

pub mod accounts;
pub mod admin;
pub mod calendars;
pub mod context;
pub mod error;
pub mod exports;
pub mod fhir;
pub mod follow_ups;
pub mod idempotency;
pub mod input;
pub mod kpis;
pub mod meetings;
pub mod network;
pub mod opinions;
pub mod pagination;
pub mod reports;
pub mod requests;
pub mod second_factor;
pub mod sessions;
pub mod strict_json;
pub mod triage;
pub mod views;
pub mod web_sessions;
pub mod workflow;

pub use context::{Actor, RequestContext};
pub use error::AppError;
