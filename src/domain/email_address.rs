//! An e-mail address, normalised (trimmed, lower-cased) so uniqueness is case-insensitive.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<EmailAddress, &'static str> {
        let normalised = input.trim().to_lowercase();
        if normalised.is_empty() {
            return Err("is required");
        }
        if normalised.len() > 254 {
            return Err("is too long");
        }
        // CR/LF or any control character could inject e-mail headers.
        if normalised
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err("is not a valid e-mail address");
        }
        let address =
            lettre::Address::from_str(&normalised).map_err(|_| "is not a valid e-mail address")?;
        if !address.domain().contains('.') || address.domain().starts_with('[') {
            return Err("is not a valid e-mail address");
        }
        Ok(EmailAddress(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`, used to refuse passwords made of the address.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_spaces() {
        let email = EmailAddress::parse("  Dr.Martin@CHU-Nancy.FR ").unwrap();
        assert_eq!(email.as_str(), "dr.martin@chu-nancy.fr");
        assert_eq!(email.local_part(), "dr.martin");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@chu.fr",
            "a@",
            "a b@chu.fr",
            "a@chu",
            "a@chu.fr\r\nBcc: x@y.fr",
            "a@[127.0.0.1]",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@chu.fr", "a".repeat(250))).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_never_keeps_line_breaks(input in "\\PC*\r?\n?\\PC*") {
            if let Ok(email) = EmailAddress::parse(&input) {
                prop_assert!(!email.as_str().contains('\n') && !email.as_str().contains('\r'));
            }
        }
    }
}
