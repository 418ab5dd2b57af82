//! What every audit row and log line needs to know about the HTTP request: the correlation id
//! (`X-Request-Id`), the client address and, once authenticated, the actor.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use std::future::{Ready, ready};

/// The correlation id stored in the request's extensions by the middleware.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

pub use crate::app::RequestContext;

/// The context of an HTTP request, before authentication.
pub fn context_of(req: &HttpRequest) -> RequestContext {
    RequestContext {
        actor_id: None,
        client_addr: req.peer_addr().map(|addr| addr.ip().to_string()),
        correlation_id: req.extensions().get::<CorrelationId>().map(|c| c.0.clone()),
    }
}

impl FromRequest for RequestContext {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(context_of(req)))
    }
}
