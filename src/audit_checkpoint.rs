//! Checkpoints of the audit chain kept outside the database: the chain head (its sequence
//! number and hash) signed with an Ed25519 key and written as a file of its own into a
//! directory shipped elsewhere. The chain alone proves no row was changed in place; a
//! checkpoint proves the chain was not cut or rewritten wholesale, head included, since it
//! was signed: `audit verify --checkpoints DIR` fails on the first checkpoint that no longer
//! matches the row at its sequence number.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::db::{self, DbConnection};

const FORMAT: &str = "consilium-audit-checkpoint/1";

/// One signed chain head, as written to its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    pub seq: i64,
    pub hash: String,
    /// When it was signed (RFC 3339, UTC).
    pub at: String,
    /// The Ed25519 public key that signed it (base64), for the reader's information only:
    /// verification uses the key it is given.
    pub public_key: String,
    /// Ed25519 over `format \n seq \n hash \n at` (base64).
    pub signature: String,
}

fn message(seq: i64, hash: &str, at: &str) -> String {
    format!("{FORMAT}\n{seq}\n{hash}\n{at}")
}

/// The signing key from `audit.checkpoint_key`: base64 of a 32-byte seed.
pub fn signing_key(base64_seed: &str) -> anyhow::Result<SigningKey> {
    let seed: [u8; 32] = STANDARD
        .decode(base64_seed.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("audit.checkpoint_key must be base64 of 32 bytes")?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A public key given as base64 (`--public-key`).
pub fn verifying_key(base64_key: &str) -> anyhow::Result<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD
        .decode(base64_key.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("a public key is base64 of 32 bytes")?;
    VerifyingKey::from_bytes(&bytes).context("not an Ed25519 public key")
}

/// Signs the chain's head now and adds it to `dir` as a new file (never replacing one);
/// answers the file, or `None` when the last checkpoint there already has this head.
pub fn write(
    conn: &mut DbConnection,
    key: &SigningKey,
    dir: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    let (seq, hash) = db::audit::chain_head(conn)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if read_all(dir)?
        .last()
        .is_some_and(|(_, last)| last.seq == seq && last.hash == hash)
    {
        return Ok(None);
    }
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let signature = key.sign(message(seq, &hash, &at).as_bytes());
    let checkpoint = Checkpoint {
        format: FORMAT.to_owned(),
        seq,
        public_key: STANDARD.encode(key.verifying_key().as_bytes()),
        signature: STANDARD.encode(signature.to_bytes()),
        hash,
        at: at.clone(),
    };
    let stamp: String = at.chars().filter(char::is_ascii_digit).collect();
    let path = dir.join(format!("checkpoint-{seq:012}-{stamp}.json"));
    let partial = dir.join(format!(".checkpoint-{seq:012}-{stamp}.partial"));
    std::fs::write(&partial, serde_json::to_string_pretty(&checkpoint)? + "\n")?;
    std::fs::File::open(&partial)?.sync_all()?;
    if path.exists() {
        bail!("{} exists already", path.display());
    }
    std::fs::rename(&partial, &path)?;
    Ok(Some(path))
}

/// The checkpoints of a directory, by sequence number then time.
pub fn read_all(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Checkpoint)>> {
    let mut checkpoints = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        let is_checkpoint = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("checkpoint-") && name.ends_with(".json"));
        if !is_checkpoint {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let checkpoint: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a checkpoint", path.display()))?;
        checkpoints.push((path, checkpoint));
    }
    checkpoints
        .sort_by(|(a_path, a), (b_path, b)| (a.seq, &a.at, a_path).cmp(&(b.seq, &b.at, b_path)));
    Ok(checkpoints)
}

/// The first checkpoint that no longer matches the chain, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub file: PathBuf,
    pub seq: i64,
    pub reason: String,
}

/// Checks every checkpoint of `dir` against the chain: its signature under `key`, and the
/// sealed row at its sequence number carrying its hash. Answers how many matched, or the
/// first that does not.
pub fn verify(
    conn: &mut DbConnection,
    key: &VerifyingKey,
    dir: &Path,
) -> anyhow::Result<Result<usize, Mismatch>> {
    let checkpoints = read_all(dir)?;
    let (head_seq, _) = db::audit::chain_head(conn)?;
    for (file, checkpoint) in &checkpoints {
        let mismatch = |reason: String| {
            Ok(Err(Mismatch {
                file: file.clone(),
                seq: checkpoint.seq,
                reason,
            }))
        };
        let signature = STANDARD
            .decode(&checkpoint.signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok());
        let signed = signature.is_some_and(|signature| {
            key.verify(
                message(checkpoint.seq, &checkpoint.hash, &checkpoint.at).as_bytes(),
                &signature,
            )
            .is_ok()
        });
        if checkpoint.format != FORMAT || !signed {
            return mismatch("its signature does not verify under this key".into());
        }
        if checkpoint.seq == 0 {
            continue;
        }
        if head_seq < checkpoint.seq {
            return mismatch(format!(
                "the chain ends at row {head_seq}, before this checkpoint's row (cut)"
            ));
        }
        let row = db::audit::sealed_after(conn, checkpoint.seq - 1, 1)?
            .into_iter()
            .next()
            .filter(|row| row.seq == Some(checkpoint.seq));
        match row {
            None => return mismatch(format!("row {} is missing", checkpoint.seq)),
            Some(row) if row.hash.as_deref() != Some(checkpoint.hash.as_str()) => {
                return mismatch(format!(
                    "row {} no longer has the signed hash (rewritten)",
                    checkpoint.seq
                ));
            }
            Some(_) => {}
        }
    }
    Ok(Ok(checkpoints.len()))
}

/// Signs a checkpoint every `audit.checkpoint_interval_seconds` into `audit.checkpoint_dir`
/// (when the chain has grown), until shutdown; nothing when no directory is set.
pub async fn keep_checkpointing(
    db: db::Db,
    settings: crate::config::AuditSettings,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    if settings.checkpoint_dir.trim().is_empty() {
        return Ok(());
    }
    let key = signing_key(settings.checkpoint_key.expose_secret())?;
    let dir = PathBuf::from(settings.checkpoint_dir.trim());
    let pause = std::time::Duration::from_secs(settings.checkpoint_interval_seconds.max(1));
    crate::background::supervise("audit checkpoints", pause, shutdown, |_| {
        let (db, key, dir) = (db.clone(), key.clone(), dir.clone());
        async move {
            if let Some(path) = db.run(move |conn| write(conn, &key, &dir)).await? {
                tracing::info!(file = %path.display(), "audit checkpoint written");
            }
            Ok(crate::background::Next::Pause)
        }
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_the_sequence_number_the_hash_and_the_time() {
        let key = signing_key(&STANDARD.encode([7u8; 32])).unwrap();
        let signature = key.sign(message(12, "ab", "t").as_bytes());
        let public = key.verifying_key();
        assert!(
            public
                .verify(message(12, "ab", "t").as_bytes(), &signature)
                .is_ok()
        );
        for (seq, hash, at) in [(13, "ab", "t"), (12, "ac", "t"), (12, "ab", "u")] {
            assert!(
                public
                    .verify(message(seq, hash, at).as_bytes(), &signature)
                    .is_err()
            );
        }
        assert!(signing_key("c2hvcnQ=").is_err(), "a seed is 32 bytes");
    }
}
