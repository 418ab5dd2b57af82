//! The authenticated caller, read from the `Authorization: Bearer` access token. Roles and
//! status are read from the database on every request: a removed role or a disabled account
//! takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

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
    pub context: RequestContext,
}

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
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let context = RequestContext::of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let claims = token
                .and_then(|token| state.jwt.verify_access(&token))
                .ok_or(ApiError::Unauthorized)?;
            let user_id = claims.sub;
            let (user, roles) = state
                .db
                .run(move |conn| {
                    let user = db::users::find_by_id(conn, &user_id)?;
                    let roles = match &user {
                        Some(user) => db::users::roles(conn, &user.id)?,
                        None => Vec::new(),
                    };
                    Ok((user, roles))
                })
                .await?;
            let user = user
                .filter(|user| user.status == "active")
                .ok_or(ApiError::Unauthorized)?;
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
            })
        })
    }
}
