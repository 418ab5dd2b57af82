use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
pub struct Period {
    /// The first day (YYYY-MM-DD, the center's time zone), included.
    pub from: Option<String>,
    /// The last day, included.
    pub to: Option<String>,
}

/// A CSV file.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
pub struct Csv(#[allow(dead_code)] String);

/// The national rare-disease data set (BNDMR, SDM-MR): one row per request whose opinion was
/// first delivered in the period, the activity "avis sur dossier", with the items Consilium
/// holds (the README maps each column to its item). Admin only; audited.
#[utoipa::path(tag = "exports", params(Period), security(("bearer" = [])), responses(
    (status = 200, body = Csv, content_type = "text/csv"),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/admin/export/sdm-mr.csv")]
pub async fn export_sdm_mr(
    state: web::Data<AppState>,
    user: CurrentUser,
    Query(query): Query<Period>,
) -> Result<HttpResponse, AppError> {
    let csv =
        app::exports::sdm_mr(&state, &user, query.from.as_deref(), query.to.as_deref()).await?;
    let name = format!(
        "sdm-mr-{}-{}.csv",
        query.from.as_deref().unwrap_or_default(),
        query.to.as_deref().unwrap_or_default()
    );
    Ok(crate::routes::csv_response(&name, csv))
}
