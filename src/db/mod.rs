//! Every diesel line of the service: the connection enum over SQLite and PostgreSQL, the pool,
//! the embedded migrations, and one module per table.

pub mod attachments;
pub mod audit;
pub mod calendar_feeds;
pub mod error;
pub mod follow_ups;
pub mod idempotency;
pub mod kpis;
pub mod meetings;
pub mod messages;
pub mod mfa;
pub mod network;
pub mod opinions;
pub mod outbox;
pub mod requests;
pub mod schema;
pub mod sealed;
pub mod sql_types;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod web_sessions;

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Timelike;
use diesel::connection::{
    AnsiTransactionManager, InstrumentationEvent, SimpleConnection, TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use error::{DbError, DbResult};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection to either backend; `match` on it only where a backend needs its own SQL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// A connection checked out of the pool (back in the pool when dropped).
pub struct PooledConnection(r2d2::PooledConnection<ConnectionManager>);

impl Deref for PooledConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0.conn
    }
}

impl DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0.conn
    }
}

/// A connection checked out less than this long after its last use is trusted without the
/// `SELECT 1` probe; one idle longer is probed first (the server may have gone away meanwhile).
const PROBE_AFTER_IDLE: Duration = Duration::from_secs(5);

/// A connection of the pool, with what the pool needs to know about it: when it was last
/// used (so that a busy connection is not probed at every check-out: a round trip per
/// check-out was a fifth of the read endpoint's statements) and whether a query on it found
/// the server gone (so that the pool drops it instead of handing it out again).
pub struct PoolConnection {
    conn: DbConnection,
    last_used: Instant,
    broken: bool,
    /// Statements sent on this connection so far.
    statements: Arc<AtomicU64>,
}

tokio::task_local! {
    /// The statements sent for the HTTP request being answered, whatever the connections they
    /// went through (the metrics middleware sets it, [`Db::run`] adds to it).
    pub static REQUEST_STATEMENTS: Arc<AtomicU64>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgresql,
    Sqlite,
}

impl Backend {
    /// The backend named by a database URL: `postgres://` / `postgresql://`, anything else is a
    /// SQLite file path (optionally prefixed with `sqlite://`).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgresql
        } else {
            Backend::Sqlite
        }
    }
}

/// Opens connections of the backend named by the URL scheme, and reports the real error
/// (diesel's own `establish` on the enum would try each backend in turn).
#[derive(Debug)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    busy_timeout_ms: u64,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PoolConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, Self::Error> {
        let mut conn = match self.backend {
            Backend::Postgresql => PgConnection::establish(&self.url)
                .map(DbConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(PoolConnection {
            conn,
            last_used: Instant::now(),
            broken: false,
            statements,
        })
    }

    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), Self::Error> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.broken || conn.conn.is_broken()
    }
}

/// Settings of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
    pub sqlite_busy_timeout: Duration,
}

/// An error that a database call can be turned into, and that tells whether the database was
/// away (then the connection is dropped rather than handed out again).
pub trait StoreError: From<DbError> {
    fn is_unavailable(&self) -> bool;
}

impl StoreError for DbError {
    fn is_unavailable(&self) -> bool {
        DbError::is_unavailable(self)
    }
}

/// The database handle shared by the API, the worker and the command line.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    /// SQLite: this process's writers queue here before `BEGIN IMMEDIATE` (see
    /// `write_transaction`).
    writers: Arc<Writers>,
}

/// The queue of a SQLite database's writers in this process, and how long one waits in it
/// (the busy timeout: then the database is reported unavailable, as SQLite's own lock would).
struct Writers {
    turn: parking_lot::Mutex<()>,
    patience: Duration,
}

thread_local! {
    /// The writers' queue of the database whose connection this thread holds (set by
    /// `Db::run` for the duration of its closure).
    static WRITERS: RefCell<Option<Arc<Writers>>> = const { RefCell::new(None) };
}

/// Sets the thread's writers' queue, and clears it when dropped (even on a panic).
struct WritersScope;

impl WritersScope {
    fn enter(writers: Option<Arc<Writers>>) -> WritersScope {
        WRITERS.with(|slot| *slot.borrow_mut() = writers);
        WritersScope
    }
}

impl Drop for WritersScope {
    fn drop(&mut self) {
        WRITERS.with(|slot| *slot.borrow_mut() = None);
    }
}

