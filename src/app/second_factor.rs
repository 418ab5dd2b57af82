//! The signed-in user's second factor: enrol a TOTP authenticator, confirm it with a code
//! (which gives the recovery codes), remove it with a fresh code (which ends every session).
//! Codes count against the account's throttle.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::auth::second_factor::{self, Accept};
use crate::auth::{hash_token, totp};
use crate::crypto::DataKey;
use crate::db::users::UserRow;
use crate::db::{self, DbConnection};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The shared secret, base32, for apps that cannot scan the URI.
    pub secret: String,
    /// `otpauth://totp/...`, to show as a QR code.
    pub otpauth_uri: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown once: each signs in once in place of the app.
    pub recovery_codes: Vec<String>,
}

/// Starts enrolling an authenticator app: answers a new secret. Nothing changes for sign-in
/// until [`confirm`] with a code from the app.
pub async fn enrol(state: &AppState, actor: &Actor) -> Result<TotpEnrolment, AppError> {
    if actor.second_factor_enrolled {
        return Err(AppError::conflict(
            "A second factor is already enabled; remove it before enrolling another.",
        ));
    }
    let secret = totp::new_secret();
    let bytes = totp::parse_secret(&secret)
        .ok_or_else(|| anyhow::anyhow!("a generated TOTP secret does not parse"))?;
    let otpauth_uri = totp::otpauth_uri(&bytes, &state.settings.auth.issuer, &actor.email);
    let sealed = state.data_key.seal_text(&secret);
    let (context, user_id) = (actor.context.clone(), actor.id.clone());
    state
        .db
        .write(move |conn| {
            db::mfa::set_pending_totp(conn, &user_id, &sealed)?;
            audit::record(
                conn,
                &context,
                "mfa.enrol",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(TotpEnrolment {
        secret,
        otpauth_uri,
    })
}

/// A code the caller typed, to check against their account.
struct Code {
    key: Arc<DataKey>,
    code: String,
}

impl Code {
    /// Whether the code is good for `account` now; a good code is spent.
    fn spend(
        &self,
        conn: &mut DbConnection,
        account: &UserRow,
        accept: Accept,
    ) -> Result<bool, AppError> {
        second_factor::verify_and_spend(conn, &self.key, account, &self.code, accept)
    }
}

/// Runs `f` in one transaction with the caller's account and their code, under the throttle:
/// `f` answers `None` for a wrong code, which counts as a failure and is answered `wrong`.
async fn with_code<T, F>(
    state: &AppState,
    actor: &Actor,
    code: String,
    wrong: AppError,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, &UserRow, &Code) -> Result<Option<T>, AppError> + Send + 'static,
    T: Send + 'static,
{
    let (db, client) = (&state.db, actor.context.client_key());
    state.throttle.allow(db, &actor.email, client).await?;
    let user_id = actor.id.clone();
    let code = Code {
        key: Arc::clone(&state.data_key),
        code,
    };
    let done = state
        .db
        .write(move |conn| {
            let account = db::users::find_by_id(conn, &user_id)?.ok_or(AppError::Unauthorized)?;
            f(conn, &account, &code)
        })
        .await?;
    match done {
        Some(value) => {
            state.throttle.record_success(db, &actor.email).await?;
            Ok(value)
        }
        None => {
            state
                .throttle
                .record_failure(db, &actor.email, client)
                .await?;
            Err(wrong)
        }
    }
}

/// Confirms the enrolment with a code from the app: the second factor is on from now, and the
/// answer holds ten recovery codes (stored hashed, never shown again).
pub async fn confirm(
    state: &AppState,
    actor: &Actor,
    code: String,
) -> Result<RecoveryCodes, AppError> {
    let context = actor.context.clone();
    let wrong = AppError::invalid("code", "is not the current code of your authenticator app");
    with_code(state, actor, code, wrong, move |conn, account, code| {
        if account.has_second_factor() {
            return Err(AppError::conflict("The second factor is already enabled."));
        }
        let Some(sealed) = account.totp_secret.clone() else {
            return Err(AppError::conflict(
                "No enrolment in progress: start with POST /api/v1/me/mfa/totp.",
            ));
        };
        if !code.spend(conn, account, Accept::TotpOnly)? {
            return Ok(None);
        }
        let now = db::now();
        db::mfa::enable_totp(conn, &account.id, &sealed, now)?;
        let codes = totp::new_recovery_codes();
        let hashes: Vec<String> = codes
            .iter()
            .map(|code| hash_token(&totp::normalise_recovery_code(code)))
            .collect();
        db::mfa::replace_recovery_codes(conn, &account.id, &hashes, now)?;
        audit::record(
            conn,
            &context,
            "mfa.confirm",
            "user",
            Some(&account.id),
            Outcome::Allowed,
        )?;
        Ok(Some(RecoveryCodes {
            recovery_codes: codes,
        }))
    })
    .await
}

/// Removes the second factor, proven by a fresh code (or a recovery code). Every session ends:
/// the next sign-in is by password alone, and a role that requires a second factor can then
/// only enrol again.
pub async fn remove(state: &AppState, actor: &Actor, code: String) -> Result<(), AppError> {
    let context = actor.context.clone();
    let wrong = AppError::invalid("code", "is not a valid code");
    with_code(state, actor, code, wrong, move |conn, account, code| {
        if !account.has_second_factor() {
            return Err(AppError::conflict("No second factor is enabled."));
        }
        if !code.spend(conn, account, Accept::TotpOrRecoveryCode)? {
            return Ok(None);
        }
        db::mfa::disable_totp(conn, &account.id)?;
        db::tokens::revoke_all_for_user(conn, &account.id, db::now())?;
        audit::record(
            conn,
            &context,
            "mfa.remove",
            "user",
            Some(&account.id),
            Outcome::Allowed,
        )?;
        Ok(Some(()))
    })
    .await
}
