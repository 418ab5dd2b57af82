//! Failed sign-in throttle per account and per client address: after too many failures in a
//! window, further attempts get 429 until the window ends (a few minutes, never a lock-out).
//! The windows are rows of the database, so every instance of the service enforces one limit.
//! Passwords and second-factor codes count alike.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::app::AppError;
use crate::db::throttle::ThrottleWindow;
use crate::db::{self, Db};

pub struct LoginThrottle {
    max_per_account: u32,
    max_per_address: u32,
    window: Duration,
}

fn account_key(account: &str) -> String {
    format!("account:{account}")
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

impl LoginThrottle {
    pub fn new(max_per_account: u32, max_per_address: u32, window: Duration) -> Self {
        LoginThrottle {
            max_per_account: max_per_account.max(1),
            max_per_address: max_per_address.max(1),
            window,
        }
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::minutes(15))
    }

    /// Seconds to wait, if any key's window is full and not over at `now`.
    fn wait(&self, windows: &[ThrottleWindow], now: NaiveDateTime) -> Option<u64> {
        windows
            .iter()
            .filter_map(|window| {
                let max = if window.key.starts_with("account:") {
                    self.max_per_account
                } else {
                    self.max_per_address
                };
                let ends = window.started_at + self.window();
                (window.failures >= i64::from(max) && ends > now).then(|| {
                    ((ends - now).num_milliseconds() as u64)
                        .div_ceil(1000)
                        .max(1)
                })
            })
            .max()
    }

    /// Too many requests (with the seconds to wait) when the account or the address must
    /// wait before trying again.
    pub async fn allow(&self, db: &Db, account: &str, address: &str) -> Result<(), AppError> {
        let keys = vec![account_key(account), address_key(address)];
        let windows = db
            .run(move |conn| db::throttle::windows(conn, &keys))
            .await?;
        match self.wait(&windows, db::now()) {
            Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
            None => Ok(()),
        }
    }

    pub async fn record_failure(
        &self,
        db: &Db,
        account: &str,
        address: &str,
    ) -> Result<(), AppError> {
        let keys = vec![account_key(account), address_key(address)];
        let now = db::now();
        let window_start = now - self.window();
        Ok(db
            .run(move |conn| db::throttle::record_failure(conn, &keys, now, window_start))
            .await?)
    }

    pub async fn record_success(&self, db: &Db, account: &str) -> Result<(), AppError> {
        let key = account_key(account);
        Ok(db.run(move |conn| db::throttle::clear(conn, &key)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_790_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    fn window(key: &str, failures: i64, started: i64) -> ThrottleWindow {
        ThrottleWindow {
            key: key.to_owned(),
            failures,
            started_at: at(started),
        }
    }

    #[test]
    fn a_full_window_makes_its_account_wait_until_it_ends() {
        let throttle = LoginThrottle::new(3, 100, Duration::from_secs(60));
        assert_eq!(throttle.wait(&[window("account:a", 2, 0)], at(10)), None);
        assert_eq!(
            throttle.wait(&[window("account:a", 3, 0)], at(10)),
            Some(50)
        );
        assert_eq!(throttle.wait(&[window("account:a", 3, 0)], at(60)), None);
    }

    #[test]
    fn an_address_has_its_own_limit() {
        let throttle = LoginThrottle::new(100, 4, Duration::from_secs(60));
        assert_eq!(
            throttle.wait(&[window("address:10.0.0.9", 3, 0)], at(1)),
            None
        );
        let wait = throttle.wait(&[window("address:10.0.0.9", 4, 0)], at(1));
        assert_eq!(wait, Some(59));
    }

    #[test]
    fn the_longest_wait_wins() {
        let throttle = LoginThrottle::new(1, 1, Duration::from_secs(60));
        let windows = [window("account:a", 1, 0), window("address:x", 1, 30)];
        assert_eq!(throttle.wait(&windows, at(40)), Some(50));
    }
}
