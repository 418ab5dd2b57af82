//! Templates embedded in the binary, rendered by minijinja with undefined variables refused
//! (a misspelt variable is an error, caught by the render test of its template, not a blank).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use super::{assets, i18n};
use crate::domain::account::Language;

/// Every template, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("notice.html", include_str!("../../templates/notice.html")),
    ("home.html", include_str!("../../templates/home.html")),
    (
        "register.html",
        include_str!("../../templates/register.html"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/verify_email.html"),
    ),
    ("login.html", include_str!("../../templates/login.html")),
    ("triage.html", include_str!("../../templates/triage.html")),
    (
        "follow_ups.html",
        include_str!("../../templates/follow_ups.html"),
    ),
    (
        "meetings.html",
        include_str!("../../templates/meetings.html"),
    ),
    ("meeting.html", include_str!("../../templates/meeting.html")),
    (
        "admin_nav.html",
        include_str!("../../templates/admin_nav.html"),
    ),
    (
        "admin_users.html",
        include_str!("../../templates/admin_users.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../templates/admin_audit.html"),
    ),
    (
        "admin_outbox.html",
        include_str!("../../templates/admin_outbox.html"),
    ),
    (
        "admin_exports.html",
        include_str!("../../templates/admin_exports.html"),
    ),
    ("kpis.html", include_str!("../../templates/kpis.html")),
    (
        "opinion_form.html",
        include_str!("../../templates/opinion_form.html"),
    ),
    (
        "opinion_confirm.html",
        include_str!("../../templates/opinion_confirm.html"),
    ),
    (
        "login_mfa.html",
        include_str!("../../templates/login_mfa.html"),
    ),
    (
        "password_reset.html",
        include_str!("../../templates/password_reset.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/reset_password.html"),
    ),
    ("account.html", include_str!("../../templates/account.html")),
    (
        "requests.html",
        include_str!("../../templates/requests.html"),
    ),
    (
        "request_form.html",
        include_str!("../../templates/request_form.html"),
    ),
    ("request.html", include_str!("../../templates/request.html")),
];

fn language_of(state: &State) -> Language {
    state
        .lookup("lang")
        .and_then(|value| value.as_str().and_then(i18n::parse_language))
        .unwrap_or_default()
}

fn zone_of(state: &State) -> chrono_tz::Tz {
    state
        .lookup("zone")
        .and_then(|value| value.as_str().and_then(|zone| zone.parse().ok()))
        .unwrap_or(chrono_tz::Europe::Paris)
}

/// `t("key", name=value, …)`: the page's language's text of `key`.
fn t(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let mut args = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let text = match value.as_str() {
            Some(text) => text.to_owned(),
            None => value.to_string(),
        };
        args.push((name, text));
    }
    let language = language_of(state);
    let text = i18n::text(language, key, &args);
    if text == key {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("no message `{key}` in the {} catalogue", language.as_str()),
        ));
    }
    Ok(text)
}

fn parse_instant(value: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(value)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, "not an RFC 3339 instant"))
}

/// `when|datetime`: "mercredi 9 décembre 2026 à 14:00", in the center's time zone.
fn datetime(state: &State, value: &str) -> Result<String, Error> {
    Ok(i18n::day_and_time(
        language_of(state),
        parse_instant(value)?,
        zone_of(state),
    ))
}

/// `when|day`: "mercredi 9 décembre 2026".
fn day(state: &State, value: &str) -> Result<String, Error> {
    Ok(i18n::day(
        language_of(state),
        parse_instant(value)?,
        zone_of(state),
    ))
}

/// `"patient.birth_date"|field_id` → `field-patient-birth_date`.
pub fn field_id(name: &str) -> String {
    let mut id = String::from("field-");
    for c in name.chars() {
        match c {
            ']' => {}
            c if c.is_ascii_alphanumeric() || c == '_' => id.push(c),
            _ => id.push('-'),
        }
    }
    id
}

/// `asset("consilium.css")`: its hashed URL (our own text: not escaped).
fn asset(name: &str) -> Result<Value, Error> {
    assets::url(name)
        .map(Value::from_safe_string)
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "no such asset"))
}

