//! The account page: the profile, the language, a password change, and the second factor
//! (enrol with a QR code drawn as inline SVG, confirm with a code, recovery codes shown once,
//! remove with a fresh code).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::context::{OrPage, Web, WebError};
use super::super::i18n;
use super::sign_in::languages;
use super::{FormErrors, field_errors};
use crate::app::{self, Actor, web_sessions};
use crate::domain::FieldError;

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// What the account page shows besides the profile.
#[derive(Default)]
struct AccountState {
    done: Option<String>,
    errors: Vec<FieldError>,
    enrolment: Option<serde_json::Value>,
    recovery_codes: Option<Vec<String>>,
    /// A calendar feed's address, shown once, when it is made.
    feed_url: Option<String>,
}

fn qr_svg(uri: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(uri.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: no XML declaration.
    match svg.find("<svg") {
        Some(at) => svg[at..].to_owned(),
        None => svg,
    }
}

fn enrolment(secret: &str, otpauth_uri: &str) -> serde_json::Value {
    serde_json::json!({"secret": secret, "qr_svg": qr_svg(otpauth_uri)})
}

async fn render(
    web: &Web,
    actor: &Actor,
    state: AccountState,
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let errors = FormErrors::new(web.lang(), &state.errors);
    let feed_since = app::calendars::feed_since(&web.state, actor)
        .await
        .or_page(web)?;
    let known = ["language", "password", "mfa_removed", "feed_removed"];
    let done = state.done.filter(|d| known.contains(&d.as_str()));
    web.page("account.html")
        .with("profile", &actor.profile)
        .with(
            "must_enrol",
            app::sessions::lacks_second_factor(&web.state, actor),
        )
        .with("enrolled", actor.second_factor_enrolled)
        .with("done", done)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .with("languages", languages())
        .with("enrolment", state.enrolment)
        .with("recovery_codes", state.recovery_codes)
        .with("feed_url", state.feed_url)
        .with("feed_since", feed_since.map(|at| at.to_rfc3339()))
        .status(status)
        .render()
}

/// `GET /account`.
pub async fn page(web: Web, query: web::Query<DoneQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.enrolling_actor()?;
    render(
        &web,
        actor,
        AccountState {
            done: query.done.clone(),
            ..AccountState::default()
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /me`: the language.
pub async fn language(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let Some(language) = i18n::parse_language(&form.text("language")) else {
        let errors = vec![FieldError::new("language", "must be fr or en")];
        return render(
            &web,
            actor,
            AccountState {
                errors,
                ..AccountState::default()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    app::accounts::set_language(&web.state, actor, language)
        .await
        .or_page(&web)?;
    Ok(web.redirect_with_language("/account?done=language", language))
}

/// `POST /me/password`: every session ends, this one too; the user signs in again.
pub async fn password(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    match app::accounts::change_password(
        &web.state,
        actor,
        form.text("current_password"),
        form.text("password"),
    )
    .await
    {
        Ok(()) => Ok(web.redirect("/login?reset=1")),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            render(
                &web,
                actor,
                AccountState {
                    errors,
                    ..AccountState::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /me/mfa/totp`: a new secret, shown as a QR code and as text.
pub async fn enrol(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let actor = web.enrolling_actor()?;
    let started = app::second_factor::enrol(&web.state, actor)
        .await
        .or_page(&web)?;
    render(
        &web,
        actor,
        AccountState {
            enrolment: Some(enrolment(&started.secret, &started.otpauth_uri)),
            ..AccountState::default()
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /me/mfa/totp/confirm`: the first code turns it on; the recovery codes are shown once.
pub async fn confirm(mut web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.enrolling_actor()?.clone();
    match app::second_factor::confirm(&web.state, &actor, form.text("code")).await {
        Ok(codes) => {
            let cookie = web.cookie().to_owned();
            let renewed = web_sessions::after_enrolment(&web.state, &cookie)
                .await
                .or_page(&web)?;
            web.set_session(renewed);
            render(
                &web,
                &actor,
                AccountState {
                    recovery_codes: Some(codes.recovery_codes),
                    ..AccountState::default()
                },
                StatusCode::OK,
            )
            .await
        }
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            // The pending secret is unchanged: show it again (as the browser sent it back).
            let secret = form.text("secret");
            let uri = crate::auth::totp::parse_secret(&secret)
                .map(|bytes| {
                    crate::auth::totp::otpauth_uri(
                        &bytes,
                        &web.state.settings.auth.issuer,
                        &actor.email,
                    )
                })
                .unwrap_or_default();
            render(
                &web,
                &actor,
                AccountState {
                    errors,
                    enrolment: Some(enrolment(&secret, &uri)),
                    ..AccountState::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /me/mfa/totp/remove`: with a fresh code.
pub async fn remove(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    match app::second_factor::remove(&web.state, actor, form.text("code")).await {
        Ok(()) => Ok(web.redirect("/account?done=mfa_removed")),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            render(
                &web,
                actor,
                AccountState {
                    errors,
                    ..AccountState::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /me/calendar-feed`: a new feed address, shown once (the previous one stops working).
pub async fn create_feed(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let actor = web.actor()?;
    let url = app::calendars::create_feed(&web.state, actor)
        .await
        .or_page(&web)?;
    render(
        &web,
        actor,
        AccountState {
            feed_url: Some(url),
            ..AccountState::default()
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /me/calendar-feed/remove`: the feed address stops working.
pub async fn remove_feed(web: Web, body: web::Bytes) -> Result<HttpResponse, WebError> {
    web.form(&body)?;
    let actor = web.actor()?;
    app::calendars::remove_feed(&web.state, actor)
        .await
        .or_page(&web)?;
    Ok(web.redirect("/account?done=feed_removed#calendar"))
}
