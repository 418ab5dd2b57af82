//! The second factor: TOTP enrolment and replay guard, recovery codes, login challenges.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;

use super::DbConnection;
use super::schema::{login_challenges, recovery_codes, users};

/// Starts (or restarts) an enrolment: the sealed secret waits for its first code.
pub fn set_pending_totp(conn: &mut DbConnection, user_id: &str, sealed: &str) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(sealed),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Turns the second factor on with the given sealed secret (enrolment confirmed, or an
/// account provisioned by an operator).
pub fn enable_totp(
    conn: &mut DbConnection,
    user_id: &str,
    sealed: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(sealed),
            users::totp_enabled_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records `step` as used; false when a code of this step or a later one was already used
/// (a replay, or a concurrent use of the same code).
pub fn use_totp_step(conn: &mut DbConnection, user_id: &str, step: i64) -> DbResult<bool> {
    let updated = diesel::update(
        users::table.find(user_id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Removes the second factor and its recovery codes.
pub fn disable_totp(conn: &mut DbConnection, user_id: &str) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_enabled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}

/// Replaces the user's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConnection,
    user_id: &str,
    hashes: &[String],
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    // One statement per row: batch inserts are not expressible over both backends.
    for hash in hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::code_hash.eq(hash),
                recovery_codes::user_id.eq(user_id),
                recovery_codes::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends a recovery code of the user; false if unknown or already used.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let updated = diesel::update(
        recovery_codes::table.filter(
            recovery_codes::code_hash
                .eq(hash)
                .and(recovery_codes::user_id.eq(user_id))
                .and(recovery_codes::used_at.is_null()),
        ),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn unused_recovery_codes(conn: &mut DbConnection, user_id: &str) -> DbResult<i64> {
    Ok(recovery_codes::table
        .filter(
            recovery_codes::user_id
                .eq(user_id)
                .and(recovery_codes::used_at.is_null()),
        )
        .count()
        .get_result(conn)?)
}

pub fn insert_challenge(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(login_challenges::table)
        .values((
            login_challenges::token_hash.eq(token_hash),
            login_challenges::user_id.eq(user_id),
            login_challenges::created_at.eq(now),
            login_challenges::expires_at.eq(expires_at),
            login_challenges::failures.eq(0),
        ))
        .execute(conn)?;
    Ok(())
}

/// An unexpired challenge: its user, whether it was used, and its wrong codes so far.
pub fn find_challenge(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<Option<(String, bool, i64)>> {
    Ok(login_challenges::table
        .filter(
            login_challenges::token_hash
                .eq(token_hash)
                .and(login_challenges::expires_at.gt(now)),
        )
        .select((
            login_challenges::user_id,
            login_challenges::used_at.is_not_null(),
            login_challenges::failures,
        ))
        .first(conn)
        .optional()?)
}

pub fn record_challenge_failure(conn: &mut DbConnection, token_hash: &str) -> DbResult<()> {
    diesel::update(login_challenges::table.find(token_hash))
        .set(login_challenges::failures.eq(login_challenges::failures + 1))
        .execute(conn)?;
    Ok(())
}

/// Spends the challenge; false if it was spent concurrently.
pub fn consume_challenge(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let updated = diesel::update(
        login_challenges::table.filter(
            login_challenges::token_hash
                .eq(token_hash)
                .and(login_challenges::used_at.is_null()),
        ),
    )
    .set(login_challenges::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}
