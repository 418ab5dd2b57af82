//! `bench-seed`: a realistic data set written straight into a fresh database, as the service
//! itself would have written it over the years.
//!
//! Run with the same `CONSILIUM__…` environment as the server it prepares (it reads the
//! settings the same way). It migrates and seeds the network through the library
//! (`startup::prepare_database`, which also generates the next 27 weeks of meetings), creates the
//! staff accounts with `cli::add_user` (argon2 hash, sealed TOTP secret), then generates, in time
//! order:
//!
//! - requesters (one shared argon2 hash of one password), registered over the period;
//! - the staffs' meetings from their RFC 5545 rules over the period (and, where the requests
//!   outnumber the places, the extraordinary meetings coordinators add, so no meeting ever holds
//!   more than its capacity — as the service enforces), held with their attendance;
//! - requests (references `MOC-<year>-<n>` and the counter rows), their timeline
//!   (`request_events`), the messages of information requests, opinions (delivered or draft),
//!   the audit rows of each change (sealed into the hash chain, head updated), and the outbox rows
//!   the service would have queued (rendered by the service's templates, all sent).
//!
//! Rows are written with COPY (binary, PostgreSQL) or multi-row INSERTs in one transaction per
//! batch (SQLite); secondary indexes are dropped during the load and recreated from their own
//! definitions afterwards, foreign keys are not checked during the load (the data is consistent by
//! construction). PostgreSQL is then `VACUUM ANALYZE`d, as autovacuum would have.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDateTime, Utc};
use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use consilium::config::{Environment, Settings};
use consilium::db::schema::{
    audit_chain, audit_log, meetings, messages, opinions, outbox, reference_counters,
    request_events, requests, user_roles, users,
};
use consilium::db::{self, DbConnection};
use consilium::domain::account::Language;
use consilium::domain::opinion::Participant;
use consilium::domain::recurrence::StaffSchedule;
use consilium::domain::request_form::{Topic, Urgency};
use consilium::email::{self, EmailKind};
use consilium_bench::{Manifest, SampleRequester, StaffAccount, forms};

#[derive(Debug, Parser)]
#[command(about = "Seeds a Consilium database for the benchmark")]
struct Args {
    /// Requests to create.
    #[arg(long, default_value_t = 100_000)]
    requests: usize,
    #[arg(long, default_value_t = 2_000)]
    requesters: usize,
    /// The period the requests span, ending now.
    #[arg(long, default_value_t = 3)]
    years: u32,
    #[arg(long, default_value_t = 4)]
    coordinators: usize,
    #[arg(long, default_value_t = 2)]
    experts_per_staff: usize,
    /// Requesters the scenarios sign in as (their requests are the read scenario's ids).
    #[arg(long, default_value_t = 64)]
    sample: usize,
    /// Outbox rows are written for the changes of the last N days (0: the whole period).
    #[arg(long, default_value_t = 90)]
    outbox_days: i64,
    /// Requests generated and written per batch.
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write the manifest (JSON).
    #[arg(long)]
    manifest: PathBuf,
}

pub const REQUESTER_PASSWORD: &str = "bench-ossicle-Vercors-2026-requester";
pub const STAFF_PASSWORD: &str = "bench-ossicle-Vercors-2026-coordination";

// ------------------------------------------------------------------ rows, as the service writes them

#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct UserIns {
    id: String,
    email: String,
    password_hash: String,
    full_name: String,
    rpps: String,
    specialty: String,
    site_code: Option<String>,
    phone: Option<String>,
    language: String,
    status: String,
    created_at: NaiveDateTime,
    email_verified_at: Option<NaiveDateTime>,
    totp_secret: Option<String>,
    totp_enabled_at: Option<NaiveDateTime>,
    totp_last_step: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = user_roles, treat_none_as_default_value = false)]
struct RoleIns {
    user_id: String,
    role: String,
    granted_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = meetings, treat_none_as_default_value = false)]
struct MeetingIns {
    id: String,
    staff_code: String,
    starts_at: NaiveDateTime,
    duration_minutes: i64,
    status: String,
    capacity: i64,
    video_url: Option<String>,
    occurrence: Option<String>,
    attendance: Option<String>,
    quorum_met: Option<bool>,
    held_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = requests, treat_none_as_default_value = false)]
struct RequestIns {
    id: String,
    reference: String,
    center_code: String,
    requester_id: String,
    status: String,
    version: i64,
    topic: Option<String>,
    urgency: String,
    form: String,
    staff_code: Option<String>,
    proposed_meeting_id: Option<String>,
    meeting_id: Option<String>,
    rejection_reason: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    submitted_at: Option<NaiveDateTime>,
    discussed_at: Option<NaiveDateTime>,
    delivered_at: Option<NaiveDateTime>,
    submitted_month: Option<String>,
    site_code: Option<String>,
    discussed_days: Option<i64>,
    delivered_days: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = request_events, treat_none_as_default_value = false)]
struct EventIns {
    id: String,
    request_id: String,
    at: NaiveDateTime,
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<String>,
    note: Option<String>,
    center_code: String,
    staff_code: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = messages, treat_none_as_default_value = false)]
struct MessageIns {
    id: String,
    request_id: String,
    author_id: String,
    author_role: String,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = opinions, treat_none_as_default_value = false)]
