//! The vocabulary of DOMAIN.md as types that can only hold valid values (no actix, no diesel).

pub mod account;
pub mod departement;
pub mod email_address;
pub mod field_error;
pub mod follow_up;
pub mod ids;
pub mod mail;
pub mod meeting;
pub mod names;
pub mod network;
pub mod opinion;
pub mod password;
pub mod recurrence;
pub mod request_form;
pub mod request_status;
pub mod rpps;

pub use field_error::FieldError;
