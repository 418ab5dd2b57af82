//! Single-use e-mail tokens and refresh-token families; only SHA-256 hashes are stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::mail::TokenPurpose;

use super::DbConnection;
use super::schema::{email_tokens, refresh_tokens};

pub fn insert_email_token(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::token_hash.eq(token_hash),
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose),
            email_tokens::created_at.eq(now),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends an unexpired, unused token of `purpose`; answers its user, or None.
pub fn consume_email_token(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> DbResult<Option<String>> {
    let spent = diesel::update(
        email_tokens::table.filter(
            email_tokens::token_hash
                .eq(token_hash)
                .and(email_tokens::purpose.eq(purpose))
                .and(email_tokens::used_at.is_null())
                .and(email_tokens::expires_at.gt(now)),
        ),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    if spent == 0 {
        return Ok(None);
    }
    Ok(email_tokens::table
        .find(token_hash)
        .select(email_tokens::user_id)
        .first(conn)
        .optional()?)
}

/// Spends every outstanding token of `purpose` for the user (e.g. older reset links).
pub fn expire_email_tokens(
    conn: &mut DbConnection,
    user_id: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(
        email_tokens::table.filter(
            email_tokens::user_id
                .eq(user_id)
                .and(email_tokens::purpose.eq(purpose))
                .and(email_tokens::used_at.is_null()),
        ),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub fn insert_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
    family_id: &str,
    user_id: &str,
    amr: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::amr.eq(amr),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshSpend {
    /// The token was live and is now spent: issue its successor in the same family.
    Spent {
        user_id: String,
        family_id: String,
        /// The session's authentication methods, carried to the successor.
        amr: String,
    },
    /// The token had already been spent or revoked: its family must be revoked.
    Reused { family_id: String },
    /// Unknown or expired.
    Invalid,
}

/// Spends a refresh token atomically: of two concurrent uses, exactly one is `Spent`.
pub fn spend_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<RefreshSpend> {
    let spent = diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::token_hash
                .eq(token_hash)
                .and(refresh_tokens::used_at.is_null())
                .and(refresh_tokens::revoked_at.is_null())
                .and(refresh_tokens::expires_at.gt(now)),
        ),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    let row: Option<(String, String, NaiveDateTime, String)> = refresh_tokens::table
        .find(token_hash)
        .select((
            refresh_tokens::user_id,
            refresh_tokens::family_id,
            refresh_tokens::expires_at,
            refresh_tokens::amr,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((user_id, family_id, _, amr)) if spent == 1 => RefreshSpend::Spent {
            user_id,
            family_id,
            amr,
        },
        Some((_, family_id, expires_at, _)) if expires_at > now => {
            RefreshSpend::Reused { family_id }
        }
        _ => RefreshSpend::Invalid,
    })
}

pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::family_id
                .eq(family_id)
                .and(refresh_tokens::revoked_at.is_null()),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Revokes the session (family) the token belongs to, if it is the user's.
pub fn revoke_session_of(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let family: Option<String> = refresh_tokens::table
        .find(token_hash)
        .filter(refresh_tokens::user_id.eq(user_id))
        .select(refresh_tokens::family_id)
        .first(conn)
        .optional()?;
    match family {
        Some(family_id) => {
            revoke_family(conn, &family_id, now)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Ends every session of a user: refresh tokens revoked, web sessions deleted.
pub fn revoke_all_for_user(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(
        refresh_tokens::table.filter(
            refresh_tokens::user_id
                .eq(user_id)
                .and(refresh_tokens::revoked_at.is_null()),
        ),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    super::web_sessions::delete_for_user(conn, user_id)?;
    Ok(())
}

/// The user of an unexpired, unused token of `purpose`, without spending it.
pub fn peek_email_token(
    conn: &mut DbConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> DbResult<Option<String>> {
    Ok(email_tokens::table
        .find(token_hash)
        .filter(
            email_tokens::purpose
                .eq(purpose)
                .and(email_tokens::used_at.is_null())
                .and(email_tokens::expires_at.gt(now)),
        )
        .select(email_tokens::user_id)
        .first(conn)
        .optional()?)
}
