//! The network's sites as the network file describes them and the service shows them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A site of the network: a hospital department taking part in the reference center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteInfo {
    pub code: String,
    pub name: String,
    /// `coordinator` | `constituent` | `competence`
    pub kind: String,
    pub hospital: String,
    pub city: String,
    pub address: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
}