/// `size|filesize`: "1.2 MB".
fn filesize(size: i64) -> String {
    let size = size as f64;
    if size >= 1_048_576.0 {
        format!("{:.1} MB", size / 1_048_576.0)
    } else if size >= 1024.0 {
        format!("{:.0} KB", size / 1024.0)
    } else {
        format!("{size} B")
    }
}

/// `value|shown`: a form value as a field shows it; none (a field left empty) is empty, not
/// "None".
fn shown(value: Value) -> Value {
    if value.is_none() || value.is_undefined() {
        Value::from("")
    } else {
        value
    }
}

pub fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
        }
        env.add_function("t", t);
        env.add_function("asset", asset);
        env.add_filter("datetime", datetime);
        env.add_filter("day", day);
        env.add_filter("field_id", |name: &str| field_id(name));
        env.add_filter("filesize", filesize);
        env.add_filter("shown", shown);
        env
    })
}

/// Renders `template` with `context`.
pub fn render(template: &str, context: &BTreeMap<String, Value>) -> Result<String, Error> {
    environment()
        .get_template(template)?
        .render(Value::from_serialize(context))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Language;

    fn chrome(language: Language) -> BTreeMap<String, Value> {
        let mut values = BTreeMap::new();
        values.insert("lang".into(), Value::from(language.as_str()));
        values.insert("csrf_token".into(), Value::from("t"));
        values.insert("current_path".into(), Value::from("/"));
        values.insert("zone".into(), Value::from("Europe/Paris"));
        values.insert("user".into(), Value::from(()));
        values
    }

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(environment().get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_error_page_renders_every_kind_in_both_languages() {
        let kinds = [
            "not_found",
            "forbidden",
            "unauthorized",
            "conflict",
            "too_many",
            "too_large",
            "media_type",
            "bad_request",
            "unavailable",
            "internal",
        ];
        for language in [Language::Fr, Language::En] {
            for kind in kinds {
                let mut values = chrome(language);
                values.insert("kind".into(), Value::from(kind));
                values.insert("status".into(), Value::from(404));
                values.insert("current_status".into(), Value::from("submitted"));
                values.insert("back_to".into(), Value::from("/requests/r1"));
                let html = render("error.html", &values).unwrap();
                assert!(html.contains(&format!("<html lang=\"{}\"", language.as_str())));
                assert_eq!(html.matches("<h1>").count(), 1, "{kind}");
            }
        }
    }

    #[test]
    fn a_field_left_empty_is_shown_empty() {
        let mut values = chrome(Language::Fr);
        values.insert("summary".into(), Value::from(Vec::<Value>::new()));
        values.insert("sites".into(), Value::from(Vec::<Value>::new()));
        values.insert("languages".into(), Value::from(Vec::<Value>::new()));
        values.insert(
            "errors".into(),
            Value::from(BTreeMap::<String, Value>::new()),
        );
        let mut form = BTreeMap::new();
        form.insert("phone".to_owned(), Value::from(()));
        form.insert("rpps".to_owned(), Value::from("10000000314"));
        values.insert("values".into(), Value::from(form));
        let html = render("register.html", &values).unwrap();
        assert!(html.contains(r#"name="phone" value="""#), "{html}");
        assert!(html.contains(r#"name="rpps" value="10000000314""#));
        assert!(!html.contains("None"));
    }

    #[test]
    fn the_sign_in_page_keeps_where_to_go_next() {
        let mut values = chrome(Language::Fr);
        for flag in ["ended", "verified", "reset"] {
            values.insert(flag.into(), Value::from(false));
        }
        values.insert("failed".into(), Value::from(()));
        values.insert(
            "errors".into(),
            Value::from(BTreeMap::<String, Value>::new()),
        );
        values.insert(
            "values".into(),
            Value::from(BTreeMap::<String, Value>::new()),
        );
        values.insert("next".into(), Value::from("/requests/new?a=1&b=2"));
        let html = render("login.html", &values).unwrap();
        // `/` stays as it is (escaped for HTML); `?`, `=` and `&` are encoded.
        assert!(
            html.contains(r#"action="/login?next=&#x2f;requests&#x2f;new%3Fa%3D1%26b%3D2""#),
            "{html}"
        );
    }

    #[test]
    fn an_undefined_variable_is_an_error_not_a_blank() {
        let values = chrome(Language::Fr);
        assert!(render("notice.html", &values).is_err());
    }
}
