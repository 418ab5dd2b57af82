//! The real binary as child processes: `serve`, `worker` and `users add`, configured by
//! environment variables, their output kept in a log file that is printed when a test fails.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

use super::db::TestDb;
use crate::support::api::Api;
use crate::support::backend::Backend;
use crate::support::cast::{PASSWORD, TOTP_SECRET};
use crate::support::smtp::free_port;
use crate::support::totp::TotpSteps;

pub const BIN: &str = env!("CARGO_BIN_EXE_consilium");
/// The secret the processes sign access tokens with.
pub const JWT_SECRET: &str = "fault-injection-secret-0123456789abcdef";

/// Everything the processes of one test share: the database, the storage directory, the secrets,
/// the SMTP server's port and the settings.
pub struct Deployment {
    pub db: TestDb,
    pub dir: tempfile::TempDir,
    settings: Vec<(String, String)>,
    /// Other environment variables of the processes (the object store's credentials).
    environment: Vec<(String, String)>,
    /// The last TOTP step used per account, so sign-ins never replay a code.
    pub totp: TotpSteps,
    spawned: Mutex<usize>,
}

impl Deployment {
    pub fn new(backend: &Backend, smtp_port: u16) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(backend, dir.path());
        let key = base64::engine::general_purpose::STANDARD.encode(rand_bytes());
        let settings = [
            ("DATABASE__URL", db.url.clone()),
            ("DATABASE__CONNECTION_TIMEOUT_SECONDS", "2".into()),
            ("DATABASE__POOL_SIZE", "10".into()),
            (
                "STORAGE__DIR",
                dir.path().join("storage").display().to_string(),
            ),
            ("STORAGE__ENCRYPTION_KEY", key),
            ("AUTH__JWT_SECRET", JWT_SECRET.into()),
            ("EMAIL__TRANSPORT", "smtp".into()),
            ("EMAIL__SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
            ("EMAIL__RETRY_BASE_SECONDS", "0.2".into()),
            ("EMAIL__RETRY_MAX_SECONDS", "1.0".into()),
            ("EMAIL__POLL_INTERVAL_MS", "100".into()),
            ("EMAIL__LEASE_SECONDS", "4".into()),
            ("EMAIL__TIMEOUT_SECONDS", "1".into()),
            ("EMAIL__MAX_ATTEMPTS", "1000".into()),
            ("SERVER__WORKERS", "2".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        Deployment {
            db,
            dir,
            settings,
            environment: Vec::new(),
            totp: TotpSteps::default(),
            spawned: Mutex::new(0),
        }
    }

    /// Sets `CONSILIUM__<key>` for the processes started from now on.
    pub fn set(&mut self, key: &str, value: impl ToString) {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.to_owned(), value.to_string()));
    }

    /// Sets the environment variable `name` for the processes started from now on.
    pub fn set_env(&mut self, name: &str, value: impl ToString) {
        self.environment.retain(|(k, _)| k != name);
        self.environment.push((name.to_owned(), value.to_string()));
    }

