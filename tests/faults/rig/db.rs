//! The test's own view of the database: a fresh database per test (the shared kit's
//! [`TestDatabase`]), plain-SQL checks on a pool of its own, and connections that hold locks to
//! make the service wait.

use std::path::Path;
use std::sync::mpsc;

use diesel::Connection;
use diesel::connection::SimpleConnection;

use crate::support::backend::{Backend, TestDatabase};
use crate::support::library::{self, Db};
use crate::support::sql::{self, Row};

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pool: Db,
    /// Dropped last: the pool's connections go before the database.
    _database: TestDatabase,
}

impl TestDb {
    pub fn create(backend: &Backend, dir: &Path) -> TestDb {
        let database = TestDatabase::create(backend, dir, "faults");
        TestDb {
            url: database.url.clone(),
            backend: backend.clone(),
            pool: library::open_pool(&database.url),
            _database: database,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.backend.is_postgres()
    }

    /// The value of a `SELECT … AS n` returning one integer.
    pub async fn count(&self, sql: &str) -> i64 {
        sql::count(&self.pool, sql).await
    }

    /// Rows of a `SELECT x AS a, y AS b …` over text columns.
    pub async fn rows(&self, sql: &str) -> Vec<Row> {
        sql::rows(&self.pool, sql).await
    }

    /// The first column of every row.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        sql::strings(&self.pool, sql).await
    }

    pub async fn execute(&self, sql: &str) {
        sql::execute(&self.pool, sql).await
    }

    /// Opens a connection of its own and runs `statements` on it (e.g. `BEGIN IMMEDIATE`, or
    /// `BEGIN; LOCK TABLE …`); the transaction is rolled back by [`LockHolder::release`].
    pub async fn hold(&self, statements: &str) -> LockHolder {
        let (url, backend, sql) = (
            self.url.clone(),
            self.backend.clone(),
            statements.to_owned(),
        );
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let result = (|| -> Result<Box<dyn SimpleConnection>, String> {
                let mut conn: Box<dyn SimpleConnection> = match backend {
                    Backend::Postgres(_) => {
                        Box::new(diesel::PgConnection::establish(&url).map_err(|e| e.to_string())?)
                    }
                    Backend::Sqlite => {
                        let mut conn =
                            diesel::SqliteConnection::establish(&url).map_err(|e| e.to_string())?;
                        conn.batch_execute("PRAGMA busy_timeout = 10000")
                            .map_err(|e| e.to_string())?;
                        Box::new(conn)
                    }
                };
                conn.batch_execute(&sql).map_err(|e| e.to_string())?;
                Ok(conn)
            })();
            match result {
                Ok(mut conn) => {
                    let _ = ready_tx.send(Ok(()));
                    let _ = release_rx.recv();
                    let _ = conn.batch_execute("ROLLBACK");
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                }
            }
        });
        ready_rx
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("cannot hold {statements}: {e}"));
        LockHolder {
            release: Some(release_tx),
            thread: Some(thread),
        }
    }

    /// Whether another connection holds SQLite's write lock right now (a `BEGIN IMMEDIATE` with
    /// no busy timeout fails).
    pub async fn sqlite_write_locked(&self) -> bool {
        let url = self.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = diesel::SqliteConnection::establish(&url).unwrap();
            conn.batch_execute("PRAGMA busy_timeout = 0").unwrap();
            match conn.batch_execute("BEGIN IMMEDIATE") {
                Ok(()) => {
                    conn.batch_execute("ROLLBACK").unwrap();
                    false
                }
                Err(error) => {
                    assert!(error.to_string().contains("locked"), "{error}");
                    true
                }
            }
        })
        .await
        .unwrap()
    }
}

/// A connection holding a lock until released (or dropped).
pub struct LockHolder {
    release: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LockHolder {
    pub fn release(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        self.stop();
    }
}
