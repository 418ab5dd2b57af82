//! The web screens' sessions, found by the SHA-256 of the cookie's value.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{user_roles, users, web_sessions};
use super::users::UserRow;
use super::{DbConnection, DbResult};
use crate::domain::account::Role;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct WebSessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub awaiting_second_factor: bool,
    pub second_factor: bool,
    pub failures: i64,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &WebSessionRow) -> DbResult<()> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id_hash: &str) -> DbResult<Option<WebSessionRow>> {
    // By its key, without `.first()`'s bound `LIMIT ?`: with it, a profile showed SQLite
    // preparing the statement again (sqlite3Reprepare) on every page view.
    Ok(web_sessions::table
        .find(id_hash)
        .select(WebSessionRow::as_select())
        .load(conn)?
        .into_iter()
        .next())
}

/// The session, its user and the user's roles, in one statement (every page view asks).
pub fn find_with_user(
    conn: &mut DbConnection,
    id_hash: &str,
) -> DbResult<Option<(WebSessionRow, UserRow, Vec<Role>)>> {
    let rows: Vec<(WebSessionRow, UserRow, Option<Role>)> = web_sessions::table
        .inner_join(users::table.left_join(user_roles::table))
        .filter(web_sessions::id_hash.eq(id_hash))
        .select((
            WebSessionRow::as_select(),
            UserRow::as_select(),
            user_roles::role.nullable(),
        ))
        .order(user_roles::role)
        .load(conn)?;
    let rows = rows
        .into_iter()
        .map(|(session, user, role)| ((session, user), role))
        .collect();
    Ok(super::users::with_roles(rows).map(|((session, user), roles)| (session, user, roles)))
}

/// Marks the session seen at `now`.
pub fn touch(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(web_sessions::table.find(id_hash))
        .set(web_sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Counts a wrong code; answers the failures so far.
pub fn record_failure(conn: &mut DbConnection, id_hash: &str) -> DbResult<i64> {
    diesel::update(web_sessions::table.find(id_hash))
        .set(web_sessions::failures.eq(web_sessions::failures + 1))
        .execute(conn)?;
    Ok(web_sessions::table
        .find(id_hash)
        .select(web_sessions::failures)
        .first(conn)
        .optional()?
        .unwrap_or(i64::MAX))
}

/// Ends one session; answers whether it existed.
pub fn delete(conn: &mut DbConnection, id_hash: &str) -> DbResult<bool> {
    Ok(diesel::delete(web_sessions::table.find(id_hash)).execute(conn)? > 0)
}

/// Ends every session of a user.
pub fn delete_for_user(conn: &mut DbConnection, user_id: &str) -> DbResult<()> {
    diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// Removes the sessions idle since before `idle_before` or opened before `opened_before`.
pub fn delete_expired(
    conn: &mut DbConnection,
    idle_before: NaiveDateTime,
    opened_before: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::delete(
        web_sessions::table.filter(
            web_sessions::last_seen_at
                .lt(idle_before)
                .or(web_sessions::created_at.lt(opened_before)),
        ),
    )
    .execute(conn)?)
}
