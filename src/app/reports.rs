//! The RCP report of a delivered opinion (INTEROP.md): a PDF for the patient's file, in the
//! requester's language, for whoever may read the opinion. Only delivered versions have one:
//! a draft is not a document (for the requester it does not even exist).

use sha2::{Digest, Sha256};

use super::workflow::{self, Tx};
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::{self, DbConnection};
use crate::domain::ids::RequestId;
use crate::domain::opinion::{OpinionContent, OpinionStatus, Participant};
use crate::domain::request_form::{RequestForm, Sex};
use crate::report::{Advice, Attendee, Field, ReportData};
use crate::state::AppState;
use crate::web::i18n::{self, day_and_time};

/// A typeset report and the name to save it under.
#[derive(Debug)]
pub struct Report {
    pub filename: String,
    pub pdf: Vec<u8>,
}

/// The SHA-256 of an opinion version's content as stored: printed on its report and given
/// by the API beside the version, so that a copy can be checked against the service.
pub fn content_sha256(content: &str) -> String {
    hex::encode(Sha256::digest(content.as_bytes()))
}

/// The report of `version` (by default the latest delivered one) of the request's opinion.
pub async fn opinion_pdf(
    state: &AppState,
    actor: &Actor,
    id: &RequestId,
    version: Option<i64>,
) -> Result<Report, AppError> {
    let context = actor.context.clone();
    let data = workflow::on_visible_request(
        state,
        actor,
        id,
        "opinion.report",
        Tx::Read,
        move |conn, request, _| {
            let data = report_data(conn, &request, version)?;
            audit::record(
                conn,
                &context,
                "opinion.report",
                "opinion",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            Ok(data)
        },
    )
    .await?;
    let (filename, data) = data;
    let pdf = tokio::task::spawn_blocking(move || crate::report::render(&data))
        .await
        .map_err(|e| anyhow::anyhow!("the report's typesetting stopped: {e}"))??;
    Ok(Report { filename, pdf })
}

fn report_data(
    conn: &mut DbConnection,
    request: &db::requests::RequestRow,
    version: Option<i64>,
) -> Result<(String, ReportData), AppError> {
    let row = db::opinions::versions(conn, &request.id)?
        .into_iter()
        .filter(|row| row.status == OpinionStatus::Delivered)
        .find(|row| version.is_none_or(|v| v == row.version))
        .ok_or(AppError::NotFound)?;
    let content: OpinionContent =
        serde_json::from_str(&row.content).map_err(|e| anyhow::anyhow!("stored opinion: {e}"))?;
    let form: RequestForm = super::views::parse_form(request)?;
    let requester =
        db::users::find_by_id(conn, &request.requester_id)?.ok_or(AppError::NotFound)?;
    let language = requester.language;
    let validator = match &row.validated_by {
        Some(id) => db::users::find_by_id(conn, id)?,
        None => None,
    };
    let center = db::network::center(conn)?;
    let zone: chrono_tz::Tz = center.time_zone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let staff = match &request.staff_code {
        Some(code) => db::network::staff_name(conn, code)?,
        None => None,
    };
    let meeting = match &request.meeting_id {
        Some(id) => db::meetings::find(conn, id)?,
        None => None,
    };
    let sites = db::network::sites(conn)?;
    let site_name = |code: &str| {
        sites
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let t = |key: &str| i18n::text(language, key, &[]);
    let field = |key: &str, value: String| Field {
        label: t(key),
        value,
    };
    let reference = request.reference.clone();
    let version = row.version.to_string();

    let mut heading = vec![field("report.reference", reference.clone())];
    if let Some(staff) = staff {
        heading.push(field("report.staff", staff));
    }
    if let Some(meeting) = &meeting {
        heading.push(field(
            "report.date",
            day_and_time(language, meeting.starts_at.and_utc(), zone),
        ));
    }
    let mut requested_by = requester.full_name.clone();
    if let Some(site) = requester.site_code.as_deref() {
        requested_by.push_str(&format!(", {}", site_name(site)));
    }
    heading.push(field("report.requester", requested_by));

    let patient = &form.patient;
    let mut patient_fields = Vec::new();
    if let Some(initials) = &patient.initials {
        patient_fields.push(field("report.initials", initials.clone()));
    }
    let sex = match patient.sex {
        Some(Sex::Female) => "female",
        Some(Sex::Male) => "male",
        Some(Sex::Undetermined) => "undetermined",
        Some(Sex::Unknown) | None => "unknown",
    };
    patient_fields.push(field("report.sex", t(&format!("sex.{sex}"))));
    if let Some(birth_date) = patient.birth_date {
        patient_fields.push(field("report.birth_date", birth_date.to_string()));
    }
    if let Some(weeks) = patient.gestational_age_weeks {
        patient_fields.push(field(
            "report.gestational_age",
            i18n::text(language, "report.weeks", &[("weeks", weeks.to_string())]),
        ));
    }
    if let Some(local_id) = &patient.local_id {
        patient_fields.push(field("report.local_id", local_id.clone()));
    }

    fn written(text: &Option<String>) -> Option<&str> {
        text.as_deref().filter(|t| !t.trim().is_empty())
    }
    let mut request_sections = Vec::new();
    if let Some(question) = written(&form.question) {
        request_sections.push(field("report.question", question.to_owned()));
    }
    if let Some(summary) = written(&form.clinical_summary) {
        request_sections.push(field("report.clinical_summary", summary.to_owned()));
    }

    let diagnosis = &content.diagnosis;
    let mut diagnosis_line = diagnosis.text.clone();
    if let Some(code) = &diagnosis.orpha_code {
        diagnosis_line.push_str(&format!(" — {code}"));
    }
    diagnosis_line.push_str(&format!(
        " ({})",
        i18n::text(
            language,
            "report.certainty",
            &[(
                "status",
                t(&format!("diagnosis.{}", diagnosis.status.as_str()))
            )]
        )
    ));
    let recommendations = content
        .recommendations
        .iter()
        .map(|r| Advice {
            kind: t(&format!("recommendation.{}", r.kind.as_str())),
            text: r.text.clone(),
            site: r.site_code.as_deref().and_then(|code| {
                sites
                    .iter()
                    .find(|s| s.code == code)
                    .map(|s| format!("{}, {}, {}", s.name, s.hospital, s.address))
            }),
        })
        .collect();
    let participants: Vec<Participant> = meeting
        .as_ref()
        .and_then(|m| m.attendance.as_deref())
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let quorum = meeting.as_ref().and_then(|m| m.quorum_met).map(|met| {
        t(if met {
            "report.quorum_met"
        } else {
            "report.quorum_missed"
        })
    });
    let mut validation = Vec::new();
    if let Some(validator) = validator {
        validation.push(field("report.validated_by", validator.full_name));
    }
    validation.push(field("report.version", version.clone()));
    if let Some(at) = row.delivered_at {
        validation.push(field(
            "report.delivered_at",
            day_and_time(language, at.and_utc(), zone),
        ));
    }
    let args = [
        ("reference", reference.clone()),
        ("version", version.clone()),
        ("sha256", content_sha256(&row.content)),
    ];
    let data = ReportData {
        lang: language.as_str().to_owned(),
        title: i18n::text(language, "report.title", &args[..1]),
        center: center.name,
        meeting: heading,
        patient_heading: t("report.patient"),
        patient: patient_fields,
        request: request_sections,
        opinion_heading: t("report.opinion"),
        summary: field("report.summary", content.summary.clone()),
        diagnosis: field("report.diagnosis", diagnosis_line),
        recommendations_heading: t("report.recommendations"),
        recommendations,
        references_heading: t("report.references"),
        references: content.references.clone(),
        participants_heading: t("report.participants"),
        participants_columns: [t("report.name"), t("report.specialty"), t("report.site")],
        participants: participants
            .into_iter()
            .map(|p| Attendee {
                site: site_name(&p.site_code),
                name: p.name,
                specialty: p.specialty,
            })
            .collect(),
        quorum,
        validation_heading: t("report.validation"),
        validation,
        identification: i18n::text(language, "report.identification", &args),
        footer: i18n::text(language, "report.footer", &args[..2]),
    };
    Ok((format!("{reference}-v{version}.pdf"), data))
}
