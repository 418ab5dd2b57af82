//! The middleware every answer goes through: correlation id (`X-Request-Id`, generated when
//! absent, echoed), one log line per request (method, path, status, duration — never the query
//! or the body), security headers, CORS for the configured origins only, an audit row for
//! every refused access (401, 403), and problem+json for errors raised outside handlers
//! (unknown route, wrong method).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use tracing::Instrument;

use crate::app::AppError;
use crate::audit::{self, Outcome};
use crate::http::current_user::AuthenticatedActor;
use crate::http::problem::problem_response;
use crate::http::request_context::CorrelationId;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let valid = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    valid.then(|| value.to_owned())
}

pub async fn around_every_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut()
        .insert(CorrelationId(request_id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let is_docs = path.starts_with("/docs");
    let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
    let metrics = state.as_ref().map(|state| Arc::clone(&state.metrics));
    let policy = Policy {
        hsts: state
            .as_ref()
            .is_some_and(|s| s.settings.server.public_url.starts_with("https://")),
        cors_origin: state.as_ref().and_then(|state| {
            let origin = req.headers().get(header::ORIGIN)?.to_str().ok()?;
            let allowed = &state.settings.server.cors_allowed_origins;
            allowed
                .iter()
                .any(|o| o == origin)
                .then(|| origin.to_owned())
        }),
        is_docs,
    };
    let span = tracing::info_span!("http", request_id = %request_id, %method, %path);
    let started = Instant::now();

    // Answered here, before any route: TRACE, and a CORS preflight from an allowed origin.
    let early = if method == actix_web::http::Method::TRACE {
        Some(problem_response(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "TRACE is not allowed.".into(),
        ))
    } else if method == actix_web::http::Method::OPTIONS
        && policy.cors_origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        Some(
            actix_web::HttpResponse::NoContent()
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    "GET, POST, PUT, PATCH, DELETE",
                ))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "authorization, content-type, if-match, idempotency-key, x-request-id",
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
                .finish(),
        )
    } else {
        None
    };
    if let Some(response) = early {
        let (req, _) = req.into_parts();
        return finish(
            ServiceResponse::new(req, response),
            &request_id,
            &policy,
            &span,
            started,
            0,
            metrics.as_deref(),
        );
    }

    let statements = Arc::new(AtomicU64::new(0));
    let handled = next.call(req).instrument(span.clone());
    let response = match crate::db::REQUEST_STATEMENTS
        .scope(Arc::clone(&statements), handled)
        .await
    {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            return Err(error);
        }
    };
    let response = if wants_html(&response) {
        html_for_bare_errors(response)
    } else {
        problem_for_bare_errors(response)
    };
    if let Some(state) = &state {
        audit_refusal(state, &response).await;
    }
    let statements = statements.load(Ordering::Relaxed);
    finish(
        response,
        &request_id,
        &policy,
        &span,
        started,
        statements,
        metrics.as_deref(),
    )
}

/// What the headers of an answer depend on.
struct Policy {
    /// `server.public_url` is https: browsers must keep to https.
    hsts: bool,
    /// The request's `Origin`, when it is one of `server.cors_allowed_origins`.
    cors_origin: Option<String>,
    is_docs: bool,
}

