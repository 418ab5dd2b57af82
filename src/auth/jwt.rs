//! Access tokens: HS256 JWTs with pinned algorithm, issuer, audience, subject, times, a
//! token-type claim and the authentication methods (`amr`); validated with a small leeway.
//!
//! Keys rotate without logging anyone out: tokens are signed with the current secret and name
//! it in `kid`; a token naming the previous secret stays valid until it expires. A token
//! naming no known key, or carrying `jku`, `jwk` or `x5u`, is refused.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const AUDIENCE: &str = "consilium-api";
pub const ACCESS_TOKEN_TYPE: &str = "access";
/// Clock skew tolerated on `exp`/`nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Token type: only `access` tokens open the API.
    pub typ: String,
    pub jti: String,
    /// How the session was opened: `["pwd"]` or `["pwd", "otp"]` (RFC 8176 values).
    pub amr: Vec<String>,
}

impl Claims {
    pub fn has_second_factor(&self) -> bool {
        self.amr.iter().any(|method| method == "otp")
    }
}

struct SigningKey {
    kid: String,
    decoding: DecodingKey,
}

/// The public name of a secret: a prefix of its SHA-256, never the secret itself.
fn key_id(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"consilium-jwt-kid:");
    hasher.update(secret);
    hex::encode(&hasher.finalize()[..8])
}

