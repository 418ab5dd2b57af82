//! The activity figures (INTEROP.md): for a period, per month of the center's calendar and
//! per staff, the requests submitted (by topic, urgency and requester's site), the delays from
//! submission to the meeting that discussed them and to the delivered opinion (median and 90th
//! percentile in whole days), carry-overs, requests for information, rejections, and the
//! meetings held with their fill ratio and the share with the quorum met. Coordinators and
//! admins; audited. The database aggregates (see `db::kpis`): nothing here reads a request.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::{self, kpis::Milestone};
use crate::domain::account::Role;
use crate::state::AppState;

/// A delay: how many requests reached the milestone, and in how many whole days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delay {
    pub count: i64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
}

/// The figures of one month and staff (`month`, `staff` null: every month, every staff).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiRow {
    /// `YYYY-MM`, in the center's time zone.
    pub month: Option<String>,
    pub staff: Option<String>,
    pub submitted: i64,
    pub by_topic: BTreeMap<String, i64>,
    pub by_urgency: BTreeMap<String, i64>,
    /// By the requester's site code (`none`: a requester outside the network's sites).
    pub by_site: BTreeMap<String, i64>,
    /// From submission to the meeting that discussed the request (its first discussion).
    pub to_meeting: Delay,
    /// From submission to the first delivery of the opinion.
    pub to_opinion: Delay,
    pub carry_overs: i64,
    pub information_requests: i64,
    pub rejections: i64,
    pub meetings_held: i64,
    /// Cases discussed in the meetings held, over their places.
    pub fill_ratio: Option<f64>,
    /// The share of the meetings held whose quorum of specialties was met.
    pub quorum_share: Option<f64>,
    /// Recommendations with a due date in the month, the date come (or followed up already),
    /// by the staff of the request whose opinion made them.
    pub follow_ups_due: i64,
    /// Of those, followed up by a request submitted on or before the date.
    pub follow_ups_in_time: i64,
    /// `follow_ups_in_time` over `follow_ups_due`.
    pub follow_up_share: Option<f64>,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Kpis {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub staff: Option<String>,
    pub site: Option<String>,
    /// One row per month and staff, months in order, staffs in the network's order.
    pub rows: Vec<KpiRow>,
    /// One row per month, every staff together.
    pub months: Vec<KpiRow>,
    /// One row per staff, the whole period.
    pub staffs: Vec<KpiRow>,
    /// The whole period.
    pub total: KpiRow,
}

/// Counts and delay histograms, merged before the percentiles are read.
#[derive(Debug, Clone, Default)]
struct Tally {
    submitted: i64,
    by_topic: BTreeMap<String, i64>,
    by_urgency: BTreeMap<String, i64>,
    by_site: BTreeMap<String, i64>,
    to_meeting: BTreeMap<i64, i64>,
    to_opinion: BTreeMap<i64, i64>,
    carry_overs: i64,
    information_requests: i64,
    rejections: i64,
    meetings_held: i64,
    quorum_met: i64,
    capacity: i64,
    cases: i64,
    follow_ups_due: i64,
    follow_ups_in_time: i64,
}

fn add<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>) {
    for (key, n) in from {
        *into.entry(key.clone()).or_default() += n;
    }
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.submitted += other.submitted;
        add(&mut self.by_topic, &other.by_topic);
        add(&mut self.by_urgency, &other.by_urgency);
        add(&mut self.by_site, &other.by_site);
        add(&mut self.to_meeting, &other.to_meeting);
        add(&mut self.to_opinion, &other.to_opinion);
        self.carry_overs += other.carry_overs;
        self.information_requests += other.information_requests;
        self.rejections += other.rejections;
        self.meetings_held += other.meetings_held;
        self.quorum_met += other.quorum_met;
        self.capacity += other.capacity;
        self.cases += other.cases;
        self.follow_ups_due += other.follow_ups_due;
        self.follow_ups_in_time += other.follow_ups_in_time;
    }

    fn row(&self, month: Option<String>, staff: Option<String>) -> KpiRow {
        let ratio = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
        KpiRow {
            month,
            staff,
            submitted: self.submitted,
            by_topic: self.by_topic.clone(),
            by_urgency: {
                let mut by_urgency = self.by_urgency.clone();
                for urgency in crate::domain::request_form::Urgency::ALL {
                    by_urgency.entry(urgency.as_str().to_owned()).or_default();
                }
                by_urgency
            },
            by_site: self.by_site.clone(),
            to_meeting: delay(&self.to_meeting),
            to_opinion: delay(&self.to_opinion),
            carry_overs: self.carry_overs,
            information_requests: self.information_requests,
            rejections: self.rejections,
            meetings_held: self.meetings_held,
            fill_ratio: ratio(self.cases, self.capacity),
            quorum_share: ratio(self.quorum_met, self.meetings_held),
            follow_ups_due: self.follow_ups_due,
            follow_ups_in_time: self.follow_ups_in_time,
            follow_up_share: ratio(self.follow_ups_in_time, self.follow_ups_due),
        }
    }
}

