//! The operator's commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{PASSWORD, rpps};

fn consilium(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consilium"));
    command
        .env("CONSILIUM_ENV", "test")
        .env("CONSILIUM__STORAGE__DIR", dir)
        .env_remove("CONSILIUM__DATABASE__URL")
        .env("RUST_LOG", "warn");
    command
}

fn database_urls(dir: &std::path::Path) -> Vec<(String, Option<String>)> {
    let mut urls = vec![(dir.join("cli.sqlite3").display().to_string(), None)];
    if let Ok(server) = std::env::var("TEST_DATABASE_URL") {
        use diesel::Connection;
        use diesel::connection::SimpleConnection;
        let name = format!("consilium_cli_{}", uuid::Uuid::new_v4().simple());
        diesel::PgConnection::establish(&server)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let base = server.trim_end_matches('/');
        let url = match base.rsplit_once('/') {
            Some((prefix, _)) if prefix.len() > "postgres://".len() => format!("{prefix}/{name}"),
            _ => format!("{base}/{name}"),
        };
        urls.push((url, Some(name)));
    }
    urls
}

#[test]
fn users_add_and_migrate_work_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    for (url, pg_name) in database_urls(dir.path()) {
        let migrate = consilium(dir.path())
            .env("CONSILIUM__DATABASE__URL", &url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            migrate.status.success(),
            "{}",
            String::from_utf8_lossy(&migrate.stderr)
        );

        let mut child = consilium(dir.path())
            .env("CONSILIUM__DATABASE__URL", &url)
            .args([
                "users",
                "add",
                "--email",
                "Admin@Necker.fr",
                "--full-name",
                "Dr Admin",
                "--rpps",
                &rpps(60),
            ])
            .args([
                "--role",
                "admin",
                "--role",
                "coordinator",
                "--site",
                "necker",
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        assert_eq!(id.len(), 36);

        // The same e-mail again is refused; a weak password is refused.
        let mut again = consilium(dir.path())
            .env("CONSILIUM__DATABASE__URL", &url)
            .args([
                "users",
                "add",
                "--email",
                "admin@necker.fr",
                "--full-name",
                "X",
                "--rpps",
                &rpps(61),
                "--role",
                "admin",
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        again
            .stdin
            .take()
            .unwrap()
            .write_all(b"password123456\n")
            .unwrap();
        assert!(!again.wait_with_output().unwrap().status.success());

        // A coordinator provisioned with a second factor; a secret too short is refused.
        for (secret, rpps_number, ok) in [
            ("JBSWY3DPEHPK3PXP", 62, false),
            ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 63, true),
        ] {
            let mut child = consilium(dir.path())
                .env("CONSILIUM__DATABASE__URL", &url)
                .args(["users", "add", "--email"])
                .arg(format!("coord{rpps_number}@necker.fr"))
                .args(["--full-name", "Dr Coord", "--rpps", &rpps(rpps_number)])
                .args([
                    "--role",
                    "coordinator",
                    "--totp-secret",
                    secret,
                    "--password-stdin",
                ])
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())
                .unwrap();
            let output = child.wait_with_output().unwrap();
            assert_eq!(
                output.status.success(),
                ok,
                "{secret}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let db = consilium::db::Db::new(
            &url,
            &consilium::db::PoolOptions {
                max_size: 1,
                connection_timeout: std::time::Duration::from_secs(5),
                sqlite_busy_timeout: std::time::Duration::from_secs(5),
            },
        )
        .unwrap();
        let mut conn = db.get().unwrap();
        let coordinator = consilium::db::users::find_by_email(&mut conn, "coord63@necker.fr")
            .unwrap()
            .unwrap();
        assert!(coordinator.has_second_factor());
        let sealed = coordinator.totp_secret.unwrap();
        assert!(!sealed.contains("JBSWY3DP"), "the secret is sealed at rest");
        drop(conn);
        drop(db);

        if let Some(name) = pg_name {
            use diesel::Connection;
            use diesel::connection::SimpleConnection;
            let server = std::env::var("TEST_DATABASE_URL").unwrap();
            diesel::PgConnection::establish(&server)
                .unwrap()
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .unwrap();
        }
    }
}

#[test]
fn production_refuses_unsafe_settings() {
    let dir = tempfile::tempdir().unwrap();
    let output = consilium(dir.path())
        .env("CONSILIUM_ENV", "production")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("auth.jwt_secret"), "{stderr}");
    assert!(stderr.contains("email.transport"), "{stderr}");
    assert!(stderr.contains("https"), "{stderr}");
}

#[test]
fn a_malformed_postgres_url_is_an_error_not_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = consilium(dir.path())
        .env(
            "CONSILIUM__DATABASE__URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .env("CONSILIUM__DATABASE__CONNECTION_TIMEOUT_SECONDS", "1")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unreachable"));
}
