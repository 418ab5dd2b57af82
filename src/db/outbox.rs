//! The e-mail outbox: rows written with the change that causes them, claimed by workers under a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), never deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::mail::{EmailKind, OutboxStatus};

use super::schema::outbox;
use super::{DbConnection, write_transaction};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: EmailKind,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The message's single-use link, sealed with the data key (the body holds
    /// [`crate::email::SEALED_LINK`] in its place); `None` once sent or dead.
    pub sealed_link: Option<String>,
}

/// A rendered message waiting to be queued.
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub kind: EmailKind,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub sealed_link: Option<String>,
}

pub fn enqueue(conn: &mut DbConnection, email: &NewEmail, now: NaiveDateTime) -> DbResult<String> {
    let id = super::new_id();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::kind.eq(email.kind),
            outbox::recipient.eq(&email.recipient),
            outbox::subject.eq(&email.subject),
            outbox::body_text.eq(&email.body_text),
            outbox::body_html.eq(&email.body_html),
            outbox::sealed_link.eq(&email.sealed_link),
            outbox::status.eq(OutboxStatus::Pending),
            outbox::attempts.eq(0i64),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// How many messages of these kinds went to `recipient` since `since` (rate limits).
pub fn count_recent(
    conn: &mut DbConnection,
    recipient: &str,
    kinds: &[EmailKind],
    since: NaiveDateTime,
) -> DbResult<i64> {
    Ok(outbox::table
        .filter(
            outbox::recipient
                .eq(recipient)
                .and(outbox::kind.eq_any(kinds))
                .and(outbox::created_at.ge(since)),
        )
        .count()
        .get_result(conn)?)
}

/// Claims up to `limit` due messages until `lease_until`; a worker that dies holding them
/// loses the lease and another worker sends them later.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> DbResult<Vec<OutboxRow>> {
    write_transaction(conn, |conn| {
        let due = outbox::status
            .eq(OutboxStatus::Pending)
            .and(outbox::next_attempt_at.le(now))
            .and(
                outbox::locked_until
                    .is_null()
                    .or(outbox::locked_until.le(now)),
            );
        let ids: Vec<String> = match conn {
            DbConnection::Postgresql(pg) => outbox::table
                .filter(due)
                .order(outbox::next_attempt_at)
                .limit(limit)
                .select(outbox::id)
                .for_update()
                .skip_locked()
                .load(pg)?,
            DbConnection::Sqlite(sqlite) => outbox::table
                .filter(due)
                .order(outbox::next_attempt_at)
                .limit(limit)
                .select(outbox::id)
                .load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set(outbox::locked_until.eq(lease_until))
            .execute(conn)?;
        outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::next_attempt_at)
            .select(OutboxRow::as_select())
            .load(conn)
            .map_err(Into::into)
    })
}

/// Records a delivery; the sealed link, if any, is dropped (it has nothing more to do).
pub fn mark_sent(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::sealed_link.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: retried at `next_attempt_at`, or `dead` when `dead` is set.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    next_attempt_at: NaiveDateTime,
    dead: bool,
) -> DbResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(if dead {
                OutboxStatus::Dead
            } else {
                OutboxStatus::Pending
            }),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues a dead message again: pending, due now, its attempts counted afresh (its last error
/// kept until the next attempt). Answers whether it was dead.
pub fn requeue(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> DbResult<bool> {
    let changed = diesel::update(
        outbox::table.filter(outbox::id.eq(id).and(outbox::status.eq(OutboxStatus::Dead))),
    )
    .set((
        outbox::status.eq(OutboxStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// One message of the outbox.
pub fn find(conn: &mut DbConnection, id: &str) -> DbResult<Option<OutboxRow>> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// A page of the outbox, newest first, after the cursor `(created_at, id)`.
pub fn list(
    conn: &mut DbConnection,
    status: Option<OutboxStatus>,
    before: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> DbResult<Vec<OutboxRow>> {
    let mut query = outbox::table
        .select(OutboxRow::as_select())
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status));
    }
    if let Some((at, id)) = before {
        query = query.filter(
            outbox::created_at
                .lt(at)
                .or(outbox::created_at.eq(at).and(outbox::id.lt(id))),
        );
    }
    Ok(query.load(conn)?)
}

/// Gives claimed rows back before their lease ends (the worker stops, or their turn would
/// come after the lease).
pub fn release(conn: &mut DbConnection, ids: &[String]) -> DbResult<()> {
    diesel::update(
        outbox::table.filter(
            outbox::id
                .eq_any(ids)
                .and(outbox::status.eq(OutboxStatus::Pending)),
        ),
    )
    .set(outbox::locked_until.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(())
}

/// Rows per status, for the metrics.
pub fn depth_by_status(conn: &mut DbConnection) -> DbResult<Vec<(OutboxStatus, i64)>> {
    Ok(outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// When the oldest message still waiting to be sent was queued.
pub fn oldest_pending(conn: &mut DbConnection) -> DbResult<Option<NaiveDateTime>> {
    Ok(outbox::table
        .filter(outbox::status.eq(OutboxStatus::Pending))
        .select(diesel::dsl::min(outbox::created_at))
        .first(conn)?)
}
