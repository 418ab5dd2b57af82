//! The network served by this instance, read from `config/network.toml` and seeded into the
//! database at start (idempotent: a changed file updates sites and staffs, losing nothing).

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::db::network::{CenterRow, StaffRow};
use crate::db::{self, DbConnection};
use crate::domain::network::SiteInfo;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    pub center: CenterEntry,
    pub sites: Vec<SiteInfo>,
    pub staffs: Vec<StaffEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CenterEntry {
    pub code: String,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    pub code: String,
    pub name: String,
    pub topics: Vec<String>,
    pub rrule: String,
    pub dtstart: String,
    pub start_time: String,
    pub duration_minutes: i64,
    pub capacity: i64,
    #[serde(default = "default_cutoff_hours")]
    pub cutoff_hours: i64,
    #[serde(default = "default_quorum")]
    pub quorum_specialties: i64,
}

fn default_cutoff_hours() -> i64 {
    48
}

fn default_quorum() -> i64 {
    3
}

const SITE_KINDS: [&str; 3] = ["coordinator", "constituent", "competence"];

impl NetworkFile {
    pub fn load(path: &Path) -> anyhow::Result<NetworkFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the network file {}", path.display()))?;
        let network: NetworkFile = toml::from_str(&text)
            .with_context(|| format!("invalid network file {}", path.display()))?;
        network.check()?;
        Ok(network)
    }

    fn check(&self) -> anyhow::Result<()> {
        let mut site_codes = std::collections::HashSet::new();
        for site in &self.sites {
            if !site_codes.insert(site.code.as_str()) {
                bail!("site {} is listed twice", site.code);
            }
            if !SITE_KINDS.contains(&site.kind.as_str()) {
                bail!("site {}: kind must be one of {SITE_KINDS:?}", site.code);
            }
        }
        let mut staff_codes = std::collections::HashSet::new();
        for staff in &self.staffs {
            if !staff_codes.insert(staff.code.as_str()) {
                bail!("staff {} is listed twice", staff.code);
            }
            if staff.capacity < 1 || staff.duration_minutes < 1 || staff.cutoff_hours < 0 {
                bail!(
                    "staff {}: capacity and duration must be positive",
                    staff.code
                );
            }
            if let Some(topic) = staff
                .topics
                .iter()
                .find(|topic| crate::domain::request_form::Topic::parse(topic).is_none())
            {
                bail!("staff {}: {topic:?} is not a topic", staff.code);
            }
            chrono::NaiveDate::parse_from_str(&staff.dtstart, "%Y-%m-%d")
                .with_context(|| format!("staff {}: dtstart must be YYYY-MM-DD", staff.code))?;
            chrono::NaiveTime::parse_from_str(&staff.start_time, "%H:%M")
                .with_context(|| format!("staff {}: start_time must be HH:MM", staff.code))?;
        }
        Ok(())
    }

    /// Writes the network into the database, in one transaction.
    pub fn seed(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        let center = CenterRow {
            code: self.center.code.clone(),
            name: self.center.name.clone(),
            time_zone: self.center.time_zone.clone(),
        };
        let now = db::now();
        let staffs = self
            .staffs
            .iter()
            .map(|staff| {
                Ok(StaffRow {
                    code: staff.code.clone(),
                    center_code: center.code.clone(),
                    name: staff.name.clone(),
                    topics: serde_json::to_string(&staff.topics)?,
                    rrule: staff.rrule.clone(),
                    dtstart: staff.dtstart.clone(),
                    start_time: staff.start_time.clone(),
                    duration_minutes: staff.duration_minutes,
                    capacity: staff.capacity,
                    cutoff_minutes: staff.cutoff_hours * 60,
                    quorum_specialties: staff.quorum_specialties,
                    updated_at: now,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        db::write_transaction(conn, |conn| {
            db::network::upsert(conn, &center, &self.sites, &staffs)
        })?;
        tracing::info!(center = %center.code, sites = self.sites.len(), staffs = staffs.len(), "network seeded");
        Ok(())
    }
}
