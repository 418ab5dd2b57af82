//! The service's one clock: every instant the service records or compares (timestamps of
//! rows, today's date in the center's calendar, due dates, the calendar's horizon) is read
//! here. With `CONSILIUM_ENV=test`, the setting `clock.offset_seconds` moves it forward for the
//! API and the worker alike, so that tests move time instead of sleeping; any other
//! environment refuses the setting. What must agree with the world outside stays on the
//! system's time: the second factor's codes (the physician's authenticator app) and the
//! tokens' lifetimes.
//!
//! The offset is the process's, set as the service starts: a test that moves time runs the
//! service as a process of its own.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

static OFFSET_SECONDS: AtomicI64 = AtomicI64::new(0);

/// Moves this process's clock `seconds` ahead of the system's (checked by the settings: only
/// in the test environment).
pub fn set_offset(seconds: i64) {
    OFFSET_SECONDS.store(seconds, Ordering::Relaxed);
}

/// The current instant.
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::seconds(OFFSET_SECONDS.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_is_the_system_s_without_an_offset() {
        let (before, read, after) = (chrono::Utc::now(), super::now(), chrono::Utc::now());
        assert!(before <= read && read <= after);
    }
}
