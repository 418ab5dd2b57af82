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
use crate::app::input::parse_json;

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
        let long = "x".repeat(crate::app::input::MAX_STRING_CHARS + 1);
        let many: Vec<u8> = vec![0; crate::app::input::MAX_ARRAY_ITEMS + 1];
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