impl Db {
    /// Builds the pool without connecting yet, so the service can start (and answer `/readyz`
    /// with 503) while the database is still down.
    pub fn new(url: &str, options: &PoolOptions) -> anyhow::Result<Db> {
        let backend = Backend::of_url(url);
        if backend == Backend::Sqlite {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if let Some(parent) = Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create the directory {}", parent.display()))?;
            }
        }
        let manager = ConnectionManager {
            url: url.to_owned(),
            backend,
            busy_timeout_ms: options.sqlite_busy_timeout.as_millis() as u64,
        };
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(options.connection_timeout)
            .build_unchecked(manager);
        Ok(Db {
            pool,
            backend,
            writers: Arc::new(Writers {
                turn: parking_lot::Mutex::new(()),
                patience: options.sqlite_busy_timeout,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections open and idle in the pool, and its size.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// A connection for synchronous callers (command line, blocking tasks). One idle for a
    /// while is probed first; a dead one is dropped and another taken.
    pub fn get(&self) -> DbResult<PooledConnection> {
        for _ in 0..=self.pool.max_size() {
            let mut conn = self
                .pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            if conn.last_used.elapsed() < PROBE_AFTER_IDLE
                || conn.conn.batch_execute("SELECT 1").is_ok()
            {
                conn.last_used = Instant::now();
                return Ok(PooledConnection(conn));
            }
            conn.broken = true;
        }
        Err(DbError::Unavailable(
            "no database connection answers".into(),
        ))
    }

    /// Runs `f` with a connection on the blocking thread pool, never on an async worker.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreError + Send + 'static,
    {
        let db = self.clone();
        let request_statements = REQUEST_STATEMENTS.try_with(Arc::clone).ok();
        tokio::task::spawn_blocking(move || {
            let _writers = WritersScope::enter(
                (db.backend == Backend::Sqlite).then(|| Arc::clone(&db.writers)),
            );
            let mut conn = db.get()?;
            let before = conn.0.statements.load(Ordering::Relaxed);
            let result = f(&mut conn);
            if let Some(total) = request_statements {
                total.fetch_add(
                    conn.0.statements.load(Ordering::Relaxed) - before,
                    Ordering::Relaxed,
                );
            }
            // The server went away (or SQLite stayed locked): give the pool a fresh one.
            conn.0.broken = result.as_ref().is_err_and(StoreError::is_unavailable);
            result
        })
        .await
        .map_err(|e| E::from(DbError::Other(anyhow::anyhow!("database task failed: {e}"))))?
    }

    /// Runs `f` in one write transaction: everything it changes commits together or not at all.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: StoreError + Send + 'static,
    {
        self.run(move |conn| write_transaction(conn, f)).await
    }
}

/// A transaction that takes the write lock at once on SQLite (`BEGIN IMMEDIATE`), so two writers
/// queue on the busy timeout instead of failing when a read lock would be upgraded.
///
/// On SQLite, the writers of this process (through `Db::run`) first queue on one lock per
/// database, and are woken as soon as the previous one commits. Without it they poll SQLite's
/// lock with the busy handler's growing sleeps (1, 2, 5, 10 ms…): a read that writes its audit
/// row behind the sealer slept several milliseconds after the lock was free, which made the
/// tails. Other processes still meet on the busy timeout.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<DbError>,
{
    let writers = match conn {
        DbConnection::Sqlite(inner) => match in_transaction(inner) {
            false => WRITERS.with(|slot| slot.borrow().clone()),
            true => None,
        },
        DbConnection::Postgresql(_) => None,
    };
    let _turn = match &writers {
        Some(writers) => Some(writers.turn.try_lock_for(writers.patience).ok_or_else(|| {
            DbError::Unavailable("the database stayed locked by another writer".into())
        })?),
        None => None,
    };
    match conn {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        DbConnection::Postgresql(inner) => AnsiTransactionManager::begin_transaction(inner),
    }
    .map_err(DbError::from)?;
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(DbError::from)?;
            Ok(value)
        }
        Err(error) => {
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
                .map_err(DbError::from)?;
            Err(error)
        }
    }
}

/// Whether the connection is inside a transaction already (a nested `write_transaction` must
/// not queue behind its own).
fn in_transaction(conn: &mut SqliteConnection) -> bool {
    !matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(None)
    )
}

/// Runs `f` while holding the setup lock: several instances may start at once (or top up the
/// calendar at the same hour), one does the work while the others wait, then find it done.
/// A PostgreSQL advisory lock; SQLite's writers are serialised already.
pub fn with_setup_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let postgres = matches!(conn, DbConnection::Postgresql(_));
    if let DbConnection::Postgresql(pg) = conn {
        pg.batch_execute("SELECT pg_advisory_lock(7230001)")?;
    }
    let result = f(conn);
    if postgres && let DbConnection::Postgresql(pg) = conn {
        pg.batch_execute("SELECT pg_advisory_unlock(7230001)")?;
    }
    result
}

/// Applies the pending migrations of the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let applied = match conn {
        DbConnection::Postgresql(pg) => pg
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

/// A consistent copy of a SQLite database into a new file, from one read snapshot while
/// writers go on (`VACUUM INTO`); `path` is already quoted for SQL.
pub fn vacuum_into(conn: &mut DbConnection, quoted_path: &str) -> DbResult<()> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            sqlite.batch_execute(&format!("VACUUM INTO '{quoted_path}'"))?;
            Ok(())
        }
        DbConnection::Postgresql(_) => Err(DbError::Other(anyhow::anyhow!(
            "VACUUM INTO is SQLite's: back PostgreSQL up with its own tools"
        ))),
    }
}

/// Answers whether the database responds (for `/readyz`).
pub fn ping(conn: &mut DbConnection) -> DbResult<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// A new application-made id: UUID v7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current instant as stored in the database (UTC, microsecond precision on both backends).
pub fn now() -> chrono::NaiveDateTime {
    let now = crate::clock::now().naive_utc();
    now.with_nanosecond((now.nanosecond() / 1_000) * 1_000)
        .unwrap_or(now)
}
