//! `consilium backup DIR` and `consilium restore DIR`: a consistent copy of the data while the
//! service runs, and its restoration into an empty data directory.
//!
//! - SQLite: `VACUUM INTO` writes a consistent copy of the database from one read snapshot
//!   (writers go on meanwhile). PostgreSQL's own tools do it best (`pg_basebackup` with WAL
//!   archiving, or `pg_dump`): on PostgreSQL the command copies the attachments and the
//!   manifest, and says so.
//! - The attachments are copied after the database: a file is written before its row, so every
//!   attachment the copied database names is in the store by then. They are read through the
//!   store (files or a bucket) and written into the backup as files; a restore puts them into
//!   the configured store.
//! - `manifest.json` lists every file with its size and SHA-256, the chain head of the audit
//!   trail and the number of requests; `restore` checks every file against it.
//!
//! Keys are never in a backup: keep `storage.encryption_key` with the backups' own keys.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::attachments::Store;
use crate::config::Settings;
use crate::db::{self, Backend, Db};

const FORMAT: &str = "consilium-backup/1";
const DATABASE_FILE: &str = "consilium.sqlite3";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    /// `sqlite` (the database is in the backup) or `postgresql` (it is not: see pg_dump).
    pub backend: String,
    /// The audit chain's head in the copy: (sequence number, hash).
    pub audit_head: (i64, String),
    pub requests: i64,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup directory: `consilium.sqlite3` or `attachments/<id>`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

fn entry(root: &Path, relative: &str) -> anyhow::Result<FileEntry> {
    let bytes = std::fs::read(root.join(relative))?;
    Ok(FileEntry {
        path: relative.to_owned(),
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}

fn empty_or_absent(dir: &Path) -> anyhow::Result<bool> {
    Ok(!dir.exists() || std::fs::read_dir(dir)?.next().is_none())
}

/// Copies the data into `dir` (absent or empty) while the service may run; answers the
/// manifest written there.
pub async fn backup(settings: &Settings, db: &Db, dir: &Path) -> anyhow::Result<Manifest> {
    if !empty_or_absent(dir)? {
        bail!(
            "{} is not empty: a backup goes into a new directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir.join("attachments"))?;
    let sqlite = db.backend() == Backend::Sqlite;
    let target = dir.join(DATABASE_FILE);
    let (audit_head, requests) = if sqlite {
        let into = target
            .to_str()
            .context("a UTF-8 backup path")?
            .replace('\'', "''");
        db.run(move |conn| db::vacuum_into(conn, &into)).await?;
        // What the copy holds, read from the copy itself.
        let copy = Db::new(target.to_str().unwrap(), &settings.db_pool_options())?;
        let head = copy.run(db::audit::chain_head).await?;
        let requests = copy.run(db::requests::count).await?;
        (head, requests)
    } else {
        let head = db.run(db::audit::chain_head).await?;
        (head, db.run(db::requests::count).await?)
    };
    let mut files = Vec::new();
    if sqlite {
        files.push(entry(dir, DATABASE_FILE)?);
    }
    let store = Store::from_settings(settings)?;
    for name in store.ids().await? {
        let Some(sealed) = store.read_sealed(&name).await? else {
            continue;
        };
        std::fs::write(dir.join("attachments").join(&name), sealed)?;
        files.push(entry(dir, &format!("attachments/{name}"))?);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: chrono::Utc::now().to_rfc3339(),
        backend: if sqlite { "sqlite" } else { "postgresql" }.to_owned(),
        audit_head,
        requests,
        files,
    };
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(manifest)
}

/// Restores a backup into the configured data directory, which must hold no database and no
/// attachments yet; every file is checked against the manifest first.
pub async fn restore(settings: &Settings, dir: &Path) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json"))
            .with_context(|| format!("{} holds no manifest.json", dir.display()))?,
    )?;
    if manifest.format != FORMAT {
        bail!("not a backup of this format: {}", manifest.format);
    }
    for file in &manifest.files {
        let found = entry(dir, &file.path)?;
        if found.sha256 != file.sha256 || found.size != file.size {
            bail!(
                "{} does not match the manifest: the backup is damaged",
                file.path
            );
        }
    }
    let store = Store::from_settings(settings)?;
    if !store.ids().await?.is_empty() {
        bail!("{store:?} is not empty: restore into an empty data directory");
    }
    let url = settings.database_url();
    let database: Option<PathBuf> = match Backend::of_url(&url) {
        Backend::Sqlite if manifest.backend == "sqlite" => {
            let path = PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(&url));
            if path.exists() {
                bail!(
                    "{} exists: restore into an empty data directory",
                    path.display()
                );
            }
            Some(path)
        }
        Backend::Sqlite => {
            bail!("this backup's database is PostgreSQL's: restore it with pg_restore")
        }
        Backend::Postgresql => None,
    };
    if let Store::Filesystem(attachments) = &store {
        std::fs::create_dir_all(attachments)?;
    }
    for file in &manifest.files {
        if let Some(name) = file.path.strip_prefix("attachments/") {
            store
                .replace_sealed(name, std::fs::read(dir.join(&file.path))?)
                .await?;
        }
    }
    store.sync();
    if let Some(path) = database {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let partial = path.with_extension("restoring");
        std::fs::copy(dir.join(DATABASE_FILE), &partial)?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(manifest)
}
