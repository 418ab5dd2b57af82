//! Checking a second-factor code for an account: a TOTP code (never the same step twice) or,
//! where allowed, one of its single-use recovery codes. Runs in the caller's transaction, so
//! a code is spent exactly when what it unlocks commits.

use super::{hash_token, totp};
use crate::app::AppError;
use crate::crypto::DataKey;
use crate::db::users::UserRow;
use crate::db::{self, DbConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    TotpOnly,
    TotpOrRecoveryCode,
}

/// The account's TOTP secret (pending or enabled), opened.
pub fn secret_of(user: &UserRow, key: &DataKey) -> Result<Option<Vec<u8>>, AppError> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(None);
    };
    let base32 = key.open_text(sealed)?;
    Ok(totp::parse_secret(&base32))
}

/// Whether `code` is good for `user` now; a good code is spent.
pub fn verify_and_spend(
    conn: &mut DbConnection,
    key: &DataKey,
    user: &UserRow,
    code: &str,
    accept: Accept,
) -> Result<bool, AppError> {
    if totp::is_totp_code(code) {
        let Some(secret) = secret_of(user, key)? else {
            return Ok(false);
        };
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        return match totp::verify(&secret, code, now, user.totp_last_step) {
            Some(step) => Ok(db::mfa::use_totp_step(conn, &user.id, step)?),
            None => Ok(false),
        };
    }
    if accept == Accept::TotpOnly || !user.has_second_factor() {
        return Ok(false);
    }
    let hash = hash_token(&totp::normalise_recovery_code(code));
    Ok(db::mfa::use_recovery_code(
        conn,
        &user.id,
        &hash,
        db::now(),
    )?)
}
