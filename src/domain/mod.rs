//! The vocabulary of DOMAIN.md as types that can only hold valid values (no actix, no diesel).

pub mod account;
pub mod departement;
pub mod email_address;
pub mod password;
pub mod rpps;
