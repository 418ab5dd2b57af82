//! What every screen handler starts from ([`Web`]): who is visiting (the session cookie's
//! session, checked on the server), the page's language, the CSRF token of the session, and
//! whether a POST comes from our own origin. And what every handler ends with: a page, a
//! redirect (303), or an error page ([`WebError`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, dev::Payload, web};
use minijinja::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{i18n, render};
use crate::app::web_sessions::{self, Visitor};
use crate::app::{Actor, AppError, RequestContext};
use crate::domain::account::{Language, Role};
use crate::state::AppState;

pub const LANGUAGE_COOKIE: &str = "consilium_lang";

/// The session cookie's name: `__Host-` prefixed on https (the browser then refuses it from
/// any other origin, subdomain or plain http).
pub fn cookie_name(state: &AppState) -> &'static str {
    if is_https(state) {
        "__Host-consilium_session"
    } else {
        "consilium_session"
    }
}

fn is_https(state: &AppState) -> bool {
    state.public_url().starts_with("https://")
}

/// A cookie of the request, read from its `Cookie` headers.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// The CSRF token of a cookie: derived from the session's id, which only the browser holds
/// (the database holds another hash of it), so it needs no storage and dies with the session.
pub fn csrf_token(cookie: &str) -> String {
    hex::encode(Sha256::digest(
        format!("consilium csrf\0{cookie}").as_bytes(),
    ))
}

/// A POST came from one of our own pages: its `Origin` is the public URL's or the one the
/// browser addressed, or (without `Origin`) `Sec-Fetch-Site: same-origin`.
fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let headers = req.headers();
    let fetched_from_same_origin = || {
        headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "same-origin")
    };
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // A browser says `null` where a referrer policy hides the origin; its own
        // `Sec-Fetch-Site` (no page can set it) still tells where the form was.
        None | Some("null") => fetched_from_same_origin(),
        Some(origin) => {
            let public = state.public_url().trim_end_matches('/');
            let info = req.connection_info();
            let addressed = format!("{}://{}", info.scheme(), info.host());
            origin == public || origin == addressed
        }
    }
}

/// The chrome of every page: language, the signed-in user, the CSRF token, the current path.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Language,
    pub csrf: String,
    pub path: String,
    /// The signed-in user's name, home and the links of the header's menu.
    pub user: Option<(String, &'static str, Vec<MenuLink>)>,
    pub zone: String,
}

impl Chrome {
    fn values(&self) -> BTreeMap<String, Value> {
        let mut values = BTreeMap::new();
        values.insert("lang".into(), Value::from(self.lang.as_str()));
        values.insert("csrf_token".into(), Value::from(self.csrf.clone()));
        values.insert("current_path".into(), Value::from(self.path.clone()));
        values.insert("zone".into(), Value::from(self.zone.clone()));
        values.insert(
            "user".into(),
            match &self.user {
                Some((name, home, links)) => Value::from_serialize(
                    serde_json::json!({"name": name, "home": home, "links": links}),
                ),
                None => Value::from(()),
            },
        );
        values
    }

    /// The chrome of a page answered without a session lookup (an unknown path).
    pub fn bare(req: &HttpRequest) -> Chrome {
        let state = req.app_data::<web::Data<AppState>>();
        let session = state.and_then(|state| cookie(req, cookie_name(state)));
        Chrome {
            lang: i18n::negotiate(
                None,
                cookie(req, LANGUAGE_COOKIE).as_deref(),
                req.headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            ),
            csrf: session.as_deref().map(csrf_token).unwrap_or_default(),
            path: local_path(req),
            user: None,
            zone: "Europe/Paris".into(),
        }
    }
}

fn local_path(req: &HttpRequest) -> String {
    match req.uri().path_and_query() {
        Some(pq) => pq.as_str().to_owned(),
        None => "/".into(),
    }
}