pub struct JwtKeys {
    encoding: EncodingKey,
    /// The current key first, then the previous one during a rotation.
    keys: Vec<SigningKey>,
    validation: Validation,
    issuer: String,
    ttl_seconds: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], previous: Option<&[u8]>, issuer: &str, ttl_minutes: i64) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECONDS;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            keys: std::iter::once(secret)
                .chain(previous.filter(|p| !p.is_empty()))
                .map(|secret| SigningKey {
                    kid: key_id(secret),
                    decoding: DecodingKey::from_secret(secret),
                })
                .collect(),
            validation,
            issuer: issuer.to_owned(),
            ttl_seconds: ttl_minutes.clamp(1, 15) * 60,
        }
    }

    /// The lifetime of an access token, in seconds (at most 15 minutes).
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue_access(&self, user_id: &str, amr: &[String]) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        self.encode(&Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            iat: now,
            nbf: now,
            exp: now + self.ttl_seconds,
            typ: ACCESS_TOKEN_TYPE.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            amr: amr.to_vec(),
        })
    }

    pub fn encode(&self, claims: &Claims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.keys[0].kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }

    /// The claims of a valid access token, or None for anything else.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256
            || header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
        {
            return None;
        }
        let kid = header.kid?;
        let key = self.keys.iter().find(|key| key.kid == kid)?;
        let data = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation).ok()?;
        let claims = data.claims;
        (claims.typ == ACCESS_TOKEN_TYPE && claims.iat <= claims.exp).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", None, "consilium", 15)
    }

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "consilium".into(),
            aud: AUDIENCE.into(),
            sub: "user-1".into(),
            iat: now,
            nbf: now,
            exp: now + 900,
            typ: ACCESS_TOKEN_TYPE.into(),
            jti: "j".into(),
            amr: vec!["pwd".into()],
        }
    }

    #[test]
    fn a_fresh_access_token_verifies() {
        let keys = keys();
        let token = keys
            .issue_access("user-1", &["pwd".into(), "otp".into()])
            .unwrap();
        let claims = keys.verify_access(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
        assert!(claims.has_second_factor());
        assert!(claims.exp - claims.iat <= 15 * 60);
    }

    #[test]
    fn wrong_claims_are_refused() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let cases: Vec<(&str, Claims)> = vec![
            (
                "expired beyond leeway",
                Claims {
                    exp: now - 60,
                    iat: now - 960,
                    nbf: now - 960,
                    ..claims(now)
                },
            ),
            (
                "not yet valid",
                Claims {
                    nbf: now + 120,
                    ..claims(now)
                },
            ),
            (
                "wrong issuer",
                Claims {
                    iss: "other".into(),
                    ..claims(now)
                },
            ),
            (
                "wrong audience",
                Claims {
                    aud: "other".into(),
                    ..claims(now)
                },
            ),
            (
                "wrong type",
                Claims {
                    typ: "refresh".into(),
                    ..claims(now)
                },
            ),
        ];
        for (case, claims) in cases {
            let token = keys.encode(&claims).unwrap();
            assert!(keys.verify_access(&token).is_none(), "{case}");
        }
    }

    #[test]
    fn other_keys_algorithms_and_tampering_are_refused() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let other = JwtKeys::new(b"another-secret-another-secret-xx", None, "consilium", 15);
        assert!(
            keys.verify_access(&other.encode(&claims(now)).unwrap())
                .is_none()
        );

        let token = keys.encode(&claims(now)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            keys.verify_access(&format!("{none_header}.{}.", parts[1]))
                .is_none()
        );

        let mut forged = claims(now);
        forged.sub = "admin".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert!(
            keys.verify_access(&format!("{}.{forged_payload}.{}", parts[0], parts[2]))
                .is_none()
        );
    }

    #[test]
    fn rotation_keeps_tokens_of_the_previous_key_until_it_is_dropped() {
        let old = keys();
        let token = old.issue_access("user-1", &["pwd".into()]).unwrap();
        let rotated = JwtKeys::new(
            b"a-brand-new-secret-a-brand-new-xx",
            Some(b"0123456789abcdef0123456789abcdef"),
            "consilium",
            15,
        );
        assert!(rotated.verify_access(&token).is_some());
        let fresh = rotated.issue_access("user-1", &["pwd".into()]).unwrap();
        assert!(rotated.verify_access(&fresh).is_some());
        assert!(old.verify_access(&fresh).is_none());
        let done = JwtKeys::new(b"a-brand-new-secret-a-brand-new-xx", None, "consilium", 15);
        assert!(done.verify_access(&token).is_none());
        assert!(done.verify_access(&fresh).is_some());
    }

    #[test]
    fn header_tricks_are_refused() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now)).unwrap());
        let sign = |header: &str| {
            use hmac_sign::sign;
            let head = URL_SAFE_NO_PAD.encode(header);
            let input = format!("{head}.{payload}");
            format!(
                "{input}.{}",
                sign(b"0123456789abcdef0123456789abcdef", &input)
            )
        };
        let kid = key_id(b"0123456789abcdef0123456789abcdef");
        let genuine = sign(&format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#));
        assert!(
            keys.verify_access(&genuine).is_some(),
            "the helper signs like the library"
        );
        for header in [
            r#"{"alg":"HS256","typ":"JWT"}"#.to_owned(),
            r#"{"alg":"HS256","typ":"JWT","kid":"unknown"}"#.to_owned(),
            r#"{"alg":"HS256","typ":"JWT","kid":"../../dev/null"}"#.to_owned(),
            format!(r#"{{"alg":"HS256","kid":"{kid}","jku":"https://evil.example/jwks"}}"#),
            format!(r#"{{"alg":"HS256","kid":"{kid}","x5u":"https://evil.example/cert"}}"#),
            format!(
                r#"{{"alg":"HS256","kid":"{kid}","jwk":{{"kty":"oct","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}}}}"#
            ),
            format!(r#"{{"alg":"HS512","kid":"{kid}"}}"#),
            format!(r#"{{"alg":"none","kid":"{kid}"}}"#),
        ] {
            assert!(keys.verify_access(&sign(&header)).is_none(), "{header}");
        }
    }

    mod hmac_sign {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use sha2::{Digest, Sha256};

        /// HMAC-SHA-256 (RFC 2104), written out so the test does not trust the library it tests.
        pub fn sign(key: &[u8], message: &str) -> String {
            let mut block = [0u8; 64];
            block[..key.len()].copy_from_slice(key);
            let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
            let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
            let inner_hash = Sha256::new()
                .chain_update(&inner)
                .chain_update(message.as_bytes())
                .finalize();
            let mac = Sha256::new()
                .chain_update(&outer)
                .chain_update(inner_hash)
                .finalize();
            URL_SAFE_NO_PAD.encode(mac)
        }
    }
}
