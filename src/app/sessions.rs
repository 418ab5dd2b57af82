//! Signing in and staying signed in: password, the second step with a code, refresh-token
//! rotation with reuse detection, logout, and who the caller is. Every sign-in method ends in
//! [`issue_session`].

use serde::Serialize;
use utoipa::ToSchema;

use super::context::Profile;
use super::{Actor, AppError, RequestContext};
use crate::audit::{self, Outcome};
use crate::auth::second_factor::{self, Accept};
use crate::auth::{Amr, hash_token, new_opaque_token, password_hash};
use crate::db::tokens::RefreshSpend;
use crate::db::{self, DbConnection};
use crate::domain::account::{AccountStatus, Role};
use crate::domain::email_address::EmailAddress;
use crate::state::AppState;

/// Wrong codes a challenge survives; the next one needs the password again.
const MAX_FAILURES_PER_CHALLENGE: i64 = 5;

/// The answer to a successful sign-in or refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token, in seconds.
    pub expires_in: i64,
    pub refresh_token: String,
}

/// The second step of a sign-in: what `POST /auth/login/mfa` takes.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaChallenge {
    /// Always true.
    pub mfa_required: bool,
    /// Short-lived and single-use; good for nothing but `POST /auth/login/mfa`.
    pub mfa_token: String,
    /// Lifetime of `mfa_token`, in seconds.
    pub expires_in: i64,
}

/// The answer to a password: the token pair, or, for an account with a second factor, the
/// challenge to answer with a code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Tokens(TokenPair),
    Mfa(MfaChallenge),
}

/// Issues an access token and a refresh token; `family` continues a session (rotation),
/// `None` starts a new one. Runs in the caller's transaction.
pub fn issue_session(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
    family: Option<&str>,
    amr: &Amr,
) -> Result<TokenPair, AppError> {
    let (refresh_token, refresh_hash) = new_opaque_token();
    let family_id = family.map_or_else(db::new_id, str::to_owned);
    let now = db::now();
    let expires_at = now + chrono::Duration::days(state.settings.auth.refresh_token_days.max(1));
    db::tokens::insert_refresh_token(
        conn,
        &refresh_hash,
        &family_id,
        user_id,
        &amr.stored(),
        now,
        expires_at,
    )?;
    Ok(TokenPair {
        access_token: state.jwt.issue_access(user_id, amr.methods())?,
        token_type: "Bearer",
        expires_in: state.jwt.ttl_seconds(),
        refresh_token,
    })
}

/// A single-use challenge for the second step of the sign-in.
fn new_challenge(
    conn: &mut DbConnection,
    state: &AppState,
    user_id: &str,
) -> Result<MfaChallenge, AppError> {
    let (token, token_hash) = new_opaque_token();
    let now = db::now();
    let lifetime = state.settings.auth.mfa_token_minutes.clamp(1, 15) * 60;
    let expires_at = now + chrono::Duration::seconds(lifetime);
    db::mfa::insert_challenge(conn, &token_hash, user_id, now, expires_at)?;
    Ok(MfaChallenge {
        mfa_required: true,
        mfa_token: token,
        expires_in: lifetime,
    })
}

