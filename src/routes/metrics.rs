//! Prometheus scrape endpoint.

use actix_web::{HttpResponse, get, web};

use crate::app::AppError;
use crate::state::AppState;

/// Metrics in the Prometheus text format: requests by route and status with latency
/// histograms, database statements per request by route, database pool usage, outbox depth by
/// status, age of the oldest pending e-mail.
/// Route patterns only, never ids. Keep it on the internal network (the reverse proxy should
/// not publish it).
#[utoipa::path(tag = "operations", responses(
    (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain"),
    crate::http::problem::answers::Unavailable,
))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let text = state.metrics.render(&state.db).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
