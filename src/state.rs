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
    /// Where the sealed attachments are kept.
    pub attachments: crate::attachments::Store,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The center's time zone, read once: the network is written at start-up and changes only
    /// with a restart (every page shows its dates in it).
    pub center_zone: Arc<std::sync::OnceLock<String>>,
    /// The network's staffs, read once for the same reason (the triage and meetings screens
    /// list them on every page).
    pub staffs: Arc<std::sync::OnceLock<Arc<Vec<crate::app::network::Staff>>>>,
}

impl AppState {
    /// The base of the links in e-mails.
    pub fn public_url(&self) -> &str {
        &self.settings.server.public_url
    }

    /// The center's time zone (`Europe/Paris` until the database answers).
    pub async fn center_zone(&self) -> String {
        if let Some(zone) = self.center_zone.get() {
            return zone.clone();
        }
        match self
            .db
            .run(|conn| crate::db::network::center(conn).map(|c| c.time_zone))
            .await
        {
            Ok(zone) => self.center_zone.get_or_init(|| zone).clone(),
            Err(_) => "Europe/Paris".into(),
        }
    }
}