/// The nearest-rank `p`-quantile of a histogram (value → count).
fn quantile(histogram: &BTreeMap<i64, i64>, count: i64, p: f64) -> Option<i64> {
    if count == 0 {
        return None;
    }
    let rank = ((p * count as f64).ceil() as i64).max(1);
    let mut seen = 0;
    for (value, n) in histogram {
        seen += n;
        if seen >= rank {
            return Some(*value);
        }
    }
    histogram.keys().next_back().copied()
}

fn delay(histogram: &BTreeMap<i64, i64>) -> Delay {
    let count = histogram.values().sum();
    Delay {
        count,
        median_days: quantile(histogram, count, 0.5),
        p90_days: quantile(histogram, count, 0.9),
    }
}

/// The first instant of each local month from `from`'s to `to`'s, then the instant after `to`.
fn month_bounds(
    from: NaiveDate,
    to: NaiveDate,
    zone: chrono_tz::Tz,
) -> (Vec<String>, Vec<DateTime<Utc>>) {
    let local_midnight = |day: NaiveDate| {
        zone.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .expect("a local midnight")
            .with_timezone(&Utc)
    };
    let (mut labels, mut bounds) = (Vec::new(), vec![local_midnight(from)]);
    let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).expect("a month");
    loop {
        labels.push(format!("{:04}-{:02}", month.year(), month.month()));
        let next = month
            .checked_add_months(chrono::Months::new(1))
            .expect("a next month");
        if next > to {
            break;
        }
        bounds.push(local_midnight(next));
        month = next;
    }
    bounds.push(local_midnight(to.succ_opt().expect("a next day")));
    (labels, bounds)
}

/// What the figures are asked for, as the query has it: the period (`from`, `to`: local days,
/// both included), optionally one staff and one requester's site.
#[derive(Debug, Clone, Copy, Default)]
pub struct KpiFilter<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub staff: Option<&'a str>,
    pub site: Option<&'a str>,
}

/// One aggregate of the figures, on a connection of its own.
async fn read<R: Send + 'static>(
    state: &AppState,
    scope: &std::sync::Arc<db::kpis::Scope>,
    query: impl FnOnce(&mut db::DbConnection, &db::kpis::Scope) -> db::DbResult<Vec<R>> + Send + 'static,
) -> Result<Vec<R>, AppError> {
    let scope = scope.clone();
    Ok(state.db.run(move |conn| query(conn, &scope)).await?)
}