/// A visitor's home: requesters their requests, coordinators the triage, experts the meetings.
/// A link of the header's menu: its path and the key of its label.
pub type MenuLink = (&'static str, &'static str);

/// The header's menu for the actor's roles.
pub fn menu_of(actor: &Actor) -> Vec<MenuLink> {
    let mut links = Vec::new();
    if actor.has_role(Role::Coordinator) {
        links.push(("/triage", "layout.triage"));
    }
    if actor.has_role(Role::Coordinator) || actor.has_role(Role::Expert) {
        links.push(("/meetings", "layout.meetings"));
    }
    if actor.has_role(Role::Requester) {
        links.push(("/requests", "layout.my_requests"));
    }
    if actor.has_role(Role::Coordinator) || actor.has_role(Role::Requester) {
        links.push(("/follow-ups", "layout.follow_ups"));
    }
    if actor.has_role(Role::Coordinator) || actor.has_role(Role::Admin) {
        links.push(("/kpis", "layout.kpis"));
    }
    if actor.has_role(Role::Admin) {
        links.push(("/admin/users", "layout.admin"));
    }
    links
}

pub fn home_of(actor: &Actor) -> &'static str {
    if actor.has_role(Role::Coordinator) {
        "/triage"
    } else if actor.has_role(Role::Expert) {
        "/meetings"
    } else if actor.has_role(Role::Requester) {
        "/requests"
    } else if actor.has_role(Role::Admin) {
        "/admin/users"
    } else {
        "/account"
    }
}

/// `next` when it is a local path (`/…`, not `//…` nor `/\…`), else `fallback`.
pub fn safe_next(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && !next.chars().any(|c| c.is_control()) =>
        {
            next.to_owned()
        }
        _ => fallback.to_owned(),
    }
}

/// The screen handler's view of the request.
pub struct Web {
    pub state: web::Data<AppState>,
    pub visitor: Visitor,
    /// The session cookie's value (a random seed when signed out).
    cookie: String,
    /// A cookie to set on the answer.
    set_cookie: Option<String>,
    same_origin: bool,
    pub context: RequestContext,
    pub chrome: Chrome,
}

impl FromRequest for Web {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("no state"))?;
            let context = crate::http::request_context::context_of(&req);
            let existing = cookie(&req, cookie_name(&state));
            let visitor = web_sessions::visitor(&state, context.clone(), existing.as_deref()).await;
            let visitor = match visitor {
                Ok(visitor) => visitor,
                Err(error) => {
                    return Err(WebError {
                        chrome: Box::new(Chrome::bare(&req)),
                        error,
                        redirect: None,
                    }
                    .into());
                }
            };
            let (cookie, set_cookie) = match (&visitor, existing) {
                (Visitor::Anonymous { ended: true }, _) | (_, None) => {
                    let (seed, _) = crate::auth::new_opaque_token();
                    (seed.clone(), Some(seed))
                }
                (_, Some(existing)) => (existing, None),
            };
            let actor = match &visitor {
                Visitor::SignedIn(actor) | Visitor::MustEnrol(actor) => Some(actor),
                _ => None,
            };
            let zone = state.center_zone().await;
            let chrome = Chrome {
                lang: i18n::negotiate(
                    actor.map(|a| a.language),
                    cookie_of_language(&req).as_deref(),
                    req.headers()
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok()),
                ),
                csrf: csrf_token(&cookie),
                path: local_path(&req),
                user: actor.map(|a| (a.full_name.clone(), home_of(a), menu_of(a))),
                zone,
            };
            let context = match actor {
                Some(actor) => actor.context.clone(),
                None => context,
            };
            Ok(Web {
                same_origin: same_origin(&req, &state),
                state,
                visitor,
                cookie,
                set_cookie,
                context,
                chrome,
            })
        })
    }
}

fn cookie_of_language(req: &HttpRequest) -> Option<String> {
    cookie(req, LANGUAGE_COOKIE)
}

impl Web {
    pub fn lang(&self) -> Language {
        self.chrome.lang
    }

