//! Settings: `config/default.toml`, then `config/<CONSILIUM_ENV>.toml`, then
//! `CONSILIUM__<SECTION>__<KEY>` environment variables. Secrets are wrapped so they never print.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::crypto::DataKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn from_env() -> anyhow::Result<Environment> {
        match std::env::var("CONSILIUM_ENV").as_deref() {
            Err(_) | Ok("") | Ok("development") => Ok(Environment::Development),
            Ok("test") => Ok(Environment::Test),
            Ok("production") => Ok(Environment::Production),
            Ok(other) => {
                bail!("CONSILIUM_ENV must be development, test or production, not {other:?}")
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub network: NetworkSettings,
    pub email: EmailSettings,
    pub auth: AuthSettings,
    pub audit: AuditSettings,
    #[serde(default)]
    pub clock: ClockSettings,
}

/// The service's clock (`crate::clock`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ClockSettings {
    /// Seconds the clock runs ahead of the system's: tests only (`CONSILIUM_ENV=test`).
    pub offset_seconds: i64,
}

/// Checkpoints of the audit chain, kept outside the database.
#[derive(Debug, Clone, Deserialize)]
pub struct AuditSettings {
    /// Where the worker adds a signed checkpoint of the chain head; empty: none.
    pub checkpoint_dir: String,
    /// Base64 of the 32-byte Ed25519 seed that signs the checkpoints.
    pub checkpoint_key: SecretString,
    /// How often the worker signs a checkpoint (when the chain has grown).
    pub checkpoint_interval_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub json_limit_bytes: usize,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Browser origins allowed to call the API (CORS); empty: no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May hold a password: kept secret.
    pub url: SecretString,
    pub pool_size: u32,
    pub connection_timeout_seconds: u64,
    pub sqlite_busy_timeout_ms: u64,
}

/// Where attachments are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// Files under `<storage.dir>/attachments`.
    Filesystem,
    /// Objects in an S3-compatible bucket.
    S3,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub dir: PathBuf,
    /// `filesystem` or `s3`.
    pub backend: StorageBackend,
    /// The bucket, with `backend = "s3"`.
    pub s3_bucket: String,
    /// Empty for AWS itself; the URL of another S3-compatible store (MinIO, Ceph, Garage…).
    pub s3_endpoint: String,
    /// Empty: `AWS_REGION` or AWS's default.
    pub s3_region: String,
    /// Largest attachment accepted (413 beyond).
    pub max_attachment_bytes: u64,
    /// Largest total of a request's attachments (413 beyond).
    pub max_request_attachments_bytes: u64,
    /// AES-256-GCM key sealing attachments and TOTP secrets at rest (base64 of 32 bytes).
    /// Required in production; elsewhere generated once into `<dir>/encryption_key`.
    pub encryption_key: SecretString,
    /// Keys being retired: what they sealed still opens, until `consilium keys rotate` has
    /// re-sealed it under `encryption_key`.
    #[serde(default)]
    pub previous_encryption_keys: Vec<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NetworkSettings {
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    /// May hold credentials: kept secret.
    pub smtp_url: SecretString,
    pub from: String,
    pub timeout_seconds: u64,
    pub max_attempts: i64,
    pub retry_base_seconds: f64,
    pub retry_max_seconds: f64,
    pub poll_interval_ms: u64,
    pub lease_seconds: i64,
    pub batch_size: i64,
    pub per_address_per_hour: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    /// The key being retired: tokens it signed stay valid until they expire.
    pub jwt_previous_secret: SecretString,
    pub issuer: String,
    pub access_token_minutes: i64,
    pub refresh_token_days: i64,
    pub verify_email_token_hours: i64,
    pub password_reset_token_minutes: i64,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_address: u32,
    pub login_lockout_seconds: u64,
    /// Roles that must sign in with a second factor (TOTP).
    pub mfa_required_roles: Vec<String>,
    /// Lifetime of the token between the password and the second factor.
    pub mfa_token_minutes: i64,
    /// A web session ends after this long without a page (minutes).
    pub web_session_idle_minutes: i64,
    /// A web session ends this long after sign-in, however active (hours).
    pub web_session_hours: i64,
}

