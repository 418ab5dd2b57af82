//! The test application: the real HTTP server on a free port, a fresh database per test
//! (SQLite file, or a new PostgreSQL database on `TEST_DATABASE_URL`), and a real SMTP server
//! on loopback receiving the mail.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consilium::config::{EmailTransport, Environment, Settings};
use consilium::db::Db;
use consilium::outbox::Worker;
use consilium::startup::{self, Application};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub const PASSWORD: &str = "tangerine-ossicle-Vercors-42";
/// The TOTP secret provisioned for staff accounts in tests (160 bits, base32).
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The current code of a TOTP secret for a step not used yet by `used` (codes are single-use
/// per step; one step of drift is accepted, so at most two logins per 30 s need no wait).
pub async fn fresh_totp_code(
    secret: &str,
    used: &Mutex<std::collections::HashMap<String, i64>>,
) -> String {
    let bytes = consilium::auth::totp::parse_secret(secret).expect("a valid test secret");
    loop {
        let now = chrono::Utc::now().timestamp();
        let step = now / 30;
        let candidate = {
            let mut used = used.lock().unwrap();
            let last = used.get(secret).copied().unwrap_or(i64::MIN);
            let pick = [step, step + 1].into_iter().find(|s| *s > last);
            if let Some(pick) = pick {
                used.insert(secret.to_owned(), pick);
            }
            pick
        };
        match candidate {
            Some(pick) => return consilium::auth::totp::code_at(&bytes, (pick * 30) as u64),
            None => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL when `TEST_DATABASE_URL` names a server; the run is skipped (loudly) otherwise.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ => {
                eprintln!("TEST_DATABASE_URL is not set: PostgreSQL run skipped");
                None
            }
        }
    }
}

/// Runs each named `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::Backend::postgres() {
                    super::$name(backend).await
                }
            }
        }
    )*};
}

// ---------------------------------------------------------------- SMTP server

#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: Vec<String>,
    pub raw: String,
}

impl ReceivedMail {
    fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.raw.as_bytes()).expect("a well-formed message")
    }

    pub fn header(&self, name: &str) -> String {
        use mailparse::MailHeaderMap;
        self.parsed()
            .headers
            .get_first_value(name)
            .unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        self.header("Subject")
    }

    /// Decoded bodies of the text and HTML parts.
    pub fn parts(&self) -> Vec<(String, String)> {
        let parsed = self.parsed();
        let mut parts = Vec::new();
        collect_parts(&parsed, &mut parts);
        parts
    }

    pub fn text(&self) -> String {
        self.parts()
            .into_iter()
            .find(|(mime, _)| mime == "text/plain")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parts()
            .into_iter()
            .find(|(mime, _)| mime == "text/html")
            .map(|(_, body)| body)
            .unwrap_or_default()
    }

    /// The single-use token carried by the link in the text part.
    pub fn token(&self) -> String {
        let text = self.text();
        let start = text.find("token=").expect("a link with a token") + "token=".len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

fn collect_parts(mail: &mailparse::ParsedMail<'_>, parts: &mut Vec<(String, String)>) {
    if mail.subparts.is_empty() {
        parts.push((
            mail.ctype.mimetype.clone(),
            mail.get_body().unwrap_or_default(),
        ));
    }
    for sub in &mail.subparts {
        collect_parts(sub, parts);
    }
}

/// A minimal SMTP server over TCP on loopback that keeps every message it accepts.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// A port with nothing listening yet (the SMTP server is "down").
    pub async fn reserve_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    pub async fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        Self::serve(listener)
    }

    fn serve(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let store = mails.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(socket, store).await;
                });
            }
        });
        SmtpSink { port, mails }
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.mails()
            .into_iter()
            .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<ReceivedMail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL FROM")
            || command.starts_with("RSET")
            || command.starts_with("NOOP")
        {
            if command.starts_with("RSET") {
                to.clear();
            }
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            to.push(address);
            b"250 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            store.lock().unwrap().push(ReceivedMail {
                to: std::mem::take(&mut to),
                raw,
            });
            b"250 queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

// ---------------------------------------------------------------- the application

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub settings: Settings,
    pub smtp: SmtpSink,
    pub worker: Worker,
    pub database_url: String,
    _dir: tempfile::TempDir,
    postgres_database: Option<(String, String)>,
    /// The last TOTP step used per secret, so helpers never replay a code.
    pub totp_steps: Mutex<std::collections::HashMap<String, i64>>,
}

pub struct TestOptions {
    /// Port of the SMTP server; `None` starts a fresh sink.
    pub smtp_port: Option<u16>,
    pub tweak: Box<dyn FnOnce(&mut Settings) + Send>,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            smtp_port: None,
            tweak: Box::new(|_| {}),
        }
    }
}

pub fn base_settings() -> Settings {
    Settings::figment(Path::new("config"), Environment::Test)
        .extract()
        .expect("config/default.toml loads")
}

