//! FHIR R4 for hospital systems: one request as a `Bundle`, read with the same authorisation
//! as the request itself (a requester's bundle carries only delivered opinions, as their
//! read does), and the admin's NDJSON export of every request changed since an instant,
//! built batch by batch so that a large export is streamed, never held whole.

use serde_json::Value;

use super::workflow::{self, Tx};
use super::{Actor, AppError};
use crate::audit::{self, Outcome};
use crate::db::{self, DbConnection};
use crate::domain::account::Role;
use crate::domain::ids::RequestId;
use crate::domain::network::SiteInfo;
use crate::fhir;
use crate::state::AppState;

/// How many bundles one step of an export builds (one read transaction each).
const EXPORT_BATCH: usize = 50;

/// The bundle of `request` (its latest delivered opinion only).
fn bundle_of(
    conn: &mut DbConnection,
    public_url: &str,
    request: db::requests::RequestRow,
    sites: &[SiteInfo],
) -> Result<Value, AppError> {
    let requester =
        db::users::find_by_id(conn, &request.requester_id)?.ok_or(AppError::NotFound)?;
    let opinion = super::opinions::opinion_view(conn, &request, true)?;
    let validator = match opinion
        .as_ref()
        .and_then(|o| o.current.validated_by.as_deref())
    {
        Some(id) => db::users::find_by_id(conn, id)?,
        None => None,
    };
    // The meeting's date goes only into the opinion's Composition.
    let meeting_start = match (&opinion, &request.meeting_id) {
        (Some(_), Some(id)) => db::meetings::find(conn, id)?.map(|m| m.starts_at.and_utc()),
        _ => None,
    };
    let staff_name = match &request.staff_code {
        Some(code) => db::network::staff_name(conn, code)?,
        None => None,
    };
    let form = super::views::parse_form(&request)?;
    let parent_reference = match &request.parent_id {
        Some(parent) => db::requests::reference_of(conn, parent)?,
        None => None,
    };
    fn person(user: &db::users::UserRow) -> fhir::Person<'_> {
        fhir::Person {
            rpps: &user.rpps,
            full_name: &user.full_name,
            specialty: &user.specialty,
        }
    }
    let base = public_url.trim_end_matches('/');
    let record = fhir::RequestRecord {
        id: &request.id,
        reference: &request.reference,
        status: request.status,
        form: &form,
        language: requester.language.as_str(),
        staff_name: staff_name.as_deref(),
        parent_reference: parent_reference.as_deref(),
        created_at: request.created_at.and_utc(),
        submitted_at: request.submitted_at.map(|t| t.and_utc()),
        updated_at: request.updated_at.and_utc(),
        requester: person(&requester),
        opinion: opinion.as_ref().and_then(|view| {
            Some(fhir::Opinion {
                version: view.current.version,
                content: &view.current.content,
                delivered_at: view.current.delivered_at?,
                validator: validator.as_ref().map(person),
                participants: &view.participants,
                quorum_met: view.quorum_met,
                meeting_start,
                pdf_url: format!(
                    "{base}/api/v1/requests/{}/opinion.pdf?version={}",
                    request.id, view.current.version
                ),
            })
        }),
        sites,
        public_url,
    };
    Ok(fhir::bundle(&record))
}

/// The request as a FHIR `Bundle`, for whoever may read it (not found for anyone else).
pub async fn bundle(state: &AppState, actor: &Actor, id: &RequestId) -> Result<Value, AppError> {
    let (context, public_url) = (actor.context.clone(), state.public_url().to_owned());
    workflow::on_visible_request(
        state,
        actor,
        id,
        "fhir.read",
        Tx::Read,
        move |conn, request, _| {
            audit::record(
                conn,
                &context,
                "fhir.read",
                "request",
                Some(&request.id),
                Outcome::Allowed,
            )?;
            let sites = db::network::sites(conn)?;
            bundle_of(conn, &public_url, request, &sites)
        },
    )
    .await
}

/// An export under way: the requests still to write, in the order they were created.
pub struct FhirExport {
    state: AppState,
    ids: std::vec::IntoIter<String>,
}

impl FhirExport {
    /// The next lines of NDJSON (one bundle per line), or `None` once every request is out.
    /// A request deleted meanwhile is left out.
    pub async fn next_batch(&mut self) -> Option<Result<String, AppError>> {
        let batch: Vec<String> = self.ids.by_ref().take(EXPORT_BATCH).collect();
        if batch.is_empty() {
            return None;
        }
        let public_url = self.state.public_url().to_owned();
        let lines = self
            .state
            .db
            .run(move |conn| {
                let sites = db::network::sites(conn)?;
                let mut out = String::new();
                for id in batch {
                    let Some(request) = db::requests::find(conn, &id)? else {
                        continue;
                    };
                    out.push_str(&serde_json::to_string(&bundle_of(
                        conn,
                        &public_url,
                        request,
                        &sites,
                    )?)?);
                    out.push('\n');
                }
                Ok::<_, AppError>(out)
            })
            .await;
        Some(lines)
    }
}

/// Starts the export of every request changed (or whose opinion was delivered) since `since`
/// (a local day of the center or an RFC 3339 instant): admin only, audited before anything
/// is read.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    since: Option<&str>,
) -> Result<FhirExport, AppError> {
    actor.require_any(&[Role::Admin])?;
    let since = match since {
        None | Some("") => {
            return Err(AppError::invalid(
                "since",
                "is required (a date YYYY-MM-DD or an RFC 3339 instant)",
            ));
        }
        Some(value) => {
            let zone: chrono_tz::Tz = state
                .center_zone()
                .await
                .parse()
                .unwrap_or(chrono_tz::Europe::Paris);
            super::meetings::parse_bound(value, "since", zone, false)?
        }
    };
    let context = actor.context.clone();
    let ids = state
        .db
        .write(move |conn| {
            audit::record(
                conn,
                &context,
                "export.fhir",
                "export",
                None,
                Outcome::Allowed,
            )?;
            Ok::<_, AppError>(db::requests::changed_since(conn, since.naive_utc())?)
        })
        .await?;
    Ok(FhirExport {
        state: state.clone(),
        ids: ids.into_iter(),
    })
}
