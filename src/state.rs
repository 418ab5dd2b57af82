//! What every use case and handler shares: the database, the settings, the keys, the throttle
//! and the metrics.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::throttle::LoginThrottle;
use crate::config::Settings;
use crate::crypto::DataKey;
use crate::db::Db;

/// What every use case and handler shares; cheap to clone (into a blocking database task).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    pub throttle: Arc<LoginThrottle>,
    /// Seals attachments and TOTP secrets at rest.
    pub data_key: Arc<DataKey>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// The base of the links in e-mails.
    pub fn public_url(&self) -> &str {
        &self.settings.server.public_url
    }
}