/// Checks an e-mail and password: the active account they open, or unauthorized. Wrong
/// credentials and unverified or disabled accounts are refused alike (and audited as
/// `action`); repeated failures are throttled. Every sign-in, API or web, starts here.
pub(crate) async fn check_password(
    state: &AppState,
    context: &RequestContext,
    email: &str,
    password: String,
    action: &'static str,
) -> Result<db::users::UserRow, AppError> {
    let account = EmailAddress::parse(email)
        .map(|email| email.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    state
        .throttle
        .allow(&state.db, &account, context.client_key())
        .await?;
    let lookup = account.clone();
    let user = state
        .db
        .run(move |conn| db::users::find_by_email(conn, &lookup))
        .await?;
    // An unknown e-mail is verified against a dummy hash: same cost as a wrong password.
    let password_ok =
        password_hash::verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let Some(user) = user.filter(|user| password_ok && user.status == AccountStatus::Active) else {
        return refuse(state, &account, context.clone(), action, |_| Ok(())).await;
    };
    state.throttle.record_success(&state.db, &account).await?;
    Ok(user)
}

/// Signs in with e-mail and password ([`check_password`]). An account with a second factor
/// gets a challenge instead of tokens.
pub async fn login(
    state: &AppState,
    context: RequestContext,
    email: &str,
    password: String,
) -> Result<LoginAnswer, AppError> {
    let user = check_password(state, &context, email, password, "auth.login").await?;
    let app = state.clone();
    state
        .db
        .write(move |conn| {
            let answer = if user.has_second_factor() {
                LoginAnswer::Mfa(new_challenge(conn, &app, &user.id)?)
            } else {
                LoginAnswer::Tokens(issue_session(conn, &app, &user.id, None, &Amr::password())?)
            };
            audit::record(
                conn,
                &context.with_actor(&user.id),
                "auth.login",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            Ok(answer)
        })
        .await
}

/// The second step of a sign-in: the challenge and a TOTP or recovery code give the token
/// pair (`amr` = `["pwd", "otp"]`). The challenge is single-use; wrong codes count against the
/// account's throttle, and a challenge dies after five of them.
pub async fn login_second_factor(
    state: &AppState,
    context: RequestContext,
    mfa_token: &str,
    code: String,
) -> Result<TokenPair, AppError> {
    let token_hash = hash_token(mfa_token.trim());
    let lookup = token_hash.clone();
    let (user, live) = state
        .db
        .run(move |conn| -> Result<_, AppError> {
            let Some((user_id, used, failures)) =
                db::mfa::find_challenge(conn, &lookup, db::now())?
            else {
                return Ok(None);
            };
            let live = !used && failures < MAX_FAILURES_PER_CHALLENGE;
            Ok(db::users::find_by_id(conn, &user_id)?.map(|user| (user, live)))
        })
        .await?
        .filter(|(user, _)| user.status == AccountStatus::Active)
        .ok_or(AppError::Unauthorized)?;
    // The account's throttle first: a blocked account learns nothing more from its codes.
    state
        .throttle
        .allow(&state.db, &user.email, context.client_key())
        .await?;
    if !live {
        return Err(AppError::Unauthorized);
    }
    let app = state.clone();
    let account = user.email.clone();
    let audit_context = context.clone().with_actor(&user.id);
    let spent = token_hash.clone();
    let pair = state
        .db
        .write(move |conn| -> Result<_, AppError> {
            let good = second_factor::verify_and_spend(
                conn,
                &app.data_key,
                &user,
                &code,
                Accept::TotpOrRecoveryCode,
            )?;
            if !good || !db::mfa::consume_challenge(conn, &spent, db::now())? {
                return Ok(None);
            }
            let pair = issue_session(conn, &app, &user.id, None, &Amr::password_and_otp())?;
            audit::record(
                conn,
                &audit_context,
                "auth.login_mfa",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            Ok(Some(pair))
        })
        .await?;
    if let Some(pair) = pair {
        state.throttle.record_success(&state.db, &account).await?;
        return Ok(pair);
    }
    refuse(state, &account, context, "auth.login_mfa", move |conn| {
        db::mfa::record_challenge_failure(conn, &token_hash)
    })
    .await
}

/// A refused sign-in step: it counts against the account's throttle, `also` and its audit
/// row are written, and the caller is answered unauthorized.
pub(crate) async fn refuse<T>(
    state: &AppState,
    account: &str,
    context: RequestContext,
    action: &'static str,
    also: impl FnOnce(&mut DbConnection) -> db::DbResult<()> + Send + 'static,
) -> Result<T, AppError> {
    state
        .throttle
        .record_failure(&state.db, account, context.client_key())
        .await?;
    state
        .db
        .write(move |conn| {
            also(conn)?;
            audit::record(conn, &context, action, "user", None, Outcome::Denied)
        })
        .await?;
    Err(AppError::Unauthorized)
}

/// Exchanges a refresh token for a new pair. The old token stops working; presenting a spent
/// token again revokes its whole family (a stolen token is detected on its first reuse).
pub async fn refresh(
    state: &AppState,
    context: RequestContext,
    refresh_token: &str,
) -> Result<TokenPair, AppError> {
    let token_hash = hash_token(refresh_token.trim());
    let app = state.clone();
    state
        .db
        .write(move |conn| -> Result<_, AppError> {
            let now = db::now();
            match db::tokens::spend_refresh_token(conn, &token_hash, now)? {
                RefreshSpend::Spent {
                    user_id,
                    family_id,
                    amr,
                } => {
                    let active = db::users::find_by_id(conn, &user_id)?
                        .is_some_and(|u| u.status == AccountStatus::Active);
                    if !active {
                        db::tokens::revoke_family(conn, &family_id, now)?;
                        return Ok(None);
                    }
                    let pair =
                        issue_session(conn, &app, &user_id, Some(&family_id), &Amr::parse(&amr))?;
                    audit::record(
                        conn,
                        &context.with_actor(&user_id),
                        "auth.refresh",
                        "user",
                        Some(&user_id),
                        Outcome::Allowed,
                    )?;
                    Ok(Some(pair))
                }
                RefreshSpend::Reused { family_id } => {
                    db::tokens::revoke_family(conn, &family_id, now)?;
                    audit::record(
                        conn,
                        &context,
                        "auth.refresh_reuse",
                        "session",
                        Some(&family_id),
                        Outcome::Denied,
                    )?;
                    Ok(None)
                }
                RefreshSpend::Invalid => Ok(None),
            }
        })
        .await?
        .ok_or(AppError::Unauthorized)
}

/// The caller a session belongs to, if their account is active: roles and second factor as
/// they are now in the database. Both front doors build their `Actor` here.
pub fn load_actor(
    conn: &mut DbConnection,
    user_id: &str,
    context: RequestContext,
    session_has_second_factor: bool,
) -> Result<Option<Actor>, AppError> {
    Ok(db::users::find_with_roles(conn, user_id)?
        .and_then(|(user, roles)| actor_of(user, roles, context, session_has_second_factor)))
}

/// The actor of an account read with its roles; none when the account is not active.
pub fn actor_of(
    user: db::users::UserRow,
    mut roles: Vec<Role>,
    context: RequestContext,
    session_has_second_factor: bool,
) -> Option<Actor> {
    if user.status != AccountStatus::Active {
        return None;
    }
    roles.sort();
    Some(Actor {
        context: context.with_actor(&user.id),
        profile: Profile {
            id: user.id,
            email: user.email,
            full_name: user.full_name,
            rpps: user.rpps,
            specialty: user.specialty,
            roles,
            site_code: user.site_code,
            language: user.language,
        },
        second_factor_enrolled: user.totp_enabled_at.is_some(),
        session_has_second_factor,
    })
}

/// Whether the actor's roles require a second factor that this session was not opened with.
pub fn lacks_second_factor(state: &AppState, actor: &Actor) -> bool {
    actor
        .roles
        .iter()
        .any(|role| state.settings.mfa_required_for(role.as_str()))
        && !(actor.session_has_second_factor && actor.second_factor_enrolled)
}

/// Ends the session the refresh token belongs to.
pub async fn logout(state: &AppState, actor: &Actor, refresh_token: &str) -> Result<(), AppError> {
    let token_hash = hash_token(refresh_token.trim());
    let (context, user_id) = (actor.context.clone(), actor.id.clone());
    state
        .db
        .write(move |conn| {
            db::tokens::revoke_session_of(conn, &token_hash, &user_id, db::now())?;
            Ok(audit::record(
                conn,
                &context,
                "auth.logout",
                "user",
                Some(&user_id),
                Outcome::Allowed,
            )?)
        })
        .await
}

/// The signed-in user: their profile and the state of their second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub profile: Profile,
    pub mfa: MfaStatus,
}

/// The user's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaStatus {
    /// An authenticator app is enrolled and confirmed.
    pub enrolled: bool,
    /// The user's roles require signing in with it.
    pub required: bool,
    /// This session was opened with it.
    pub session_verified: bool,
}

/// The signed-in user, with the roles they hold now and the state of their second factor
/// (audited). Open to a user who must still enrol one.
pub async fn me(state: &AppState, actor: Actor) -> Result<Me, AppError> {
    let required = actor
        .roles
        .iter()
        .any(|role| state.settings.mfa_required_for(role.as_str()));
    let (context, id) = (actor.context.clone(), actor.id.clone());
    state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &context,
                "user.read",
                "user",
                Some(&id),
                Outcome::Allowed,
            )
        })
        .await?;
    Ok(Me {
        mfa: MfaStatus {
            enrolled: actor.second_factor_enrolled,
            required,
            session_verified: actor.session_has_second_factor,
        },
        profile: actor.profile,
    })
}
