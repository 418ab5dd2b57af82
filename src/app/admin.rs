//! Administration: the accounts (roles granted and removed, disabled), the audit trail and the
//! e-mail outbox (without bodies). Admins only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::pagination::{self, Page, PageRequest};
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::{self, DbConnection};
use crate::domain::account::{AccountStatus, Language, Role};
use crate::domain::ids::UserId;
use crate::domain::mail::{EmailKind, OutboxStatus};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub site_code: Option<String>,
    pub language: Language,
    pub status: AccountStatus,
    pub roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
}

fn user_view(conn: &mut DbConnection, row: db::users::UserRow) -> Result<UserView, AppError> {
    let roles = db::users::roles(conn, &row.id)?;
    Ok(with_roles(row, roles))
}

fn with_roles(row: db::users::UserRow, mut roles: Vec<Role>) -> UserView {
    roles.sort();
    UserView {
        roles,
        status: row.status,
        created_at: row.created_at.and_utc(),
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        rpps: row.rpps,
        specialty: row.specialty,
        site_code: row.site_code,
        language: row.language,
    }
}

/// The accounts, by id (the cursor is the last id of the page before); with `search`, those
/// whose e-mail or name contains it, whatever the case.
pub async fn users(
    state: &AppState,
    actor: &Actor,
    search: Option<String>,
    page: PageRequest,
) -> Result<Page<UserView>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let limit = page.limit()?;
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(AppError::invalid("q", "at most 200 characters"));
    }
    state
        .db
        .run(move |conn| {
            let rows = db::users::list(conn, search.as_deref(), page.cursor.as_deref(), limit)?;
            let full = rows.len() as i64 == limit;
            // Every account's roles in one query for the page.
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut roles = db::users::roles_of(conn, &ids)?;
            let items = rows
                .into_iter()
                .map(|row| {
                    let roles = roles.remove(&row.id).unwrap_or_default();
                    with_roles(row, roles)
                })
                .collect::<Vec<_>>();
            let next_cursor = full.then(|| items.last().map(|u| u.id.clone())).flatten();
            Ok(Page { items, next_cursor })
        })
        .await
}

/// Replaces a user's roles; the change applies to their next request, and their web sessions
/// end.
pub async fn set_roles(
    state: &AppState,
    actor: &Actor,
    user_id: &UserId,
    mut roles: Vec<Role>,
) -> Result<UserView, AppError> {
    actor.require_any(&[Role::Admin])?;
    roles.sort_by_key(|role| role.as_str());
    roles.dedup();
    let (context, target) = (actor.context.clone(), user_id.to_owned());
    state
        .db
        .write(move |conn| {
            let row = db::users::find_by_id(conn, &target)?.ok_or(AppError::NotFound)?;
            db::users::set_roles(conn, &target, &roles, db::now())?;
            // A web session opened under other roles (and another second-factor policy) ends.
            db::web_sessions::delete_for_user(conn, &target)?;
            audit::record(
                conn,
                &context,
                "role.set",
                "user",
                Some(&target),
                Outcome::Allowed,
            )?;
            user_view(conn, row)
        })
        .await
}

/// Enables or disables an account; a disabled user is refused at once, and their sessions end.
pub async fn set_status(
    state: &AppState,
    actor: &Actor,
    user_id: &UserId,
    status: AccountStatus,
) -> Result<UserView, AppError> {
    actor.require_any(&[Role::Admin])?;
    if status == AccountStatus::Pending {
        return Err(AppError::invalid("status", "must be active or disabled"));
    }
    let (context, target) = (actor.context.clone(), user_id.to_owned());
    state
        .db
        .write(move |conn| {
            db::users::find_by_id(conn, &target)?.ok_or(AppError::NotFound)?;
            db::users::set_status(conn, &target, status)?;
            if status == AccountStatus::Disabled {
                db::tokens::revoke_all_for_user(conn, &target, db::now())?;
            }
            audit::record(
                conn,
                &context,
                "user.set_status",
                "user",
                Some(&target),
                Outcome::Allowed,
            )?;
            let row = db::users::find_by_id(conn, &target)?.ok_or(AppError::NotFound)?;
            user_view(conn, row)
        })
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub outcome: Outcome,
    pub client_addr: Option<String>,
    pub correlation_id: Option<String>,
}

