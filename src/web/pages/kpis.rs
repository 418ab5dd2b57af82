//! `/kpis`: the activity figures for coordinators and admins — a period, a staff and a
//! requester's site chosen in the URL (a plain GET form), three charts drawn on the server,
//! each followed by a table of its numbers, a table per staff, and the CSV of the same figures
//! (`/kpis.csv`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{Datelike, NaiveDate};

use super::FormErrors;
use crate::app::kpis::Kpis;
use crate::app::{self, AppError};
use crate::domain::account::Role;
use crate::web::charts::{Series, bars};
use crate::web::context::{OrPage, Web, WebError};
use crate::web::i18n;

/// The API's query, as the form sends it.
pub use crate::routes::admin::kpis::KpiQuery;

/// The last twelve months to today, by default.
fn default_period(today: NaiveDate) -> (String, String) {
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(today);
    (first.to_string(), today.to_string())
}

fn charts(web: &Web, kpis: &Kpis) -> [String; 3] {
    let t = |key: &str| i18n::text(web.lang(), key, &[]);
    let months: Vec<String> = kpis
        .months
        .iter()
        .map(|m| m.month.clone().unwrap_or_default())
        .collect();
    let of = |f: &dyn Fn(&app::kpis::KpiRow) -> Option<f64>| -> Vec<Option<f64>> {
        kpis.months.iter().map(f).collect()
    };
    let (submitted, urgent, to_meeting, to_opinion, fill) = (
        t("kpis.submitted"),
        t("kpis.urgent"),
        t("kpis.to_meeting"),
        t("kpis.to_opinion"),
        t("kpis.fill"),
    );
    [
        bars(
            &t("kpis.submitted_chart"),
            &months,
            &[
                Series {
                    label: &submitted,
                    values: of(&|m| Some(m.submitted as f64)),
                },
                Series {
                    label: &urgent,
                    values: of(&|m| Some(*m.by_urgency.get("urgent").unwrap_or(&0) as f64)),
                },
            ],
            false,
        ),
        bars(
            &t("kpis.delays_chart"),
            &months,
            &[
                Series {
                    label: &to_meeting,
                    values: of(&|m| m.to_meeting.median_days.map(|d| d as f64)),
                },
                Series {
                    label: &to_opinion,
                    values: of(&|m| m.to_opinion.median_days.map(|d| d as f64)),
                },
            ],
            false,
        ),
        bars(
            &t("kpis.meetings_chart"),
            &months,
            &[Series {
                label: &fill,
                values: of(&|m| m.fill_ratio),
            }],
            true,
        ),
    ]
}

/// `GET /kpis`: the figures of the period (the last twelve months by default).
pub async fn page(web: Web, query: web::Query<KpiQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    actor
        .require_any(&[Role::Coordinator, Role::Admin])
        .map_err(|e| web.error(e))?;
    let mut query = query.into_inner();
    if query.from.is_none() && query.to.is_none() {
        let zone: chrono_tz::Tz = web
            .state
            .center_zone()
            .await
            .parse()
            .unwrap_or(chrono_tz::Europe::Paris);
        let (from, to) = default_period(crate::clock::now().with_timezone(&zone).date_naive());
        (query.from, query.to) = (Some(from), Some(to));
    }
    let staffs = app::network::staffs(&web.state).await.or_page(&web)?;
    let sites = app::network::sites(&web.state, None).await.or_page(&web)?;
    let staff_options: Vec<(String, String)> = staffs
        .iter()
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let site_options: Vec<(String, String)> = sites
        .iter()
        .map(|s| (s.site.code.clone(), s.site.name.clone()))
        .collect();
    let figures = app::kpis::figures(&web.state, actor, query.filter()).await;
    let (kpis, errors) = match figures {
        Ok(kpis) => (Some(kpis), Vec::new()),
        Err(AppError::Validation(errors)) => (None, errors),
        Err(other) => return Err(web.error(other)),
    };
    let errors = FormErrors::new(web.lang(), &errors);
    let charts = kpis.as_ref().map(|k| charts(&web, k));
    let staff_names: std::collections::BTreeMap<String, String> = staffs
        .iter()
        .map(|s| (s.code.clone(), s.name.clone()))
        .collect();
    let csv_query = serde_urlencoded::to_string(&query).unwrap_or_default();
    web.page("kpis.html")
        .with("values", &query)
        .with("errors", &errors.fields)
        .with("summary", &errors.summary)
        .with("staff_options", staff_options)
        .with("site_options", site_options)
        .with("staff_names", staff_names)
        .with("kpis", &kpis)
        .with("charts", charts)
        .with("csv_query", csv_query)
        .status(if errors.summary.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        })
        .render()
}

/// `GET /kpis.csv`: the same figures as a file (the API's), or the page with its errors.
pub async fn csv(web: Web, query: web::Query<KpiQuery>) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    match app::kpis::figures_csv(&web.state, actor, query.filter()).await {
        Ok(csv) => Ok(crate::routes::csv_response("kpis.csv", csv)),
        Err(AppError::Validation(_)) => page(web, query).await,
        Err(error) => Err(web.error(error)),
    }
}
