//! The command line: `serve`, `worker`, `migrate`, `users add`, `audit verify`, `audit
//! checkpoint`, `backup`, `restore`, `keys rotate`, `openapi`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::config::{Environment, Settings};
use crate::crypto::DataKey;
use crate::db;
use crate::domain::account::Role;
use crate::domain::email_address::EmailAddress;
use crate::domain::password;
use crate::domain::rpps::Rpps;
use crate::startup::{self, Application};
use secrecy::ExposeSecret;

#[derive(Debug, Parser)]
#[command(
    name = "consilium",
    version,
    about = "Request workflow service of a rare-disease reference network"
)]
pub struct Cli {
    /// The directory holding default.toml and <CONSILIUM_ENV>.toml.
    #[arg(
        long,
        env = "CONSILIUM_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    pub config_dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the API and the e-mail worker.
    Serve,
    /// Runs the e-mail worker alone.
    Worker,
    /// Applies the database migrations and seeds the network.
    Migrate,
    /// Manages accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Checks the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Copies the data into DIR (new or empty) while the service runs: the SQLite database
    /// (VACUUM INTO), the attachments and a manifest. On PostgreSQL the database is backed up
    /// with PostgreSQL's own tools (pg_basebackup and WAL archiving, or pg_dump).
    Backup { dir: PathBuf },
    /// Restores a backup into the configured, empty data directory (every file checked
    /// against the manifest first).
    Restore { dir: PathBuf },
    /// Manages the data key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Prints the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seals every attachment, second-factor secret and queued e-mail link under
    /// `storage.encryption_key`, while the service runs (the old key stays in
    /// `storage.previous_encryption_keys` until this reports nothing left under it). Safe to
    /// run again after a crash: it goes on where it stopped.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walks the audit trail's hash chain; exits 1 and names the first broken link if any
    /// row was changed, removed or reordered. With `--checkpoints DIR`, also checks every
    /// signed checkpoint there against the chain (a chain cut or rewritten wholesale, head
    /// included, fails on the first checkpoint that no longer matches).
    Verify {
        /// A directory of checkpoints written by `audit checkpoint` or the worker.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// The checkpoints' Ed25519 public key (base64); default: the one of
        /// `audit.checkpoint_key`.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Signs the chain's head with `audit.checkpoint_key` and adds it as a file to DIR (ship
    /// that directory elsewhere: it is what proves the chain was not rewritten).
    Checkpoint {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Creates an active, verified account (the first admin, coordinators, experts).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        full_name: String,
        #[arg(long)]
        rpps: String,
        /// requester, coordinator, expert or admin; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        site: Option<String>,
        #[arg(long, default_value = "")]
        specialty: String,
        #[arg(long, default_value = "fr")]
        language: String,
        /// Reads the password from standard input (it never appears in the process list).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Provisions the second factor: the TOTP secret (base32, at least 128 bits) already
        /// loaded into the user's authenticator app.
        #[arg(long)]
        totp_secret: Option<String>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        print!("{}", crate::openapi::document());
        return Ok(());
    }
    let environment = Environment::from_env()?;
    let mut settings = Settings::load(&cli.config_dir, environment)?;
    settings.prepare(environment)?;
    match cli.command {
        Command::Serve => {
            Application::build(settings, true)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Worker => {
            let db = startup::prepare_database(&settings).await?;
            let worker = startup::worker(&settings, db)?;
            tracing::info!(destination = %worker.mailer.describe(), "e-mails are delivered to");
            settings.check_audit_checkpoints()?;
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let background = startup::background_tasks(
                &worker.db,
                &settings.audit,
                &settings.server.public_url,
                &stopped,
            );
            let running = tokio::spawn(worker.run(stopped));
            startup::shutdown_signal().await;
            stop.send(true).ok();
            running.await?;
            for task in background {
                task.await?;
            }
            Ok(())
        }
        Command::Backup { dir } => {
            let db = startup::prepare_database(&settings).await?;
            let manifest = crate::backup::backup(&settings, &db, &dir).await?;
            println!(
                "backup written to {}: {} files, {} requests, audit chain at row {}{}",
                dir.display(),
                manifest.files.len(),
                manifest.requests,
                manifest.audit_head.0,
                if manifest.backend == "sqlite" {
                    ""
                } else {
                    " (the PostgreSQL database itself: pg_basebackup or pg_dump)"
                }
            );
            Ok(())
        }
        Command::Restore { dir } => {
            let manifest = crate::backup::restore(&settings, &dir).await?;
            println!(
                "restored {} files ({} requests, audit chain at row {}) into {}",
                manifest.files.len(),
                manifest.requests,
                manifest.audit_head.0,
                settings.storage.dir.display()
            );
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let db = startup::prepare_database(&settings).await?;
            let key = std::sync::Arc::new(settings.data_key()?);
            let store = crate::attachments::Store::from_settings(&settings)?;
            let key_id = key.current_id();
            let report =
                crate::key_rotation::rotate(&db, &key, &store, &mut std::io::stdout()).await?;
            println!("{}", report.describe(&key_id));
            println!(
                "everything is sealed under key {key_id}: the previous keys can leave \
                 storage.previous_encryption_keys"
            );
            Ok(())
        }
        Command::Migrate => {
            startup::prepare_database(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::Add {
                    email,
                    full_name,
                    rpps,
                    roles,
                    site,
                    specialty,
                    language,
                    password_stdin: _,
                    totp_secret,
                },
        } => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("cannot read the password")?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let db = startup::prepare_database(&settings).await?;
            let key = settings.data_key()?;
            let id = tokio::task::spawn_blocking(move || {
                add_user(
                    &db,
                    &key,
                    &NewAccount {
                        email: &email,
                        full_name: &full_name,
                        rpps: &rpps,
                        roles: &roles,
                        site: site.as_deref(),
                        specialty: &specialty,
                        language: &language,
                        password: &password,
                        totp_secret: totp_secret.as_deref(),
                    },
                )
            })
            .await??;
            println!("{id}");
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { dir },
        } => {
            let key = crate::audit_checkpoint::signing_key(
                settings.audit.checkpoint_key.expose_secret(),
            )?;
            let db = startup::prepare_database(&settings).await?;
            let written = db
                .run(move |conn| {
                    crate::audit::seal_pending(conn)?;
                    crate::audit_checkpoint::write(conn, &key, &dir)
                })
                .await?;
            match written {
                Some(path) => println!("checkpoint written: {}", path.display()),
                None => println!("the chain has not moved since the last checkpoint"),
            }
            Ok(())
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    checkpoints,
                    public_key,
                },
        } => {
            let key = match (&checkpoints, public_key) {
                (None, _) => None,
                (Some(_), Some(public)) => Some(crate::audit_checkpoint::verifying_key(&public)?),
                (Some(_), None) => Some(
                    crate::audit_checkpoint::signing_key(
                        settings.audit.checkpoint_key.expose_secret(),
                    )
                    .context("--checkpoints needs --public-key or audit.checkpoint_key")?
                    .verifying_key(),
                ),
            };
            let db = startup::prepare_database(&settings).await?;
            let (report, matched) = db
                .run(move |conn| -> anyhow::Result<_> {
                    crate::audit::seal_pending(conn)?;
                    let report = crate::audit::verify_chain(conn)?;
                    let matched = match (&checkpoints, &key) {
                        (Some(dir), Some(key)) => {
                            Some(crate::audit_checkpoint::verify(conn, key, dir)?)
                        }
                        _ => None,
                    };
                    Ok((report, matched))
                })
                .await?;
            match report.broken {
                None => {
                    if let Some(Err(mismatch)) = &matched {
                        println!(
                            "audit trail BROKEN: checkpoint {} (row {}) no longer matches: {}",
                            mismatch.file.display(),
                            mismatch.seq,
                            mismatch.reason
                        );
                        std::process::exit(1);
                    }
                    println!(
                        "audit trail intact: {} rows verified, {} not sealed yet",
                        report.verified, report.unsealed
                    );
                    if let Some(Ok(count)) = matched {
                        println!("{count} checkpoints match the chain");
                    }
                    Ok(())
                }
                Some(link) => {
                    println!(
                        "audit trail BROKEN at row {} ({}): {}; {} rows before it verified",
                        link.seq,
                        link.id.as_deref().unwrap_or("no id"),
                        link.reason,
                        report.verified
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Openapi => unreachable!("handled above"),
    }
}

/// An account made by an operator (`users add`).
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub rpps: &'a str,
    pub roles: &'a [String],
    pub site: Option<&'a str>,
    pub specialty: &'a str,
    pub language: &'a str,
    pub password: &'a str,
    /// A TOTP secret (base32) to enable the second factor with.
    pub totp_secret: Option<&'a str>,
}

/// Creates an active, verified account (the `users add` command).
pub fn add_user(db: &db::Db, key: &DataKey, account: &NewAccount<'_>) -> anyhow::Result<String> {
    let (full_name, specialty, site, password) = (
        account.full_name,
        account.specialty,
        account.site,
        account.password,
    );
    let sealed_totp = match account.totp_secret {
        Some(secret) => {
            crate::auth::totp::parse_secret(secret).ok_or_else(|| {
                anyhow::anyhow!("--totp-secret must be base32 of at least 128 bits")
            })?;
            Some(key.seal_text(secret.trim()))
        }
        None => None,
    };
    let email = EmailAddress::parse(account.email).map_err(|m| anyhow::anyhow!("--email {m}"))?;
    let rpps = Rpps::parse(account.rpps).map_err(|e| anyhow::anyhow!("--rpps {e}"))?;
    let roles = account
        .roles
        .iter()
        .map(|r| Role::parse(r).ok_or_else(|| anyhow::anyhow!("--role {r} is not a role")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let language = crate::domain::account::Language::parse(account.language)
        .ok_or_else(|| anyhow::anyhow!("--language must be fr or en"))?;
    password::check_strength(password, &[email.as_str(), full_name, rpps.as_str()])
        .map_err(|m| anyhow::anyhow!("the password {m}"))?;
    let hash = crate::auth::password_hash::hash_blocking(password)?;
    let mut conn = db.get()?;
    let id = db::new_id();
    db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        if let Some(site) = site
            && !db::network::site_exists(conn, site)?
        {
            bail!("--site {site} is not a site of the network");
        }
        if !db::users::find_by_email_or_rpps(conn, email.as_str(), rpps.as_str())?.is_empty() {
            bail!("an account already uses this e-mail or RPPS");
        }
        let now = db::now();
        db::users::insert(
            conn,
            &db::users::NewUser {
                id: &id,
                email: email.as_str(),
                password_hash: &hash,
                full_name,
                rpps: rpps.as_str(),
                specialty,
                site_code: site,
                phone: None,
                language,
                status: crate::domain::account::AccountStatus::Active,
                created_at: now,
                email_verified_at: Some(now),
            },
        )?;
        db::users::set_roles(conn, &id, &roles, now)?;
        if let Some(sealed) = &sealed_totp {
            db::mfa::enable_totp(conn, &id, sealed, now)?;
        }
        crate::audit::record(
            conn,
            &Default::default(),
            "user.create_cli",
            "user",
            Some(&id),
            crate::audit::Outcome::Allowed,
        )?;
        Ok(())
    })?;
    Ok(id)
}
