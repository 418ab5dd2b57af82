//! The operator's commands, run as the real binary.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::support::backend::{Backend, TestDatabase};
use crate::support::cast::{PASSWORD, rpps};
use crate::support::library;

fn consilium(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consilium"));
    command
        .env("CONSILIUM_ENV", "test")
        .env("CONSILIUM__STORAGE__DIR", dir)
        .env_remove("CONSILIUM__DATABASE__URL")
        .env("RUST_LOG", "warn");
    command
}

/// `consilium users add <args> --password-stdin` on the database at `url`, `password` typed in.
fn users_add(dir: &std::path::Path, url: &str, args: &[&str], password: &str) -> Output {
    let mut child = consilium(dir)
        .env("CONSILIUM__DATABASE__URL", url)
        .args(["users", "add"])
        .args(args)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn users_add_and_migrate_work_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    for backend in [Backend::sqlite(), Backend::postgres()]
        .into_iter()
        .flatten()
    {
        let database = TestDatabase::create(&backend, dir.path(), "cli");
        let url = database.url.as_str();
        let migrate = consilium(dir.path())
            .env("CONSILIUM__DATABASE__URL", url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            migrate.status.success(),
            "{}",
            String::from_utf8_lossy(&migrate.stderr)
        );

        let output = users_add(
            dir.path(),
            url,
            &[
                "--email",
                "Admin@Necker.fr",
                "--full-name",
                "Dr Admin",
                "--rpps",
                &rpps(60),
                "--role",
                "admin",
                "--role",
                "coordinator",
                "--site",
                "necker",
            ],
            PASSWORD,
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        assert_eq!(id.len(), 36);

        // The same e-mail again is refused; a weak password is refused.
        let again = users_add(
            dir.path(),
            url,
            &[
                "--email",
                "admin@necker.fr",
                "--full-name",
                "X",
                "--rpps",
                &rpps(61),
                "--role",
                "admin",
            ],
            "password123456",
        );
        assert!(!again.status.success());

        // A coordinator provisioned with a second factor; a secret too short is refused.
        for (secret, rpps_number, ok) in [
            ("JBSWY3DPEHPK3PXP", 62, false),
            ("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 63, true),
        ] {
            let email = format!("coord{rpps_number}@necker.fr");
            let output = users_add(
                dir.path(),
                url,
                &[
                    "--email",
                    &email,
                    "--full-name",
                    "Dr Coord",
                    "--rpps",
                    &rpps(rpps_number),
                    "--role",
                    "coordinator",
                    "--totp-secret",
                    secret,
                ],
                PASSWORD,
            );
            assert_eq!(
                output.status.success(),
                ok,
                "{secret}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let db = library::open_pool(url);
        let mut conn = db.get().unwrap();
        let coordinator = consilium::db::users::find_by_email(&mut conn, "coord63@necker.fr")
            .unwrap()
            .unwrap();
        assert!(coordinator.has_second_factor());
        let sealed = coordinator.totp_secret.unwrap();
        assert!(!sealed.contains("JBSWY3DP"), "the secret is sealed at rest");
        drop(conn);
        drop(db);
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
