//! The network's center, sites and staffs, seeded idempotently from `config/network.toml`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbResult;
use crate::domain::network::SiteInfo;

use super::DbConnection;
use super::schema::{centers, sites, staffs};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = centers)]
pub struct CenterRow {
    pub code: String,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = staffs)]
pub struct StaffRow {
    pub code: String,
    pub center_code: String,
    pub name: String,
    /// JSON array of topic names.
    pub topics: String,
    pub rrule: String,
    pub dtstart: String,
    pub start_time: String,
    pub duration_minutes: i64,
    pub capacity: i64,
    pub cutoff_minutes: i64,
    pub quorum_specialties: i64,
    pub updated_at: NaiveDateTime,
}

/// Inserts or updates the center, its sites and its staffs (never deletes: meetings and
/// requests may refer to them).
pub fn upsert(
    conn: &mut DbConnection,
    center: &CenterRow,
    sites_of_center: &[SiteInfo],
    staff_rows: &[StaffRow],
) -> DbResult<()> {
    if diesel::update(centers::table.find(&center.code))
        .set(center)
        .execute(conn)?
        == 0
    {
        diesel::insert_into(centers::table)
            .values(center)
            .execute(conn)?;
    }
    for site in sites_of_center {
        let columns = (
            sites::name.eq(&site.name),
            sites::kind.eq(&site.kind),
            sites::hospital.eq(&site.hospital),
            sites::city.eq(&site.city),
            sites::address.eq(&site.address),
            sites::departement.eq(&site.departement),
            sites::latitude.eq(site.latitude),
            sites::longitude.eq(site.longitude),
        );
        if diesel::update(sites::table.find(&site.code))
            .set(columns)
            .execute(conn)?
            == 0
        {
            diesel::insert_into(sites::table)
                .values((
                    sites::code.eq(&site.code),
                    sites::center_code.eq(&center.code),
                    columns,
                ))
                .execute(conn)?;
        }
    }
    for staff in staff_rows {
        if diesel::update(staffs::table.find(&staff.code))
            .set(staff)
            .execute(conn)?
            == 0
        {
            diesel::insert_into(staffs::table)
                .values(staff)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The sites of the network, by code.
pub fn sites(conn: &mut DbConnection) -> DbResult<Vec<SiteInfo>> {
    type Columns = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        f64,
        f64,
    );
    let rows: Vec<Columns> = sites::table
        .select((
            sites::code,
            sites::name,
            sites::kind,
            sites::hospital,
            sites::city,
            sites::address,
            sites::departement,
            sites::latitude,
            sites::longitude,
        ))
        .order(sites::code)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(code, name, kind, hospital, city, address, departement, latitude, longitude)| {
                SiteInfo {
                    code,
                    name,
                    kind,
                    hospital,
                    city,
                    address,
                    departement,
                    latitude,
                    longitude,
                }
            },
        )
        .collect())
}

pub fn site_exists(conn: &mut DbConnection, code: &str) -> DbResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(sites::table.find(code))).get_result(conn)?)
}

/// The staffs with their center's time zone.
pub fn staffs_with_zone(conn: &mut DbConnection) -> DbResult<Vec<(StaffRow, String)>> {
    Ok(staffs::table
        .inner_join(centers::table)
        .select((StaffRow::as_select(), centers::time_zone))
        .order(staffs::code)
        .load(conn)?)
}

pub fn center_time_zone(conn: &mut DbConnection, center: &str) -> DbResult<String> {
    Ok(centers::table
        .find(center)
        .select(centers::time_zone)
        .first(conn)?)
}

/// The single center this instance serves (the first in the table).
pub fn center(conn: &mut DbConnection) -> DbResult<CenterRow> {
    Ok(centers::table
        .select(CenterRow::as_select())
        .order(centers::code)
        .first(conn)?)
}

pub fn staff(conn: &mut DbConnection, code: &str) -> DbResult<Option<StaffRow>> {
    Ok(staffs::table
        .find(code)
        .select(StaffRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn staff_name(conn: &mut DbConnection, code: &str) -> DbResult<Option<String>> {
    Ok(staffs::table
        .find(code)
        .select(staffs::name)
        .first(conn)
        .optional()?)
}

/// The codes of the network's staffs.
pub fn staff_codes(conn: &mut DbConnection) -> DbResult<Vec<String>> {
    Ok(staffs::table
        .select(staffs::code)
        .order(staffs::code)
        .load(conn)?)
}
