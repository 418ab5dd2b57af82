use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::kpis::Kpis;
use crate::app::{self, AppError};
use crate::http::current_user::CurrentUser;
use crate::http::extract::Query;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, serde::Serialize, IntoParams)]
pub struct KpiQuery {
    /// The first day (YYYY-MM-DD, the center's time zone), included.
    pub from: Option<String>,
    /// The last day, included (at most 400 days after `from`).
    pub to: Option<String>,
    /// Only this staff's figures.
    pub staff: Option<String>,
    /// Only the requests of requesters of this site (the meetings' figures are the staffs').
    pub site: Option<String>,
}

impl KpiQuery {
    pub fn filter(&self) -> app::kpis::KpiFilter<'_> {
        app::kpis::KpiFilter {
            from: self.from.as_deref(),
            to: self.to.as_deref(),
            staff: self.staff.as_deref(),
            site: self.site.as_deref(),
        }
    }
}

/// The activity figures of the period, per month (the center's calendar) and per staff:
/// requests submitted by topic, urgency and requester's site; the delays from submission to
/// the meeting that discussed them and to the delivered opinion (median and 90th percentile,
/// whole days); carry-overs, requests for information, rejections; meetings held, their fill
/// ratio and the share with the quorum met. Coordinators and admins; audited.
#[utoipa::path(tag = "figures", params(KpiQuery), security(("bearer" = [])), responses(
    (status = 200, body = Kpis),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/admin/kpis")]
pub async fn kpis(
    state: web::Data<AppState>,
    user: CurrentUser,
    Query(query): Query<KpiQuery>,
) -> Result<HttpResponse, AppError> {
    let kpis = app::kpis::figures(&state, &user, query.filter()).await?;
    Ok(HttpResponse::Ok().json(kpis))
}

/// The same figures as CSV, one row per month and staff (a column per topic, urgency and
/// network site). Coordinators and admins; audited.
#[utoipa::path(tag = "figures", params(KpiQuery), security(("bearer" = [])), responses(
    (status = 200, body = super::export_sdm_mr::Csv, content_type = "text/csv"),
    crate::http::problem::answers::Forbidden,
    crate::http::problem::answers::Invalid,
))]
#[get("/admin/kpis.csv")]
pub async fn kpis_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    Query(query): Query<KpiQuery>,
) -> Result<HttpResponse, AppError> {
    let csv = app::kpis::figures_csv(&state, &user, query.filter()).await?;
    Ok(crate::routes::csv_response("kpis.csv", csv))
}