/// The figures of the period.
pub async fn figures(
    state: &AppState,
    actor: &Actor,
    filter: KpiFilter<'_>,
) -> Result<Kpis, AppError> {
    let KpiFilter {
        from,
        to,
        staff,
        site,
    } = filter;
    actor.require_any(&[Role::Coordinator, Role::Admin])?;
    let zone: chrono_tz::Tz = state
        .center_zone()
        .await
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    let (start, end) = super::exports::period(from, to, zone)?;
    let (from, to) = (
        start.with_timezone(&zone).date_naive(),
        (end - chrono::Duration::seconds(1))
            .with_timezone(&zone)
            .date_naive(),
    );
    let staffs = super::network::staffs(state).await?;
    let (staff, site) = (
        staff.filter(|s| !s.is_empty()).map(str::to_owned),
        site.filter(|s| !s.is_empty()).map(str::to_owned),
    );
    let mut errors = Vec::new();
    if let Some(code) = &staff
        && !staffs.iter().any(|s| &s.code == code)
    {
        errors.push(crate::domain::FieldError::new(
            "staff",
            "is not a staff of the network",
        ));
    }
    let (labels, bounds) = month_bounds(from, to, zone);
    let context = actor.context.clone();
    let scope_site = site.clone();
    let site_known = match &site {
        Some(code) => {
            let code = code.clone();
            state
                .db
                .run(move |conn| db::network::site_exists(conn, &code))
                .await?
        }
        None => true,
    };
    if !site_known {
        errors.push(crate::domain::FieldError::new(
            "site",
            "is not a site of the network",
        ));
    }
    AppError::unless_valid(errors)?;
    let scope_staff = staff.clone();
    // The audit row first (committed before anything is read); then the six aggregates,
    // each on its own connection at the same time: they are independent scans, and a report
    // waits for the slowest rather than for their sum.
    let center = state
        .db
        .write(move |conn| {
            audit::record(conn, &context, "kpis.read", "kpis", None, Outcome::Allowed)?;
            Ok::<_, AppError>(db::network::center(conn)?.code)
        })
        .await?;
    let scope = std::sync::Arc::new(db::kpis::Scope {
        center,
        bounds: bounds.iter().map(|b| b.naive_utc()).collect(),
        staff: scope_staff,
        site: scope_site,
        staffs: staffs.iter().map(|s| s.code.clone()).collect(),
        months: labels.clone(),
        days: (from, to),
        today: crate::clock::now().with_timezone(&zone).date_naive(),
    });
    let (submitted, to_meeting, to_opinion, events, meetings, follow_ups) = tokio::try_join!(
        read(state, &scope, db::kpis::submitted),
        read(state, &scope, |conn, scope| {
            db::kpis::delays(conn, scope, Milestone::Discussed)
        }),
        read(state, &scope, |conn, scope| {
            db::kpis::delays(conn, scope, Milestone::Delivered)
        }),
        read(state, &scope, db::kpis::events),
        read(state, &scope, db::kpis::meetings),
        read(state, &scope, db::kpis::follow_ups),
    )?;

    let codes: Vec<String> = staffs
        .iter()
        .map(|s| s.code.clone())
        .filter(|code| staff.as_ref().is_none_or(|only| only == code))
        .collect();
    let mut tallies: BTreeMap<(usize, String), Tally> = BTreeMap::new();
    fn tally(
        tallies: &mut BTreeMap<(usize, String), Tally>,
        month: i64,
        staff: Option<String>,
    ) -> &mut Tally {
        tallies
            .entry((month as usize, staff.unwrap_or_default()))
            .or_default()
    }
    for row in submitted {
        let t = tally(&mut tallies, row.month, row.staff);
        t.submitted += row.n;
        *t.by_topic
            .entry(row.topic.unwrap_or_else(|| "none".into()))
            .or_default() += row.n;
        *t.by_urgency.entry(row.urgency).or_default() += row.n;
        *t.by_site
            .entry(row.site.unwrap_or_else(|| "none".into()))
            .or_default() += row.n;
    }
    for row in to_meeting {
        *tally(&mut tallies, row.month, row.staff)
            .to_meeting
            .entry(row.days)
            .or_default() += row.n;
    }
    for row in to_opinion {
        *tally(&mut tallies, row.month, row.staff)
            .to_opinion
            .entry(row.days)
            .or_default() += row.n;
    }
    for row in events {
        let t = tally(&mut tallies, row.month, row.staff);
        match row.kind.as_str() {
            "needs_info" => t.information_requests += row.n,
            "rejected" => t.rejections += row.n,
            _ => t.carry_overs += row.n,
        }
    }
    for row in follow_ups {
        let t = tally(&mut tallies, row.month, row.staff);
        t.follow_ups_due += row.due;
        t.follow_ups_in_time += row.in_time;
    }
    for row in meetings {
        let t = tally(&mut tallies, row.month, Some(row.staff));
        t.meetings_held += row.held;
        t.quorum_met += row.quorum_met;
        t.capacity += row.capacity;
        t.cases += row.cases;
    }

    let mut rows = Vec::new();
    let mut months = Vec::new();
    let mut per_staff = vec![Tally::default(); codes.len()];
    let mut total = Tally::default();
    for (i, label) in labels.iter().enumerate() {
        let mut month = Tally::default();
        for (code, whole) in codes.iter().zip(per_staff.iter_mut()) {
            let t = tallies.remove(&(i, code.clone())).unwrap_or_default();
            month.merge(&t);
            whole.merge(&t);
            rows.push(t.row(Some(label.clone()), Some(code.clone())));
        }
        // Requests of a staff no longer in the network still count in the month's total.
        let others: Vec<_> = tallies.keys().filter(|(m, _)| *m == i).cloned().collect();
        for key in others {
            if staff.is_none() {
                month.merge(&tallies.remove(&key).unwrap_or_default());
            }
        }
        total.merge(&month);
        months.push(month.row(Some(label.clone()), None));
    }
    Ok(Kpis {
        from,
        to,
        staff: staff.clone(),
        site,
        rows,
        months,
        staffs: codes
            .iter()
            .zip(&per_staff)
            .map(|(code, t)| t.row(None, Some(code.clone())))
            .collect(),
        total: total.row(None, staff),
    })
}

