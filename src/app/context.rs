//! Who is acting and from where: what every audit row and log line records of a use case's
//! caller, whichever front door it came through.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::account::{Language, Role};

/// The correlation id, the client address and, once authenticated, the actor.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub correlation_id: Option<String>,
}

impl RequestContext {
    pub fn with_actor(mut self, actor_id: &str) -> RequestContext {
        self.actor_id = Some(actor_id.to_owned());
        self
    }

    /// The client address used for throttling.
    pub fn client_key(&self) -> &str {
        self.client_addr.as_deref().unwrap_or("unknown")
    }
}

/// Who an account is, as its owner sees it (`GET /me`) and as every use case knows its caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub roles: Vec<Role>,
    pub site_code: Option<String>,
    pub language: Language,
}

/// An authenticated caller: an active account, its roles read from the database for this call
/// (its profile's fields read through `Deref`: `actor.email`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub profile: Profile,
    /// Whether the account has a second factor enrolled.
    pub second_factor_enrolled: bool,
    /// Whether the session was opened with a second factor.
    pub session_has_second_factor: bool,
    pub context: RequestContext,
}

impl std::ops::Deref for Actor {
    type Target = Profile;

    fn deref(&self) -> &Profile {
        &self.profile
    }
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Forbidden unless the user holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), super::AppError> {
        if roles.iter().any(|role| self.has_role(*role)) {
            Ok(())
        } else {
            Err(super::AppError::Forbidden)
        }
    }
}