/// A 401 or 403 of the API is written to the audit trail (sign-in endpoints audit their own
/// failures), with the caller when known and the method and path (ids only, never a query).
async fn audit_refusal(state: &AppState, response: &ServiceResponse<BoxBody>) {
    let status = response.status().as_u16();
    let path = response.request().path();
    if !matches!(status, 401 | 403)
        || !path.starts_with("/api/v1/")
        || path.starts_with("/api/v1/auth/")
    {
        return;
    }
    let mut context = crate::http::request_context::context_of(response.request());
    if let Some(actor) = response.request().extensions().get::<AuthenticatedActor>() {
        context = context.with_actor(&actor.0);
    }
    let target = format!("{} {}", response.request().method(), truncate(path, 200));
    let action = if status == 401 {
        "access.unauthenticated"
    } else {
        "access.forbidden"
    };
    let written = state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &context,
                action,
                "route",
                Some(&target),
                Outcome::Denied,
            )
        })
        .await;
    if let Err(error) = written {
        tracing::warn!(%error, "could not audit a refused access");
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn finish(
    mut response: ServiceResponse<BoxBody>,
    request_id: &str,
    policy: &Policy,
    span: &tracing::Span,
    started: Instant,
    statements: u64,
    metrics: Option<&crate::metrics::Metrics>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The API sends no referrer at all. Pages (HTML) send one to their own origin only: with
    // `no-referrer` a browser posts their forms with `Origin: null`, and the CSRF check wants
    // the real one.
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if is_html && !policy.is_docs {
            "same-origin"
        } else {
            "no-referrer"
        }),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if policy.is_docs {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        );
    } else {
        // Pages hold health data: never cached, but the hashed static files are (immutable).
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        // A file shown in the browser brings its own (stricter still) policy.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                ),
            );
        }
    }
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if let Some(origin) = &policy.cors_origin
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("etag, location, retry-after, x-request-id"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = match response.request().method().as_str() {
        known @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => known,
        _ => "other",
    };
    if let Some(metrics) = metrics {
        metrics.observe_request(method, &route, status, elapsed, statements);
    }
    let elapsed_ms = elapsed * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
    });
    Ok(response)
}

/// A browser's request outside the API (`Accept: text/html`): its errors are pages.
fn wants_html(response: &ServiceResponse<BoxBody>) -> bool {
    wants_html_request(response.request())
}

/// A browser asking for a page (not the API).
fn wants_html_request(request: &actix_web::HttpRequest) -> bool {
    !request.path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// Errors answered by the framework itself (an unknown path, a wrong method) become the
/// error page for a browser; the screens' own errors are pages already.
fn html_for_bare_errors(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let error = match status.as_u16() {
        404 | 405 => AppError::NotFound,
        413 => AppError::PayloadTooLarge,
        _ => AppError::Internal(anyhow::anyhow!("{status}")),
    };
    let chrome = crate::web::Chrome::bare(response.request());
    let page = crate::web::error_page(&chrome, &error);
    response.into_response(page)
}

/// Errors answered by the framework itself (404 route, 405 method) become problem+json.
fn problem_for_bare_errors(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/problem+json"));
    if is_problem {
        return response;
    }
    let replacement = match status.as_u16() {
        404 => AppError::NotFound.error_response(),
        405 => problem_response(
            status,
            "method-not-allowed",
            "This method is not allowed here.".into(),
        ),
        413 => AppError::PayloadTooLarge.error_response(),
        _ => problem_response(
            status,
            "error",
            status.canonical_reason().unwrap_or("Error").into(),
        ),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut response = response.into_response(replacement);
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// Answers requests no route took: 405 with `Allow` when the path exists under other methods
/// (the OpenAPI document lists every path), else 404.
pub async fn no_route(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if req.method() == actix_web::http::Method::GET && wants_html_request(&req) {
        // A browser's unknown page: the error page with the visitor's own header (signed in,
        // language), as every other page.
        return match <crate::web::Web as actix_web::FromRequest>::extract(&req).await {
            Ok(web) => web.error(AppError::NotFound).error_response(),
            Err(error) => error.error_response(),
        };
    }
    static ROUTES: std::sync::LazyLock<Vec<(actix_web::dev::ResourceDef, Vec<String>)>> =
        std::sync::LazyLock::new(|| {
            crate::openapi::build()
                .paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let methods = [
                        ("GET", item.get.is_some()),
                        ("POST", item.post.is_some()),
                        ("PUT", item.put.is_some()),
                        ("PATCH", item.patch.is_some()),
                        ("DELETE", item.delete.is_some()),
                    ]
                    .into_iter()
                    .filter(|(_, present)| *present)
                    .map(|(method, _)| method.to_owned())
                    .collect();
                    (actix_web::dev::ResourceDef::new(path.as_str()), methods)
                })
                .collect()
        });
    match ROUTES.iter().find(|(def, _)| def.is_match(req.path())) {
        Some((_, methods)) => {
            let mut response = problem_response(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                format!("This path accepts {}.", methods.join(", ")),
            );
            if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            response
        }
        None => AppError::NotFound.error_response(),
    }
}