struct OpinionIns {
    id: String,
    request_id: String,
    version: i64,
    status: String,
    content: String,
    author_id: String,
    validated_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    delivered_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
struct OutboxIns {
    id: String,
    kind: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    next_attempt_at: NaiveDateTime,
    locked_until: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
struct AuditIns {
    id: String,
    at: NaiveDateTime,
    actor_id: Option<String>,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    outcome: String,
    client_addr: Option<String>,
    correlation_id: Option<String>,
    seq: Option<i64>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

/// One batch of rows, written table by table.
#[derive(Default)]
struct Batch {
    users: Vec<UserIns>,
    roles: Vec<RoleIns>,
    meetings: Vec<MeetingIns>,
    requests: Vec<RequestIns>,
    events: Vec<EventIns>,
    messages: Vec<MessageIns>,
    opinions: Vec<OpinionIns>,
    outbox: Vec<OutboxIns>,
    audit: Vec<AuditIns>,
}

/// Writes rows: binary COPY on PostgreSQL, multi-row INSERTs on SQLite (under its 32 766
/// variables per statement).
macro_rules! write_rows {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let rows = &$rows;
        if !rows.is_empty() {
            match &mut *$conn {
                DbConnection::Postgresql(pg) => {
                    diesel::copy_from($table)
                        .from_insertable(rows.as_slice())
                        .execute(pg)?;
                }
                DbConnection::Sqlite(sqlite) => {
                    for chunk in rows.chunks(32_000 / $columns) {
                        diesel::insert_into($table).values(chunk).execute(sqlite)?;
                    }
                }
            }
        }
        rows.len() as u64
    }};
}

impl Batch {
    fn write(&mut self, conn: &mut DbConnection, counts: &mut BTreeMap<&'static str, u64>) -> anyhow::Result<()> {
        let sqlite = matches!(conn, DbConnection::Sqlite(_));
        if sqlite {
            conn.batch_execute("BEGIN")?;
        }
        *counts.entry("users").or_default() += write_rows!(conn, users::table, self.users, 15);
        *counts.entry("user_roles").or_default() += write_rows!(conn, user_roles::table, self.roles, 3);
        *counts.entry("meetings").or_default() += write_rows!(conn, meetings::table, self.meetings, 12);
        *counts.entry("requests").or_default() += write_rows!(conn, requests::table, self.requests, 22);
        *counts.entry("request_events").or_default() += write_rows!(conn, request_events::table, self.events, 9);
        *counts.entry("messages").or_default() += write_rows!(conn, messages::table, self.messages, 6);
        *counts.entry("opinions").or_default() += write_rows!(conn, opinions::table, self.opinions, 10);
        *counts.entry("outbox").or_default() += write_rows!(conn, outbox::table, self.outbox, 13);
        *counts.entry("audit_log").or_default() += write_rows!(conn, audit_log::table, self.audit, 12);
        if sqlite {
            conn.batch_execute("COMMIT")?;
        }
        *self = Batch::default();
        Ok(())
    }
}

// ------------------------------------------------------------------ the generator

fn micros(t: DateTime<Utc>) -> NaiveDateTime {
    let t = t.naive_utc();
    t - Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos() % 1_000))
}

/// A UUID v7 made at `t`, as `db::new_id()` would have made it then (random bits from `rng`).
fn id_at(rng: &mut StdRng, t: NaiveDateTime) -> String {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(t.and_utc().timestamp_millis() as u64, &bytes)
        .into_uuid()
        .to_string()
}

fn uuid_v4(rng: &mut StdRng) -> String {
    let bytes: [u8; 16] = rng.random();
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

fn secs(rng: &mut StdRng, from: i64, to: i64) -> Duration {
    Duration::seconds(rng.random_range(from..to))
}

struct Person {
    id: String,
    email: String,
    language: Language,
    created_at: NaiveDateTime,
    site: Option<String>,
}

struct Meeting {
    id: String,
    starts_at: NaiveDateTime,
    /// Requests on its agenda (scheduled, discussed, completed; or proposed and awaiting triage).
    agenda: i64,
    /// Already in the database (the next 27 weeks, generated by the service at start).
    existing: bool,
    occurrence: Option<String>,
    created_at: NaiveDateTime,
    held_by: Option<String>,
}

struct Staff {
    code: String,
    name_index: usize,
    capacity: i64,
    duration_minutes: i64,
    cutoff: Duration,
    quorum: i64,
    experts: Vec<String>,
    /// Meetings by start (and a tie-breaker), with their agenda's size.
    meetings: BTreeMap<(NaiveDateTime, u32), Meeting>,
    extra_seq: u32,
}

impl Staff {
    /// The first meeting starting at or after `after` with room left (the service's
    /// `propose_meeting`); when every meeting within two weeks is full, the coordinators add an
    /// extraordinary one. `take` reserves the place.
    fn place(&mut self, rng: &mut StdRng, after: NaiveDateTime, created: NaiveDateTime, take: bool) -> (NaiveDateTime, u32) {
        // Requests wait up to two weeks, or until the second regular meeting of a rarer series.
        let second_regular = self
            .meetings
            .range((after, 0)..)
            .filter(|(_, m)| m.occurrence.is_some())
            .nth(1)
            .map(|(key, _)| key.0);
        let horizon = second_regular.map_or(after + Duration::days(14), |t| t.max(after + Duration::days(14)));
        let found = self
            .meetings
            .range((after, 0)..=(horizon, u32::MAX))
            .find(|(_, m)| m.agenda < self.capacity)
            .map(|(key, _)| *key);
        let key = match found {
            Some(key) => key,
            None => {
                // The first free slot after `after` (every 20 minutes, 06:00 to 22:00 UTC).
                self.extra_seq += 1;
                let mut day = after.date();
                let start = 'search: loop {
                    for slot in (6 * 60..=22 * 60).step_by(20) {
                        let start = day.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(slot);
                        if start >= after && self.meetings.range((start, 0)..(start + Duration::minutes(1), 0)).next().is_none() {
                            break 'search start;
                        }
                    }
                    day = day.succ_opt().unwrap();
                };
                let key = (start, self.extra_seq);
                let created_at = created.min(start - Duration::hours(1));
                self.meetings.insert(
                    key,
                    Meeting {
                        id: id_at(rng, created_at),
                        starts_at: start,
                        agenda: 0,
                        existing: false,
                        occurrence: None,
                        created_at,
                        held_by: None,
                    },
                );
                key
            }
        };
        if take {
            self.meetings.get_mut(&key).expect("just found").agenda += 1;
        }
        key
    }
}

