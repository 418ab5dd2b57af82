//! `bench-load`: the load generator (one HTTP/1.1 keep-alive connection per virtual user, closed
//! loop, latencies in HDR histograms), the ceilings (pgbench, argon2) and the report.
//!
//! - `bench-load run`: signs in (requesters by password, coordinators with their TOTP code),
//!   drives the scenarios against a running server and writes one JSON line per scenario;
//! - `bench-load pgbench`: runs pgbench with a script, in the same JSON form;
//! - `bench-load argon2`: the hashing rate of this machine with the service's parameters;
//! - `bench-load report`: the markdown table (ratios, targets) from those JSON files.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use consilium::domain::request_form::Urgency;
use consilium_bench::{Manifest, forms};

#[derive(Debug, Parser)]
#[command(about = "Consilium's load generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drives scenarios against a running server.
    Run(RunArgs),
    /// Runs pgbench with a script (the database's ceiling).
    Pgbench(PgbenchArgs),
    /// Measures argon2id verifications per second on every core (the login's ceiling).
    Argon2 {
        #[arg(long, default_value_t = 4.0)]
        seconds: f64,
        #[arg(long)]
        backend: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the markdown table of results (JSON lines files).
    Report {
        /// JSON lines files written by `run`, `pgbench` and `argon2`.
        files: Vec<PathBuf>,
        /// Also write the table to this file.
        #[arg(long)]
        markdown: Option<PathBuf>,
    },
    /// Prints the latency table of growth runs (JSON lines files, one per size).
    Growth {
        files: Vec<PathBuf>,
        #[arg(long)]
        markdown: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[arg(long)]
    manifest: PathBuf,
    /// http://127.0.0.1:PORT
    #[arg(long)]
    base_url: String,
    /// The server's process id (its memory is read from /proc).
    #[arg(long)]
    server_pid: u32,
    /// Comma-separated: healthz,read,list,agenda,triage,triage_page,agenda_page,login,storm,
    /// create_submit,mixed; `name@8` runs one at 8 connections whatever `--connections` says.
    #[arg(long, default_value = "healthz,read,list,agenda,login,storm,create_submit,mixed")]
    scenarios: String,
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Concurrent logins of the storm.
    #[arg(long, default_value_t = 50)]
    storm_logins: usize,
    /// Label of the data set (growth runs).
    #[arg(long, default_value = "")]
    label: String,
    /// Append the results (JSON lines) to this file.
    #[arg(long)]
    out: PathBuf,
    /// The server's PostgreSQL database, to notice a restart during a measurement.
    #[arg(long)]
    database_url: Option<String>,
    /// A measurement during which other processes used more CPU than this (cores) is taken
    /// again, up to `attempts` times.
    #[arg(long, default_value_t = 0.3)]
    max_other: f64,
    #[arg(long, default_value_t = 3)]
    attempts: u32,
}

#[derive(Debug, clap::Args)]
struct PgbenchArgs {
    #[arg(long)]
    script: PathBuf,
    /// postgres:// URL of the database.
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 15.0)]
    duration: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    #[arg(long, default_value = "")]
    label: String,
    /// The scenario name in the results.
    #[arg(long, default_value = "pgbench_read")]
    name: String,
    #[arg(long)]
    out: PathBuf,
    /// Directory for pgbench's per-transaction logs.
    #[arg(long)]
    log_dir: PathBuf,
    #[arg(long, default_value_t = 0.3)]
    max_other: f64,
    #[arg(long, default_value_t = 3)]
    attempts: u32,
}