    /// The signed-in actor, or the way to sign in (or to finish signing in).
    pub fn actor(&self) -> Result<&Actor, WebError> {
        match &self.visitor {
            Visitor::SignedIn(actor) => Ok(actor),
            Visitor::MustEnrol(_) => Err(self.redirect_error("/account")),
            Visitor::AwaitingSecondFactor { .. } => Err(self.redirect_error("/login/mfa")),
            Visitor::Anonymous { ended } => {
                let next = urlencode(&self.chrome.path);
                let ended = if *ended { "&ended=1" } else { "" };
                Err(self.redirect_error(&format!("/login?next={next}{ended}")))
            }
        }
    }

    /// The actor, also one who must still enrol a second factor (the account page).
    pub fn enrolling_actor(&self) -> Result<&Actor, WebError> {
        match &self.visitor {
            Visitor::MustEnrol(actor) => Ok(actor),
            _ => self.actor(),
        }
    }

    /// The session ended (timed out or revoked) since the browser's last page.
    pub fn session_ended(&self) -> bool {
        matches!(self.visitor, Visitor::Anonymous { ended: true })
    }

    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// A POST is ours only with the session's token and from our own origin; anything else
    /// is refused before it is read further, and nothing changes.
    /// The form posted in `body`, once its CSRF token and origin are checked: every POST of
    /// the screens reads its form through here.
    pub fn form(&self, body: &[u8]) -> Result<crate::web::form::Submitted, WebError> {
        let form = crate::web::form::Submitted::parse(body);
        self.check_post(form.get("csrf_token"))?;
        Ok(form)
    }

    pub fn check_post(&self, token: Option<&str>) -> Result<(), WebError> {
        let expected = csrf_token(&self.cookie);
        let token_ok = token.is_some_and(|token| {
            token.len() == expected.len() && bool::from(token.as_bytes().ct_eq(expected.as_bytes()))
        });
        if token_ok && self.same_origin {
            Ok(())
        } else {
            Err(self.error(AppError::Forbidden))
        }
    }

    /// Replaces the session cookie (after sign-in or sign-out).
    pub fn set_session(&mut self, cookie: String) {
        self.chrome.csrf = csrf_token(&cookie);
        self.cookie = cookie.clone();
        self.set_cookie = Some(cookie);
    }

    fn session_cookie_header(&self, value: &str) -> String {
        let secure = if is_https(&self.state) {
            "; Secure"
        } else {
            ""
        };
        format!(
            "{}={value}; HttpOnly; SameSite=Lax; Path=/{secure}",
            cookie_name(&self.state)
        )
    }

    fn finish(
        &self,
        mut builder: actix_web::HttpResponseBuilder,
    ) -> actix_web::HttpResponseBuilder {
        if let Some(value) = &self.set_cookie {
            builder.append_header((header::SET_COOKIE, self.session_cookie_header(value)));
        }
        builder
    }

    /// `303 See Other` to `to`.
    pub fn redirect(&self, to: &str) -> HttpResponse {
        let mut builder = HttpResponse::SeeOther();
        builder.insert_header((header::LOCATION, to.to_owned()));
        self.finish(builder).finish()
    }

    /// `303` to `to`, setting the language cookie too.
    pub fn redirect_with_language(&self, to: &str, language: Language) -> HttpResponse {
        let mut builder = HttpResponse::SeeOther();
        builder.insert_header((header::LOCATION, to.to_owned()));
        let secure = if is_https(&self.state) {
            "; Secure"
        } else {
            ""
        };
        builder.append_header((
            header::SET_COOKIE,
            format!(
                "{LANGUAGE_COOKIE}={}; SameSite=Lax; Path=/; Max-Age=31536000{secure}",
                language.as_str()
            ),
        ));
        self.finish(builder).finish()
    }

