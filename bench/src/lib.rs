//! Shared by the seeder (`bench-seed`) and the load generator (`bench-load`): the manifest the
//! seeder writes (who can log in, which requests and meetings to ask for).

use serde::{Deserialize, Serialize};

pub mod forms;

/// What the seeder made, for the load generator and the pgbench script.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub backend: String,
    pub requests: usize,
    pub requesters: usize,
    /// The one password of every requester.
    pub requester_password: String,
    /// The requesters the scenarios sign in as, with their requests' ids.
    pub sample: Vec<SampleRequester>,
    /// Coordinators (TOTP second factor).
    pub coordinators: Vec<StaffAccount>,
    /// Meetings whose agenda holds exactly `agenda_size` requests.
    pub agenda_meetings: Vec<String>,
    pub agenda_size: usize,
    /// Rows written per table.
    pub rows: Vec<(String, u64)>,
    /// Seconds spent: generating and writing rows, and the whole seeding.
    pub write_seconds: f64,
    pub total_seconds: f64,
    /// Requests per status.
    pub statuses: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleRequester {
    pub id: String,
    pub email: String,
    pub request_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: String,
    pub email: String,
    pub password: String,
    pub totp_secret: String,
}

/// A valid RPPS number (11 digits, Luhn) made from `n`.
pub fn rpps(n: u64) -> String {
    let base = format!("{:010}", 1_000_000_000 + n);
    for check in 0..10 {
        let candidate = format!("{base}{check}");
        if luhn_valid(&candidate) {
            return candidate;
        }
    }
    unreachable!("one check digit always satisfies Luhn")
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rpps_numbers_are_accepted_by_the_service() {
        for n in [0, 1, 42, 1999, 999_999] {
            let number = super::rpps(n);
            assert!(consilium::domain::rpps::Rpps::parse(&number).is_ok(), "{number}");
        }
    }
}
