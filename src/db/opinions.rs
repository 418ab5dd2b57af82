//! Opinions: one row per version; a delivered version is never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::opinion::OpinionStatus;

use super::DbConnection;
use super::schema::opinions;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = opinions)]
pub struct OpinionRow {
    pub id: String,
    pub request_id: String,
    pub version: i64,
    pub status: OpinionStatus,
    pub content: String,
    pub author_id: String,
    pub validated_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Which of the requests `ids` have an opinion being written (a draft version), in one query.
pub fn drafted_among(
    conn: &mut DbConnection,
    ids: &[String],
) -> DbResult<std::collections::HashSet<String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(opinions::table
        .filter(
            opinions::request_id
                .eq_any(ids)
                .and(opinions::status.eq(OpinionStatus::Draft)),
        )
        .select(opinions::request_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Every version, newest first.
pub fn versions(conn: &mut DbConnection, request_id: &str) -> DbResult<Vec<OpinionRow>> {
    Ok(opinions::table
        .filter(opinions::request_id.eq(request_id))
        .order(opinions::version.desc())
        .select(OpinionRow::as_select())
        .load(conn)?)
}

pub fn insert(conn: &mut DbConnection, opinion: &OpinionRow) -> DbResult<()> {
    diesel::insert_into(opinions::table)
        .values(opinion)
        .execute(conn)?;
    Ok(())
}

/// What a change of a draft sets (`None` leaves a column as it is).
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = opinions)]
struct DraftChanges<'a> {
    status: Option<OpinionStatus>,
    content: Option<&'a str>,
    author_id: Option<&'a str>,
    validated_by: Option<&'a str>,
    delivered_at: Option<NaiveDateTime>,
    updated_at: Option<NaiveDateTime>,
}

/// Changes a version only while it is a draft; zero rows once it is not.
fn change_draft(conn: &mut DbConnection, id: &str, changes: &DraftChanges<'_>) -> DbResult<usize> {
    Ok(diesel::update(
        opinions::table
            .find(id)
            .filter(opinions::status.eq(OpinionStatus::Draft)),
    )
    .set(changes)
    .execute(conn)?)
}

/// Replaces the content of a draft; zero rows if it is no longer a draft.
pub fn update_draft(
    conn: &mut DbConnection,
    id: &str,
    content: &str,
    author_id: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let changes = DraftChanges {
        content: Some(content),
        author_id: Some(author_id),
        updated_at: Some(now),
        ..Default::default()
    };
    change_draft(conn, id, &changes)
}

/// Freezes a draft; zero rows if it was not a draft.
pub fn deliver(
    conn: &mut DbConnection,
    id: &str,
    validated_by: &str,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let changes = DraftChanges {
        status: Some(OpinionStatus::Delivered),
        validated_by: Some(validated_by),
        delivered_at: Some(now),
        updated_at: Some(now),
        ..Default::default()
    };
    change_draft(conn, id, &changes)
}

/// A request whose opinion was first delivered in a period, as the national data set takes it.
#[derive(Debug, Clone)]
pub struct DeliveredOpinion {
    pub request_id: String,
    pub reference: String,
    pub center_code: String,
    pub staff_code: Option<String>,
    pub topic: Option<crate::domain::request_form::Topic>,
    /// The request's form (JSON).
    pub form: String,
    pub requester_rpps: String,
    pub requester_site: Option<String>,
    /// When its first version was delivered.
    pub first_delivered_at: NaiveDateTime,
    /// Its latest delivered version: number, content (JSON), and the site of who validated it.
    pub version: i64,
    pub content: String,
    pub validator_site: Option<String>,
}

/// The requests whose opinion was first delivered in `[from, to)`, in that order, each with
/// its latest delivered version: three queries (and one more per 500 requests).
pub fn first_delivered_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<DeliveredOpinion>> {
    use super::schema::{requests, users};
    type First = (
        String,
        String,
        String,
        Option<String>,
        Option<crate::domain::request_form::Topic>,
        String,
        String,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let first: Vec<First> = opinions::table
        .inner_join(requests::table.on(requests::id.eq(opinions::request_id)))
        .inner_join(users::table.on(users::id.eq(requests::requester_id)))
        .filter(opinions::version.eq(1))
        .filter(opinions::status.eq(OpinionStatus::Delivered))
        .filter(opinions::delivered_at.ge(from))
        .filter(opinions::delivered_at.lt(to))
        .order((opinions::delivered_at, requests::id))
        .select((
            requests::id,
            requests::reference,
            requests::center_code,
            requests::staff_code,
            requests::topic,
            requests::form,
            users::rpps,
            users::site_code,
            opinions::delivered_at,
        ))
        .load(conn)?;
    let mut latest: std::collections::HashMap<String, (i64, String, Option<String>)> =
        Default::default();
    let ids: Vec<String> = first.iter().map(|row| row.0.clone()).collect();
    for chunk in ids.chunks(500) {
        let versions: Vec<(String, i64, String, Option<String>)> = opinions::table
            .filter(opinions::request_id.eq_any(chunk))
            .filter(opinions::status.eq(OpinionStatus::Delivered))
            .select((
                opinions::request_id,
                opinions::version,
                opinions::content,
                opinions::validated_by,
            ))
            .load(conn)?;
        for (request, version, content, validated_by) in versions {
            let newer = latest.get(&request).is_none_or(|(v, _, _)| version > *v);
            if newer {
                latest.insert(request, (version, content, validated_by));
            }
        }
    }
    let validators: Vec<String> = latest
        .values()
        .filter_map(|(_, _, by)| by.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut sites: std::collections::HashMap<String, Option<String>> = Default::default();
    for chunk in validators.chunks(500) {
        let rows: Vec<(String, Option<String>)> = users::table
            .filter(users::id.eq_any(chunk))
            .select((users::id, users::site_code))
            .load(conn)?;
        sites.extend(rows);
    }
    Ok(first
        .into_iter()
        .filter_map(
            |(id, reference, center_code, staff_code, topic, form, rpps, site, delivered_at)| {
                let (version, content, validated_by) = latest.remove(&id)?;
                Some(DeliveredOpinion {
                    validator_site: validated_by.and_then(|by| sites.get(&by).cloned().flatten()),
                    request_id: id,
                    reference,
                    center_code,
                    staff_code,
                    topic,
                    form,
                    requester_rpps: rpps,
                    requester_site: site,
                    first_delivered_at: delivered_at?,
                    version,
                    content,
                })
            },
        )
        .collect())
}
