//! The thread of messages between a request's requester and the coordinators.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::account::Role;

use super::DbConnection;
use super::schema::{messages, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub request_id: String,
    pub author_id: String,
    pub author_role: Role,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, message: &MessageRow) -> DbResult<()> {
    diesel::insert_into(messages::table)
        .values(message)
        .execute(conn)?;
    Ok(())
}

/// A page of the thread, oldest first, after the cursor, with authors' names.
pub fn list(
    conn: &mut DbConnection,
    request_id: &str,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> DbResult<Vec<(MessageRow, String)>> {
    let mut query = messages::table
        .inner_join(users::table)
        .filter(messages::request_id.eq(request_id.to_owned()))
        .select((MessageRow::as_select(), users::full_name))
        .order((messages::created_at, messages::id))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            messages::created_at
                .gt(at)
                .or(messages::created_at.eq(at).and(messages::id.gt(id))),
        );
    }
    Ok(query.load(conn)?)
}
