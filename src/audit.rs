//! Writing the audit trail: one row per read or change of a request, an opinion, an
//! attachment, a user or a role — actor, time, action, entity, outcome, client, correlation id.
//! Never any clinical text, password, token or secret.

use crate::app::RequestContext;
use crate::db::{self, DbConnection, DbResult};

/// Whether what an audit row records was done or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
}

crate::named_enum!(Outcome {
    Allowed => "allowed",
    Denied => "denied",
});

/// Appends one row to the trail, in the caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    context: &RequestContext,
    action: &str,
    entity_type: &str,
    entity_id: Option<&str>,
    outcome: Outcome,
) -> DbResult<()> {
    db::audit::insert(
        conn,
        &db::audit::AuditEntry {
            id: db::new_id(),
            at: db::now(),
            actor_id: context.actor_id.clone(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.map(str::to_owned),
            outcome: outcome.as_str().to_owned(),
            client_addr: context.client_addr.clone(),
            correlation_id: context.correlation_id.clone(),
        },
    )?;
    Ok(())
}

// ---------------------------------------------------------------- the hash chain
//
// Rows are written unsealed, in their own transactions, with no lock shared between writers.
// The sealer then takes them in (time, id) order and gives each a sequence number, the hash
// of the row before it and its own hash: SHA-256 over the JSON array of the sequence number,
// the previous hash and every column. Changing, removing or reordering a sealed row breaks
// the chain at that row, which `consilium audit verify` reports.

/// Rows sealed per transaction: few enough that the write lock (SQLite has one) is held for
/// milliseconds, while every read of the API waits behind it to write its own audit row.
const SEAL_BATCH: i64 = 100;

/// The hash of a row given its place in the chain.
pub fn chain_hash(seq: i64, prev_hash: &str, row: &db::audit::AuditEntry) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!([
        seq,
        prev_hash,
        row.id,
        row.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        row.actor_id,
        row.action,
        row.entity_type,
        row.entity_id,
        row.outcome,
        row.client_addr,
        row.correlation_id,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Seals the rows written so far (a batch per transaction); answers how many were sealed.
pub fn seal_pending(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let sealed = db::write_transaction(conn, |conn| -> anyhow::Result<usize> {
            let (mut seq, mut hash) = db::audit::lock_chain_head(conn)?;
            let rows = db::audit::unsealed(conn, SEAL_BATCH)?;
            for row in &rows {
                let next = chain_hash(seq + 1, &hash, &row.entry);
                db::audit::seal(conn, &row.entry.id, seq + 1, &hash, &next)?;
                seq += 1;
                hash = next;
            }
            db::audit::set_chain_head(conn, seq, &hash)?;
            Ok(rows.len())
        })?;
        total += sealed;
        if sealed < SEAL_BATCH as usize {
            return Ok(total);
        }
    }
}

/// Seals the trail every second until shutdown (in `serve` and `worker`).
pub async fn keep_sealed(db: db::Db, shutdown: tokio::sync::watch::Receiver<bool>) {
    crate::background::supervise(
        "audit sealer",
        std::time::Duration::from_secs(1),
        shutdown,
        |_| {
            let db = db.clone();
            async move {
                db.run(seal_pending).await?;
                Ok(crate::background::Next::Pause)
            }
        },
    )
    .await;
}

/// What `consilium audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Rows whose link was checked.
    pub verified: i64,
    /// Rows written but not sealed yet (checked by a later run).
    pub unsealed: i64,
    /// The first link that does not hold.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub id: Option<String>,
    pub reason: String,
}

/// Walks the whole chain from its start; stops at the first broken link.
pub fn verify_chain(conn: &mut DbConnection) -> anyhow::Result<ChainReport> {
    let (head_seq, head_hash) = db::audit::chain_head(conn)?;
    let unsealed = db::audit::count_unsealed(conn)?;
    let genesis = "0".repeat(64);
    let (mut seq, mut hash) = (0_i64, genesis);
    let broken = |seq: i64, id: Option<&str>, reason: &str| ChainReport {
        verified: seq - 1,
        unsealed,
        broken: Some(BrokenLink {
            seq,
            id: id.map(str::to_owned),
            reason: reason.to_owned(),
        }),
    };
    loop {
        let rows = db::audit::sealed_after(conn, seq, 1000)?;
        let Some(last) = rows.last().and_then(|row| row.seq) else {
            break;
        };
        for row in &rows {
            let row_seq = row.seq.unwrap_or_default();
            if row_seq != seq + 1 {
                return Ok(broken(seq + 1, None, "row missing (deleted)"));
            }
            if row.prev_hash.as_deref() != Some(hash.as_str()) {
                return Ok(broken(
                    row_seq,
                    Some(&row.entry.id),
                    "previous-hash link broken",
                ));
            }
            let expected = chain_hash(row_seq, &hash, &row.entry);
            if row.hash.as_deref() != Some(expected.as_str()) {
                return Ok(broken(
                    row_seq,
                    Some(&row.entry.id),
                    "row changed after sealing",
                ));
            }
            seq = row_seq;
            hash = expected;
        }
        debug_assert_eq!(seq, last);
    }
    if seq != head_seq || hash != head_hash {
        return Ok(broken(
            seq + 1,
            None,
            "rows missing at the end of the chain",
        ));
    }
    Ok(ChainReport {
        verified: seq,
        unsealed,
        broken: None,
    })
}