    fn command(&self, args: &[&str], port: Option<u16>, log: &PathBuf) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null());
        for (name, _) in std::env::vars() {
            if name.starts_with("CONSILIUM") {
                command.env_remove(name);
            }
        }
        command
            .env("CONSILIUM_ENV", "test")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("CONSILIUM__SERVER__HOST", "127.0.0.1")
            .env(
                "CONSILIUM__SERVER__PORT",
                port.map_or("0".to_owned(), |p| p.to_string()),
            )
            .env(
                "CONSILIUM__SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{}", port.unwrap_or(8080)),
            );
        for (key, value) in &self.settings {
            command.env(format!("CONSILIUM__{key}"), value);
        }
        for (name, value) in &self.environment {
            command.env(name, value);
        }
        let file = std::fs::File::create(log).unwrap();
        command.stdout(file.try_clone().unwrap()).stderr(file);
        command
    }

    fn log_path(&self, name: &str) -> PathBuf {
        let mut spawned = self.spawned.lock().unwrap();
        *spawned += 1;
        self.dir
            .path()
            .join("logs")
            .join(format!("{:02}-{name}.log", *spawned))
    }

    /// `consilium serve` on a free port, once it answers `/readyz`.
    pub async fn serve(&self) -> Instance {
        self.serve_on(free_port()).await
    }

    /// `consilium serve` on `port` (e.g. the port of an instance that was killed).
    pub async fn serve_on(&self, port: u16) -> Instance {
        let mut instance = self.spawn_serve_on(port);
        instance.wait_ready().await;
        instance
    }

    /// `consilium serve` on `port`, without waiting for it.
    pub fn spawn_serve_on(&self, port: u16) -> Instance {
        let log = self.log_path(&format!("serve-{port}"));
        let child = self
            .command(&["serve"], Some(port), &log)
            .spawn()
            .expect("the binary starts");
        Instance {
            name: format!("serve:{port}"),
            child: Some(child),
            port: Some(port),
            log,
            exit: None,
        }
    }

    /// `consilium worker`, once its worker has started.
    pub async fn worker(&self) -> Instance {
        let mut instance = self.spawn_worker();
        instance.wait_ready().await;
        instance
    }

    pub fn spawn_worker(&self) -> Instance {
        let log = self.log_path("worker");
        let child = self
            .command(&["worker"], None, &log)
            .spawn()
            .expect("the binary starts");
        Instance {
            name: "worker".into(),
            child: Some(child),
            port: None,
            log,
            exit: None,
        }
    }

    /// `consilium users add … --password-stdin`, staff roles with [`TOTP_SECRET`]; answers the id.
    pub async fn add_user(&self, email: &str, rpps: &str, roles: &[&str]) -> String {
        let mut args = vec![
            "users",
            "add",
            "--email",
            email,
            "--full-name",
            "Dr Fault Injection",
            "--rpps",
            rpps,
            "--site",
            "necker",
            "--specialty",
            "Genetics",
            "--password-stdin",
        ];
        for role in roles {
            args.extend(["--role", role]);
        }
        if roles.iter().any(|role| *role != "requester") {
            args.extend(["--totp-secret", TOTP_SECRET]);
        }
        let log = self.log_path(&format!("users-add-{}", email.replace('@', "_")));
        let mut command = self.command(&args, None, &log);
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        let output = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = command.spawn().expect("the binary starts");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(PASSWORD.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "users add {email} failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }
}

fn rand_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(16) {
        chunk.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    bytes
}

/// One running process of the binary.
pub struct Instance {
    pub name: String,
    child: Option<Child>,
    pub port: Option<u16>,
    pub log: PathBuf,
    exit: Option<ExitStatus>,
}

impl Instance {
    pub fn api(&self) -> Api {
        Api::new(self.port.expect("a serve instance"))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running process").id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log_text();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => match child.try_wait().unwrap() {
                Some(status) => {
                    self.exit = Some(status);
                    self.child = None;
                    false
                }
                None => true,
            },
            None => false,
        }
    }

    /// Waits until a `serve` answers `/readyz` or a `worker` has started its worker.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let api = self.port.map(Api::new);
        loop {
            if !self.running() {
                panic!(
                    "{} exited at start ({:?}):\n{}",
                    self.name,
                    self.exit,
                    self.log_tail(60)
                );
            }
            let ready = match &api {
                Some(api) => api
                    .get("/readyz", None)
                    .try_send()
                    .await
                    .is_ok_and(|answer| answer.status == 200),
                None => self.log_text().contains("e-mail worker started"),
            };
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} not ready after 60 s:\n{}",
                self.name,
                self.log_tail(60)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            self.exit = child.wait().ok();
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.pid().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    pub fn interrupt(&self) {
        self.signal("-INT");
    }

    /// Waits for the process to exit by itself; None if it still runs after `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if !self.running() {
                return self.exit;
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Peak resident memory (VmHWM) in kB.
    pub fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- {} ({}) log tail -----\n{}\n----- end of {} -----",
                self.name,
                self.log.display(),
                self.log_tail(80),
                self.name
            );
        }
        self.kill();
    }
}
