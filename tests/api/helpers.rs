//! The test application: the real HTTP server on a free port, a fresh database per test
//! (SQLite file, or a new PostgreSQL database on `TEST_DATABASE_URL`), and a real SMTP server
//! on loopback receiving the mail. It is an [`Api`] client of itself (the endpoints by name),
//! plus what only a test in the same process can do: run the e-mail worker, make accounts as
//! an operator would, look into the database.

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use consilium::config::{EmailTransport, Environment, Settings};
use consilium::db::Db;
use consilium::outbox::Worker;
use consilium::startup::{self, Application};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::support::api::Api;
use crate::support::backend::{Backend, TestDatabase};
use crate::support::cast::{Cast, PASSWORD, Person, Stage, TOTP_SECRET};
use crate::support::forms::{meeting_record, opinion, registration, request_form};
use crate::support::smtp::{ReceivedMail, SmtpSink};
use crate::support::sql;
use crate::support::totp::TotpSteps;

pub struct TestApp {
    pub api: Api,
    pub db: Db,
    pub settings: Settings,
    pub smtp: SmtpSink,
    pub worker: Worker,
    pub database: TestDatabase,
    /// The last TOTP step used per account, so helpers never replay a code.
    pub totp: TotpSteps,
    _dir: tempfile::TempDir,
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
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

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, TestOptions::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: TestOptions) -> TestApp {
    consilium::telemetry::init();
    let dir = tempfile::tempdir().unwrap();
    let smtp = match options.smtp_port {
        None => SmtpSink::start().await,
        Some(port) => SmtpSink::down_on(port),
    };
    let database = TestDatabase::create(&backend, dir.path(), "test");
    let mut settings = base_settings();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.database.url = SecretString::from(database.url.clone());
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
    let api = Api::new(app.port());
    let db = app.db.clone();
    tokio::spawn(app.run_until_stopped());
    let worker = startup::worker(&settings, db.clone()).unwrap();
    TestApp {
        api,
        db,
        settings,
        smtp,
        worker,
        database,
        totp: TotpSteps::default(),
        _dir: dir,
    }
}