/// The shortest JWT secret accepted in production (bytes).
const MIN_JWT_SECRET_LEN: usize = 32;

impl Settings {
    /// With `audit.checkpoint_dir` set, `audit.checkpoint_key` must be a usable key (the service
    /// refuses to start rather than run without its checkpoints).
    pub fn check_audit_checkpoints(&self) -> anyhow::Result<()> {
        if !self.audit.checkpoint_dir.trim().is_empty() {
            crate::audit_checkpoint::signing_key(self.audit.checkpoint_key.expose_secret())
                .context("audit.checkpoint_dir is set")?;
        }
        Ok(())
    }

    /// Loads the layered settings from `dir` (normally `config/`) and the environment.
    pub fn load(dir: &Path, environment: Environment) -> anyhow::Result<Settings> {
        Self::figment(dir, environment)
            .merge(Env::prefixed("CONSILIUM__").split("__"))
            .extract()
            .context("invalid configuration")
    }

    /// The file layers only, without environment variables (tests start from it).
    pub fn figment(dir: &Path, environment: Environment) -> Figment {
        Figment::new()
            .merge(Toml::file(dir.join("default.toml")))
            .merge(Toml::file(
                dir.join(format!("{}.toml", environment.as_str())),
            ))
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        let url = self.database.url.expose_secret();
        if url.is_empty() {
            self.storage
                .dir
                .join("consilium.sqlite3")
                .display()
                .to_string()
        } else {
            url.to_owned()
        }
    }

    /// The key sealing data at rest.
    pub fn data_key(&self) -> anyhow::Result<DataKey> {
        let previous: Vec<&str> = self
            .storage
            .previous_encryption_keys
            .iter()
            .map(|key| key.expose_secret())
            .collect();
        DataKey::with_previous(self.storage.encryption_key.expose_secret(), &previous)
    }

    /// Whether `role` must sign in with a second factor.
    pub fn mfa_required_for(&self, role: &str) -> bool {
        self.auth.mfa_required_roles.iter().any(|r| r == role)
    }

    pub fn attachments_dir(&self) -> PathBuf {
        self.storage.dir.join("attachments")
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.storage.dir.join("mail")
    }

    pub fn db_pool_options(&self) -> crate::db::PoolOptions {
        crate::db::PoolOptions {
            max_size: self.database.pool_size.max(1),
            connection_timeout: Duration::from_secs(self.database.connection_timeout_seconds),
            sqlite_busy_timeout: Duration::from_millis(self.database.sqlite_busy_timeout_ms),
        }
    }

    /// Refuses unsafe settings in production; outside production, makes a JWT secret once and
    /// keeps it in the data directory so sessions survive restarts.
    pub fn prepare(&mut self, environment: Environment) -> anyhow::Result<()> {
        if self.clock.offset_seconds != 0 && environment != Environment::Test {
            bail!(
                "clock.offset_seconds moves the service's time: it is refused outside \
                 CONSILIUM_ENV=test"
            );
        }
        if environment == Environment::Production {
            let mut problems = Vec::new();
            if self.auth.jwt_secret.expose_secret().len() < MIN_JWT_SECRET_LEN {
                problems.push(format!(
                    "auth.jwt_secret must be set to at least {MIN_JWT_SECRET_LEN} characters"
                ));
            }
            if self.email.transport == EmailTransport::File {
                problems.push("email.transport must be smtp".to_owned());
            }
            if self.storage.encryption_key.expose_secret().is_empty() {
                problems.push("storage.encryption_key must be set".to_owned());
            }
            if !self.server.public_url.starts_with("https://") {
                problems.push("server.public_url must be an https:// URL".to_owned());
            }
            if !problems.is_empty() {
                bail!("refusing to start in production: {}", problems.join("; "));
            }
        } else {
            if self.auth.jwt_secret.expose_secret().is_empty() {
                self.auth.jwt_secret =
                    load_or_create_secret(&self.storage.dir.join("jwt_secret"), random_hex_secret)?;
            }
            if self.storage.encryption_key.expose_secret().is_empty() {
                self.storage.encryption_key = load_or_create_secret(
                    &self.storage.dir.join("encryption_key"),
                    DataKey::generate_base64,
                )?;
            }
        }
        self.data_key()?;
        if self.email.lease_seconds <= self.email.timeout_seconds as i64 + 1 {
            bail!(
                "email.lease_seconds must exceed email.timeout_seconds + 1: a worker sends a \
                 message only while its lease outlasts the send"
            );
        }
        self.server.public_url = self.server.public_url.trim_end_matches('/').to_owned();
        Ok(())
    }
}

