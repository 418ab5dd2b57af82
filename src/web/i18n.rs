//! The screens' words: one catalogue per language (`locales/fr.toml`, `locales/en.toml`, the
//! same keys), the language of a page, dates in the center's time zone, and the API's field
//! messages in the page's language.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::domain::account::Language;

const FRENCH: &str = include_str!("../../locales/fr.toml");
const ENGLISH: &str = include_str!("../../locales/en.toml");

/// The section of the French catalogue that translates the API's English field messages
/// (numbers replaced by `{n}`); it has no English counterpart.
const API_MESSAGES: &str = "api_messages";

pub struct Catalogue {
    entries: HashMap<String, String>,
    /// `date.weekday_1` … `date.weekday_7` (Monday first) and `date.month_1` … `date.month_12`,
    /// looked up once: every date of every page names them.
    weekdays: Vec<String>,
    months: Vec<String>,
}

fn flatten(prefix: &str, value: &toml::Value, into: &mut HashMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, value, into);
            }
        }
        toml::Value::String(text) => {
            into.insert(prefix.to_owned(), text.clone());
        }
        other => {
            into.insert(prefix.to_owned(), other.to_string());
        }
    }
}

impl Catalogue {
    pub fn parse(source: &str) -> Catalogue {
        let value: toml::Value = toml::from_str(source).expect("a message catalogue parses");
        let mut entries = HashMap::new();
        flatten("", &value, &mut entries);
        let names = |prefix: &str, count: u32| -> Vec<String> {
            (1..=count)
                .map(|n| {
                    let key = format!("{prefix}_{n}");
                    entries.get(&key).cloned().unwrap_or(key)
                })
                .collect()
        };
        let (weekdays, months) = (names("date.weekday", 7), names("date.month", 12));
        Catalogue {
            entries,
            weekdays,
            months,
        }
    }

    /// The keys, without the API's messages.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .entries
            .keys()
            .map(String::as_str)
            .filter(|key| !key.starts_with(API_MESSAGES))
            .collect();
        keys.sort_unstable();
        keys
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }
}

pub fn catalogue(language: Language) -> &'static Catalogue {
    static FR: OnceLock<Catalogue> = OnceLock::new();
    static EN: OnceLock<Catalogue> = OnceLock::new();
    match language {
        Language::Fr => FR.get_or_init(|| Catalogue::parse(FRENCH)),
        Language::En => EN.get_or_init(|| Catalogue::parse(ENGLISH)),
    }
}

/// The text of `key` with its `{name}` placeholders filled. With a `count` argument, the
/// `.one` or `.other` form is chosen (French counts 0 and 1 as one). A missing key shows as
/// itself, so that a test of the page finds it.
pub fn text(language: Language, key: &str, args: &[(&str, String)]) -> String {
    let catalogue = catalogue(language);
    let count = args
        .iter()
        .find(|(name, _)| *name == "count")
        .and_then(|(_, value)| value.parse::<i64>().ok());
    let template = match count {
        Some(count) => {
            let one = match language {
                Language::Fr => count == 0 || count == 1,
                Language::En => count == 1,
            };
            let form = if one { "one" } else { "other" };
            catalogue
                .get(&format!("{key}.{form}"))
                .or_else(|| catalogue.get(key))
        }
        None => catalogue.get(key),
    };
    let Some(template) = template else {
        return key.to_owned();
    };
    fill(template, args)
}