// ------------------------------------------------------------------ results

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Latency {
    count: u64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Latency {
        let ms = |v: u64| v as f64 / 1000.0;
        Latency {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Outcome {
    backend: String,
    label: String,
    scenario: String,
    connections: usize,
    seconds: f64,
    /// Operations per second (`unit`).
    throughput: f64,
    unit: String,
    latency: Latency,
    by_op: BTreeMap<String, Latency>,
    errors: u64,
    error_samples: Vec<String>,
    rss_max_mb: f64,
    hwm_mb: f64,
    /// CPU used during the measurement, in cores: the server, this load generator, PostgreSQL,
    /// and everything else on the machine (other users' builds).
    cpu_server: f64,
    cpu_loadgen: f64,
    cpu_postgres: f64,
    cpu_other: f64,
    load_average: f64,
    /// Storm only: the read scenario's p99 measured quietly just before, in this run.
    quiet_p99_ms: Option<f64>,
    notes: String,
    /// Measurements taken (a disturbed one is taken again), and whether the one kept was still
    /// disturbed by other processes.
    #[serde(default)]
    attempts: u32,
    #[serde(default)]
    disturbed: bool,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

/// What one connection records.
struct Recorder {
    measure_from: Instant,
    end: Instant,
    ops: HashMap<&'static str, Histogram<u64>>,
    errors: u64,
    samples: Vec<String>,
}

impl Recorder {
    fn new(measure_from: Instant, end: Instant) -> Recorder {
        Recorder { measure_from, end, ops: HashMap::new(), errors: 0, samples: Vec::new() }
    }

    fn running(&self) -> bool {
        Instant::now() < self.end
    }

    /// Records a request that started at `started` and just finished.
    fn record(&mut self, op: &'static str, started: Instant, ok: bool, detail: impl FnOnce() -> String) {
        let now = Instant::now();
        if started < self.measure_from || now > self.end {
            return;
        }
        if ok {
            let micros = now.duration_since(started).as_micros().max(1) as u64;
            self.ops.entry(op).or_insert_with(new_histogram).saturating_record(micros);
        } else {
            self.errors += 1;
            if self.samples.len() < 3 {
                self.samples.push(format!("{op}: {}", detail()));
            }
        }
    }
}

// ------------------------------------------------------------------ HTTP

struct Client {
    addr: SocketAddr,
    host: String,
    sender: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>>,
}

struct Answer {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: Bytes,
}

/// How a request is signed: an API access token, or a screens' session cookie.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
}

impl Client {
    fn new(addr: SocketAddr, host: &str) -> Client {
        Client { addr, host: host.to_owned(), sender: None }
    }

    async fn connect(&mut self) -> anyhow::Result<()> {
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        idempotency_key: Option<String>,
    ) -> anyhow::Result<Answer> {
        let body = body.map(|b| ("application/json", b));
        self.send_as(method, path, token.map(Auth::Bearer), body, idempotency_key).await
    }

    /// A form of the screens posted as a browser does (session cookie, `Origin`).
    async fn post_form(&mut self, path: &str, cookie: &str, form: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        self.send_as(Method::POST, path, Some(Auth::Cookie(cookie)), Some(("application/x-www-form-urlencoded", body)), None).await
    }

    async fn send_as(
        &mut self,
        method: Method,
        path: &str,
        auth: Option<Auth<'_>>,
        body: Option<(&str, Vec<u8>)>,
        idempotency_key: Option<String>,
    ) -> anyhow::Result<Answer> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        let sender = self.sender.as_mut().expect("connected");
        if let Err(error) = sender.ready().await {
            self.sender = None;
            return Err(error.into());
        }
        let mut request = Request::builder().method(method.clone()).uri(path).header("host", &self.host);
        match auth {
            Some(Auth::Bearer(token)) => request = request.header("authorization", format!("Bearer {token}")),
            Some(Auth::Cookie(cookie)) => {
                request = request.header("cookie", format!("consilium_session={cookie}"));
                if method == Method::POST {
                    request = request.header("origin", format!("http://{}", self.host));
                }
            }
            None => {}
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let body = match body {
            Some((content_type, body)) => {
                request = request.header("content-type", content_type);
                Bytes::from(body)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body))?;
        let result = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok(Answer { status, headers, body })
        }
        .await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

/// Sends, times and records one request; answers the body when the status was the expected one.
async fn call(
    client: &mut Client,
    recorder: &mut Recorder,
    op: &'static str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<String>,
    expected: StatusCode,
) -> Option<Bytes> {
    let body = body.map(|b| ("application/json", b));
    call_as(client, recorder, op, method, path, token.map(Auth::Bearer), body, idempotency_key, expected).await
}

/// [`call`] with any way of signing and any body.
#[allow(clippy::too_many_arguments)]
async fn call_as(
    client: &mut Client,
    recorder: &mut Recorder,
    op: &'static str,
    method: Method,
    path: &str,
    auth: Option<Auth<'_>>,
    body: Option<(&str, Vec<u8>)>,
    idempotency_key: Option<String>,
    expected: StatusCode,
) -> Option<Bytes> {
    let started = Instant::now();
    match client.send_as(method, path, auth, body, idempotency_key).await {
        Ok(answer) if answer.status == expected => {
            recorder.record(op, started, true, String::new);
            Some(answer.body)
        }
        Ok(answer) => {
            recorder.record(op, started, false, || {
                format!("{} {}", answer.status, String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]))
            });
            None
        }
        Err(error) => {
            recorder.record(op, started, false, || error.to_string());
            None
        }
    }
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The session cookie an answer sets.
fn session_cookie_of(answer: &Answer) -> Option<String> {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("consilium_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The page's CSRF token (its hidden field).
fn csrf_of(answer: &Answer) -> anyhow::Result<String> {
    let html = String::from_utf8_lossy(&answer.body);
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).context("a page with a form")? + marker.len();
    Ok(html[at..].split('"').next().unwrap_or_default().to_owned())
}

// ------------------------------------------------------------------ signing in

#[derive(Deserialize)]
struct LoginAnswer {
    access_token: Option<String>,
    mfa_token: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

async fn login_password(client: &mut Client, email: &str, password: &str) -> anyhow::Result<LoginAnswer> {
    let body = serde_json::to_vec(&serde_json::json!({"email": email, "password": password}))?;
    let answer = client.send(Method::POST, "/api/v1/auth/login", None, Some(body), None).await?;
    if answer.status != StatusCode::OK {
        bail!("login of {email}: {} {}", answer.status, String::from_utf8_lossy(&answer.body));
    }
    Ok(serde_json::from_slice(&answer.body)?)
}

/// The TOTP steps already used per account (a step is accepted once; one step of drift).
#[derive(Default)]
struct TotpSteps(Mutex<HashMap<String, i64>>);

impl TotpSteps {
    async fn code(&self, secret: &str) -> anyhow::Result<String> {
        let bytes = consilium::auth::totp::parse_secret(secret).context("a TOTP secret")?;
        loop {
            let step = chrono::Utc::now().timestamp() / 30;
            let pick = {
                let mut used = self.0.lock().unwrap();
                let last = used.get(secret).copied().unwrap_or(i64::MIN);
                let pick = [step, step + 1].into_iter().find(|s| *s > last);
                if let Some(pick) = pick {
                    used.insert(secret.to_owned(), pick);
                }
                pick
            };
            match pick {
                Some(pick) => return Ok(consilium::auth::totp::code_at(&bytes, (pick * 30) as u64)),
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}

struct Ctx {
    addr: SocketAddr,
    host: String,
    manifest: Manifest,
    totp: TotpSteps,
}

impl Ctx {
    fn client(&self) -> Client {
        Client::new(self.addr, &self.host)
    }

    /// Access tokens of the first `n` sample requesters (a few logins at a time).
    async fn requester_tokens(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let n = n.min(self.manifest.sample.len());
        let mut tokens = Vec::with_capacity(n);
        for chunk in self.manifest.sample[..n].chunks(4) {
            let mut handles = Vec::new();
            for requester in chunk {
                let (mut client, email, password) =
                    (self.client(), requester.email.clone(), self.manifest.requester_password.clone());
                handles.push(tokio::spawn(async move {
                    let answer = login_password(&mut client, &email, &password).await?;
                    answer.access_token.context("an access token")
                }));
            }
            for handle in handles {
                tokens.push(handle.await??);
            }
        }
        Ok(tokens)
    }

    /// Session cookies of every coordinator, signed in through the screens as a browser does:
    /// the sign-in page, the password, the second-factor page, the TOTP code.
    async fn coordinator_sessions(&self) -> anyhow::Result<Vec<String>> {
        let mut sessions = Vec::new();
        for account in &self.manifest.coordinators {
            let mut client = self.client();
            let page = client.send_as(Method::GET, "/login", None, None, None).await?;
            let seed = session_cookie_of(&page).context("the sign-in page sets a cookie")?;
            let csrf = csrf_of(&page)?;
            let form = [("csrf_token", csrf.as_str()), ("email", account.email.as_str()), ("password", account.password.as_str())];
            let answer = client.post_form("/login", &seed, &form).await?;
            if answer.status != StatusCode::SEE_OTHER {
                bail!("screens' sign-in of {}: {}", account.email, answer.status);
            }
            let cookie = session_cookie_of(&answer).context("a new session")?;
            let page = client.send_as(Method::GET, "/login/mfa", Some(Auth::Cookie(&cookie)), None, None).await?;
            let csrf = csrf_of(&page)?;
            let code = self.totp.code(&account.totp_secret).await?;
            let answer = client.post_form("/login/mfa", &cookie, &[("csrf_token", csrf.as_str()), ("code", code.as_str())]).await?;
            if answer.status != StatusCode::SEE_OTHER {
                bail!("screens' second factor of {}: {} {}", account.email, answer.status, String::from_utf8_lossy(&answer.body));
            }
            sessions.push(session_cookie_of(&answer).context("the signed-in session")?);
        }
        Ok(sessions)
    }

    /// Access tokens of every coordinator: password, then the TOTP code.
    async fn coordinator_tokens(&self) -> anyhow::Result<Vec<String>> {
        let mut tokens = Vec::new();
        for account in &self.manifest.coordinators {
            let mut client = self.client();
            let first = login_password(&mut client, &account.email, &account.password).await?;
            let mfa_token = first.mfa_token.context("a coordinator is asked for the second factor")?;
            let code = self.totp.code(&account.totp_secret).await?;
            let body = serde_json::to_vec(&serde_json::json!({"mfa_token": mfa_token, "code": code}))?;
            let answer = client.send(Method::POST, "/api/v1/auth/login/mfa", None, Some(body), None).await?;
            if answer.status != StatusCode::OK {
                bail!("second factor of {}: {} {}", account.email, answer.status, String::from_utf8_lossy(&answer.body));
            }
            let pair: LoginAnswer = serde_json::from_slice(&answer.body)?;
            tokens.push(pair.access_token.context("an access token")?);
        }
        Ok(tokens)
    }
}

// ------------------------------------------------------------------ scenarios

#[derive(Clone)]
struct Reader {
    token: String,
    ids: Arc<Vec<String>>,
}

fn random_form(rng: &mut StdRng) -> Vec<u8> {
    let topic = forms::pick_topic(rng);
    let urgency = if rng.random::<f64>() < 0.1 { Urgency::Urgent } else { Urgency::Routine };
    let today = chrono::Utc::now().date_naive();
    serde_json::to_vec(&forms::form(rng, topic, urgency, today, true)).expect("a form serialises")
}

async fn op_read(client: &mut Client, rec: &mut Recorder, rng: &mut StdRng, readers: &[Reader]) {
    let reader = readers.choose(rng).expect("readers");
    let id = reader.ids.choose(rng).expect("requests");
    let path = format!("/api/v1/requests/{id}");
    call(client, rec, "read", Method::GET, &path, Some(&reader.token), None, None, StatusCode::OK).await;
}

async fn op_list(client: &mut Client, rec: &mut Recorder, rng: &mut StdRng, tokens: &[String]) {
    let token = tokens.choose(rng).expect("tokens");
    call(client, rec, "list", Method::GET, "/api/v1/requests?status=submitted&limit=50", Some(token), None, None, StatusCode::OK).await;
}

async fn op_agenda(client: &mut Client, rec: &mut Recorder, rng: &mut StdRng, tokens: &[String], meetings: &[String]) {
    let token = tokens.choose(rng).expect("tokens");
    let path = format!("/api/v1/meetings/{}", meetings.choose(rng).expect("meetings"));
    call(client, rec, "agenda", Method::GET, &path, Some(token), None, None, StatusCode::OK).await;
}

/// The list behind the triage screen, as JSON.
async fn op_triage(client: &mut Client, rec: &mut Recorder, rng: &mut StdRng, tokens: &[String]) {
    let token = tokens.choose(rng).expect("tokens");
    call(client, rec, "triage", Method::GET, "/api/v1/triage?limit=50", Some(token), None, None, StatusCode::OK).await;
}

/// A GET of a screen with a session cookie; the page must be whole (its closing tag).
async fn op_page(client: &mut Client, rec: &mut Recorder, op: &'static str, path: &str, cookie: &str) {
    let started = Instant::now();
    match client.send_as(Method::GET, path, Some(Auth::Cookie(cookie)), None, None).await {
        Ok(answer) if answer.status == StatusCode::OK && answer.body.trim_ascii_end().ends_with(b"</html>") => rec.record(op, started, true, String::new),
        Ok(answer) => rec.record(op, started, false, || {
            format!("{} {}", answer.status, String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]))
        }),
        Err(error) => rec.record(op, started, false, || error.to_string()),
    }
}

async fn op_create(client: &mut Client, rec: &mut Recorder, rng: &mut StdRng, token: &str) -> Option<String> {
    let key = uuid::Uuid::new_v4().to_string();
    let body = random_form(rng);
    let answer = call(client, rec, "create", Method::POST, "/api/v1/requests", Some(token), Some(body), Some(key), StatusCode::CREATED).await?;
    serde_json::from_slice::<Created>(&answer).ok().map(|c| c.id)
}

async fn op_submit(client: &mut Client, rec: &mut Recorder, token: &str, id: &str) -> bool {
    let path = format!("/api/v1/requests/{id}/submit");
    call(client, rec, "submit", Method::POST, &path, Some(token), None, None, StatusCode::OK).await.is_some()
}

async fn op_login(client: &mut Client, rec: &mut Recorder, email: &str, password: &str) -> Option<String> {
    let body = serde_json::to_vec(&serde_json::json!({"email": email, "password": password})).ok()?;
    let answer = call(client, rec, "login", Method::POST, "/api/v1/auth/login", None, Some(body), None, StatusCode::OK).await?;
    serde_json::from_slice::<LoginAnswer>(&answer).ok()?.access_token
}

/// What a connection does.
#[derive(Clone)]
enum Work {
    Healthz,
    Read(Arc<Vec<Reader>>),
    List(Arc<Vec<String>>),
    Agenda(Arc<Vec<String>>, Arc<Vec<String>>),
    Triage(Arc<Vec<String>>),
    /// The activity figures of the last year (coordinators' tokens, the query).
    Kpis(Arc<Vec<String>>, String),
    /// The screens: session cookies (and the meetings, for the agenda page).
    TriagePage(Arc<Vec<String>>),
    AgendaPage(Arc<Vec<String>>, Arc<Vec<String>>),
    CreateSubmit(String),
    Login(String, String),
    Mixed {
        reader: Reader,
        readers: Arc<Vec<Reader>>,
        email: String,
        password: String,
        coordinators: Arc<Vec<String>>,
        meetings: Arc<Vec<String>>,
    },
}

async fn connection(mut client: Client, work: Work, mut rec: Recorder, seed: u64) -> Recorder {
    let mut rng = StdRng::seed_from_u64(seed);
    match work {
        Work::Healthz => {
            while rec.running() {
                call(&mut client, &mut rec, "healthz", Method::GET, "/healthz", None, None, None, StatusCode::OK).await;
            }
        }
        Work::Read(readers) => {
            while rec.running() {
                op_read(&mut client, &mut rec, &mut rng, &readers).await;
            }
        }
        Work::List(tokens) => {
            while rec.running() {
                op_list(&mut client, &mut rec, &mut rng, &tokens).await;
            }
        }
        Work::Agenda(tokens, meetings) => {
            while rec.running() {
                op_agenda(&mut client, &mut rec, &mut rng, &tokens, &meetings).await;
            }
        }
        Work::Kpis(tokens, query) => {
            while rec.running() {
                let token = tokens.choose(&mut rng).expect("tokens");
                call(&mut client, &mut rec, "kpis", Method::GET, &query, Some(token), None, None, StatusCode::OK).await;
            }
        }
        Work::Triage(tokens) => {
            while rec.running() {
                op_triage(&mut client, &mut rec, &mut rng, &tokens).await;
            }
        }
        Work::TriagePage(cookies) => {
            while rec.running() {
                let cookie = cookies.choose(&mut rng).expect("sessions");
                op_page(&mut client, &mut rec, "triage_page", "/triage", cookie).await;
            }
        }
        Work::AgendaPage(cookies, meetings) => {
            while rec.running() {
                let cookie = cookies.choose(&mut rng).expect("sessions");
                let path = format!("/meetings/{}", meetings.choose(&mut rng).expect("meetings"));
                op_page(&mut client, &mut rec, "agenda_page", &path, cookie).await;
            }
        }
        Work::CreateSubmit(token) => {
            while rec.running() {
                if let Some(id) = op_create(&mut client, &mut rec, &mut rng, &token).await {
                    op_submit(&mut client, &mut rec, &token, &id).await;
                }
            }
        }
        Work::Login(email, password) => {
            while rec.running() {
                op_login(&mut client, &mut rec, &email, &password).await;
            }
        }
        Work::Mixed { mut reader, readers, email, password, coordinators, meetings } => {
            let mut draft: Option<String> = None;
            while rec.running() {
                let x: f64 = rng.random();
                if x < 0.50 {
                    op_read(&mut client, &mut rec, &mut rng, std::slice::from_ref(&reader)).await;
                } else if x < 0.60 {
                    op_read(&mut client, &mut rec, &mut rng, &readers).await;
                } else if x < 0.70 {
                    op_list(&mut client, &mut rec, &mut rng, &coordinators).await;
                } else if x < 0.80 {
                    op_agenda(&mut client, &mut rec, &mut rng, &coordinators, &meetings).await;
                } else if x < 0.95 {
                    match draft.take() {
                        Some(id) => {
                            op_submit(&mut client, &mut rec, &reader.token, &id).await;
                        }
                        None => draft = op_create(&mut client, &mut rec, &mut rng, &reader.token).await,
                    }
                } else if let Some(token) = op_login(&mut client, &mut rec, &email, &password).await {
                    reader.token = token;
                }
            }
        }
    }
    rec
}

// ------------------------------------------------------------------ measuring the machine

fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn clock_ticks() -> f64 {
    100.0
}

/// utime + stime of a process, in seconds.
fn process_cpu(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some(end) = stat.rfind(')') else { return 0.0 };
    let fields: Vec<&str> = stat[end + 2..].split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / clock_ticks()
}

/// CPU seconds of this process's children that were waited for (pgbench).
fn children_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let Some(end) = stat.rfind(')') else { return 0.0 };
    let fields: Vec<&str> = stat[end + 2..].split_whitespace().collect();
    let ticks: f64 = fields.get(13).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(14).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / clock_ticks()
}

/// CPU seconds of every PostgreSQL process (server and backends), by process id.
fn postgres_cpu() -> HashMap<u32, f64> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return HashMap::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim() == "postgres")
                .unwrap_or(false)
        })
        .map(|pid| (pid, process_cpu(pid)))
        .collect()
}

/// CPU used by PostgreSQL processes between two snapshots (those that exited meanwhile are
/// not counted; those that started are counted from zero).
fn postgres_delta(before: &HashMap<u32, f64>, after: &HashMap<u32, f64>) -> f64 {
    after.iter().map(|(pid, cpu)| (cpu - before.get(pid).copied().unwrap_or(0.0)).max(0.0)).sum()
}

/// Busy CPU seconds of the whole machine.
fn machine_busy() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    let Some(line) = stat.lines().next() else { return 0.0 };
    let values: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: interrupts are left out (the loopback
    // traffic of the measurement itself is handled there, charged to no process).
    let busy: f64 = [0, 1, 2, 7].iter().filter_map(|i| values.get(*i)).sum();
    busy / clock_ticks()
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

struct CpuSnapshot {
    server: f64,
    loadgen: f64,
    postgres: HashMap<u32, f64>,
    machine: f64,
    at: Instant,
}

impl CpuSnapshot {
    fn take(server_pid: u32) -> CpuSnapshot {
        CpuSnapshot {
            server: process_cpu(server_pid),
            loadgen: process_cpu(std::process::id()),
            postgres: postgres_cpu(),
            machine: machine_busy(),
            at: Instant::now(),
        }
    }
}

// ------------------------------------------------------------------ running a scenario

struct Group {
    work: Work,
    connections: usize,
}

/// Runs connection groups together; answers one recorder per group (merged).
/// Waits (at most 60 s) until the server is idle: the background work the previous scenario
/// left (sealing its audit rows, above all) is done, so each scenario's CPU is its own.
async fn settle(server_pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let before = process_cpu(server_pid);
        tokio::time::sleep(Duration::from_millis(500)).await;
        if process_cpu(server_pid) - before < 0.03 || Instant::now() > deadline {
            return;
        }
    }
}

async fn drive(ctx: &Ctx, groups: Vec<Group>, warmup: f64, duration: f64, server_pid: u32, out: &mut Outcome) -> Vec<(HashMap<&'static str, Histogram<u64>>, u64, Vec<String>)> {
    settle(server_pid).await;
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(warmup);
    let end = measure_from + Duration::from_secs_f64(duration);
    let mut handles = Vec::new();
    let mut seed = 1u64;
    for (g, group) in groups.iter().enumerate() {
        for _ in 0..group.connections {
            seed += 1;
            let task = connection(ctx.client(), group.work.clone(), Recorder::new(measure_from, end), seed);
            handles.push((g, tokio::spawn(task)));
        }
    }
    // Memory and CPU during the measured window.
    tokio::time::sleep_until(measure_from.into()).await;
    out.load_average = load_average();
    let before = CpuSnapshot::take(server_pid);
    let mut rss_max = 0u64;
    while Instant::now() < end {
        rss_max = rss_max.max(proc_status_kb(server_pid, "VmRSS:").unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = CpuSnapshot::take(server_pid);
    let wall = after.at.duration_since(before.at).as_secs_f64();
    out.cpu_server = (after.server - before.server) / wall;
    out.cpu_loadgen = (after.loadgen - before.loadgen) / wall;
    out.cpu_postgres = postgres_delta(&before.postgres, &after.postgres) / wall;
    out.cpu_other = ((after.machine - before.machine) / wall - out.cpu_server - out.cpu_loadgen - out.cpu_postgres).max(0.0);
    out.rss_max_mb = rss_max as f64 / 1024.0;
    let mut merged: Vec<(HashMap<&'static str, Histogram<u64>>, u64, Vec<String>)> =
        groups.iter().map(|_| (HashMap::new(), 0, Vec::new())).collect();
    for (g, handle) in handles {
        let rec = handle.await.expect("a connection task");
        let (ops, errors, samples) = &mut merged[g];
        for (op, h) in rec.ops {
            ops.entry(op).or_insert_with(new_histogram).add(&h).expect("same bounds");
        }
        *errors += rec.errors;
        for s in rec.samples {
            if samples.len() < 5 {
                samples.push(s);
            }
        }
    }
    out.hwm_mb = proc_status_kb(server_pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0;
    out.rss_max_mb = out.rss_max_mb.max(proc_status_kb(server_pid, "VmRSS:").unwrap_or(0) as f64 / 1024.0);
    out.seconds = duration;
    merged
}

fn fill(out: &mut Outcome, ops: &HashMap<&'static str, Histogram<u64>>, errors: u64, samples: Vec<String>, throughput_op: Option<&str>) {
    let mut all = new_histogram();
    for (op, h) in ops {
        all.add(h).expect("same bounds");
        out.by_op.insert(op.to_string(), Latency::of(h));
    }
    out.latency = Latency::of(&all);
    out.errors = errors;
    out.error_samples = samples;
    let count = match throughput_op {
        Some(op) => ops.get(op).map_or(0, |h| h.len()),
        None => all.len(),
    };
    out.throughput = count as f64 / out.seconds;
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(&args.manifest)?)?;
    let authority = args.base_url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let addr: SocketAddr = tokio::net::lookup_host(&authority).await?.next().context("server address")?;
    let ctx = Ctx { addr, host: authority, manifest, totp: TotpSteps::default() };
    let scenarios: Vec<String> = args.scenarios.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let mut quiet_read_p99: Option<f64> = None;
    for scenario in scenarios {
        // A measurement disturbed by another workload (CPU used by other processes, or
        // PostgreSQL restarted) is taken again; the least disturbed attempt is kept.
        let mut best: Option<Outcome> = None;
        for attempt in 1..=args.attempts.max(1) {
            let started_pg = postmaster_start(args.database_url.as_deref());
            let mut out = measure(&ctx, &args, &scenario, quiet_read_p99).await?;
            let restarted = started_pg != postmaster_start(args.database_url.as_deref());
            out.attempts = attempt;
            out.disturbed = restarted || out.cpu_other > args.max_other;
            if restarted {
                out.notes = format!("{} [PostgreSQL restarted during the measurement]", out.notes);
            }
            print_outcome(&out);
            let better = match &best {
                None => true,
                Some(b) => (b.disturbed && !out.disturbed) || (b.disturbed == out.disturbed && out.cpu_other < b.cpu_other),
            };
            let disturbed = out.disturbed;
            if better {
                best = Some(out);
            }
            if !disturbed {
                break;
            }
            if attempt < args.attempts {
                eprintln!("    disturbed (other processes used more than {} cores, or PostgreSQL restarted): measuring again in 10 s", args.max_other);
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
        let out = best.expect("one attempt at least");
        if out.scenario == "read" {
            quiet_read_p99 = Some(out.latency.p99_ms);
        }
        append(&args.out, &out)?;
    }
    Ok(())
}

fn print_outcome(out: &Outcome) {
    eprintln!(
        "  {:<14} {:>9.1} {:<7} p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  errors {}  RSS {:.0} MB  cpu server {:.2} pg {:.2} loadgen {:.2} other {:.2}{}",
        out.scenario, out.throughput, out.unit, out.latency.p50_ms, out.latency.p99_ms, out.latency.p999_ms,
        out.errors, out.rss_max_mb, out.cpu_server, out.cpu_postgres, out.cpu_loadgen, out.cpu_other,
        if out.disturbed { "  [disturbed]" } else { "" }
    );
    for sample in &out.error_samples {
        eprintln!("    error: {sample}");
    }
}

/// When the PostgreSQL server started (to notice a restart), if a database is given.
fn postmaster_start(database_url: Option<&str>) -> Option<String> {
    let url = database_url?;
    let output = std::process::Command::new("psql")
        .args(["-qAt", "-c", "SELECT pg_postmaster_start_time()", url])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn measure(ctx: &Ctx, args: &RunArgs, scenario: &str, quiet_read_p99: Option<f64>) -> anyhow::Result<Outcome> {
    // `name@8`: the scenario at 8 connections whatever `--connections` says.
    let (scenario, c) = match scenario.split_once('@') {
        Some((name, conns)) => (name, conns.parse::<usize>().context("connections after @")?),
        None => (scenario, args.connections),
    };
    {
        let scenario = scenario.to_owned();
        let mut out = Outcome {
            backend: ctx.manifest.backend.clone(),
            label: args.label.clone(),
            scenario: scenario.clone(),
            connections: c,
            unit: "req/s".into(),
            ..Default::default()
        };
        // Fresh sign-ins for every scenario (access tokens last 15 minutes).
        let readers = |tokens: Vec<String>| -> Arc<Vec<Reader>> {
            Arc::new(
                tokens
                    .into_iter()
                    .zip(&ctx.manifest.sample)
                    .filter(|(_, s)| !s.request_ids.is_empty())
                    .map(|(token, s)| Reader { token, ids: Arc::new(s.request_ids.clone()) })
                    .collect(),
            )
        };
        let sample = ctx.manifest.sample.len();
        let merged = match scenario.as_str() {
            "healthz" => {
                let merged = drive(&ctx, vec![Group { work: Work::Healthz, connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "read" => {
                let readers = readers(ctx.requester_tokens(sample).await?);
                out.notes = format!("{} requesters, {} requests", readers.len(), readers.iter().map(|r| r.ids.len()).sum::<usize>());
                let merged = drive(&ctx, vec![Group { work: Work::Read(readers), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "list" => {
                let tokens = Arc::new(ctx.coordinator_tokens().await?);
                out.notes = format!("{} coordinators", tokens.len());
                let merged = drive(&ctx, vec![Group { work: Work::List(tokens), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "agenda" => {
                let tokens = Arc::new(ctx.coordinator_tokens().await?);
                let meetings = Arc::new(ctx.manifest.agenda_meetings.clone());
                if meetings.is_empty() {
                    bail!("the data set has no meeting with a full agenda");
                }
                out.notes = format!("{} meetings, agenda of {}", meetings.len(), ctx.manifest.agenda_size);
                let merged = drive(&ctx, vec![Group { work: Work::Agenda(tokens, meetings), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "triage" => {
                let tokens = Arc::new(ctx.coordinator_tokens().await?);
                out.notes = format!("{} coordinators, GET /api/v1/triage?limit=50", tokens.len());
                let merged = drive(&ctx, vec![Group { work: Work::Triage(tokens), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "kpis" => {
                // One coordinator at a time: the figures are a report, read by one person, and
                // the target is its latency (under 500 ms for a year of the center).
                let tokens = Arc::new(ctx.coordinator_tokens().await?);
                let today = chrono::Utc::now().date_naive();
                let query = format!("/api/v1/admin/kpis?from={}&to={today}", today - chrono::Duration::days(364));
                out.notes = format!("1 connection, a year: GET {query}");
                let merged = drive(&ctx, vec![Group { work: Work::Kpis(tokens, query), connections: 1 }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "triage_page" => {
                let sessions = Arc::new(ctx.coordinator_sessions().await?);
                out.notes = format!("{} coordinators' sessions, GET /triage (50 rows)", sessions.len());
                let merged = drive(&ctx, vec![Group { work: Work::TriagePage(sessions), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "agenda_page" => {
                let sessions = Arc::new(ctx.coordinator_sessions().await?);
                let meetings = Arc::new(ctx.manifest.agenda_meetings.clone());
                if meetings.is_empty() {
                    bail!("the data set has no meeting with a full agenda");
                }
                out.notes = format!("{} meetings, agenda of {}, GET /meetings/{{id}}", meetings.len(), ctx.manifest.agenda_size);
                let merged = drive(&ctx, vec![Group { work: Work::AgendaPage(sessions, meetings), connections: c }], args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                merged
            }
            "create_submit" => {
                let tokens = ctx.requester_tokens(c).await?;
                let groups = (0..c).map(|i| Group { work: Work::CreateSubmit(tokens[i % tokens.len()].clone()), connections: 1 }).collect();
                let merged = drive(&ctx, groups, args.warmup, args.duration, args.server_pid, &mut out).await;
                let mut ops: HashMap<&'static str, Histogram<u64>> = HashMap::new();
                let (mut errors, mut samples) = (0, Vec::new());
                for (group_ops, group_errors, group_samples) in &merged {
                    for (op, h) in group_ops {
                        ops.entry(op).or_insert_with(new_histogram).add(h).expect("same bounds");
                    }
                    errors += group_errors;
                    samples.extend(group_samples.iter().take(2).cloned());
                }
                samples.truncate(5);
                fill(&mut out, &ops, errors, samples, Some("submit"));
                out.unit = "pairs/s".into();
                out.notes = "create (201, Idempotency-Key) then submit (200); latency of each request".into();
                merged
            }
            "login" => {
                let groups = (0..c)
                    .map(|i| {
                        let s = &ctx.manifest.sample[i % sample];
                        Group { work: Work::Login(s.email.clone(), ctx.manifest.requester_password.clone()), connections: 1 }
                    })
                    .collect();
                let merged = drive(&ctx, groups, args.warmup, args.duration, args.server_pid, &mut out).await;
                let mut ops: HashMap<&'static str, Histogram<u64>> = HashMap::new();
                let (mut errors, mut samples) = (0, Vec::new());
                for (group_ops, group_errors, group_samples) in &merged {
                    for (op, h) in group_ops {
                        ops.entry(op).or_insert_with(new_histogram).add(h).expect("same bounds");
                    }
                    errors += group_errors;
                    samples.extend(group_samples.iter().take(2).cloned());
                }
                samples.truncate(5);
                fill(&mut out, &ops, errors, samples, None);
                merged
            }
            "storm" => {
                // The read scenario again, with `storm_logins` connections logging in meanwhile.
                let readers = readers(ctx.requester_tokens(sample).await?);
                let mut groups = vec![Group { work: Work::Read(readers), connections: c }];
                for i in 0..args.storm_logins {
                    let s = &ctx.manifest.sample[i % sample];
                    groups.push(Group { work: Work::Login(s.email.clone(), ctx.manifest.requester_password.clone()), connections: 1 });
                }
                let merged = drive(&ctx, groups, args.warmup, args.duration, args.server_pid, &mut out).await;
                fill(&mut out, &merged[0].0, merged[0].1, merged[0].2.clone(), None);
                let mut logins = new_histogram();
                let mut login_errors = 0;
                for (ops, errors, _) in &merged[1..] {
                    if let Some(h) = ops.get("login") {
                        logins.add(h).expect("same bounds");
                    }
                    login_errors += errors;
                }
                out.by_op.insert("login".into(), Latency::of(&logins));
                out.errors += login_errors;
                out.quiet_p99_ms = quiet_read_p99;
                out.notes = format!(
                    "{} reading + {} logging in ({:.0} logins/s)",
                    c,
                    args.storm_logins,
                    logins.len() as f64 / args.duration
                );
                merged
            }
            "mixed" => {
                let readers = readers(ctx.requester_tokens(sample).await?);
                let coordinators = Arc::new(ctx.coordinator_tokens().await?);
                let meetings = Arc::new(ctx.manifest.agenda_meetings.clone());
                let groups = (0..c)
                    .map(|i| {
                        let reader = readers[i % readers.len()].clone();
                        let email = ctx.manifest.sample.iter().find(|s| s.request_ids == *reader.ids).map(|s| s.email.clone()).unwrap_or_default();
                        Group {
                            work: Work::Mixed {
                                reader,
                                readers: readers.clone(),
                                email,
                                password: ctx.manifest.requester_password.clone(),
                                coordinators: coordinators.clone(),
                                meetings: meetings.clone(),
                            },
                            connections: 1,
                        }
                    })
                    .collect();
                let merged = drive(&ctx, groups, args.warmup, args.duration, args.server_pid, &mut out).await;
                let mut ops: HashMap<&'static str, Histogram<u64>> = HashMap::new();
                let (mut errors, mut samples) = (0, Vec::new());
                for (group_ops, group_errors, group_samples) in &merged {
                    for (op, h) in group_ops {
                        ops.entry(op).or_insert_with(new_histogram).add(h).expect("same bounds");
                    }
                    errors += group_errors;
                    samples.extend(group_samples.iter().take(2).cloned());
                }
                samples.truncate(5);
                fill(&mut out, &ops, errors, samples, None);
                out.notes = "80 % reads (request 60, coordinator list 10, agenda 10), 15 % writes (create, submit), 5 % logins".into();
                merged
            }
            other => bail!("unknown scenario {other}"),
        };
        drop(merged);
        Ok(out)
    }
}

fn append(path: &PathBuf, out: &Outcome) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(file, "{}", serde_json::to_string(out)?)?;
    Ok(())
}

// ------------------------------------------------------------------ ceilings

fn pgbench(args: PgbenchArgs) -> anyhow::Result<()> {
    let mut best: Option<Outcome> = None;
    for attempt in 1..=args.attempts.max(1) {
        let mut out = match pgbench_once(&args, attempt) {
            Ok(out) => out,
            Err(error) if attempt < args.attempts => {
                eprintln!("    pgbench failed ({error}): again in 10 s");
                std::thread::sleep(Duration::from_secs(10));
                continue;
            }
            Err(error) => return Err(error),
        };
        out.attempts = attempt;
        out.disturbed = out.cpu_other > args.max_other;
        eprintln!(
            "  {:<14} {:>9.1} tx/s   p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  failed {}  cpu pg {:.2} pgbench {:.2} other {:.2}{}",
            out.scenario, out.throughput, out.latency.p50_ms, out.latency.p99_ms, out.latency.p999_ms, out.errors, out.cpu_postgres, out.cpu_loadgen, out.cpu_other,
            if out.disturbed { "  [disturbed]" } else { "" }
        );
        let disturbed = out.disturbed;
        if best.as_ref().is_none_or(|b| (b.disturbed && !disturbed) || (b.disturbed == disturbed && out.cpu_other < b.cpu_other)) {
            best = Some(out);
        }
        if !disturbed {
            break;
        }
        if attempt < args.attempts {
            eprintln!("    disturbed (other processes used more than {} cores): measuring again in 10 s", args.max_other);
            std::thread::sleep(Duration::from_secs(10));
        }
    }
    append(&args.out, &best.expect("one attempt at least"))
}

fn pgbench_once(args: &PgbenchArgs, attempt: u32) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.log_dir)?;
    // Audit ids are made of this tag, the client and a counter: unique per pgbench pass.
    let run_tag = format!("{}a{attempt}", std::process::id());
    let ids = std::process::Command::new("psql")
        .args(["-qAt", "-c", "SELECT count(*) FROM bench_pgbench_ids", &args.database_url])
        .output()?;
    let ids: u64 = String::from_utf8_lossy(&ids.stdout).trim().parse().context("rows of bench_pgbench_ids")?;
    let common = |seconds: f64, pass: u32| {
        let mut command = std::process::Command::new("pgbench");
        command
            .args(["-n", "-M", "prepared", "-c", &args.clients.to_string(), "-j", "2"])
            .args(["-T", &format!("{}", seconds.ceil() as u64)])
            .arg("-f")
            .arg(&args.script)
            .args(["-D", &format!("run={run_tag}x{pass}"), "-D", "seq=0", "-D", "one=1", "-D", &format!("ids={ids}")])
            .arg(&args.database_url);
        command
    };
    // Warm-up (caches, prepared statements), not measured.
    if args.warmup > 0.0 {
        let status = common(args.warmup, 0).output()?;
        if !status.status.success() {
            bail!("pgbench failed: {}", String::from_utf8_lossy(&status.stderr));
        }
    }
    let before = CpuSnapshot::take(0);
    let children_before = children_cpu();
    let load = load_average();
    let prefix = args.log_dir.join("pgbench");
    let child = common(args.duration, 1)
        .arg("-l")
        .arg(format!("--log-prefix={}", prefix.display()))
        .current_dir(&args.log_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // pgbench's backends exit with it: their CPU is sampled while they run.
    let mut postgres_seen = before.postgres.clone();
    let child_pid = child.id();
    while std::fs::metadata(format!("/proc/{child_pid}/task")).is_ok()
        && !std::fs::read_to_string(format!("/proc/{child_pid}/stat")).is_ok_and(|s| s.contains(") Z"))
    {
        for (pid, cpu) in postgres_cpu() {
            let seen = postgres_seen.entry(pid).or_insert(0.0);
            *seen = seen.max(cpu);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = child.wait_with_output()?;
    let mut after = CpuSnapshot::take(0);
    for (pid, cpu) in postgres_seen {
        let entry = after.postgres.entry(pid).or_insert(0.0);
        *entry = entry.max(cpu);
    }
    let pgbench_cpu = children_cpu() - children_before;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    if !output.status.success() {
        bail!("pgbench failed: {}{}", stdout, String::from_utf8_lossy(&output.stderr));
    }
    let tps: f64 = stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .context("pgbench's tps")?;
    let failed: u64 = stdout
        .lines()
        .find(|l| l.starts_with("number of failed transactions"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut histogram = new_histogram();
    for entry in std::fs::read_dir(&args.log_dir)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("pgbench.")) {
            for line in std::fs::read_to_string(&path)?.lines() {
                if let Some(micros) = line.split_whitespace().nth(2).and_then(|v| v.parse::<u64>().ok()) {
                    histogram.saturating_record(micros.max(1));
                }
            }
            std::fs::remove_file(&path)?;
        }
    }
    let wall = after.at.duration_since(before.at).as_secs_f64();
    let out = Outcome {
        backend: "postgresql".into(),
        label: args.label.clone(),
        scenario: args.name.clone(),
        connections: args.clients,
        seconds: args.duration,
        throughput: tps,
        unit: "tx/s".into(),
        latency: Latency::of(&histogram),
        errors: failed,
        cpu_postgres: postgres_delta(&before.postgres, &after.postgres) / wall,
        cpu_loadgen: pgbench_cpu / wall,
        cpu_other: ((after.machine - before.machine - pgbench_cpu) / wall - postgres_delta(&before.postgres, &after.postgres) / wall).max(0.0),
        load_average: load,
        notes: format!("pgbench -M prepared -c {} -j 2 -T {} -f {}", args.clients, args.duration, args.script.display()),
        ..Default::default()
    };
    Ok(out)
}

fn argon2(seconds: f64, backend: String, out_path: PathBuf) -> anyhow::Result<()> {
    let hash = consilium::auth::password_hash::hash_blocking("bench-ceiling-password")?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let hash = hash.clone();
                scope.spawn(move || {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        assert!(consilium::auth::password_hash::verify_blocking("bench-ceiling-password", Some(&hash)));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a hashing thread")).collect()
    });
    let out = Outcome {
        backend,
        scenario: "argon2".into(),
        connections: threads,
        seconds,
        throughput: counts.iter().sum::<u64>() as f64 / seconds,
        unit: "verify/s".into(),
        load_average: load_average(),
        notes: format!("argon2id m=19456 t=2 p=1 verifications on {threads} threads"),
        ..Default::default()
    };
    eprintln!("  argon2         {:>9.1} verify/s on {threads} threads", out.throughput);
    append(&out_path, &out)
}

// ------------------------------------------------------------------ the report

fn read_outcomes(files: &[PathBuf]) -> anyhow::Result<Vec<Outcome>> {
    let mut all = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file).with_context(|| file.display().to_string())?.lines() {
            if !line.trim().is_empty() {
                all.push(serde_json::from_str(line)?);
            }
        }
    }
    Ok(all)
}

const RSS_LIMIT_MB: f64 = 150.0;

fn report(files: Vec<PathBuf>, markdown: Option<PathBuf>) -> anyhow::Result<()> {
    let all = read_outcomes(&files)?;
    let mut text = String::new();
    text.push_str("| backend | scenario | conns | throughput | p50 ms | p99 ms | p99.9 ms | errors | RSS max MB | ceiling | ratio | target | met |\n");
    text.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|\n");
    let mut misses = Vec::new();
    for backend in ["postgresql", "sqlite"] {
        let rows: Vec<&Outcome> = all.iter().filter(|o| o.backend == backend).collect();
        if rows.is_empty() {
            continue;
        }
        let find = |name: &str| rows.iter().find(|o| o.scenario == name).copied();
        // CPU seconds of the server and PostgreSQL per operation.
        let cpu_per_op = |o: &Outcome| if o.throughput > 0.0 { (o.cpu_server + o.cpu_postgres) / o.throughput } else { f64::INFINITY };
        // A screen's JSON twin, measured at the same number of connections.
        let twin = |o: &Outcome| {
            let name = o.scenario.strip_suffix("_page")?;
            rows.iter().find(|t| t.scenario == name && t.connections == o.connections).copied()
        };
        let healthz = find("healthz");
        let pgbench = find("pgbench_read");
        let argon2 = find("argon2");
        for o in &rows {
            let (ceiling, ratio) = match o.scenario.as_str() {
                "healthz" | "argon2" | "pgbench_read" => ("—".to_owned(), None),
                "read" if pgbench.is_some() => {
                    let p = pgbench.unwrap();
                    (format!("pgbench {:.0} tx/s", p.throughput), Some(o.throughput / p.throughput))
                }
                "triage_page" | "agenda_page" if twin(o).is_some() => {
                    let t = twin(o).unwrap();
                    (format!("{} {:.3} ms CPU/req", t.scenario, cpu_per_op(t) * 1000.0), Some(cpu_per_op(o) / cpu_per_op(t)))
                }
                "login" if argon2.is_some() => {
                    let a = argon2.unwrap();
                    (format!("argon2 {:.1}/s", a.throughput), Some(o.throughput / a.throughput))
                }
                _ => match healthz {
                    Some(h) => (format!("healthz {:.0}/s", h.throughput), Some(o.throughput / h.throughput)),
                    None => ("—".to_owned(), None),
                },
            };
            let mut targets: Vec<(String, bool)> = Vec::new();
            let server_side = !matches!(o.scenario.as_str(), "argon2" | "pgbench_read");
            match o.scenario.as_str() {
                "read" => {
                    if o.backend == "postgresql" {
                        if let Some(r) = ratio.filter(|_| pgbench.is_some()) {
                            targets.push((format!("≥ 50 % of pgbench ({:.0} %)", r * 100.0), r >= 0.5));
                        }
                    }
                    targets.push((format!("p99 < 20 ms at {}", o.connections), o.latency.p99_ms < 20.0 && o.connections >= 32));
                }
                "list" | "agenda" | "triage" => targets.push(("p99 < 30 ms".into(), o.latency.p99_ms < 30.0)),
                "kpis" => targets.push(("p99 < 500 ms (a year)".into(), o.latency.p99_ms < 500.0)),
                "triage_page" | "agenda_page" => {
                    if let Some(r) = ratio {
                        targets.push((format!("CPU/req ≤ 1.5 × JSON (× {r:.2})"), r <= 1.5));
                    }
                    if o.connections <= 8 {
                        targets.push(("p99 < 30 ms at 8".into(), o.latency.p99_ms < 30.0));
                    }
                }
                "create_submit" if o.backend == "postgresql" => targets.push(("≥ 1,000 pairs/s".into(), o.throughput >= 1000.0)),
                "storm" => {
                    if let Some(q) = o.quiet_p99_ms {
                        targets.push((format!("read p99 ≤ 3 × quiet ({:.2} ms → {:.2} ms, × {:.1})", q, o.latency.p99_ms, o.latency.p99_ms / q), o.latency.p99_ms <= 3.0 * q));
                    }
                }
                _ => {}
            }
            if server_side {
                targets.push(("0 errors".into(), o.errors == 0));
                targets.push(("RSS < 150 MB".into(), o.rss_max_mb < RSS_LIMIT_MB));
            }
            let met = targets.iter().all(|(_, ok)| *ok);
            for (t, ok) in &targets {
                if !ok {
                    misses.push(format!("{} {}: {t}", o.backend, o.scenario));
                }
            }
            let target_text = if targets.is_empty() { "—".to_owned() } else { targets.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>().join("; ") };
            text.push_str(&format!(
                "| {} | {} | {} | {:.1} {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |\n",
                o.backend,
                if o.disturbed { format!("{} ⚠", o.scenario) } else { o.scenario.clone() },
                o.connections,
                o.throughput,
                o.unit,
                o.latency.p50_ms,
                o.latency.p99_ms,
                o.latency.p999_ms,
                o.errors,
                if server_side { format!("{:.0}", o.rss_max_mb) } else { "—".into() },
                ceiling,
                ratio.map_or("—".into(), |r| format!("{:.2}", r)),
                target_text,
                if targets.is_empty() { "—" } else if met { "yes" } else { "**no**" },
            ));
        }
    }
    if all.iter().any(|o| o.disturbed) {
        text.push_str("\n⚠: still disturbed after the attempts allowed (other processes used more CPU than allowed, or PostgreSQL restarted): the least disturbed attempt is shown.\n");
    }
    text.push_str("\nCPU during each measurement (cores of the machine; `other` is everything else running, e.g. other builds), the CPU time one operation costs the server and PostgreSQL, and the rate at which the machine's cores would be used up by those two alone (the CPU bound of the scenario here, whatever the code's latency):\n\n");
    text.push_str("| backend | scenario | server | postgres | load generator | other | load avg | attempts | server ms/op | postgres ms/op | CPU bound /s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as f64;
    for o in &all {
        let per_op = |cpu: f64| if o.throughput > 0.0 { cpu / o.throughput * 1000.0 } else { 0.0 };
        let (server_ms, pg_ms) = (per_op(o.cpu_server), per_op(o.cpu_postgres));
        let bound = if server_ms + pg_ms > 0.0 { format!("{:.0}", cores * 1000.0 / (server_ms + pg_ms)) } else { "—".into() };
        text.push_str(&format!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {:.3} | {} |\n",
            o.backend, o.scenario, o.cpu_server, o.cpu_postgres, o.cpu_loadgen, o.cpu_other, o.load_average, o.attempts, server_ms, pg_ms, bound
        ));
    }
    let samples: Vec<String> = all
        .iter()
        .flat_map(|o| o.error_samples.iter().map(move |s| format!("- {} {}: {s}", o.backend, o.scenario)))
        .collect();
    if !samples.is_empty() {
        text.push_str("\nError samples:\n\n");
        text.push_str(&samples.join("\n"));
        text.push('\n');
    }
    text.push_str("\nTargets missed:\n\n");
    if misses.is_empty() {
        text.push_str("- none\n");
    } else {
        for m in &misses {
            text.push_str(&format!("- {m}\n"));
        }
    }
    print!("{text}");
    if let Some(path) = markdown {
        std::fs::write(path, &text)?;
    }
    Ok(())
}

fn growth(files: Vec<PathBuf>, markdown: Option<PathBuf>) -> anyhow::Result<()> {
    let all = read_outcomes(&files)?;
    let mut text = String::new();
    text.push_str("| backend | requests | scenario | throughput | p50 ms | p99 ms | p99.9 ms | errors | RSS max MB |\n");
    text.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
    let mut rows: Vec<&Outcome> = all.iter().filter(|o| !o.label.is_empty()).collect();
    let order = |s: &str| ["pgbench_read", "read", "list", "agenda"].iter().position(|x| *x == s).unwrap_or(9);
    rows.sort_by_key(|o| (o.backend.clone(), order(&o.scenario), o.label.parse::<u64>().unwrap_or(0)));
    for o in rows {
        if o.scenario == "healthz" {
            continue;
        }
        text.push_str(&format!(
            "| {} | {} | {} | {:.1} {} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
            o.backend, o.label, o.scenario, o.throughput, o.unit, o.latency.p50_ms, o.latency.p99_ms, o.latency.p999_ms, o.errors,
            if o.scenario == "pgbench_read" { "—".into() } else { format!("{:.0}", o.rss_max_mb) }
        ));
    }
    print!("{text}");
    if let Some(path) = markdown {
        std::fs::write(path, &text)?;
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(run(args)),
        Command::Pgbench(args) => pgbench(args),
        Command::Argon2 { seconds, backend, out } => argon2(seconds, backend, out),
        Command::Report { files, markdown } => report(files, markdown),
        Command::Growth { files, markdown } => growth(files, markdown),
    }
}
