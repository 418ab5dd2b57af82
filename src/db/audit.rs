//! The append-only audit trail (the database refuses UPDATE and DELETE on it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;

use super::DbConnection;
use super::schema::{audit_chain, audit_log};

/// What happened: the row as written, before it is sealed into the chain.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub correlation_id: Option<String>,
}

/// An entry with its place in the hash chain (`None` until sealed).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    #[diesel(embed)]
    pub entry: AuditEntry,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

pub fn insert(conn: &mut DbConnection, entry: &AuditEntry) -> DbResult<()> {
    diesel::insert_into(audit_log::table)
        .values(entry)
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Keyset cursor: rows strictly older than `(at, id)`.
    pub before: Option<(NaiveDateTime, String)>,
}

/// A page of the trail, newest first.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    limit: i64,
) -> DbResult<Vec<AuditEntry>> {
    let mut query = audit_log::table
        .select(AuditEntry::as_select())
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(entity_id.clone()));
    }
    if let Some(actor_id) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(actor_id.clone()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::action.eq(action.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::at.lt(to));
    }
    if let Some((at, id)) = &filter.before {
        query = query.filter(
            audit_log::at
                .lt(*at)
                .or(audit_log::at.eq(*at).and(audit_log::id.lt(id.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// The chain's head: the last sequence number sealed and its hash.
pub fn chain_head(conn: &mut DbConnection) -> DbResult<(i64, String)> {
    Ok(audit_chain::table
        .find(1_i64)
        .select((audit_chain::seq, audit_chain::hash))
        .first(conn)?)
}

/// Takes the chain's head for this transaction (a row lock on PostgreSQL; SQLite's write
/// transaction is already exclusive), so two sealers never chain from the same link.
pub fn lock_chain_head(conn: &mut DbConnection) -> DbResult<(i64, String)> {
    Ok(diesel::update(audit_chain::table.find(1_i64))
        .set(audit_chain::seq.eq(audit_chain::seq))
        .returning((audit_chain::seq, audit_chain::hash))
        .get_result(conn)?)
}

pub fn set_chain_head(conn: &mut DbConnection, seq: i64, hash: &str) -> DbResult<()> {
    diesel::update(audit_chain::table.find(1_i64))
        .set((audit_chain::seq.eq(seq), audit_chain::hash.eq(hash)))
        .execute(conn)?;
    Ok(())
}

/// The oldest rows not sealed yet, in the order they will be chained.
pub fn unsealed(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<AuditRow>> {
    Ok(audit_log::table
        .filter(audit_log::hash.is_null())
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select(AuditRow::as_select())
        .limit(limit)
        .load(conn)?)
}

pub fn count_unsealed(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(audit_log::table
        .filter(audit_log::hash.is_null())
        .count()
        .get_result(conn)?)
}

/// Seals one row (the only UPDATE the database lets through, once).
pub fn seal(
    conn: &mut DbConnection,
    id: &str,
    seq: i64,
    prev_hash: &str,
    hash: &str,
) -> DbResult<usize> {
    Ok(
        diesel::update(audit_log::table.find(id).filter(audit_log::hash.is_null()))
            .set((
                audit_log::seq.eq(seq),
                audit_log::prev_hash.eq(prev_hash),
                audit_log::hash.eq(hash),
            ))
            .execute(conn)?,
    )
}

/// Sealed rows in chain order, after `after_seq`.
pub fn sealed_after(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> DbResult<Vec<AuditRow>> {
    Ok(audit_log::table
        .filter(audit_log::seq.gt(after_seq))
        .order(audit_log::seq.asc())
        .select(AuditRow::as_select())
        .limit(limit)
        .load(conn)?)
}
