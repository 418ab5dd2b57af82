//! The RPPS number identifying a French health professional: 11 digits whose last digit is a
//! Luhn check key computed over all 11.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rpps(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RppsError {
    #[error("must be exactly 11 digits")]
    Format,
    #[error("fails the Luhn check")]
    Checksum,
}

impl Rpps {
    pub fn parse(input: &str) -> Result<Rpps, RppsError> {
        let digits = input.trim();
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RppsError::Format);
        }
        if !luhn_valid(digits) {
            return Err(RppsError::Checksum);
        }
        Ok(Rpps(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rpps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Luhn over ASCII digits: from the right, every second digit is doubled.
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
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_ans_example_is_valid() {
        assert_eq!(Rpps::parse("10005173140").unwrap().as_str(), "10005173140");
    }

    #[test]
    fn wrong_check_digit_is_refused() {
        assert_eq!(Rpps::parse("10005173141"), Err(RppsError::Checksum));
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for bad in [
            "",
            "1000517314",
            "100051731400",
            "1000517314a",
            "10005 73140",
            "１0005173140",
        ] {
            assert_eq!(Rpps::parse(bad), Err(RppsError::Format), "{bad:?}");
        }
    }

    /// Computes the check digit that makes `prefix` (10 digits) a valid RPPS.
    fn with_check_digit(prefix: &str) -> String {
        (0..10)
            .map(|d| format!("{prefix}{d}"))
            .find(|candidate| luhn_valid(candidate))
            .unwrap()
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_completes_any_prefix(prefix in "[0-9]{10}") {
            let valid: Vec<_> = (0..10).filter(|d| Rpps::parse(&format!("{prefix}{d}")).is_ok()).collect();
            prop_assert_eq!(valid.len(), 1);
        }

        #[test]
        fn any_single_digit_change_is_detected(prefix in "[0-9]{10}", position in 0usize..11, delta in 1u8..10) {
            let valid = with_check_digit(&prefix);
            let mut bytes = valid.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(Rpps::parse(&altered), Err(RppsError::Checksum));
        }

        #[test]
        fn never_panics(input in "\\PC*") {
            let _ = Rpps::parse(&input);
        }
    }
}
