//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::db;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct HealthStatus {
    pub status: &'static str,
}

/// 200 while the process runs.
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthStatus)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthStatus { status: "ok" })
}

/// 200 when the database answers, else 503.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = HealthStatus),
    crate::http::problem::answers::Unavailable,
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .db
        .run(|conn| db::ping(conn).map_err(|e| AppError::Unavailable(e.to_string())))
        .await?;
    Ok(HttpResponse::Ok().json(HealthStatus { status: "ready" }))
}
