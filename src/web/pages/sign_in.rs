//! Registering, confirming the address, signing in (password, then the code), signing out,
//! and resetting a forgotten password. Each calls the API's own use case.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::context::{OrPage, Web, WebError, safe_next, urlencode};
use super::super::i18n;
use super::{FormErrors, field_errors};
use crate::app::web_sessions::{self, Stage, Visitor};
use crate::app::{self, AppError};

/// The choices of languages, each in its own language.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    vec![("fr", "Français"), ("en", "English")]
}

async fn site_choices(web: &Web) -> Result<Vec<(String, String)>, WebError> {
    let sites = app::network::sites(&web.state, None).await.or_page(web)?;
    Ok(sites
        .into_iter()
        .map(|s| (s.site.code, format!("{} — {}", s.site.name, s.site.city)))
        .collect())
}

const REGISTER_FIELDS: &[&str] = &[
    "email",
    "full_name",
    "rpps",
    "specialty",
    "site_code",
    "phone",
    "language",
];

#[derive(Debug, Deserialize)]
pub struct SentQuery {
    sent: Option<String>,
}

/// `GET /register`.
pub async fn register_page(
    web: Web,
    query: web::Query<SentQuery>,
) -> Result<HttpResponse, WebError> {
    if query.sent.is_some() {
        return web
            .page("notice.html")
            .with("notice", "check_mailbox")
            .with("next_href", "/login")
            .render();
    }
    let values = serde_json::json!({"language": web.lang().as_str()});
    register_form(&web, values, &[], StatusCode::OK).await
}

async fn register_form(
    web: &Web,
    values: serde_json::Value,
    errors: &[crate::domain::FieldError],
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let errors = FormErrors::new(web.lang(), errors);
    web.page("register.html")
        .with("values", values)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .with("sites", site_choices(web).await?)
        .with("languages", languages())
        .status(status)
        .render()
}

