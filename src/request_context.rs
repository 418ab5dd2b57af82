//! What every audit row and log line needs to know about the HTTP request: the correlation id
//! (`X-Request-Id`), the client address and, once authenticated, the actor.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use std::future::{Ready, ready};

/// The correlation id stored in the request's extensions by the middleware.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub actor_id: Option<String>,
    pub client_addr: Option<String>,
    pub correlation_id: Option<String>,
}

impl RequestContext {
    pub fn of(req: &HttpRequest) -> RequestContext {
        RequestContext {
            actor_id: None,
            client_addr: req.peer_addr().map(|addr| addr.ip().to_string()),
            correlation_id: req.extensions().get::<CorrelationId>().map(|c| c.0.clone()),
        }
    }

    pub fn with_actor(mut self, actor_id: &str) -> RequestContext {
        self.actor_id = Some(actor_id.to_owned());
        self
    }

    /// The client address used for throttling.
    pub fn client_key(&self) -> &str {
        self.client_addr.as_deref().unwrap_or("unknown")
    }
}

impl FromRequest for RequestContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(RequestContext::of(req)))
    }
}
