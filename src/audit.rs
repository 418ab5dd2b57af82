//! Writing the audit trail: one row per read or change of a request, an opinion, an
//! attachment, a user or a role — actor, time, action, entity, outcome, client, correlation id.
//! Never any clinical text, password, token or secret.

use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::request_context::RequestContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
        }
    }
}

/// Appends one row to the trail, in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    context: &RequestContext,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    outcome: Outcome,
) -> Result<(), ApiError> {
    db::audit::insert(
        conn,
        &db::audit::NewAuditEntry {
            id: db::new_id(),
            at: db::now(),
            actor_id: context.actor_id.clone(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.map(str::to_owned),
            outcome: outcome.as_str().to_owned(),
            client_addr: context.client_addr.clone(),
            correlation_id: context.correlation_id.clone(),
        },
    )?;
    Ok(())
}
