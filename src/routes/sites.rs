//! The network's sites.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::network::Site;
use crate::app::{self, AppError};
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct SitesQuery {
    /// A French département code (`54`, `2A`, `974`): the sites serving it, nearest first.
    pub departement: Option<String>,
}

/// The network's sites; with `?departement=` the sites that serve it, nearest first.
#[utoipa::path(tag = "network", params(SitesQuery), responses(
    (status = 200, body = Vec<Site>),
    crate::http::problem::answers::Invalid,
))]
#[get("/sites")]
pub async fn list_sites(
    state: web::Data<AppState>,
    query: Query<SitesQuery>,
) -> Result<HttpResponse, AppError> {
    let sites = app::network::sites(&state, query.0.departement.as_deref()).await?;
    Ok(HttpResponse::Ok().json(sites))
}
