//! Stored answers of idempotent requests (`Idempotency-Key`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;

use super::DbConnection;
use super::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub user_id: String,
    pub idempotency_key: String,
    pub endpoint: String,
    pub request_hash: String,
    pub response_status: i64,
    pub response_body: String,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: &str,
    key: &str,
    endpoint: &str,
) -> DbResult<Option<IdempotencyRow>> {
    Ok(idempotency_keys::table
        .find((user_id, key, endpoint))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &IdempotencyRow) -> DbResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}
