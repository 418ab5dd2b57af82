//! argon2id password hashing (OWASP parameters: m = 19 MiB, t = 2, p = 1), run on the blocking
//! pool and bounded so a burst of logins cannot take all memory or starve database work.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

fn argon2id() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// At most this many hashes run at once (one per core).
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// A hash of a random password, verified against when the account does not exist, so an
/// unknown e-mail costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&uuid::Uuid::new_v4().to_string()).expect("hashing works"));

/// Hashes synchronously (command line, tests); servers use [`hash`].
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    argon2id()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Verifies in constant time against a PHC string; `None` verifies against the dummy hash and
/// always fails.
pub fn verify_blocking(password: &str, phc: Option<&str>) -> bool {
    let phc = phc.unwrap_or(DUMMY_HASH.as_str());
    let matches = PasswordHash::new(phc)
        .map(|parsed| {
            argon2id()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    matches && phc != DUMMY_HASH.as_str()
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

pub async fn verify(password: String, phc: Option<String>) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await?;
    Ok(tokio::task::spawn_blocking(move || verify_blocking(&password, phc.as_deref())).await?)
}

/// Builds the dummy hash ahead of the first login.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_with_owasp_parameters() {
        let hash = hash_blocking("correct horse battery staple").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking("correct horse battery staple", Some(&hash)));
        assert!(!verify_blocking(
            "correct horse battery stapler",
            Some(&hash)
        ));
    }

    #[test]
    fn unknown_accounts_and_garbage_hashes_never_verify() {
        assert!(!verify_blocking("anything", None));
        assert!(!verify_blocking("anything", Some("not a phc string")));
    }
}
