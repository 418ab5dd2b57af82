//! The authenticated caller, read from the `Authorization: Bearer` access token. Roles and
//! status are read from the database on every request: a removed role or a disabled account
//! takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::app::AppError;
use crate::state::AppState;

pub use crate::app::Actor as CurrentUser;

/// The caller, also when their role requires a second factor they have not used yet: only the
/// endpoints that let them enrol (and see themselves) take it.
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub CurrentUser);

/// The bearer token of the request; tokens are never read from the URL.
fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|token| !token.is_empty())
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let authenticated = authenticate(req);
        Box::pin(async move {
            let user = authenticated.await?;
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            if crate::app::sessions::lacks_second_factor(&state, &user) {
                return Err(AppError::SecondFactorRequired {
                    enrolled: user.second_factor_enrolled,
                });
            }
            Ok(user)
        })
    }
}

impl FromRequest for EnrollingUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let authenticated = authenticate(req);
        Box::pin(async move { Ok(EnrollingUser(authenticated.await?)) })
    }
}

/// Set on the request once the caller is known, for the audit of a refusal that follows.
#[derive(Debug, Clone)]
pub struct AuthenticatedActor(pub String);

/// The caller of a valid access token whose account is active.
fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<CurrentUser, AppError>> + use<> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    let context = crate::http::request_context::context_of(req);
    let req = req.clone();
    async move {
        let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
        let claims = token
            .and_then(|token| state.jwt.verify_access(&token))
            .ok_or(AppError::Unauthorized)?;
        let session_has_second_factor = claims.has_second_factor();
        let user_id = claims.sub;
        let user = state
            .db
            .run(move |conn| {
                crate::app::sessions::load_actor(conn, &user_id, context, session_has_second_factor)
            })
            .await?
            .ok_or(AppError::Unauthorized)?;
        req.extensions_mut()
            .insert(AuthenticatedActor(user.id.clone()));
        Ok(user)
    }
}
