//! Keyset pagination: `?limit=` (default 50, max 200) and an opaque `?cursor=`; answers
//! `{"items": [...], "next_cursor": ...}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What a client asks of a list: how many, after which cursor.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn limit(&self) -> Result<i64, AppError> {
        limit(self.limit)
    }

    pub fn cursor(&self) -> Result<Option<(NaiveDateTime, String)>, AppError> {
        decode_cursor(self.cursor.as_deref())
    }
}

/// The limit asked for, validated: 1..=200.
pub fn limit(requested: Option<i64>) -> Result<i64, AppError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
        Some(_) => Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// A cursor naming the last row of a page by `(time, id)`.
pub fn encode_cursor(at: NaiveDateTime, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.and_utc().timestamp_micros()))
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<(NaiveDateTime, String)>, AppError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let invalid = || AppError::invalid("cursor", "is not a cursor returned by this list");
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(invalid)?;
    let (micros, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .ok_or_else(invalid)?;
    Ok(Some((at.naive_utc(), id.to_owned())))
}

/// Builds a page from `limit + 1` fetched rows... or `limit` rows: a full page gets a cursor.
pub fn page<R, T>(
    rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> (NaiveDateTime, String),
    view: impl Fn(R) -> T,
) -> Page<T> {
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| {
            rows.last().map(|row| {
                let (at, id) = key(row);
                encode_cursor(at, &id)
            })
        })
        .flatten();
    Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456)
            .unwrap()
            .naive_utc();
        let cursor = encode_cursor(at, "0194-abc");
        assert_eq!(
            decode_cursor(Some(&cursor)).unwrap(),
            Some((at, "0194-abc".into()))
        );
        assert!(decode_cursor(Some("%%%")).is_err());
        assert!(decode_cursor(Some("bm9waXBl")).is_err());
        assert!(limit(Some(0)).is_err() && limit(Some(201)).is_err());
        assert_eq!(limit(None).unwrap(), 50);
    }
}