/// The staff's schedule moved back by whole periods so that it covers the past, checked to give
/// the configured occurrences over the configured first year.
fn past_schedule(rrule: &str, dtstart: &str, start_time: &str, zone: &str, years: u32) -> anyhow::Result<StaffSchedule> {
    let configured = StaffSchedule::parse(rrule, dtstart, start_time, zone)?;
    let first = configured.dtstart;
    let back = first
        .checked_sub_months(Months::new(12 * (years + 1)))
        .context("date out of range")?;
    let probe = StaffSchedule::parse(rrule, &back.format("%Y-%m-%d").to_string(), start_time, zone)?;
    let from = back.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let occurrence = *probe
        .occurrences_between(from, from + Duration::days(400))
        .first()
        .context("no occurrence")?;
    let local = occurrence.with_timezone(&configured.time_zone).date_naive();
    let shifted = StaffSchedule::parse(rrule, &local.format("%Y-%m-%d").to_string(), start_time, zone)?;
    let check_from = first.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let check_to = check_from + Duration::days(365);
    if shifted.occurrences_between(check_from, check_to) != configured.occurrences_between(check_from, check_to) {
        bail!("could not move the schedule {rrule} back in time");
    }
    Ok(shifted)
}

/// Renders the service's e-mails once per variant, with markers for what changes per message.
struct Mailer {
    public_url: String,
    zone: chrono_tz::Tz,
    staff_names: Vec<String>,
    cache: HashMap<(&'static str, &'static str, usize, bool, bool), db::outbox::NewEmail>,
}

const REF_MARK: &str = "XQREFQX";
const ID_MARK: &str = "XQIDQX";
const DATE_MARK: &str = "XQDATEQX";

impl Mailer {
    #[allow(clippy::too_many_arguments)]
    fn compose(
        &mut self,
        kind: EmailKind,
        language: Language,
        recipient: &str,
        staff: usize,
        urgent: bool,
        meeting: Option<NaiveDateTime>,
        status: &str,
        reference: &str,
        request_id: &str,
    ) -> anyhow::Result<db::outbox::NewEmail> {
        let key = (kind.as_str(), language.as_str(), staff, meeting.is_some(), urgent);
        if !self.cache.contains_key(&key) {
            let mut context = serde_json::json!({
                "reference": REF_MARK,
                "status": status,
                "link": format!("{}/requests/{ID_MARK}", self.public_url),
                "meeting_date": meeting.map(|_| DATE_MARK),
                "staff_name": self.staff_names[staff],
                "urgent": urgent,
            });
            let extra = match kind {
                EmailKind::RequestScheduled => serde_json::json!({"change": "scheduled"}),
                EmailKind::OpinionDelivered => serde_json::json!({"amended": false}),
                _ => serde_json::json!({}),
            };
            if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
                target.extend(extra.clone());
            }
            self.cache.insert(key, email::compose(kind, language, "", context)?);
        }
        let template = &self.cache[&key];
        let date = meeting.map(|m| email::local_date(m, self.zone, language)).unwrap_or_default();
        let fill = |text: &str| text.replace(REF_MARK, reference).replace(ID_MARK, request_id).replace(DATE_MARK, &date);
        Ok(db::outbox::NewEmail {
            kind: template.kind.clone(),
            recipient: recipient.to_owned(),
            subject: fill(&template.subject),
            body_text: fill(&template.body_text),
            body_html: fill(&template.body_html),
            sealed_link: None,
        })
    }
}

struct Generator {
    rng: StdRng,
    now: NaiveDateTime,
    outbox_since: NaiveDateTime,
    center: String,
    coordinators: Vec<Person>,
    mailer: Mailer,
    batch: Batch,
    chain: (i64, String),
    /// The staff of the request being generated, once routed (its events carry it).
    staff: Option<String>,
}

impl Generator {
    fn audit(&mut self, at: NaiveDateTime, actor: &str, action: &str, entity_type: &str, entity: &str) {
        let (seq, prev) = &self.chain;
        let row = db::audit::AuditEntry {
            id: id_at(&mut self.rng, at),
            at,
            actor_id: Some(actor.to_owned()),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: Some(entity.to_owned()),
            outcome: "allowed".to_owned(),
            client_addr: Some(format!("10.{}.{}.{}", self.rng.random_range(0..4), self.rng.random_range(0..255), self.rng.random_range(1..255))),
            correlation_id: Some(uuid_v4(&mut self.rng)),
        };
        let seq = seq + 1;
        let hash = consilium::audit::chain_hash(seq, prev, &row);
        self.batch.audit.push(AuditIns {
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            action: row.action,
            entity_type: row.entity_type,
            entity_id: row.entity_id,
            outcome: row.outcome,
            client_addr: row.client_addr,
            correlation_id: row.correlation_id,
            seq: Some(seq),
            prev_hash: Some(prev.clone()),
            hash: Some(hash.clone()),
        });
        self.chain = (seq, hash);
    }