/// `POST /register`: success and an address already known answer alike.
pub async fn register(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let mut fields: Vec<(&str, Option<super::super::form::Kind>)> =
        REGISTER_FIELDS.iter().map(|f| (*f, None)).collect();
    fields.push(("password", None));
    let json = form.to_json(&fields).unwrap_or_default();
    let registration = serde_json::from_value(json.clone())
        .map_err(|e| web.error(AppError::BadRequest(e.to_string())))?;
    match app::accounts::register(&web.state, web.context.clone(), registration).await {
        Ok(()) => Ok(web.redirect("/register?sent=1")),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            let mut values = json;
            if let Some(map) = values.as_object_mut() {
                map.remove("password");
            }
            register_form(&web, values, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /verify-email?token=…`: a button; the GET does not spend the token (mail scanners
/// follow links).
pub async fn verify_page(
    web: Web,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    web.page("verify_email.html")
        .with("token", query.token.clone().unwrap_or_default())
        .with("failed", false)
        .render()
}

/// `POST /verify-email`: then the sign-in page, with the address filled in.
pub async fn verify(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let token = form.text("token");
    match app::accounts::verify_email(&web.state, web.context.clone(), &token).await {
        Ok(email) => login_form(
            &web,
            LoginNotice {
                verified: true,
                ..LoginNotice::default()
            },
            &email,
            StatusCode::OK,
        ),
        Err(AppError::BadRequest(_)) => web
            .page("verify_email.html")
            .with("token", token)
            .with("failed", true)
            .status(StatusCode::BAD_REQUEST)
            .render(),
        Err(other) => Err(web.error(other)),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    ended: Option<String>,
    reset: Option<String>,
}

#[derive(Debug, Default)]
struct LoginNotice {
    ended: bool,
    verified: bool,
    reset: bool,
    failed: Option<String>,
    next: Option<String>,
}

fn login_form(
    web: &Web,
    notice: LoginNotice,
    email: &str,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    web.page("login.html")
        .with("values", serde_json::json!({ "email": email }))
        .with("errors", serde_json::json!({}))
        .with("ended", notice.ended)
        .with("verified", notice.verified)
        .with("reset", notice.reset)
        .with("failed", notice.failed)
        .with("next", notice.next)
        .status(status)
        .render()
}

/// `GET /login`.
pub async fn login_page(web: Web, query: web::Query<LoginQuery>) -> Result<HttpResponse, WebError> {
    if let Visitor::SignedIn(_) = web.visitor {
        return Ok(web.redirect(&safe_next(query.next.as_deref(), "/")));
    }
    login_form(
        &web,
        LoginNotice {
            ended: query.ended.is_some() || web.session_ended(),
            reset: query.reset.is_some(),
            next: query.next.as_deref().map(|n| safe_next(Some(n), "/")),
            ..LoginNotice::default()
        },
        "",
        StatusCode::OK,
    )
}

/// `POST /login`: the user's home (or `?next=`, a local path only), the second step, or the
/// enrolment of a second factor.
pub async fn login(
    mut web: Web,
    query: web::Query<LoginQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let email = form.text("email");
    let next = safe_next(query.next.as_deref(), "/");
    match web_sessions::sign_in(
        &web.state,
        web.context.clone(),
        &email,
        form.text("password"),
    )
    .await
    {
        Ok(opened) => {
            web.set_session(opened.cookie);
            Ok(web.redirect(&match opened.stage {
                Stage::SignedIn => next,
                Stage::AwaitingSecondFactor => format!("/login/mfa?next={}", urlencode(&next)),
                Stage::MustEnrol => "/account".to_owned(),
            }))
        }
        Err(AppError::Unauthorized) => login_form(
            &web,
            LoginNotice {
                failed: Some(i18n::text(web.lang(), "login.failed", &[])),
                next: query.next.clone().map(|n| safe_next(Some(&n), "/")),
                ..LoginNotice::default()
            },
            &email,
            StatusCode::UNAUTHORIZED,
        ),
        Err(AppError::TooManyRequests { retry_after_secs }) => login_form(
            &web,
            LoginNotice {
                failed: Some(i18n::text(
                    web.lang(),
                    "login.throttled",
                    &[("minutes", retry_after_secs.div_ceil(60).to_string())],
                )),
                ..LoginNotice::default()
            },
            &email,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(other) => Err(web.error(other)),
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn mfa_form(
    web: &Web,
    next: Option<String>,
    errors: &[crate::domain::FieldError],
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let errors = FormErrors::new(web.lang(), errors);
    web.page("login_mfa.html")
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .with("next", next)
        .status(status)
        .render()
}

/// `GET /login/mfa`: the code, after the password.
pub async fn mfa_page(web: Web, query: web::Query<NextQuery>) -> Result<HttpResponse, WebError> {
    if !matches!(web.visitor, Visitor::AwaitingSecondFactor { .. }) {
        return Ok(web.redirect("/login"));
    }
    mfa_form(&web, query.next.clone(), &[], StatusCode::OK)
}

/// `POST /login/mfa`: a TOTP or recovery code.
pub async fn mfa(
    mut web: Web,
    query: web::Query<NextQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    if !matches!(web.visitor, Visitor::AwaitingSecondFactor { .. }) {
        return Ok(web.redirect("/login"));
    }
    let next = safe_next(query.next.as_deref(), "/");
    let cookie = web.cookie().to_owned();
    match web_sessions::second_step(&web.state, web.context.clone(), &cookie, form.text("code"))
        .await
    {
        Ok(opened) => {
            web.set_session(opened.cookie);
            Ok(web.redirect(&next))
        }
        Err(AppError::Unauthorized) => mfa_form(
            &web,
            query.next.clone(),
            &[crate::domain::FieldError::new(
                "code",
                "is not a valid code",
            )],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(other) => Err(web.error(other)),
    }
}

/// `POST /logout`: the session ends on the server.
pub async fn logout(mut web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let cookie = web.cookie().to_owned();
    web_sessions::sign_out(&web.state, web.context.clone(), &cookie)
        .await
        .or_page(&web)?;
    let (seed, _) = crate::auth::new_opaque_token();
    web.set_session(seed);
    // The home page then clears every draft the browser kept.
    Ok(web.redirect("/?signed_out=1"))
}

/// `GET /password-reset`.
pub async fn reset_ask_page(
    web: Web,
    query: web::Query<SentQuery>,
) -> Result<HttpResponse, WebError> {
    if query.sent.is_some() {
        return web
            .page("notice.html")
            .with("notice", "reset_sent")
            .with("next_href", None::<String>)
            .render();
    }
    web.page("password_reset.html")
        .with("values", serde_json::json!({}))
        .with("errors", serde_json::json!({}))
        .render()
}

/// `POST /password-reset`: the same answer whether the address is known or not.
pub async fn reset_ask(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    app::accounts::request_password_reset(&web.state, web.context.clone(), &form.text("email"))
        .await
        .or_page(&web)?;
    Ok(web.redirect("/password-reset?sent=1"))
}

fn reset_form(
    web: &Web,
    token: String,
    errors: &[crate::domain::FieldError],
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let errors = FormErrors::new(web.lang(), errors);
    web.page("reset_password.html")
        .with("token", token)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .status(status)
        .render()
}

/// `GET /reset-password?token=…`: the e-mail's link; the GET spends nothing.
pub async fn reset_page(web: Web, query: web::Query<TokenQuery>) -> Result<HttpResponse, WebError> {
    reset_form(
        &web,
        query.token.clone().unwrap_or_default(),
        &[],
        StatusCode::OK,
    )
}

/// `POST /reset-password`: every session of the user ends; then the sign-in page.
pub async fn reset(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let token = form.text("token");
    match app::accounts::reset_password(
        &web.state,
        web.context.clone(),
        &token,
        form.text("password"),
    )
    .await
    {
        Ok(()) => Ok(web.redirect("/login?reset=1")),
        Err(AppError::BadRequest(_)) => reset_form(
            &web,
            token,
            &[crate::domain::FieldError::new(
                "password",
                "This link is unknown, already used or expired.",
            )],
            StatusCode::BAD_REQUEST,
        ),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            reset_form(&web, token, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
