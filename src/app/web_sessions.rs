//! The sessions of the web screens: a random id in a cookie, only its hash in the database.
//! Signing in checks the password as the API does ([`sessions::check_password`]), the second
//! step checks the code as the API does, and the session ends on the server: logout, a
//! password reset, a disabled account or changed roles delete it, and it times out when idle
//! and after an absolute lifetime.

use super::sessions::{self, actor_of, load_actor};
use super::{Actor, AppError, RequestContext};
use crate::audit::{self, Outcome};
use crate::auth::second_factor::{self, Accept};
use crate::auth::{hash_token, new_opaque_token};
use crate::db::web_sessions::WebSessionRow;
use crate::db::{self, DbConnection};
use crate::state::AppState;

/// Wrong codes a session awaiting its second factor survives.
const MAX_SECOND_FACTOR_FAILURES: i64 = 5;

/// Where a freshly opened session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Signed in: every screen the user's roles allow.
    SignedIn,
    /// The password was right; a code from the authenticator app (or a recovery code) is
    /// awaited at `/login/mfa`.
    AwaitingSecondFactor,
    /// Signed in, but the user's roles require a second factor they have not enrolled: only
    /// enrolment (`/account`) and sign-out.
    MustEnrol,
}

/// A new session: the cookie's value (shown to the browser only) and its stage.
#[derive(Debug)]
pub struct Opened {
    pub cookie: String,
    pub stage: Stage,
}

/// The session a cookie names, when it is live.
#[derive(Debug, Clone)]
pub enum Visitor {
    /// No session (or one that ended).
    Anonymous {
        ended: bool,
    },
    AwaitingSecondFactor {
        user_id: String,
    },
    MustEnrol(Actor),
    SignedIn(Actor),
}

fn open(
    conn: &mut DbConnection,
    user_id: &str,
    awaiting_second_factor: bool,
    second_factor: bool,
) -> Result<String, AppError> {
    let (cookie, id_hash) = new_opaque_token();
    let now = db::now();
    db::web_sessions::insert(
        conn,
        &WebSessionRow {
            id_hash,
            user_id: user_id.to_owned(),
            awaiting_second_factor,
            second_factor,
            failures: 0,
            created_at: now,
            last_seen_at: now,
        },
    )?;
    Ok(cookie)
}

fn stage_of(state: &AppState, actor: &Actor) -> Stage {
    if sessions::lacks_second_factor(state, actor) {
        Stage::MustEnrol
    } else {
        Stage::SignedIn
    }
}

