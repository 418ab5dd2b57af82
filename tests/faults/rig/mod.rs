//! What only the fault tests need beside the shared kit: the real binary as processes, the
//! database seen and locked from outside, the scenarios' workflow steps and outbox checks, and
//! the one-at-a-time runner.

pub mod cluster;
pub mod db;
pub mod process;
pub mod workflow;

use std::future::Future;
use std::time::{Duration, Instant};

/// The tests of this binary run one at a time: they start processes, measure memory and time,
/// and one of them restarts a PostgreSQL cluster (its own).
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Longest run of one test before it is failed (rather than hanging the suite).
pub const TEST_LIMIT: Duration = Duration::from_secs(240);

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
