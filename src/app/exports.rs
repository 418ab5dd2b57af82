//! Exports for the national rare-disease data bank (BNDMR, its minimal data set SDM-MR):
//! `GET /api/v1/admin/export/sdm-mr.csv?from=&to=`, one row per request whose opinion was
//! first delivered in the period (an amendment is the same activity: its row holds the latest
//! delivered version), with the items of the data set Consilium holds. The README maps each
//! column to its SDM-MR item and says what the data set asks for that Consilium does not hold.

use chrono::{DateTime, Utc};

use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db;
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::opinion::{DiagnosisStatus, OpinionContent};
use crate::domain::request_form::{RequestForm, Sex};
use crate::state::AppState;

/// The columns, in order.
pub const SDM_MR_COLUMNS: [&str; 17] = [
    "reference",
    "version",
    "centre",
    "site_avis",
    "date_activite",
    "type_activite",
    "contexte_activite",
    "rcp",
    "motif",
    "sexe",
    "date_naissance",
    "age_gestationnel_semaines",
    "statut_diagnostic",
    "code_orpha",
    "termes_hpo",
    "rpps_demandeur",
    "site_demandeur",
];

/// The period of an export: `from` and `to` are local days of the center, both included.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    zone: chrono_tz::Tz,
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let mut errors = Vec::new();
    let mut bound = |value: Option<&str>, field: &str, end: bool| match value {
        None | Some("") => {
            errors.push(FieldError::new(field, "is required (a date YYYY-MM-DD)"));
            None
        }
        Some(value) => match super::meetings::parse_bound(value, field, zone, end) {
            Ok(at) => Some(at),
            Err(AppError::Validation(mut found)) => {
                errors.append(&mut found);
                None
            }
            Err(_) => None,
        },
    };
    let (from, to) = (bound(from, "from", false), bound(to, "to", true));
    AppError::unless_valid(errors)?;
    let (from, to) = (from.expect("checked"), to.expect("checked"));
    if to <= from || to - from > chrono::Duration::days(400) {
        return Err(AppError::invalid(
            "to",
            "must be on or after `from`, within 400 days",
        ));
    }
    Ok((from, to))
}

/// The SDM-MR file of the period (admin; audited).
pub async fn sdm_mr(
    state: &AppState,
    actor: &Actor,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<String, AppError> {
    actor.require_any(&[Role::Admin])?;
    let zone: chrono_tz::Tz = state
        .center_zone()
        .await
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    let (from, to) = period(from, to, zone)?;
    let context = actor.context.clone();
    let rows = state
        .db
        .write(move |conn| {
            let rows =
                db::opinions::first_delivered_between(conn, from.naive_utc(), to.naive_utc())?;
            audit::record(
                conn,
                &context,
                "export.sdm_mr",
                "export",
                None,
                Outcome::Allowed,
            )?;
            Ok::<_, AppError>(rows)
        })
        .await?;
    let mut csv = String::new();
    write_row(&mut csv, SDM_MR_COLUMNS.iter().map(|c| c.to_string()));
    for row in rows {
        let form: RequestForm = serde_json::from_str(&row.form).unwrap_or_default();
        let content: Option<OpinionContent> = serde_json::from_str(&row.content).ok();
        let diagnosis = content.as_ref().map(|c| &c.diagnosis);
        let patient = &form.patient;
        write_row(
            &mut csv,
            [
                row.reference,
                row.version.to_string(),
                row.center_code,
                row.validator_site.unwrap_or_default(),
                row.first_delivered_at
                    .and_utc()
                    .with_timezone(&zone)
                    .date_naive()
                    .to_string(),
                "avis_sur_dossier".into(),
                "rcp".into(),
                row.staff_code.unwrap_or_default(),
                row.topic.map(|t| t.as_str().to_owned()).unwrap_or_default(),
                match patient.sex {
                    Some(Sex::Female) => "feminin",
                    Some(Sex::Male) => "masculin",
                    Some(Sex::Undetermined) => "indetermine",
                    Some(Sex::Unknown) | None => "inconnu",
                }
                .into(),
                patient
                    .birth_date
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                patient
                    .gestational_age_weeks
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
                match diagnosis.map(|d| d.status) {
                    Some(DiagnosisStatus::Confirmed) => "confirme",
                    Some(DiagnosisStatus::Probable) => "probable",
                    Some(DiagnosisStatus::Unsolved) | None => "indetermine",
                }
                .into(),
                diagnosis
                    .and_then(|d| d.orpha_code.as_deref())
                    .map(|code| code.trim_start_matches("ORPHA:").to_owned())
                    .unwrap_or_default(),
                form.hpo_terms.join(" "),
                row.requester_rpps,
                row.requester_site.unwrap_or_default(),
            ],
        );
    }
    Ok(csv)
}

/// One CSV line (RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes
/// doubled; a field a spreadsheet would take for a formula is prefixed with `'`), CRLF-ended.
pub(crate) fn write_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = if field.starts_with(['=', '+', '-', '@']) {
            format!("'{field}")
        } else {
            field
        };
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        let mut out = String::new();
        write_row(
            &mut out,
            ["plain", "a,b", "say \"hi\"", "=1+1", "two\nlines"].map(String::from),
        );
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",'=1+1,\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn a_period_names_every_field_it_lacks() {
        let zone = chrono_tz::Europe::Paris;
        match period(None, Some("not a day"), zone) {
            Err(AppError::Validation(errors)) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["from", "to"]);
            }
            other => panic!("{other:?}"),
        }
        let (from, to) = period(Some("2026-01-01"), Some("2026-01-31"), zone).unwrap();
        assert_eq!(from.to_rfc3339(), "2025-12-31T23:00:00+00:00");
        assert_eq!(
            to.to_rfc3339(),
            "2026-01-31T23:00:00+00:00",
            "to is included"
        );
    }
}