/// Signs in with e-mail and password. The session id is always new (no fixation); an account
/// with a second factor must give its code next.
pub async fn sign_in(
    state: &AppState,
    context: RequestContext,
    email: &str,
    password: String,
) -> Result<Opened, AppError> {
    let user = sessions::check_password(state, &context, email, password, "web.login").await?;
    let app = state.clone();
    state
        .db
        .write(move |conn| {
            let awaiting = user.has_second_factor();
            let cookie = open(conn, &user.id, awaiting, false)?;
            audit::record(
                conn,
                &context.clone().with_actor(&user.id),
                "web.login",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            let stage = if awaiting {
                Stage::AwaitingSecondFactor
            } else {
                let actor =
                    load_actor(conn, &user.id, context, false)?.ok_or(AppError::Unauthorized)?;
                stage_of(&app, &actor)
            };
            Ok(Opened { cookie, stage })
        })
        .await
}

/// The second step: a TOTP or recovery code turns a session awaiting it into a signed-in
/// one, under a new id. Wrong codes count against the account's throttle; five end the
/// session.
pub async fn second_step(
    state: &AppState,
    context: RequestContext,
    cookie: &str,
    code: String,
) -> Result<Opened, AppError> {
    let id_hash = hash_token(cookie);
    let lookup = id_hash.clone();
    let user = state
        .db
        .run(move |conn| -> Result<_, AppError> {
            let Some(session) = db::web_sessions::find(conn, &lookup)? else {
                return Ok(None);
            };
            if !session.awaiting_second_factor {
                return Ok(None);
            }
            db::users::find_by_id(conn, &session.user_id).map_err(AppError::from)
        })
        .await?
        .filter(|user| user.status == crate::domain::account::AccountStatus::Active)
        .ok_or(AppError::Unauthorized)?;
    state
        .throttle
        .allow(&state.db, &user.email, context.client_key())
        .await?;
    let app = state.clone();
    let account = user.email.clone();
    let (spent, audit_context) = (id_hash.clone(), context.clone().with_actor(&user.id));
    let opened = state
        .db
        .write(move |conn| -> Result<_, AppError> {
            let good = second_factor::verify_and_spend(
                conn,
                &app.data_key,
                &user,
                &code,
                Accept::TotpOrRecoveryCode,
            )?;
            if !good || !db::web_sessions::delete(conn, &spent)? {
                return Ok(None);
            }
            let cookie = open(conn, &user.id, false, true)?;
            audit::record(
                conn,
                &audit_context,
                "web.login_mfa",
                "user",
                Some(&user.id),
                Outcome::Allowed,
            )?;
            Ok(Some(cookie))
        })
        .await?;
    if let Some(cookie) = opened {
        state.throttle.record_success(&state.db, &account).await?;
        return Ok(Opened {
            cookie,
            stage: Stage::SignedIn,
        });
    }
    sessions::refuse(state, &account, context, "web.login_mfa", move |conn| {
        if db::web_sessions::record_failure(conn, &id_hash)? >= MAX_SECOND_FACTOR_FAILURES {
            db::web_sessions::delete(conn, &id_hash)?;
        }
        Ok(())
    })
    .await
}

/// Who the cookie's session belongs to, now. A session past its idle timeout or its
/// absolute lifetime is deleted and answered as ended; a live one is marked seen.
pub async fn visitor(
    state: &AppState,
    context: RequestContext,
    cookie: Option<&str>,
) -> Result<Visitor, AppError> {
    let Some(cookie) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return Ok(Visitor::Anonymous { ended: false });
    };
    let id_hash = hash_token(cookie);
    let idle = chrono::Duration::minutes(state.settings.auth.web_session_idle_minutes.max(1));
    let lifetime = chrono::Duration::hours(state.settings.auth.web_session_hours.max(1));
    // Read without the write lock: a page view writes only when its session ends, or once a
    // minute to keep an active one alive (SQLite has one writer; the screens must not queue
    // on it to read).
    enum Found {
        Unknown,
        Ended,
        Open(db::web_sessions::WebSessionRow, Box<Actor>, bool),
    }
    let key = id_hash.clone();
    let found = state
        .db
        .run(move |conn| {
            // The session, its user and roles in one statement.
            let Some((session, user, roles)) = db::web_sessions::find_with_user(conn, &key)? else {
                return Ok::<_, AppError>(Found::Unknown);
            };
            let now = db::now();
            if session.last_seen_at + idle < now || session.created_at + lifetime < now {
                return Ok(Found::Ended);
            }
            let second_factor = session.second_factor;
            match actor_of(user, roles, context, second_factor) {
                Some(actor) => {
                    let stale = session.last_seen_at + chrono::Duration::seconds(60) < now;
                    Ok(Found::Open(session, Box::new(actor), stale))
                }
                None => Ok(Found::Ended),
            }
        })
        .await?;
    match found {
        Found::Unknown => Ok(Visitor::Anonymous { ended: false }),
        Found::Ended => {
            state
                .db
                .write(move |conn| {
                    db::web_sessions::delete(conn, &id_hash)
                        .map(|_| ())
                        .map_err(AppError::from)
                })
                .await?;
            Ok(Visitor::Anonymous { ended: true })
        }
        Found::Open(session, actor, stale) => {
            if stale {
                let now = db::now();
                state
                    .db
                    .write(move |conn| {
                        db::web_sessions::touch(conn, &id_hash, now).map_err(AppError::from)
                    })
                    .await?;
            }
            Ok(if session.awaiting_second_factor {
                Visitor::AwaitingSecondFactor {
                    user_id: session.user_id,
                }
            } else if stage_of(state, &actor) == Stage::MustEnrol {
                Visitor::MustEnrol(*actor)
            } else {
                Visitor::SignedIn(*actor)
            })
        }
    }
}

/// After enrolling a second factor, the session counts as opened with it: the user just
/// proved a code. The id is replaced.
pub async fn after_enrolment(state: &AppState, cookie: &str) -> Result<String, AppError> {
    let id_hash = hash_token(cookie);
    state
        .db
        .write(move |conn| {
            let session = db::web_sessions::find(conn, &id_hash)?.ok_or(AppError::Unauthorized)?;
            db::web_sessions::delete(conn, &id_hash)?;
            open(conn, &session.user_id, false, true)
        })
        .await
}

/// Ends the session on the server.
pub async fn sign_out(
    state: &AppState,
    context: RequestContext,
    cookie: &str,
) -> Result<(), AppError> {
    let id_hash = hash_token(cookie);
    state
        .db
        .write(move |conn| {
            let Some(session) = db::web_sessions::find(conn, &id_hash)? else {
                return Ok(());
            };
            db::web_sessions::delete(conn, &id_hash)?;
            Ok(audit::record(
                conn,
                &context.with_actor(&session.user_id),
                "web.logout",
                "user",
                Some(&session.user_id),
                Outcome::Allowed,
            )?)
        })
        .await
}
