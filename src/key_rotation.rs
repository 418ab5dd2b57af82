//! `consilium keys rotate`: re-seals everything sealed at rest under the current data key
//! (`storage.encryption_key`), while the service runs. Each item names the key that sealed it,
//! so the service reads old and new items alike as long as the old key is in
//! `storage.previous_encryption_keys`; once a run reports nothing left under another key, the
//! old key can leave the list.
//!
//! One item at a time, each replaced whole: a sealed text by a guarded `UPDATE` (only if it is
//! still the value read, so a secret enrolled meanwhile is kept), a file by writing the new
//! sealed copy beside it, syncing it, and renaming it over the old one, or by one `PUT` of the
//! object in a bucket (a download reads the old bytes or the new ones, never a mix). Killed half-way, the next run finds what is already
//! under the current key and goes on with the rest.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use crate::app::RequestContext;
use crate::attachments::Store;
use crate::audit::{self, Outcome};
use crate::crypto::{DataKey, SealedBy};
use crate::db::sealed::{self, SealedColumn};
use crate::db::{self, Db};

/// Items read per page.
const PAGE: i64 = 200;
/// A progress line every this many re-sealed files.
const PROGRESS_EVERY: u64 = 25;

/// What a run did with one kind of item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Re-sealed under the current key by this run.
    pub resealed: u64,
    /// Already under the current key.
    pub current: u64,
    /// Changed or removed meanwhile (the newer value is under the current key already).
    pub skipped: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub secrets: Tally,
    pub links: Tally,
    pub attachments: Tally,
}

impl Tally {
    fn line(&self, name: &str, key_id: &str) -> String {
        format!(
            "{name}: {} re-sealed, {} already under key {key_id}, {} changed meanwhile",
            self.resealed, self.current, self.skipped
        )
    }
}

impl Report {
    /// The run's summary, one line per kind of item.
    pub fn describe(&self, key_id: &str) -> String {
        [
            self.secrets.line("second-factor secrets", key_id),
            self.links.line("e-mail links", key_id),
            self.attachments.line("attachments", key_id),
        ]
        .join("\n")
    }
}

/// Re-seals every item not under the current key; writes its progress to `out`.
pub async fn rotate(
    db: &Db,
    key: &Arc<DataKey>,
    store: &Store,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<Report> {
    let mut report = Report {
        secrets: rotate_column(db, key, SealedColumn::SecondFactorSecret).await?,
        links: rotate_column(db, key, SealedColumn::EmailLink).await?,
        attachments: Tally::default(),
    };
    let key_id = key.current_id();
    writeln!(
        out,
        "{}",
        report.secrets.line("second-factor secrets", &key_id)
    )?;
    writeln!(out, "{}", report.links.line("e-mail links", &key_id))?;
    out.flush()?;
    let mut after = String::new();
    loop {
        let from = after.clone();
        let ids = db
            .run(move |conn| sealed::attachment_ids(conn, &from, PAGE))
            .await?;
        let Some(last) = ids.last() else { break };
        after = last.clone();
        for id in ids {
            let tally = &mut report.attachments;
            match reseal_file(key, store, &id).await? {
                Some(true) => {
                    tally.resealed += 1;
                    if tally.resealed.is_multiple_of(PROGRESS_EVERY) {
                        writeln!(out, "attachments: {} re-sealed so far", tally.resealed)?;
                        out.flush()?;
                    }
                }
                Some(false) => tally.current += 1,
                None => tally.skipped += 1,
            }
        }
    }
    store.sync();
    db.write(move |conn| {
        audit::record(
            conn,
            &RequestContext::default(),
            "keys.rotate",
            "data_key",
            Some(&key_id),
            Outcome::Allowed,
        )
    })
    .await?;
    Ok(report)
}

async fn rotate_column(db: &Db, key: &Arc<DataKey>, column: SealedColumn) -> anyhow::Result<Tally> {
    let key = key.clone();
    db.run(move |conn| {
        let mut tally = Tally::default();
        let mut after = String::new();
        loop {
            let page = sealed::page(conn, column, &after, PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            for (id, old) in page {
                if key.text_sealed_by(&old) == SealedBy::Current {
                    tally.current += 1;
                    continue;
                }
                let plain = key
                    .open_text(&old)
                    .with_context(|| format!("{column:?} of {id}"))?;
                let new = key.seal_text(&plain);
                let replaced = db::write_transaction(conn, |conn| {
                    sealed::replace(conn, column, &id, &old, &new)
                })?;
                if replaced {
                    tally.resealed += 1;
                } else {
                    tally.skipped += 1;
                }
            }
        }
        Ok::<_, anyhow::Error>(tally)
    })
    .await
}

/// Re-seals one attachment: `Some(true)` re-sealed, `Some(false)` already current, `None`
/// gone.
async fn reseal_file(key: &DataKey, store: &Store, id: &str) -> anyhow::Result<Option<bool>> {
    let Some(sealed) = store.read_sealed(id).await.map_err(anyhow::Error::from)? else {
        return Ok(None);
    };
    if key.file_sealed_by(&sealed) == SealedBy::Current {
        return Ok(Some(false));
    }
    let plain = key
        .open_file(&sealed)
        .with_context(|| format!("attachment {id}"))?;
    let mut sealer = key.file_sealer();
    let mut resealed = sealer.update(&plain);
    resealed.extend(sealer.finish());
    store
        .replace_sealed(id, resealed)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Some(true))
}
