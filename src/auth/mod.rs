//! Who is calling: password hashing, access tokens, refresh tokens, the authenticated-user
//! extractor and the login throttle.
//!
//! Sign-in methods produce a `user_id`; everything after that (token pair, sessions) is shared,
//! so another method (Pro Santé Connect) can be added beside passwords.

pub mod jwt;
pub mod password_hash;
pub mod second_factor;
pub mod throttle;
pub mod totp;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How a session was opened (RFC 8176 `amr` values): a password, then maybe a one-time code.
/// A new sign-in method (Pro Santé Connect) would add its own value here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amr(Vec<String>);

impl Amr {
    pub fn password() -> Amr {
        Amr(vec!["pwd".to_owned()])
    }

    pub fn password_and_otp() -> Amr {
        Amr(vec!["pwd".to_owned(), "otp".to_owned()])
    }

    /// From its stored form (space-separated); unknown values are dropped.
    pub fn parse(stored: &str) -> Amr {
        Amr(stored
            .split_whitespace()
            .filter(|m| matches!(*m, "pwd" | "otp"))
            .map(str::to_owned)
            .collect())
    }

    pub fn stored(&self) -> String {
        self.0.join(" ")
    }

    pub fn methods(&self) -> &[String] {
        &self.0
    }
}

/// A new opaque 256-bit token (URL-safe base64) and the SHA-256 hex digest that is stored.
pub fn new_opaque_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of an opaque token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_tokens_are_256_bit_and_stored_hashed() {
        let (token, hash) = new_opaque_token();
        assert_eq!(token.len(), 43);
        assert_eq!(hash, hash_token(&token));
        assert_ne!(hash, token);
        assert_ne!(new_opaque_token().0, token);
    }
}
