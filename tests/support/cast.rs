//! Who the stories are about: the people of the network the tests sign in as, their password and
//! second factor, and valid RPPS numbers for as many more as a test needs.

use super::library;

pub const PASSWORD: &str = "tangerine-ossicle-Vercors-42";
/// The TOTP secret provisioned for every staff account (160 bits, base32).
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// Valid RPPS numbers (Luhn over 11 digits), one per `n`.
pub fn rpps(n: u32) -> String {
    let prefix = format!("1{n:09}");
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|candidate| library::rpps_is_valid(candidate))
        .unwrap()
}

/// Someone with an account.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub email: &'static str,
    /// Their RPPS number is `rpps(rpps)`.
    pub rpps: u32,
    pub roles: &'static [&'static str],
}

impl Person {
    pub fn rpps(&self) -> String {
        rpps(self.rpps)
    }

    /// Staff sign in with a second factor, requesters need not.
    pub fn is_staff(&self) -> bool {
        self.roles.iter().any(|role| *role != "requester")
    }
}

/// A physician of a regional hospital asking for an opinion.
pub const REQUESTER: Person = Person {
    email: "requester@chu-nancy.fr",
    rpps: 100,
    roles: &["requester"],
};
/// The coordinator of the national staff who receives, schedules and delivers.
pub const COORDINATOR: Person = Person {
    email: "coordinator@necker.fr",
    rpps: 101,
    roles: &["coordinator"],
};
/// An expert of the national staff who drafts opinions.
pub const EXPERT: Person = Person {
    email: "expert@necker.fr",
    rpps: 102,
    roles: &["expert"],
};
pub const ADMIN: Person = Person {
    email: "admin@necker.fr",
    rpps: 103,
    roles: &["admin"],
};

/// Where people get their accounts: the in-process application, or the real binary.
pub trait Stage {
    /// Makes `person`'s account and signs in: answers the access token.
    async fn enter(&self, person: &Person) -> String;
}

/// The requester and the coordinator of a story, signed in: an access token each.
pub struct Cast {
    pub requester: String,
    pub coordinator: String,
}

impl Cast {
    pub async fn new(stage: &impl Stage) -> Cast {
        Cast {
            requester: stage.enter(&REQUESTER).await,
            coordinator: stage.enter(&COORDINATOR).await,
        }
    }
}
