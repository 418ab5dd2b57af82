//! The network as its users read it: the sites (the nearest to a département first), the
//! staffs with their rules, and the experts who sit in each staff.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db;
use crate::domain::account::Role;
use crate::domain::departement;
use crate::domain::ids::UserId;
use crate::domain::network::SiteInfo;
use crate::domain::request_form::Topic;
use crate::state::AppState;

/// A site, with its distance when asked for the sites nearest a département.
#[derive(Debug, Serialize, ToSchema)]
pub struct Site {
    #[serde(flatten)]
    pub site: SiteInfo,
    /// With `?departement=`: distance from that département's prefecture, in km.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// How many sites answer a département query: the nearest ones.
const NEAREST: usize = 5;

/// The network's sites; for a département, the sites that serve it, nearest first.
pub async fn sites(state: &AppState, departement: Option<&str>) -> Result<Vec<Site>, AppError> {
    let origin =
        match departement {
            None => None,
            Some(code) => Some(departement::find(code).ok_or_else(|| {
                AppError::invalid("departement", "is not a French département code")
            })?),
        };
    let rows = state.db.run(db::network::sites).await?;
    let mut sites: Vec<Site> = rows
        .into_iter()
        .map(|site| Site {
            distance_km: origin.map(|o| {
                (departement::distance_km(o.latitude, o.longitude, site.latitude, site.longitude)
                    * 10.0)
                    .round()
                    / 10.0
            }),
            site,
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
    Ok(sites)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Staff {
    pub code: String,
    pub name: String,
    /// The topics of the requests this staff takes.
    pub topics: Vec<Topic>,
    /// RFC 5545 recurrence rule, in the center's local time.
    pub rrule: String,
    pub dtstart: String,
    /// Local start time `HH:MM`.
    pub start_time: String,
    pub time_zone: String,
    pub duration_minutes: i64,
    /// Cases per meeting.
    pub capacity: i64,
    /// Submissions close this long before a meeting starts.
    pub cutoff_minutes: i64,
    /// Distinct specialties a meeting needs for its opinions to meet the quorum.
    pub quorum_specialties: i64,
}

/// The staffs with their recurrence, capacity, cut-off and topics: read once per process (the
/// network is written at start-up and changes only with a restart).
pub async fn staffs(state: &AppState) -> Result<Arc<Vec<Staff>>, AppError> {
    if let Some(staffs) = state.staffs.get() {
        return Ok(staffs.clone());
    }
    let rows = state.db.run(db::network::staffs_with_zone).await?;
    let staffs = Arc::new(
        rows.into_iter()
            .map(|(row, time_zone)| Staff {
                topics: serde_json::from_str(&row.topics).unwrap_or_default(),
                code: row.code,
                name: row.name,
                rrule: row.rrule,
                dtstart: row.dtstart,
                start_time: row.start_time,
                time_zone,
                duration_minutes: row.duration_minutes,
                capacity: row.capacity,
                cutoff_minutes: row.cutoff_minutes,
                quorum_specialties: row.quorum_specialties,
            })
            .collect(),
    );
    Ok(state.staffs.get_or_init(|| staffs).clone())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffExperts {
    /// Users holding the expert role who sit in this staff's meetings.
    pub user_ids: Vec<String>,
}

/// Sets the experts who sit in a staff: they read its meetings' agendas and cases, and draft
/// the opinions.
pub async fn set_experts(
    state: &AppState,
    actor: &Actor,
    staff_code: &str,
    mut user_ids: Vec<UserId>,
) -> Result<StaffExperts, AppError> {
    actor.require_any(&[Role::Admin, Role::Coordinator])?;
    user_ids.sort();
    user_ids.dedup();
    if user_ids.len() > 200 {
        return Err(AppError::invalid("user_ids", "at most 200 experts"));
    }
    let (context, code) = (actor.context.clone(), staff_code.to_owned());
    state
        .db
        .write(move |conn| {
            db::network::staff(conn, &code)?.ok_or(AppError::NotFound)?;
            for (i, id) in user_ids.iter().enumerate() {
                if !db::users::roles(conn, id)?.contains(&Role::Expert) {
                    return Err(AppError::invalid(
                        format!("user_ids[{i}]"),
                        "is not a user with the expert role",
                    ));
                }
            }
            db::meetings::set_staff_experts(conn, &code, &user_ids)?;
            audit::record(
                conn,
                &context,
                "staff.set_experts",
                "staff",
                Some(&code),
                Outcome::Allowed,
            )?;
            Ok(StaffExperts {
                user_ids: db::meetings::staff_expert_ids(conn, &code)?,
            })
        })
        .await
}

/// A staff and its next meeting still open for submissions.
#[derive(Debug, Serialize)]
pub struct StaffAhead {
    pub staff: Staff,
    pub next_meeting: Option<super::meetings::MeetingView>,
    /// When submissions close for that meeting.
    pub cutoff: Option<chrono::DateTime<chrono::Utc>>,
}

/// Each staff with its next planned meeting whose cut-off has not passed: what the home page
/// and the request form show.
pub async fn staffs_ahead(state: &AppState) -> Result<Vec<StaffAhead>, AppError> {
    let mut ahead = Vec::new();
    for staff in staffs(state).await?.iter().cloned() {
        let now = crate::clock::now();
        let cutoff = chrono::Duration::minutes(staff.cutoff_minutes);
        let next_meeting = super::meetings::of_staff(state, &staff.code, None, None)
            .await?
            .into_iter()
            .filter(|m| m.status == crate::domain::meeting::MeetingStatus::Planned)
            .find(|m| m.starts_at - cutoff > now);
        ahead.push(StaffAhead {
            cutoff: next_meeting.as_ref().map(|m| m.starts_at - cutoff),
            next_meeting,
            staff,
        });
    }
    Ok(ahead)
}

/// One staff and the experts who sit in it.
#[derive(Debug, Serialize)]
pub struct StaffWithExperts {
    pub code: String,
    pub name: String,
    pub expert_ids: Vec<String>,
}

/// Who may sit in the staffs (the users with the expert role) and who sits in each, for the
/// screens that set them: `1 + staffs` queries (a handful of staffs per center).
pub async fn experts_by_staff(
    state: &AppState,
    actor: &Actor,
) -> Result<(Vec<super::views::PersonRef>, Vec<StaffWithExperts>), AppError> {
    actor.require_any(&[Role::Admin, Role::Coordinator])?;
    state
        .db
        .run(|conn| {
            let experts = db::users::with_role(conn, Role::Expert)?
                .into_iter()
                .map(|u| super::views::PersonRef {
                    id: u.id,
                    full_name: u.full_name,
                })
                .collect();
            let mut staffs = Vec::new();
            for (staff, _) in db::network::staffs_with_zone(conn)? {
                staffs.push(StaffWithExperts {
                    expert_ids: db::meetings::staff_expert_ids(conn, &staff.code)?,
                    code: staff.code,
                    name: staff.name,
                });
            }
            Ok::<_, db::DbError>((experts, staffs))
        })
        .await
        .map_err(AppError::from)
}
