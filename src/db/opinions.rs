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

/// Which of the requests `ids` have an opinion being written (a draft version), in one query.
pub fn drafted_among(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashSet<String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(opinions::table
        .filter(
            opinions::request_id
                .eq_any(ids)
                .and(opinions::status.eq(OpinionStatus::Draft)),
        )
        .select(opinions::request_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
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

/// What a change of a draft sets (`None` leaves a column as it is).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = opinions)]
struct DraftChanges<'a> {
    status: Option<OpinionStatus>,
    content: Option<&'a str>,
    author_id: Option<&'a str>,
    validated_by: Option<&'a str>,
    delivered_at: Option<NaiveDateTime>,
    updated_at: Option<NaiveDateTime>,
}

/// Changes a version only while it is a draft; zero rows once it is not.
fn change_draft(conn: &mut DbConnection, id: &str, changes: &DraftChanges<'_>) -> DbResult<usize> {
    Ok(diesel::update(
        opinions::table
            .find(id)
            .filter(opinions::status.eq(OpinionStatus::Draft)),
    )
    .set(changes)
    .execute(conn)?)
}

/// Replaces the content of a draft; zero rows if it is no longer a draft.
pub fn update_draft(
    conn: &mut DbConnection,
    id: &str,
    content: &str,
    author_id: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let changes = DraftChanges {
        content: Some(content),
        author_id: Some(author_id),
        updated_at: Some(now),
        ..Default::default()
    };
    change_draft(conn, id, &changes)
}

/// Freezes a draft; zero rows if it was not a draft.
pub fn deliver(
    conn: &mut DbConnection,
    id: &str,
    validated_by: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let changes = DraftChanges {
        status: Some(OpinionStatus::Delivered),
        validated_by: Some(validated_by),
        delivered_at: Some(now),
        updated_at: Some(now),
        ..Default::default()
    };
    change_draft(conn, id, &changes)
}
