//! The two databases every test runs on, a fresh database per test, and the macro that makes a
//! `#[tokio::test]` per backend.

use std::path::Path;

use diesel::Connection;
use diesel::connection::SimpleConnection;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    pub fn sqlite() -> Option<Backend> {
        Some(Backend::Sqlite)
    }

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

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres(_))
    }
}

/// A database of its own for one test: a SQLite file in `dir`, or a new PostgreSQL database on
/// the server, dropped when this is.
pub struct TestDatabase {
    pub url: String,
    /// (server URL, database name) of a PostgreSQL database to drop at the end.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// `purpose` goes into the PostgreSQL database's name (`consilium_<purpose>_<uuid>`).
    pub fn create(backend: &Backend, dir: &Path, purpose: &str) -> TestDatabase {
        let (url, postgres) = match backend {
            Backend::Sqlite => (dir.join("consilium.sqlite3").display().to_string(), None),
            Backend::Postgres(server) => {
                let name = format!("consilium_{purpose}_{}", uuid::Uuid::new_v4().simple());
                let mut admin = diesel::PgConnection::establish(server).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                (database_url(server, &name), Some((server.clone(), name)))
            }
        };
        TestDatabase { url, postgres }
    }

    /// The PostgreSQL database's name (None on SQLite).
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }
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

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            let dropped = diesel::PgConnection::establish(&server)
                .map_err(|e| e.to_string())
                .and_then(|mut admin| {
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .map_err(|e| e.to_string())
                });
            if let Err(error) = dropped {
                eprintln!("could not drop the test database {name}: {error}");
            }
        }
    }
}

/// One `#[tokio::test]` per backend for each named `async fn(Backend)`, in a module of the
/// test's name (`name::sqlite`, `name::postgres`), its body run by `$run(test_name, body)`:
/// `on_backends!(runner; [sqlite, postgres]; first_test, second_test)`. Each binary names its
/// runner once, in its own `on_both_backends!`.
#[macro_export]
macro_rules! on_backends {
    (@test $run:path; [$($backend:ident),*]; $name:ident) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $backend() {
                    if let Some(backend) = $crate::support::backend::Backend::$backend() {
                        $run(
                            concat!(module_path!(), "::", stringify!($backend)),
                            super::$name(backend),
                        )
                        .await
                    }
                }
            )*
        }
    };
    ($run:path; $backends:tt; $($name:ident),* $(,)?) => {
        $($crate::on_backends!(@test $run; $backends; $name);)*
    };
}
