//! Accounts and their roles.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::account::{AccountStatus, Language, Role};

use super::DbConnection;
use super::schema::{user_roles, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub full_name: String,
    pub rpps: String,
    pub specialty: String,
    pub site_code: Option<String>,
    pub phone: Option<String>,
    pub language: Language,
    pub status: AccountStatus,
    pub created_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
    /// Sealed with the data key; enrolment is pending until `totp_enabled_at` is set.
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    /// The last TOTP time step accepted (codes at or before it are replays).
    pub totp_last_step: Option<i64>,
}

impl UserRow {
    pub fn has_second_factor(&self) -> bool {
        self.totp_enabled_at.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub full_name: &'a str,
    pub rpps: &'a str,
    pub specialty: &'a str,
    pub site_code: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub language: Language,
    pub status: AccountStatus,
    pub created_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, user: &NewUser<'_>) -> DbResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_id(conn: &mut DbConnection, id: &str) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The accounts that already hold this e-mail or this RPPS (at most two).
pub fn find_by_email_or_rpps(
    conn: &mut DbConnection,
    email: &str,
    rpps: &str,
) -> DbResult<Vec<UserRow>> {
    Ok(users::table
        .filter(users::email.eq(email).or(users::rpps.eq(rpps)))
        .select(UserRow::as_select())
        .load(conn)?)
}

/// The user with their roles, in one round trip (every authenticated request asks).
pub fn find_with_roles(
    conn: &mut DbConnection,
    id: &str,
) -> DbResult<Option<(UserRow, Vec<Role>)>> {
    let rows: Vec<(UserRow, Option<Role>)> = users::table
        .left_join(user_roles::table)
        .filter(users::id.eq(id))
        .select((UserRow::as_select(), user_roles::role.nullable()))
        .order(user_roles::role)
        .load(conn)?;
    Ok(with_roles(rows))
}

/// The rows of one thing joined with its roles (one row per role, or one with none), folded
/// into the thing and its roles.
pub(super) fn with_roles<T>(rows: Vec<(T, Option<Role>)>) -> Option<(T, Vec<Role>)> {
    let mut rows = rows.into_iter();
    rows.next().map(|(thing, first)| {
        let roles = first.into_iter().chain(rows.filter_map(|(_, role)| role));
        (thing, roles.collect())
    })
}

pub fn roles(conn: &mut DbConnection, user_id: &str) -> DbResult<Vec<Role>> {
    Ok(user_roles::table
        .filter(user_roles::user_id.eq(user_id))
        .select(user_roles::role)
        .order(user_roles::role)
        .load(conn)?)
}

/// The roles of each of the users `ids`, in one query.
pub fn roles_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashMap<String, Vec<Role>>> {
    let mut by_user: std::collections::HashMap<String, Vec<Role>> = Default::default();
    if ids.is_empty() {
        return Ok(by_user);
    }
    let rows: Vec<(String, Role)> = user_roles::table
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    for (user, role) in rows {
        by_user.entry(user).or_default().push(role);
    }
    Ok(by_user)
}

/// Replaces the user's roles with `roles`.
pub fn set_roles(
    conn: &mut DbConnection,
    user_id: &str,
    roles: &[Role],
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::delete(
        user_roles::table.filter(
            user_roles::user_id
                .eq(user_id)
                .and(user_roles::role.ne_all(roles)),
        ),
    )
    .execute(conn)?;
    let current = self::roles(conn, user_id)?;
    for role in roles
        .iter()
        .filter(|role| !current.iter().any(|c| c == *role))
    {
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user_id),
                user_roles::role.eq(*role),
                user_roles::granted_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_status(
    conn: &mut DbConnection,
    user_id: &str,
    status: AccountStatus,
) -> DbResult<usize> {
    Ok(diesel::update(users::table.find(user_id))
        .set(users::status.eq(status))
        .execute(conn)?)
}

/// Confirms the e-mail of a pending account, which becomes active.
pub fn verify_email(conn: &mut DbConnection, user_id: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::email_verified_at.eq(now))
        .execute(conn)?;
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::status.eq(AccountStatus::Pending)),
    )
    .set(users::status.eq(AccountStatus::Active))
    .execute(conn)?;
    Ok(())
}

pub fn set_password_hash(conn: &mut DbConnection, user_id: &str, hash: &str) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// A page of the accounts by id; with `search`, those whose e-mail or name contains it
/// (whatever the case).
pub fn list(
    conn: &mut DbConnection,
    search: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> DbResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after_id {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    if let Some(search) = search {
        let escaped: String = search
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        query = query.filter(
            lower(users::email)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::full_name).like(pattern).escape('\\')),
        );
    }
    Ok(query.load(conn)?)
}

/// Ids of the active users holding `role`.
pub fn with_role(conn: &mut DbConnection, role: Role) -> DbResult<Vec<UserRow>> {
    Ok(users::table
        .inner_join(user_roles::table)
        .filter(
            user_roles::role
                .eq(role)
                .and(users::status.eq(AccountStatus::Active)),
        )
        .select(UserRow::as_select())
        .order(users::id)
        .load(conn)?)
}

pub fn set_language(conn: &mut DbConnection, user_id: &str, language: Language) -> DbResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::language.eq(language))
        .execute(conn)?;
    Ok(())
}