fn new_database(backend: &Backend, dir: &Path) -> (String, Option<(String, String)>) {
    match backend {
        Backend::Sqlite => (dir.join("consilium.sqlite3").display().to_string(), None),
        Backend::Postgres(server) => {
            let name = format!("consilium_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(server).unwrap_or_else(|e| {
                panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
            });
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let base = server.trim_end_matches('/');
            let url = match base.rsplit_once('/') {
                Some((prefix, _))
                    if prefix.contains("://") && prefix.len() > "postgres://".len() =>
                {
                    format!("{prefix}/{name}")
                }
                _ => format!("{base}/{name}"),
            };
            (url, Some((server.clone(), name)))
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, TestOptions::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: TestOptions) -> TestApp {
    consilium::telemetry::init();
    let dir = tempfile::tempdir().unwrap();
    let smtp = match options.smtp_port {
        None => SmtpSink::start().await,
        Some(port) => SmtpSink {
            port,
            mails: Arc::new(Mutex::new(Vec::new())),
        },
    };
    let (database_url, postgres_database) = new_database(&backend, dir.path());
    let mut settings = base_settings();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.database.url = SecretString::from(database_url.clone());
    settings.storage.dir = dir.path().to_path_buf();
    settings.email.transport = EmailTransport::Smtp;
    settings.email.smtp_url = SecretString::from(format!("smtp://127.0.0.1:{}", smtp.port));
    settings.email.retry_base_seconds = 0.05;
    settings.email.retry_max_seconds = 0.2;
    settings.email.max_attempts = 4;
    settings.email.timeout_seconds = 1;
    settings.email.lease_seconds = 3;
    settings.database.connection_timeout_seconds = 2;
    settings.auth.jwt_secret =
        SecretString::from("test-secret-0123456789abcdef0123456789".to_owned());
    (options.tweak)(&mut settings);
    settings.prepare(Environment::Test).unwrap();
    let app = Application::build(settings.clone(), false)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db.clone();
    tokio::spawn(app.run_until_stopped());
    let worker = startup::worker(&settings, db.clone()).unwrap();
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        settings,
        smtp,
        worker,
        database_url,
        _dir: dir,
        postgres_database,
        totp_steps: Mutex::new(Default::default()),
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres_database.take()
            && let Ok(mut admin) = diesel::PgConnection::establish(&server)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The fields named in a 422 problem's `errors`.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut request = self.client.put(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        let mut request = self.client.patch(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// Runs the e-mail worker until nothing is due.
    pub async fn deliver_emails(&self) {
        for _ in 0..50 {
            if self.worker.deliver_due().await.expect("the worker runs") == 0 {
                return;
            }
        }
        panic!("the outbox never drained");
    }

    /// Runs the worker until a message reaches `address`, retrying through back-off.
    pub async fn wait_for_mail_to(&self, address: &str) -> ReceivedMail {
        for _ in 0..100 {
            self.worker.deliver_due().await.ok();
            if let Some(mail) = self.smtp.mails_to(address).pop() {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no e-mail reached {address}");
    }

    pub fn registration(email: &str, rpps: &str) -> Value {
        json!({
            "email": email,
            "password": PASSWORD,
            "full_name": "Jeanne Martin",
            "rpps": rpps,
            "specialty": "Pediatrics",
            "site_code": "nancy",
            "phone": "+33 3 83 15 30 30",
            "language": "en",
        })
    }

    /// Registers, confirms the e-mail, logs in: answers the token pair.
    pub async fn register_and_login(&self, email: &str, rpps: &str) -> Value {
        let answer = self
            .post(
                "/api/v1/auth/register",
                None,
                Self::registration(email, rpps),
            )
            .await;
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        self.deliver_emails().await;
        let token = self
            .smtp
            .mails_to(email)
            .last()
            .expect("a verification e-mail")
            .token();
        let answer = self
            .post("/api/v1/auth/verify-email", None, json!({"token": token}))
            .await;
        assert_eq!(answer.status, 204, "{:?}", answer.body);
        self.login(email, PASSWORD).await
    }

    /// Signs in; for an account with a second factor (staff accounts of the tests use
    /// [`TOTP_SECRET`]) answers the challenge with a fresh code.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let answer = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        if answer.body["mfa_required"] != json!(true) {
            return answer.body;
        }
        let code = fresh_totp_code(TOTP_SECRET, &self.totp_steps).await;
        let answer = self
            .post(
                "/api/v1/auth/login/mfa",
                None,
                json!({"mfa_token": answer.body["mfa_token"], "code": code}),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body
    }

    /// Creates an active account with roles, as `consilium users add` does (staff accounts with
    /// the second factor [`TOTP_SECRET`]); answers its id and access token.
    pub async fn user_with_roles(
        &self,
        email: &str,
        rpps: &str,
        roles: &[&str],
    ) -> (String, String) {
        let db = self.db.clone();
        let (email_owned, rpps_owned) = (email.to_owned(), rpps.to_owned());
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let key = self.settings.data_key().unwrap();
        let staff = roles.iter().any(|role| role != "requester");
        let id = tokio::task::spawn_blocking(move || {
            consilium::cli::add_user(
                &db,
                &key,
                &consilium::cli::NewAccount {
                    email: &email_owned,
                    full_name: "Dr Test User",
                    rpps: &rpps_owned,
                    roles: &roles,
                    site: Some("necker"),
                    specialty: "Genetics",
                    language: "fr",
                    password: PASSWORD,
                    totp_secret: staff.then_some(TOTP_SECRET),
                },
            )
        })
        .await
        .unwrap()
        .unwrap();
        let pair = self.login(email, PASSWORD).await;
        (id, pair["access_token"].as_str().unwrap().to_owned())
    }

    /// Rows of a table, counted with plain SQL.
    pub async fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let db = self.db.clone();
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            diesel::sql_query(sql).load::<Count>(&mut *conn).unwrap()[0].n
        })
        .await
        .unwrap()
    }

    pub async fn execute(&self, sql: &str) {
        let db = self.db.clone();
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || db.get().unwrap().batch_execute(&sql).unwrap())
            .await
            .unwrap();
    }
}

/// Valid RPPS numbers for tests (Luhn over 11 digits).
pub fn rpps(n: u32) -> String {
    let prefix = format!("1{:09}", n);
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|candidate| consilium::domain::rpps::Rpps::parse(candidate).is_ok())
        .unwrap()
}
