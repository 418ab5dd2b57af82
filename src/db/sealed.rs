//! Everything sealed with the data key, read page by page and replaced one item at a time by
//! `consilium keys rotate`: second-factor secrets, the links of queued e-mails, and the ids of
//! the attachments (whose sealed bytes are files).

use diesel::prelude::*;

use super::schema::{attachments, outbox, users};
use super::{DbConnection, DbResult};

/// A column holding sealed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedColumn {
    /// `users.totp_secret`.
    SecondFactorSecret,
    /// `outbox.sealed_link`.
    EmailLink,
}

/// The next `limit` sealed values of `column` after the row id `after` (ids in order).
pub fn page(
    conn: &mut DbConnection,
    column: SealedColumn,
    after: &str,
    limit: i64,
) -> DbResult<Vec<(String, String)>> {
    let rows: Vec<(String, Option<String>)> = match column {
        SealedColumn::SecondFactorSecret => users::table
            .filter(users::id.gt(after))
            .filter(users::totp_secret.is_not_null())
            .order(users::id)
            .limit(limit)
            .select((users::id, users::totp_secret))
            .load(conn)?,
        SealedColumn::EmailLink => outbox::table
            .filter(outbox::id.gt(after))
            .filter(outbox::sealed_link.is_not_null())
            .order(outbox::id)
            .limit(limit)
            .select((outbox::id, outbox::sealed_link))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .filter_map(|(id, sealed)| Some((id, sealed?)))
        .collect())
}

/// Replaces a sealed value only if it is still `old` (the user may have enrolled again, the
/// e-mail may have been sent meanwhile): false when it changed.
pub fn replace(
    conn: &mut DbConnection,
    column: SealedColumn,
    id: &str,
    old: &str,
    new: &str,
) -> DbResult<bool> {
    let changed = match column {
        SealedColumn::SecondFactorSecret => {
            diesel::update(users::table.find(id).filter(users::totp_secret.eq(old)))
                .set(users::totp_secret.eq(new))
                .execute(conn)?
        }
        SealedColumn::EmailLink => {
            diesel::update(outbox::table.find(id).filter(outbox::sealed_link.eq(old)))
                .set(outbox::sealed_link.eq(new))
                .execute(conn)?
        }
    };
    Ok(changed == 1)
}

/// The next `limit` attachment ids after `after`.
pub fn attachment_ids(conn: &mut DbConnection, after: &str, limit: i64) -> DbResult<Vec<String>> {
    Ok(attachments::table
        .filter(attachments::id.gt(after))
        .order(attachments::id)
        .limit(limit)
        .select(attachments::id)
        .load(conn)?)
}
