//! Opinions: one row per version; a delivered version is never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::opinion::OpinionStatus;

use super::DbConnection;
use super::schema::opinions;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = opinions)]
pub struct OpinionRow {
    pub id: String,
    pub request_id: String,
    pub version: i64,
    pub status: OpinionStatus,
    pub content: String,
    pub author_id: String,
    pub validated_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Every version, newest first.
pub fn versions(conn: &mut DbConnection, request_id: &str) -> DbResult<Vec<OpinionRow>> {
    Ok(opinions::table
        .filter(opinions::request_id.eq(request_id))
        .order(opinions::version.desc())
        .select(OpinionRow::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConnection, opinion: &OpinionRow) -> DbResult<()> {
    diesel::insert_into(opinions::table)
        .values(opinion)
        .execute(conn)?;
    Ok(())
}

/// Replaces the content of a draft; zero rows if it is no longer a draft.
pub fn update_draft(
    conn: &mut DbConnection,
    id: &str,
    content: &str,
    author_id: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::update(
        opinions::table
            .find(id)
            .filter(opinions::status.eq(OpinionStatus::Draft)),
    )
    .set((
        opinions::content.eq(content),
        opinions::author_id.eq(author_id),
        opinions::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// Freezes a draft; zero rows if it was not a draft.
pub fn deliver(
    conn: &mut DbConnection,
    id: &str,
    validated_by: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::update(
        opinions::table
            .find(id)
            .filter(opinions::status.eq(OpinionStatus::Draft)),
    )
    .set((
        opinions::status.eq(OpinionStatus::Delivered),
        opinions::validated_by.eq(validated_by),
        opinions::delivered_at.eq(now),
        opinions::updated_at.eq(now),
    ))
    .execute(conn)?)
}
