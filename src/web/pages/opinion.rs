//! The opinion editor: `/requests/{id}/opinion` (summary, diagnosis, typed recommendations as
//! rows, references one per line; the meeting's attendance and quorum beside it), saved as a
//! draft by a coordinator or an expert, delivered by a coordinator after a confirmation step.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::requests::{load, request_path};
use super::{FormErrors, field_errors};
use crate::app::{self, AppError};
use crate::domain::FieldError;
use crate::domain::account::Role;
use crate::domain::ids::{MeetingId, RequestId};
use crate::domain::opinion::{
    DiagnosisStatus, OpinionContent, OpinionDiagnosis, Recommendation, RecommendationKind,
};
use crate::web::context::{OrPage, Web, WebError};
use crate::web::form::Submitted;
use crate::web::i18n;

/// Empty recommendation rows offered beyond those filled in.
const BLANK_ROWS: usize = 2;

/// `GET /requests/{id}/opinion`: the current draft (or the delivered version, to amend).
pub async fn page(web: Web, id: web::Path<String>) -> Result<HttpResponse, WebError> {
    let id = RequestId::from(id.into_inner());
    let actor = web.actor()?;
    let content = match app::opinions::get(&web.state, actor, &id).await {
        Ok(opinion) => Some(serde_json::to_value(&opinion.current.content).unwrap_or_default()),
        Err(AppError::NotFound) => None,
        Err(other) => return Err(web.error(other)),
    };
    let values = content.map(|c| values_of(&c)).unwrap_or_default();
    editor(&web, &id, values, &[], StatusCode::OK).await
}

/// The fields of a recommendation's row, as SCREENS.md names them (`recommendations[i].kind`…).
const RECOMMENDATION_PARTS: [&str; 5] = ["kind", "text", "site_code", "due_on", "staff"];

/// The opinion's content as the form's fields.
fn values_of(content: &Value) -> Map<String, Value> {
    let mut values = Map::new();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    values.insert("summary".into(), json!(text(&content["summary"])));
    for part in ["text", "orpha_code", "status"] {
        values.insert(
            format!("diagnosis.{part}"),
            json!(text(&content["diagnosis"][part])),
        );
    }
    let references: Vec<String> = content["references"]
        .as_array()
        .map(|r| r.iter().map(text).collect())
        .unwrap_or_default();
    values.insert("references".into(), json!(references.join("\n")));
    for (i, row) in content["recommendations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for part in RECOMMENDATION_PARTS {
            values.insert(
                format!("recommendations[{i}].{part}"),
                json!(text(&row[part])),
            );
        }
    }
    values
}

async fn editor(
    web: &Web,
    id: &RequestId,
    values: Map<String, Value>,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    if !(actor.has_role(Role::Coordinator) || actor.has_role(Role::Expert)) {
        return Err(web.error(AppError::Forbidden));
    }
    let request = load(web, id).await?;
    let meeting = match &request.meeting {
        Some(meeting) => Some(
            app::meetings::agenda(&web.state, actor, &MeetingId::from(meeting.id.clone()))
                .await
                .or_page(web)?
                .meeting,
        ),
        None => None,
    };
    let rows = (0..)
        .take_while(|i| values.contains_key(&format!("recommendations[{i}].kind")))
        .count()
        + BLANK_ROWS;
    let sites = app::network::sites(&web.state, None).await.or_page(web)?;
    let staffs = app::network::staffs(&web.state).await.or_page(web)?;
    let lang = web.lang();
    let form_errors = FormErrors::new(lang, errors);
    web.page("opinion_form.html")
        .with("request", &request)
        .with("meeting", meeting)
        .with("values", values)
        .with("rows", rows)
        .with(
            "statuses",
            i18n::choices(
                lang,
                "diagnosis",
                DiagnosisStatus::ALL.iter().map(|s| s.as_str()),
            ),
        )
        .with(
            "kinds",
            i18n::choices(
                lang,
                "recommendation",
                RecommendationKind::ALL.iter().map(|k| k.as_str()),
            ),
        )
        .with(
            "sites",
            sites
                .iter()
                .map(|s| (s.site.code.clone(), s.site.name.clone()))
                .collect::<Vec<_>>(),
        )
        .with(
            "staffs",
            staffs
                .iter()
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect::<Vec<_>>(),
        )
        .with("can_deliver", actor.has_role(Role::Coordinator))
        .with("errors", &form_errors.fields)
        .with("summary", &form_errors.summary)
        .status(status)
        .render()
}

