//! TOTP codes as an authenticator app makes them, never one the account has used: the service
//! accepts a step once per account, and one step of drift, so two sign-ins of one account per
//! 30 s need no wait.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::library;

/// The last step used per account.
#[derive(Default)]
pub struct TotpSteps(Mutex<HashMap<String, i64>>);

impl TotpSteps {
    /// A code of `secret` for a step `account` has not used yet (waits for the next step if
    /// both acceptable steps are spent).
    pub async fn code(&self, secret: &str, account: &str) -> String {
        loop {
            let step = chrono::Utc::now().timestamp() / 30;
            let pick = {
                let mut used = self.0.lock().unwrap();
                let last = used.get(account).copied().unwrap_or(i64::MIN);
                let pick = [step, step + 1].into_iter().find(|s| *s > last);
                if let Some(pick) = pick {
                    used.insert(account.to_owned(), pick);
                }
                pick
            };
            match pick {
                Some(pick) => return library::totp_code(secret, pick),
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}
