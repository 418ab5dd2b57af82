//! Attachments' metadata (the bytes live under the data directory, named by id).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;

use super::DbConnection;
use super::schema::attachments;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub request_id: String,
    pub uploaded_by: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, attachment: &AttachmentRow) -> DbResult<()> {
    diesel::insert_into(attachments::table)
        .values(attachment)
        .execute(conn)?;
    Ok(())
}

pub fn find(
    conn: &mut DbConnection,
    request_id: &str,
    id: &str,
) -> DbResult<Option<AttachmentRow>> {
    Ok(attachments::table
        .find(id)
        .filter(attachments::request_id.eq(request_id))
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection, request_id: &str) -> DbResult<Vec<AttachmentRow>> {
    Ok(attachments::table
        .filter(attachments::request_id.eq(request_id))
        .order((attachments::created_at, attachments::id))
        .select(AttachmentRow::as_select())
        .load(conn)?)
}

/// Total bytes already attached to a request.
pub fn total_size(conn: &mut DbConnection, request_id: &str) -> DbResult<i64> {
    let sizes: Vec<i64> = attachments::table
        .filter(attachments::request_id.eq(request_id))
        .select(attachments::size)
        .load(conn)?;
    Ok(sizes.iter().sum())
}