/// `template` with each `{name}` of `args` replaced (one pass; an unknown `{…}` stays).
fn fill(template: &str, args: &[(&str, String)]) -> String {
    if args.is_empty() {
        return template.to_owned();
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(arg, _)| *arg == name)
                .map(|(_, value)| (value, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// An API field message in the page's language: the French catalogue knows each message
/// with its numbers as `{n}`.
pub fn api_message(language: Language, message: &str) -> String {
    if language == Language::En {
        return message.to_owned();
    }
    let mut numbers = Vec::new();
    let mut pattern = String::new();
    let mut digits = String::new();
    for c in message.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            numbers.push(std::mem::take(&mut digits));
            pattern.push_str("{n}");
        }
        if c != '\0' {
            pattern.push(c);
        }
    }
    let entries = &catalogue(language).entries;
    // "is too easy to guess (a hint)": the message before its parenthesis, when only that is known.
    let found = entries
        .get(&format!("{API_MESSAGES}.{pattern}"))
        .or_else(|| {
            let (head, _) = pattern.split_once(" (")?;
            entries.get(&format!("{API_MESSAGES}.{head}"))
        });
    match found {
        Some(french) => {
            let mut out = String::new();
            let mut rest = french.as_str();
            let mut numbers = numbers.into_iter();
            while let Some(at) = rest.find("{n}") {
                out.push_str(&rest[..at]);
                out.push_str(&numbers.next().unwrap_or_default());
                rest = &rest[at + 3..];
            }
            out.push_str(rest);
            out
        }
        None => message.to_owned(),
    }
}

/// The page's language: the signed-in user's, else the `consilium_lang` cookie, else the
/// first of `Accept-Language` we speak, else French.
pub fn negotiate(
    user: Option<Language>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
) -> Language {
    if let Some(language) = user {
        return language;
    }
    if let Some(language) = cookie.and_then(parse_language) {
        return language;
    }
    if let Some(header) = accept_language {
        let mut offers: Vec<(f32, Language)> = header
            .split(',')
            .filter_map(|offer| {
                let mut parts = offer.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let primary = tag.split('-').next()?.to_ascii_lowercase();
                Some((quality, parse_language(&primary)?))
            })
            .filter(|(quality, _)| *quality > 0.0)
            .collect();
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some((_, language)) = offers.first() {
            return *language;
        }
    }
    Language::Fr
}

pub fn parse_language(value: &str) -> Option<Language> {
    match value {
        "fr" => Some(Language::Fr),
        "en" => Some(Language::En),
        _ => None,
    }
}

/// "mercredi 9 décembre 2026" / "Wednesday 9 December 2026", in `zone`.
pub fn day(language: Language, at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let local = at.with_timezone(&zone);
    let names = catalogue(language);
    text(
        language,
        "date.day",
        &[
            (
                "weekday",
                names.weekdays[local.weekday().num_days_from_monday() as usize].clone(),
            ),
            ("day", local.day().to_string()),
            ("month", names.months[local.month0() as usize].clone()),
            ("year", local.year().to_string()),
        ],
    )
}

/// "mercredi 9 décembre 2026 à 14:00" / "Wednesday 9 December 2026 at 14:00", in `zone`.
pub fn day_and_time(language: Language, at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    let local = at.with_timezone(&zone);
    text(
        language,
        "date.day_at",
        &[
            ("day", day(language, at, zone)),
            ("time", format!("{:02}:{:02}", local.hour(), local.minute())),
        ],
    )
}

/// A choice list of `codes`, each with its label `prefix.code` in `language`: the options of
/// a select.
pub fn choices<'a>(
    language: Language,
    prefix: &str,
    codes: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    codes
        .into_iter()
        .map(|code| {
            (
                code.to_owned(),
                text(language, &format!("{prefix}.{code}"), &[]),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in_one_pass() {
        let args = [("n", "3".to_owned()), ("name", "{n}".to_owned())];
        assert_eq!(
            fill("{n} of {name}, {other} {", &args),
            "3 of {n}, {other} {"
        );
        assert_eq!(fill("{{n}}", &args), "{3}");
        assert_eq!(fill("no braces", &args), "no braces");
        assert_eq!(fill("{n}", &[]), "{n}");
    }

    #[test]
    fn dates_name_their_weekday_and_month() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-09T13:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            day_and_time(Language::Fr, at, paris),
            "mercredi 9 décembre 2026 à 14:00"
        );
        assert_eq!(day(Language::En, at, paris), "Wednesday 9 December 2026");
    }

    #[test]
    fn both_catalogues_hold_the_same_keys() {
        let french = catalogue(Language::Fr).keys();
        let english = catalogue(Language::En).keys();
        let only_french: Vec<_> = french.iter().filter(|k| !english.contains(k)).collect();
        let only_english: Vec<_> = english.iter().filter(|k| !french.contains(k)).collect();
        assert!(
            only_french.is_empty() && only_english.is_empty(),
            "missing in en.toml: {only_french:?}; missing in fr.toml: {only_english:?}"
        );
    }

    #[test]
    fn dates_read_as_people_write_them() {
        let at = "2026-12-09T13:00:00Z".parse().unwrap();
        let paris: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            day_and_time(Language::Fr, at, paris),
            "mercredi 9 décembre 2026 à 14:00"
        );
        assert_eq!(
            day_and_time(Language::En, at, paris),
            "Wednesday 9 December 2026 at 14:00"
        );
    }

    #[test]
    fn the_language_is_the_users_then_the_cookies_then_the_browsers() {
        assert_eq!(
            negotiate(Some(Language::En), Some("fr"), None),
            Language::En
        );
        assert_eq!(negotiate(None, Some("en"), Some("fr")), Language::En);
        assert_eq!(
            negotiate(None, None, Some("de-DE,en-GB;q=0.8,fr;q=0.5")),
            Language::En
        );
        assert_eq!(negotiate(None, None, Some("de")), Language::Fr);
        assert_eq!(negotiate(None, None, None), Language::Fr);
    }

    #[test]
    fn api_messages_are_translated_with_their_numbers() {
        assert_eq!(
            api_message(Language::Fr, "is required, at most 5000 characters"),
            "est obligatoire, 5000 caractères au plus"
        );
        assert_eq!(api_message(Language::En, "is required"), "is required");
    }

    #[test]
    fn counts_choose_their_form() {
        assert_eq!(
            text(Language::En, "requests.count", &[("count", "1".into())]),
            "1 request"
        );
        assert_eq!(
            text(Language::Fr, "requests.count", &[("count", "0".into())]),
            "0 demande"
        );
    }
}
