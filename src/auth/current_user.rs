//! The authenticated caller, read from the `Authorization: Bearer` access token. Roles and
//! status are read from the database on every request: a removed role or a disabled account
//! takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use crate::db;
use crate::domain::account::{Language, Role};
use crate::error::ApiError;
use crate::request_context::RequestContext;
use crate::startup::AppState;

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub roles: Vec<Role>,
    pub site_code: Option<String>,
    pub language: Language,
    /// Whether the account has a second factor enrolled.
    pub second_factor_enrolled: bool,
    /// Whether the session was opened with a second factor.
    pub session_has_second_factor: bool,
    pub context: RequestContext,
}

/// The caller, also when their role requires a second factor they have not used yet: only the
/// endpoints that let them enrol (and see themselves) take it.
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub CurrentUser);

impl CurrentUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 unless the user holds one of `roles`.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|role| self.has_role(*role)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

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
    type Error = ApiError;
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
                return Err(ApiError::SecondFactorRequired {
                    enrolled: user.second_factor_enrolled,
                });
            }
            Ok(user)
        })
    }
}

impl FromRequest for EnrollingUser {
    type Error = ApiError;
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
fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<CurrentUser, ApiError>> + use<> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    let context = RequestContext::of(req);
    let req = req.clone();
    async move {
        let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
        let claims = token
            .and_then(|token| state.jwt.verify_access(&token))
            .ok_or(ApiError::Unauthorized)?;
        let session_has_second_factor = claims.has_second_factor();
        let user_id = claims.sub;
        let (user, roles) = state
            .db
            .run(move |conn| Ok(db::users::find_with_roles(conn, &user_id)?))
            .await?
            .filter(|(user, _)| user.status == "active")
            .ok_or(ApiError::Unauthorized)?;
        req.extensions_mut()
            .insert(AuthenticatedActor(user.id.clone()));
        let mut roles: Vec<Role> = roles.iter().filter_map(|role| Role::parse(role)).collect();
        roles.sort();
        Ok(CurrentUser {
            context: context.with_actor(&user.id),
            id: user.id,
            email: user.email,
            full_name: user.full_name,
            rpps: user.rpps,
            specialty: user.specialty,
            roles,
            site_code: user.site_code,
            language: Language::parse(&user.language).unwrap_or_default(),
            second_factor_enrolled: user.totp_enabled_at.is_some(),
            session_has_second_factor,
        })
    }
}
