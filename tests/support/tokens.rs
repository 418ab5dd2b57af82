//! Access tokens a client should never get through with, made with the service's own signing
//! code: expired, of another type, for someone who does not exist, signed with another key.

use super::library::{ACCESS_TOKEN_TYPE, AUDIENCE, Claims, JwtKeys};

pub struct Forge {
    keys: JwtKeys,
    issuer: String,
}

impl Forge {
    /// Signs as a service with this secret and issuer would.
    pub fn new(secret: &[u8], issuer: &str) -> Forge {
        Forge {
            keys: JwtKeys::new(secret, None, issuer, 15),
            issuer: issuer.to_owned(),
        }
    }

    /// The claims of an access token of `sub`, signed in with a password, that expires at `exp`
    /// (issued 15 minutes before).
    pub fn claims(&self, sub: &str, exp: i64) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: sub.into(),
            iat: exp - 900,
            nbf: exp - 900,
            exp,
            typ: ACCESS_TOKEN_TYPE.into(),
            jti: uuid::Uuid::new_v4().to_string(),
            amr: vec!["pwd".into()],
        }
    }

    pub fn sign(&self, claims: &Claims) -> String {
        self.keys.encode(claims).unwrap()
    }

    /// A fresh access token of `sub`, as the service issues it at sign-in.
    pub fn access(&self, sub: &str, amr: &[&str]) -> String {
        let amr: Vec<String> = amr.iter().map(|m| m.to_string()).collect();
        self.keys.issue_access(sub, &amr).unwrap()
    }
}