    fn redirect_error(&self, to: &str) -> WebError {
        WebError {
            chrome: Box::new(self.chrome.clone()),
            error: AppError::Unauthorized,
            redirect: Some(to.to_owned()),
        }
    }

    /// A page of `template`.
    pub fn page(&self, template: &'static str) -> Page<'_> {
        Page {
            web: self,
            template,
            values: self.chrome.values(),
            status: StatusCode::OK,
        }
    }

    /// The error page of `error`.
    pub fn error(&self, error: AppError) -> WebError {
        WebError {
            chrome: Box::new(self.chrome.clone()),
            error,
            redirect: None,
        }
    }
}

pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A page being put together.
pub struct Page<'w> {
    web: &'w Web,
    template: &'static str,
    values: BTreeMap<String, Value>,
    status: StatusCode,
}

impl Page<'_> {
    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> Self {
        self.values
            .insert(name.to_owned(), Value::from_serialize(&value));
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn render(self) -> Result<HttpResponse, WebError> {
        let html = render::render(self.template, &self.values).map_err(|e| {
            self.web.error(AppError::Internal(anyhow::anyhow!(
                "template {}: {e:#}",
                self.template
            )))
        })?;
        Ok(self
            .web
            .finish(HttpResponse::build(self.status))
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

/// An error answered as a page: 404, 403, 409 and the others in words, with the chrome.
#[derive(Debug)]
pub struct WebError {
    pub chrome: Box<Chrome>,
    pub error: AppError,
    /// Not an error but the way on: sign in first, or finish signing in (303).
    pub redirect: Option<String>,
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(to) = &self.redirect {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to.to_owned()))
                .finish();
        }
        error_page(&self.chrome, &self.error)
    }
}

/// The page of an error, for a browser.
pub fn error_page(chrome: &Chrome, error: &AppError) -> HttpResponse {
    let (status, kind) = match error {
        AppError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Forbidden | AppError::SecondFactorRequired { .. } => {
            (StatusCode::FORBIDDEN, "forbidden")
        }
        AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
        AppError::Conflict { .. } | AppError::Duplicate(_) | AppError::PreconditionFailed => {
            (StatusCode::CONFLICT, "conflict")
        }
        AppError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
        AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        AppError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "media_type"),
        AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        AppError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_request"),
        AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        AppError::Internal(cause) => {
            tracing::error!(error = %format!("{cause:#}"), "screen failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    };
    let mut values = chrome.values();
    values.insert("kind".into(), Value::from(kind));
    values.insert("status".into(), Value::from(status.as_u16()));
    let current_status = match error {
        AppError::Conflict {
            current_status: Some(current),
            ..
        } => Value::from(current.as_str()),
        _ => Value::from(()),
    };
    values.insert("current_status".into(), current_status);
    values.insert("back_to".into(), Value::from(back_to(&chrome.path, status)));
    let html = render::render("error.html", &values).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the error page does not render");
        "<!doctype html><title>Error</title><h1>Error</h1>".to_owned()
    });
    let mut response = HttpResponse::build(status);
    if let AppError::TooManyRequests { retry_after_secs } = error {
        response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
    }
    response.content_type("text/html; charset=utf-8").body(html)
}

/// Where an action refused on a request leads back to: the request's page, unless the
/// request itself is what was not found or not allowed.
fn back_to(path: &str, status: StatusCode) -> Option<String> {
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
        return None;
    }
    let path = path.split('?').next().unwrap_or_default();
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("requests"), Some(id), Some(_)) if !id.is_empty() && id != "new" => {
            Some(format!("/requests/{id}"))
        }
        _ => None,
    }
}

/// `result.or_page(&web)?`: an application error becomes the page of that error.
pub trait OrPage<T> {
    fn or_page(self, web: &Web) -> Result<T, WebError>;
}

impl<T> OrPage<T> for Result<T, AppError> {
    fn or_page(self, web: &Web) -> Result<T, WebError> {
        self.map_err(|error| web.error(error))
    }
}
