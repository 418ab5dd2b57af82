//! The test's own view of the database: a fresh database per test (a SQLite file, or a new
//! PostgreSQL database on `TEST_DATABASE_URL`, dropped at the end), plain-SQL checks, and
//! connections that hold locks to make the service wait.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use consilium::db::{Db, PoolOptions};
use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};

use super::Backend;

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pool: Db,
    /// (server URL, database name) of a PostgreSQL database to drop at the end.
    postgres: Option<(String, String)>,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A row of up to four text columns `a`, `b`, `c`, `d` (NULL as None).
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Row {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub a: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub b: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub c: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub d: Option<String>,
}

impl Row {
    pub fn a(&self) -> &str {
        self.a.as_deref().unwrap_or_default()
    }
    pub fn b(&self) -> &str {
        self.b.as_deref().unwrap_or_default()
    }
    pub fn c(&self) -> &str {
        self.c.as_deref().unwrap_or_default()
    }
    pub fn d(&self) -> &str {
        self.d.as_deref().unwrap_or_default()
    }
}

impl TestDb {
    pub fn create(backend: &Backend, dir: &Path) -> TestDb {
        let (url, postgres) = match backend {
            Backend::Sqlite => (dir.join("consilium.sqlite3").display().to_string(), None),
            Backend::Postgres(server) => {
                let name = format!("consilium_faults_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(server).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                (database_url(server, &name), Some((server.clone(), name)))
            }
        };
        let pool = Db::new(
            &url,
            &PoolOptions {
                max_size: 4,
                connection_timeout: Duration::from_secs(10),
                sqlite_busy_timeout: Duration::from_secs(10),
            },
        )
        .unwrap();
        TestDb {
            url,
            backend: backend.clone(),
            pool,
            postgres,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// The value of a `SELECT … AS n` returning one integer.
    pub async fn count(&self, sql: &str) -> i64 {
        let (db, sql) = (self.pool.clone(), sql.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("the test reaches its database");
            diesel::sql_query(&sql)
                .load::<Count>(&mut *conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))[0]
                .n
        })
        .await
        .unwrap()
    }

    /// Rows of a `SELECT x AS a, y AS b …` over text columns.
    pub async fn rows(&self, sql: &str) -> Vec<Row> {
        let (db, sql) = (self.pool.clone(), padded(sql));
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("the test reaches its database");
            diesel::sql_query(&sql)
                .load::<Row>(&mut *conn)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .await
        .unwrap()
    }

    /// The first column of every row.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        self.rows(sql)
            .await
            .into_iter()
            .map(|row| row.a.unwrap_or_default())
            .collect()
    }

    pub async fn execute(&self, sql: &str) {
        let (db, sql) = (self.pool.clone(), sql.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("the test reaches its database");
            conn.batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .await
        .unwrap()
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

/// Missing columns `b`, `c`, `d` are selected as NULL so one row type fits every query.
fn padded(sql: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let from = lower.find(" from ").expect("a SELECT … FROM");
    let mut extra = String::new();
    for column in ["b", "c", "d"] {
        if !lower[..from].contains(&format!(" as {column}")) {
            extra.push_str(&format!(", CAST(NULL AS TEXT) AS {column}"));
        }
    }
    format!("{}{extra}{}", &sql[..from], &sql[from..])
}

/// The URL of database `name` on the server of `server`.
pub fn database_url(server: &str, name: &str) -> String {
    let base = server.trim_end_matches('/');
    match base.rsplit_once('/') {
        Some((prefix, _)) if prefix.contains("://") && prefix.len() > "postgres://".len() => {
            format!("{prefix}/{name}")
        }
        _ => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            match diesel::PgConnection::establish(&server) {
                Ok(mut admin) => {
                    if let Err(error) =
                        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    {
                        eprintln!("could not drop the test database {name}: {error}");
                    }
                }
                Err(error) => eprintln!("could not drop the test database {name}: {error}"),
            }
        }
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
