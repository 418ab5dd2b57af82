//! Time-based one-time passwords (RFC 6238: 30-second steps, 6 digits, HMAC-SHA-1, as
//! authenticator apps expect) and single-use recovery codes.
//!
//! A code is accepted one step either side of now, and only for a step later than the last
//! one accepted for the account, so an observed code cannot be replayed.

use rand::Rng;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECONDS: u64 = 30;
pub const DIGITS: usize = 6;
/// Steps accepted either side of now (clock drift of the phone).
const SKEW_STEPS: i64 = 1;
pub const RECOVERY_CODES: usize = 10;

/// A new 160-bit secret, base32 (RFC 4648, unpadded) as authenticator apps take it.
pub fn new_secret() -> String {
    match Secret::generate_secret().to_encoded() {
        Secret::Encoded(encoded) => encoded,
        Secret::Raw(_) => unreachable!("to_encoded answers the encoded form"),
    }
}

/// The secret's bytes, if `base32` is a base32 secret of at least 128 bits.
pub fn parse_secret(base32: &str) -> Option<Vec<u8>> {
    let normalised: String = base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = Secret::Encoded(normalised).to_bytes().ok()?;
    (bytes.len() >= 16).then_some(bytes)
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP_SECONDS,
        secret,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
}

/// The `otpauth://totp/...` URI an authenticator app scans.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    totp(secret.to_vec(), issuer, account).get_url()
}

/// The code of `secret` at `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    totp(secret.to_vec(), "", "").generate(unix_seconds)
}

/// The step of `code` if it is valid around `unix_seconds` and later than `last_step`.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = (unix_seconds / STEP_SECONDS) as i64;
    let generator = totp(secret.to_vec(), "", "");
    // Every candidate step is computed, so the answer takes the same time whichever matches.
    let mut matched = None;
    for step in (now_step - SKEW_STEPS)..=(now_step + SKEW_STEPS) {
        let expected = generator.generate(step as u64 * STEP_SECONDS);
        let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        if equal && matched.is_none() && last_step.is_none_or(|last| step > last) {
            matched = Some(step);
        }
    }
    matched
}

/// Ten new recovery codes, `xxxx-xxxx-xxxx-xxxx` (80 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..16)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            format!(
                "{}-{}-{}-{}",
                &raw[0..4],
                &raw[4..8],
                &raw[8..12],
                &raw[12..16]
            )
        })
        .collect()
}

/// A recovery code as stored: spaces and dashes dropped, lower case.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Whether `code` looks like a TOTP code (otherwise it is tried as a recovery code).
pub fn is_totp_code(code: &str) -> bool {
    let code = code.trim();
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 of the 8 digits.
    #[test]
    fn matches_the_rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59), "287082");
        assert_eq!(code_at(secret, 1111111109), "081804");
        assert_eq!(code_at(secret, 1234567890), "005924");
        assert_eq!(code_at(secret, 2000000000), "279037");
    }

    #[test]
    fn accepts_one_step_of_drift_and_never_a_replay() {
        let secret = parse_secret(&new_secret()).unwrap();
        let now = 1_800_000_000;
        let code = code_at(&secret, now);
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(step, (now / 30) as i64);
        assert_eq!(verify(&secret, &code, now, Some(step)), None);
        assert!(verify(&secret, &code, now + 30, None).is_some());
        assert!(verify(&secret, &code, now - 30, None).is_some());
        assert_eq!(verify(&secret, &code, now + 90, None), None);
        assert_eq!(verify(&secret, "12345", now, None), None);
        assert_eq!(verify(&secret, "abcdef", now, None), None);
    }

    #[test]
    fn secrets_are_base32_of_at_least_128_bits() {
        assert_eq!(parse_secret(&new_secret()).unwrap().len(), 20);
        assert!(
            parse_secret("JBSWY3DPEHPK3PXP").is_none(),
            "80 bits is too short"
        );
        assert!(parse_secret("not base32 at all!").is_none());
        assert!(parse_secret("jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp").is_some());
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        let code = &codes[0];
        assert_eq!(
            normalise_recovery_code(&code.to_uppercase().replace('-', " ")).len(),
            16
        );
        assert_eq!(normalise_recovery_code(code), code.replace('-', ""));
        assert!(!is_totp_code(code));
        assert!(is_totp_code(" 123456 "));
    }

    #[test]
    fn the_uri_is_what_authenticator_apps_scan() {
        let secret = parse_secret(&new_secret()).unwrap();
        let uri = otpauth_uri(&secret, "Consilium", "jeanne@chu.fr");
        assert!(
            uri.starts_with("otpauth://totp/Consilium:jeanne%40chu.fr?secret="),
            "{uri}"
        );
        assert!(uri.contains("issuer=Consilium"));
    }
}