/// The form as the opinion's content, or every field that cannot be one: the choices the form
/// offers (a diagnosis status, each row's kind) checked here, then the opinion's own rules.
fn content_of(form: &Submitted) -> (Map<String, Value>, Result<OpinionContent, Vec<FieldError>>) {
    let mut values = Map::new();
    for name in [
        "summary",
        "diagnosis.text",
        "diagnosis.orpha_code",
        "diagnosis.status",
        "references",
    ] {
        values.insert(name.into(), json!(form.text(name)));
    }
    let mut errors = Vec::new();
    let status = DiagnosisStatus::parse(&form.text("diagnosis.status")).unwrap_or_else(|| {
        errors.push(FieldError::new("diagnosis.status", "is required"));
        DiagnosisStatus::Unsolved
    });
    let mut recommendations = Vec::new();
    for i in form.row_indexes("recommendations") {
        let field = |part: &str| form.text(&format!("recommendations[{i}].{part}"));
        let (kind, text, site) = (field("kind"), field("text"), field("site_code"));
        let (due_on, staff) = (field("due_on"), field("staff"));
        if kind.is_empty() && text.trim().is_empty() {
            continue;
        }
        let row = recommendations.len();
        for (part, value) in RECOMMENDATION_PARTS
            .iter()
            .zip([&kind, &text, &site, &due_on, &staff])
        {
            values.insert(format!("recommendations[{row}].{part}"), json!(value));
        }
        let due_on = match due_on.trim() {
            "" => None,
            date => date.parse::<chrono::NaiveDate>().ok().or_else(|| {
                errors.push(FieldError::new(
                    format!("recommendations[{row}].due_on"),
                    "must be a date",
                ));
                None
            }),
        };
        let kind = RecommendationKind::parse(&kind).unwrap_or_else(|| {
            errors.push(FieldError::new(
                format!("recommendations[{row}].kind"),
                "is required",
            ));
            RecommendationKind::Other
        });
        recommendations.push(Recommendation {
            kind,
            text: text.trim().to_owned(),
            site_code: Some(site).filter(|s| !s.is_empty()),
            due_on,
            staff: Some(staff).filter(|s| !s.is_empty()),
        });
    }
    let orpha = form.text("diagnosis.orpha_code");
    let content = OpinionContent {
        summary: form.text("summary").trim().to_owned(),
        diagnosis: OpinionDiagnosis {
            text: form.text("diagnosis.text").trim().to_owned(),
            orpha_code: Some(orpha.trim().to_owned()).filter(|o| !o.is_empty()),
            status,
        },
        recommendations,
        references: form
            .text("references")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if errors.is_empty() {
        return (values, Ok(content));
    }
    // Refused here already: the rest of the form's mistakes are said at once too (the sites
    // are checked by the use case, when nothing else is wrong).
    errors.extend(content.check(|_| true, |_| true));
    (values, Err(errors))
}

/// `POST /requests/{id}/opinion`: saves the draft (an amendment once delivered).
pub async fn save(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    let (values, content) = content_of(&form);
    let outcome = match content {
        Ok(content) => app::opinions::write(&web.state, actor, &id, content)
            .await
            .map(|_| ()),
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match outcome {
        Ok(()) => Ok(web.redirect(&request_path(&id, "opinion_saved"))),
        Err(error) => {
            let errors = field_errors(error).or_page(&web)?;
            editor(&web, &id, values, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /requests/{id}/opinion/deliver`: without `confirmed`, the confirmation page; with
/// it, the delivery (the requester is e-mailed in the same transaction).
pub async fn deliver(
    web: Web,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, WebError> {
    let form = web.form(&body)?;
    let actor = web.actor()?;
    let id = RequestId::from(id.into_inner());
    if form.get("confirmed") != Some("true") {
        let opinion = app::opinions::get(&web.state, actor, &id)
            .await
            .or_page(&web)?;
        let request = load(&web, &id).await?;
        return web
            .page("opinion_confirm.html")
            .with("request", &request)
            .with("opinion", &opinion)
            .render();
    }
    app::opinions::deliver(&web.state, actor, &id)
        .await
        .or_page(&web)?;
    Ok(web.redirect(&request_path(&id, "delivered")))
}

#[derive(Debug, serde::Deserialize)]
pub struct PdfQuery {
    version: Option<i64>,
}

/// `GET /requests/{id}/opinion.pdf[?version=N]`: the RCP report of a delivered version, shown
/// in the browser's PDF viewer (to print or save for the patient's file).
pub async fn pdf(
    web: Web,
    id: web::Path<String>,
    query: web::Query<PdfQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = web.actor()?;
    let report = app::reports::opinion_pdf(
        &web.state,
        actor,
        &RequestId::from(id.into_inner()),
        query.version,
    )
    .await
    .or_page(&web)?;
    Ok(crate::routes::requests::opinion_pdf::pdf_response(
        report,
        actix_web::http::header::DispositionType::Inline,
    ))
}
