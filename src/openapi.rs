//! The OpenAPI document, generated from the handlers; committed as `openapi/openapi.json`
//! (a test fails when it is stale; `consilium openapi > openapi/openapi.json` refreshes it).

use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Consilium API",
        version = "1",
        description = "Request workflow of a rare-disease reference network: referring physicians' opinion requests, multidisciplinary meetings (RCP), opinions. Errors are RFC 9457 problem+json.",
        license(name = "AGPL-3.0-or-later"),
    ),
    components(schemas(
        crate::http::problem::Problem,
        crate::domain::FieldError,
        crate::domain::mail::OutboxStatus
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Probes"),
        (name = "accounts", description = "Registration, sign-in, sessions"),
        (name = "network", description = "Sites and staffs of the network"),
        (name = "requests", description = "Opinion requests: the form, its life cycle, messages, attachments"),
        (name = "triage", description = "Coordinators' decisions on requests"),
        (name = "meetings", description = "Meetings of the staffs, their agendas and attendance"),
        (name = "opinions", description = "The RCP's opinions"),
        (name = "admin", description = "Users, roles, audit trail, e-mail outbox"),
        (name = "calendars", description = "Meetings as iCalendar feeds (RFC 5545)"),
        (name = "fhir", description = "Requests and opinions as FHIR R4 resources"),
        (name = "figures", description = "Activity figures of the network's meetings"),
        (name = "exports", description = "The national rare-disease data set (BNDMR, SDM-MR)"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document served at `/openapi.json` and committed: the endpoints registered by
/// `routes::configure` with their annotations, then the rules every operation shares written
/// in one place (see [`complete`]).
pub fn build() -> utoipa::openapi::OpenApi {
    let (_, paths) = actix_web::App::new()
        .into_utoipa_app()
        .configure(routes::configure)
        .split_for_parts();
    let mut document = ApiDoc::openapi();
    document.merge(paths);
    let mut document = serde_json::to_value(document).expect("the document serialises");
    complete(&mut document);
    serde_json::from_value(document).expect("the completed document deserialises")
}

/// The document as committed: pretty JSON with a final newline.
pub fn document() -> String {
    let mut json = build()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

/// Answers every operation may give whatever its handler does, documented once here:
/// - with a bearer token: 401 (missing, expired or wrong token) and 403 (role, or a second
///   factor the role requires);
/// - with a JSON body: 400 (not JSON), 413 (too large), 415 (not JSON), 422 (invalid fields);
/// - with a query: 400 (malformed) and 422 (invalid values);
/// - under `/api/v1`: 503 (database unavailable).
///
/// Also: optional query parameters are optional, not nullable (`?x=null` is no value), and a
/// response schema extending a strict input schema (`allOf` with `additionalProperties:
/// false`) is written out as one object, so the extension's own fields are allowed.
fn complete(document: &mut Value) {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let paths = document["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        for operation in item.as_object_mut().expect("path item").values_mut() {
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let has_body = operation.get("requestBody").is_some();
            let mut has_query = false;
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                for parameter in parameters.iter_mut().filter(|p| p["in"] == "query") {
                    has_query = true;
                    not_nullable(&mut parameter["schema"]);
                }
            }
            let mut added = Vec::new();
            if secured {
                added.push(("401", "No valid access token"));
                added.push((
                    "403",
                    "Not allowed for this role, or a second factor is required",
                ));
            }
            if has_body {
                added.push(("400", "The body is not well-formed"));
                added.push(("413", "The body is too large"));
                added.push(("415", "The body is not of the documented type"));
                added.push(("422", "Invalid fields, all listed"));
            }
            if has_query {
                added.push(("400", "The query string is malformed"));
                added.push(("422", "Invalid query values"));
            }
            if path.starts_with("/api/v1/") {
                added.push(("503", "The database is unavailable; retry shortly"));
            }
            let responses = operation["responses"].as_object_mut().expect("responses");
            for (status, description) in added {
                responses
                    .entry(status)
                    .or_insert_with(|| problem(description));
            }
        }
    }
    // A request's PATCH body is a JSON merge patch (RFC 7396) of its form: `null` removes.
    let mut merge_patch = nullable_deep(
        &json!({"$ref": "#/components/schemas/RequestForm"}),
        &document["components"]["schemas"],
    );
    merge_patch["type"] = json!("object");
    merge_patch["properties"]["version"] = json!({
        "type": "integer",
        "format": "int64",
        "description": "The version read; as `If-Match`, refused with 409 when stale."
    });
    document["components"]["schemas"]["RequestFormPatch"] = merge_patch;
    document["paths"]["/api/v1/requests/{id}"]["patch"]["requestBody"]["content"]["application/json"]
        ["schema"] = json!({"$ref": "#/components/schemas/RequestFormPatch"});
    let schemas = document["components"]["schemas"].clone();
    if let Some(components) = document["components"]["schemas"].as_object_mut() {
        for schema in components.values_mut() {
            if schema.get("allOf").is_some() {
                *schema = flatten_all_of(schema, &schemas);
            }
        }
    }
}

/// The schema with `null` allowed at every level, references inlined, nothing required.
fn nullable_deep(schema: &Value, components: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return nullable_deep(&components[name], components);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let mut choices: Vec<Value> = choices
            .iter()
            .filter(|c| c["type"] != "null")
            .map(|c| match c["$ref"].as_str() {
                Some(reference) => {
                    components[reference.trim_start_matches("#/components/schemas/")].clone()
                }
                None => c.clone(),
            })
            .collect();
        choices.insert(0, json!({"type": "null"}));
        let mut out = schema.clone();
        out["oneOf"] = Value::Array(choices);
        return out;
    }
    let mut out = schema.clone();
    if let Some(object) = out.as_object_mut() {
        object.remove("required");
    }
    if let Some(properties) = schema["properties"].as_object() {
        let properties: serde_json::Map<String, Value> = properties
            .iter()
            .map(|(name, property)| (name.clone(), nullable_deep(property, components)))
            .collect();
        out["properties"] = Value::Object(properties);
    }
    match &schema["type"] {
        Value::String(kind) => out["type"] = json!([kind, "null"]),
        Value::Array(kinds) if !kinds.iter().any(|k| k == "null") => {
            let mut kinds = kinds.clone();
            kinds.push(json!("null"));
            out["type"] = Value::Array(kinds);
        }
        _ => {}
    }
    if let Some(values) = out["enum"].as_array_mut()
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    out
}

/// `{"type": ["string", "null"]}` → `{"type": "string"}`; `oneOf [null, X]` → X.
fn not_nullable(schema: &mut Value) {
    if let Some(types) = schema["type"].as_array() {
        let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        schema["type"] = if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        };
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let kept: Vec<Value> = choices
            .iter()
            .filter(|c| c["type"] != "null")
            .cloned()
            .collect();
        if kept.len() == 1 {
            *schema = kept[0].clone();
        }
    }
}

/// One object schema with the properties and required fields of every part of an `allOf`.
fn flatten_all_of(schema: &Value, components: &Value) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut parts: Vec<Value> = schema["allOf"].as_array().cloned().unwrap_or_default();
    while let Some(part) = parts.pop() {
        let part = match part["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                components[name].clone()
            }
            None => part,
        };
        if let Some(nested) = part["allOf"].as_array() {
            parts.extend(nested.iter().cloned());
            continue;
        }
        if let Some(props) = part["properties"].as_object() {
            for (name, property) in props {
                properties.entry(name.clone()).or_insert(property.clone());
            }
        }
        for name in part["required"].as_array().into_iter().flatten() {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
    }
    required.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    let mut flat = json!({"type": "object", "properties": properties, "required": required});
    if let Some(description) = schema.get("description") {
        flat["description"] = description.clone();
    }
    flat
}