/// The CSV of the figures: one row per month and staff, the same numbers as the JSON. The
/// topic, urgency and site columns are those of the network, in order.
fn csv(kpis: &Kpis, topics: &[&str], sites: &[String]) -> String {
    let mut header: Vec<String> = ["month", "staff", "submitted"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(topics.iter().map(|t| format!("topic_{t}")));
    header.extend(["urgency_routine".into(), "urgency_urgent".into()]);
    header.extend(sites.iter().map(|s| format!("site_{s}")));
    header.push("site_none".into());
    header.extend(
        [
            "to_meeting_count",
            "to_meeting_median_days",
            "to_meeting_p90_days",
            "to_opinion_count",
            "to_opinion_median_days",
            "to_opinion_p90_days",
            "carry_overs",
            "information_requests",
            "rejections",
            "meetings_held",
            "fill_ratio",
            "quorum_share",
            "follow_ups_due",
            "follow_ups_in_time",
            "follow_up_share",
        ]
        .map(String::from),
    );
    let mut out = String::new();
    super::exports::write_row(&mut out, header);
    let number = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let share = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_default();
    for row in &kpis.rows {
        let count = |map: &BTreeMap<String, i64>, key: &str| {
            map.get(key).copied().unwrap_or_default().to_string()
        };
        let mut fields = vec![
            row.month.clone().unwrap_or_default(),
            row.staff.clone().unwrap_or_default(),
            row.submitted.to_string(),
        ];
        fields.extend(topics.iter().map(|t| count(&row.by_topic, t)));
        fields.extend(["routine", "urgent"].map(|u| count(&row.by_urgency, u)));
        fields.extend(sites.iter().map(|s| count(&row.by_site, s)));
        fields.push(count(&row.by_site, "none"));
        fields.extend([
            row.to_meeting.count.to_string(),
            number(row.to_meeting.median_days),
            number(row.to_meeting.p90_days),
            row.to_opinion.count.to_string(),
            number(row.to_opinion.median_days),
            number(row.to_opinion.p90_days),
            row.carry_overs.to_string(),
            row.information_requests.to_string(),
            row.rejections.to_string(),
            row.meetings_held.to_string(),
            share(row.fill_ratio),
            share(row.quorum_share),
            row.follow_ups_due.to_string(),
            row.follow_ups_in_time.to_string(),
            share(row.follow_up_share),
        ]);
        super::exports::write_row(&mut out, fields);
    }
    out
}

/// [`figures`] as CSV, with a column per topic and per network site.
pub async fn figures_csv(
    state: &AppState,
    actor: &Actor,
    filter: KpiFilter<'_>,
) -> Result<String, AppError> {
    let kpis = figures(state, actor, filter).await?;
    let sites: Vec<String> = state
        .db
        .run(db::network::sites)
        .await?
        .into_iter()
        .map(|s| s.code)
        .collect();
    let topics: Vec<&str> = crate::domain::request_form::Topic::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    Ok(csv(&kpis, &topics, &sites))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_read_by_nearest_rank_from_the_histogram() {
        let histogram = BTreeMap::from([(2, 1), (6, 1), (10, 1)]);
        let d = delay(&histogram);
        assert_eq!((d.count, d.median_days, d.p90_days), (3, Some(6), Some(10)));
        let d = delay(&BTreeMap::from([(14, 1), (20, 1)]));
        assert_eq!((d.median_days, d.p90_days), (Some(14), Some(20)));
        assert_eq!(delay(&BTreeMap::new()).median_days, None);
    }

    #[test]
    fn months_follow_the_local_calendar() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (labels, bounds) = month_bounds(
            day("2026-01-15"),
            day("2026-03-31"),
            chrono_tz::Europe::Paris,
        );
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
        let bounds: Vec<String> = bounds.iter().map(|b| b.to_rfc3339()).collect();
        assert_eq!(
            bounds,
            [
                "2026-01-14T23:00:00+00:00",
                "2026-01-31T23:00:00+00:00",
                "2026-02-28T23:00:00+00:00",
                "2026-03-31T22:00:00+00:00",
            ]
        );
    }
}
