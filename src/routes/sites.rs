//! The network's sites.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db;
use crate::domain::departement;
use crate::error::ApiError;
use crate::extract::Query;
use crate::startup::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Site {
    pub code: String,
    pub name: String,
    /// `coordinator` | `constituent` | `competence`
    pub kind: String,
    pub hospital: String,
    pub city: String,
    pub address: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
    /// With `?departement=`: distance from that département's prefecture, in km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SitesQuery {
    /// A French département code (`54`, `2A`, `974`): the sites serving it, nearest first.
    pub departement: Option<String>,
}

/// How many sites answer a département query: the nearest ones.
const NEAREST: usize = 5;

/// The network's sites; with `?departement=` the sites that serve it, nearest first.
#[utoipa::path(tag = "network", params(SitesQuery), responses(
    (status = 200, body = Vec<Site>),
    (status = 422, body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/sites")]
pub async fn list_sites(
    state: web::Data<AppState>,
    query: Query<SitesQuery>,
) -> Result<HttpResponse, ApiError> {
    let origin =
        match query.0.departement.as_deref() {
            None => None,
            Some(code) => Some(departement::find(code).ok_or_else(|| {
                ApiError::invalid("departement", "is not a French département code")
            })?),
        };
    let rows = state.db.run(|conn| Ok(db::network::sites(conn)?)).await?;
    let mut sites: Vec<Site> = rows
        .into_iter()
        .map(|row| Site {
            distance_km: origin.map(|o| {
                (departement::distance_km(o.latitude, o.longitude, row.latitude, row.longitude)
                    * 10.0)
                    .round()
                    / 10.0
            }),
            code: row.code,
            name: row.name,
            kind: row.kind,
            hospital: row.hospital,
            city: row.city,
            address: row.address,
            departement: row.departement,
            latitude: row.latitude,
            longitude: row.longitude,
        })
        .collect();
    if origin.is_some() {
        sites.sort_by(|a, b| {
            a.distance_km
                .partial_cmp(&b.distance_km)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        sites.truncate(NEAREST);
    }
    Ok(HttpResponse::Ok().json(sites))
}
