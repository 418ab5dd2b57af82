//! Access tokens: HS256 JWTs with pinned algorithm, issuer, audience, subject, times and a
//! token-type claim; validated with a small leeway.

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
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl_seconds: i64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, ttl_minutes: i64) -> JwtKeys {
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
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            ttl_seconds: ttl_minutes.clamp(1, 15) * 60,
        }
    }

    /// The lifetime of an access token, in seconds (at most 15 minutes).
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue_access(&self, user_id: &str) -> anyhow::Result<String> {
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
        })
    }

    pub fn encode(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid access token, or None for anything else.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let header_ok = data.header.alg == Algorithm::HS256
            && data.header.jku.is_none()
            && data.header.jwk.is_none()
            && data.header.x5u.is_none();
        let claims = data.claims;
        (header_ok && claims.typ == ACCESS_TOKEN_TYPE && claims.iat <= claims.exp).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef", "consilium", 15)
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
        }
    }

    #[test]
    fn a_fresh_access_token_verifies() {
        let keys = keys();
        let token = keys.issue_access("user-1").unwrap();
        let claims = keys.verify_access(&token).unwrap();
        assert_eq!(claims.sub, "user-1");
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
        let other = JwtKeys::new(b"another-secret-another-secret-xx", "consilium", 15);
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
}