/// Which rows of the audit trail to show.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditFilter {
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// The audit trail, newest first.
pub async fn audit_trail(
    state: &AppState,
    actor: &Actor,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditItem>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let limit = page.limit()?;
    let filter = db::audit::AuditFilter {
        entity_id: filter.entity_id,
        actor_id: filter.actor_id,
        action: filter.action,
        from: filter.from.map(|t| t.naive_utc()),
        to: filter.to.map(|t| t.naive_utc()),
        before: page.cursor()?,
    };
    let rows = state
        .db
        .run(move |conn| db::audit::list(conn, &filter, limit))
        .await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let outcome = Outcome::parse(&row.outcome)
                .ok_or_else(|| anyhow::anyhow!("unknown outcome {:?} in the trail", row.outcome))?;
            Ok((
                (row.at, row.id.clone()),
                AuditItem {
                    id: row.id,
                    at: row.at.and_utc(),
                    actor_id: row.actor_id,
                    action: row.action,
                    entity_type: row.entity_type,
                    entity_id: row.entity_id,
                    outcome,
                    client_addr: row.client_addr,
                    correlation_id: row.correlation_id,
                },
            ))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(pagination::page(
        items,
        limit,
        |(key, _)| key.clone(),
        |(_, item)| item,
    ))
}

/// One e-mail of the outbox (its body is not shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: String,
    #[schema(value_type = String)]
    pub kind: EmailKind,
    pub to: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_attempt_at: DateTime<Utc>,
}

/// The e-mail outbox, newest first.
pub async fn outbox(
    state: &AppState,
    actor: &Actor,
    status: Option<OutboxStatus>,
    page: PageRequest,
) -> Result<Page<OutboxItem>, AppError> {
    actor.require_any(&[Role::Admin])?;
    let limit = page.limit()?;
    let before = page.cursor()?;
    let rows = state
        .db
        .run(move |conn| db::outbox::list(conn, status, before, limit))
        .await?;
    Ok(pagination::page(
        rows,
        limit,
        |row| (row.created_at, row.id.clone()),
        outbox_item,
    ))
}

fn outbox_item(row: db::outbox::OutboxRow) -> OutboxItem {
    OutboxItem {
        id: row.id,
        kind: row.kind,
        to: row.recipient,
        status: row.status,
        attempts: row.attempts,
        last_error: row.last_error,
        created_at: row.created_at.and_utc(),
        sent_at: row.sent_at.map(|t| t.and_utc()),
        next_attempt_at: row.next_attempt_at.and_utc(),
    }
}

/// Queues a dead message again (after the relay is fixed, or the address corrected by its
/// owner): due now, its attempts counted afresh; audited. Only a dead message can be.
pub async fn requeue(state: &AppState, actor: &Actor, id: &str) -> Result<OutboxItem, AppError> {
    actor.require_any(&[Role::Admin])?;
    let (context, id) = (actor.context.clone(), id.to_owned());
    state
        .db
        .write(move |conn| {
            let row = db::outbox::find(conn, &id)?.ok_or(AppError::NotFound)?;
            if !db::outbox::requeue(conn, &id, db::now())? {
                return Err(AppError::conflict(format!(
                    "Only a dead message can be queued again; this one is {}.",
                    row.status.as_str()
                )));
            }
            audit::record(
                conn,
                &context,
                "outbox.requeue",
                "outbox",
                Some(&id),
                Outcome::Allowed,
            )?;
            let row = db::outbox::find(conn, &id)?.ok_or(AppError::NotFound)?;
            Ok(outbox_item(row))
        })
        .await
}
