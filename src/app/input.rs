//! Untrusted structured input, whichever door it came through: JSON bounded (depth, string and
//! array lengths) and deserialised strictly (no type coercion, unknown fields refused), every
//! failing field named by its path.

use serde::de::DeserializeOwned;

use super::AppError;
use super::strict_json::Strict;
use crate::domain::FieldError;

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
