//! Personal calendar feeds: one per account, found by the SHA-256 of its URL's token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::calendar_feeds;
use super::{DbConnection, DbResult};

/// Gives the account a feed with this token hash, replacing the one it had.
pub fn replace(
    conn: &mut DbConnection,
    user_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    remove(conn, user_id)?;
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user_id),
            calendar_feeds::token_hash.eq(token_hash),
            calendar_feeds::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the account's feed; false when it had none.
pub fn remove(conn: &mut DbConnection, user_id: &str) -> DbResult<bool> {
    Ok(diesel::delete(calendar_feeds::table.find(user_id)).execute(conn)? > 0)
}

/// The account whose feed has this token hash.
pub fn owner(conn: &mut DbConnection, token_hash: &str) -> DbResult<Option<String>> {
    Ok(calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .select(calendar_feeds::user_id)
        .load(conn)?
        .into_iter()
        .next())
}

/// When the account's feed was made, if it has one.
pub fn created_at(conn: &mut DbConnection, user_id: &str) -> DbResult<Option<NaiveDateTime>> {
    Ok(calendar_feeds::table
        .find(user_id)
        .select(calendar_feeds::created_at)
        .load(conn)?
        .into_iter()
        .next())
}
