//! The authenticated caller, read from the `Authorization: Bearer` access token. Roles and
//! status are read from the database on every request: a removed role or a disabled account
//! takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::app::AppError;
use crate::db;
use crate::domain::account::AccountStatus;
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
        let settings = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.settings.clone());
        let authenticated = authenticate(req);
        Box::pin(async move {
            let user = authenticated.await?;
            let settings = settings.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let needs_second_factor = user
                .roles
                .iter()
                .any(|role| settings.mfa_required_for(role.as_str()));
            if needs_second_factor
                && !(user.session_has_second_factor && user.second_factor_enrolled)
            {
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
        let (user, roles) = state
            .db
            .run(move |conn| db::users::find_with_roles(conn, &user_id))
            .await?
            .filter(|(user, _)| user.status == AccountStatus::Active)
            .ok_or(AppError::Unauthorized)?;
        req.extensions_mut()
            .insert(AuthenticatedActor(user.id.clone()));
        let mut roles = roles;
        roles.sort();
        Ok(CurrentUser {
            context: context.with_actor(&user.id),
            profile: crate::app::context::Profile {
                id: user.id,
                email: user.email,
                full_name: user.full_name,
                rpps: user.rpps,
                specialty: user.specialty,
                roles,
                site_code: user.site_code,
                language: user.language,
            },
            second_factor_enrolled: user.totp_enabled_at.is_some(),
            session_has_second_factor,
        })
    }
}