fn random_hex_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A secret kept in a private file of the data directory, made by `generate` the first time.
fn load_or_create_secret(path: &Path, generate: fn() -> String) -> anyhow::Result<SecretString> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= MIN_JWT_SECRET_LEN {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let secret = generate();
    write_private_file(path, secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a development secret");
    Ok(SecretString::from(secret))
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Settings {
        Settings::figment(Path::new("config"), Environment::Test)
            .extract()
            .unwrap()
    }

    #[test]
    fn secrets_never_print_in_debug_output() {
        let mut settings = defaults();
        settings.auth.jwt_secret = SecretString::from("super-secret-value-123".to_owned());
        settings.database.url = SecretString::from("postgres://u:pw-xyz@h/db".to_owned());
        settings.email.smtp_url = SecretString::from("smtps://u:smtp-pw@h".to_owned());
        let printed = format!("{settings:?}");
        assert!(!printed.contains("super-secret-value-123"));
        assert!(!printed.contains("pw-xyz"));
        assert!(!printed.contains("smtp-pw"));
    }

    #[test]
    fn production_refuses_unsafe_settings() {
        let mut settings = defaults();
        let error = settings
            .prepare(Environment::Production)
            .unwrap_err()
            .to_string();
        assert!(error.contains("auth.jwt_secret"), "{error}");
        assert!(error.contains("email.transport"), "{error}");
        assert!(error.contains("https"), "{error}");
        assert!(error.contains("storage.encryption_key"), "{error}");

        let mut settings = defaults();
        settings.auth.jwt_secret = SecretString::from("x".repeat(40));
        settings.email.transport = EmailTransport::Smtp;
        settings.server.public_url = "https://consilium.example.org/".into();
        settings.storage.encryption_key = SecretString::from(DataKey::generate_base64());
        settings.prepare(Environment::Production).unwrap();
        assert_eq!(settings.server.public_url, "https://consilium.example.org");
    }

    #[test]
    fn only_tests_may_move_the_clock() {
        for environment in [Environment::Development, Environment::Production] {
            let mut settings = defaults();
            settings.clock.offset_seconds = 86_400;
            let error = settings.prepare(environment).unwrap_err().to_string();
            assert!(error.contains("clock.offset_seconds"), "{error}");
        }
        let dir = std::env::temp_dir().join(format!("consilium-clock-{}", uuid::Uuid::new_v4()));
        let mut settings = defaults();
        settings.storage.dir = dir.clone();
        settings.clock.offset_seconds = 86_400;
        settings.prepare(Environment::Test).unwrap();
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn development_generates_a_secret_once_and_keeps_it() {
        let dir = std::env::temp_dir().join(format!("consilium-config-{}", uuid::Uuid::new_v4()));
        let mut first = defaults();
        first.storage.dir = dir.clone();
        first.prepare(Environment::Development).unwrap();
        let mut second = defaults();
        second.storage.dir = dir.clone();
        second.prepare(Environment::Development).unwrap();
        assert!(first.auth.jwt_secret.expose_secret().len() >= MIN_JWT_SECRET_LEN);
        assert_eq!(
            first.auth.jwt_secret.expose_secret(),
            second.auth.jwt_secret.expose_secret()
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
