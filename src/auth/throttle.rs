//! Failed-login throttle per account and per client address: after too many failures in a
//! window, further attempts get 429 until the window ends (a few minutes, never a lock-out).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    windows: Mutex<HashMap<String, Window>>,
    max_per_account: u32,
    max_per_address: u32,
    window: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    started: Instant,
}

impl LoginThrottle {
    pub fn new(max_per_account: u32, max_per_address: u32, window: Duration) -> Self {
        LoginThrottle {
            windows: Mutex::new(HashMap::new()),
            max_per_account: max_per_account.max(1),
            max_per_address: max_per_address.max(1),
            window,
        }
    }

    /// `Err(seconds)` when the account or the address must wait before trying again.
    pub fn check(&self, account: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let windows = self.windows.lock().expect("throttle lock");
        let waits = [
            (format!("account:{account}"), self.max_per_account),
            (format!("address:{address}"), self.max_per_address),
        ]
        .into_iter()
        .filter_map(|(key, max)| {
            let window = windows.get(&key)?;
            let ends = window.started + self.window;
            (window.failures >= max && ends > now).then(|| (ends - now).as_secs().max(1))
        })
        .max();
        waits.map_or(Ok(()), Err)
    }

    /// [`check`](Self::check) as the API's answer: 429 with `Retry-After`.
    pub fn allow(&self, account: &str, address: &str) -> Result<(), crate::app::AppError> {
        self.check(account, address)
            .map_err(|retry_after_secs| crate::app::AppError::TooManyRequests { retry_after_secs })
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("throttle lock");
        if windows.len() > 100_000 {
            windows.retain(|_, w| w.started + self.window > now);
        }
        for key in [format!("account:{account}"), format!("address:{address}")] {
            let window = windows.entry(key).or_insert(Window {
                failures: 0,
                started: now,
            });
            if window.started + self.window <= now {
                *window = Window {
                    failures: 0,
                    started: now,
                };
            }
            window.failures += 1;
        }
    }

    pub fn record_success(&self, account: &str) {
        self.windows
            .lock()
            .expect("throttle lock")
            .remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_an_account_after_its_limit_then_lets_it_try_again() {
        let throttle = LoginThrottle::new(3, 100, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(throttle.check("a@chu.fr", "10.0.0.1").is_ok());
            throttle.record_failure("a@chu.fr", "10.0.0.1");
        }
        assert!(throttle.check("a@chu.fr", "10.0.0.2").is_err());
        assert!(throttle.check("b@chu.fr", "10.0.0.1").is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.check("a@chu.fr", "10.0.0.1").is_ok());
    }

    #[test]
    fn blocks_an_address_trying_many_accounts() {
        let throttle = LoginThrottle::new(100, 4, Duration::from_secs(60));
        for i in 0..4 {
            throttle.record_failure(&format!("user{i}@chu.fr"), "10.0.0.9");
        }
        let wait = throttle.check("new@chu.fr", "10.0.0.9").unwrap_err();
        assert!((1..=60).contains(&wait));
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = LoginThrottle::new(2, 100, Duration::from_secs(60));
        throttle.record_failure("a@chu.fr", "x");
        throttle.record_success("a@chu.fr");
        throttle.record_failure("a@chu.fr", "x");
        assert!(throttle.check("a@chu.fr", "x").is_ok());
    }
}
