//! Request-body and query extractors whose failures are problem+json: a body that is not JSON
//! is 400, too large 413, not `application/json` 415, and a well-formed body with a wrong type
//! or unknown enum value is 422 naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::app::AppError;
use crate::domain::FieldError;
use crate::http::strict_json::Strict;

/// A JSON body deserialised with the failing field's path reported.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Deepest nesting of arrays and objects accepted in a body.
pub const MAX_DEPTH: usize = 16;
/// Longest string accepted anywhere in a body, in characters (a field may set a lower one).
pub const MAX_STRING_CHARS: usize = 20_000;
/// Most items accepted in one array of a body.
pub const MAX_ARRAY_ITEMS: usize = 500;

/// Every place where `value` passes the generic limits, as field errors.
fn check_limits(value: &serde_json::Value, path: &str, depth: usize, errors: &mut Vec<FieldError>) {
    use serde_json::Value;
    let field = || {
        if path.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        }
    };
    match value {
        Value::String(text) if text.chars().count() > MAX_STRING_CHARS => {
            errors.push(FieldError::new(
                field(),
                format!("is longer than {MAX_STRING_CHARS} characters"),
            ))
        }
        Value::Array(_) | Value::Object(_) if depth >= MAX_DEPTH => errors.push(FieldError::new(
            field(),
            format!("nests deeper than {MAX_DEPTH} levels"),
        )),
        Value::Array(items) => {
            if items.len() > MAX_ARRAY_ITEMS {
                errors.push(FieldError::new(
                    field(),
                    format!("has more than {MAX_ARRAY_ITEMS} items"),
                ));
            }
            for (index, item) in items.iter().enumerate().take(MAX_ARRAY_ITEMS) {
                check_limits(item, &format!("{path}[{index}]"), depth + 1, errors);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                let name: String = name.chars().take(64).collect();
                let child = if path.is_empty() {
                    name
                } else {
                    format!("{path}.{name}")
                };
                check_limits(member, &child, depth + 1, errors);
            }
        }
        _ => {}
    }
}

/// Parses JSON bytes into `T`, naming the failing field. Depth, string lengths and array
/// lengths are bounded for every body before it reaches a handler.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| AppError::BadRequest(format!("The body is not valid JSON: {error}")))?;
    let mut errors = Vec::new();
    check_limits(&value, "", 0, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    deserialize_listing_unknown_fields(value)
}

/// Deserialises `value`, naming the failing field. serde stops at the first unknown field:
/// each one is taken out and the rest tried again, so that every field a client may not set
/// is listed at once.
fn deserialize_listing_unknown_fields<T: DeserializeOwned>(
    mut value: serde_json::Value,
) -> Result<T, AppError> {
    let mut unknown = Vec::new();
    loop {
        let error = match serde_path_to_error::deserialize(Strict(value.clone())) {
            Ok(parsed) if unknown.is_empty() => return Ok(parsed),
            Ok(_) => return Err(AppError::Validation(unknown)),
            Err(error) => error,
        };
        let path = error.path().to_string();
        let inner = error.into_inner();
        let field = if path == "." { "body".to_owned() } else { path };
        // serde's message without the position suffix.
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        if message.starts_with("unknown field") && unknown.len() < 32 && remove(&mut value, &field)
        {
            unknown.push(FieldError::new(field, "may not be set"));
            continue;
        }
        unknown.push(FieldError::new(field, message));
        return Err(AppError::Validation(unknown));
    }
}

/// Removes the member at a dotted path of object keys; false if there is none.
fn remove(value: &mut serde_json::Value, path: &str) -> bool {
    let mut segments: Vec<&str> = path.split('.').collect();
    let Some(last) = segments.pop() else {
        return false;
    };
    let mut current = value;
    for segment in segments {
        match current.get_mut(segment) {
            Some(next) => current = next,
            None => return false,
        }
    }
    current
        .as_object_mut()
        .is_some_and(|members| members.remove(last).is_some())
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(AppError::UnsupportedMediaType(
                    "The body must be application/json.".into(),
                ));
            }
            let bytes = bytes
                .await
                .map_err(|error| match error.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => AppError::PayloadTooLarge,
                    _ if error.as_response_error().status_code().as_u16() == 413 => {
                        AppError::PayloadTooLarge
                    }
                    _ => AppError::BadRequest("The body could not be read.".into()),
                })?;
            parse_json(&bytes).map(Json)
        })
    }
}

/// Query strings: a malformed one is a 400 problem.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(
            serde_urlencoded_from_str::<T>(req.query_string())
                .map(Query)
                .map_err(|error| AppError::BadRequest(format!("Invalid query string: {error}"))),
        )
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(query: &str) -> Result<T, String> {
    web::Query::<T>::from_query(query)
        .map(web::Query::into_inner)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        inner: Inner,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        sex: Sex,
    }
    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Sex {
        Female,
    }

    #[test]
    fn bodies_beyond_the_limits_name_every_place() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        let long = "x".repeat(MAX_STRING_CHARS + 1);
        let many: Vec<u8> = vec![0; MAX_ARRAY_ITEMS + 1];
        let body = format!(
            r#"{{"inner": {{"sex": "female", "notes": "{long}"}}, "deep": {deep}, "many": {}}}"#,
            serde_json::to_string(&many).unwrap()
        );
        match parse_json::<serde_json::Value>(body.as_bytes()) {
            Err(AppError::Validation(errors)) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert!(fields.contains(&"inner.notes"), "{fields:?}");
                assert!(fields.iter().any(|f| f.starts_with("deep")), "{fields:?}");
                assert!(fields.contains(&"many"), "{fields:?}");
            }
            other => panic!("{other:?}"),
        }
        // serde_json's own recursion limit is a 400, never a crash.
        let very_deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_json::<serde_json::Value>(very_deep.as_bytes()).is_err());
    }

    #[test]
    fn every_unknown_field_is_listed() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            name: String,
            inner: Option<StrictInner>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct StrictInner {
            a: i64,
        }
        match parse_json::<Strict>(
            br#"{"name": "x", "roles": [1], "id": 2, "inner": {"a": 1, "b": 2}}"#,
        ) {
            Err(AppError::Validation(errors)) => {
                let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                fields.sort();
                assert_eq!(fields, ["id", "inner.b", "roles"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_json::<Strict>(br#"{"name": "x"}"#).is_ok());
    }

    #[test]
    fn syntax_errors_are_400_and_data_errors_name_the_field() {
        assert!(matches!(
            parse_json::<Body>(b"{not json"),
            Err(AppError::BadRequest(_))
        ));
        match parse_json::<Body>(br#"{"inner": {"sex": "alien"}}"#) {
            Err(AppError::Validation(errors)) => assert_eq!(errors[0].field, "inner.sex"),
            other => panic!("{other:?}"),
        }
    }
}