    #[allow(clippy::too_many_arguments)]
    fn event(&mut self, request: &str, at: NaiveDateTime, from: Option<&str>, to: &str, actor: &str, note: Option<String>) {
        let id = id_at(&mut self.rng, at);
        self.batch.events.push(EventIns {
            id,
            request_id: request.to_owned(),
            at,
            from_status: from.map(str::to_owned),
            to_status: to.to_owned(),
            actor_id: Some(actor.to_owned()),
            note,
            center_code: self.center.clone(),
            staff_code: self.staff.clone(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn mail(
        &mut self,
        at: NaiveDateTime,
        kind: EmailKind,
        to: &[(String, Language)],
        staff: usize,
        urgent: bool,
        meeting: Option<NaiveDateTime>,
        status: &str,
        reference: &str,
        request_id: &str,
    ) -> anyhow::Result<()> {
        if at < self.outbox_since {
            return Ok(());
        }
        for (recipient, language) in to {
            let email = self.mailer.compose(kind, *language, recipient, staff, urgent, meeting, status, reference, request_id)?;
            let sent = at + Duration::milliseconds(self.rng.random_range(300..4_000));
            self.batch.outbox.push(OutboxIns {
                id: id_at(&mut self.rng, at),
                kind: email.kind.as_str().to_owned(),
                recipient: email.recipient,
                subject: email.subject,
                body_text: email.body_text,
                body_html: email.body_html,
                status: "sent".into(),
                attempts: 1,
                last_error: None,
                next_attempt_at: at,
                locked_until: None,
                created_at: at,
                sent_at: Some(sent.min(self.now)),
            });
        }
        Ok(())
    }

    fn coordinator(&mut self) -> String {
        self.coordinators.choose(&mut self.rng).unwrap().id.clone()
    }

    fn coordinator_recipients(&self) -> Vec<(String, Language)> {
        self.coordinators.iter().map(|c| (c.email.clone(), c.language)).collect()
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let environment = Environment::from_env()?;
    let config_dir = PathBuf::from(std::env::var("CONSILIUM_CONFIG_DIR").unwrap_or_else(|_| "config".into()));
    let mut settings = Settings::load(&config_dir, environment)?;
    settings.prepare(environment)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let database = runtime.block_on(consilium::startup::prepare_database(&settings))?;
    let key = settings.data_key()?;
    let network = consilium::network::NetworkFile::load(&settings.network.file)?;
    let mut conn = database.get().map_err(|e| anyhow::anyhow!("{e}"))?;
    let existing: i64 = requests::table.count().get_result(&mut *conn)?;
    if existing > 0 {
        bail!("the database already holds {existing} requests: seed a fresh one");
    }
    let backend = match &*conn {
        DbConnection::Postgresql(_) => "postgresql",
        DbConnection::Sqlite(_) => "sqlite",
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let now = micros(Utc::now());
    let start = micros(Utc::now() - Duration::days(365 * i64::from(args.years)));
    eprintln!("seeding {backend}: {} requests from {start} to {now}", args.requests);

    // ---------------------------------------------------------------- staff accounts (library)
    let staff_codes: Vec<String> = network.staffs.iter().map(|s| s.code.clone()).collect();
    let mut coordinators = Vec::new();
    let mut coordinator_people = Vec::new();
    let mut experts: HashMap<String, Vec<String>> = HashMap::new();
    let make_staff = |email: String, full_name: String, n: u64, roles: &[&str], rng: &mut StdRng| -> anyhow::Result<StaffAccount> {
        let secret = consilium::auth::totp::new_secret();
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let id = consilium::cli::add_user(
            &database,
            &key,
            &consilium::cli::NewAccount {
                email: &email,
                full_name: &full_name,
                rpps: &consilium_bench::rpps(900_000 + n),
                roles: &roles,
                site: Some("necker"),
                specialty: forms::SPECIALTIES.choose(rng).unwrap(),
                language: "fr",
                password: STAFF_PASSWORD,
                totp_secret: Some(&secret),
            },
        )?;
        Ok(StaffAccount { id, email, password: STAFF_PASSWORD.into(), totp_secret: secret })
    };
    for i in 0..args.coordinators {
        let (first, last) = forms::name(&mut rng);
        let account = make_staff(
            format!("coordination.{i}@aphp.fr"),
            format!("Dr {} {}", forms::capitalised(first), forms::capitalised(last)),
            i as u64,
            &["coordinator"],
            &mut rng,
        )?;
        coordinator_people.push(Person { id: account.id.clone(), email: account.email.clone(), language: Language::Fr, created_at: now, site: Some("necker".into()) });
        coordinators.push(account);
    }
    for (s, code) in staff_codes.iter().enumerate() {
        for e in 0..args.experts_per_staff {
            let (first, last) = forms::name(&mut rng);
            let account = make_staff(
                format!("expert.{code}.{e}@aphp.fr"),
                format!("Pr {} {}", forms::capitalised(first), forms::capitalised(last)),
                100 + (s * 10 + e) as u64,
                &["expert"],
                &mut rng,
            )?;
            experts.entry(code.clone()).or_default().push(account.id);
        }
        let ids: Vec<consilium::domain::ids::UserId> =
            experts[code].iter().map(|id| id.as_str().into()).collect();
        db::meetings::set_staff_experts(&mut conn, code, &ids)?;
    }
    make_staff("admin@aphp.fr".into(), "Dr Admin Consilium".into(), 999, &["admin"], &mut rng)?;

    // ---------------------------------------------------------------- staffs and their meetings
    let zone: chrono_tz::Tz = network.center.time_zone.parse().map_err(|_| anyhow::anyhow!("time zone"))?;
    let existing_meetings: Vec<db::meetings::MeetingRow> = meetings::table
        .select(db::meetings::MeetingRow::as_select())
        .load(&mut *conn)?;
    let mut staffs: Vec<Staff> = Vec::new();
    let mut topic_staff: HashMap<String, usize> = HashMap::new();
    for (index, entry) in network.staffs.iter().enumerate() {
        for topic in &entry.topics {
            topic_staff.insert(topic.clone(), index);
        }
        let mut meetings_of = BTreeMap::new();
        let mut seq = 0u32;
        for row in existing_meetings.iter().filter(|m| m.staff_code == entry.code) {
            seq += 1;
            meetings_of.insert(
                (row.starts_at, seq),
                Meeting {
                    id: row.id.clone(),
                    starts_at: row.starts_at,
                    agenda: 0,
                    existing: true,
                    occurrence: row.occurrence.clone(),
                    created_at: row.created_at,
                    held_by: None,
                },
            );
        }
        let first_existing = meetings_of.keys().next().map(|k| k.0).unwrap_or(now);
        let schedule = past_schedule(&entry.rrule, &entry.dtstart, &entry.start_time, &network.center.time_zone, args.years)?;
        let mut from = (start - Duration::days(30)).and_utc();
        while from.naive_utc() < first_existing {
            let to = (from + Duration::days(365)).min(first_existing.and_utc());
            for occurrence in schedule.occurrences_between(from, to) {
                let starts_at = occurrence.naive_utc();
                if starts_at >= first_existing || starts_at >= now {
                    continue;
                }
                seq += 1;
                // Generated 27 weeks ahead by the service's calendar top-up.
                let created_at = starts_at - Duration::weeks(27) + Duration::seconds(rng.random_range(0..3_600));
                meetings_of.insert(
                    (starts_at, seq),
                    Meeting {
                        id: id_at(&mut rng, created_at),
                        starts_at,
                        agenda: 0,
                        existing: false,
                        occurrence: Some(consilium::calendar::occurrence_key(occurrence)),
                        created_at,
                        held_by: None,
                    },
                );
            }
            from = to;
        }
        staffs.push(Staff {
            code: entry.code.clone(),
            name_index: index,
            capacity: entry.capacity,
            duration_minutes: entry.duration_minutes,
            cutoff: Duration::hours(entry.cutoff_hours),
            quorum: entry.quorum_specialties,
            experts: experts.get(&entry.code).cloned().unwrap_or_default(),
            meetings: meetings_of,
            extra_seq: 1_000_000,
        });
    }

    // ---------------------------------------------------------------- the load
    let sqlite = backend == "sqlite";
    let indexes = drop_secondary_indexes(&mut conn)?;
    if sqlite {
        conn.batch_execute("PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")?;
    } else {
        conn.batch_execute("SET session_replication_role = replica; SET synchronous_commit = off;")?;
    }
    let write_started = Instant::now();
    let chain: (i64, String) = audit_chain::table
        .find(1i64)
        .select((audit_chain::seq, audit_chain::hash))
        .first(&mut *conn)?;
    // Generation and writing overlap: batches go to a writer thread that owns the connection.
    let (batches, received) = std::sync::mpsc::sync_channel::<Batch>(2);
    let writer = std::thread::spawn(move || -> anyhow::Result<_> {
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        for mut batch in received {
            batch.write(&mut conn, &mut counts)?;
        }
        Ok((conn, counts))
    });
    let writer_failed = |writer: std::thread::JoinHandle<anyhow::Result<_>>| -> anyhow::Error {
        match writer.join() {
            Ok(Err(error)) => error,
            _ => anyhow::anyhow!("the writer thread stopped"),
        }
    };
    let mut generator = Generator {
        rng,
        now,
        outbox_since: if args.outbox_days > 0 { now - Duration::days(args.outbox_days) } else { start - Duration::days(400) },
        center: network.center.code.clone(),
        coordinators: coordinator_people,
        mailer: Mailer {
            public_url: settings.server.public_url.clone(),
            zone,
            staff_names: network.staffs.iter().map(|s| s.name.clone()).collect(),
            cache: HashMap::new(),
        },
        batch: Batch::default(),
        chain,
        staff: None,
    };
    let rng = &mut generator.rng;

    // Requesters: a quarter registered before the period, the others during it.
    let password_hash = consilium::auth::password_hash::hash_blocking(REQUESTER_PASSWORD)?;
    let sites: Vec<String> = network.sites.iter().map(|s| s.code.clone()).collect();
    let period = (now - start).num_seconds();
    let mut registered: Vec<NaiveDateTime> = (0..args.requesters)
        .map(|i| {
            if i < args.requesters / 4 {
                start - Duration::seconds(rng.random_range(86_400..365 * 86_400))
            } else {
                start + Duration::seconds(rng.random_range(0..period * 9 / 10))
            }
        })
        .collect();
    registered.sort();
    let mut requesters: Vec<Person> = Vec::with_capacity(args.requesters);
    for (i, created_at) in registered.into_iter().enumerate() {
        let (first, last) = forms::name(rng);
        let site = sites.choose(rng).unwrap().clone();
        let language = if rng.random::<f64>() < 0.9 { Language::Fr } else { Language::En };
        let id = id_at(rng, created_at);
        let email = format!("{first}.{last}.{i}@chu-{site}.fr");
        let verified = created_at + secs(rng, 60, 86_400);
        generator.batch.users.push(UserIns {
            id: id.clone(),
            email: email.clone(),
            password_hash: password_hash.clone(),
            full_name: format!("Dr {} {}", forms::capitalised(first), forms::capitalised(last)),
            rpps: consilium_bench::rpps(i as u64),
            specialty: forms::SPECIALTIES.choose(rng).unwrap().to_string(),
            site_code: Some(site.clone()),
            phone: (rng.random::<f64>() < 0.3).then(|| format!("+33 1 {:02} {:02} {:02} {:02}", rng.random_range(0..100), rng.random_range(0..100), rng.random_range(0..100), rng.random_range(0..100))),
            language: language.as_str().to_owned(),
            status: "active".into(),
            created_at,
            email_verified_at: Some(verified),
            totp_secret: None,
            totp_enabled_at: None,
            totp_last_step: None,
        });
        generator.batch.roles.push(RoleIns { user_id: id.clone(), role: "requester".into(), granted_at: created_at });
        requesters.push(Person { id, email, language, created_at, site: Some(site) });
    }
    // The sample the scenarios sign in as: requesters of the first quarter (they have requests).
    let mut sample_index: Vec<usize> = (0..(args.requesters / 4).max(1)).collect();
    sample_index.shuffle(rng);
    sample_index.truncate(args.sample.min(sample_index.len()));
    let mut sample_requests: HashMap<usize, Vec<String>> = sample_index.iter().map(|&i| (i, Vec::new())).collect();

    let mut created: Vec<i64> = (0..args.requests).map(|_| rng.random_range(0..period - 600)).collect();
    created.sort_unstable();
    let mut counters: BTreeMap<i32, i64> = BTreeMap::new();
    let mut statuses: BTreeMap<&'static str, u64> = BTreeMap::new();
    let day = 86_400;
    for (n, offset) in created.into_iter().enumerate() {
        'one: {
        let g = &mut generator;
        let t0 = start + Duration::seconds(offset);
        // A requester registered before (uniformly among them).
        let registered_before = requesters.partition_point(|r| r.created_at < t0 - Duration::days(1)).max(1);
        let who = g.rng.random_range(0..registered_before);
        let requester = &requesters[who];
        let requester_to = [(requester.email.clone(), requester.language)];
        let topic = forms::pick_topic(&mut g.rng);
        let staff_index = topic_staff[topic_name(topic)];
        let urgency = if g.rng.random::<f64>() < 0.1 { Urgency::Urgent } else { Urgency::Routine };
        let year = t0.year();
        let number = counters.entry(year).or_default();
        *number += 1;
        let reference = format!("{}-{year}-{:05}", g.center, number);
        let id = id_at(&mut g.rng, t0);
        if let Some(list) = sample_requests.get_mut(&who) {
            list.push(id.clone());
        }
        let fate: f64 = g.rng.random();
        let t1 = t0 + secs(&mut g.rng, 300, 2 * day);
        let abandoned = fate < 0.03;
        let still_editing = t1 >= now;
        let form = forms::form(&mut g.rng, topic, urgency, t0.date(), !(abandoned || still_editing));
        let mut row = RequestIns {
            id: id.clone(),
            reference: reference.clone(),
            center_code: g.center.clone(),
            requester_id: requester.id.clone(),
            status: "draft".into(),
            version: 1,
            topic: Some(topic_name(topic).to_owned()),
            urgency: urgency.as_str().to_owned(),
            form: serde_json::to_string(&form)?,
            staff_code: None,
            proposed_meeting_id: None,
            meeting_id: None,
            rejection_reason: None,
            created_at: t0,
            updated_at: t0,
            submitted_at: None,
            discussed_at: None,
            delivered_at: None,
            submitted_month: None,
            site_code: None,
            discussed_days: None,
            delivered_days: None,
        };
        let requester_id = requester.id.clone();
        let requester_site = requester.site.clone();
        g.staff = None;
        g.event(&id, t0, None, "draft", &requester_id, None);
        g.audit(t0, &requester_id, "request.create", "request", &id);
        let urgent = urgency == Urgency::Urgent;
        let mut finish = |g: &mut Generator, mut row: RequestIns| {
            // What the figures count it by, as the service keeps it at submission and at each
            // milestone.
            if let Some(submitted) = row.submitted_at {
                row.submitted_month = Some(consilium::db::kpis::month_of(submitted, zone));
                row.site_code = requester_site.clone();
                row.discussed_days = row.discussed_at.map(|at| consilium::db::kpis::whole_days(submitted, at));
                row.delivered_days = row.delivered_at.map(|at| consilium::db::kpis::whole_days(submitted, at));
            }
            *statuses.entry(status_name(&row.status)).or_default() += 1;
            g.batch.requests.push(row);
        };
        if abandoned || still_editing {
            finish(g, row);
            break 'one;
        }
        if fate < 0.045 {
            // Withdrawn while still a draft.
            let at = (t0 + secs(&mut g.rng, 3_600, 5 * day)).min(now - Duration::seconds(1));
            g.event(&id, at, Some("draft"), "withdrawn", &requester_id, None);
            g.audit(at, &requester_id, "request.withdraw", "request", &id);
            row.status = "withdrawn".into();
            row.version = 2;
            row.updated_at = at;
            finish(g, row);
            break 'one;
        }
        // Submitted: routed to its staff, a meeting proposed.
        let staff = &mut staffs[staff_index];
        row.staff_code = Some(staff.code.clone());
        g.staff = row.staff_code.clone();
        row.submitted_at = Some(t1);
        row.status = "submitted".into();
        row.version = 2;
        row.updated_at = t1;
        g.event(&id, t1, Some("draft"), "submitted", &requester_id, None);
        g.audit(t1, &requester_id, "request.submit", "request", &id);
        let t2 = t1 + secs(&mut g.rng, 3_600, 7 * day);
        let needs_info = (0.045..0.125).contains(&fate);
        let rejected = (0.125..0.165).contains(&fate);
        let withdrawn = (0.165..0.175).contains(&fate);
        let (answered, scheduled_at) = if needs_info {
            let t3 = t2 + secs(&mut g.rng, 3_600, 3 * day);
            (Some(t3), t3 + secs(&mut g.rng, 1_800, day))
        } else {
            (None, t2)
        };
        let in_flight = (rejected || withdrawn) && t2 >= now || !(rejected || withdrawn) && scheduled_at >= now;
        let submit_after = t1 + staff.cutoff;
        let key = if in_flight {
            staff.place(&mut g.rng, submit_after.max(now), t1, true)
        } else if rejected || withdrawn {
            staff.place(&mut g.rng, submit_after, t1, false)
        } else {
            staff.place(&mut g.rng, submit_after.max(scheduled_at + Duration::hours(1)), scheduled_at, true)
        };
        let (meeting_id, meeting_start) = {
            let m = &staff.meetings[&key];
            (m.id.clone(), m.starts_at)
        };
        let duration = Duration::minutes(staff.duration_minutes);
        let staff_name = staffs[staff_index].name_index;
        let proposal = Some(meeting_start);
        g.mail(t1, EmailKind::RequestSubmitted, &requester_to, staff_name, urgent, proposal, "submitted", &reference, &id)?;
        let coordinators_to = g.coordinator_recipients();
        g.mail(t1, EmailKind::RequestSubmittedCoordinator, &coordinators_to, staff_name, urgent, proposal, "submitted", &reference, &id)?;
        row.proposed_meeting_id = Some(meeting_id.clone());
        if t2 >= now {
            finish(g, row);
            break 'one;
        }
        let coordinator = g.coordinator();
        if rejected {
            let reason = forms::rejection_reason(&mut g.rng);
            g.event(&id, t2, Some("submitted"), "rejected", &coordinator, Some(reason.clone()));
            g.audit(t2, &coordinator, "request.reject", "request", &id);
            g.mail(t2, EmailKind::RequestRejected, &requester_to, staff_name, urgent, None, "rejected", &reference, &id)?;
            row.status = "rejected".into();
            row.version += 1;
            row.updated_at = t2;
            row.rejection_reason = Some(reason);
            row.proposed_meeting_id = None;
            finish(g, row);
            break 'one;
        }
        if withdrawn {
            g.event(&id, t2, Some("submitted"), "withdrawn", &requester_id, None);
            g.audit(t2, &requester_id, "request.withdraw", "request", &id);
            row.status = "withdrawn".into();
            row.version += 1;
            row.updated_at = t2;
            finish(g, row);
            break 'one;
        }
        if let Some(t3) = answered {
            let question = forms::message(&mut g.rng);
            g.event(&id, t2, Some("submitted"), "needs_info", &coordinator, None);
            g.audit(t2, &coordinator, "request.request_info", "request", &id);
            let message_id = id_at(&mut g.rng, t2);
            g.batch.messages.push(MessageIns { id: message_id, request_id: id.clone(), author_id: coordinator.clone(), author_role: "coordinator".into(), body: question, created_at: t2 });
            g.mail(t2, EmailKind::InfoRequested, &requester_to, staff_name, urgent, None, "needs_info", &reference, &id)?;
            row.status = "needs_info".into();
            row.version += 1;
            row.updated_at = t2;
            if t3 >= now {
                finish(g, row);
                break 'one;
            }
            let answer = forms::answer(&mut g.rng);
            let message_id = id_at(&mut g.rng, t3);
            g.batch.messages.push(MessageIns { id: message_id, request_id: id.clone(), author_id: requester_id.clone(), author_role: "requester".into(), body: answer, created_at: t3 });
            g.audit(t3, &requester_id, "message.create", "request", &id);
            g.event(&id, t3, Some("needs_info"), "submitted", &requester_id, None);
            g.audit(t3, &requester_id, "request.answer", "request", &id);
            g.mail(t3, EmailKind::RequesterAnswered, &coordinators_to, staff_name, urgent, None, "submitted", &reference, &id)?;
            row.status = "submitted".into();
            row.version += 1;
            row.updated_at = t3;
            if scheduled_at >= now {
                finish(g, row);
                break 'one;
            }
        }
        // Scheduled into the meeting.
        g.event(&id, scheduled_at, Some("submitted"), "scheduled", &coordinator, Some("scheduled".into()));
        g.audit(scheduled_at, &coordinator, "request.schedule", "request", &id);
        g.mail(scheduled_at, EmailKind::RequestScheduled, &requester_to, staff_name, urgent, Some(meeting_start), "scheduled", &reference, &id)?;
        row.status = "scheduled".into();
        row.version += 1;
        row.updated_at = scheduled_at;
        row.meeting_id = Some(meeting_id.clone());
        row.proposed_meeting_id = None;
        let held_at = meeting_start + duration + Duration::minutes(g.rng.random_range(0..45));
        if held_at >= now {
            finish(g, row);
            break 'one;
        }
        let holder = {
            let m = staffs[staff_index].meetings.get_mut(&key).expect("the meeting");
            m.held_by.get_or_insert_with(|| coordinator.clone()).clone()
        };
        g.event(&id, held_at, Some("scheduled"), "discussed", &holder, None);
        g.audit(held_at, &holder, "request.hold_meeting", "request", &id);
        row.status = "discussed".into();
        row.version += 1;
        row.updated_at = held_at;
        row.discussed_at = Some(held_at);
        let drafted = held_at + secs(&mut g.rng, 7_200, 4 * day);
        if drafted >= now {
            finish(g, row);
            break 'one;
        }
        let author = staffs[staff_index].experts.choose(&mut g.rng).cloned().unwrap_or_else(|| holder.clone());
        g.audit(drafted, &author, "opinion.write", "opinion", &id);
        let delivered = drafted + secs(&mut g.rng, 3_600, 7 * day);
        let content = serde_json::to_string(&forms::opinion(&mut g.rng))?;
        let opinion_id = id_at(&mut g.rng, drafted);
        if delivered >= now {
            g.batch.opinions.push(OpinionIns { id: opinion_id, request_id: id.clone(), version: 1, status: "draft".into(), content, author_id: author, validated_by: None, created_at: drafted, updated_at: drafted, delivered_at: None });
            finish(g, row);
            break 'one;
        }
        let validator = g.coordinator();
        g.event(&id, delivered, Some("discussed"), "completed", &validator, None);
        g.audit(delivered, &validator, "request.deliver", "request", &id);
        g.audit(delivered, &validator, "opinion.deliver", "opinion", &id);
        g.mail(delivered, EmailKind::OpinionDelivered, &requester_to, staff_name, urgent, Some(meeting_start), "completed", &reference, &id)?;
        g.batch.opinions.push(OpinionIns { id: opinion_id, request_id: id.clone(), version: 1, status: "delivered".into(), content, author_id: author, validated_by: Some(validator), created_at: drafted, updated_at: delivered, delivered_at: Some(delivered) });
        row.status = "completed".into();
        row.delivered_at = Some(delivered);
        row.version += 1;
        row.updated_at = delivered;
        finish(g, row);
        }
        if (n + 1) % args.batch == 0 {
            if batches.send(std::mem::take(&mut generator.batch)).is_err() {
                return Err(writer_failed(writer));
            }
            eprintln!("  {} requests generated ({:.1} s)", n + 1, write_started.elapsed().as_secs_f64());
        }
    }

    // Meetings: the past ones were held (attendance recorded), the others are planned.
    let mut agenda_meetings: Vec<(bool, String)> = Vec::new();
    let mut agenda_size = 0;
    for staff in &staffs {
        for meeting in staff.meetings.values() {
            if staff.code == "rcp-national" && meeting.agenda == staff.capacity {
                agenda_meetings.push((meeting.starts_at < now, meeting.id.clone()));
                agenda_size = staff.capacity as usize;
            }
            if meeting.existing {
                continue;
            }
            let end = meeting.starts_at + Duration::minutes(staff.duration_minutes);
            let held = end < now;
            let mut quorum = false;
            let (attendance, held_at) = if held {
                let participants: Vec<Participant> = (0..generator.rng.random_range(3..7))
                    .map(|i| {
                        let (first, last) = forms::name(&mut generator.rng);
                        Participant {
                            name: format!("Dr {} {}", forms::capitalised(first), forms::capitalised(last)),
                            specialty: forms::SPECIALTIES[(i * 3) % forms::SPECIALTIES.len()].to_owned(),
                            site_code: sites.choose(&mut generator.rng).unwrap().clone(),
                        }
                    })
                    .collect();
                quorum = consilium::domain::opinion::quorum_met(&participants, staff.quorum);
                (Some(serde_json::to_string(&participants)?), Some((end + Duration::minutes(generator.rng.random_range(0..45))).min(now)))
            } else {
                (None, None)
            };
            if let (true, Some(at)) = (held, held_at) {
                let holder = meeting.held_by.clone().unwrap_or_else(|| generator.coordinators[0].id.clone());
                generator.audit(at, &holder, "meeting.held", "meeting", &meeting.id);
            }
            generator.batch.meetings.push(MeetingIns {
                id: meeting.id.clone(),
                staff_code: staff.code.clone(),
                starts_at: meeting.starts_at,
                duration_minutes: staff.duration_minutes,
                status: if held { "held" } else { "planned" }.into(),
                capacity: staff.capacity,
                video_url: None,
                occurrence: meeting.occurrence.clone(),
                quorum_met: held.then_some(quorum),
                attendance,
                held_at,
                created_at: meeting.created_at,
            });
        }
    }
    if batches.send(std::mem::take(&mut generator.batch)).is_err() {
        return Err(writer_failed(writer));
    }
    drop(batches);
    let (mut conn, counts) = writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    let write_seconds = write_started.elapsed().as_secs_f64();
    eprintln!("rows written in {write_seconds:.1} s: {counts:?}");

    // Reference counters and the head of the audit chain.
    for (year, last) in &counters {
        diesel::insert_into(reference_counters::table)
            .values((
                reference_counters::center_code.eq(&generator.center),
                reference_counters::year.eq(i64::from(*year)),
                reference_counters::last_value.eq(*last),
            ))
            .execute(&mut *conn)?;
    }
    diesel::update(audit_chain::table.find(1i64))
        .set((audit_chain::seq.eq(generator.chain.0), audit_chain::hash.eq(&generator.chain.1)))
        .execute(&mut *conn)?;

    let index_started = Instant::now();
    if sqlite {
        conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    } else {
        conn.batch_execute("SET session_replication_role = DEFAULT; SET maintenance_work_mem = '512MB';")?;
    }
    for definition in &indexes {
        conn.batch_execute(definition)?;
    }
    eprintln!("{} indexes recreated in {:.1} s", indexes.len(), index_started.elapsed().as_secs_f64());
    let sample: Vec<SampleRequester> = sample_index
        .iter()
        .map(|&i| SampleRequester {
            id: requesters[i].id.clone(),
            email: requesters[i].email.clone(),
            request_ids: sample_requests.remove(&i).unwrap_or_default(),
        })
        .collect();
    if !sqlite {
        let vacuum_started = Instant::now();
        conn.batch_execute("VACUUM ANALYZE")?;
        eprintln!("VACUUM ANALYZE in {:.1} s", vacuum_started.elapsed().as_secs_f64());
        // The ids the pgbench script picks from: the same requests as the read scenario.
        let ids = sample.iter().map(|s| format!("'{}'", s.id)).collect::<Vec<_>>().join(",");
        conn.batch_execute(&format!(
            "CREATE TABLE bench_pgbench_ids (n INT PRIMARY KEY, request_id TEXT NOT NULL, requester_id TEXT NOT NULL, \
             proposed_meeting_id TEXT NOT NULL, meeting_id TEXT NOT NULL); \
             INSERT INTO bench_pgbench_ids SELECT row_number() OVER (ORDER BY id), id, requester_id, \
             coalesce(proposed_meeting_id, ''), coalesce(meeting_id, '') FROM requests WHERE requester_id IN ({ids}); \
             ANALYZE bench_pgbench_ids;"
        ))?;
    }

    // Prefer upcoming full agendas (what coordinators open), then past ones.
    agenda_meetings.sort_by_key(|(past, _)| *past);
    let manifest = Manifest {
        backend: backend.into(),
        requests: args.requests,
        requesters: args.requesters,
        requester_password: REQUESTER_PASSWORD.into(),
        sample,
        coordinators,
        agenda_meetings: agenda_meetings.into_iter().take(32).map(|(_, id)| id).collect(),
        agenda_size,
        rows: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        write_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
        statuses: statuses.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    };
    std::fs::write(&args.manifest, serde_json::to_string_pretty(&manifest)?)?;
    eprintln!(
        "seeded in {:.1} s (rows {:.1} s); statuses {:?}",
        manifest.total_seconds, write_seconds, manifest.statuses
    );
    Ok(())
}

fn topic_name(topic: Topic) -> &'static str {
    topic.as_str()
}

fn status_name(status: &str) -> &'static str {
    consilium::domain::request_status::RequestStatus::parse(status)
        .map(|s| s.as_str())
        .unwrap_or("unknown")
}

/// Drops the secondary indexes (not those of primary keys and UNIQUE constraints) and answers
/// the statements that recreate them as they were.
fn drop_secondary_indexes(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        definition: String,
    }
    let indexes: Vec<Index> = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
        )
        .load(pg)?,
        DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        .load(sqlite)?,
    };
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX \"{}\"", index.name))?;
    }
    Ok(indexes.into_iter().map(|i| i.definition).collect())
}
