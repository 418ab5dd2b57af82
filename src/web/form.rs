//! A submitted HTML form, turned into the JSON body the API's use case takes: dotted names are
//! nested objects (`patient.birth_date`), indexed names rows (`participants[0].name`), repeated
//! names lists (`hpo_terms`), checkboxes booleans. An empty field is `null` (cleared). The
//! rules are then the API's own: the same use case parses and checks the body.

use serde_json::{Map, Value};

use crate::domain::FieldError;

/// How a field's text becomes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A checkbox: present is `true`, absent `false`.
    Checkbox,
    /// A whole number.
    Integer,
    /// Every value given under the name, empty ones left out, as a list.
    List,
}

/// The fields of a form, in the order they came.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    pub pairs: Vec<(String, String)>,
}

impl Submitted {
    pub fn parse(body: &[u8]) -> Submitted {
        Submitted {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// The indexes of the rows named `prefix[i].…` in the form, in order, each once (at most
    /// 500 rows).
    pub fn row_indexes(&self, prefix: &str) -> Vec<usize> {
        let open = format!("{prefix}[");
        let mut indexes: Vec<usize> = self
            .pairs
            .iter()
            .filter_map(|(name, _)| name.strip_prefix(&open)?.split_once(']')?.0.parse().ok())
            .filter(|i| *i < 500)
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    /// The JSON body of the fields named in `fields` (others are ignored: `csrf_token`,
    /// `intent`), with each field's kind; a malformed number is a field error.
    pub fn to_json(&self, fields: &[(&str, Option<Kind>)]) -> Result<Value, Vec<FieldError>> {
        let mut root = Value::Object(Map::new());
        let mut errors = Vec::new();
        for (name, kind) in fields {
            let value = match kind {
                Some(Kind::Checkbox) => Value::Bool(self.get(name).is_some()),
                Some(Kind::List) => Value::Array(
                    self.all(name)
                        .into_iter()
                        .map(|v| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                        .map(Value::String)
                        .collect(),
                ),
                Some(Kind::Integer) => match self.get(name).map(str::trim) {
                    None | Some("") => Value::Null,
                    Some(text) => match text.parse::<i64>() {
                        Ok(number) => Value::from(number),
                        Err(_) => {
                            errors.push(FieldError::new(*name, "must be an integer"));
                            continue;
                        }
                    },
                },
                None => match self.get(name) {
                    None => continue,
                    Some(text) if text.trim().is_empty() => Value::Null,
                    Some(text) => Value::String(text.to_owned()),
                },
            };
            insert(&mut root, name, value);
        }
        if errors.is_empty() {
            Ok(root)
        } else {
            Err(errors)
        }
    }
}

/// Puts `value` at the dotted, indexed path `name` of `root`.
fn insert(root: &mut Value, name: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = name.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        let Value::Object(map) = node else { return };
        match index {
            None if last => {
                map.insert(key.to_owned(), value);
                return;
            }
            None => {
                node = map
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            Some(index) => {
                let Value::Array(rows) = map
                    .entry(key.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()))
                else {
                    return;
                };
                while rows.len() <= index {
                    rows.push(Value::Object(Map::new()));
                }
                if last {
                    rows[index] = value;
                    return;
                }
                node = &mut rows[index];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_the_apis_json() {
        let form = Submitted::parse(
            b"topic=diagnosis&patient.initials=JM&patient.gestational_age_weeks=22&hpo_terms=HP%3A0000001&hpo_terms=&hpo_terms=HP%3A0000002&participants%5B1%5D.name=B&participants%5B0%5D.name=A&question=&csrf_token=x",
        );
        let json = form
            .to_json(&[
                ("topic", None),
                ("patient.initials", None),
                ("patient.gestational_age_weeks", Some(Kind::Integer)),
                ("hpo_terms", Some(Kind::List)),
                ("consent_obtained", Some(Kind::Checkbox)),
                ("participants[0].name", None),
                ("participants[1].name", None),
                ("question", None),
                ("growth", None),
            ])
            .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "topic": "diagnosis",
                "patient": {"initials": "JM", "gestational_age_weeks": 22},
                "hpo_terms": ["HP:0000001", "HP:0000002"],
                "consent_obtained": false,
                "participants": [{"name": "A"}, {"name": "B"}],
                "question": null,
            })
        );
    }

    #[test]
    fn a_malformed_number_is_a_field_error() {
        let form = Submitted::parse(b"patient.gestational_age_weeks=twenty");
        let errors = form
            .to_json(&[("patient.gestational_age_weeks", Some(Kind::Integer))])
            .unwrap_err();
        assert_eq!(errors[0].field, "patient.gestational_age_weeks");
    }
}