impl TestApp {
    /// Another e-mail worker on the application's database, as a second process would run.
    pub fn new_worker(&self) -> Worker {
        startup::worker(&self.settings, self.db.clone()).unwrap()
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

    /// Registers, confirms the e-mail, signs in: answers the token pair.
    pub async fn register_and_login(&self, email: &str, rpps: &str) -> Value {
        let answer = self.register(registration(email, rpps)).await;
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        self.deliver_emails().await;
        let token = self
            .smtp
            .mails_to(email)
            .last()
            .expect("a verification e-mail")
            .token();
        let answer = self.verify_email(&token).await;
        assert_eq!(answer.status, 204, "{:?}", answer.body);
        self.sign_in(email, PASSWORD).await
    }

    /// Signs in; for an account with a second factor (staff accounts of the tests use
    /// [`TOTP_SECRET`]) answers the challenge with a fresh code: answers the token pair.
    pub async fn sign_in(&self, email: &str, password: &str) -> Value {
        self.api.sign_in(email, password, &self.totp).await
    }

    /// A code of `secret` (an authenticator enrolled by a test) not used yet.
    pub async fn totp_code(&self, secret: &str) -> String {
        self.totp.code(secret, secret).await
    }

    /// Creates an active account as `consilium users add` does; answers its id.
    pub async fn add_user(
        &self,
        email: &str,
        rpps: &str,
        roles: &[&str],
        totp_secret: Option<&'static str>,
    ) -> String {
        let db = self.db.clone();
        let (email, rpps) = (email.to_owned(), rpps.to_owned());
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        let key = self.settings.data_key().unwrap();
        tokio::task::spawn_blocking(move || {
            consilium::cli::add_user(
                &db,
                &key,
                &consilium::cli::NewAccount {
                    email: &email,
                    full_name: "Dr Test User",
                    rpps: &rpps,
                    roles: &roles,
                    site: Some("necker"),
                    specialty: "Genetics",
                    language: "fr",
                    password: PASSWORD,
                    totp_secret,
                },
            )
        })
        .await
        .unwrap()
        .unwrap()
    }

    /// Creates an active account with roles (staff accounts with the second factor
    /// [`TOTP_SECRET`]) and signs in; answers its id and access token.
    pub async fn user_with_roles(
        &self,
        email: &str,
        rpps: &str,
        roles: &[&str],
    ) -> (String, String) {
        let staff = roles.iter().any(|role| *role != "requester");
        let id = self
            .add_user(email, rpps, roles, staff.then_some(TOTP_SECRET))
            .await;
        let pair = self.sign_in(email, PASSWORD).await;
        (id, pair["access_token"].as_str().unwrap().to_owned())
    }

    /// A staff member of the cast, made by an operator and signed in: id and access token.
    pub async fn staff(&self, person: &Person) -> (String, String) {
        self.user_with_roles(person.email, &person.rpps(), person.roles)
            .await
    }

    /// An extraordinary meeting of `staff` that started an hour ago (so it can be held), made
    /// by `coordinator`: answers its id.
    pub async fn past_meeting(&self, coordinator: &str, staff: &str, capacity: i64) -> String {
        let starts_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
        let answer = self
            .create_meeting(staff, &starts_at, capacity, coordinator)
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        assert_eq!(answer.body["extraordinary"], true);
        answer.id()
    }

    /// Requests of `cast.requester` (one per local patient id in `markers`) discussed in one
    /// meeting of the national staff that took place an hour ago with a quorum, each with a
    /// draft opinion by the coordinator: their ids and references.
    pub async fn discussed(&self, cast: &Cast, markers: &[&str]) -> Vec<(String, String)> {
        let meeting = self
            .past_meeting(&cast.coordinator, "rcp-national", 10)
            .await;
        let mut cases = Vec::new();
        for marker in markers {
            let draft = self.draft(request_form(marker), &cast.requester).await;
            let id = draft.id();
            self.submit_draft(&id, &cast.requester).await;
            let scheduled = self.schedule(&id, &meeting, &cast.coordinator).await;
            assert_eq!(scheduled.status, 200, "{:?}", scheduled.body);
            cases.push((id, draft.body["reference"].as_str().unwrap().to_owned()));
        }
        let ids: Vec<&str> = cases.iter().map(|(id, _)| id.as_str()).collect();
        let held = self
            .hold(&meeting, meeting_record(&ids), &cast.coordinator)
            .await;
        assert_eq!(held.status, 200, "{:?}", held.body);
        for id in &ids {
            let drafted = self.put_opinion(id, opinion(), &cast.coordinator).await;
            assert_eq!(drafted.status, 200, "{:?}", drafted.body);
        }
        cases
    }

    /// Rows of a table, counted with plain SQL.
    pub async fn count(&self, sql: &str) -> i64 {
        sql::count(&self.db, sql).await
    }

    pub async fn execute(&self, sql: &str) {
        sql::execute(&self.db, sql).await
    }
}

/// Requesters register themselves and confirm their address; staff are made by an operator.
impl Stage for TestApp {
    async fn enter(&self, person: &Person) -> String {
        if person.is_staff() {
            self.staff(person).await.1
        } else {
            let pair = self.register_and_login(person.email, &person.rpps()).await;
            pair["access_token"].as_str().unwrap().to_owned()
        }
    }
}

/// The binary with the settings of `app`, except the data directory and database given.
pub fn consilium(app: &TestApp, storage: &Path, database_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_consilium"));
    command
        .env("CONSILIUM_ENV", "test")
        .env("CONSILIUM__STORAGE__DIR", storage)
        .env("CONSILIUM__DATABASE__URL", database_url)
        .env(
            "CONSILIUM__STORAGE__ENCRYPTION_KEY",
            app.settings.storage.encryption_key.expose_secret(),
        )
        .env(
            "CONSILIUM__AUTH__JWT_SECRET",
            app.settings.auth.jwt_secret.expose_secret(),
        )
        .env("RUST_LOG", "warn");
    command
}

/// The standard output of a command that must have succeeded.
pub fn succeeded(output: &std::process::Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what}: {out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}
