//! What the fault tests share: the SMTP sink, the processes, the database checks, the HTTP
//! client and the workflow steps.

pub mod api;
pub mod db;
pub mod process;
pub mod smtp;
pub mod workflow;

use std::future::Future;
use std::time::{Duration, Instant};

/// The tests of this binary run one at a time: they start processes, measure memory, and one
/// of them restarts the machine's PostgreSQL.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Longest run of one test before it is failed (rather than hanging the suite).
pub const TEST_LIMIT: Duration = Duration::from_secs(240);

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

/// Runs a test body under the suite's lock and time limit.
pub async fn run_serially<F: Future<Output = ()>>(name: &str, body: F) {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    eprintln!("=== {name}: start");
    if tokio::time::timeout(TEST_LIMIT, body).await.is_err() {
        panic!("{name} did not finish within {TEST_LIMIT:?}");
    }
    eprintln!(
        "=== {name}: passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs each named `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run_serially(
                    concat!(module_path!(), "::sqlite"),
                    super::$name($crate::support::Backend::Sqlite),
                )
                .await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::support::Backend::postgres() {
                    $crate::support::run_serially(
                        concat!(module_path!(), "::postgres"),
                        super::$name(backend),
                    )
                    .await
                }
            }
        }
    )*};
}

/// Runs each named `async fn(Backend)` test on PostgreSQL only.
#[macro_export]
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(backend) = $crate::support::Backend::postgres() {
                    $crate::support::run_serially(
                        concat!(module_path!(), "::postgres"),
                        super::$name(backend),
                    )
                    .await
                }
            }
        }
    )*};
}

/// Runs each named `async fn(Backend)` test on SQLite only.
#[macro_export]
macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run_serially(
                    concat!(module_path!(), "::sqlite"),
                    super::$name($crate::support::Backend::Sqlite),
                )
                .await
            }
        }
    )*};
}

/// Polls `probe` every `every` until it answers `Some`, or panics naming `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, every: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(every).await;
    }
}

/// Valid RPPS numbers (Luhn over 11 digits).
pub fn rpps(n: u32) -> String {
    let prefix = format!("1{n:09}");
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|candidate| consilium::domain::rpps::Rpps::parse(candidate).is_ok())
        .unwrap()
}
